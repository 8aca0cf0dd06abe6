"""Render the container build context from the templates in ``containers/``, and build it where Docker runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from toolkit.errors import ExternalToolError, InputError

#: The tritonserver release the local `serve` runs (the nvidia-pytriton wheel) and its NGC container tag.
TRITON_VERSION = "2.51.0"
NGC_TAG = "24.10"
NGC_IMAGE = f"nvcr.io/nvidia/tritonserver:{NGC_TAG}-py3"
#: Numeric uid/gid of the unprivileged user in every image.
CONTAINER_UID = 10001

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def templates_dir() -> Path:
    """The templates of ``containers/``, shipped in the wheel as ``toolkit/assets/containers``."""
    from toolkit.assets import CONTAINERS

    if not (CONTAINERS / "triton").is_dir():  # pragma: no cover - only in a broken install
        raise ExternalToolError(f"container templates not found at {CONTAINERS}", hint="reinstall leanserve (pip install --force-reinstall leanserve)")
    return CONTAINERS


def sagemaker_image(region: str) -> str:
    """The SageMaker Triton image of ``region`` (one table for package and deploy: toolkit.deploy.triton_images)."""
    from toolkit.deploy.triton_images import image_from_table

    return image_from_table(region).uri


def render(template: str, values: dict[str, object], source: str = "template") -> str:
    """Replace ``{{ key }}`` placeholders; unknown or unused keys are errors (templates and code stay in step)."""
    used: set[str] = set()

    def sub(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            raise InputError(f"{source}: unknown placeholder '{{{{ {key} }}}}'", hint=f"known: {', '.join(sorted(values))}")
        used.add(key)
        return str(values[key])

    out = _PLACEHOLDER.sub(sub, template)
    unused = set(values) - used
    if unused:
        raise InputError(f"{source}: value(s) {', '.join(sorted(unused))} not used by the template", hint="update the template or the renderer")
    return out


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a folder as hard links where possible (no second copy of the model bytes), else real copies."""
    for p in sorted(src.rglob("*")):
        target = dst / p.relative_to(src)
        if p.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, target)
            except OSError:
                shutil.copy2(p, target)


def write_context(out: Path, repository: Path, *, target: str, device: str, name: str, variant: str, ensemble: str,
                  region: str) -> tuple[Path, str]:
    """Write ``out`` (the build context) and return it with the base image used."""
    tdir = templates_dir()
    out.mkdir(parents=True, exist_ok=True)
    if target == "sagemaker":
        image = sagemaker_image(region)
        values = {"name": name, "variant": variant, "device": device, "image": image, "uid": CONTAINER_UID, "ensemble": ensemble}
        (out / "Dockerfile").write_text(render((tdir / "sagemaker" / "Dockerfile.tmpl").read_text(), values, "sagemaker/Dockerfile.tmpl"))
    else:
        image = NGC_IMAGE
        values = {"name": name, "variant": variant, "target": target, "image": image, "uid": CONTAINER_UID,
                  "gpus_flag": "--gpus=all " if device == "gpu" else ""}
        (out / "Dockerfile").write_text(render((tdir / "triton" / "Dockerfile.tmpl").read_text(), values, "triton/Dockerfile.tmpl"))
        entry = out / "entrypoint.sh"
        entry.write_text(render((tdir / "triton" / "entrypoint.sh.tmpl").read_text(), {"ensemble": ensemble}, "triton/entrypoint.sh.tmpl"))
        entry.chmod(0o755)
        _link_tree(repository, out / "model_repository")
    shutil.copyfile(tdir / "requirements.txt", out / "requirements.txt")
    shutil.copyfile(tdir / "dockerignore", out / ".dockerignore")
    return out, image


def docker_build(context: Path, tag: str, timeout_s: float = 3600) -> str:
    """Run ``docker build`` when an engine answers; otherwise one clear error (nothing else is attempted)."""
    docker = shutil.which("docker")
    manual = f"docker build -t {tag} {context}"
    if docker is None:
        raise ExternalToolError("--build needs Docker, and no `docker` command is installed here",
                                hint=f"the build context is ready; build it where Docker runs: {manual}")
    probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=15)
    if probe.returncode != 0:
        raise ExternalToolError("--build needs a Docker engine, and none answers here (`docker info` failed)",
                                hint=f"start Docker, or build the ready context elsewhere: {manual}")
    result = subprocess.run([docker, "build", "-t", tag, str(context)], timeout=timeout_s)
    if result.returncode != 0:
        raise ExternalToolError(f"docker build failed (exit {result.returncode})", hint="see the build log above")
    return tag
