"""`leanserve package`: one variant of variants.json → a Triton model repository, container context, manifest.

The entry point is :func:`build_package` (``package build``); :func:`check_repository` is what
``package check`` runs::

    from toolkit.package import PackageOptions, build_package
    result = build_package("out/compress", "onnx-int8", "out/package", PackageOptions(target="cpu"))

Modules: ``builder.py`` (the entry point), ``configs.py`` and ``pbtxt.py`` (the models of the repository and
their ``config.pbtxt``), ``container.py`` (build context from ``containers/``), ``sagemaker.py``
(model.tar.gz), ``manifest.py`` (``manifest.json`` with every file's sha256), ``check.py``, ``onnx_io.py``,
and ``models/`` (the Python-backend models copied into the repository). Names are imported on first use.
"""

from __future__ import annotations

__all__ = ["PackageOptions", "build_package", "check_repository"]


def __getattr__(name: str):
    if name in ("PackageOptions", "build_package"):
        from toolkit.package import builder

        return getattr(builder, name)
    if name == "check_repository":
        from toolkit.package.check import check_repository

        return check_repository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
