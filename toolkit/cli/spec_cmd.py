"""`leanserve spec check FILE` and `leanserve spec schema`."""

from __future__ import annotations

import json

import click

from toolkit.cli.output import emit


@click.group()
def spec() -> None:
    """Validate a leanserve.yaml or print its JSON schema."""


@spec.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def check(file: str) -> None:
    """Validate FILE and print a normalised summary (all defaults filled in).

    Exits 2 with one line naming the key, its line and a suggestion when the file is wrong.

    \b
    Examples:
      leanserve spec check examples/minilm/leanserve.yaml
      leanserve --json spec check leanserve.yaml
    """
    from toolkit.spec import load_spec
    from toolkit.spec_summary import summary_lines

    loaded = load_spec(file)
    data = {"file": str(loaded.path), "spec_sha256": loaded.sha256, "spec": loaded.spec.model_dump(mode="json")}

    def render() -> None:
        click.echo(f"{file}: valid (sha256 {loaded.sha256[:12]})")
        for line in summary_lines(loaded.spec):
            click.echo(f"  {line}")

    emit(data, render)


@spec.command("schema")
def schema() -> None:
    """Print the JSON schema of leanserve.yaml (for editors and CI validation).

    \b
    Example:
      leanserve spec schema > leanserve.schema.json
    """
    from toolkit.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))
