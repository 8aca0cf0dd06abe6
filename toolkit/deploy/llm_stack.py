"""Generative (LLM) plans → the GPU parts of a stack file: image, timeouts, concurrency scaling, alarms, GPU nodes.

A plan is generative when it has a ``tokens`` section. The platform hooks (``stack_config``) build the encoder-shaped
stack first and hand it here (:func:`sagemaker_llm` / :func:`kubernetes_llm`), which changes only what differs:

- **Image.** The LLM package's Triton vLLM image: the container context ``leanserve package --target sagemaker|gpu``
  writes, ``FROM`` :data:`toolkit.package.llm.container.VLLM_IMAGE` (NGC's ``tritonserver:<yy.mm>-vllm-python-py3``,
  the tag pinned by the package). SageMaker pulls only from ECR, so there the image must be the user's ECR URI,
  pinned by a tag other than ``latest`` or by digest. AWS's LMI container is not used: it expects a
  ``serving.properties`` model layout, not the package's Triton repository.
- **Timeouts (SageMaker).** From the weights' bytes ``B`` (the larger of model.tar.gz and the architecture's estimate
  in the plan's format, so a compressed or placeholder archive does not shrink them), bounded by SageMaker's 60..3600 s:

      ModelDataDownloadTimeoutInSeconds            = clamp(60 + 1.5 x B / 100 MB/s)
      ContainerStartupHealthCheckTimeoutInSeconds  = clamp(1.5 x (180 s + B / 200 MB/s))

  100 MB/s is an assumed S3 → instance download rate; 200 MB/s an assumed rate of reading the weights from the
  instance's volume onto the GPU; 180 s the engine's start (CUDA init, memory profiling, CUDA-graph capture); 1.5 a margin.
- **Scaling.** Concurrent requests per instance, the plan's ``tokens.scaling`` target (Little's law). SageMaker:
  target tracking on ``SageMakerVariantConcurrentRequestsPerModelHighResolution``, the plan's cooldowns. Kubernetes:
  Triton's vLLM backend does not export vLLM's queue and KV-cache gauges (``vllm:num_requests_waiting``,
  ``vllm:gpu_cache_usage_perc``), and Triton's ``nv_inference_pending_request_count`` stays near zero because the
  backend hands every request to the engine at once; what Triton does export is the cumulative request duration, whose
  rate is the mean number of requests in flight (Little's law again). A KEDA ScaledObject scales on that PromQL query
  (KEDA, not an HPA through the Prometheus adapter: the query lives in the stack, no cluster-wide adapter rules).
- **Alarms.** SageMaker's Triton container reports no TTFT or ITL to CloudWatch, so the rollback alarm is on
  ``ModelLatency`` (the whole generation of a non-streamed request) against the SLA's e2e limit, else TTFT + the
  longest output x ITL.
"""

from __future__ import annotations

import math
import re

from toolkit.errors import InputError

SM_CONCURRENCY_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
SAGEMAKER_TIMEOUT_RANGE = (60, 3600)  # ModelDataDownloadTimeoutInSeconds / ContainerStartupHealthCheckTimeoutInSeconds
DOWNLOAD_BYTES_PER_S = 100e6
LOAD_BYTES_PER_S = 200e6
ENGINE_START_S = 180.0
MARGIN = 1.5
TIMEOUTS_FORMULA = ("download = clamp(60 + 1.5 x bytes / 100 MB/s); startup = clamp(1.5 x (180 s + bytes / 200 MB/s)); "
                    "clamp to SageMaker's 60..3600 s (assumed rates: S3 download 100 MB/s, volume-to-GPU load 200 MB/s)")
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"
K8S_STARTUP_S = 1800  # the pod's startup probe allows this long for weights + engine start
_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:(?P<tag>[A-Za-z0-9_.-]+)|@sha256:[0-9a-f]{64})$")
_TP = re.compile(r"\bTP=(\d+)\b")


def is_llm_plan(plan) -> bool:
    return getattr(plan, "tokens", None) is not None


def _clamp(seconds: float) -> int:
    lo, hi = SAGEMAKER_TIMEOUT_RANGE
    return int(min(hi, max(lo, math.ceil(seconds))))


def timeouts(weights_bytes: int) -> tuple[int, int]:
    """(ModelDataDownloadTimeoutInSeconds, ContainerStartupHealthCheckTimeoutInSeconds) for ``weights_bytes``."""
    download = _clamp(60 + MARGIN * weights_bytes / DOWNLOAD_BYTES_PER_S)
    startup = _clamp(MARGIN * (ENGINE_START_S + weights_bytes / LOAD_BYTES_PER_S))
    return download, startup


def estimated_weight_bytes(plan, *formats: str | None) -> int:
    """The plan's architecture in the first of ``formats`` the format table knows (0 when none is, or the shape is unknown)."""
    from toolkit.perf.llm.architectures import architecture

    for fmt in formats:
        if not fmt:
            continue
        try:
            return int(architecture(plan.tokens.model).weight_bytes(fmt))
        except Exception:  # noqa: BLE001 - a config.json shape or a format name the registry does not know: try the next
            continue
    return 0


