"""`leanserve version`."""

from __future__ import annotations

import click

from toolkit.cli.output import emit


@click.command()
def version() -> None:
    """Print the version of leanserve, Python and each optional extra's key package.

    \b
    Examples:
      leanserve version
      leanserve --json version
    """
    from toolkit.versions import installed_versions

    info = installed_versions()

    def render() -> None:
        click.echo(f"leanserve {info['leanserve']} (Python {info['python']})")
        for name, ver in info["packages"].items():
            click.echo(f"  {name:<18} {ver or 'not installed'}")

    emit(info, render)
