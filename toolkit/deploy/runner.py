"""Run the infra/ Pulumi project through Pulumi's Automation API (preview, up, status, destroy).

The Automation API drives the Pulumi CLI, so every operation first checks that ``pulumi`` is on
PATH and otherwise fails with one line and the install hint. Pulumi's own progress goes to the
``on_output`` callback (the CLI prints it on stderr); results come back as plain dicts.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolkit.deploy.emit import emit_stack
from toolkit.deploy.stack_config import check_stack_name
from toolkit.deploy.triton_images import DEFAULT_VERSION
from toolkit.errors import ExternalToolError, InputError, require

INSTALL_HINT = (
    "install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, or see https://www.pulumi.com/docs/iac/download-install/), "
    "or write the stack file with `leanserve deploy PLAN --emit infra/` and run pulumi in CI"
)

Output = Callable[[str], None]


def pulumi_cli() -> str:
    """Path of the ``pulumi`` executable, or ExternalToolError (exit 1) with the install hint."""
    path = shutil.which("pulumi")
    if not path:
        raise ExternalToolError("the Pulumi CLI is not on PATH (`leanserve deploy --stack` runs it through Pulumi's Automation API)", hint=INSTALL_HINT)
    return path


def infra_dir(explicit: str | Path | None = None) -> Path:
    """The Pulumi project folder: --infra, else leanserve's own ``infra/`` (the checkout's, or the copy in the wheel)."""
    from toolkit.assets import INFRA

    d = Path(explicit) if explicit else INFRA
    if not (d / "Pulumi.yaml").is_file():
        raise InputError(f"no Pulumi project (Pulumi.yaml) in {d}", hint="pass --infra DIR, the folder that holds leanserve's Pulumi.yaml and __main__.py")
    return d


def packaged_infra_note(explicit: str | Path | None) -> str | None:
    """A warning when --infra is not given and the default project is the copy inside an installed wheel
    (in a checkout it is a link to the repository's infra/, where stack files belong)."""
    from toolkit import assets

    if explicit or assets.INFRA.is_symlink():
        return None
    return (f"using the Pulumi project inside the installed leanserve ({assets.INFRA}), so Pulumi writes stack files there; "
            "run `leanserve deploy init infra/` once and pass --infra infra/ to keep them in your repository")


def init_project(dest: str | Path) -> Path:
    """Copy leanserve's Pulumi project (program, components, example stacks) to ``dest``, which must not exist
    or be empty: the folder to keep in your repository and pass as ``--infra``. Written atomically."""
    from toolkit.assets import INFRA
    from toolkit.fileio import atomic_dir

    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target} already exists and is not an empty folder", hint="choose a new folder, e.g. `leanserve deploy init infra/`")
    if target.is_dir():
        target.rmdir()  # an empty folder: replaced by the copy
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    with atomic_dir(target, replace=False) as tmp:
        shutil.copytree(INFRA, tmp, ignore=ignore, dirs_exist_ok=True)
        os.chmod(tmp, 0o755)
    return target


def select_stack(stack: str, work_dir: Path):
    """Create or select ``stack`` of the project in ``work_dir`` (a LocalWorkspace on the real CLI)."""
    auto = require("pulumi.automation", "infra")
    env = {
        "PULUMI_PYTHON_CMD": sys.executable,  # run the program with this interpreter (it has leanserve[infra])
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    opts = auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=env)
    try:
        return auto.create_or_select_stack(stack_name=stack, work_dir=str(work_dir), opts=opts)
    except Exception as exc:  # noqa: BLE001 - Automation API errors carry the CLI's stderr
        raise ExternalToolError(f"pulumi could not select stack '{stack}': {_first_line(exc)}", hint="check `pulumi login` (or PULUMI_BACKEND_URL) and the stack name") from None


def preflight(stack: str, infra: str | Path | None = None) -> Path:
    """Everything that must hold before Pulumi runs: a valid stack name, the CLI, the project folder."""
    check_stack_name(stack)
    pulumi_cli()
    return infra_dir(infra)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("error:") or line.startswith("stderr:"):
            return line.split(":", 1)[1].strip() or line
    return text.splitlines()[0] if text else type(exc).__name__


def _run(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - see above
        raise ExternalToolError(f"pulumi {what} failed: {_first_line(exc)}", hint="read Pulumi's output above; rerun with --debug for the full error") from None


def _outputs(stack) -> dict[str, Any]:
    return {k: ("[secret]" if v.secret else v.value) for k, v in sorted(stack.outputs().items())}


def deploy(
    plan_path: str | Path,
    stack: str,
    *,
    preview: bool = False,
    infra: str | Path | None = None,
    model_path: str | Path | None = None,
    image: str | None = None,
    triton_version: str = DEFAULT_VERSION,
    triton_model: str | None = None,
    cluster: str | None = None,
    on_output: Output | None = None,
) -> dict[str, Any]:
    """Write ``infra/Pulumi.<stack>.yaml`` from the plan, then ``pulumi preview`` or ``pulumi up``."""
    work_dir = preflight(stack, infra)
    emitted = emit_stack(plan_path, work_dir, stack, model_path=model_path, image=image, triton_version=triton_version, triton_model=triton_model,
                         cluster=cluster)
    s = select_stack(stack, work_dir)
    if preview:
        result = _run("preview", lambda: s.preview(on_output=on_output))
        return {"stack": stack, "operation": "preview", "stack_file": str(emitted.path), "changes": dict(sorted((result.change_summary or {}).items()))}
    result = _run("up", lambda: s.up(on_output=on_output))
    return {
        "stack": stack,
        "operation": "up",
        "stack_file": str(emitted.path),
        "result": result.summary.result,
        "changes": dict(sorted((result.summary.resource_changes or {}).items())),
        "outputs": {k: ("[secret]" if v.secret else v.value) for k, v in sorted(result.outputs.items())},
    }


def status(stack: str, *, infra: str | Path | None = None) -> dict[str, Any]:
    """The stack's last operation and its outputs."""
    s = select_stack(stack, preflight(stack, infra))
    info = _run("stack info", s.info)
    last = None
    if info is not None:
        last = {
            "kind": info.kind,
            "result": info.result,
            "started": str(info.start_time),
            "ended": str(info.end_time) if info.end_time else None,
            "changes": dict(sorted((info.resource_changes or {}).items())),
        }
    return {"stack": stack, "last_update": last, "outputs": _run("stack output", lambda: _outputs(s))}


def destroy(stack: str, *, infra: str | Path | None = None, on_output: Output | None = None) -> dict[str, Any]:
    """``pulumi destroy``: delete every resource of the stack (the caller confirms first)."""
    s = select_stack(stack, preflight(stack, infra))
    result = _run("destroy", lambda: s.destroy(on_output=on_output))
    return {"stack": stack, "operation": "destroy", "result": result.summary.result, "changes": dict(sorted((result.summary.resource_changes or {}).items()))}
