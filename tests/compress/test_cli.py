"""`leanserve compress` from the command line: results, --json, and every kind of bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.compress.conftest import write_spec
from tests.conftest import run_cli


def _no_output(out_dir):
    return not out_dir.exists() or not any(p for p in out_dir.iterdir())


def test_compress_writes_variants_and_prints_the_table(tiny_dir, tmp_path):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-fp32", "onnx-int8"])
    result = run_cli("compress", spec, "--out", tmp_path / "out", "--quick")
    assert result.exit_code == 0, result.output
    assert "torch-fp32 (ref)" in result.stdout and "onnx-int8" in result.stdout and "8×128 p50/p95 ms" in result.stdout
    assert "--quick: small samples" in result.stdout
    data = json.loads((tmp_path / "out" / "variants.json").read_text())
    assert [v["name"] for v in data["variants"]] == ["reference", "onnx-fp32", "onnx-int8"]


def test_json_output_and_variant_selection(tiny_dir, tmp_path):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-fp32", "onnx-int8"])
    result = run_cli("--json", "compress", spec, "--out", tmp_path / "out", "--quick", "--variants", "onnx-int8")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "variants" and [v["name"] for v in data["variants"]] == ["reference", "onnx-int8"]
    assert data["variants"][1]["quality"]["cosine_mean"] > 0.99


def test_fail_on_reject_exits_4(tiny_dir, tmp_path):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-int8"], extra="quality_floor: {min_cosine_mean: 1.0}\n")
    result = run_cli("compress", spec, "--out", tmp_path / "out", "--quick", "--fail-on-reject")
    assert result.exit_code == 4
    assert "rejected onnx-int8: mean cosine" in result.stdout


def _check_bad(result, out_dir, message: str, hint: str):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: {message}" or lines[0].startswith(f"error: {message}"), lines
    assert lines[1].startswith(f"hint: {hint}"), lines
    assert "Traceback" not in result.output
    assert _no_output(out_dir)


def test_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notamodel").mkdir()
    spec = write_spec(tmp_path, str(tmp_path / "notamodel"), ["onnx-int8"])
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", f"{tmp_path / 'notamodel'} is not a Hugging Face model folder (no config.json)", "give a folder written by save_pretrained()")


def test_corrupt_weights(tiny_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dir, broken)
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    spec = write_spec(tmp_path, str(broken), ["onnx-int8"])
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", f"cannot load the weights in {broken / 'model.safetensors'}", "the weights file looks corrupt")


def test_unsupported_architecture(tiny_dir, tmp_path):
    odd = tmp_path / "gpt"
    shutil.copytree(tiny_dir, odd)
    cfg = json.loads((odd / "config.json").read_text())
    cfg["model_type"] = "gpt2"
    (odd / "config.json").write_text(json.dumps(cfg))
    spec = write_spec(tmp_path, str(odd), ["onnx-int8"])
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", f"unsupported architecture 'gpt2' in {odd / 'config.json'}", "leanserve compress handles encoder models")


def test_empty_distillation_text(tiny_dir, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    spec = write_spec(tmp_path, str(tiny_dir), ["distilled-L1"])
    spec.write_text(spec.read_text().replace("distillation_text: builtin:tweets", "distillation_text: empty.txt"))
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", f"distillation text is empty: {tmp_path / 'empty.txt'}", "put one example per line")


def test_missing_calibration_text(tiny_dir, tmp_path):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-int8-static"])
    spec.write_text(spec.read_text().replace("calibration_text: builtin:tweets", "calibration_text: calib.txt"))
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", f"calibration text not found: {tmp_path / 'calib.txt'}", "fix the path in the spec")


@pytest.mark.parametrize("variants, message, hint", [
    ("distilled-L2", "distilled-L2: a student needs 1 to 1 layers (the teacher has 2)", "choose distilled-L1"),
    ("pruned-heads90", "pruned-heads90: can prune 1 to 50 percent of the 4 heads", "choose e.g. pruned-heads25"),
    ("onnx-int9", "unknown variant 'onnx-int9'; did you mean 'onnx-int8'?", "variant kinds:"),
])
def test_out_of_range_or_unknown_variants(tiny_dir, tmp_path, variants, message, hint):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-int8"])
    result = run_cli("compress", spec, "--out", tmp_path / "out", "--variants", variants)
    _check_bad(result, tmp_path / "out", message, hint)


def test_sequence_longer_than_the_model(tiny_dir, tmp_path):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-int8"])
    spec.write_text(spec.read_text().replace("max_sequence_length: 64", "max_sequence_length: 1024"))
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", "model.max_sequence_length 1024 is longer than the model's 512 positions", "set max_sequence_length to 512")


def test_interrupt_leaves_previous_output_untouched(tiny_dir, tmp_path, monkeypatch):
    """Ctrl-C in the middle of a build: exit 130, the earlier variants.json and folders are unchanged."""
    from toolkit.compress import builders

    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-fp32", "onnx-int8"])
    out = tmp_path / "out"
    assert run_cli("compress", spec, "--out", out, "--quick", "--variants", "onnx-fp32").exit_code == 0
    before = (out / "variants.json").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    monkeypatch.setitem(builders.BUILDERS, "onnx-int8", interrupted)
    result = run_cli("compress", spec, "--out", out, "--quick")
    assert result.exit_code == 130
    assert (out / "variants.json").read_text() == before
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".leanserve-cache")) == ["variants", "variants.json"]
    assert sorted(p.name for p in (out / "variants").iterdir()) == ["onnx-fp32"]


def test_interrupt_at_the_folder_swap_never_pairs_an_old_index_with_new_folders(tiny_dir, tmp_path, monkeypatch):
    """Ctrl-C exactly when the new variants/ replaces the old one: the old folder stays, and no stale variants.json
    describes folders it did not build (the next compress simply rebuilds)."""
    import os

    from toolkit import fileio

    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-fp32", "onnx-int8"])
    out = tmp_path / "out"
    assert run_cli("compress", spec, "--out", out, "--quick", "--variants", "onnx-fp32").exit_code == 0
    real_replace = os.replace

    def replace(src, dst):
        if str(src).endswith(".partial"):
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace)
    result = run_cli("compress", spec, "--out", out, "--quick")
    monkeypatch.setattr(fileio.os, "replace", real_replace)
    assert result.exit_code == 130
    assert sorted(p.name for p in (out / "variants").iterdir()) == ["onnx-fp32"]
    assert not (out / "variants.json").exists()
    assert run_cli("compress", spec, "--out", out, "--quick").exit_code == 0
    assert sorted(p.name for p in (out / "variants").iterdir()) == ["onnx-fp32", "onnx-int8"]


def test_interrupted_distillation_resumes_from_its_checkpoint(tiny_dir, tmp_path):
    from toolkit.compress import build_variants
    from toolkit.compress.progress import NullReporter, _NullStage
    from toolkit.spec import load_spec
    from tests.compress.conftest import quick_settings

    class StopAtStep15(NullReporter):
        def stage(self, description, total=None):
            outer = self

            class S(_NullStage):
                n = 0

                def advance(self, k=1):
                    self.n += k
                    if description == "distilling distilled-L1" and self.n >= 15 and not getattr(outer, "done", False):
                        outer.done = True
                        raise KeyboardInterrupt

            return S()

    spec = load_spec(write_spec(tmp_path, str(tiny_dir), ["distilled-L1"]))
    with pytest.raises(KeyboardInterrupt):
        build_variants(spec, tmp_path / "out", progress=StopAtStep15(), settings=quick_settings())
    assert not (tmp_path / "out" / "variants").exists()
    assert list((tmp_path / "out" / ".leanserve-cache").glob("distilled-L1-*/state.pt"))  # checkpoint at step 10
    vf = build_variants(spec, tmp_path / "out", settings=quick_settings())
    assert "resumed from an interrupted run's checkpoint" in vf.get("distilled-L1").notes
    again = build_variants(spec, tmp_path / "out", settings=quick_settings())
    assert any(n.startswith("student weights reused from a finished run") for n in again.get("distilled-L1").notes)
    assert again.get("distilled-L1").quality.cosine_mean == vf.get("distilled-L1").quality.cosine_mean


def test_help_has_examples():
    result = run_cli("compress", "--help")
    assert result.exit_code == 0 and "leanserve compress examples/minilm/leanserve.yaml --out out/" in result.stdout


def test_classification_task_on_a_model_without_a_head(tiny_dir, tmp_path):
    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-int8"], task="text-classification")
    result = run_cli("compress", spec, "--out", tmp_path / "out")
    _check_bad(result, tmp_path / "out", f"{tiny_dir} has no classification head (architectures: BertModel)", "use task: feature-extraction")
