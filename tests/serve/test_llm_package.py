"""LLM packages: the rendered repositories and container contexts (golden files), engine arguments from a plan,
and what `package check` catches in LLM repositories."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import run_cli
from tests.serve.test_llm_fixtures import llm_hf, llm_onnx, llm_package, tiny_hf  # noqa: F401 - fixtures
from toolkit.errors import ExternalToolError, InputError

GOLDEN = Path(__file__).parent / "golden" / "llm"
UPDATE = os.environ.get("LEANSERVE_UPDATE_GOLDEN") == "1"


def _golden(out: Path, case: str, rels: list[str]) -> None:
    for rel in rels:
        golden = GOLDEN / case / rel
        text = (out / rel).read_text()
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert golden.exists(), f"missing golden file {golden} (run with LEANSERVE_UPDATE_GOLDEN=1)"
        assert text == golden.read_text(), f"{rel} differs from {golden}"


def _build(where, variant, out, **kw):
    from toolkit.package.llm import LLMPackageOptions, build_llm_package

    return build_llm_package(where, variant, out, LLMPackageOptions(**kw))


def _problems(root: Path) -> list[str]:
    from toolkit.package.check import check_repository

    return check_repository(root, verify_hashes=False).problems


# ---- rendered packages ----------------------------------------------------------------------------------
def test_cpu_package_matches_golden_files_and_carries_the_streaming_model(llm_package):
    from toolkit.package.llm.models import LLM_DECODE_SOURCE, LLM_MODEL_SOURCE

    _golden(llm_package, "cpu", ["model_repository/llm/config.pbtxt", "container/Dockerfile", "container/entrypoint.sh",
                                 "container/requirements.txt", "container/.dockerignore"])
    v = llm_package / "model_repository/llm/1"
    assert (v / "model.py").read_text() == LLM_MODEL_SOURCE.read_text()
    assert (v / "llm_decode.py").read_text() == LLM_DECODE_SOURCE.read_text()
    assert {"model.onnx", "tokenizer.json", "config.json", "generation_config.json"} <= {p.name for p in v.iterdir()}
    m = json.loads((llm_package / "manifest.json").read_text())
    assert m["kind"] == "llm-manifest" and m["backend"] == "python" and m["model"] == "llm" and m["precision"] == "fp32"
    assert m["cpu"] == {"instances": 1, "threads": 2, "max_model_len": 256, "runtime": "onnxruntime KV-cache loop"}
    assert m["weights"]["source"] == "baked" and m["engine"] is None
    assert os.access(llm_package / "container/entrypoint.sh", os.X_OK)


def test_gpu_package_is_a_vllm_backend_repository_with_baked_weights(llm_hf, tmp_path):
    out = tmp_path / "gpu"
    result = _build(llm_hf, "hf-fp32", out, target="gpu")
    _golden(out, "gpu", ["model_repository/llm/config.pbtxt", "model_repository/llm/1/model.json", "container/Dockerfile",
                         "container/entrypoint.sh", "container/.dockerignore"])
    weights = out / "model_repository/llm/1/weights"
    assert (weights / "config.json").is_file() and list(weights.glob("*.safetensors"))
    assert result.manifest.weights.source == "baked" and result.manifest.weights.path == "/models/llm/1/weights"
    assert json.loads((out / "model_repository/llm/1/model.json").read_text())["model"] == "/models/llm/1/weights"
    assert any("no --plan" in w for w in result.warnings)
    assert _problems(out) == []


def test_gpu_package_with_s3_weights_fetches_them_at_start(llm_hf, tmp_path):
    out = tmp_path / "gpu-s3"
    result = _build(llm_hf, "hf-fp32", out, target="gpu", weights_uri="s3://models-bucket/smollm2/w4a16")
    _golden(out, "gpu-s3", ["container/Dockerfile", "container/entrypoint.sh"])
    assert not (out / "model_repository/llm/1/weights").exists()
    assert (out / "container/fetch_weights.py").is_file()
    assert json.loads((out / "model_repository/llm/1/model.json").read_text())["model"] == "/opt/leanserve/weights"
    assert result.manifest.weights.source == "s3" and result.manifest.environment == {"LEANSERVE_WEIGHTS_URI": "s3://models-bucket/smollm2/w4a16"}
    assert _problems(out) == []
    with pytest.raises(InputError, match="is not s3://bucket/prefix"):
        _build(llm_hf, "hf-fp32", tmp_path / "bad", target="gpu", weights_uri="https://example.com/w")


def test_sagemaker_gpu_layout_model_tar_and_reproducibility(llm_hf, tmp_path):
    outs = []
    for name in ("a", "b"):
        result = _build(llm_hf, "hf-fp32", tmp_path / name, target="sagemaker")
        outs.append(tmp_path / name)
    a = outs[0]
    _golden(a, "sagemaker", ["container/Dockerfile", "container/serve", "model_repository/llm/1/model.json"])
    assert result.manifest.environment == {"SAGEMAKER_TRITON_DEFAULT_MODEL_NAME": "llm"} and result.manifest.device == "gpu"
    with tarfile.open(a / "model.tar.gz") as tar:
        names = tar.getnames()
    assert sorted({n.split("/")[0] for n in names}) == ["llm"]
    assert "llm/1/model.json" in names and "llm/1/weights/config.json" in names
    assert (a / "model.tar.gz").read_bytes() == (outs[1] / "model.tar.gz").read_bytes()


def test_engine_arguments_come_from_the_plan_and_explicit_options_win(llm_hf, tmp_path):
    chosen = SimpleNamespace(variant="hf-fp32", tp=2, kv_cache_dtype="fp8",
                             engine={"max_num_seqs": 64, "max_num_batched_tokens": 4096, "chunked_prefill": True,
                                     "gpu_memory_utilization": 0.85})
    out = tmp_path / "planned"
    result = _build(llm_hf, None, out, target="gpu", plan=SimpleNamespace(chosen=chosen), max_num_seqs=32)
    args = json.loads((out / "model_repository/llm/1/model.json").read_text())
    assert args == {"dtype": "auto", "enable_chunked_prefill": True, "enforce_eager": False, "gpu_memory_utilization": 0.85,
                    "kv_cache_dtype": "fp8", "max_model_len": 256, "max_num_batched_tokens": 4096, "max_num_seqs": 32,
                    "model": "/models/llm/1/weights", "tensor_parallel_size": 2}
    assert "tensor_parallel_size = 2 from the plan" in result.manifest.notes
    assert not any("max_num_seqs = " in n for n in result.manifest.notes)  # the explicit 32 won


def test_a_variant_goes_only_where_it_runs(llm_onnx, llm_hf, tmp_path):
    with pytest.raises(InputError, match="ONNX decoder .* cannot be packaged for gpu"):
        _build(llm_onnx, "onnx-fp32", tmp_path / "x", target="gpu")
    with pytest.raises(InputError, match="Hugging Face folder for vLLM .* cannot be packaged for cpu"):
        _build(llm_hf, "hf-fp32", tmp_path / "y", target="cpu")
    with pytest.raises(InputError, match="above the model's context"):
        _build(llm_onnx, "onnx-fp32", tmp_path / "z", target="cpu", max_model_len=100000)


# ---- package check ---------------------------------------------------------------------------------------
@pytest.fixture
def gpu_copy(tmp_path) -> Path:
    out = tmp_path / "gpu"
    _build(tiny_hf(), "hf-fp32", out, target="gpu")
    return out


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    path.write_text(json.dumps(data))


def test_check_catches_engine_arguments_that_do_not_fit_the_variant(gpu_copy):
    mj = gpu_copy / "model_repository/llm/1/model.json"
    _edit_json(mj, max_num_seq=8, quantization="fp8", max_model_len=100000, tensor_parallel_size=3)
    got = _problems(gpu_copy)
    assert "gpu/model_repository/llm/1/model.json: unknown engine argument 'max_num_seq'; did you mean 'max_num_seqs'?" in got
    assert any("field 'quantization': 'fp8', but the weights' config.json has no quantization_config" in p for p in got)
    assert any("field 'max_model_len': 100000 is above the model's context (256)" in p for p in got)
    assert any("field 'tensor_parallel_size': 3 does not divide the 4 attention heads" in p for p in got)
    _edit_json(mj, max_num_seq=None, quantization=None, max_model_len=256, tensor_parallel_size=1, kv_cache_dtype="int3")
    assert any("kv_cache_dtype" in p for p in _problems(gpu_copy))


def test_check_catches_missing_weights_policy_and_tensor_names(gpu_copy):
    shutil.rmtree(gpu_copy / "model_repository/llm/1/weights")
    cfg = gpu_copy / "model_repository/llm/config.pbtxt"
    cfg.write_text(cfg.read_text().replace("decoupled: true", "decoupled: false").replace('"text_output"', '"OUTPUT"'))
    got = _problems(gpu_copy)
    assert "gpu/model_repository/llm/1/weights: the weights model.json points at are missing (config.json and *.safetensors)" in got
    assert any("model_transaction_policy.decoupled': must be true" in p for p in got)
    assert any("field 'output': no 'text_output'" in p for p in got)
    assert any("field 'output' (OUTPUT): not an output of the vLLM backend's contract" in p for p in got)


def test_check_of_the_cpu_model_and_of_changed_files(llm_package, tmp_path):
    from toolkit.package.check import check_repository

    pkg = tmp_path / "pkg"
    shutil.copytree(llm_package, pkg)
    assert check_repository(pkg).problems == []
    (pkg / "model_repository/llm/1/llm_decode.py").unlink()
    cfg = pkg / "model_repository/llm/config.pbtxt"
    cfg.write_text(cfg.read_text().replace('name: "stream"\n  data_type: TYPE_BOOL', 'name: "stream"\n  data_type: TYPE_STRING'))
    got = check_repository(pkg).problems
    assert "pkg/model_repository/llm/1/llm_decode.py: missing (the CPU LLM model needs it)" in got
    assert any("field 'input' (stream).data_type: TYPE_STRING, the contract has TYPE_BOOL" in p for p in got)
    assert any("llm_decode.py: listed in manifest.json but missing" in p for p in got)


def test_package_cli_routes_llm_variants_and_check_lists_the_model(llm_onnx, tmp_path):
    out = tmp_path / "cli-pkg"
    result = run_cli("package", llm_onnx, "--variant", "onnx-fp32", "--out", out, "--cores", "2", "--engine-arg", "max_model_len=128")
    assert result.exit_code == 0, result.output
    assert "packaged LLM onnx-fp32 (fp32) for cpu (cpu, Triton python backend)" in result.stdout
    assert "max_model_len 128" in result.stdout
    result = run_cli("package", "check", out)
    assert result.exit_code == 0, result.output
    assert "llm" in result.stdout and "python-llm" in result.stdout
    bad = run_cli("package", llm_onnx, "--variant", "onnx-fp32", "--out", tmp_path / "bad", "--engine-arg", "max_seqs=4")
    assert bad.exit_code == 2 and "--engine-arg 'max_seqs=4' is not KEY=VALUE with a known key" in bad.stderr


def test_local_serve_refuses_the_vllm_backend_with_the_way_to_run_it(gpu_copy):
    from toolkit.package.check import check_repository
    from toolkit.serve.runtime_repo import build_runtime_repository

    with pytest.raises(ExternalToolError, match="vLLM backend, which the local tritonserver does not have") as exc:
        build_runtime_repository(check_repository(gpu_copy), gpu_copy.parent / "runtime")
    assert "--engine vllm" in exc.value.hint
