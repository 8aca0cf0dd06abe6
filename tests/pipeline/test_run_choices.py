"""`leanserve run` benches what it plans, ships a package sized for the chosen instance, and does not cache a suspect
bench (issue 21 items 8-10). Compress, package and bench are the fakes of tests/pipeline/fakes.py; the runner, the
stage cache, the planner, deploy --emit and the report are real."""

from __future__ import annotations

import json

from tests.conftest import EXAMPLE_SPEC, run_cli
from tests.pipeline.fakes import Fakes, stages

REALTIME = "platforms: [sagemaker-realtime]"


def _spec(tmp_path, *replacements: tuple[str, str]):
    text = EXAMPLE_SPEC.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "leanserve.yaml"
    path.write_text(text)
    return path


def _run(spec, out) -> dict:
    result = run_cli("--json", "run", spec, "--out", out)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) | {"_stderr": result.stderr}


PLATFORMS = ("platforms: [sagemaker-realtime, sagemaker-serverless, kubernetes]", REALTIME)


def _fp32_fastest_in_bulk(data: dict) -> None:
    """onnx-fp32 has the best in-process throughput at 8x128 (what run used to bench), but a lone request takes 45 ms:
    it cannot meet p95 <= 50 ms, so it cannot be chosen."""
    for v in data["variants"]:
        if v["name"] == "onnx-fp32":
            v["latency"][0].update(p50_ms=45.0, p95_ms=52.0, items_per_s=22.2)
            v["latency"][1].update(p50_ms=46.0, p95_ms=52.0, items_per_s=173.9)


def test_the_chosen_variant_is_the_one_benchmarked_and_the_summary_says_what_was_measured(tmp_path, monkeypatch):
    fakes = Fakes(edit_variants=_fp32_fastest_in_bulk).install(monkeypatch)
    data = _run(_spec(tmp_path), tmp_path / "out")
    chosen = data["chosen"]["variant"]
    assert chosen in fakes.benched  # run used to bench onnx-fp32 and choose another
    assert chosen in data["bench"]["variants"]
    assert data["chosen"]["benchmarked"] is True
    assert "chosen by the plan from compress's estimates" in data["bench"]["why"][chosen]
    sources = {f["figure"]: f["source"] for f in data["figures"]}
    assert sources["served latency and throughput"] == "measured by bench"
    assert sources["quality, size and in-process latency of each variant"] == "measured by compress"
    assert sources["the variants benchmarked"] == "estimated from compress"
    profiles = json.loads((tmp_path / "out" / "profiles.json").read_text())
    assert sorted(p["variant"] for p in profiles["profiles"]) == sorted(data["bench"]["variants"])

    again = _run(_spec(tmp_path), tmp_path / "out")
    assert all(stages(again).values()), stages(again)


def test_a_winner_that_was_not_benchmarked_is_benchmarked_then_planned_again(tmp_path, monkeypatch):
    from toolkit.pipeline import selection

    monkeypatch.setattr(selection, "MAX_BENCH", 1)
    # int8 wins on estimates, but is measured at a tenth of the fixture's throughput: another variant wins
    fakes = Fakes(scale={"onnx-int8": 0.1}).install(monkeypatch)
    spec = _spec(tmp_path, PLATFORMS)
    data = _run(spec, tmp_path / "out")
    assert data["bench"]["estimate_only_plan"]["variant"] == "onnx-int8"
    chosen = data["chosen"]["variant"]
    assert chosen != "onnx-int8" and fakes.benched == ["onnx-int8", chosen]
    assert "chosen by the plan from the measurements" in data["bench"]["why"][chosen]
    assert [s["stage"] for s in data["stages"]].count("plan") == 2
    assert "scaled to the served throughput bench measured for " + chosen in \
        next(f["detail"] for f in data["figures"] if f["figure"] == "the chosen configuration's capacity")

    again = _run(spec, tmp_path / "out")  # the second winner is remembered: nothing reruns
    assert all(stages(again).values()), stages(again)
    assert fakes.benched == ["onnx-int8", chosen]


def test_the_deploy_package_is_sized_for_the_chosen_instance_type(tmp_path, monkeypatch):
    fakes = Fakes().install(monkeypatch)
    spec = _spec(tmp_path, PLATFORMS, ("  regions: [us-east-1]", "  regions: [us-east-1]\n  instance_types: [ml.c7i.xlarge]"))
    data = _run(spec, tmp_path / "out")
    assert data["chosen"]["instance_type"] == "ml.c7i.xlarge"
    (opts,) = [o for v, folder, o in fakes.packaged if folder == "deploy"]
    from toolkit.perf.capacity import _cpu_layout
    from toolkit.perf.hardware import hardware_of_instance
    from toolkit.pricing import load_catalog

    threads, instances = _cpu_layout(hardware_of_instance(load_catalog(warn=lambda *_: None).instance("ml.c7i.xlarge")))
    assert (opts.target, opts.cores, opts.threads, opts.instances) == ("sagemaker", 4, threads, instances) == ("sagemaker", 4, 4, 1)
    bench_opts = [o for v, folder, o in fakes.packaged if folder != "deploy"]
    assert all(o.cores is None for o in bench_opts)  # the bench package is for this machine


def test_a_suspect_bench_is_warned_about_and_not_cached(tmp_path, monkeypatch):
    fakes = Fakes(falling={"onnx-int8"}).install(monkeypatch)
    spec = _spec(tmp_path)
    data = _run(spec, tmp_path / "out")
    assert any("concurrency 4" in w and "not cached" in w for w in data["warnings"]), data["warnings"]
    (line,) = data["bench"]["suspect"]["onnx-int8"]
    assert line.startswith("concurrency 4: throughput fell to 48.0 req/s from 96.0 at concurrency 2")
    # bench gets variants.json, so that it can compare the served latency with the in-process one
    assert fakes.options[0].variants == str(tmp_path / "out" / "variants.json")
    warning = next(w for w in data["warnings"] if w.startswith("bench onnx-int8:"))
    assert "not cached (the bench runs again next time)" in warning and "concurrency 4" in warning
    assert "warning: bench onnx-int8: 1 suspect point(s)" in data["_stderr"]
    saved = json.loads((tmp_path / "out" / "bench" / "onnx-int8.json").read_text())["profiles"][0]["points"]
    assert [p["concurrency"] for p in saved if p["suspect"]] == [4]

    again = _run(spec, tmp_path / "out")
    assert stages(again)["bench onnx-int8"] is False  # measured again, not reused
    assert fakes.benched.count("onnx-int8") == 2
    fakes.falling.clear()
    _run(spec, tmp_path / "out")
    third = _run(spec, tmp_path / "out")  # a clean bench is cached again
    assert stages(third)["bench onnx-int8"] is True


def test_skip_bench_plans_from_estimates_and_says_so(tmp_path, monkeypatch):
    fakes = Fakes().install(monkeypatch)
    result = run_cli("--json", "run", _spec(tmp_path), "--out", tmp_path / "out", "--skip-bench")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert fakes.benched == [] and data["bench"] is None
    assert "--skip-bench" in next(f["detail"] for f in data["figures"] if f["figure"] == "the chosen configuration's capacity")
