"""The stack configuration that `leanserve deploy --emit` writes, read back with leanserve's own schema.

The models are :mod:`toolkit.deploy.stack_schema` (the Pulumi program runs with leanserve installed), so
writer and reader cannot drift. ``from_mapping`` is pure (tests and tools can call it on a dict);
``load`` reads the running stack's ``pulumi.Config``. Both raise ``ConfigError`` with a one-line message.
"""

from __future__ import annotations

from typing import Any, Mapping

from toolkit.deploy.stack_schema import NAMESPACE, StackConfigError, StackSettings, parse_settings

ConfigError = StackConfigError

#: Keys of the namespace as written in the stack file: sections (JSON objects in Pulumi's config) and scalars.
OBJECT_KEYS = ("model", "endpoint", "autoscaling", "alarms", "deployment", "kubernetes", "llm", "tags")
SCALAR_KEYS = tuple(f.alias or n for n, f in StackSettings.model_fields.items() if (f.alias or n) not in OBJECT_KEYS)


def from_mapping(values: Mapping[str, Any]) -> StackSettings:
    """Settings from ``{"name": ..., "autoscaling": {...}, ...}`` (keys without the namespace)."""
    return parse_settings(values)


def load() -> StackSettings:
    """Read the running stack's configuration (inside a Pulumi program)."""
    import pulumi

    cfg = pulumi.Config(NAMESPACE)
    values: dict[str, Any] = {k: cfg.get(k) for k in SCALAR_KEYS}
    values.update({k: cfg.get_object(k) for k in OBJECT_KEYS})
    return from_mapping(values)
