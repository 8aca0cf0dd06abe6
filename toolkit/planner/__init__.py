"""Planning: the cheapest configuration that meets the SLA, with an autoscaling policy checked against the traffic.

    from toolkit.planner import load_inputs, make_plan
    loaded, variants, profiles = load_inputs("leanserve.yaml", "out/variants.json", "out/profiles.json")
    plan = make_plan(loaded, variants, profiles).plan          # a toolkit.artifacts.plan.PlanFile

Modules, in the order a plan is made:

- :mod:`~toolkit.planner.candidates`: variant x platform x instance type x region, priced, with capacity
  under the SLA (:mod:`toolkit.perf`), and serverless options (:mod:`~toolkit.planner.serverless`);
- :mod:`~toolkit.planner.grid`: the autoscaling policies searched per candidate;
- :mod:`~toolkit.planner.simulate`: target tracking simulated minute by minute, vectorised, over the demand
  views of :mod:`~toolkit.planner.trace_index` and measured by :mod:`~toolkit.planner.measure`
  (:mod:`~toolkit.planner.dynamics` holds each platform's alarm windows, cooldowns and start-up time);
- :mod:`~toolkit.planner.bounds` and :mod:`~toolkit.planner.search`: the exact and fast strategies;
- :mod:`~toolkit.planner.schedule`: scheduled scaling for periodic traffic;
- :mod:`~toolkit.planner.assemble`, :mod:`~toolkit.planner.explain`, :mod:`~toolkit.planner.render`:
  plan.json records, explanations and text views; :mod:`~toolkit.planner.api` ties them together.
"""

from __future__ import annotations


def __getattr__(name: str):
    # numpy and the catalog are imported only when planning starts, not with the package
    if name in ("make_plan", "load_inputs", "PlanResult", "infeasible_error"):
        from toolkit.planner import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = ["PlanResult", "infeasible_error", "load_inputs", "make_plan"]
