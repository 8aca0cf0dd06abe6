"""``build_variants``: the library behind ``leanserve compress``.

Order of work: check everything that can be checked cheaply (model folder, variant names and
ranges, text files) → load the fp32 teacher → measure the reference → build each variant into a
temporary folder (export, quantize, distil, prune) → evaluate it on held-out text, time it, hash
it, gate it → move the whole ``variants/`` folder into place and write ``variants.json``.
An error or Ctrl-C leaves the previous output untouched and no partial folder behind.

The settings live in :mod:`toolkit.compress.settings` (re-exported here); the work in
:mod:`toolkit.compress.pipeline`, which does not import this module.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.compress.pipeline import Pipeline
from toolkit.compress.progress import NullReporter
from toolkit.compress.settings import (
    BuildSettings,
    DistillSettings,
    default_threads,
    new_workdir,
)

__all__ = ["BuildSettings", "DistillSettings", "build_variants", "default_threads", "new_workdir"]


def build_variants(loaded_spec, out_dir, variants: list[str] | None = None, progress=None, *, settings: BuildSettings | None = None):
    """Build the spec's variants (or ``variants``) into ``out_dir/variants/<name>/`` and write ``out_dir/variants.json``.

    ``progress`` is a :class:`toolkit.compress.progress.Reporter` (None shows nothing).
    Returns the :class:`toolkit.artifacts.variants.VariantsFile` that was written.
    Raises InputError/ModelError (exit 2) for bad input before any output is touched.
    """
    from toolkit.families import family_for

    family = family_for(loaded_spec.spec.model.task)
    hook = getattr(family, "compress_pipeline", None)  # a family with its own pipeline (text-generation); else the encoder one
    cls = hook() if hook else Pipeline
    return cls(loaded_spec, Path(out_dir), variants, progress or NullReporter(), settings or BuildSettings()).run()
