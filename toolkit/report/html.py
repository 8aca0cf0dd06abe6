"""The cost report as one self-contained HTML file: inline CSS, charts embedded as SVG data URIs.

Nothing is fetched from a network: a Content-Security-Policy forbids every external load, and there is
no script. The page reads on a laptop screen and prints on A4/Letter (print CSS, no page-split tables).
"""

from __future__ import annotations

import base64
from html import escape

from toolkit.report.charts import baselines_chart, hourly_chart
from toolkit.report.markdown import fmt_qty, lead_lines, range_text
from toolkit.report.model import CostReport, PriceRow
from toolkit.report.money import fmt_money, fmt_pct, fmt_rate, fmt_usd
from toolkit.report.prices import age_text
from toolkit.report.words import is_flat

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --soft:#f5f7fa; --plan:#0b6e4f; --bar:#3e7cb1;
        --warn-bg:#fff8e1; --warn-line:#f0b429; --bad:#c0392b; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--soft); color: var(--ink);
       font: 14px/1.5 "DejaVu Sans", "Segoe UI", system-ui, -apple-system, Helvetica, Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 28px 32px 40px; background: #fff; min-height: 100vh; }
header { border-bottom: 3px solid var(--plan); padding-bottom: 12px; margin-bottom: 18px; }
header .eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; color: var(--plan); font-weight: 700; }
h1 { font-size: 26px; margin: 2px 0 4px; }
h2 { font-size: 17px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p.lead, .muted { color: var(--muted); }
p.lead { margin: 0; font-size: 13px; }
.warning { background: var(--warn-bg); border: 1px solid var(--warn-line); border-left-width: 5px; padding: 10px 14px;
           margin: 12px 0; border-radius: 4px; }
.warning strong { color: #8d5b00; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 18px 0 6px; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; background: #fff; }
.kpi .label { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.kpi .value { font-size: 24px; font-weight: 700; margin-top: 2px; font-variant-numeric: tabular-nums; }
.kpi .note { font-size: 12px; color: var(--muted); }
.kpi.main { border-color: var(--plan); background: #f0f8f4; }
.kpi.main .value { color: var(--plan); }
.kpi .range { font-size: 17px; font-weight: 700; color: var(--ink); margin-top: 2px; font-variant-numeric: tabular-nums; }
section.lead p { margin: 4px 0; font-size: 15px; }
section.lead p.cost { font-size: 18px; }
section.lead strong { font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; color: var(--muted); margin: 8px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 4px; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.date { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); border-bottom: none; }
tr.plan td { background: #f0f8f4; }
dl.config { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.config dt { color: var(--muted); }
dl.config dd { margin: 0; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.share { display: inline-block; height: 8px; background: var(--bar); border-radius: 2px; vertical-align: middle; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11px; font-weight: 700; white-space: nowrap; }
.badge.estimated { background: #fff1d6; color: #8d5b00; }
.badge.measured { background: #dff3ea; color: var(--plan); }
.badge.input, .badge.list-price { background: #e8eef6; color: #2d5f8b; }
.badge.stale { background: #fde2e0; color: var(--bad); }
.no { color: var(--bad); font-weight: 700; }
figure { margin: 10px 0 6px; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
ul.assumptions { padding-left: 20px; margin: 6px 0; }
.warning code, p code { font-size: 12px; background: rgba(0,0,0,.05); border-radius: 3px; padding: 0 4px; }
.tags code { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 1px 6px; margin-right: 6px; }
footer { margin-top: 32px; font-size: 11px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
@media (max-width: 760px) { .kpis { grid-template-columns: 1fr 1fr; } .grid2 { grid-template-columns: 1fr; } main { padding: 16px; } }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { background: #fff; font-size: 10pt; }
  main { max-width: none; padding: 0; min-height: 0; }
  .kpi, .warning, tr.plan td, .kpi.main, th, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, tr, .kpis, .kpi, .warning, dl.config { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _prose(text: str) -> str:
    """Escaped text with `command` spans shown as code."""
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


def _img(svg: str | None, alt: str, caption: str) -> str:
    if not svg:
        return ""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure><img alt="{_e(alt)}" src="data:image/svg+xml;base64,{data}"><figcaption>{_e(caption)}</figcaption></figure>'


def _table(headers: list[str], rows: list[list[str]], num: set[int] = frozenset(), row_class: list[str] | None = None,
           nowrap: set[int] = frozenset()) -> str:
    """Cells in ``rows`` are HTML already (escape before passing). ``num``: right-aligned numeric columns."""
    head = "".join(f'<th class="num">{_e(h)}</th>' if i in num else f"<th>{_e(h)}</th>" for i, h in enumerate(headers))

    def cell(i: int, c: str) -> str:
        cls = "num" if i in num else "date" if i in nowrap else ""
        return f'<td class="{cls}">{c}</td>' if cls else f"<td>{c}</td>"

    body = []
    for k, row in enumerate(rows):
        cls = f' class="{row_class[k]}"' if row_class and row_class[k] else ""
        body.append(f"<tr{cls}>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kpis(r: CostReport) -> str:
    span = range_text(r)
    if span:
        band = f" (±{r.capacity_uncertainty * 100:.0f}%)" if r.capacity_uncertainty else ""
        main = (f'<div class="range">{_e(span)}</div><div class="note">with capacity at either end of its estimate{_e(band)}; '
                f"30 days from {_e(r.period_start)}</div>")
    else:
        main = f'<div class="note">30 days from {_e(r.period_start)}</div>'
    cards = [("main", "Monthly cost · on demand", fmt_usd(r.monthly_cost_cents), main)]
    req = r.traffic.requests_per_month
    if r.tokens is not None:  # a generative plan: finance compares per token
        plan = r.tokens.rows[0]
        cards.append(("", "Cost per 1M output tokens", fmt_usd(plan.per_million_output_cents),
                      _e(f"{fmt_usd(plan.per_million_total_cents)} per 1M total tokens; {fmt_usd(r.cost_per_million_requests_cents)} per 1M requests")))
    else:
        cards.append(("", "Cost per 1M requests", fmt_usd(r.cost_per_million_requests_cents),
                      _e(f"{req / 1e6:,.1f}M requests a month" if req is not None else "estimated")))
    static = next((b for b in r.baselines if b.key == "static_peak" and b.available), None)
    if static is None:
        cards.append(("", "Saving vs static peak", "n/a", _e("no static-peak baseline in the plan")))
    elif static.note:  # a $0.00 (or negative) saving gets its reason, not a bare figure
        value = "none" if (static.savings_cents or 0) == 0 else f"{fmt_usd(-(static.savings_cents or 0))} more"
        cards.append(("", "Saving vs static peak", value, _e(static.note)))
    else:
        cards.append(("", "Saving vs static peak", fmt_usd(static.savings_cents or 0),
                      _e(f"{fmt_pct(static.savings_fraction)} of {fmt_usd(static.monthly_cost_cents or 0)}")))
    plan = r.baselines[0]
    allowance = r.sla.max_violation_minutes_per_month
    cards.append(("", "SLA-violation minutes", f"{plan.violation_minutes:g}", _e(f"per month (estimated); allowed {allowance:g}")))
    return '<div class="kpis">' + "".join(
        f'<div class="kpi {c}"><div class="label">{_e(label)}</div><div class="value">{_e(v)}</div>{_note(n)}</div>'
        for c, label, v, n in cards) + "</div>"


def _note(html: str) -> str:
    """A card's footer, given as escaped HTML: a ready ``<div>`` or the text of a note line."""
    return html if html.startswith("<div") else f'<div class="note">{html}</div>'


def _lead(r: CostReport) -> str:
    """The Markdown lead (cost and range, saving, scaling in words) as paragraphs."""
    import re

    paras = [line for line in lead_lines(r) if line]
    html = []
    for k, text in enumerate(paras):
        body = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", _e(text))
        html.append(f'<p class="cost">{body}</p>' if k == 0 else f"<p>{body}</p>")
    return '<section class="lead">' + "".join(html) + "</section>"


def _shares(title: str, shares) -> str:
    rows = [[_e(s.name), _e(fmt_usd(s.cost_cents)), f'{_e(fmt_pct(s.share))} <span class="share" style="width:{max(1.0, s.share * 90):.0f}px"></span>']
            for s in shares]
    return f"<div><h3 class=\"muted\" style=\"font-size:13px;margin:0 0 4px\">{_e(title)}</h3>{_table([title.split()[-1].capitalize(), 'Monthly cost', 'Share'], rows, {1, 2})}</div>"


def render_html(r: CostReport) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Cost report · {_e(r.plan_name)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        '<header><div class="eyebrow">Leanserve cost report</div>',
        f"<h1>{_e(r.plan_name)}</h1>",
        f'<p class="lead">A 30-day month, {_e(r.period)} · plan made {_e(r.plan_created_at)} '
        f"with leanserve {_e(r.plan_tool_version)} · all amounts in {_e(r.currency)}, to the cent</p></header>",
    ]
    parts += [f'<div class="warning" role="alert"><strong>Warning:</strong> {_prose(w)}</div>' for w in r.warnings]
    parts.append(_lead(r))
    parts.append(_kpis(r))

    if r.tokens is not None:
        from toolkit.report.token_chart import token_cost_chart
        from toolkit.report.tokens_format import tokens_html

        parts.append(tokens_html(r, _e, _table, _img, token_cost_chart(r)))
    parts.append("<section><h2>Configuration</h2><dl class=\"config\">"
                 + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in r.configuration.items()) + "</dl></section>")

    parts.append('<section><h2>Where the money goes</h2><div class="grid2">'
                 + _shares("By component", r.by_component) + _shares("By resource", r.by_resource) + "</div></section>")

    rows = [[_e(l.service), _e(l.resource), _e(l.component), f"{_e(fmt_qty(l.usage_quantity))} {_e(l.unit)}",
             _e(f"{fmt_rate(l.unit_price_usd)} / {l.unit}"), _e(fmt_usd(l.cost_cents))] for l in r.lines]
    rows.append(["Total", "", "", "", "", _e(fmt_usd(r.monthly_cost_cents))])
    parts.append("<section><h2>Line items</h2>"
                 + _table(["Service", "Resource", "Component", "Usage", "Unit price", "Cost"], rows, {3, 4, 5}, [""] * (len(rows) - 1) + ["total"])
                 + "</section>")

    from toolkit.report.buying_format import purchase_html

    parts.append(purchase_html(r, _e, _table))

    h = r.hourly
    parts.append("<section><h2>Instances and cost over the traffic pattern</h2>")
    if h.instances and is_flat(h.instances):  # a chart of a straight line says nothing
        per_hour = f" ({fmt_money(h.cost_usd[0])} an hour)" if h.cost_usd and is_flat(h.cost_usd) else ""
        parts.append(f"<p>Flat at {h.peak_instances:g} instance{'s' if h.peak_instances != 1 else ''} over all {len(h.instances):,} simulated "
                     f"hours{_e(per_hour)}: the traffic never needed more, so there is no pattern to chart.</p>")
    elif h.instances:
        parts.append(f'<p class="muted">Simulated {len(h.instances):,} hours: in-service instances min {h.min_instances:g}, mean {h.mean_instances:.2f}, '
                     f"peak {h.peak_instances:g}. Estimated by the autoscaling simulation over the spec's traffic.</p>")
        parts.append(_img(hourly_chart(r), "Chart of in-service instances and cost per hour over the simulated period",
                          "Mean in-service instances and on-demand instance cost for each simulated hour."))
    else:
        parts.append("<p>The plan has no hourly series.</p>")
    parts.append("</section>")

    parts.append(_baselines_html(r))
    parts.append(_figures_html(r))
    parts.append("<section><h2>Assumptions</h2><ul class=\"assumptions\">"
                 + ("".join(f'<li><span class="badge estimated">assumption</span> {_e(a)}</li>' for a in r.assumptions) or "<li>None recorded in the plan.</li>")
                 + "</ul></section>")
    parts.append(_prices_html(r))
    tags = "".join(f"<code>{_e(k)}={_e(v)}</code>" for k, v in r.tags.items()) or "No tags in the plan."
    parts.append(f'<section><h2>Cost-allocation tags</h2><p class="tags">{tags}</p></section>')
    parts.append(f"<footer>Plan spec sha256 {_e(r.plan_spec_sha256[:12])} · report generated {_e(r.generated_at)} · "
                 "figures marked estimated come from models, not measurements.</footer>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _baselines_html(r: CostReport) -> str:
    rows, classes = [], []
    for b in r.baselines:
        classes.append("plan" if b.key == "plan" else "")
        if not b.available:
            rows.append([_e(b.label), "not in this plan", "—", "—", "—", "—"])
            continue
        saves = "—" if b.key == "plan" else _e(f"{fmt_usd(b.savings_cents or 0)} ({fmt_pct(b.savings_fraction)})")
        if b.note and (b.savings_cents or 0) == 0:
            saves = "none (see below)"

        meets = "n/a" if b.meets_sla is None else ("yes" if b.meets_sla else '<span class="no">no</span>')
        rows.append([f"<strong>{_e(b.label)}</strong><br><span class=\"muted\">{_e(b.description)}</span>", _e(b.configuration or ""),
                     _e(fmt_usd(b.monthly_cost_cents or 0)), saves, _e(f"{b.violation_minutes:g}"), meets])
    chart = _img(baselines_chart(r), "Bar chart of the monthly cost of the plan and its baselines",
                 "Monthly on-demand cost; red text marks SLA-violation minutes above the allowance.")
    notes = "".join(f"<p><strong>{_e(b.label)}:</strong> {_e(b.note)}</p>" for b in r.baselines if b.note)
    return ("<section><h2>Plan vs baselines</h2>"
            + _table(["", "Configuration", "Monthly cost", "This plan saves", "SLA-violation min/month", "Meets SLA"], rows, {2, 3, 4}, classes)
            + notes + chart + "</section>")


def _figures_html(r: CostReport) -> str:
    rows = [[_e(f.figure), _e(f.value), f'<span class="badge {_e(f.provenance.replace(" ", "-"))}">{_e(f.provenance)}</span>', _e(f.detail)] for f in r.figures]
    return "<section><h2>Where the numbers come from</h2>" + _table(["Figure", "Value", "Source", "Detail"], rows, nowrap={1}) + "</section>"


def _price_rows(prices: list[PriceRow], limit: int) -> list[list[str]]:
    mark = '<span class="badge stale">older than {limit} days</span>'
    return [[_e(p.sku), _e(f"{fmt_rate(p.usd)} / {p.unit}"), _e(p.as_of),
             _e(age_text(p, limit, stale_mark="")).rstrip() + (" " + mark.format(limit=limit) if p.stale else ""),
             _e(p.confidence), _e(p.source)] for p in prices]


def _prices_html(r: CostReport) -> str:
    head = ["SKU", "Price", "As of", "Age when planned (days)", "Confidence", "Source"]
    out = ("<section><h2>Prices</h2><p class=\"muted\">The list prices this bill uses. Ages are as of the day the plan was made (what "
           f"<code>plan --explain</code> showed); a price counts as stale when it is older than {r.stale_after_days} days on the day "
           "this report was made.</p>" + _table(head, _price_rows(r.prices, r.stale_after_days), {1, 3}, nowrap={2}))
    if r.other_prices:
        notes = "".join(f"<p>{_e(n)}</p>" for n in r.notes)
        out += ("<details><summary>Other prices in the plan (baselines and runners-up; not in this bill)</summary>" + notes
                + _table(head, _price_rows(r.other_prices, r.stale_after_days), {1, 3}, nowrap={2}) + "</details>")
    return out + "</section>"
