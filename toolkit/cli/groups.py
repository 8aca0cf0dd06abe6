"""Command groups whose first argument may be a file: `package DIR ...` means `package build DIR ...`."""

from __future__ import annotations

import difflib
from pathlib import Path

import click


class DefaultCommandGroup(click.Group):
    """Runs ``default_command`` unless the first argument names a subcommand. A first word that is neither an
    existing path nor a subcommand, but close to one (a typo like `chek`), gets a "did you mean" instead of
    being taken for a file name."""

    default_command = ""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            first = args[0]
            if not first.startswith("-") and not Path(first).exists():
                close = difflib.get_close_matches(first, sorted(self.commands), n=1, cutoff=0.6)
                if close:
                    raise click.UsageError(f"'{first}' is neither a file nor a command; did you mean '{close[0]}'?", ctx)
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)
