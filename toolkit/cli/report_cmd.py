"""`leanserve report PLAN` (cost reports) and `leanserve report diff OLD NEW` (cost change for a PR)."""

from __future__ import annotations

import click

from toolkit.cli.output import emit, result_printed, settings, warn
from toolkit.cli.params import FiniteRange

DEFAULT = "build"


class _PlanOrSubcommand(click.Group):
    """A group whose first argument is either a subcommand (``diff``) or a PLAN for the default command.

    ``leanserve report out/plan.json`` runs the hidden ``build`` command; ``leanserve report diff A B``
    runs ``diff``. The help shows both forms and the default command's options.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            _did_you_mean_diff(args[0], ctx)
            args = [DEFAULT, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] PLAN")
        formatter.write_usage(ctx.command_path, "diff [OPTIONS] OLD_PLAN NEW_PLAN", prefix="   or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        build_cmd = self.commands[DEFAULT]
        sub = click.Context(build_cmd, info_name=ctx.info_name, parent=ctx.parent)
        rows = [("PLAN", "A plan.json written by `leanserve plan`, or a folder holding one.")]
        rows += [r for p in build_cmd.get_params(sub) if isinstance(p, click.Option) and (r := p.get_help_record(sub))]
        with formatter.section("Arguments and options"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)


@click.group(cls=_PlanOrSubcommand, no_args_is_help=True, epilog="""\b
Examples:
  leanserve report out/plan.json                      # report.{md,csv,html,json} next to the plan
  leanserve report out/plan.json --format html,csv --out reports/
  leanserve report diff main/plan.json out/plan.json --fail-above 50 > comment.md

