"""Entry points: read plans, build reports, render formats, write files atomically, diff plans."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from toolkit.artifacts.common import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.errors import GateFailed, InputError
from toolkit.fileio import atomic_write_text
from toolkit.report.build import build_report
from toolkit.report.diff import PlanDiff, diff_reports, render_diff_markdown
from toolkit.report.model import CostReport

FORMATS = ("md", "csv", "html", "json")
FILE_NAMES = {"md": "report.md", "csv": "report.csv", "html": "report.html", "json": "report.json"}


def parse_formats(text: str | list[str]) -> list[str]:
    """``"md,csv"`` -> ``["md", "csv"]``; unknown names raise InputError with a suggestion."""
    from toolkit.suggest import closest

    items = text if isinstance(text, list) else [t.strip().lower() for t in text.split(",")]
    out: list[str] = []
    for item in items:
        if not item:
            continue
        if item == "markdown":
            item = "md"
        if item not in FORMATS:
            close = closest(item, FORMATS, cutoff=0.6)
            hint = f"did you mean '{close}'? " if close else ""
            raise InputError(f"unknown report format '{item}'", hint=f"{hint}choose from {', '.join(FORMATS)} (comma-separated)")
        if item not in out:
            out.append(item)
    if not out:
        raise InputError("no report format given", hint=f"choose from {', '.join(FORMATS)}, e.g. --format md,html")
    return out


def load_plan(path: str | Path) -> PlanFile:
    return load_artifact(PlanFile, path)


def make_report(plan_path: str | Path, *, today: date | None = None) -> CostReport:
    return build_report(load_plan(plan_path), source=str(plan_path), today=today)


def render(report: CostReport, fmt: str) -> str:
    """The report in one format, as text."""
    if fmt == "md":
        from toolkit.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "csv":
        from toolkit.report.csv_format import render_csv

        return render_csv(report)
    if fmt == "html":
        from toolkit.report.html import render_html

        return render_html(report)
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    raise InputError(f"unknown report format '{fmt}'", hint=f"choose from {', '.join(FORMATS)}")


def write_reports(plan_path: str | Path, *, formats: list[str] | str = FORMATS, out_dir: str | Path | None = None,
                  today: date | None = None) -> tuple[CostReport, dict[str, Path]]:
    """Write ``report.<fmt>`` files into ``out_dir`` (default: the folder of the plan file, or ``plan_path`` itself when it is a folder),
    and for generative plans ``report-tokens.csv`` with csv (the token view in long form; key ``tokens_csv``) and
    ``report-tokens.png`` with md or html (the cost-against-traffic chart; key ``png``).

    Every format is rendered in memory first; only then is each file written atomically, so a
    failure (bad plan, missing matplotlib) leaves no report file half-written or out of step.
    """
    fmts = parse_formats(list(formats) if not isinstance(formats, str) else formats)
    report = make_report(plan_path, today=today)
    texts = {f: render(report, f) for f in fmts}
    plan = Path(plan_path)
    folder = Path(out_dir) if out_dir is not None else plan if plan.is_dir() else plan.parent
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder} is a file, not a folder", hint="give a folder for the report files")
    png = None
    if report.tokens is not None and ("md" in fmts or "html" in fmts):  # the token chart, which report.md links
        from toolkit.report.token_chart import PNG_NAME, token_cost_png

        png = token_cost_png(report)
    tokens_csv = None
    if report.tokens is not None and "csv" in fmts:
        from toolkit.report.csv_format import render_tokens_csv

        tokens_csv = render_tokens_csv(report)
    paths = {f: atomic_write_text(folder / FILE_NAMES[f], texts[f]) for f in fmts}
    if tokens_csv is not None:
        from toolkit.report.csv_format import TOKENS_FILE

        paths["tokens_csv"] = atomic_write_text(folder / TOKENS_FILE, tokens_csv)
    if png is not None:
        from toolkit.fileio import atomic_write_bytes

        paths["png"] = atomic_write_bytes(folder / PNG_NAME, png)
    return report, paths


def diff_plans(old_path: str | Path, new_path: str | Path, *, fail_above_usd: float | None = None, today: date | None = None) -> PlanDiff:
    """Compare two plan files; see :func:`toolkit.report.diff.diff_reports`."""
    old = make_report(old_path, today=today)
    new = make_report(new_path, today=today)
    return diff_reports(old, new, old_file=str(old_path), new_file=str(new_path), fail_above_usd=fail_above_usd)


def render_diff(d: PlanDiff, fmt: str) -> str:
    if fmt == "json":
        return d.model_dump_json(indent=2) + "\n"
    return render_diff_markdown(d)


def write_diff(d: PlanDiff, fmt: str, out: str | Path | None = None) -> str:
    """Render the diff; write it atomically to ``out`` when given. Returns the text."""
    text = render_diff(d, fmt)
    if out is not None:
        atomic_write_text(out, text)
    return text


def check_gate(d: PlanDiff) -> None:
    """Raise GateFailed (exit 4) when the diff's gate tripped."""
    if d.gate is not None and d.gate.tripped:
        from toolkit.report.money import fmt_usd, to_cents

        raise GateFailed(
            f"the monthly cost rises by {fmt_usd(d.delta_cents)} ({fmt_usd(d.old.monthly_cost_cents)} → {fmt_usd(d.new.monthly_cost_cents)}), "
            f"above --fail-above {fmt_usd(to_cents(d.gate.fail_above_usd))}",
            hint="make the plan cheaper, or raise --fail-above if the increase is intended",
        )
