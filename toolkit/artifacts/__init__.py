"""Versioned pydantic models of the files stages hand to each other, and one way to read/write them.

- ``variants.json`` (compress)  -> :mod:`toolkit.artifacts.variants`
- ``profiles.json`` (bench)     -> :mod:`toolkit.artifacts.profiles`
- ``plan.json`` (plan)          -> :mod:`toolkit.artifacts.plan`

Every file carries a header (schema version, tool version, spec hash, creation time). Writes are
atomic; reads refuse an unknown schema version with a clear error.
"""

from toolkit.artifacts.common import (
    Artifact,
    Estimated,
    MachineInfo,
    Measured,
    Provenance,
    load_artifact,
    save_artifact,
)

__all__ = ["Artifact", "Estimated", "MachineInfo", "Measured", "Provenance", "load_artifact", "save_artifact"]
