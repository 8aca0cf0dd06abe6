"""Progress for a stderr that is not a terminal (a log file, CI, `make demo > log`): plain lines, no redraws.

`LineProgress` takes the calls the commands make on rich's Progress (add_task, update, advance, remove_task,
console), so a library reporter works with either. A quick command prints nothing; a long one prints one line
every ``interval`` seconds naming what is running, how far it got and for how long, so a log never goes
quiet for more than that. With -v each task is also named when it starts.

A command may set ``heartbeat`` to a callable returning its own line (`leanserve run`: "compress: still working
(building variants 2/5; onnx-int4: GPTQ), 2m30s", see :func:`still_working`); :meth:`LineProgress.running`
gives it what runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

INTERVAL_S = 30.0


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0
    started: float = field(default=0.0)

    @property
    def finished(self) -> bool:
        return self.total is not None and self.completed >= self.total


def _clock_text(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def duration_text(seconds: float) -> str:
    """2m30s, 45s, 1h02m."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def still_working(stage: str, seconds: float, inner: list[str]) -> str:
    """'compress: still working (onnx-int4: GPTQ), 2m30s': a long stage, what it is doing inside, for how long."""
    doing = f" ({'; '.join(inner)})" if inner else ""
    return f"{stage}: still working{doing}, {duration_text(seconds)}"


def _plain(text: str) -> str:
    """A description without rich markup ([green]done[/green] → done)."""
    import re

    return re.sub(r"\[/?[a-z #0-9.]*\]", "", text)


class LineProgress:
    """A stand-in for rich.progress.Progress that writes plain lines on a non-terminal stderr."""

    def __init__(self, console, *, interval: float | None = None, verbose: bool = False, transient: bool = True,
                 clock: Callable[[], float] = time.monotonic):
        self.console = console  # reporters print their log lines through it, as with rich
        self.interval = INTERVAL_S if interval is None else interval
        self.verbose, self.transient, self.clock = verbose, transient, clock
        self._tasks: dict[int, _Task] = {}
        self._next_id = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = clock()
        self.heartbeat: Callable[[], str | None] | None = None  # a command's own heartbeat line (None: status_line)

    # ---- the part of rich's Progress that the commands use -----------------------------------------
    def add_task(self, description: str, total: float | None = 100.0, completed: float = 0, **_) -> int:
        with self._lock:
            task_id = self._next_id  # never reused: a removed task's id must not name a later one
            self._next_id += 1
            self._tasks[task_id] = _Task(description, total, completed, self.clock())
        if self.verbose:
            self._print(f"{_plain(description)} ...")
        return task_id

    def update(self, task_id: int, *, completed: float | None = None, advance: float | None = None,
               description: str | None = None, total: float | None = None, **_) -> None:
        with self._lock:
            t = self._tasks.get(task_id)
            if t is None:
                return
            if total is not None:
                t.total = total
            if completed is not None:
                t.completed = completed
            if advance:
                t.completed += advance
            if description is not None:
                t.description = description

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def remove_task(self, task_id: int) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)

    def __enter__(self) -> LineProgress:
        self._thread = threading.Thread(target=self._beat_loop, name="leanserve-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.transient and exc[0] is None:  # a lasting display leaves its final state in the log, as rich does
            with self._lock:
                final = [_plain(t.description) for t in self._tasks.values()]
            for line in final:
                self._print(line)

    # ---- the heartbeat ------------------------------------------------------------------------------
    def status_line(self) -> str | None:
        """'[2:30] building variants 2/5 (1:10); distilling distilled-L3 45/200 (0:40)', or None when idle."""
        now = self.clock()
        with self._lock:
            running = [t for t in self._tasks.values() if not t.finished]
            parts = []
            for t in running:
                done = f" {t.completed:g}/{t.total:g}" if t.total is not None else ""
                parts.append(f"{_plain(t.description)}{done} ({_clock_text(now - t.started)})")
        if not parts:
            return None
        return f"[{_clock_text(now - self.started)}] " + "; ".join(parts)

    def running(self) -> list[tuple[int, str, float]]:
        """(task id, 'description 2/5', seconds since it started) of each unfinished task, oldest first."""
        now = self.clock()
        with self._lock:
            return [(i, _plain(t.description) + (f" {t.completed:g}/{t.total:g}" if t.total is not None else ""), now - t.started)
                    for i, t in self._tasks.items() if not t.finished]

    def beat(self) -> None:
        line = self.heartbeat() if self.heartbeat is not None else self.status_line()
        if line:
            self._print(line)

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def _print(self, line: str) -> None:
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)
