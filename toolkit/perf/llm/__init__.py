"""Token-level performance model of LLM serving (vLLM-like continuous batching) on GPUs and CPUs.

Holds: decoder shapes (``architectures``: named public shapes with cited config.json values, or a
user's config.json), model formats and which devices run them (``formats``: the FP8 rule), devices
(``hardware``: per-GPU peaks, memory, NVLink/PCIe), the per-step roofline (``step_time``), memory
feasibility and the KV limit on concurrency (``memory``), token-length distributions (``workload``),
a discrete-event scheduler simulation giving TTFT / ITL / TPOT / e2e (``scheduler``), efficiencies
fitted on published vLLM figures with an error-derived band (``calibration``), and the entry point,
capacity per instance at the SLA (``capacity``).

Entry point, for a planner looping over format x instance type x TP degree:

    from toolkit.perf.llm import LLMTraffic, TokenDist, capacity_per_instance
    from toolkit.sla import Constraint
    traffic = LLMTraffic(TokenDist(mean=512, p50=400, p90=1000, max=2048), TokenDist(mean=256, p50=200, p90=500, max=1024))
    sla = [Constraint(metric="ttft", percentile="p95", limit=1000), Constraint(metric="itl", percentile="p95", limit=50)]
    cap = capacity_per_instance("llama-3.1-8b", "fp8", catalog.instance("ml.g6e.2xlarge"), tp=1, traffic=traffic, constraints=sla)
    cap.feasible, cap.requests_per_s, cap.output_tokens_per_s, cap.binding, cap.headroom_gib, cap.kv_limit_seqs
    cap.provenance        # Estimated(model=..., uncertainty=band from the calibration errors)
    cap.explain()         # lines for --explain (format support, memory, KV limit, binding constraint, band)
"""

from toolkit.perf.llm.architectures import (
    Architecture,
    architecture,
    architectures,
    from_config,
    from_config_json,
)
from toolkit.perf.llm.calibration import (
    Calibration,
    CalibrationPoint,
    CpuPoint,
    fit_cpu,
    load_calibration,
    load_points,
)
from toolkit.perf.llm.capacity import (
    EngineLimits,
    LLMCapacity,
    LLMTraffic,
    capacity_per_instance,
    itl_floor_ms,
    llm_constraints,
)
from toolkit.perf.llm.formats import (
    FORMATS,
    FormatSupport,
    ModelFormat,
    formats_for,
    model_format,
    support,
)
from toolkit.perf.llm.hardware import Device, cpu, cpu_for_instance, for_instance, gpu
from toolkit.perf.llm.memory import (
    MemoryPlan,
    fit_message,
    plan_memory,
    smallest_fit,
    tp_degrees,
)
from toolkit.perf.llm.scheduler import EngineConfig, SimResult, simulate
from toolkit.perf.llm.step_time import Efficiency, StepModel
from toolkit.perf.llm.workload import TokenDist, check_context, make_requests

__all__ = [
    "FORMATS",
    "Architecture",
    "Calibration",
    "CalibrationPoint",
    "CpuPoint",
    "Device",
    "Efficiency",
    "EngineConfig",
    "EngineLimits",
    "FormatSupport",
    "LLMCapacity",
    "LLMTraffic",
    "MemoryPlan",
    "ModelFormat",
    "SimResult",
    "StepModel",
    "TokenDist",
    "architecture",
    "architectures",
    "capacity_per_instance",
    "check_context",
    "cpu",
    "cpu_for_instance",
    "fit_cpu",
    "fit_message",
    "for_instance",
    "formats_for",
    "from_config",
    "from_config_json",
    "gpu",
    "itl_floor_ms",
    "llm_constraints",
    "load_calibration",
    "load_points",
    "make_requests",
    "model_format",
    "plan_memory",
    "simulate",
    "smallest_fit",
    "support",
    "tp_degrees",
]
