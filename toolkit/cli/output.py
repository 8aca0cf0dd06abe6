"""Output and error handling shared by all commands.

Results go to stdout (rich tables, or JSON with --json); logs, progress and errors go to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from toolkit.errors import ExitCode, LeanserveError


@dataclass
class Settings:
    json: bool = False
    verbose: int = 0
    debug: bool = False


def settings() -> Settings:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Settings) if ctx else None
    return obj or Settings()


def stdout_console():
    from rich.console import Console

    return Console(soft_wrap=True)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def log(message: str, level: int = 0) -> None:
    """A log line on stderr (shown when -v is given at least ``level`` times)."""
    if settings().verbose >= level:
        stderr_console().print(message, highlight=False)


def warn(message: str) -> None:
    """A warning on stderr, always shown."""
    stderr_console().print(f"[yellow]warning:[/yellow] {message}", highlight=False)


_RUN = {"emitted": False}  # whether this invocation already printed its result (one JSON document on stdout)


def set_json(ctx: click.Context, param, value: bool) -> None:
    """Callback of the `--json` flag every subcommand also accepts (`leanserve spec check x.yaml --json`)."""
    if value:
        ctx.ensure_object(Settings).json = True


def result_printed() -> None:
    """Note that a command printed its result on stdout by itself (an error after it adds no second JSON document)."""
    _RUN["emitted"] = True


def emit(data: Any, render: Callable[[], None] | None = None) -> None:
    """Print a command's result: JSON when --json was given, else call ``render`` (human output)."""
    _RUN["emitted"] = True
    if settings().json or render is None:
        if hasattr(data, "model_dump"):
            data = data.model_dump(mode="json")
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        render()


def progress(*, transient: bool = True):
    """A progress display on stderr. On a terminal, rich's live bars (a transient one vanishes when done). Anywhere
    else (a pipe, a log, CI) plain lines: one every 30 s while work runs, so a long stage never looks hung; a
    lasting display (`run`) also leaves its final state."""
    console = stderr_console()
    if not console.is_terminal:
        from toolkit.cli.progress_lines import LineProgress

        return LineProgress(console, verbose=settings().verbose > 0, transient=transient)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )


def _report(message: str, hint: str | None, code: int, as_json: bool, prefix: str = "error: ") -> int:
    """An error as one `error:` line and one `hint:` line on stderr; with --json also as a JSON object on stdout
    (unless the command already printed its result there: stdout stays one JSON document)."""
    click.echo(f"{prefix}{message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    if as_json and not _RUN["emitted"]:
        click.echo(json.dumps({"error": message, "hint": hint, "exit_code": int(code)}, indent=2))
    return int(code)


def _interrupted(as_json: bool) -> int:
    return _report("interrupted; nothing half-written was left behind", None, ExitCode.INTERRUPTED, as_json, prefix="")


def handle_errors(fn: Callable[[], Any], debug: bool = False, as_json: bool = False) -> int:
    """Run ``fn`` and map every outcome to an exit code; tracebacks only with --debug."""
    _RUN["emitted"] = False
    try:
        result = fn()
        return int(result) if isinstance(result, int) else ExitCode.OK
    except LeanserveError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        return _report(exc.message, exc.hint, exc.exit_code, as_json)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):  # Click turns Ctrl-C into Abort
            return _interrupted(as_json)
        return _report("aborted", None, ExitCode.INTERRUPTED, as_json, prefix="")  # a confirmation answered no
    except click.UsageError as exc:  # wrong flags or arguments: the same one-line form as every other error
        ctx = exc.ctx
        while ctx is not None and ctx.parent is not None and getattr(ctx.command, "hidden", False):
            ctx = ctx.parent  # a hidden default subcommand (`report build`): point at the command users type
        where = ctx.command_path if ctx is not None else "leanserve"
        return _report(exc.format_message(), f"see `{where} --help` for the usage and examples", ExitCode.BAD_INPUT, as_json)
    except click.ClickException as exc:
        return _report(exc.format_message(), None, exc.exit_code, as_json)
    except KeyboardInterrupt:
        return _interrupted(as_json)
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a clean message
        if debug:
            import traceback

            traceback.print_exc()
        return _report(f"internal error: {type(exc).__name__}: {exc}", "rerun with --debug for a traceback and report it", ExitCode.FAILURE, as_json)
