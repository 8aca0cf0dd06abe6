"""The token-level side of ``leanserve bench``: when it applies, option parsing, and the rendered table.

``leanserve bench`` runs the token bench when the spec's family is generative, the target is an LLM
package, an OpenAI-compatible URL or a Triton model taking ``text_input``, or any token option is given.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from toolkit.errors import InputError

_SLA_KEY = re.compile(r"^(?:(ttft|itl|tpot|e2e)_)?(p50|p90|p95|p99)_ms$")


def parse_token_sla(text: str) -> list:
    """``ttft_p95_ms=500,itl_p95_ms=50,p99_ms=8000`` → Constraints (``p99_ms``: end-to-end latency)."""
    from toolkit.sla import Constraint

    out = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        key, _, value = part.replace(":", "=", 1).partition("=")
        m = _SLA_KEY.match(key.strip())
        try:
            limit = float(value)
        except ValueError:
            limit = -1.0
        if not m or not limit > 0:
            raise InputError(f"--sla '{part}' is not METRIC_PCT_ms=LIMIT",
                             hint="e.g. --sla ttft_p95_ms=500,itl_p95_ms=50 (metrics ttft, itl, tpot, e2e; p95_ms alone is e2e)")
        out.append(Constraint(metric=m.group(1) or "latency", percentile=m.group(2), limit=limit, unit="ms"))
    if not out:
        raise InputError("--sla is empty", hint="e.g. --sla ttft_p95_ms=500,itl_p95_ms=50")
    return out


def parse_lengths(text: str | None, name: str):
    """``128`` (fixed) or ``mean=512,p50=400,p90=1000,max=2048`` → a TokenDist (None when not given)."""
    if text is None:
        return None
    from toolkit.perf.llm.workload import TokenDist

    t = text.strip()
    if re.match(r"^-?\d+$", t):
        n = int(t)
        if n < 1:
            raise InputError(f"--{name} {n}: must be at least 1 token", hint=f"e.g. --{name} 64")
        return TokenDist.fixed(n, name=name.replace("-", " "))
    fields = {}
    for part in t.split(","):
        k, _, v = part.partition("=")
        if k.strip() not in ("mean", "p50", "p90", "max") or not v.strip():
            raise InputError(f"--{name} '{text}' is not N or mean=..,p50=..,p90=..,max=..", hint=f"e.g. --{name} 128 or --{name} p50=400,p90=1000")
        try:
            fields[k.strip()] = int(v) if k.strip() == "max" else float(v)
        except ValueError:
            raise InputError(f"--{name} '{text}': '{v}' is not a number", hint=f"e.g. --{name} p50=400,p90=1000") from None
    return TokenDist(**fields, name=name.replace("-", " "))


def _json(url: str) -> object:
    try:
        with urllib.request.urlopen(url, timeout=3.0) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def wants_token_bench(target: str, spec, *, model: str | None = None, explicit: bool = False) -> bool:
    """Whether ``leanserve bench TARGET`` is a token-level bench (see the module docstring)."""
    from toolkit.package.llm.source import is_generative_task

    if explicit or (spec is not None and is_generative_task(spec.spec.model.task)):
        return True
    if re.match(r"^https?://", target):
        base = target.rstrip("/")
        base = base[:-3] if base.endswith("/v1") else base
        data = _json(f"{base}/v1/models")
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return True
        meta = _json(f"{base}/v2/models/{model or 'llm'}")
        return isinstance(meta, dict) and "text_input" in [i.get("name") for i in meta.get("inputs", []) if isinstance(i, dict)]
    if Path(target).is_dir():
        from toolkit.package.llm.manifest import is_llm_package

        return is_llm_package(target)
    return False


def render(profile, path) -> list[str]:
    f = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"  # noqa: E731
    lines = [f"{profile.variant} via {profile.api} on {profile.machine.describe()} ({profile.target}); {profile.shapes.source}; times in ms"]
    cols = ("load", "req/s", "out tok/s", "TTFT p50", "p95", "ITL p50", "p95", "TPOT p50", "e2e p95", "goodput", "errors", "lost")
    widths = (12, 7, 10, 9, 7, 8, 7, 9, 8, 8, 7, 5)
    lines.append("".join(c.rjust(w) for c, w in zip(cols, widths)))
    for p in profile.points:
        load = f"c={p.concurrency}" if p.mode == "closed" else f"{p.target_rps:g}/s {p.mode.split('-')[1][:4]}"
        row = (load, f(p.requests_per_s, 2), f(p.output_tokens_per_s), f(p.ttft_ms.p50), f(p.ttft_ms.p95), f(p.itl_ms.p50, 2),
               f(p.itl_ms.p95, 2), f(p.tpot_ms.p50, 2), f(p.e2e_ms.p95, 0), f(p.goodput_rps, 2), str(p.errors), str(p.lost))
        lines.append("".join(v.rjust(w) for v, w in zip(row, widths)))
    if profile.sla:
        lines.append("goodput counts requests meeting " + ", ".join(c.describe() for c in profile.sla) + " (each judged on the request itself)")
    if profile.max_rate_at_sla is not None:
        lines.append(f"max rate at the SLA: {profile.max_rate_at_sla:g} req/s (goodput kept up)")
    lines += [f"note: {n}" for n in profile.notes]
    lines.append(f"wrote {path}")
    return lines


def options_from_cli(spec, p: dict):
    """TokenBenchOptions from ``leanserve bench``'s parameters (``p``: its keyword arguments)."""
    import click

    from toolkit.bench.llm.runner import TokenBenchOptions
    from toolkit.sla import Constraint

    sla = p.get("sla")
    constraints = None
    if sla and sla[0] == "token":
        constraints = parse_token_sla(sla[1])
    elif sla:
        constraints = [Constraint(metric="latency", percentile=sla[0], limit=float(sla[1]), unit="ms")]
    ctx = click.get_current_context(silent=True)
    timeout = p.get("timeout")
    if ctx is not None and ctx.get_parameter_source("timeout") == click.core.ParameterSource.DEFAULT:
        timeout = 120.0  # a whole stream, not one encoder request
    return TokenBenchOptions(
        concurrency=p.get("concurrency"), rates=p.get("rates"), arrival=p.get("arrival") or "poisson", duration_s=float(p["duration"]),
        warmup_s=float(p["warmup"]), timeout_s=float(timeout), max_in_flight=int(p["max_in_flight"]), seed=int(p["seed"]),
        prompt_tokens=parse_lengths(p.get("prompt_tokens"), "prompt-tokens"), output_tokens=parse_lengths(p.get("output_tokens"), "output-tokens"),
        dataset=p.get("dataset"), api=p.get("api"), model=p.get("model"), variant=p.get("variant"), tokenizer=p.get("tokenizer"),
        ignore_eos=bool(p.get("ignore_eos", True)), sla=constraints, find_max_rate=bool(p.get("find_max_rate")),
        instance_type=p.get("instance_type"), region=p.get("region"),
    )


