"""`leanserve package`: the Triton repository, container context, SageMaker archive and manifest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path


from tests.conftest import ROOT, run_cli
from toolkit.fileio import sha256_file

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("LEANSERVE_UPDATE_GOLDEN") == "1"


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_package_writes_repository_context_and_manifest(tiny_package):
    out = tiny_package
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "model_repository/model/1/model.onnx" in files
    assert "model_repository/tokenizer/1/tokenizer.json" in files
    assert "model_repository/pooling/1/model.py" in files
    assert (out / "model_repository/ensemble/1").is_dir()
    assert {"container/Dockerfile", "container/entrypoint.sh", "container/requirements.txt", "container/.dockerignore",
            "container/model_repository/model/1/model.onnx", "locustfile.py", "manifest.json"} <= set(files)
    assert not (out / "model.tar.gz").exists()  # only for --target sagemaker
    m = _manifest(out)
    # every file but the manifest itself is listed with its sha256
    assert sorted(m["files"]) == [f for f in files if f != "manifest.json"]
    for rel, entry in m["files"].items():
        assert entry["sha256"] == sha256_file(out / rel)
    assert m["variant"] == "onnx-fp32" and m["target"] == "cpu" and m["ensemble"] == "ensemble"
    assert m["models"] == {"tokenizer": "tokenizer", "model": "model", "pooling": "pooling", "ensemble": "ensemble"}
    assert m["sla"] == {"percentile": "p95", "latency_ms": 50.0, "max_error_rate": 0.001}
    # variant files were verified against variants.json and recorded
    assert "model.onnx" in m["source_files"]


def test_queue_delay_comes_from_the_sla(tiny, tmp_path):
    from toolkit.package import pbtxt

    result = run_cli("--json", "package", tiny["variants"], "--variant", "onnx-int8", "--out", tmp_path / "p", "--spec", tiny["spec"])
    assert result.exit_code == 0, result.output
    # p95 ≤ 50 ms → a lone request waits at most 10% of it (5 ms) for batch-mates: 4 ms in the tokenizer
    # (which pads each group it batches to one length), 1 ms in the model, none in pooling
    tok = pbtxt.read(tmp_path / "p/model_repository/tokenizer/config.pbtxt")
    config = pbtxt.read(tmp_path / "p/model_repository/model/config.pbtxt")
    pool = pbtxt.read(tmp_path / "p/model_repository/pooling/config.pbtxt")
    assert tok.dynamic_batching.max_queue_delay_microseconds == 4000
    assert config.dynamic_batching.max_queue_delay_microseconds == 1000
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 8, 16]
    assert pool.HasField("dynamic_batching") and pool.dynamic_batching.max_queue_delay_microseconds == 0
    batching = json.loads(result.stdout)["manifest"]["batching"]
    assert (batching["budget_us"], batching["tokenizer_queue_delay_us"], batching["max_queue_delay_us"]) == (5000, 4000, 1000)


def test_no_batching_and_instances(tiny, tmp_path):
    from toolkit.package import pbtxt

    result = run_cli("package", tiny["variants"], "--variant", "onnx-int8", "--out", tmp_path / "p", "--no-batching",
                     "--cores", "8", "--spec", tiny["spec"])
    assert result.exit_code == 0, result.output
    assert "dynamic batching: off" in result.stdout
    config = pbtxt.read(tmp_path / "p/model_repository/model/config.pbtxt")
    assert not config.HasField("dynamic_batching")
    assert config.instance_group[0].count == 4  # 8 cores → 4 instances × 2 threads
    assert pbtxt.parameters(config)["intra_op_thread_count"] == "2"


def _golden_compare(out: Path, target: str, rels: list[str]) -> None:
    for rel in rels:
        golden = GOLDEN / target / rel
        text = (out / rel).read_text()
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert golden.exists(), f"missing golden file {golden} (run with LEANSERVE_UPDATE_GOLDEN=1)"
        assert text == golden.read_text(), f"{rel} differs from {golden}"


CONFIGS = [f"model_repository/{m}/config.pbtxt" for m in ("tokenizer", "model", "pooling", "ensemble")]


def test_cpu_context_matches_golden_files(tiny_package):
    _golden_compare(tiny_package, "cpu", ["container/Dockerfile", "container/entrypoint.sh", "container/requirements.txt",
                                          "container/.dockerignore", *CONFIGS])
    assert os.access(tiny_package / "container/entrypoint.sh", os.X_OK)


def test_gpu_context_and_config_match_golden_files(tiny, tmp_path):
    out = tmp_path / "gpu"
    result = run_cli("package", tiny["variants"], "--variant", "onnx-fp32", "--target", "gpu", "--out", out, "--spec", tiny["spec"])
    assert result.exit_code == 0, result.output
    _golden_compare(out, "gpu", ["container/Dockerfile", "model_repository/model/config.pbtxt"])
    text = (out / "model_repository/model/config.pbtxt").read_text()
    assert "KIND_GPU" in text and 'name: "tensorrt"' in text


def test_sagemaker_archive_layout_and_reproducibility(tiny, tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = run_cli("package", tiny["variants"], "--variant", "onnx-int8", "--target", "sagemaker", "--out", out,
                         "--spec", tiny["spec"], "--region", "eu-west-1")
        assert result.exit_code == 0, result.output
        outs.append(out)
    a = outs[0]
    _golden_compare(a, "sagemaker", ["container/Dockerfile"])
    assert "SAGEMAKER_TRITON_DEFAULT_MODEL_NAME=ensemble" in result.stdout
    with tarfile.open(a / "model.tar.gz") as tar:
        names = tar.getnames()
        # SageMaker's Triton layout: model folders at the top of the archive, no wrapping folder
        assert sorted({n.split("/")[0] for n in names}) == ["ensemble", "model", "pooling", "tokenizer"]
        assert "ensemble/1" in names and "model/1/model.onnx" in names
        assert all(m.uid == 0 and m.mtime == 0 for m in tar.getmembers())
    assert _manifest(a)["environment"] == {"SAGEMAKER_TRITON_DEFAULT_MODEL_NAME": "ensemble"}
    assert "eu-west-1" in _manifest(a)["image"]
    assert not (a / "container/model_repository").exists()  # SageMaker loads the models from model.tar.gz
    assert sha256_file(a / "model.tar.gz") == sha256_file(outs[1] / "model.tar.gz")


def test_classification_ensemble_returns_logits(tiny_classifier, tmp_path):
    from toolkit.package import pbtxt

    out = tmp_path / "cls"
    result = run_cli("package", tiny_classifier["variants"], "--variant", "onnx-fp32", "--out", out, "--spec", tiny_classifier["spec"])
    assert result.exit_code == 0, result.output
    assert not (out / "model_repository/pooling").exists()
    ens = pbtxt.read(out / "model_repository/ensemble/config.pbtxt")
    assert [o.name for o in ens.output] == ["logits"] and list(ens.output[0].dims) == [3]
    assert [s.model_name for s in ens.ensemble_scheduling.step] == ["tokenizer", "model"]


def test_pinned_container_requirements_are_what_the_tests_run():
    pins = dict(line.split("==") for line in (ROOT / "containers/requirements.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert pins == {"tokenizers": version("tokenizers"), "numpy": version("numpy")}


def test_build_without_docker_engine_says_so(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `docker` on PATH: as on this machine's CI
    result = run_cli("package", tiny["variants"], "--variant", "onnx-int8", "--out", tmp_path / "p", "--spec", tiny["spec"], "--build")
    assert result.exit_code == 1
    assert "error: --build needs Docker, and no `docker` command is installed here" in result.stderr
    assert f"docker build -t tiny:onnx-int8 {tmp_path / 'p' / 'container'}" in result.stderr
    assert (tmp_path / "p/manifest.json").exists()  # the context itself was written


def test_unknown_variant_suggests_the_closest(tiny, tmp_path):
    result = run_cli("package", tiny["variants"], "--variant", "onnx-int9", "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert "error: no variant named 'onnx-int9' in variants.json; did you mean 'onnx-int8'?" in result.stderr
    assert not (tmp_path / "p").exists()


def test_reference_and_rejected_variants_are_refused(tiny, tmp_path):
    result = run_cli("package", tiny["variants"], "--variant", "reference", "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert "error: variant 'reference' is the torch reference and has no ONNX model" in result.stderr
    copy = tmp_path / "v"
    shutil.copytree(tiny["variants"], copy)
    data = json.loads((copy / "variants.json").read_text())
    for v in data["variants"]:
        if v["name"] == "onnx-int8":
            v["status"], v["rejected_reason"] = "rejected", "cosine 0.80 < 0.95"
    (copy / "variants.json").write_text(json.dumps(data))
    result = run_cli("package", copy, "--variant", "onnx-int8", "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert "error: variant 'onnx-int8' was rejected by compress: cosine 0.80 < 0.95" in result.stderr
    assert run_cli("package", copy, "--variant", "onnx-int8", "--out", tmp_path / "p", "--allow-rejected").exit_code == 0


def test_a_model_file_changed_after_compress_is_refused(tiny, tmp_path):
    copy = tmp_path / "v"
    shutil.copytree(tiny["variants"], copy)
    with open(copy / "variants/onnx-int8/model.onnx", "ab") as fh:
        fh.write(b"\0")
    result = run_cli("package", copy, "--variant", "onnx-int8", "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert "error: v/variants/onnx-int8/model.onnx: sha256 differs from variants.json (the file changed after compress)" in result.stderr
    assert not (tmp_path / "p").exists()


def test_missing_variants_file(tmp_path):
    result = run_cli("package", tmp_path, "--variant", "onnx-int8", "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert f"error: variants.json not found: {tmp_path / 'variants.json'}" in result.stderr


def test_generated_locustfile_is_a_valid_locust_file(tiny_package):
    # locust monkey-patches the standard library (gevent) on import, so load it in its own process
    out = subprocess.run([sys.executable, "-m", "locust", "-f", str(tiny_package / "locustfile.py"), "--list"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "TritonEnsembleUser" in out.stdout


def test_package_help_documents_both_forms():
    result = run_cli("package", "--help")
    assert "leanserve package VARIANTS_DIR --variant NAME --target cpu|gpu|sagemaker" in result.stdout.replace("\n  ", " ")
    assert re.search(r"check\s+Validate a model repository", result.stdout)
