"""model.tar.gz for SageMaker: verify it is the artifact the plan names, find the Triton model to serve."""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ArtifactError, InputError
from toolkit.fileio import sha256_file


@dataclass(frozen=True)
class ModelArtifact:
    path: Path
    sha256: str
    triton_model_name: str


_ENSEMBLE = re.compile(r'^\s*platform\s*:\s*"ensemble"', re.MULTILINE)


def _triton_models(path: Path) -> dict[str, bool]:
    """Top-level model folders that hold a config.pbtxt -> whether the model is an ensemble."""
    models: dict[str, bool] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if len(parts) == 2 and parts[1] == "config.pbtxt" and member.isfile():
                    fh = tar.extractfile(member)
                    text = fh.read(1 << 20).decode("utf-8", "replace") if fh else ""
                    models[parts[0]] = bool(_ENSEMBLE.search(text))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"{path} is not a readable tar archive: {exc}", hint="pass the model.tar.gz written by `leanserve package --target sagemaker`") from None
    return models


def inspect_model_artifact(path: str | Path, expected_sha256: str | None = None, triton_model: str | None = None) -> ModelArtifact:
    """Hash ``path``, compare with the plan's sha256, and pick the Triton model SageMaker should serve.

    SageMaker's Triton container wants the model repository at the root of model.tar.gz; with several
    models, SAGEMAKER_TRITON_DEFAULT_MODEL_NAME names the one to serve (the ensemble when there is one).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"model artifact not found: {p}", hint="pass --model PATH to the model.tar.gz written by `leanserve package --target sagemaker`")
    digest = sha256_file(p)
    if expected_sha256 and digest != expected_sha256:
        raise ArtifactError(
            f"{p}: sha256 {digest[:12]}… differs from the plan's model_artifact_sha256 {expected_sha256[:12]}…",
            hint="pass the model.tar.gz the plan was made for, or re-run `leanserve plan` on this package",
        )
    models = _triton_models(p)
    if triton_model:
        if models and triton_model not in models:
            raise InputError(f"{p}: no Triton model '{triton_model}' in the archive (found: {', '.join(sorted(models))})", hint="pass one of the models found with --triton-model")
        return ModelArtifact(p, digest, triton_model)
    if not models:
        raise InputError(f"{p}: no Triton model (<name>/config.pbtxt) at the root of the archive", hint="package with `leanserve package --target sagemaker`, which puts the model repository at the root")
    if len(models) == 1:
        return ModelArtifact(p, digest, next(iter(models)))
    ensembles = sorted(name for name, is_ensemble in models.items() if is_ensemble)
    if len(ensembles) == 1:
        return ModelArtifact(p, digest, ensembles[0])
    raise InputError(f"{p}: {len(models)} Triton models and no single ensemble ({', '.join(sorted(models))})", hint="name the model to serve with --triton-model NAME")