def run_cli(target: str, spec, params: dict) -> None:
    """What ``leanserve bench`` does for a generative target: check profiles.json first, run, write, print."""
    import click

    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.bench.llm.runner import run_token_bench, write_token_profile
    from toolkit.cli.output import emit, log, warn
    from toolkit.fileio import check_output

    options = options_from_cli(spec, params)
    out = Path(params["out"])
    existing = out / "profiles.json" if out.is_dir() else out
    check_output(existing, "profiles")
    if existing.exists():  # a corrupt or foreign profiles.json is reported before minutes of load, not after
        load_artifact(ProfilesFile, existing)

    def progress(event, payload):
        if event == "start":
            log(f"bench: {payload} ...")
        else:
            p = payload
            ttft = p.ttft_ms.p95 if p.ttft_ms.p95 is not None else float("nan")
            itl = p.itl_ms.p95 if p.itl_ms.p95 is not None else float("nan")
            log(f"  {p.requests_per_s:6.2f} req/s  {p.output_tokens_per_s:8.1f} tok/s  TTFT p95 {ttft:7.1f} ms  ITL p95 {itl:6.2f} ms  "
                f"errors {p.errors}  lost {p.lost}")

    result = run_token_bench(target, options, spec, progress)
    path, warnings = write_token_profile(result, out)
    for w in warnings:
        warn(w)
    prof = result.profile
    for p in prof.points:
        if p.errors or p.lost:
            level = f"concurrency {p.concurrency}" if p.mode == "closed" else f"{p.target_rps:g} req/s"
            warn(f"{level}: {p.errors} errors, {p.lost} lost of {p.sent} sent" + (f" ({p.error_examples[0]})" if p.error_examples else ""))
    emit({"profiles": str(path), "token_profile": prof.model_dump(mode="json")}, lambda: [click.echo(x) for x in render(prof, path)])
