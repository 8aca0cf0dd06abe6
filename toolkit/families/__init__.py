"""Model families: what kind of model it is and what a request means. Ask the registry, not ``task`` strings.

    from toolkit.families import family_for
    fam = family_for(spec.model.task)      # EmbeddingFamily / ClassifierFamily
    fam.capacity_unit, fam.sla(spec.sla)

Registering a family is one entry in :data:`REGISTRY` (a module path, imported on first use).
Every ``task`` field (the spec, variants.json, manifest.json) is typed :data:`toolkit.families.field.Task`,
which accepts exactly the registered tasks.
"""

from __future__ import annotations

import importlib

from toolkit.families.base import Family

# task -> "module:Class"; modules are imported lazily so the CLI starts fast
REGISTRY: dict[str, str] = {
    "feature-extraction": "toolkit.families.embedding:EmbeddingFamily",
    "text-classification": "toolkit.families.classifier:ClassifierFamily",
}
_LOADED: dict[str, Family] = {}


def tasks() -> tuple[str, ...]:
    """The ``model.task`` values the registry knows, in registration order."""
    return tuple(REGISTRY)


def register(task: str, target: str | Family) -> None:
    """Add (or replace) a family: ``target`` is a Family instance or a 'module:Class' path."""
    _LOADED.pop(task, None)
    if isinstance(target, Family):
        _LOADED[task] = target
        REGISTRY[task] = f"{type(target).__module__}:{type(target).__name__}"
    else:
        REGISTRY[task] = target


def unregister(task: str) -> None:
    REGISTRY.pop(task, None)
    _LOADED.pop(task, None)


def family_for(task: str) -> Family:
    """The family registered for ``task``; an InputError with a suggestion for an unknown one."""
    if task in _LOADED:
        return _LOADED[task]
    if task not in REGISTRY:
        from toolkit.errors import InputError
        from toolkit.suggest import did_you_mean

        raise InputError(f"unknown model task '{task}'{did_you_mean(task, tasks())}", hint=f"tasks: {', '.join(tasks())}")
    module, cls = REGISTRY[task].split(":")
    fam = getattr(importlib.import_module(module), cls)()
    _LOADED[task] = fam
    return fam


__all__ = ["Family", "REGISTRY", "family_for", "register", "tasks", "unregister"]
