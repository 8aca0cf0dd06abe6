"""Model families: what kind of model it is and what a request means. Ask the registry, not ``task`` strings.

    from toolkit.families import family_for
    fam = family_for(spec.model.task)      # EmbeddingFamily / ClassifierFamily
    fam.capacity_unit, fam.sla(spec.sla)

Registering a family is one entry in :data:`REGISTRY` (a module path, imported on first use).
Every ``task`` field (the spec, variants.json, manifest.json) is typed :data:`toolkit.families.field.Task`,
which accepts exactly the registered tasks.
"""

from __future__ import annotations

from toolkit.families.base import Family
from toolkit.registry import Registry

# task -> "module:Class"; modules are imported lazily so the CLI starts fast
FAMILIES: Registry[Family] = Registry("model task", {
    "feature-extraction": "toolkit.families.embedding:EmbeddingFamily",
    "text-classification": "toolkit.families.classifier:ClassifierFamily",
    "text-generation": "toolkit.families.generative:GenerativeFamily",
})
REGISTRY = FAMILIES.entries  # the task -> "module:Class" mapping itself
BUILTIN_TASKS = FAMILIES.names()  # what ships (the committed JSON schema lists these)


def tasks() -> tuple[str, ...]:
    """The ``model.task`` values the registry knows, in registration order."""
    return FAMILIES.names()


def register(task: str, target: str | Family) -> None:
    """Add (or replace) a family: ``target`` is a Family instance or a 'module:Class' path."""
    FAMILIES.register(task, target)


def unregister(task: str) -> None:
    FAMILIES.unregister(task)


def family_for(task: str) -> Family:
    """The family registered for ``task``; an InputError with a suggestion for an unknown one."""
    return FAMILIES.get(task)


__all__ = ["FAMILIES", "Family", "REGISTRY", "family_for", "register", "tasks", "unregister"]