def tensor_parallel(plan, manifest=None) -> int:
    engine = getattr(manifest, "engine", None)
    if engine is not None:
        return engine.tensor_parallel_size
    conf = plan.tokens.plan.configuration if plan.tokens and plan.tokens.plan else ""
    m = _TP.search(conf or "")
    return int(m.group(1)) if m else 1


def _scaling(plan):
    s = plan.tokens.scaling
    if s is None:
        raise InputError("plan.json has no concurrency target for this LLM (tokens.scaling)",
                         hint="re-run `leanserve plan` with this leanserve version: it derives the target by Little's law")
    return s


def _alarm_threshold(sla) -> tuple[str, float, str]:
    """(percentile, ModelLatency threshold in ms, why) from the token SLA."""
    by = {c.metric: c for c in sla.constraints}
    if "e2e" in by or "latency" in by:
        c = by.get("e2e") or by["latency"]
        return c.percentile or "p95", c.limit, f"ModelLatency {c.percentile} against the SLA's e2e limit {c.limit:g} ms"
    ttft, itl = by.get("ttft"), by.get("itl") or by.get("tpot")
    if ttft is None or itl is None:
        c = sla.constraints[0]
        return c.percentile or "p95", c.limit, f"ModelLatency {c.percentile} against {c.describe()}"
    return ttft.percentile or "p95", ttft.limit, f"ModelLatency {ttft.percentile} against TTFT {ttft.limit:g} ms (no e2e limit in the SLA)"


def _llm_cfg(inp, base_image: str, source: str, weights: int, tp: int, accelerators: int, metric: str, **kw):
    from toolkit.deploy.stack_schema import LLMCfg

    s = _scaling(inp.plan)
    return LLMCfg(image_source=source, base_image=base_image, weights_bytes=weights, tensor_parallel_size=tp,
                  accelerators_per_instance=accelerators, target_concurrency_per_instance=s.target_concurrency_per_instance,
                  scaling_metric=metric, scaling_derived_from=s.derived_from, **kw)


def _weights(inp) -> int:
    """The larger of model.tar.gz (or the package's weights) and the architecture's estimate in the plan's format."""
    m = getattr(inp, "manifest", None)
    packaged = inp.model.path.stat().st_size if inp.model is not None and inp.model.path.is_file() else 0
    packaged = max(packaged, getattr(getattr(m, "weights", None), "bytes", 0) or 0)
    return max(packaged, estimated_weight_bytes(inp.plan, getattr(m, "precision", None), inp.candidate.variant))


def _base_image(inp) -> str:
    from toolkit.package.llm.container import VLLM_IMAGE

    return getattr(getattr(inp, "manifest", None), "image", None) or VLLM_IMAGE


def sagemaker_llm(cfg, inp):
    """The SageMaker real-time stack of an LLM plan: the user's ECR image, GPU instance, timeouts, concurrency scaling."""
    from toolkit.deploy.kubernetes_sizing import node_resources

    _, gpus = node_resources(inp.candidate.instance_type)
    if not gpus:  # a CPU LLM package (decoupled Python-backend model) runs in SageMaker's own Triton image
        image = cfg.image
    elif not inp.image:
        raise InputError("an LLM plan on SageMaker needs its Triton vLLM image in your ECR (SageMaker pulls only from ECR)",
                         hint="build the container context of `leanserve package --target sagemaker`, push it to ECR, and pass "
                              "--image ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG")
    else:
        image = inp.image
    m = _ECR.match(image)
    if not m or m.group("tag") == "latest":
        raise InputError(f"--image {image} is not an ECR image pinned by tag or digest",
                         hint="SageMaker pulls only from ECR: pass ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG (not :latest) or @sha256:DIGEST")
    weights = _weights(inp)
    download, startup = timeouts(weights)
    tp = tensor_parallel(inp.plan, getattr(inp, "manifest", None))
    pct, threshold, basis = _alarm_threshold(inp.plan.sla)
    s = _scaling(inp.plan)
    base = _base_image(inp) if gpus else image
    source = (f"the LLM package's Triton vLLM image (FROM {base}, NGC) built from its container context and pushed to your ECR" if gpus
              else "SageMaker's Triton image for the region (CPU LLM package: the Python-backend model rides in model.tar.gz)")
    llm = _llm_cfg(inp, base, source, weights, tp, gpus, SM_CONCURRENCY_METRIC, timeouts_formula=TIMEOUTS_FORMULA,
                   startup_timeout_s=startup,
                   alarm_basis=f"{basis} (the Triton container reports no TTFT/ITL to CloudWatch); with the 5xx-rate alarm it rolls back "
                               f"blue/green deployments")
    endpoint = cfg.endpoint.model_copy(update={"model_data_download_timeout_s": download, "container_startup_health_check_timeout_s": startup})
    update = {"endpoint": endpoint, "llm": llm, "alarms": cfg.alarms.model_copy(update={"latency_percentile": pct, "latency_threshold_ms": threshold})}
    if cfg.autoscaling is not None:
        update["autoscaling"] = cfg.autoscaling.model_copy(update={"metric": SM_CONCURRENCY_METRIC, "target_value": s.target_concurrency_per_instance})
    return cfg.model_copy(update=update)


