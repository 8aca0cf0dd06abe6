"""The HTML report in a real headless Chromium: it loads with no console errors, no broken or missing
images, no network fetch, and it renders a screenshot and prints to PDF.

Chromium comes from Debian's `chromium` package, installed by scripts/system_deps.sh (`make test` runs
it; CI runs it as root). If it is absent, the test runs that script once; it skips only when the
browser is still missing (no root or no apt-get to install it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# Injected before the report's own <head> content (so before its Content-Security-Policy, which
# therefore stays in force): records errors, CSP violations, console.error calls, each image's decoded
# size and every non-data: resource the page fetched, into a <pre id="probe"> that --dump-dom prints.
PROBE = """<script>
(function () {
  var errors = [];
  window.addEventListener('error', function (e) {
    var t = e.target; errors.push('error: ' + (e.message || (t && (t.currentSrc || t.src || t.href)) || 'unknown'));
  }, true);
  document.addEventListener('securitypolicyviolation', function (e) { errors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI); });
  var original = console.error;
  console.error = function () { errors.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); };
  window.addEventListener('load', function () {
    var images = Array.prototype.map.call(document.images, function (i) {
      return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight};
    });
    var fetched = performance.getEntriesByType('resource').map(function (r) { return r.name; })
      .filter(function (n) { return n.indexOf('data:') !== 0; });
    var pre = document.createElement('pre'); pre.id = 'probe';
    pre.textContent = JSON.stringify({errors: errors, images: images, fetched: fetched,
                                      scroll_width: document.documentElement.scrollWidth});
    document.body.appendChild(pre);
  });
})();
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    script = ROOT / "scripts" / "system_deps.sh"
    subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.skip("chromium is not installed and scripts/system_deps.sh could not install it (it needs root and apt-get)")


def open_in_chromium(html: str, work: Path) -> tuple[dict, Path, Path]:
    """Load ``html`` with the probe; return the probe's record, a screenshot and a printed PDF."""
    page = work / "page.html"
    page.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    shot, pdf = work / "shot.png", work / "print.pdf"
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={work / 'profile'}", "--window-size=1280,2000", "--virtual-time-budget=5000",
           f"--screenshot={shot}", f"--print-to-pdf={pdf}", "--no-pdf-header-footer", "--dump-dom", page.as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, re.S)
    assert m, "the page's load event never fired (probe missing from the DOM):\n" + out.stderr[-2000:]
    import html as html_mod

    return json.loads(html_mod.unescape(m.group(1))), shot, pdf


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> tuple[str, Path]:
    from tests.report.plans import make_plan
    from toolkit.artifacts.common import save_artifact
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp("html")
    plan = save_artifact(make_plan(price_age_days=45), folder / "plan.json")
    result = run_cli("report", plan, "--format", "html")
    assert result.exit_code == 0, result.output
    return (folder / "report.html").read_text(encoding="utf-8"), folder


def test_the_report_opens_cleanly_in_chromium(report_html, tmp_path):
    html, folder = report_html
    probe, shot, pdf = open_in_chromium(html, tmp_path)
    assert probe["errors"] == []
    assert probe["fetched"] == []  # nothing but data: URIs
    assert len(probe["images"]) == 2  # the hourly chart and the baselines chart
    assert probe["scroll_width"] <= 1280  # nothing wider than the window (no sideways scrolling)
    for img in probe["images"]:
        assert img["complete"] and img["width"] > 300 and img["height"] > 100, img
    # the screenshot shows a rendered page, not a blank one
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200
    shutil.copy(shot, folder / "screenshot.png")  # kept with the report for a human to look at
    # it prints: a PDF of a few A4 pages
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 2 <= pages <= 8, pages


def test_a_flat_fleet_with_no_saving_opens_cleanly_without_a_chart_of_a_line(tmp_path):
    """Item 16's finance view: the zero-saving note and the flat-fleet sentence, in a real browser, one chart only."""
    from tests.report.test_finance_view import _floor_only_plan
    from toolkit.report import render
    from toolkit.report.build import build_report

    html = render(build_report(_floor_only_plan()), "html")
    probe, _, _ = open_in_chromium(html, tmp_path)
    assert probe["errors"] == [] and probe["fetched"] == []
    assert len(probe["images"]) == 1 and probe["images"][0]["alt"].startswith("Bar chart")
    assert probe["scroll_width"] <= 1280


def test_the_llm_and_purchase_reports_open_cleanly_in_chromium(llm_plans, purchase_plans, tmp_path):
    """Issues 17 and 19: the token section with its chart (three images) and "How to buy it", in a real browser."""
    from tests.conftest import run_cli

    for name, plan, images in (("llm", llm_plans["all"], 3), ("purchase", purchase_plans["spot"], 2)):
        out = tmp_path / name
        result = run_cli("report", plan, "--format", "html", "--out", out)
        assert result.exit_code == 0, result.output
        html = (out / "report.html").read_text(encoding="utf-8")
        assert ("<h2>Cost per token</h2>" in html) == (name == "llm") and "<h2>How to buy it</h2>" in html
        probe, shot, _ = open_in_chromium(html, out)
        assert probe["errors"] == [] and probe["fetched"] == [], probe
        assert len(probe["images"]) == images
        for img in probe["images"]:
            assert img["complete"] and img["width"] > 300 and img["height"] > 100, img
        assert probe["scroll_width"] <= 1280  # the wide token and API tables still fit the window


def test_the_report_is_self_contained(report_html):
    html, _ = report_html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", html)  # no external src/href at all
    assert "<script" not in html
    assert "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:" in html
    assert "@media print" in html
    assert "Warning:</strong> 4 of 4 prices in this bill are older than 30 days" in html


def test_the_probe_catches_broken_images_and_network_fetches(tmp_path):
    """The harness itself can fail: a page with a broken image and a remote image is reported."""
    from toolkit.report.html import CSP

    bad = ("<!DOCTYPE html><html><head>"
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}"></head><body>'
           '<img alt="broken" src="data:image/png;base64,AAAA">'
           '<img alt="remote" src="https://example.invalid/chart.png"></body></html>')
    probe, _, _ = open_in_chromium(bad, tmp_path)
    assert [i["width"] for i in probe["images"]] == [0, 0]
    assert any(e.startswith("csp: img-src https://example.invalid/chart.png") for e in probe["errors"]), probe["errors"]
    assert any("data:image/png;base64,AAAA" in e for e in probe["errors"]), probe["errors"]
