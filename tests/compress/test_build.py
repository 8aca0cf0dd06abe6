"""Every variant kind built from a tiny random BERT, checked through the files and variants.json it writes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.compress.conftest import quick_settings, write_spec

ALL = ["onnx-fp32", "onnx-int8", "onnx-int8-static", "onnx-fp16", "distilled-L1", "pruned-heads25", "sparsity50"]


@pytest.fixture(scope="module")
def built(tiny_dir, tmp_path_factory):
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    root = tmp_path_factory.mktemp("build")
    spec = write_spec(root, str(tiny_dir), ALL)
    vf = build_variants(load_spec(spec), root / "out", settings=quick_settings(latency=True))
    return vf, root / "out"


def test_variants_json_lists_reference_and_every_variant(built):
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import VariantsFile

    vf, out = built
    on_disk = load_artifact(VariantsFile, out / "variants.json")
    assert [v.name for v in on_disk.variants] == ["reference", *ALL]
    assert on_disk.task == "feature-extraction" and on_disk.max_sequence_length == 64
    assert {"torch", "transformers", "onnxruntime", "optimum-onnx", "scikit-learn"} <= set(on_disk.libraries)
    assert on_disk.machine.cpu_model and on_disk.machine.logical_cores >= 1
    assert sorted(p.name for p in (out / "variants").iterdir()) == sorted(ALL)  # no scratch or partial folders
    assert not [p for p in out.iterdir() if p.name.startswith(".leanserve-work")]


@pytest.mark.parametrize("name", ALL)
def test_variant_folder_follows_the_serving_contract(built, name):
    import onnx
    import onnxruntime as ort

    vf, out = built
    v = vf.get(name)
    folder = out / v.path
    for f in ("model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        assert (folder / f).exists(), f
    graph = onnx.load(str(folder / "model.onnx")).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    for i in graph.input:
        assert i.type.tensor_type.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in i.type.tensor_type.shape.dim] == ["batch_size", "sequence_length"]
    assert [o.name for o in graph.output] == ["last_hidden_state"]
    assert graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # fp32 I/O even for fp16
    sess = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    for batch, seq in [(1, 5), (3, 17)]:
        feeds = {n: np.ones((batch, seq), dtype=np.int64) for n in ("input_ids", "attention_mask")}
        feeds["token_type_ids"] = np.zeros((batch, seq), dtype=np.int64)
        (hidden,) = sess.run(["last_hidden_state"], feeds)
        assert hidden.shape == (batch, seq, 32)


@pytest.mark.parametrize("name", ALL)
def test_variant_is_measured_and_hashed(built, name):
    from toolkit.fileio import sha256_file

    vf, out = built
    v = vf.get(name)
    folder = out / v.path
    assert v.files == {p.name: sha256_file(p) for p in sorted(folder.iterdir())}
    assert v.size_bytes == sum(p.stat().st_size for p in folder.iterdir())
    assert v.quality.eval_examples == 60 and 0.5 < v.quality.cosine_mean <= 1.0001
    assert v.quality.probe_accuracy is not None and v.quality.accuracy_drop_points is not None
    assert [(p.batch, p.seq_len, p.threads) for p in v.latency] == [(1, 32, 1), (8, 128, 1)]
    assert all(p.provenance.source == "measured" and p.p95_ms >= p.p50_ms > 0 for p in v.latency)
    assert v.gflops_per_item > 0


def test_kind_specific_facts(built):
    vf, out = built
    ref = vf.get("reference")
    assert ref.kind == "reference" and ref.model_file is None and ref.quality.cosine_mean == 1.0
    assert [(p.batch, p.seq_len) for p in ref.latency] == [(1, 32), (8, 128)]  # torch fp32, timed with the others
    assert ref.latency[0].provenance.where.startswith("torch fp32 CPU") and "interleaved" in ref.latency[0].provenance.where
    assert vf.get("onnx-int8").precision == "int8" and vf.get("onnx-int8").size_bytes < vf.get("onnx-fp32").size_bytes
    assert vf.get("onnx-fp16").precision == "fp16" and vf.get("onnx-fp16").devices == ["gpu"]
    assert vf.get("onnx-fp16").quality.cosine_mean > 0.999  # numerical sanity of fp16 on the CPU
    student = vf.get("distilled-L1")
    assert student.num_layers == 1 and student.gflops_per_item == pytest.approx(ref.gflops_per_item / 2, abs=1e-4)
    assert json.loads((out / student.path / "config.json").read_text())["num_hidden_layers"] == 1
    pruned = vf.get("pruned-heads25")
    assert "removed 1 of 4 attention heads" in pruned.notes[0]
    assert pruned.gflops_per_item < ref.gflops_per_item
    assert json.loads((out / pruned.path / "config.json").read_text())["pruned_heads"]
    assert any(n.startswith("sparsity only") for n in vf.get("sparsity50").notes)


def test_embeddings_match_the_reference_through_mean_pool(built, tiny_dir):
    """The contract a server follows: tokenizer → model.onnx → mean_pool gives the reference embedding."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from toolkit.compress.pooling import mean_pool
    from toolkit.compress.runtime import make_session

    vf, out = built
    texts = ["self-driving cars are the future", "i love my car"]
    tok = AutoTokenizer.from_pretrained(out / "variants" / "onnx-fp32")
    enc = tok(texts, padding=True, return_tensors="np")
    sess = make_session(out / "variants" / "onnx-fp32" / "model.onnx", 1)
    (hidden,) = sess.run(None, {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})
    onnx_emb = mean_pool(hidden, enc["attention_mask"])
    with torch.inference_mode():
        ref = AutoModel.from_pretrained(tiny_dir)(**{k: torch.from_numpy(v) for k, v in enc.items()}).last_hidden_state.numpy()
    assert np.allclose(onnx_emb, mean_pool(ref, enc["attention_mask"]), atol=1e-5)


def test_quality_floor_rejects_with_reason(tiny_dir, tmp_path):
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    spec = write_spec(tmp_path, str(tiny_dir), ["onnx-int8"], extra="quality_floor: {min_cosine_mean: 1.0}\n")
    vf = build_variants(load_spec(spec), tmp_path / "out", settings=quick_settings())
    v = vf.get("onnx-int8")
    assert v.status == "rejected" and re.fullmatch(r"mean cosine 0\.99\d+ < floor 1\.0", v.rejected_reason)
    assert vf.accepted() == []
    assert (tmp_path / "out" / "variants" / "onnx-int8" / "model.onnx").exists()  # kept, just marked


def test_classifier_gets_logits_and_top1_agreement(tiny_classifier_dir, tmp_path):
    import onnx

    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    spec = write_spec(tmp_path, str(tiny_classifier_dir), ["onnx-int8", "distilled-L1"], task="text-classification")
    vf = build_variants(load_spec(spec), tmp_path / "out", settings=quick_settings())
    for name in ("onnx-int8", "distilled-L1"):
        v = vf.get(name)
        graph = onnx.load(str(tmp_path / "out" / v.path / "model.onnx")).graph
        assert [o.name for o in graph.output] == ["logits"]
        assert v.quality.top1_agreement is not None and v.quality.kl_divergence is not None and v.quality.cosine_mean is None
    assert any("KL" in n for n in vf.get("distilled-L1").notes)
