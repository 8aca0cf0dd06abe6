"""Versions of leanserve and the packages behind each optional extra (read from metadata, not imported)."""

from __future__ import annotations

import platform
from importlib import metadata

from toolkit import __version__

KEY_PACKAGES = [
    "torch", "transformers", "optimum-onnx", "onnx", "onnxruntime", "nvidia-pytriton", "tritonclient",
    "boto3", "pulumi", "pulumi-aws", "pulumi-kubernetes", "matplotlib", "pydantic", "click",
]


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def installed_versions() -> dict:
    return {
        "leanserve": __version__,
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in KEY_PACKAGES},
    }
