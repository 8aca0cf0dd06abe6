"""Money arithmetic for reports: exact cents, fair rounding, and USD formatting.

Plans carry costs as floats. Reports turn them into whole cents with :class:`decimal.Decimal` so that
every table, the CSV rows and the headline agree to the cent: the rows are rounded with the
largest-remainder method, which makes the rounded rows sum exactly to the rounded total.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def dec(x: float | int | str | Decimal) -> Decimal:
    """The decimal a float prints as (``0.1`` -> ``Decimal('0.1')``, not its binary expansion)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(x)


def to_cents(x: float | int | str | Decimal) -> int:
    """Whole cents, rounding half away from zero (as invoices do)."""
    return int((dec(x) / CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_usd(cents: int) -> float:
    """A float that prints as the exact amount (12345 -> 123.45)."""
    return float(Decimal(cents) * CENT)


def allocate_cents(amounts: Sequence[float | Decimal], total_cents: int) -> list[int]:
    """Round each amount to cents so that the results sum exactly to ``total_cents``.

    Each amount is first rounded down to a cent; the cents still missing go, one each, to the
    amounts that lost the most in that rounding (ties: the earlier amount). When ``total_cents`` is
    below the sum of the rounded-down amounts, cents are taken back from those that lost the least.
    The caller checks that ``total_cents`` is consistent with the amounts (within about a cent each).
    """
    exact = [dec(a) / CENT for a in amounts]
    floors = [int(e.quantize(Decimal(1), rounding=ROUND_FLOOR)) for e in exact]
    remainders = [e - f for e, f in zip(exact, floors)]
    missing = total_cents - sum(floors)
    result = list(floors)
    if not result:
        return result
    if missing >= 0:
        order = sorted(range(len(result)), key=lambda i: (-remainders[i], i))
        for k in range(missing):
            result[order[k % len(order)]] += 1
    else:
        order = sorted(range(len(result)), key=lambda i: (remainders[i], i))
        for k in range(-missing):
            result[order[k % len(order)]] -= 1
    return result


def fmt_usd(cents: int, *, sign: bool = False) -> str:
    """``123456`` -> ``$1,234.56``; with ``sign``, ``+$1,234.56`` / ``-$1,234.56`` / ``$0.00``."""
    amount = Decimal(abs(cents)) * CENT
    text = f"${amount:,.2f}"
    if cents < 0:
        return "-" + text
    if sign and cents > 0:
        return "+" + text
    return text


def fmt_rate(usd: float) -> str:
    """A unit price or per-request figure, never in exponent notation: ``0.214`` -> ``$0.214``,
    ``2e-05`` -> ``$0.00002``, ``1.4084`` -> ``$1.4084`` (at most 6 significant digits below $1)."""
    value = dec(usd)
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}" if value == value.quantize(CENT) else f"${value:,.4f}"
    return "$" + format(Decimal(f"{float(value):.6g}"), "f")


def fmt_per_million(usd: float) -> str:
    """Cost per 1M requests: four decimals (``$0.5227``), cents from $100 up."""
    return f"${usd:,.2f}" if abs(usd) >= 100 else f"${usd:,.4f}"


def fmt_pct(fraction: float | None, *, sign: bool = False) -> str:
    if fraction is None:
        return "n/a"
    text = f"{fraction * 100:+.1f}%" if sign else f"{fraction * 100:.1f}%"
    return text
