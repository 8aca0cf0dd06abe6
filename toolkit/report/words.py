"""The plan in words finance reads: the scaling policy, what triggers it, and why a saving is what it is."""

from __future__ import annotations

import re

from toolkit.artifacts.plan import Autoscaling, Candidate, ScheduledAction
from toolkit.report.money import fmt_usd


def lower_first(label: str) -> str:
    """``Single-GPU default`` -> ``single-GPU default`` (a label inside a sentence)."""
    return label[:1].lower() + label[1:]


def _n(count: float, word: str = "instance") -> str:
    return f"{count:g} {word}" + ("" if count == 1 else "s")


def _clock(action: ScheduledAction) -> str:
    """``cron(30 7 * * ? *)`` -> ``07:30 UTC``; anything else as written."""
    m = re.fullmatch(r"cron\((\d+) (\d+) \* \* \? \*\)", action.schedule.strip())
    return f"{int(m.group(2)):02d}:{int(m.group(1)):02d} UTC" if m else action.schedule


def scaling_in_words(c: Candidate) -> str:
    """``2 instances at all times, adding up to 4 more (6 in all) when traffic rises`` and the like."""
    if c.serverless is not None:
        s = c.serverless
        text = (f"no instances to run (serverless): up to {s.max_concurrency} requests at once, each with {s.memory_mb:,} MB, "
                "billed only for the time requests take")
        return text + (f"; {s.provisioned_concurrency} kept warm at all times" if s.provisioned_concurrency else "")
    a: Autoscaling | None = c.autoscaling
    if a is None or a.min_capacity == a.max_capacity:
        n = a.min_capacity if a is not None else c.simulation.peak_instances
        return f"{_n(n)} at all times (no autoscaling)"
    if a.min_capacity == 0:
        text = f"no instances while there is no traffic, up to {a.max_capacity} when traffic rises"
    else:
        text = (f"{_n(a.min_capacity)} at all times, adding up to {a.max_capacity - a.min_capacity} more "
                f"({a.max_capacity} in all) when traffic rises")
    if a.scheduled:
        floors = "; ".join(f"at least {s.min_capacity} from {_clock(s)}" for s in sorted(a.scheduled, key=_clock))
        text += f"; scheduled daily floors: {floors}"
    if c.simulation.peak_instances <= a.min_capacity:
        text += f" (the simulated traffic never needed more than {a.min_capacity})"
    return text


def trigger_in_words(c: Candidate) -> str | None:
    """What makes the autoscaler add an instance, in requests, with the metric's name for engineers."""
    a = c.autoscaling
    if a is None or a.min_capacity == a.max_capacity:
        return None
    return (f"adds an instance when the load passes {a.target_value:,.0f} requests a minute per instance "
            f"({a.target_value / 60:,.1f} a second, {a.safety_factor:.0%} of what one instance serves within the SLA); "
            f"metric {a.metric}")


def is_flat(values: list[float]) -> bool:
    """A series that never moves (a chart of it would be a straight line)."""
    return bool(values) and max(values) == min(values)


def saving_note(label: str, configuration: str | None, savings_cents: int, meets_sla: bool | None, plan: Candidate,
                floor: int | None, violation_minutes: float | None, allowance: float | None) -> str | None:
    """Why the saving against a baseline is zero or negative (None when it is a plain saving)."""
    if savings_cents > 0:
        return None
    what = f"{lower_first(label)} ({configuration})" if configuration else lower_first(label)
    if savings_cents == 0:
        a = plan.autoscaling
        if plan.serverless is None and (a is None or a.min_capacity == a.max_capacity):
            n = a.min_capacity if a is not None else plan.simulation.peak_instances
            return f"No saving: the plan is a fixed fleet of {_n(n)}, as {what} is."
        if a is not None and plan.simulation.peak_instances <= a.min_capacity:
            why = (f"the SLA's availability floor of {_n(a.min_capacity)}" if floor is not None and a.min_capacity == floor
                   else _n(a.min_capacity))
            return (f"No saving: this traffic never needs more than {why}, so the plan runs the same fleet as {what} "
                    "and autoscaling has nothing to take away.")
        return f"No saving: at this traffic the plan costs the same as {what}."
    text = f"The plan costs {fmt_usd(-savings_cents)} a month more than {what}"
    if meets_sla is False and violation_minutes is not None:
        allowed = f" against {allowance:g} allowed" if allowance is not None else ""
        return text + f", which misses the SLA ({violation_minutes:g} violation minutes a month{allowed})."
    return text + "."
