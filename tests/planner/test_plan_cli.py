"""`leanserve plan` as a user runs it: the table, --json, --explain, exit codes and messages, files written."""

from __future__ import annotations

import json
import shutil

from tests.conftest import EXAMPLE_SPEC, run_cli
from tests.planner.conftest import FIXTURES, PROFILES, VARIANTS, write_spec
from toolkit.artifacts import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.spec import load_spec


def errors(stderr: str) -> list[str]:
    """The error and hint lines (warnings about stale prices may come first)."""
    return [line for line in stderr.splitlines() if line.startswith(("error:", "hint:"))]


def test_plan_prints_the_top_n_and_writes_plan_json(tmp_path):
    out = tmp_path / "plan.json"
    r = run_cli("plan", EXAMPLE_SPEC, "--variants", FIXTURES, "--profiles", PROFILES, "--out", out, "--top", "3")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    plan = load_artifact(PlanFile, out)
    c = plan.chosen
    assert lines[0].startswith(f"minilm-embeddings: {c.variant} on ")
    assert lines[0].endswith(f"; wrote {out}")
    assert f"${c.monthly_cost_usd:,.2f} a month" in lines[0]
    rows = [line for line in lines if line[:13].strip() in {"1", "2", "3"}]
    assert len(rows) == 3 and rows[0].split()[0] == "1"
    assert any(line.lstrip().startswith("static peak") and "plan saves" in line for line in lines)
    assert any(line.lstrip().startswith("1-GPU default") and "ml.g5.xlarge" in line for line in lines)
    assert "  2: why: $" in r.stdout and "  3: why: $" in r.stdout
    # the plan file belongs to this spec and has two runners-up
    assert plan.spec_sha256 == load_spec(EXAMPLE_SPEC).sha256 and len(plan.runners_up) == 2


def test_plan_json_output_is_parseable_and_matches_the_file(tmp_path):
    out = tmp_path / "plan.json"
    r = run_cli("--json", "plan", EXAMPLE_SPEC, "--variants", VARIANTS, "--profiles", PROFILES, "--out", out, "--explain")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    plan = load_artifact(PlanFile, out)
    assert data["feasible"] is True and data["plan"] == str(out)
    assert data["chosen"]["monthly_cost_usd"] == plan.chosen.monthly_cost_usd
    assert [row["rank"] for row in data["top"]] == ["1", "2", "3", "4", "5"]
    assert {b["rank"] for b in data["baselines"]} == {"static peak", "1-GPU default"}
    assert data["estimates"] and data["prices"] and data["assumptions"]
    assert all("age_days" in p for p in data["prices"])


def test_explain_shows_estimates_price_ages_and_assumptions(tmp_path):
    r = run_cli("plan", EXAMPLE_SPEC, "--variants", VARIANTS, "--profiles", PROFILES, "--out", tmp_path / "p.json", "--explain")
    assert r.exit_code == 0, r.output
    text = r.stdout
    for heading in ("Which numbers are estimates:", "Prices (source, as of, age):", "Scheduled scaling:", "Search (fast):", "Assumptions:",
                    "Excluded candidates"):
        assert heading in text
    assert "days old" in text and "+/-" in text


def test_out_defaults_to_the_variants_folder(tmp_path):
    shutil.copy(VARIANTS, tmp_path / "variants.json")
    spec = write_spec(tmp_path, **{"traffic.days": 2})
    r = run_cli("plan", spec, "--variants", tmp_path)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "plan.json").exists()


def test_impossible_sla_exits_3_with_the_nearest_misses(tmp_path):
    spec = write_spec(tmp_path, **{"traffic.days": 2, "sla.p95_ms": 0.5})
    out = tmp_path / "plan.json"
    r = run_cli("plan", spec, "--variants", VARIANTS, "--out", out, "--top", "3")
    assert r.exit_code == 3
    err = errors(r.stderr)
    assert err[0].startswith("error: no configuration meets the SLA and budget; nearest miss: ")
    assert "relax sla.p95_ms to >= " in err[0]
    assert err[1] == f"hint: relax what the nearest misses name ({out} lists them all), or allow more platforms, regions or instance types"
    assert r.stdout.startswith(f"no feasible configuration; nearest misses written to {out}")
    assert "miss 1" in r.stdout and "misses: latency:" in r.stdout
    plan = load_artifact(PlanFile, out)
    assert plan.feasible is False and plan.chosen is None and len(plan.nearest_misses) == 3


def test_violation_allowance_and_budget_misses_say_what_to_relax(tmp_path):
    spec = write_spec(tmp_path, **{"traffic.days": 2, "budget.max_monthly_usd": 20})
    r = run_cli("plan", spec, "--variants", VARIANTS, "--out", tmp_path / "plan.json")
    assert r.exit_code == 3
    assert "> budget $20.00" in r.stderr and "raise budget.max_monthly_usd to >= " in r.stderr


