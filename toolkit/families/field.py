"""``Task``: the pydantic type of every ``task`` field (``leanserve.yaml``'s ``model.task``, variants.json,
manifest.json), checked against :data:`toolkit.families.REGISTRY` when a value is read.

A family registered at run time (``toolkit.families.register``) is accepted at once; the JSON schema
lists the families registered when this module was imported (the built-in ones).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from toolkit.families import BUILTIN_TASKS, REGISTRY, tasks


def check_task(value: str) -> str:
    """``value`` when a family is registered for it; else a validation error with a suggestion."""
    if value not in REGISTRY:
        from toolkit.suggest import did_you_mean

        raise PydanticCustomError(
            "unknown_task", "unknown task{tip} (tasks: {choices})",
            {"tip": did_you_mean(value, tasks()), "choices": ", ".join(tasks())},
        )
    return value


Task = Annotated[str, AfterValidator(check_task), WithJsonSchema({"enum": list(BUILTIN_TASKS), "type": "string"})]

__all__ = ["Task", "check_task"]
