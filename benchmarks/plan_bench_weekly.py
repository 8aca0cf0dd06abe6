"""Weekday/weekend schedules against daily ones, on 7-day traces whose weekends are quieter (issue 20).

    .venv/bin/python benchmarks/plan_bench.py weekly

Each trace is planned twice with the example spec's SLA and allowance on SageMaker real-time: with daily schedules
only, and with weekday/weekend ones too (what ``leanserve plan`` does for weekly traffic). It prints the monthly
cost and violation minutes of both, the first scheduled action, and whether fast == exact and the choice stays the
same at --top 1 / 5 / 50.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def bench_weekly() -> None:
    """Weekday/weekend schedules against daily ones on 7-day traces with quieter weekends (issue 20)."""
    import tempfile

    from benchmarks.plan_bench import ROOT, _catalog, _inputs, _loaded, _table
    from toolkit.planner import weekly
    from toolkit.planner.api import make_plan
    from toolkit.spec import TraceTraffic

    loaded, variants, profiles = _inputs()
    cat = _catalog()
    traces = ROOT / "examples" / "traces"
    cases = [("morning spike x5 (100 -> 2,000 req/s 09-10 UTC, weekdays)", "morning-spike-7d.csv", 5.0, 2000.0),
             ("diurnal x10 (weekends at 60%)", "diurnal-7d.csv", 10.0, 1500.0)]
    rows, checks = [], []
    keep = weekly.WEEKLY_DIFFERENCE
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, factor, peak in cases:
            lines = (traces / name).read_text().splitlines()
            path = Path(tmp) / name
            path.write_text("\n".join([lines[0]] + [f"{t},{float(r) * factor:.2f}" for t, r in (x.split(",") for x in lines[1:])]) + "\n")
            spec = loaded.spec.model_copy(deep=True)
            spec.sla.peak_rps = peak
            spec.traffic.pattern = TraceTraffic(kind="trace", file=str(path))
            spec.targets.platforms = ["sagemaker-realtime"]
            ls = _loaded(spec)
            got = {}
            for mode, threshold in (("daily only", float("inf")), ("weekday/weekend", keep)):
                weekly.WEEKLY_DIFFERENCE = threshold
                try:
                    fast = make_plan(ls, variants, profiles, catalog=cat, strategy="fast", top=5).plan
                    exact = make_plan(ls, variants, profiles, catalog=cat, strategy="exact", top=5).plan
                    tops = {make_plan(ls, variants, profiles, catalog=cat, strategy="fast", top=t).plan.chosen.monthly_cost_usd for t in (1, 50)}
                finally:
                    weekly.WEEKLY_DIFFERENCE = keep
                c = fast.chosen
                got[mode] = c
                rows.append([label if mode == "daily only" else "", mode, f"{c.variant} {c.instance_type}", f"${c.monthly_cost_usd:,.2f}",
                             f"{c.simulation.violation_minutes:g}", len(c.autoscaling.scheduled) if c.autoscaling else "-",
                             (c.autoscaling.scheduled[0].schedule if c.autoscaling and c.autoscaling.scheduled else "-")])
                checks.append(exact.chosen.monthly_cost_usd == c.monthly_cost_usd and tops == {c.monthly_cost_usd})
            d, w = got["daily only"], got["weekday/weekend"]
            rows.append(["", "saving", "", f"{1 - w.monthly_cost_usd / d.monthly_cost_usd:.1%}",
                         f"{w.simulation.violation_minutes - d.simulation.violation_minutes:+g}", "", ""])
    print("\n## Weekday/weekend schedules vs daily ones (7-day traces, the example's SLA and allowance, SageMaker real-time)\n")
    print(_table(["traffic", "schedules", "chosen", "$/month", "violation min", "actions", "first action"], rows))
    print(f"\nfast == exact and the same choice at --top 1 / 5 / 50: {sum(checks)}/{len(checks)}")


if __name__ == "__main__":
    bench_weekly()
