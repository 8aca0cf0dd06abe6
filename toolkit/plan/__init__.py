"""`leanserve plan`: the cheapest configuration that meets the SLA (the command's name for :mod:`toolkit.planner`).

This package is a face: it holds no code of its own. The entry point is :func:`make_plan`::

    from toolkit.plan import load_inputs, make_plan
    loaded, variants, profiles = load_inputs("leanserve.yaml", "out/variants.json", "out/profiles.json")
    result = make_plan(loaded, variants, profiles)      # a PlanResult; result.plan is the plan.json model

The implementation lives in :mod:`toolkit.planner` (orchestration in ``toolkit/planner/api.py``); the CLI
command is ``toolkit/cli/plan_cmd.py``. Names are imported on first use, so importing this package is cheap.
"""

from __future__ import annotations

__all__ = ["PlanResult", "load_inputs", "make_plan"]


def __getattr__(name: str):
    if name in __all__:
        import toolkit.planner

        return getattr(toolkit.planner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
