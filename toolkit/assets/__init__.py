"""Files that ship inside the wheel: the container templates (``containers/``) and the Pulumi project
(``infra/``). In a source checkout these are symbolic links to the top-level folders."""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
CONTAINERS = ASSETS / "containers"
INFRA = ASSETS / "infra"