def concurrency_query(namespace: str, deployment: str, model: str = "llm") -> str:
    """PromQL: requests in flight over a Deployment's pods (rate of Triton's cumulative request duration, in seconds)."""
    return (f'sum(rate(nv_inference_request_duration_us{{namespace="{namespace}",pod=~"{deployment}-.*",model="{model}"}}[1m])) / 1e6')


def kubernetes_llm(cfg, inp, cluster_name: str | None = None):
    """The Kubernetes stack of an LLM plan: a tainted GPU node group, TP GPUs per pod, a KEDA concurrency scaler."""
    from toolkit.deploy.kubernetes_sizing import node_resources
    from toolkit.deploy.stack_schema import GpuNodeGroupCfg

    k, a = cfg.kubernetes, cfg.autoscaling
    _, gpus = node_resources(k.node_instance_type)
    if not gpus:
        raise InputError(f"the plan runs its LLM on {k.node_instance_type}, which has no NVIDIA GPU", hint="plan a GPU instance type (g5, g6, g6e, p4d, p5)")
    tp = tensor_parallel(inp.plan, getattr(inp, "manifest", None))
    scale = tp / max(1, k.gpus)  # pod_size gives one GPU's share; a TP>1 pod takes tp of them
    cpu, memory = str(max(1, int(int(k.cpu) * scale))), f"{max(1, int(int(k.memory.removesuffix('Gi')) * scale))}Gi"
    lo, hi = (a.min_capacity, a.max_capacity) if a else (k.replicas, k.replicas)
    pods_per_node = max(1, gpus // tp)
    group = GpuNodeGroupCfg(cluster_name=cluster_name or inp.plan.name, instance_type=k.node_instance_type,
                            min_size=math.ceil(lo / pods_per_node), desired_size=math.ceil(lo / pods_per_node), max_size=math.ceil(hi / pods_per_node))
    s = _scaling(inp.plan)
    base = _base_image(inp)
    llm = _llm_cfg(inp, base, f"the LLM package's Triton vLLM image (FROM {base}, NGC) built from its container context and pushed by you",
                   _weights(inp), tp, gpus, concurrency_query(k.namespace, cfg.name), startup_timeout_s=K8S_STARTUP_S,
                   prometheus_url=DEFAULT_PROMETHEUS,
                   alarm_basis="Kubernetes: no CloudWatch alarms; Triton's /metrics feed Prometheus")
    pods = k.model_copy(update={"gpus": tp, "cpu": cpu, "memory": memory, "hpa_metric": "concurrency" if a else None, "gpu_node_group": group})
    update = {"kubernetes": pods, "llm": llm}
    if a is not None:
        update["autoscaling"] = a.model_copy(update={"metric": "concurrency", "target_value": s.target_concurrency_per_instance / pods_per_node})
    return cfg.model_copy(update=update)


def comments(cfg) -> str:
    """Header lines of an LLM stack: where the image comes from, the timeouts' formula, what scaling reads, and why."""
    llm = cfg.llm
    if llm is None:
        return ""
    lines = [f"LLM server: {llm.server}; image: {llm.image_source}.",
             f"Weights: {llm.weights_bytes / 1e9:.2f} GB; TP={llm.tensor_parallel_size} on {llm.accelerators_per_instance} GPU(s) per instance."]
    if llm.timeouts_formula:
        lines.append(f"Timeouts: {llm.timeouts_formula}.")
    lines.append(f"Scaling target: {llm.target_concurrency_per_instance:g} concurrent requests per instance. {llm.scaling_derived_from}.")
    if cfg.kubernetes is not None:
        lines += ["Scaling (KEDA ScaledObject, Prometheus trigger): Triton's vLLM backend does not export vLLM's queue or KV-cache gauges,",
                  "and nv_inference_pending_request_count stays near zero (the backend hands requests to the engine at once), so the",
                  "scaler reads requests in flight = rate of Triton's nv_inference_request_duration_us / 1e6 (Little's law), per pod.",
                  f"Query: {llm.scaling_metric}"]
    else:
        lines.append(f"Scaling: target tracking on {llm.scaling_metric} (requests in flight per model copy; one copy per instance).")
    if llm.alarm_basis:
        lines.append(f"Alarms: {llm.alarm_basis}.")
    return "".join(f"# {line}\n" for line in lines)
