"""`leanserve run SPEC`: the whole chain, with one progress display and a stage cache."""

from __future__ import annotations

import click

from toolkit.cli.output import emit, progress, warn
from toolkit.cli.params import FiniteRange

STAGE_NAMES = ("compress", "select", "package", "bench", "plan", "deploy", "report", "all")

EPILOG = """\b
Examples:
  leanserve run examples/minilm/leanserve.yaml --out out/demo
  leanserve run leanserve.yaml --out out/ --force plan          # rerun one stage
  leanserve --json run leanserve.yaml --out out/ | jq .chosen

\b
What is benchmarked: a first plan from compress's estimates selects its winner and the runners-up of
other variants within its cost band; each is packaged and benchmarked on a local Triton, and the plan
is made from the measurements (a winner that was not benchmarked is benchmarked, then planned again).
The summary says which figures were measured by compress, measured by bench, or estimated. A bench
with suspect points (throughput falling as load rises, latency far off the in-process measurement) is
warned about and not cached: it runs again next time.

\b
A stage is skipped when its inputs (spec sections, upstream files' sha256, library and price-catalog
versions) are unchanged and its outputs are intact; change only the SLA and only select, plan, deploy
and report run again. Exit codes: 0 done; 2 bad input; 3 nothing meets the SLA and budget."""


class _RichDisplay:
    """One progress display for the whole run: a line per stage, inner bars for long work."""

    def __init__(self, progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def stage_started(self, label: str, cached: bool) -> None:
        self.tasks[label] = self.progress.add_task(f"{label}: {'cache hit' if cached else 'running'}", total=1)

    def stage_finished(self, outcome) -> None:
        mark = "[dim]cached[/dim]" if outcome.cached else "[green]done[/green]"
        self.progress.update(self.tasks[outcome.label], completed=1,
                             description=f"{outcome.label}: {mark} {outcome.detail}"[:110])

    def reporter(self):
        from toolkit.compress.progress import RichReporter

        return RichReporter(self.progress)


@click.command(epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=str))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default="out", show_default=True,
              help="Folder for every stage's output (and the stage cache).")
@click.option("--force", "force", multiple=True, type=click.Choice(STAGE_NAMES),
              help="Rerun this stage even when its inputs are unchanged (repeatable; 'all' for every stage).")
@click.option("--skip-bench", is_flag=True, help="Do not start Triton: plan from compress's in-process latency (estimates only).")
@click.option("--bench-seconds", type=FiniteRange(1, 600), default=6.0, show_default=True, help="Duration of each bench load point.")
def run(spec: str, out_dir: str, force: tuple[str, ...], skip_bench: bool, bench_seconds: float) -> None:
    """Run compress → package → serve+bench → plan → deploy --emit → report on SPEC.

    Ends with a summary: the chosen configuration, its monthly cost and cost per 1M requests,
    the savings against the baselines, which numbers are estimates, and where every file is.
    """
    from toolkit.errors import InfeasibleError
    from toolkit.fileio import check_output
    from toolkit.pipeline.runner import RunOptions, run_pipeline, summary
    from toolkit.spec import load_spec

    loaded = load_spec(spec)
    check_output(out_dir, "the run's files", folder=True)
    options = RunOptions(force=force, skip_bench=skip_bench, bench_duration_s=bench_seconds)
    with progress(transient=False) as bar:
        result = run_pipeline(loaded, out_dir, options, _RichDisplay(bar))
    data = summary(result)
    for w in data["warnings"]:
        warn(w)
    plan = result.plan
    if plan is not None and plan.chosen is None:
        emit(data, lambda: _render_infeasible(plan))
        raise InfeasibleError("nothing meets the SLA and budget; plan.json lists the nearest misses",
                              hint=f"see {result.files['plan']} or run `leanserve plan {spec} --variants {out_dir} --explain`")
    emit(data, lambda: _render(data))


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _render(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    t = Table(title="leanserve run", show_header=True, header_style="bold")
    for col in ("stage", "status", "seconds", "result"):
        t.add_column(col)
    for s in data["stages"]:
        stage = f"{s['stage']} {s['variant']}" if s.get("variant") else s["stage"]
        t.add_row(stage, "cached" if s["cached"] else "ran", f"{s['seconds']:.1f}", s["detail"])
    con.print(t)
    c = data["chosen"]
    where = c["instance_type"] or (f"serverless {c['serverless']['memory_mb']} MB" if c["serverless"] else "")
    con.print(f"[bold]Chosen:[/bold] {c['variant']} on {c['platform']} {where} in {c['region']}")
    if c["autoscaling"]:
        a = c["autoscaling"]
        con.print(f"  autoscaling {a['min_capacity']}–{a['max_capacity']} instances, target {a['target_value']:.0f} "
                  f"invocations/instance/min (safety factor {a['safety_factor']})")
    con.print(f"  monthly cost {_money(c['monthly_cost_usd'])}, {_money(c['cost_per_million_requests_usd'])} per 1M requests, "
              f"{c['violation_minutes']:.0f} SLA-violation minutes/month (simulated)")
    for name, b in data.get("baselines", {}).items():
        label = {"static_peak": "static provisioning for peak", "single_gpu_default": "single-GPU default (ml.g5.xlarge)"}[name]
        con.print(f"  vs {label}: {_money(b['monthly_cost_usd'])}/month → saves {b['savings_pct']:.0f}%")
    con.print("[bold]Where the figures come from:[/bold]")
    for f in data.get("figures", []):
        style = "yellow" if f["source"].startswith("estimated") else "green" if f["source"].startswith("measured") else "dim"
        con.print(f"  [{style}]{f['source']}[/{style}]: {f['figure']} — {f['detail']}")
    for e in data.get("estimates", [])[:6]:
        con.print(f"  [dim]estimate:[/dim] {e}")
    con.print("[bold]Files:[/bold]")
    for k, v in data["files"].items():
        con.print(f"  {k:<9} {v}")


def _render_infeasible(plan) -> None:
    from rich.console import Console

    con = Console(stderr=True)
    con.print("[red]No configuration meets the SLA and budget.[/red] Nearest misses:")
    for m in plan.nearest_misses[:5]:
        con.print(f"  {m.variant} {m.platform} {m.instance_type or ''}: {m.why_not}")
