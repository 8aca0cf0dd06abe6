"""``did_you_mean``: the one helper behind every suggestion for a misspelled name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, choices: Iterable[str], cutoff: float = 0.5) -> str | None:
    """The choice closest to ``name``, or None when nothing is close enough."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str], cutoff: float = 0.5) -> str:
    """'; did you mean 'x'?' for the closest choice, or '' (ready to append to a message)."""
    best = closest(name, choices, cutoff)
    return f"; did you mean '{best}'?" if best else ""
