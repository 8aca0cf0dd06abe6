"""Command groups whose first argument may be a file: `package DIR ...` means `package build DIR ...`."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.suggest import did_you_mean


class DefaultCommandGroup(click.Group):
    """Runs ``default_command`` unless the first argument names a subcommand. A first word that is neither an
    existing path nor a subcommand, but close to one (a typo like `chek`), gets a "did you mean" instead of
    being taken for a file name."""

    default_command = ""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            first = args[0]
            if not first.startswith("-") and not Path(first).exists():
                tip = did_you_mean(first, sorted(self.commands), cutoff=0.6)
                if tip:
                    raise click.UsageError(f"'{first}' is neither a file nor a command{tip}", ctx)
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)
