"""`leanserve plan SPEC --variants ...`: the cheapest configuration that meets the SLA, with its autoscaling policy."""

from __future__ import annotations

import click

from toolkit.cli.output import emit, log, progress, settings, warn

EPILOG = """\b
Examples:
  leanserve plan examples/minilm/leanserve.yaml --variants out/ --profiles out/profiles.json
  leanserve plan leanserve.yaml --variants out/variants.json --top 10 --explain
  leanserve --json plan leanserve.yaml --variants out/ | jq .chosen
  leanserve plan examples/llama-8b/leanserve.yaml --explain     (an LLM from its architecture alone)

\b
Exit codes: 0 a plan was found; 2 bad input (spec, trace, artifact); 3 nothing meets the
SLA and budget: the nearest misses are printed and written to plan.json."""


@click.command(epilog=EPILOG)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=str))
@click.option("--variants", "variants_path", default=None, type=click.Path(path_type=str),
              help="variants.json written by `leanserve compress`, or the folder holding it. A text-generation spec may leave it "
                   "out: it is planned from its architecture (bf16, fp8, w4a16), every figure estimated.")
@click.option("--profiles", "profiles_path", type=click.Path(path_type=str), default=None,
              help="profiles.json written by `leanserve bench` (measured capacity wins over estimates).")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Where to write plan.json (atomically).  [default: plan.json next to variants.json]")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True, help="How many configurations to rank and show.")
@click.option("--explain", is_flag=True, help="Also show assumptions, which numbers are estimates and how uncertain, price ages.")
@click.option("--strategy", type=click.Choice(["fast", "exact"]), default="fast", show_default=True,
              help="Search: 'fast' prunes by a provable lower bound on cost; 'exact' simulates every candidate x policy.")
@click.option("--purchase", "purchase", multiple=True, type=click.Choice(["on-demand", "savings-plan", "spot"]),
              help="Ways of buying capacity the plan may use (repeat the option; default: all). On-demand is always the base; "
                   "spot also needs targets.allow_spot in the spec.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.99), default=None,
              help="Meet the SLA with this probability over the capacity estimate's band (0.9: near its pessimistic end); "
                   "also reports the choice at the band's ends. Default: the point estimate.")
def plan(spec: str, variants_path: str, profiles_path: str | None, out_path: str | None, top: int, explain: bool, strategy: str,
         purchase: tuple[str, ...], confidence: float | None) -> None:
    """Find the cheapest configuration that meets SPEC's SLA and budget, and its autoscaling policy.

    Candidates are every accepted variant x platform (SageMaker real-time, SageMaker Serverless
    1-6 GB, Kubernetes nodes, spot if allowed) x allowed instance type x region. Each gets its
    capacity under the SLA from the performance model (or a measured profile) and an
    autoscaling policy (target value, min and max capacity) chosen by simulating the spec's
    traffic minute by minute: CloudWatch alarms, cooldowns, start-up delays, cold starts. The
    cheapest candidate within the violation allowance and budget wins; a daily scheduled-scaling
    policy is compared on periodic traffic. Spot nodes (when allowed) carry the capacity above the
    availability floor, with interruptions simulated; the cheapest Savings Plans commitment is
    recommended where the catalog has a rate (deploy never buys one). Prints the top N with why each runner-up lost and two
    baselines (static provisioning for peak; ml.g5.xlarge with AWS's default target tracking),
    and writes plan.json.
    """
    import sys
    from pathlib import Path

    from toolkit.artifacts import save_artifact
    from toolkit.fileio import check_output
    from toolkit.planner.api import infeasible_error, load_inputs, make_plan
    from toolkit.planner.render import baseline_rows, explain_text, headline, table_rows, table_text
    from toolkit.planner.tokens import token_lines

    loaded, variants, profiles = load_inputs(spec, variants_path, profiles_path)
    if out_path is None:
        vp = Path(variants_path) if variants_path else None
        out_path = str((vp if vp.is_dir() else vp.parent) / "plan.json") if vp else str(Path("out") / "plan.json")
    check_output(out_path, "the plan")
    stages = ["traffic", "candidates", "search", "details", "baselines", "explain"]
    if sys.stderr.isatty():  # a progress display only where someone watches it
        with progress() as bar:
            task = bar.add_task("planning", total=len(stages))

            def on_stage(name: str) -> None:
                bar.update(task, completed=stages.index(name), description=f"planning: {name}")

            result = make_plan(loaded, variants, profiles, strategy=strategy, top=top, on_stage=on_stage, purchase=purchase or None,
                                   confidence=confidence)
    else:
        result = make_plan(loaded, variants, profiles, strategy=strategy, top=top, on_stage=lambda s: log(f"planning: {s}", 1),
                           purchase=purchase or None, confidence=confidence)
    p = result.plan
    save_artifact(p, out_path)
    for w in result.warnings:
        warn(w)

    data = {
        "plan": out_path, "feasible": p.feasible, "strategy": p.strategy, "seconds": round(result.seconds, 3),
        "chosen": p.chosen.model_dump(mode="json", exclude={"simulation": {"hourly_instances", "hourly_cost_usd"}}) if p.chosen else None,
        "top": table_rows(p), "baselines": baseline_rows(p), "search": p.search.model_dump(mode="json", exclude_none=True),
    }
    if p.tokens is not None:
        data["tokens"] = p.tokens.model_dump(mode="json")
    if explain:
        data |= {"estimates": p.estimates, "assumptions": p.assumptions, "prices": [r.model_dump(mode="json") for r in p.prices],
                 "scheduling": p.scheduling.model_dump(mode="json", exclude_none=True) if p.scheduling else None,
                 "excluded": [x.model_dump(mode="json") for x in p.excluded]}

    def render() -> None:
        click.echo(headline(p, out_path))
        click.echo("")
        for line in table_text(p):
            click.echo(line)
        for line in token_lines(p):  # generative plans: $/1M tokens and the API comparison
            click.echo(line)
        if explain:
            for line in explain_text(p):
                click.echo(line)

    emit(data, render)
    if not p.feasible:
        raise infeasible_error(p, out_path if not settings().json else None)
