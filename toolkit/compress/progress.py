"""Progress reporting for long builds, decoupled from any display.

``build_variants(..., progress=reporter)`` calls ``reporter.stage(description, total)``, which
returns a context manager with ``advance(n=1)`` and ``describe(text)``. The CLI passes a rich
progress bar on stderr; the library default shows nothing.
"""

from __future__ import annotations

from typing import Protocol


class Stage(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def describe(self, text: str) -> None: ...
    def __enter__(self) -> "Stage": ...
    def __exit__(self, *exc) -> None: ...


class Reporter(Protocol):
    def stage(self, description: str, total: int | None = None) -> Stage: ...
    def log(self, message: str) -> None: ...


class _NullStage:
    def advance(self, n: int = 1) -> None:
        pass

    def describe(self, text: str) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class NullReporter:
    """Shows nothing (library default, tests)."""

    def stage(self, description: str, total: int | None = None) -> _NullStage:
        return _NullStage()

    def log(self, message: str) -> None:
        pass


class RichReporter:
    """A rich progress display on stderr; one bar per stage."""

    def __init__(self, progress):  # a rich.progress.Progress that is already started
        self.progress = progress

    def stage(self, description: str, total: int | None = None):
        return _RichStage(self.progress, description, total)

    def log(self, message: str) -> None:
        self.progress.console.print(message, highlight=False)


class _RichStage:
    def __init__(self, progress, description: str, total: int | None):
        self.progress, self.description, self.total = progress, description, total
        self.task = None

    def __enter__(self):
        self.task = self.progress.add_task(self.description, total=self.total)
        return self

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)

    def describe(self, text: str) -> None:
        self.progress.update(self.task, description=f"{self.description} {text}")

    def __exit__(self, *exc) -> None:
        self.progress.remove_task(self.task)
