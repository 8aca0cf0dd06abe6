"""The base of every ``leanserve.yaml`` model and the field helper (shared by :mod:`toolkit.spec` and its sections)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)  # .inf, 1e400, NaN: refused


def _f(description: str, example, **kw):
    """A Field with a description and one example (every spec field has both)."""
    return Field(description=description, examples=[example], **kw)