\b
Prices older than 30 days are flagged in every format. `report diff` exits 4 when
the monthly increase is above --fail-above.""")
def report() -> None:
    """Write a plan's cost report for finance, or diff two plans' costs for a pull request.

    `report PLAN` writes report.md, report.csv, report.html and report.json: the projected
    on-demand monthly cost, cost per 1M requests, the cost by resource and by component,
    instances and cost hour by hour over the traffic, the plan against its baselines (static
    peak; single-GPU default) with savings and SLA-violation minutes, price sources and ages,
    and the assumptions, with estimates flagged. The CSV has one row per period × resource ×
    component (service, usage, unit price, cost, currency, one tag:<key> column per
    cost-allocation tag); its costs sum to the monthly total to the cent. The HTML is one
    self-contained, printable file.

    "How to buy it": the recommended Savings Plans commitment ($/hour, term, payment option),
    the month on demand vs committed vs with spot, the saving, the break-even utilisation and
    the commitment if traffic is 30% and 60% lower; with no rate in the price catalog it says
    so and keeps on demand. The CSV carries the commitment as AWS bills it (upfront amortised,
    one row a month), so all its rows sum to the month bought as recommended.

    Generative (LLM) plans add "Cost per token": cost per 1M output and total tokens, GPU-hours,
    instance-hours by hour of day, the plan against static peak on the default GPU and each API
    in the price table, the break-even traffic, and a chart of monthly cost against tokens a
    day (in the HTML and as report-tokens.png); report-tokens.csv holds those figures.
    `report diff` also shows token-cost and commitment changes.
    """


@report.command(DEFAULT, hidden=True)
@click.argument("plan", type=click.Path(path_type=str))
@click.option("-f", "--format", "formats", default="md,csv,html,json", show_default=True, metavar="FORMATS",
              help="Comma-separated formats to write: md, csv, html, json.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder for report.<format> files.  [default: the plan's folder]")
def build(plan: str, formats: str, out_dir: str | None) -> None:
    """Write PLAN's cost report (PLAN: a plan.json, or a folder holding one); same as `leanserve report PLAN`.

    \b
    Example:
      leanserve report build out/plan.json --format md
    """
    from pathlib import Path

    from toolkit.fileio import check_output
    from toolkit.report.api import write_reports
    from toolkit.report.money import fmt_per_million, fmt_usd

    if out_dir is not None or Path(plan).exists():  # a missing plan is reported as such
        check_output(out_dir if out_dir is not None else Path(plan) if Path(plan).is_dir() else Path(plan).parent, "the report", folder=True)
    rep, paths = write_reports(plan, formats=formats, out_dir=out_dir)
    for w in rep.warnings:
        warn(w)
    static = next((b for b in rep.baselines if b.key == "static_peak" and b.available), None)
    data = {
        "plan": plan,
        "name": rep.plan_name,
        "monthly_cost_usd": rep.monthly_cost_usd,
        "cost_per_million_requests_usd": rep.cost_per_million_requests_usd,
        "savings_vs_static_peak_usd": static.savings_usd if static else None,
        "bought_monthly_cost_usd": rep.purchase.bought_monthly_cost_usd if rep.purchase else rep.monthly_cost_usd,
        "cost_per_million_output_tokens_usd": rep.tokens.rows[0].per_million_output_usd if rep.tokens else None,
        "files": {f: str(p) for f, p in paths.items()},
        "warnings": rep.warnings,
    }

    def render() -> None:
        line = f"{rep.plan_name}: {fmt_usd(rep.monthly_cost_cents)} a month on demand, {fmt_per_million(rep.cost_per_million_requests_usd)} per 1M requests"
        if rep.tokens is not None:
            line += f", {fmt_usd(rep.tokens.rows[0].per_million_output_cents)} per 1M output tokens"
        if static is not None:
            line += f", {fmt_usd(static.savings_cents or 0)} a month less than static peak"
        if rep.purchase is not None and rep.purchase.bought_monthly_cost_cents != rep.monthly_cost_cents:
            line += f"; {fmt_usd(rep.purchase.bought_monthly_cost_cents)} with the recommended Savings Plans commitment"
        click.echo(line)
        for p in paths.values():
            click.echo(f"  wrote {Path(p)}")

    emit(data, render)


def _did_you_mean_diff(first: str, ctx: click.Context) -> None:
    """`leanserve report dif a b` would otherwise look for a plan called 'dif'."""
    from pathlib import Path

    from toolkit.suggest import did_you_mean

    tip = "" if first.startswith("-") or Path(first).exists() else did_you_mean(first, ["diff"], cutoff=0.6)
    if tip:
        raise click.UsageError(f"'{first}' is neither a plan file nor a command{tip}", ctx)


@report.command("diff")
@click.argument("old_plan", type=click.Path(path_type=str))
@click.argument("new_plan", type=click.Path(path_type=str))
@click.option("-f", "--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="md: a pull-request comment; json: for scripts (also with the global --json).")
@click.option("--fail-above", type=FiniteRange(min=0), default=None, metavar="USD",
              help="Exit 4 when the monthly cost rises by more than USD (the output is still written).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Write the comment to this file (atomically) instead of stdout.")
def diff(old_plan: str, new_plan: str, fmt: str, fail_above: float | None, out: str | None) -> None:
    """Show the monthly cost change from OLD_PLAN to NEW_PLAN, by resource.

    Prints a Markdown pull-request comment (or JSON): the total before and after, the change by
    resource and component, and what changed in the configuration (for LLM plans, the cost per
    1M output and total tokens and the GPU-hours; the recommended Savings Plans commitment and
    spot use when they differ). Diffing a plan with itself
    reports no change. With --fail-above, exits 4 when the increase is larger than the limit.

    \b
    Examples:
      leanserve report diff main/plan.json out/plan.json
      leanserve report diff main/plan.json out/plan.json --fail-above 50 --out comment.md
      leanserve --json report diff old.json new.json | jq .delta_usd
    """
    from toolkit.fileio import check_output
    from toolkit.report.api import check_gate, diff_plans, write_diff

    if out is not None:
        check_output(out, "the diff")
    if settings().json:
        fmt = "json"
    d = diff_plans(old_plan, new_plan, fail_above_usd=fail_above)
    text = write_diff(d, fmt, out)
    for w in d.warnings:
        warn(w)
    if out is None:
        click.echo(text, nl=False)
        result_printed()
    else:
        click.echo(f"{d.summary}\n  wrote {out}", err=fmt == "json")
    check_gate(d)
