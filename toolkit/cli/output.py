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


def emit(data: Any, render: Callable[[], None] | None = None) -> None:
    """Print a command's result: JSON when --json was given, else call ``render`` (human output)."""
    if settings().json or render is None:
        if hasattr(data, "model_dump"):
            data = data.model_dump(mode="json")
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        render()


def progress(*, transient: bool = True):
    """A rich progress display on stderr. A transient one is shown only on a terminal: a pipe or log would get just
    its last frame, a blank line once the stages are done. A lasting one (`run`) leaves its final frame in logs."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=transient,
        disable=transient and not stderr_console().is_terminal,
    )


def handle_errors(fn: Callable[[], Any], debug: bool = False) -> int:
    """Run ``fn`` and map every outcome to an exit code; tracebacks only with --debug."""
    try:
        result = fn()
        return int(result) if isinstance(result, int) else ExitCode.OK
    except LeanserveError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return int(exc.exit_code)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return ExitCode.INTERRUPTED
    except click.UsageError as exc:  # wrong flags or arguments: the same one-line form as every other error
        click.echo(f"error: {exc.format_message()}", err=True)
        ctx = exc.ctx
        while ctx is not None and ctx.parent is not None and getattr(ctx.command, "hidden", False):
            ctx = ctx.parent  # a hidden default subcommand (`report build`): point at the command users type
        where = ctx.command_path if ctx is not None else "leanserve"
        click.echo(f"hint: see `{where} --help` for the usage and examples", err=True)
        return ExitCode.BAD_INPUT
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted; nothing half-written was left behind", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a clean message
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: rerun with --debug for a traceback and report it", err=True)
        return ExitCode.FAILURE
