"""What a token-level bench TARGET names: an LLM package folder (its Triton is started here and stopped after),
a Triton URL (``generate_stream``), an OpenAI-compatible URL, or ``sagemaker:ENDPOINT`` — resolved to a
streaming target, the machine it runs on, the tokenizer that counts its tokens, and notes."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from toolkit.errors import ExternalToolError, InputError

APIS = ("triton", "triton-grpc", "openai", "openai-chat")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class ResolvedLLM:
    target: object
    label: str
    machine: object
    variant: str | None
    model: str
    tokenizer: Path | None = None
    server: object | None = None  # a TritonServer we started (and must stop)
    spec_sha256: str | None = None
    max_model_len: int | None = None
    notes: list[str] = field(default_factory=list)


def _get_json(url: str, timeout: float = 5.0) -> tuple[int | None, str, object]:
    """(status, content type, parsed JSON or None); status None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        body, status, ctype = exc.read(), exc.code, exc.headers.get("Content-Type", "") if exc.headers else ""
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError):
            return None, "refused", None
        return None, str(reason), None
    try:
        return status, ctype, json.loads(body)
    except ValueError:
        return status, ctype, None


def _machine(host: str, options):
    from toolkit.artifacts.common import MachineInfo

    if host in LOCAL_HOSTS and not options.instance_type:
        return MachineInfo.local(), []
    notes = [] if options.instance_type else ["remote server: pass --instance-type to record what it runs on"]
    return MachineInfo(cpu_model="unknown (remote server)", logical_cores=1, instance_type=options.instance_type), notes


def _url(target: str, options, sampling) -> ResolvedLLM:
    from toolkit.bench.llm.targets import OpenAITarget, TritonTarget

    base = target.rstrip("/")
    base = base[:-3] if base.endswith("/v1") else base
    host = urlparse(base).hostname or ""
    machine, notes = _machine(host, options)
    api = options.api
    if api is None or api.startswith("openai"):
        status, ctype, data = _get_json(f"{base}/v1/models")
        if status is None:
            raise ExternalToolError(f"cannot connect to {base}: {ctype}", hint="start the server first, or check the URL's host and port")
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            ids = [d.get("id") for d in data["data"] if isinstance(d, dict)]
            model = options.model or (ids[0] if ids else None)
            if not model:
                raise InputError(f"{base}/v1/models lists no model", hint="pass --model NAME")
            t = OpenAITarget(base, model, chat=api == "openai-chat", timeout_s=options.timeout_s, sampling=sampling, label=base)
            return ResolvedLLM(t, base, machine, options.variant or model, model, notes=notes)
        if api is not None:
            raise InputError(f"{base} is not an OpenAI-compatible server (GET /v1/models answered {status}, {ctype or 'no content type'})",
                             hint="check the URL (the server's base, without /v1/completions)")
    model = options.model or "llm"
    status, ctype, meta = _get_json(f"{base}/v2/models/{model}")
    if status is None:
        raise ExternalToolError(f"cannot connect to {base}: {ctype}", hint="start the server first, or check the URL's host and port")
    if not isinstance(meta, dict) or "inputs" not in meta:
        what = "an HTML page" if "html" in (ctype or "") else f"HTTP {status}"
        raise InputError(f"{base} speaks neither the OpenAI API nor Triton's (model '{model}' metadata: {what})",
                         hint="give an OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, Ollama) or a Triton URL with --model")
    names = [i.get("name") for i in meta.get("inputs", [])]
    if "text_input" not in names:
        raise InputError(f"model '{model}' at {base} takes {', '.join(map(str, names))}, not text_input: not an LLM (an encoder endpoint?)",
                         hint="bench an encoder with `leanserve bench URL --spec` (no token options), or name the LLM with --model")
    grpc = None
    if api == "triton-grpc":
        grpc = options.grpc_url or f"{host}:8001"
    t = TritonTarget(base, model, protocol="grpc" if grpc else "http", grpc_url=grpc, timeout_s=options.timeout_s, sampling=sampling,
                     label=base)
    return ResolvedLLM(t, base, machine, options.variant or model, model, notes=notes)


def _package(path: Path, options, sampling) -> ResolvedLLM:
    from toolkit.artifacts.common import MachineInfo
    from toolkit.bench.llm.targets import TritonTarget
    from toolkit.package.llm.manifest import LLMManifest
    from toolkit.package.manifest import REPOSITORY
    from toolkit.serve import ServeOptions, TritonServer

    server = TritonServer.start(path, ServeOptions())
    m = server.manifest if isinstance(server.manifest, LLMManifest) else None
    model = options.model or (m.model if m else server.ensemble or "llm")
    grpc = server.grpc_url if options.api == "triton-grpc" else None
    t = TritonTarget(server.http_url, model, protocol="grpc" if grpc else "http", grpc_url=grpc, timeout_s=options.timeout_s,
                     sampling=sampling, label=str(path))
    tok = path / m.tokenizer if m and m.tokenizer else path / REPOSITORY / model / "1" / "tokenizer.json"
    return ResolvedLLM(t, str(path), MachineInfo.local(), options.variant or (m.variant if m else None), model,
                       tokenizer=tok if tok.is_file() else None, server=server, spec_sha256=m.spec_sha256 if m else None,
                       max_model_len=m.cpu.max_model_len if m and m.cpu else None, notes=list(server.notes))


def _sagemaker(target: str, options, sampling, runtime_client=None, control_client=None) -> ResolvedLLM:
    from toolkit.artifacts.common import MachineInfo
    from toolkit.bench.llm.targets import SageMakerTarget
    from toolkit.bench.targets import describe_sagemaker_endpoint

    endpoint = target.split(":", 1)[1]
    if not re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", endpoint):
        raise InputError(f"'{endpoint}' is not a SageMaker endpoint name", hint="names are 1-63 letters, digits and hyphens")
    instance = options.instance_type or describe_sagemaker_endpoint(endpoint, options.region, control_client)
    t = SageMakerTarget(endpoint, options.region, body=options.sagemaker_body, model=options.model or "llm",
                        timeout_s=options.timeout_s, sampling=sampling, runtime_client=runtime_client, label=target)
    machine = MachineInfo(cpu_model="unknown (SageMaker-managed)", logical_cores=1, instance_type=instance)
    return ResolvedLLM(t, target, machine, options.variant, options.model or "llm",
                       notes=[f"request body format: {options.sagemaker_body}; times include the SageMaker front end"])


def resolve_llm_target(target: str, options, sampling, sagemaker_client=None, sagemaker_control=None) -> ResolvedLLM:
    if options.api is not None and options.api not in APIS:
        raise InputError(f"unknown --api '{options.api}'", hint=f"choose one of: {', '.join(APIS)}")
    if target.startswith("sagemaker:"):
        return _sagemaker(target, options, sampling, sagemaker_client, sagemaker_control)
    if re.match(r"^https?://", target):
        return _url(target, options, sampling)
    path = Path(target)
    if path.is_dir():
        from toolkit.package.llm.manifest import is_llm_package

        if not is_llm_package(path):
            raise InputError(f"{path} is not an LLM package", hint="package an LLM variant first (`leanserve package ... --target cpu`)")
        return _package(path, options, sampling)
    raise InputError(f"TARGET '{target}' is neither a package folder, a URL (http://host:port) nor sagemaker:<endpoint>",
                     hint="e.g. `leanserve bench out/llm-package`, `leanserve bench http://127.0.0.1:8000 --api openai`")
