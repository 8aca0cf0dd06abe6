"""Small pricing pieces the platform modules share: regional fallback and labelled estimate quotes."""

from __future__ import annotations

from dataclasses import replace


def rate_or_fallback(get, region: str, notes: list[str], what: str):
    """A regional rate, or the us-east-1 one (marked low confidence) when the catalog lacks the region."""
    from toolkit.pricing import PriceNotFound

    try:
        return get(region), region
    except PriceNotFound:
        q = get("us-east-1")
        note = f"no {what} price for {region} in the catalog: the us-east-1 price is used"
        if note not in notes:
            notes.append(note)
        return replace(q, confidence="low"), "us-east-1"


def estimate_quote(usd: float, unit: str, what: str):
    """A PriceQuote for the estimate constants of :mod:`toolkit.planner.costs`."""
    from toolkit.planner import costs as C
    from toolkit.pricing import PriceQuote

    return PriceQuote(usd=usd, unit=unit, source="estimate", row_source=what, as_of=C.ESTIMATE_AS_OF, age_days=0.0, confidence="medium")


def data_processed_gb(requests_per_month: float, family) -> float:
    """GB in and out a month, from the family's request and response sizes."""
    return requests_per_month * (family.request_kb + family.response_kb) / (1024.0 * 1024.0)