def test_trace_with_a_gap_is_a_clear_error_with_the_line_and_no_plan(tmp_path):
    trace = tmp_path / "trace.csv"
    trace.write_text("timestamp,requests_per_second\n2026-11-02T00:00:00Z,10\n2026-11-02T00:01:00Z,12\n2026-11-02T00:03:00Z,11\n")
    spec = write_spec(tmp_path, **{"traffic.pattern": {"kind": "trace", "file": "trace.csv"}})
    r = run_cli("plan", spec, "--variants", VARIANTS, "--out", tmp_path / "plan.json")
    assert r.exit_code == 2
    assert errors(r.stderr)[0] == f"error: {trace}:4: a gap in the trace (120 s after the previous row, expected 60 s)"
    assert not (tmp_path / "plan.json").exists()


def test_negative_rate_in_trace_names_the_line(tmp_path):
    (tmp_path / "t.csv").write_text("timestamp,requests_per_second\n0,1\n60,-3\n")
    spec = write_spec(tmp_path, **{"traffic.pattern": {"kind": "trace", "file": "t.csv"}})
    r = run_cli("plan", spec, "--variants", VARIANTS, "--out", tmp_path / "plan.json")
    assert r.exit_code == 2
    assert errors(r.stderr)[0].startswith(f"error: {tmp_path / 't.csv'}:3: requests_per_second must be a finite number ≥ 0 (got -3)")


def test_missing_variants_file_is_bad_input(tmp_path):
    r = run_cli("plan", EXAMPLE_SPEC, "--variants", tmp_path / "nope.json", "--out", tmp_path / "plan.json")
    assert r.exit_code == 2
    assert errors(r.stderr)[0].startswith(f"error: variants.json not found: {tmp_path / 'nope.json'}")
    assert not (tmp_path / "plan.json").exists()


def test_unknown_instance_family_suggests_the_closest(tmp_path):
    spec = write_spec(tmp_path, **{"targets.instance_families": ["c7"]})
    r = run_cli("plan", spec, "--variants", VARIANTS, "--out", tmp_path / "plan.json")
    assert r.exit_code == 2
    assert errors(r.stderr)[0] == "error: unknown instance family 'c7' in targets.instance_families; did you mean 'c7i'?"


def test_a_misspelled_region_is_bad_input_with_a_suggestion_not_an_infeasible_plan(tmp_path):
    spec = write_spec(tmp_path, **{"targets.regions": ["us-est-1"]})
    r = run_cli("plan", spec, "--variants", VARIANTS, "--out", tmp_path / "plan.json")
    assert r.exit_code == 2
    assert errors(r.stderr)[0] == "error: targets.regions: no prices for region 'us-est-1'; did you mean 'us-east-1'?"
    assert not (tmp_path / "plan.json").exists()


def test_unknown_strategy_is_a_usage_error(tmp_path):
    r = run_cli("plan", EXAMPLE_SPEC, "--variants", VARIANTS, "--strategy", "greedy")
    assert r.exit_code == 2
    assert "Invalid value for '--strategy'" in r.output


def test_exact_strategy_from_the_cli_agrees_with_fast(tmp_path):
    spec = write_spec(tmp_path, **{"traffic.days": 2})
    outs = {}
    for s in ("fast", "exact"):
        r = run_cli("--json", "plan", spec, "--variants", VARIANTS, "--profiles", PROFILES, "--out", tmp_path / f"{s}.json", "--strategy", s)
        assert r.exit_code == 0, r.output
        outs[s] = json.loads(r.stdout)
    assert outs["fast"]["top"] == outs["exact"]["top"]
    assert outs["exact"]["search"]["lanes_pruned"] == 0 < outs["fast"]["search"]["lanes_pruned"]


def test_when_nothing_can_run_the_hint_says_why(tmp_path):
    # only a GPU type allowed, for variants of which the GPU one (fp16) is dropped: nothing can run
    spec = write_spec(tmp_path, **{"traffic.days": 2, "targets.instance_types": ["ml.g5.xlarge"], "targets.platforms": ["sagemaker-realtime"]})
    cpu_only = tmp_path / "variants.json"
    data = json.loads(VARIANTS.read_text())
    data["variants"] = [v for v in data["variants"] if v["name"] != "onnx-fp16"]
    cpu_only.write_text(json.dumps(data))
    r = run_cli("plan", spec, "--variants", cpu_only, "--out", tmp_path / "plan.json")
    assert r.exit_code == 3
    err = errors(r.stderr)
    assert err[0] == "error: no configuration meets the SLA and budget: no candidate could run at all"
    assert err[1].startswith("hint: onnx-fp32 on sagemaker-realtime (1): ml.g5.xlarge: variant 'onnx-fp32' runs on CPU only")
