"""How each platform scales: alarm windows, gaps between scaling activities, instance start-up time.

These are the knobs of the autoscaling simulation (:mod:`toolkit.planner.simulate`), one set per
platform. Times are whole minutes because CloudWatch's alarm metrics have 1-minute resolution.

SageMaker real-time (Application Auto Scaling target tracking on ``InvocationsPerInstance``):

- the high alarm fires after 3 consecutive breaching minutes, the low alarm after 15 minutes below
  90% of the target (the alarms Application Auto Scaling creates for a target tracking policy);
- while an endpoint update is in progress no other update can start, so a scale-out follows the
  previous one only after the start-up time; AWS counts capacity already being added as part of the
  desired capacity during the scale-out cooldown, so that cooldown does not block a further scale-out;
- scale-in waits for the scale-in cooldown after a scale-in and for the scale-out cooldown after a
  scale-out has completed;
- a new instance serves traffic ``startup_min`` minutes after the decision (provisioning, container
  pull, model load): an estimate, as AWS publishes no figure.

Kubernetes (HorizontalPodAutoscaler on requests per second, one Triton pod per node, nodes added
by the cluster autoscaler): HPA reacts within a minute at this resolution; its default scale-down
stabilisation window is 300 s; a new node plus image pull and model load takes ``startup_min``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dynamics:
    """Scaling behaviour of one platform, in minutes."""

    platform: str
    startup_min: int  # decision -> new instance in service
    out_window: int  # consecutive breaching minutes before a scale-out
    in_window: int  # consecutive minutes below scale_in_ratio x target before a scale-in
    out_gap: int  # minutes between two scale-out decisions
    in_after_in: int  # minutes between two scale-in decisions (scale-in cooldown)
    in_after_out: int  # minutes after a scale-out decision before a scale-in may happen
    scale_in_ratio: float = 0.9
    scale_out_ratio: float = 1.0  # scale out only when the metric exceeds this x target (HPA: 1.1)
    scale_in_cooldown_s: int = 300
    scale_out_cooldown_s: int = 300
    startup_source: str = "estimate"

    def __post_init__(self):
        # the lower bound of toolkit.planner.bounds relies on scale-in never following a scale-out
        # sooner than the next scale-out could
        if self.in_after_out < self.out_gap:
            raise ValueError("in_after_out must be >= out_gap")

    @property
    def bound_window(self) -> int:
        """Window of the rolling minimum used by the lower bound."""
        return max(self.out_window, self.out_gap)


def sagemaker_dynamics(scale_in_cooldown_s: int = 300, scale_out_cooldown_s: int = 300, startup_min: int = 8) -> Dynamics:
    """SageMaker real-time endpoints with Application Auto Scaling target tracking.

    The defaults (300 s each way) are Application Auto Scaling's default cooldowns.
    """
    return Dynamics(
        platform="sagemaker-realtime",
        startup_min=startup_min,
        out_window=3,
        in_window=15,
        out_gap=max(1, startup_min),
        in_after_in=max(1, -(-scale_in_cooldown_s // 60)),
        in_after_out=startup_min + -(-scale_out_cooldown_s // 60),
        scale_in_cooldown_s=scale_in_cooldown_s,
        scale_out_cooldown_s=scale_out_cooldown_s,
        startup_source="estimate: instance provisioning + container pull + model load, 6-10 min typical",
    )


def kubernetes_dynamics(startup_min: int = 4) -> Dynamics:
    """Kubernetes: HPA on requests per second per pod, cluster autoscaler adding nodes."""
    return Dynamics(
        platform="kubernetes",
        startup_min=startup_min,
        out_window=1,
        in_window=5,
        scale_out_ratio=1.1,
        out_gap=1,
        in_after_in=5,
        in_after_out=5,
        scale_in_cooldown_s=300,
        scale_out_cooldown_s=0,
        startup_source="estimate: node boot via cluster autoscaler + image pull + model load, 2-6 min typical",
    )
