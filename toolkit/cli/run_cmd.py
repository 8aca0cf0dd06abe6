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
  leanserve run examples/llama-8b/leanserve.yaml --out out/llama-8b   # an LLM from its architecture alone

\b
What is benchmarked: a first plan from compress's estimates selects its winner and the runners-up of
other variants within its cost band; each is packaged and benchmarked on a local Triton, and the plan
is made from the measurements (a winner that was not benchmarked is benchmarked, then planned again).
The summary says which figures were measured by compress, measured by bench, or estimated. A bench
with suspect points (throughput falling as load rises, latency far off the in-process measurement) is
warned about and not cached: it runs again next time.

\b
Generative (text-generation) specs: with weights (model.source) the same chain runs with the
streaming LLM package and a short token-level bench (TTFT, ITL, output tokens/s); costs are per 1M
output tokens, compared with hosted APIs. With model.architecture only, compress, select, package
and bench are skipped (no weights) and every figure is estimated.

\b
A stage is skipped when its inputs (spec sections, upstream files' sha256, library and price-catalog
versions) are unchanged and its outputs are intact; change only the SLA and only select, plan, deploy
and report run again. Exit codes: 0 done; 2 bad input; 3 nothing meets the SLA and budget."""


class _RichDisplay:
    """One progress display for the whole run: a line per stage, inner bars for long work. Off a terminal (a log,
    CI) the display's heartbeat names the running stage, what it does inside and for how long, at least every 30 s."""

    def __init__(self, progress):
        from toolkit.cli.progress_lines import LineProgress

        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.current: str | None = None  # the stage running now
        if isinstance(progress, LineProgress):
            progress.heartbeat = self.heartbeat_line

    def stage_started(self, label: str, cached: bool) -> None:
        self.tasks[label] = self.progress.add_task(f"{label}: {'cache hit' if cached else 'running'}", total=1)
        self.current = label

    def stage_finished(self, outcome) -> None:
        mark = "[dim]skipped[/dim]" if outcome.skipped else "[dim]cached[/dim]" if outcome.cached else "[green]done[/green]"
        self.progress.update(self.tasks[outcome.label], completed=1,
                             description=f"{outcome.label}: {mark} {outcome.detail}"[:110])
        self.current = None

    def heartbeat_line(self) -> str | None:
        """'compress: still working (building variants 2/5; onnx-int4: GPTQ), 2m30s', or None between stages."""
        from toolkit.cli.progress_lines import still_working

        stage_task = self.tasks.get(self.current) if self.current else None
        running = self.progress.running()
        outer = next((r for r in running if r[0] == stage_task), None)
        if outer is None:
            return None
        inner = [text for i, text, _ in running if i not in self.tasks.values()]
        return still_working(self.current, outer[2], inner)

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
@click.option("--token-bench-seconds", type=FiniteRange(1, 600), default=12.0, show_default=True,
              help="Generative models: duration of each token-bench load point (concurrency 1 and 2).")
def run(spec: str, out_dir: str, force: tuple[str, ...], skip_bench: bool, bench_seconds: float, token_bench_seconds: float) -> None:
    """Run compress → package → serve+bench → plan → deploy --emit → report on SPEC.

    Ends with a summary: the chosen configuration, its monthly cost and cost per 1M requests
    (per 1M output tokens for LLMs, with the cheapest comparable API and the verdict), the savings
    against the baselines, which numbers are estimates, and where every file is. The summary is
    also written to OUT/run-summary.json.
    """
    from toolkit.errors import InfeasibleError
    from toolkit.fileio import check_output
    from toolkit.pipeline.runner import RunOptions, run_pipeline, summary
    from toolkit.spec import load_spec

    loaded = load_spec(spec)
    check_output(out_dir, "the run's files", folder=True)
    options = RunOptions(force=force, skip_bench=skip_bench, bench_duration_s=bench_seconds, token_bench_duration_s=token_bench_seconds)
    with progress(transient=False) as bar:
        result = run_pipeline(loaded, out_dir, options, _RichDisplay(bar))
    data = summary(result)
    from toolkit.pipeline.closing import write_summary

    write_summary(data, result.out)
    for w in data["warnings"]:
        warn(w)
    plan = result.plan
    if plan is not None and plan.chosen is None:
        emit(data, lambda: _render_infeasible(plan))
        raise InfeasibleError("nothing meets the SLA and budget; plan.json lists the nearest misses",
                              hint=f"see {result.files['plan']} or run `leanserve plan {spec} --variants {out_dir} --explain`")
    emit(data, lambda: _render(data))


def _render(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    t = Table(title="leanserve run", show_header=True, header_style="bold")
    for col in ("stage", "status", "seconds", "result"):
        t.add_column(col)
    for s in data["stages"]:
        stage = f"{s['stage']} {s['variant']}" if s.get("variant") else s["stage"]
        status = {"ran": "ran", "cached": "cached", "skipped": "[dim]skipped[/dim]"}[s["status"]]
        t.add_row(stage, status, "-" if s["skipped"] else f"{s['seconds']:.1f}", s["detail"])
    con.print(t)
    from toolkit.pipeline.closing import summary_lines

    for line in summary_lines(data):
        con.print(line, highlight=False)


def _render_infeasible(plan) -> None:
    from rich.console import Console

    con = Console(stderr=True)
    con.print("[red]No configuration meets the SLA and budget.[/red] Nearest misses:")
    for m in plan.nearest_misses[:5]:
        con.print(f"  {m.variant} {m.platform} {m.instance_type or ''}: {m.why_not}")
