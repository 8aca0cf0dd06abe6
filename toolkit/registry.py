"""``Registry``: names mapped to 'module:Class' paths, imported and instantiated on first use.

The model families and the platforms are registries of this kind, so adding one is one entry, and
the CLI imports no family or platform module until a command needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered mapping name -> 'module:Class' (or an instance), loaded lazily."""

    def __init__(self, what: str, entries: dict[str, str]):
        self.what = what  # e.g. "model task", for error messages
        self.entries = dict(entries)
        self._loaded: dict[str, T] = {}

    def names(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def register(self, name: str, target: str | object) -> None:
        """Add (or replace) an entry: a 'module:Class' path or an instance."""
        self._loaded.pop(name, None)
        if isinstance(target, str):
            self.entries[name] = target
        else:
            self._loaded[name] = target
            self.entries[name] = f"{type(target).__module__}:{type(target).__name__}"

    def unregister(self, name: str) -> None:
        self.entries.pop(name, None)
        self._loaded.pop(name, None)

    def get(self, name: str) -> T:
        """The entry's instance; an InputError with a suggestion for an unknown name."""
        if name in self._loaded:
            return self._loaded[name]
        if name not in self.entries:
            from toolkit.errors import InputError
            from toolkit.suggest import did_you_mean

            raise InputError(f"unknown {self.what} '{name}'{did_you_mean(name, self.names())}", hint=f"{self.what}s: {', '.join(self.names())}")
        module, cls = self.entries[name].split(":")
        obj = getattr(importlib.import_module(module), cls)()
        self._loaded[name] = obj
        return obj
