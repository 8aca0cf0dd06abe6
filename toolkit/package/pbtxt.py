"""Triton ``config.pbtxt`` files: write them from Triton's own protobuf schema and read them back strictly.

The schema is ``model_config.proto`` as shipped (compiled) in tritonclient, so a misspelled field or a
wrong value is caught here with the file, line and field named, before any server reads the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.errors import InputError, require
from toolkit.suggest import did_you_mean


class RepositoryError(InputError):
    """A model repository (or one of its config.pbtxt files) is malformed. The message names file and field."""


def pb2():
    """The compiled model_config protobuf module (tritonclient ships it)."""
    return require("tritonclient.grpc.model_config_pb2", "serve")


def new_config():
    return pb2().ModelConfig()


def data_type(name: str) -> int:
    return pb2().DataType.Value(name)


def data_type_name(value: int) -> str:
    return pb2().DataType.Name(value)


def kind_name(value: int) -> str:
    return pb2().ModelInstanceGroup.Kind.Name(value)


def to_text(config) -> str:
    """Render a ModelConfig as protobuf text format (deterministic: same config, same bytes)."""
    from google.protobuf import text_format

    return text_format.MessageToString(config, as_utf8=True)


_NO_FIELD = re.compile(r'has no field named "([^"]+)"')


def parse(text: str, source: str):
    """Parse config.pbtxt text; a syntax or schema error becomes RepositoryError naming line and field."""
    from google.protobuf import text_format

    config = new_config()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        line, col = exc.GetLine(), exc.GetColumn()
        where = f"{source}:{line}:{col}" if line else source
        detail = str(exc).split(" : ", 1)[-1] if " : " in str(exc) else str(exc)
        m = _NO_FIELD.search(detail)
        if m:
            field = m.group(1)
            msg_type = re.search(r'Message type "([^"]+)"', detail)
            known = _field_names(msg_type.group(1)) if msg_type else []
            tip = did_you_mean(field, known, cutoff=0.6)
            owner = msg_type.group(1).rsplit(".", 1)[-1] if msg_type else "the config"
            raise RepositoryError(f"{where}: unknown field '{field}' in {owner}{tip}",
                                  hint="see Triton's model_config.proto for the fields a config.pbtxt may hold") from None
        raise RepositoryError(f"{where}: {detail}", hint="fix the protobuf text syntax of config.pbtxt") from None
    return config


def _field_names(full_name: str) -> list[str]:
    from google.protobuf import descriptor_pool

    try:
        desc = pb2().DESCRIPTOR.pool.FindMessageTypeByName(full_name)
    except KeyError:
        try:
            desc = descriptor_pool.Default().FindMessageTypeByName(full_name)
        except KeyError:
            return []
    return [f.name for f in desc.fields]


def read(path: str | Path, rel: str | None = None):
    """Read and parse a config.pbtxt file; ``rel`` is the name used in messages."""
    p = Path(path)
    name = rel or str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RepositoryError(f"{name}: missing", hint="every model folder needs a config.pbtxt") from None
    except UnicodeDecodeError:
        raise RepositoryError(f"{name}: not UTF-8 text", hint="save config.pbtxt as UTF-8") from None
    return parse(text, name)


def parameters(config) -> dict[str, str]:
    return {k: v.string_value for k, v in config.parameters.items()}


def set_parameter(config, key: str, value) -> None:
    config.parameters[key].string_value = str(value)
