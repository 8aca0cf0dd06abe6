"""The report's prices: the bill's and the rest, their ages, and the stale-price warnings.

A price's age is computed once, at plan time: the catalog stamps it into plan.json (``prices[].age_days``)
and ``plan --explain`` prints that number, so the report shows the same one ("age when planned").
Whether a price is *stale* is judged on the day the report is made (its ``as_of`` date to today, and
never less than the age the plan recorded), because a plan can sit in a repository for weeks; when
the two ages differ the report shows both. The threshold is
:func:`toolkit.pricing.catalog.stale_after_days` (``$LEANSERVE_PRICE_MAX_AGE_DAYS``, default 30).
Only prices on the bill (the chosen configuration's line items) raise the stale-price banner; the
baselines' and runners-up's prices are listed apart and get a quiet note.
"""

from __future__ import annotations

from datetime import date

from toolkit.artifacts.plan import Candidate, PlanFile, PriceRef
from toolkit.report.model import PriceRow


def _key(ref: PriceRef) -> tuple:
    return (ref.sku, ref.unit, ref.usd)


def all_prices(plan: PlanFile) -> list[PriceRef]:
    """The plan's prices plus those on the chosen configuration's cost items, without repeats."""
    seen: dict[tuple, PriceRef] = {}
    refs = list(plan.prices) + [i.price for i in (plan.chosen.cost_items if plan.chosen else []) if i.price]
    for ref in refs:
        seen.setdefault(_key(ref), ref)
    return list(seen.values())


def bill_prices(chosen: Candidate) -> list[PriceRef]:
    seen: dict[tuple, PriceRef] = {}
    for item in chosen.cost_items:
        if item.price is not None:
            seen.setdefault(_key(item.price), item.price)
    return list(seen.values())


def age_today(ref: PriceRef, today: date) -> float:
    """A price's age today: days since its ``as_of`` date, and never less than the age the plan recorded."""
    try:
        now = float((today - date.fromisoformat(ref.as_of[:10])).days)
    except ValueError:
        now = 0.0
    return max(float(ref.age_days), now)


def price_row(ref: PriceRef, today: date, limit: int) -> PriceRow:
    now = age_today(ref, today)
    return PriceRow(sku=ref.sku, usd=ref.usd, unit=ref.unit, source=ref.source, as_of=ref.as_of, age_days=float(ref.age_days),
                    age_today_days=now, confidence=ref.confidence, stale=now > limit)


def price_tables(plan: PlanFile, chosen: Candidate, today: date, limit: int) -> tuple[list[PriceRow], list[PriceRow]]:
    """(the bill's prices, every other price in the plan), each oldest first."""
    bill = bill_prices(chosen)
    keys = {_key(r) for r in bill}
    order = lambda r: (-r.age_today_days, r.sku)  # noqa: E731
    rows = sorted((price_row(r, today, limit) for r in bill), key=order)
    others = sorted((price_row(r, today, limit) for r in all_prices(plan) if _key(r) not in keys), key=order)
    return rows, others


def age_text(p: PriceRow, limit: int, *, stale_mark: str = "⚠ older than {limit} days") -> str:
    """``31`` / ``31 (45 today)``, plus the stale mark."""
    text = f"{p.age_days:.0f}" + (f" ({p.age_today_days:.0f} today)" if p.age_today_days != p.age_days else "")
    return text + (" " + stale_mark.format(limit=limit) if p.stale else "")


def stale_warning(prices: list[PriceRow], limit: int, plan_day: str) -> str | None:
    """The banner for stale prices on the bill (None when none is stale)."""
    stale = [p for p in prices if p.stale]
    if not stale:
        return None
    oldest = max(stale, key=lambda p: p.age_today_days)
    then = ""
    if oldest.age_today_days != oldest.age_days:
        then = f"; it was {oldest.age_days:.0f} days old when the plan was made on {plan_day}"
    names = ", ".join(p.sku for p in stale[:3]) + (", …" if len(stale) > 3 else "")
    return (f"{len(stale)} of {len(prices)} prices in this bill are older than {limit} days (oldest {oldest.age_today_days:.0f} days: "
            f"{names}{then}). Refresh the price catalog (`leanserve prices --help`) and plan again before relying on these figures.")


def others_note(others: list[PriceRow], limit: int) -> str | None:
    stale = [p for p in others if p.stale]
    if not stale:
        return None
    return (f"{len(stale)} of the {len(others)} prices outside this bill (baselines, runners-up) "
            f"{'is' if len(stale) == 1 else 'are'} older than {limit} days; they do not enter the monthly cost.")
