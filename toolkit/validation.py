"""Turn pydantic validation errors into one-line messages with a location and a "did you mean"."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from toolkit.suggest import closest, did_you_mean


def _unwrap(annotation: Any) -> list[type[BaseModel]]:
    """Model classes reachable from a field annotation (through Optional, list, dict, unions)."""
    found: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            found.append(a)
            continue
        stack.extend(typing.get_args(a))
        origin = typing.get_origin(a)
        if origin is typing.Annotated:
            stack.append(typing.get_args(a)[0])
    return found


def _models_at(root: type[BaseModel], loc: tuple) -> list[type[BaseModel]]:
    """The model classes that could sit at ``loc`` (union members and discriminated tags included)."""
    models = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in models:
            field = m.model_fields.get(part)
            if field is None:
                # a discriminated-union tag (e.g. 'diurnal') appears in loc: keep models tagged so
                nxt.extend(x for x in [m] if part not in m.model_fields)
                continue
            nxt.extend(_unwrap(field.annotation))
        models = nxt or models
    return models


def _field_names(model: type[BaseModel]) -> list[str]:
    names = []
    for name, f in model.model_fields.items():
        names.append(f.alias or name)
    return names


def yaml_line(text: str | None, loc: tuple) -> int | None:
    """1-based line of the key or item at ``loc`` in YAML ``text``, or of its nearest parent."""
    if not text:
        return None
    try:
        import yaml

        node = yaml.compose(text)
    except Exception:
        return None
    line = None
    for part in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if str(getattr(k, "value", None)) == str(part):
                    line = k.start_mark.line + 1
                    nxt = v
                    break
            if nxt is None:
                if not isinstance(part, int):
                    return line
                continue
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            # union tags (e.g. 'diurnal') are not YAML keys: stay at this node
            continue
    return line


def _printable(text: str) -> str:
    """Keys come from user files: escape control characters so a message stays on one line."""
    return text if text.isprintable() else repr(text)[1:-1]


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _printable(str(part))
    return out or "(top level)"


def describe_validation_error(exc: ValidationError, root: type[BaseModel], source: str, text: str | None = None) -> tuple[str, str]:
    """The first error of ``exc`` as (message, hint) — a single line each."""
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")  # typos first: they explain the rest
    err = errors[0]
    raw_loc = tuple(err.get("loc", ()))
    # drop discriminator tags that pydantic inserts in union locations (e.g. traffic.diurnal.peak_rps)
    loc = tuple(p for p in raw_loc if isinstance(p, int) or not _is_union_tag(root, raw_loc, p))
    ctx = err.get("ctx") or {}
    across = not loc and isinstance(ctx.get("where"), str)  # a rule across fields names the key it blames
    if across:
        loc = tuple(ctx["where"].split("."))
    line = yaml_line(text, loc)
    where = f"{source}:{line}" if line else source
    etype = err.get("type", "")
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    if etype == "extra_forbidden":
        key = _printable(str(loc[-1]))
        parent = loc[:-1]
        candidates: list[str] = []
        for m in _models_at(root, parent):
            candidates.extend(_field_names(m))
        close = closest(str(loc[-1]), candidates, cutoff=0.5)
        if close:  # the required key the typo was meant to be is not a second problem
            more -= sum(1 for e in errors[1:] if e.get("type") == "missing" and str(e["loc"][-1]) == close)
            suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        msg = f"{where}: unknown key '{key}' in {_dotted(parent)}{suffix}"
        if close:
            return msg + did_you_mean(str(loc[-1]), candidates, cutoff=0.5), f"rename '{key}' to '{close}'"
        return msg, f"allowed keys there: {', '.join(sorted(set(candidates)))}"
    if etype == "missing":
        return f"{where}: missing required key '{_dotted(loc)}'{suffix}", "add it; `leanserve spec schema` lists every field with an example"
    if across:  # its message states the values
        return f"{where}: {_dotted(loc)}: {err.get('msg', 'invalid value')}{suffix}", ctx.get("hint") or "fix the value; `leanserve spec schema` describes every field"
    value = err.get("input")
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    msg = err.get("msg", "invalid value")
    return f"{where}: {_dotted(loc)}: {msg} (got {shown}){suffix}", "fix the value; `leanserve spec schema` describes every field"


def _is_union_tag(root: type[BaseModel], loc: tuple, part: Any) -> bool:
    if isinstance(part, int):
        return False
    idx = loc.index(part)
    parents = _models_at(root, loc[:idx])
    return bool(parents) and all(part not in m.model_fields for m in parents) and idx < len(loc) - 1
