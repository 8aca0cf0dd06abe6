"""Progress on a stderr that is not a terminal (`make demo > log`): a line at least every interval while work runs."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from toolkit.cli import progress_lines
from toolkit.cli.progress_lines import LineProgress


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=200), buf


def test_the_status_line_names_what_runs_how_far_and_for_how_long():
    clock, (console, buf) = FakeClock(), _console()
    bar = LineProgress(console, clock=clock)
    outer = bar.add_task("building variants", total=5)
    clock.now += 70
    bar.advance(outer, 2)
    inner = bar.add_task("distilling distilled-L3", total=200)
    clock.now += 40
    bar.update(inner, advance=45, description="distilling distilled-L3 (val loss 0.0123)")
    bar.add_task("measuring the fp32 reference", total=None)
    assert bar.status_line() == ("[1:50] building variants 2/5 (1:50); distilling distilled-L3 (val loss 0.0123) 45/200 (0:40); "
                                 "measuring the fp32 reference (0:00)")
    bar.remove_task(inner)
    bar.update(outer, completed=5)  # finished tasks drop out of the line
    bar.beat()
    assert buf.getvalue() == "[1:50] measuring the fp32 reference (0:00)\n"


def test_a_long_stage_prints_a_line_every_interval_and_a_quick_one_nothing():
    console, buf = _console()
    with LineProgress(console, interval=0.05) as bar:
        bar.add_task("compress: exporting onnx-fp32", total=None)
        time.sleep(0.3)
    lines = buf.getvalue().splitlines()
    assert len(lines) >= 3 and all("compress: exporting onnx-fp32" in line for line in lines)
    console, buf = _console()
    with LineProgress(console, interval=5) as bar:
        bar.add_task("quick", total=1)
    assert buf.getvalue() == ""


def test_a_lasting_display_leaves_its_final_state_and_verbose_names_each_start():
    console, buf = _console()
    with LineProgress(console, interval=60, transient=False, verbose=True) as bar:
        t = bar.add_task("compress: running", total=1)
        bar.update(t, completed=1, description="compress: [green]done[/green] 3 variants")
    assert buf.getvalue().splitlines() == ["compress: running ...", "compress: done 3 variants"]


def test_compress_to_a_log_shows_progress_while_it_works(tmp_path, monkeypatch):
    """The CLI end to end: stderr is not a terminal under CliRunner; the interval is shortened for the test."""
    import toolkit.compress as compress_mod
    from tests.conftest import EXAMPLE_SPEC, run_cli
    from toolkit.errors import InputError

    def slow_build(loaded, out_dir, names, reporter, settings=None):
        with reporter.stage("building variants", total=3) as stage:
            stage.advance()
            time.sleep(0.35)
        raise InputError("stopped by the test")

    monkeypatch.setattr(progress_lines, "INTERVAL_S", 0.1)
    monkeypatch.setattr(compress_mod, "build_variants", slow_build)
    result = run_cli("compress", EXAMPLE_SPEC, "--out", tmp_path / "out")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    beats = [line for line in lines if line.endswith(")") and "building variants 1/3" in line]
    assert len(beats) >= 2, lines
    assert lines[-1] == "error: stopped by the test"


@pytest.mark.parametrize("transient", [True, False])
def test_progress_is_plain_lines_off_a_terminal(transient, monkeypatch):
    from toolkit.cli import output

    monkeypatch.setattr(output, "stderr_console", lambda: _console()[0])
    assert isinstance(output.progress(transient=transient), LineProgress)
