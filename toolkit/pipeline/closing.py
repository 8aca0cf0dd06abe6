"""The closing summary of `leanserve run`, and of several runs together (`make demo`).

Each run writes its summary (``toolkit.pipeline.summary.summary``) to ``OUT/run-summary.json``;
``python -m toolkit.pipeline.closing OUT [OUT ...]`` prints one combined closing summary of those runs:
for each spec the chosen configuration, monthly cost, $/1M requests or $/1M output tokens, the savings against
the baselines, the API comparison, which figures are estimates, and where the files are.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SUMMARY_FILE = "run-summary.json"


def _money(x: float) -> str:
    return f"${x:,.2f}"


def write_summary(data: dict, out: Path) -> Path:
    from toolkit.fileio import atomic_write_text

    path = Path(out) / SUMMARY_FILE
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")
    return path


def summary_lines(data: dict) -> list[str]:
    """The closing summary of one spec's run (rich markup), after the stage table; `make demo` prints these too."""
    out = []
    c = data["chosen"]
    where = c["instance_type"] or (f"serverless {c['serverless']['memory_mb']} MB" if c["serverless"] else "")
    out.append(f"[bold]{data.get('name') or ''} chosen:[/bold] {c['variant']} on {c['platform']} {where} in {c['region']}")
    if data.get("architecture_only"):
        out.append("  [yellow]planned from the architecture alone (no weights): every figure below is an estimate[/yellow]")
    if c["autoscaling"]:
        a = c["autoscaling"]
        out.append(f"  autoscaling {a['min_capacity']}–{a['max_capacity']} instances, target {a['target_value']:.0f} "
                   f"invocations/instance/min (safety factor {a['safety_factor']})")
    tok = data.get("tokens")
    if tok and tok.get("usd_per_million_output_tokens") is not None:
        out.append(f"  monthly cost {_money(c['monthly_cost_usd'])}, ${tok['usd_per_million_output_tokens']:,.3f} per 1M output tokens "
                   f"(${tok['usd_per_million_total_tokens']:,.3f} per 1M prompt + output), {c['violation_minutes']:.0f} "
                   f"SLA-violation minutes/month (simulated)")
    else:
        out.append(f"  monthly cost {_money(c['monthly_cost_usd'])}, {_money(c['cost_per_million_requests_usd'])} per 1M requests, "
                   f"{c['violation_minutes']:.0f} SLA-violation minutes/month (simulated)")
    for b in data.get("baselines", {}).values():
        out.append(f"  vs {b['label']}: {_money(b['monthly_cost_usd'])}/month → saves {b['savings_pct']:.0f}%")
    api = (tok or {}).get("cheapest_api")
    if api:
        verdict = "the API is cheaper at this traffic" if api["cheaper_than_plan"] else "self-hosting is cheaper"
        out.append(f"  cheapest API: {api['provider']} {api['model']} (${api['input_usd_per_mtok']:g} in / ${api['output_usd_per_mtok']:g} "
                   f"out per 1M, {api['confidence']} confidence) {_money(api['monthly_usd'])}/month: {verdict}")
    if tok and tok.get("verdict"):
        out.append(f"  verdict: {tok['verdict']}")
    if data.get("skipped"):
        by_reason: dict[str, list[str]] = {}
        for stage, why in data["skipped"].items():
            by_reason.setdefault(why, []).append(stage)
        out += [f"  [dim]{', '.join(stages)}: skipped: {why}[/dim]" for why, stages in by_reason.items()]
    out.append("[bold]Where the figures come from:[/bold]")
    for f in data.get("figures", []):
        style = "yellow" if f["source"].startswith("estimated") else "green" if f["source"].startswith("measured") else "dim"
        out.append(f"  [{style}]{f['source']}[/{style}]: {f['figure']} — {f['detail']}")
    for e in data.get("estimates", [])[:6]:
        out.append(f"  [dim]estimate:[/dim] {e}")
    out.append("[bold]Files:[/bold]")
    for k, v in data["files"].items():
        out.append(f"  {k:<9} {v}")
    return out


def closing_lines(folders: list[Path]) -> list[str]:
    """The combined closing summary of the runs in ``folders`` (rich markup)."""
    out = [f"[bold]leanserve: {len(folders)} run(s)[/bold]"]
    for f in folders:
        path = Path(f) / SUMMARY_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out.append(f"[red]{f}: no run summary ({path} missing or unreadable): did its `leanserve run` fail?[/red]")
            continue
        out.append("")
        kind = "LLM" if data.get("kind") == "generative" else "encoder"
        out.append(f"[bold]== {data.get('name') or f} ({kind}, {f})[/bold]")
        if data.get("chosen") is None:
            out.append(f"  {data.get('headline') or 'no plan was made'}")
            continue
        out += [line for line in summary_lines(data) if not line.startswith("  [dim]estimate:")]
    return out


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    folders = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not folders:
        print("usage: python -m toolkit.pipeline.closing OUT [OUT ...]", file=sys.stderr)
        return 2
    con = Console(soft_wrap=True)
    lines = closing_lines(folders)
    for line in lines:
        con.print(line, highlight=False)
    return 1 if any("no run summary" in line for line in lines) else 0


if __name__ == "__main__":
    raise SystemExit(main())
