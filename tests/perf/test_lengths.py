"""Capacity for the traffic's mix of request lengths, not the spec's maximum; and where the mix comes from."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.artifacts.common import MachineInfo, Measured
from toolkit.artifacts.profiles import LoadPoint, Profile, TokenStats
from toolkit.artifacts.variants import LatencyPoint, Variant
from toolkit.perf import CapacityEstimate, estimate_capacity
from toolkit.perf import mixture
from toolkit.perf.lengths import SERVED_PAD_MULTIPLE, Lengths, traffic_lengths
from toolkit.pricing import load_catalog

ICELAKE = MachineInfo(cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", logical_cores=2,
                      cpu_flags=["avx2", "fma", "avx512f", "avx512_vnni"], memory_gib=8.0)
WHERE = Measured(where="onnxruntime CPU, test machine")
TWEETS = dict(mean=33, p50=33, p90=48, max=128)  # builtin:tweets with MiniLM's tokenizer: mean 32.7, p50 33, p90 48


def fp32() -> Variant:
    lat = [LatencyPoint(batch=b, seq_len=s, threads=2, p50_ms=t, p95_ms=t * 1.15, items_per_s=1000 * b / t, provenance=WHERE)
           for b, s, t in ((1, 32, 5.1), (8, 128, 122.0))]
    return Variant(name="onnx-fp32", kind="onnx-fp32", path="v", size_bytes=90_000_000, precision="fp32", num_layers=6,
                   gflops_per_item=2.87, latency=lat)


@pytest.fixture(scope="module")
def cat():
    return load_catalog(warn=lambda m: None)


def est(inst, seq, sla=50.0, **kw) -> CapacityEstimate:
    out = estimate_capacity(fp32(), inst, "p95", sla, local=ICELAKE, seq_len=seq, **kw)
    assert isinstance(out, CapacityEstimate), out
    return out


# ---- the distribution -----------------------------------------------------------------------------
def test_a_lognormal_through_the_spec_figures_keeps_them():
    d = Lengths.from_summary(128, p50=33, p90=48)
    assert d.quantile(0.5) == 33 and d.quantile(0.9) == 48
    assert sum(d.probs) == pytest.approx(1.0) and d.max <= 128 and min(d.values) >= 1
    only_mean = Lengths.from_summary(128, mean=33)
    assert only_mean.mean == pytest.approx(33, rel=0.03)
    long_tail = Lengths.from_summary(64, p50=40, p90=90)  # texts beyond 64 tokens are truncated to 64
    assert long_tail.max == 64 and long_tail.probs[-1] > 0.2


def test_the_longest_of_a_batch_grows_with_the_batch():
    d = Lengths.from_summary(128, p50=33, p90=48).padded(SERVED_PAD_MULTIPLE, 128)
    assert all(v % 8 == 0 for v in d.values)
    means = []
    for b in (1, 2, 8, 64):
        ls, ps = d.batch_max(b)
        assert ps.sum() == pytest.approx(1.0) and len(ls) <= 24
        means.append(float(np.dot(ls, ps)))
    assert means[0] == pytest.approx(d.mean) and means == sorted(means) and means[-1] > d.quantile(0.9)
    # P(max of b <= l) = F(l)^b
    two = Lengths((10, 20), (0.5, 0.5), "spec", "")
    ls, ps = two.batch_max(2)
    assert list(ls) == [10, 20] and list(ps) == pytest.approx([0.25, 0.75])


def test_the_latency_quantile_of_a_mix_matches_a_simulation():
    t, p = np.array([10.0, 30.0]), np.array([0.7, 0.3])
    assert mixture.latency_quantile((np.array([20.0]), np.array([1.0])), 0.95) == pytest.approx(39.0)  # t (1 + q)
    rng = np.random.default_rng(0)
    n = 400_000
    draw = lambda: rng.choice(t, size=n, p=p)  # noqa: E731
    sim = np.quantile(rng.random(n) * draw() + draw(), 0.95)
    assert mixture.latency_quantile((t, p), 0.95) == pytest.approx(sim, rel=0.01)


# ---- capacity at the mix --------------------------------------------------------------------------
def test_one_length_gives_exactly_the_figures_of_seq_len(cat):
    inst = cat.instance("ml.c6i.xlarge")
    a, b = est(inst, 128), est(inst, Lengths.point(128))
    assert (a.max_rps_at_sla, a.saturation_rps, a.latency_ms_by_batch, a.best_batch) == (b.max_rps_at_sla, b.saturation_rps, b.latency_ms_by_batch, b.best_batch)


def test_tweets_buy_capacity_for_tweets_not_for_128_tokens(cat):
    inst = cat.instance("ml.c6i.xlarge")
    mix = Lengths.from_summary(128, **{k: v for k, v in TWEETS.items() if k != "max"}).padded(8, 128)
    at_max, at_mix, at_p50 = est(inst, 128), est(inst, mix), est(inst, 40)
    assert at_mix.max_rps_at_sla > 2 * at_max.max_rps_at_sla  # what issue 20 asked: 128-token capacity for 33-token tweets
    assert at_mix.max_rps_at_sla < at_p50.max_rps_at_sla  # batches pay for their longest member and the tail waits
    assert at_mix.seq_len == 128 and at_mix.mean_tokens == pytest.approx(mix.mean, abs=0.01)


def test_the_sla_rule_holds_for_the_mix(cat):
    inst = cat.instance("ml.c6i.xlarge")
    mix = Lengths.from_summary(128, p50=33, p90=48).padded(8, 128)
    e = est(inst, mix, sla=30.0)
    assert e.batch1_at_sla_ms is not None and e.batch1_at_sla_ms <= 30.0
    impossible = est(inst, mix, sla=2.0)
    assert impossible.max_rps_at_sla == 0 and impossible.batch1_at_sla_ms > 2.0
    assert est(inst, mix, sla=impossible.batch1_at_sla_ms * 1.01).max_rps_at_sla > 0  # the latency it reports is the rule's


# ---- where the mix comes from ---------------------------------------------------------------------
def _spec(tokens=None):
    from tests.planner.conftest import write_spec
    from toolkit.spec import load_spec
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    changes = {"traffic.tokens": tokens} if tokens else {}
    return load_spec(write_spec(folder, **changes)).spec


def _profile(histogram: dict[int, int]) -> Profile:
    pts = [LoadPoint(mode="closed", concurrency=c, duration_s=10, sent=100, completed=100, errors=0, throughput_rps=r, p95_ms=l)
           for c, r, l in ((1, 60.0, 20.0), (4, 130.0, 45.0))]
    n = sum(histogram.values())
    mean = sum(k * v for k, v in histogram.items()) / n
    stats = TokenStats(texts=n, mean=mean, p50=sorted(histogram)[0], p90=max(histogram), max=max(histogram), histogram=histogram,
                       pad_to_multiple_of=8, tokenizer="package's tokenizer (model_repository/tokenizer)")
    return Profile(variant="onnx-fp32", machine=ICELAKE, target="pkg", sla_percentile="p95", sla_ms=50.0, points=pts, max_rps_at_sla=130.0,
                   saturation_rps=130.0, provenance=Measured(where="here"), text_tokens=stats)


def test_the_spec_then_the_bench_texts_then_the_maximum():
    bench = _profile({14: 20, 17: 12})
    spec = _spec(TWEETS)
    d = traffic_lengths(spec, [bench])
    assert d.source == "spec" and d.note.startswith("the spec's traffic.tokens (mean 33, p50 33, p90 48, max 128; a log-normal fit:")
    d = traffic_lengths(_spec(), [bench])
    assert d.source == "bench" and d.values == (16, 24) and d.probs == pytest.approx((20 / 32, 12 / 32))  # padded to multiples of 8
    assert d.note.startswith("the token lengths of the 32 texts `leanserve bench` sent (onnx-fp32 on Intel(R) Xeon(R)")
    d = traffic_lengths(_spec(), [])
    assert d.is_point and d.max == 128 and d.note.startswith("128 tokens for every request (the spec's model.max_sequence_length")


def test_the_family_passes_the_mix_and_the_estimate_says_which(cat):
    from toolkit.families import family_for

    spec = _spec(TWEETS)
    fam = family_for(spec.model.task)
    e = fam.capacity(fp32(), cat.instance("ml.c6i.xlarge"), fam.sla(spec.sla), [], ICELAKE, spec)
    assert e.lengths.startswith("the spec's traffic.tokens") and e.mean_tokens < 40
    plain = _spec()
    e0 = fam.capacity(fp32(), cat.instance("ml.c6i.xlarge"), fam.sla(plain.sla), [], ICELAKE, plain)
    assert e0.lengths.startswith("128 tokens for every request") and e.max_rps_at_sla > 2 * e0.max_rps_at_sla


def test_a_local_bench_rescales_at_its_own_texts_lengths(cat):
    """A bench of 15-token texts served 130 req/s: at 128-token traffic the rate must be well below that."""
    here = cat.instance("ml.c6i.large")
    bench = _profile({14: 20, 17: 12})
    counted = est(here, 128, profiles=[bench])
    uncounted = est(here, 128, profiles=[bench.model_copy(update={"text_tokens": None})])
    assert counted.max_rps_at_sla < 0.5 * uncounted.max_rps_at_sla
    assert any("at its texts' token lengths" in n for n in counted.notes)
    assert any("the bench texts were not counted" in n for n in uncounted.notes)


def test_spec_tokens_are_validated_and_the_padding_matches_the_package():
    from toolkit.errors import SpecError
    from toolkit.package.builder import PackageOptions
    from toolkit.spec import json_schema, parse_spec
    from tests.conftest import EXAMPLE_SPEC

    assert SERVED_PAD_MULTIPLE == PackageOptions().pad_to_multiple_of
    base = EXAMPLE_SPEC.read_text().replace("  days: 30", "  days: 30\n  tokens: {tokens}")
    assert parse_spec(base.replace("{tokens}", "{p50: 30, p90: 48}")).traffic.tokens.p90 == 48
    for bad, says in (("{max: 64}", "give at least one of mean, p50 or p90"), ("{p50: 40, p90: 30}", "p90 (30) is below p50 (40)"),
                      ("{p50: 40, max: 32}", "p50 (40) is above max (32)"), ("{p50: 30, p95: 40}", "p95")):
        with pytest.raises(SpecError) as info:
            parse_spec(base.replace("{tokens}", bad))
        assert says in str(info.value)
    props = json_schema()["$defs"]["TokenLengths"]["properties"]
    assert set(props) == {"mean", "p50", "p90", "max"} and all(p.get("description") and p.get("examples") for p in props.values())


def test_a_spec_without_traffic_tokens_keeps_its_hash():
    """Adding the optional traffic.tokens section does not change the hash of specs that do not use it (their
    variants.json and profiles.json still match); using it does."""
    import hashlib
    import json

    from toolkit.spec import HASHED_ONLY_WHEN_SET, spec_hash

    plain = _spec()
    dump = plain.model_dump(mode="json")
    assert dump["traffic"].pop("tokens") is None
    from toolkit.spec import _default_at

    for path in HASHED_ONLY_WHEN_SET:  # the other late fields, left out at their defaults
        section = dump
        for name in path[:-1]:
            section = section.get(name) or {}
        if path[-1] in section and section[path[-1]] in (None, _default_at(path)):
            del section[path[-1]]
    without = hashlib.sha256(json.dumps(dump, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert spec_hash(plain) == without
    assert spec_hash(_spec(TWEETS)) != spec_hash(plain)
