"""Small pieces of compress, checked without building anything."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import InputError


def test_mean_pool_averages_only_unmasked_tokens_and_normalises():
    from toolkit.compress.pooling import mean_pool

    hidden = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]])  # the third token is padding
    mask = np.array([[1, 1, 0]])
    pooled = mean_pool(hidden, mask, normalize=False)
    assert pooled.tolist() == [[2.0, 2.0]]
    unit = mean_pool(hidden, mask)
    assert np.allclose(unit, [[2 ** -0.5, 2 ** -0.5]])


def test_tiny_model_tokenizes_real_text_offline(tiny_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    ids = tok("Self-driving cars are the future")["input_ids"]
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert tok.unk_token_id not in ids
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        assert (tiny_dir / name).exists(), name


@pytest.mark.parametrize("name, kind, param", [
    ("onnx-int8", "onnx-int8", None), ("distilled-L3", "distilled", 3), ("pruned-heads25", "pruned-heads", 25), ("sparsity50", "sparsity", 50),
])
def test_variant_names_parse(name, kind, param):
    from toolkit.compress.variants import parse_variant

    v = parse_variant(name)
    assert (v.kind, v.param) == (kind, param)


def test_unknown_variant_suggests_the_closest():
    from toolkit.compress.variants import parse_variant

    with pytest.raises(InputError, match=r"unknown variant 'onnx-int9'; did you mean 'onnx-int8'\?"):
        parse_variant("onnx-int9")


@pytest.mark.parametrize("name, layers, heads, message", [
    ("distilled-L6", 6, 12, r"distilled-L6: a student needs 1 to 5 layers \(the teacher has 6\)"),
    ("pruned-heads95", 6, 12, r"pruned-heads95: can prune 1 to 90 percent of the 72 heads"),
    ("pruned-heads75", 2, 2, r"pruned-heads75: can prune 1 to 50 percent of the 4 heads"),
    ("pruned-heads10", 2, 2, r"pruned-heads10: 10% of 4 heads rounds to none"),
])
def test_out_of_range_parameters_are_refused(name, layers, heads, message):
    from toolkit.compress.variants import check_ranges, parse_variant

    with pytest.raises(InputError, match=message):
        check_ranges(parse_variant(name), num_layers=layers, num_heads=heads)


def test_student_layers_are_spread_and_keep_the_last():
    from toolkit.compress.distill import pick_layers

    assert pick_layers(6, 3) == [0, 2, 5] or pick_layers(6, 3) == [0, 3, 5]
    assert pick_layers(6, 1) == [5]
    assert pick_layers(6, 2) == [0, 5]
    assert pick_layers(12, 6)[-1] == 11 and len(pick_layers(12, 6)) == 6


def test_head_choice_removes_least_important_and_keeps_one_per_layer():
    import torch

    from toolkit.compress.prune import choose_heads

    scores = torch.tensor([[0.1, 0.2, 0.3], [0.01, 0.02, 0.9]])
    assert choose_heads(scores, 34) == {1: [0, 1]}  # 2 of 6 heads: the two weakest, both in layer 1
    plan = choose_heads(torch.zeros(2, 3), 60)  # 4 heads to go, but each layer keeps one
    assert sum(len(v) for v in plan.values()) == 4 and all(len(v) <= 2 for v in plan.values())


def test_gflops_of_minilm_by_hand():
    from toolkit.compress.flops import gflops_per_item

    cfg = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536}
    L, H, I = 128, 384, 1536
    per_layer = 2 * L * H * H * 4 + 2 * L * L * H * 2 + 2 * L * H * I * 2
    assert gflops_per_item(cfg, 128) == round(6 * per_layer / 1e9, 4)
    pruned = dict(cfg, pruned_heads={"0": [0, 1, 2], "3": [5]})
    assert gflops_per_item(pruned, 128) < gflops_per_item(cfg, 128)
    assert gflops_per_item(dict(cfg, num_hidden_layers=3), 128) == pytest.approx(gflops_per_item(cfg, 128) / 2, abs=1e-4)


def test_fidelity_measures():
    from toolkit.compress.evaluate import embedding_fidelity, logits_fidelity

    a = np.eye(3, dtype=np.float32)
    assert embedding_fidelity(a, a) == {"cosine_mean": 1.0, "cosine_p5": 1.0}
    flipped = a.copy()
    flipped[0] = [0, 1, 0]
    assert embedding_fidelity(a, flipped)["cosine_mean"] == pytest.approx(2 / 3, abs=1e-4)
    logits = np.array([[2.0, 0.0], [0.0, 3.0]])
    same = logits_fidelity(logits, logits)
    assert same["top1_agreement"] == 1.0 and same["kl_divergence"] == pytest.approx(0.0, abs=1e-9)
    assert logits_fidelity(logits, logits[:, ::-1])["top1_agreement"] == 0.0


def test_quality_gate_gives_reasons():
    from toolkit.artifacts.variants import Quality
    from toolkit.compress.evaluate import gate
    from toolkit.spec import QualityFloor

    floor = QualityFloor(min_cosine_mean=0.95, max_accuracy_drop_points=2.0)
    assert gate(Quality(cosine_mean=0.97, accuracy_drop_points=1.0), "feature-extraction", floor) is None
    reason = gate(Quality(cosine_mean=0.9, accuracy_drop_points=3.5), "feature-extraction", floor)
    assert reason == "mean cosine 0.90000 < floor 0.95; probe accuracy drop 3.50 points > 2.0"


def test_texts_missing_and_empty_files(tmp_path):
    from toolkit.compress.texts import load_texts

    with pytest.raises(InputError, match="distillation text not found: .*nope.txt"):
        load_texts("nope.txt", tmp_path, "distillation text")
    (tmp_path / "empty.txt").write_text("\n  \n")
    with pytest.raises(InputError, match="distillation text is empty: .*empty.txt"):
        load_texts("empty.txt", tmp_path, "distillation text")


def test_held_out_text_never_reaches_distillation_or_calibration():
    from toolkit.compress.texts import TextLimits, make_splits
    from toolkit.spec import CompressionSpec

    comp = CompressionSpec(distillation_text="builtin:tweets", calibration_text="builtin:tweets", labelled_data="builtin:tweets")
    sp = make_splits(comp, ROOT_DIR, need_distill=True, need_calibration=True,
                     limits=TextLimits(eval_examples=200, probe_train=300, probe_test=200, distill_examples=2000, calibration_examples=100))
    held = set(sp.eval_texts) | set(sp.probe_test[0]) | set(sp.probe_train[0])
    assert len(sp.eval_texts) == 200 and len(sp.distill_texts) == 2000
    assert not held & set(sp.distill_texts)
    assert not held & set(sp.calibration_texts)


from pathlib import Path  # noqa: E402

ROOT_DIR = Path(__file__).resolve().parents[2]
