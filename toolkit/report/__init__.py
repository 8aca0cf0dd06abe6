"""Cost reports for finance (Markdown, CSV, HTML, JSON) and cost diffs between plans for pull requests.

Library API (the CLI in ``toolkit.cli.report_cmd`` is a thin layer over it)::

    from toolkit.report import write_reports, diff_plans
    paths = write_reports("out/plan.json", formats=["md", "csv", "html", "json"], out_dir="out")
    diff = diff_plans("main/plan.json", "out/plan.json", fail_above_usd=50)
"""

from toolkit.report.api import FORMATS, check_gate, diff_plans, load_plan, make_report, render, render_diff, write_diff, write_reports

__all__ = ["FORMATS", "check_gate", "diff_plans", "load_plan", "make_report", "render", "render_diff", "write_diff", "write_reports"]
