"""`leanserve run` on generative specs: the architecture-only route (llama-8b: no weights, plan → deploy --emit →
report, every figure estimated), profiles.json keeping token profiles, the summary's token costs and API comparison,
the combined closing summary of `make demo`, and the heartbeat a log gets during a long stage."""

from __future__ import annotations

import io
import json
import time

from rich.console import Console

from tests.conftest import EXAMPLE_SPEC, ROOT, run_cli
from tests.pipeline.fakes import Fakes
from tests.serve.test_llm_bench import _opts, fake  # noqa: F401 - fixture

LLAMA_8B = ROOT / "examples" / "llama-8b" / "leanserve.yaml"
WEIGHT_STAGES = ("compress", "select", "package", "bench")


def _run(spec, out, *extra) -> dict:
    result = run_cli("--json", "run", spec, "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) | {"_stderr": result.stderr}


def test_an_architecture_only_spec_skips_what_needs_weights_plans_reports_and_caches(tmp_path):
    out = tmp_path / "out"
    first = _run(LLAMA_8B, out)
    status = {s["stage"]: s["status"] for s in first["stages"]}
    assert status == {**{s: "skipped" for s in WEIGHT_STAGES}, "plan": "ran", "deploy": "skipped", "report": "ran"}
    assert {k: v for k, v in first["skipped"].items() if k != "deploy"} == {s: "no weights (model.architecture)" for s in WEIGHT_STAGES}
    assert first["skipped"]["deploy"].startswith("no weights to package (model.architecture): a stack names the model artifact")
    assert first["kind"] == "generative" and first["architecture_only"] is True
    assert not (out / "variants.json").exists() and not (out / "profiles.json").exists()

    plan = json.loads((out / "plan.json").read_text())
    tok = first["tokens"]
    assert plan["tokens"]["architecture_only"] is True
    assert tok["usd_per_million_output_tokens"] == plan["tokens"]["plan"]["usd_per_million_output_tokens"] > 0
    cheapest = min(plan["tokens"]["api"], key=lambda a: a["monthly_usd"])
    assert tok["cheapest_api"]["provider"] == cheapest["provider"] and tok["cheapest_api"]["monthly_usd"] == cheapest["monthly_usd"]
    assert tok["verdict"] == plan["tokens"]["verdict"] != ""
    assert first["chosen"]["monthly_cost_usd"] == plan["chosen"]["monthly_cost_usd"]
    assert first["baselines"]["static_peak"]["savings_pct"] == round(
        100 * (1 - plan["chosen"]["monthly_cost_usd"] / plan["baselines"]["static_peak"]["monthly_cost_usd"]), 1)
    # no weights: nothing claims to be measured
    assert {f["source"] for f in first["figures"]} <= {"estimated", "not measured"}
    assert "every figure estimated" in first["headline"] and "per 1M output tokens" in first["headline"]
    assert (out / "report" / "report.json").exists() and first["files"]["report"] == str(out / "report")
    assert not (out / "deploy").exists() and "stack" not in first["files"]
    saved = json.loads((out / "run-summary.json").read_text())
    assert saved["headline"] == first["headline"]

    second = _run(LLAMA_8B, out)
    assert {s["stage"]: s["status"] for s in second["stages"]} == {**{s: "skipped" for s in WEIGHT_STAGES}, "plan": "cached",
                                                                    "deploy": "skipped", "report": "cached"}


def test_the_human_summary_names_the_token_costs_the_api_and_the_skipped_stages(tmp_path):
    result = run_cli("run", LLAMA_8B, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # rich wraps long lines
    assert "per 1M output tokens" in text and "cheapest API:" in text and "verdict:" in text
    assert "compress, select, package, bench: skipped: no weights (model.architecture)" in text
    assert "every figure below is an estimate" in text
    assert f"plan {tmp_path / 'out' / 'plan.json'}" in text


def test_profiles_json_keeps_the_token_profiles_of_each_bench(fake, tmp_path):  # noqa: F811 - the fixture
    """The fix of issue 15: merge_profiles rebuilt profiles.json with encoder profiles only."""
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.bench.llm.runner import run_token_bench, write_token_profile
    from toolkit.pipeline.stages import merge_profiles
    from toolkit.spec import load_spec

    loaded = load_spec(LLAMA_8B)
    files = []
    for name in ("onnx-int4", "onnx-int8"):
        res = run_token_bench(fake.url, _opts(variant=name), loaded)
        files.append(write_token_profile(res, tmp_path / f"{name}.json")[0])
    merged = tmp_path / "profiles.json"
    merge_profiles(loaded, files, merged)
    got = load_artifact(ProfilesFile, merged)
    assert [p.variant for p in got.token_profiles] == ["onnx-int4", "onnx-int8"] and got.profiles == []
    assert got.token_profiles[0] == load_artifact(ProfilesFile, files[0]).token_profiles[0]
    before = merged.read_bytes()
    merge_profiles(loaded, files, merged)  # unchanged benches: the file (and plan's cache) is left as it is
    assert merged.read_bytes() == before
    merge_profiles(loaded, files[:1], merged)
    assert [p.variant for p in load_artifact(ProfilesFile, merged).token_profiles] == ["onnx-int4"]


def test_the_closing_summary_of_several_runs(tmp_path):
    from toolkit.pipeline.closing import closing_lines, main

    _run(LLAMA_8B, tmp_path / "llama")
    lines = closing_lines([tmp_path / "llama", tmp_path / "missing"])
    text = "\n".join(lines)
    assert f"== llama-8b-chat (LLM, {tmp_path / 'llama'})" in text and "cheapest API:" in text
    assert f"{tmp_path / 'missing'}: no run summary" in text
    assert main([str(tmp_path / "llama")]) == 0 and main([str(tmp_path / "llama"), str(tmp_path / "missing")]) == 1


# ---- the heartbeat --------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_the_heartbeat_names_the_stage_what_it_does_inside_and_for_how_long():
    from toolkit.cli.progress_lines import LineProgress
    from toolkit.cli.run_cmd import _RichDisplay
    from toolkit.pipeline.runner import StageOutcome

    clock, buf = FakeClock(), io.StringIO()
    bar = LineProgress(Console(file=buf, force_terminal=False, width=300), clock=clock)
    display = _RichDisplay(bar)
    display.stage_started("plan", cached=True)
    display.stage_finished(StageOutcome("plan", True, 0.0, "reused"))
    assert display.heartbeat_line() is None  # between stages: nothing to say
    display.stage_started("compress", cached=False)
    clock.now += 20
    with display.reporter().stage("building variants", total=4) as outer:
        outer.advance(2)
        with display.reporter().stage("onnx-int4:", total=None) as inner:
            inner.describe("GPTQ")
            clock.now += 130
            bar.beat()
    clock.now += 5
    bar.beat()
    assert buf.getvalue().splitlines() == ["compress: still working (building variants 2/4; onnx-int4: GPTQ), 2m30s",
                                           "compress: still working, 2m35s"]


def test_a_log_gets_heartbeat_lines_while_a_long_stage_runs(tmp_path, monkeypatch):
    """End to end through the CLI (stderr is not a terminal under CliRunner), with a slow compress and a short interval."""
    import toolkit.compress as compress_mod
    from toolkit.cli import progress_lines

    fakes = Fakes().install(monkeypatch)

    def slow_compress(loaded, out, names, reporter=None):
        with reporter.stage("building variants", total=2) as stage:
            stage.advance()
            stage.describe("onnx-int8: quantizing")
            time.sleep(0.5)
        return fakes.compress(loaded, out, names, reporter)

    monkeypatch.setattr(progress_lines, "INTERVAL_S", 0.05)
    monkeypatch.setattr(compress_mod, "build_variants", slow_compress)
    result = run_cli("run", EXAMPLE_SPEC, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    beats = [line for line in result.stderr.splitlines()
             if line.startswith("compress: still working (building variants onnx-int8: quantizing 1/2), ")]
    assert len(beats) >= 2, result.stderr


def test_a_removed_task_never_lends_its_id_to_a_later_one():
    """The run's heartbeat tells its stage tasks from inner ones by id: ids must stay unique after a removal."""
    from toolkit.cli.progress_lines import LineProgress

    bar = LineProgress(Console(file=io.StringIO(), force_terminal=False), clock=FakeClock())
    a, b, c = (bar.add_task(x, total=None) for x in ("a", "b", "c"))
    bar.remove_task(b)
    d = bar.add_task("d", total=None)
    assert len({a, c, d}) == 3 and [text for _, text, _ in bar.running()] == ["a", "c", "d"]
