"""``leanserve deploy PLAN --emit DIR``: check a plan's deployment and write its Pulumi stack file."""

from __future__ import annotations

from pathlib import Path

from toolkit.artifacts.common import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.deploy.model_artifact import inspect_model_artifact
from toolkit.deploy.stack_config import EmitResult, build_stack_config, relative_ref, run_checks, write_stack_file
from toolkit.deploy.triton_images import DEFAULT_VERSION
from toolkit.platforms import platform_for
from toolkit.errors import InputError


def default_model_path(plan_path: str | Path) -> Path:
    """Where model.tar.gz is looked for when --model is not given: next to plan.json."""
    p = Path(plan_path)
    return (p if p.is_dir() else p.parent) / "model.tar.gz"


ONNX_IN_PACKAGE = "model_repository/model/1/model.onnx"


def _package_manifest(path: Path):
    """The manifest.json of the package ``path`` is (a package folder) or lies in (its model.tar.gz), if any."""
    from toolkit.package.check import locate
    from toolkit.package.llm.manifest import is_llm_package

    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        return None
    if is_llm_package(folder) and (folder / "manifest.json").is_file():
        from toolkit.package.llm.manifest import LLMManifest

        return load_artifact(LLMManifest, folder / "manifest.json")
    return locate(folder)[2]


def _served_sha256(manifest) -> str | None:
    """What names the served model in an image-only (Kubernetes) stack: the packaged ONNX file, or for an LLM package
    the sha256 over every packaged file's sha256 (weights, engine arguments, config), which changes with any of them."""
    import hashlib

    onnx = manifest.files.get(ONNX_IN_PACKAGE)
    if onnx is not None:
        return onnx.sha256
    if getattr(manifest, "engine", None) is None or not manifest.files:
        return None
    listing = "\n".join(f"{name} {entry.sha256}" for name, entry in sorted(manifest.files.items()))
    return hashlib.sha256(listing.encode()).hexdigest()


def emit_stack(
    plan_path: str | Path,
    out_dir: str | Path,
    stack: str | None = None,
    *,
    model_path: str | Path | None = None,
    image: str | None = None,
    triton_version: str = DEFAULT_VERSION,
    triton_model: str | None = None,
    model_sha256: str | None = None,
    cluster: str | None = None,
) -> EmitResult:
    """Load plan.json, verify model.tar.gz, run the project's checks and write ``DIR/Pulumi.<stack>.yaml``.

    Nothing is written when a check fails. The model path in the file is relative to DIR, which is meant
    to be the Pulumi project folder (``infra/`` or a copy of it).
    """
    plan = load_artifact(PlanFile, plan_path)
    given = Path(model_path) if model_path else None
    manifest = _package_manifest(given) if given else None
    in_image = plan.chosen is not None and platform_for(plan.chosen.platform).model_in_image  # no model.tar.gz: the image holds it
    if manifest is not None and plan.chosen is not None and manifest.variant != plan.chosen.variant:
        raise InputError(
            f"{given} was packaged from variant '{manifest.variant}', but the plan chose '{plan.chosen.variant}'",
            hint=f"package the chosen variant (leanserve package VARIANTS_DIR --variant {plan.chosen.variant} --target ...) and pass that",
        )
    if in_image and not model_sha256 and manifest is not None:
        model_sha256 = _served_sha256(manifest)  # the image serves these files: name them in the stack
    if model_sha256 and not plan.model_artifact_sha256 and in_image:
        # the model is served from the image: the caller names the packaged model's sha256
        plan = plan.model_copy(update={"model_artifact_sha256": model_sha256})
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--emit needs a folder, and {out} is a file", hint="pass the Pulumi project folder, e.g. infra/")
    stack = stack or plan.name
    model = None
    ref = None
    if plan.chosen is not None and not in_image:
        candidate = (given / "model.tar.gz" if given.is_dir() else given) if given else default_model_path(plan_path)
        if model_path is None and not candidate.is_file():
            raise InputError(
                f"no model.tar.gz given and none next to the plan ({candidate})",
                hint="pass --model PATH to the model.tar.gz written by `leanserve package --target sagemaker`",
            )
        model = inspect_model_artifact(candidate, plan.model_artifact_sha256, triton_model)
        ref = relative_ref(model.path, out)
    cfg, resolved, notes = build_stack_config(plan, stack, model=model, model_ref=ref, image=image, triton_version=triton_version, triton_model_name=triton_model,
                                           manifest=manifest, cluster=cluster)
    done = run_checks(cfg)
    if model is not None:
        done.insert(0, f"model.tar.gz sha256 {model.sha256[:12]}… matches the plan" if plan.model_artifact_sha256 else f"model.tar.gz sha256 {model.sha256[:12]}… recorded (the plan names none)")
    if manifest is not None:
        done.insert(0, f"package built from variant '{manifest.variant}', the plan's choice")
    path, changed, diff = write_stack_file(cfg, out)
    return EmitResult(config=cfg, path=path, changed=changed, diff=diff, image_source=resolved.source if resolved else None, notes=notes, checks=done)
