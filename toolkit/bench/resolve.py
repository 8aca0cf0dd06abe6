"""What a bench TARGET names: a package folder (Triton is started here), a Triton URL or a SageMaker endpoint,
resolved to a load target, the machine it runs on, and what the server says about its models."""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import InputError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_OUTPUT = "embedding"  # without a spec or a manifest: the default (embedding) family's triton_output


@dataclass
class _Resolved:
    target: object
    label: str
    machine: object
    variant: str | None
    manifest: object | None = None
    server: object | None = None  # a TritonServer we started (and must stop)
    ensemble: str | None = None
    main_model: str | None = None
    batching: bool | None = None
    instance_count: int | None = None
    notes: list[str] = field(default_factory=list)


def _triton_json(url: str, timeout: float = 5.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError):
        return None


def _check_reachable(base: str) -> None:
    """ExternalToolError (exit 1) when nothing answers at ``base`` at all (refused, unknown host, timeout); a server
    that answers, even with an error status, is reachable."""
    import urllib.error

    from toolkit.errors import ExternalToolError

    try:
        urllib.request.urlopen(f"{base}/v2/health/live", timeout=5.0).close()
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        why = "connection refused (nothing listens there)" if isinstance(reason, ConnectionRefusedError) else str(reason)
        raise ExternalToolError(f"cannot connect to {base}: {why}",
                                hint="start the server first (`leanserve serve DIR`), or check the URL's host and port") from None


def _describe_triton(base: str, model: str) -> tuple[str | None, str | None, bool | None, int | None, str | None]:
    """(input name, output name, batching, ONNX-model instance count, ONNX model name) from a live Triton."""
    meta = _triton_json(f"{base}/v2/models/{model}")
    if meta is None:
        _check_reachable(base)
        raise InputError(f"model '{model}' is not served at {base}", hint="check the URL and --model (the ensemble is usually 'ensemble')")
    inp = (meta.get("inputs") or [{}])[0].get("name")
    out = (meta.get("outputs") or [{}])[0].get("name")
    cfg = _triton_json(f"{base}/v2/models/{model}/config") or {}
    steps = [s.get("model_name") for s in (cfg.get("ensemble_scheduling") or {}).get("step", [])]
    batching, count, main = None, None, None
    for name in steps or [model]:
        c = _triton_json(f"{base}/v2/models/{name}/config") or {}
        if "dynamic_batching" in c:
            batching = True
        elif batching is None and c:
            batching = False
        if c.get("platform") == "onnxruntime_onnx" or c.get("backend") == "onnxruntime" or name == "model":
            groups = c.get("instance_group") or [{}]
            count = int(groups[0].get("count", 1))
            main = name
    return inp, out, batching, count, main


def _resolve(target: str, options, sagemaker_client=None, sagemaker_control=None,
             default_output: str = DEFAULT_OUTPUT) -> _Resolved:
    """The target to load; ``default_output`` is the response tensor when neither the options nor a manifest name one."""
    from toolkit.artifacts.common import MachineInfo
    from toolkit.bench.targets import SageMakerTarget, TritonHttpTarget, describe_sagemaker_endpoint

    if target.startswith("sagemaker:"):
        endpoint = target.split(":", 1)[1]
        if not re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", endpoint):
            raise InputError(f"'{endpoint}' is not a SageMaker endpoint name", hint="names are 1-63 letters, digits and hyphens")
        instance = options.instance_type or describe_sagemaker_endpoint(endpoint, options.region, sagemaker_control)
        t = SageMakerTarget(endpoint, options.region, options.input_name or "TEXT", options.output_name or default_output,
                            options.timeout_s, runtime_client=sagemaker_client)
        machine = MachineInfo(cpu_model="unknown (SageMaker-managed)", logical_cores=1, instance_type=instance)
        return _Resolved(t, t.label, machine, options.variant,
                         notes=["queue/compute time not measured: SageMaker exposes no Triton /metrics"])
    if re.match(r"^https?://", target):
        from urllib.parse import urlparse

        base = target.rstrip("/")
        host = urlparse(base).hostname or ""
        model = options.model or "ensemble"
        inp, out, batching, count, main = _describe_triton(base, model)
        metrics_url = options.metrics_url or (f"{urlparse(base).scheme}://{host}:8002/metrics" if host else None)
        t = TritonHttpTarget(base, model, options.input_name or inp or "TEXT", options.output_name or out or default_output,
                             options.timeout_s, metrics_url)
        notes = []
        if host in LOCAL_HOSTS and not options.instance_type:
            machine = MachineInfo.local()
        else:
            machine = MachineInfo(cpu_model="unknown (remote server)", logical_cores=1, instance_type=options.instance_type)
            if not options.instance_type:
                notes.append("remote server: pass --instance-type to record what it runs on")
        return _Resolved(t, base, machine, options.variant, ensemble=model if main and main != model else None, main_model=main,
                         batching=batching, instance_count=count, notes=notes)
    path = Path(target)
    if path.is_dir():
        from toolkit.serve import ServeOptions, TritonServer

        server = TritonServer.start(path, ServeOptions())
        m = server.manifest
        model = options.model or server.ensemble or "ensemble"
        out_name = options.output_name or (m.output_name if m else default_output)
        t = TritonHttpTarget(server.http_url, model, options.input_name or "TEXT", out_name, options.timeout_s, server.metrics_url,
                             label=str(path))
        machine = MachineInfo.local()
        return _Resolved(t, str(path), machine, options.variant or (m.variant if m else None), manifest=m, server=server,
                         ensemble=server.ensemble, main_model=(m.models.get("model") if m else "model"),
                         batching=m.batching.enabled if m else None, instance_count=m.instance_count if m else None,
                         notes=list(server.notes))
    if path.exists():
        raise InputError(f"TARGET {target} is a file", hint="give a package folder, a Triton URL (http://...) or sagemaker:<endpoint>")
    raise InputError(f"TARGET '{target}' is neither a folder, a Triton URL (http://host:port) nor sagemaker:<endpoint>",
                     hint="e.g. `leanserve bench out/package`, `leanserve bench http://127.0.0.1:8000`, `leanserve bench sagemaker:my-endpoint`")
