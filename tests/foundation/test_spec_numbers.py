"""Non-finite and absurd numbers in a spec or a trace: refused at validation, with the key, its line and the limit,
before the planner sees them; a trough above its peak (or a base above its burst) is refused too."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from toolkit.errors import SpecError, TraceError
from toolkit.spec import parse_spec
from toolkit.traffic import MAX_RPS, parse_trace

SPEC = """\
name: x
model: {{source: a}}
sla:
  p95_ms: {p95}
  peak_rps: {peak}
traffic:
  pattern:
    kind: {pattern}
"""


def _spec(peak="150", p95="50", pattern="diurnal\n    trough_rps: 15") -> str:
    return SPEC.format(peak=peak, p95=p95, pattern=pattern)


@pytest.mark.parametrize("value, shown", [(".inf", "inf"), ("-.inf", "-inf"), (".nan", "nan"), ("1e400", "'1e400'"), ("-1e400", "'-1e400'")])
def test_non_finite_numbers_are_refused_with_their_key_and_line(tmp_path, value, shown):
    path = tmp_path / "leanserve.yaml"
    path.write_text(_spec(peak=value))
    result = run_cli("spec", "check", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {path}:5: sla.peak_rps: Input should be a finite number (got {shown})",
                                          "hint: fix the value; `leanserve spec schema` describes every field"]


@pytest.mark.parametrize("text, where", [
    (_spec(p95=".inf"), "sla.p95_ms"),
    (_spec(pattern="diurnal\n    trough_rps: .nan"), "traffic.pattern.trough_rps"),
    (_spec(pattern="constant\n    rps: .inf"), "traffic.pattern.rps"),
    (_spec() + "compression:\n  quality_floor: {min_cosine_mean: .nan}\n", "compression.quality_floor.min_cosine_mean"),
    (_spec() + "budget: {max_monthly_usd: .inf}\n", "budget.max_monthly_usd"),
])
def test_no_float_anywhere_in_the_spec_may_be_infinite_or_nan(text, where):
    with pytest.raises(SpecError) as exc:
        parse_spec(text, "s.yaml")
    assert f": {where}: Input should be a finite number" in exc.value.message


@pytest.mark.parametrize("peak", ["1e12", "1e8", "1000001"])
def test_rates_above_what_the_planner_simulates_are_refused_naming_the_limit(peak):
    with pytest.raises(SpecError) as exc:
        parse_spec(_spec(peak=peak), "s.yaml")
    assert exc.value.message.startswith("s.yaml:5: sla.peak_rps: Input should be less than or equal to 1000000 (got ")
    assert parse_spec(_spec(peak="1000000"), "s.yaml").sla.peak_rps == MAX_RPS


@pytest.mark.parametrize("pattern, message, hint", [
    ("diurnal\n    trough_rps: 200", "s.yaml:9: traffic.pattern.trough_rps: 200 req/s is above the peak of 150 req/s (sla.peak_rps)",
     "lower traffic.pattern.trough_rps to at most 150, or raise sla.peak_rps"),
    ("diurnal\n    trough_rps: 90\n    peak_rps: 80", "s.yaml:9: traffic.pattern.trough_rps: 90 req/s is above the peak of 80 req/s (traffic.pattern.peak_rps)",
     "lower traffic.pattern.trough_rps to at most 80, or raise traffic.pattern.peak_rps"),
    ("bursty\n    base_rps: 400", "s.yaml:9: traffic.pattern.base_rps: 400 req/s is above the peak of 150 req/s (sla.peak_rps)",
     "lower traffic.pattern.base_rps to at most 150, or raise sla.peak_rps"),
    ("bursty\n    base_rps: 40\n    burst_rps: 30", "s.yaml:9: traffic.pattern.base_rps: 40 req/s is above the peak of 30 req/s (traffic.pattern.burst_rps)",
     "lower traffic.pattern.base_rps to at most 30, or raise traffic.pattern.burst_rps"),
])
def test_a_low_rate_above_its_peak_is_refused(pattern, message, hint):
    with pytest.raises(SpecError) as exc:
        parse_spec(_spec(pattern=pattern), "s.yaml")
    assert (exc.value.message, exc.value.hint) == (message, hint)


def test_a_trough_equal_to_the_peak_is_a_flat_day_and_allowed():
    assert parse_spec(_spec(pattern="diurnal\n    trough_rps: 150"), "s.yaml").traffic.pattern.trough_rps == 150


@pytest.mark.parametrize("rate", ["1e300", "2000000"])
def test_a_trace_rate_above_the_limit_names_its_line_and_the_limit(rate):
    text = f"timestamp,requests_per_second\n2026-11-01T00:00:00Z,10\n2026-11-01T00:01:00Z,{rate}\n"
    with pytest.raises(TraceError) as exc:
        parse_trace(text, "t.csv")
    assert exc.value.message == f"t.csv:3: requests_per_second {rate} is above the limit of 1,000,000 req/s"
    assert exc.value.hint == "leanserve plans rates up to 1,000,000 req/s; check the column's unit (requests per second)"


@pytest.mark.parametrize("rate", ["inf", "nan", "-inf", "1e400"])
def test_a_non_finite_trace_rate_is_refused(rate):
    text = f"timestamp,requests_per_second\n2026-11-01T00:00:00Z,10\n2026-11-01T00:01:00Z,{rate}\n"
    with pytest.raises(TraceError, match=":3: requests_per_second must be a finite number ≥ 0"):
        parse_trace(text, "t.csv")
