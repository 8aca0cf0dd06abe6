"""Hosted LLM API prices: USD per 1M input and output tokens, dated and sourced (``toolkit/data/llm_api_prices.csv``).

The table starts from the seed ``../shared/data/pricing/llm_api_prices.csv`` (its SOURCES.md) and adds rows
found in public pages and code, each citing where it came from. Columns:

- ``provider``, ``model``; ``model_class``: a coarse size class for matching a self-hosted model
  (``1b-dense``, ``3b-dense``, ``8b-dense``, ``70b-dense``, ``671b-moe``, ``small-proprietary``);
- ``input_usd_per_mtok``, ``output_usd_per_mtok``: USD per 1,000,000 tokens;
- ``effective_from`` / ``effective_until``: dates of the price (not of capture); an empty ``until`` means current;
- ``sources``; ``confidence``: high = the provider's own page, medium = a dated third-party snapshot,
  low = an unattributed code table.

API prices move fast (DeepSeek's output price fell 75% in one month of 2025): a comparison says which
rows it used and how sure each is.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from toolkit.pricing.rows import DATA_DIR

CSV_NAME = "llm_api_prices.csv"
#: (upper bound on parameters, class, note) used to match a self-hosted dense model with an API class
CLASSES = (
    (2.0e9, "1b-dense", "the smallest class APIs serve is about 1B parameters"),
    (5.0e9, "3b-dense", ""),
    (20.0e9, "8b-dense", ""),
    (150.0e9, "70b-dense", ""),
    (float("inf"), "671b-moe", "the largest class in the table"),
)


@dataclass(frozen=True)
class ApiPrice:
    provider: str
    model: str
    model_class: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    effective_from: str
    effective_until: str
    sources: str
    confidence: str
    notes: str = ""

    @property
    def current(self) -> bool:
        return not self.effective_until

    def monthly_usd(self, prompt_tokens: float, output_tokens: float) -> float:
        """What ``prompt_tokens`` in and ``output_tokens`` out a month cost through this API."""
        return (prompt_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1e6

    def label(self) -> str:
        return f"{self.provider} {self.model}"


@functools.lru_cache(maxsize=4)
def api_prices(path: str | Path | None = None) -> tuple[ApiPrice, ...]:
    """Every row of the table (current and past prices)."""
    p = Path(path) if path else DATA_DIR / CSV_NAME
    with open(p, newline="", encoding="utf-8") as fh:
        return tuple(ApiPrice(provider=r["provider"], model=r["model"], model_class=r["model_class"],
                              input_usd_per_mtok=float(r["input_usd_per_mtok"]), output_usd_per_mtok=float(r["output_usd_per_mtok"]),
                              effective_from=r["effective_from"], effective_until=r["effective_until"], sources=r["sources"],
                              confidence=r["confidence"], notes=r.get("notes", "")) for r in csv.DictReader(fh))


def model_class(parameters: float) -> tuple[str, str]:
    """(API model class, note) for a dense model of ``parameters`` parameters."""
    for top, name, note in CLASSES:
        if parameters < top:
            return name, note
    return CLASSES[-1][1], CLASSES[-1][2]


def comparable(parameters: float, path: str | Path | None = None) -> tuple[str, str, list[ApiPrice]]:
    """(class, note, current rows of that class, cheapest first by output price)."""
    cls, note = model_class(parameters)
    rows = [r for r in api_prices(path) if r.model_class == cls and r.current]
    rows.sort(key=lambda r: (r.output_usd_per_mtok, r.input_usd_per_mtok, r.provider))
    return cls, note, rows
