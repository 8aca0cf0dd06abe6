"""Money in every output: exact amounts, fair rounding, and one rounding rule per output kind.

Plans carry costs as floats. Every figure shown anywhere is derived from the same two grains, both
rounded half away from zero (as invoices do) from the decimal the float prints as:

=====================================================  ==========================================
output kind                                            amounts (costs, savings, ranges, per 1M)
=====================================================  ==========================================
text (``plan``'s table and headline, ``--explain``,    whole cents: ``$1,234.57``; an amount
``report``'s summary line), Markdown, HTML,            under a cent but above zero reads
the pull-request comment                               ``<$0.01``
JSON (``report.json``, ``--json`` outputs), CSV        exact to 1e-6 USD (``*_usd``), with the
                                                       cents the text shows in ``*_cents``
=====================================================  ==========================================

A cent figure is always the rounding of the 1e-6 figure (:func:`to_cents` goes through
:func:`to_micros`), so what JSON and CSV say rounds to exactly what the text says. List prices (per
hour, per GB-second) are not amounts: every kind shows them as listed (:func:`fmt_rate`). Line items
are allocated with the largest-remainder method in both grains, so the 1e-6 rows sum exactly to the
1e-6 total and the cent rows exactly to the headline's cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
MICROS_PER_CENT = 10_000


def dec(x: float | int | str | Decimal) -> Decimal:
    """The decimal a float prints as (``0.1`` -> ``Decimal('0.1')``, not its binary expansion)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(x)


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_micros(x: float | int | str | Decimal) -> int:
    """Whole micro-dollars (1e-6 USD), half away from zero: the grain of JSON and CSV."""
    return _round(dec(x) / MICRO)


def micros_to_cents(micros: int) -> int:
    return _round(Decimal(micros) / MICROS_PER_CENT)


def to_cents(x: float | int | str | Decimal) -> int:
    """Whole cents (the grain of text, Markdown and HTML): the 1e-6 amount rounded half away from zero."""
    return micros_to_cents(to_micros(x))


def cents_to_usd(cents: int) -> float:
    """A float that prints as the exact amount (12345 -> 123.45)."""
    return float(Decimal(cents) * CENT)


def micros_to_usd(micros: int) -> float:
    """A float that prints as the exact amount (1234567 -> 1.234567)."""
    return float(Decimal(micros) * MICRO)


def usd6(x: float | int | str | Decimal) -> float:
    """``x`` exact to 1e-6 USD, as JSON and CSV give amounts."""
    return micros_to_usd(to_micros(x))


def allocate(amounts: Sequence[float | int | Decimal], total_units: int, unit: Decimal = CENT) -> list[int]:
    """Round each amount to whole ``unit`` s so that the results sum exactly to ``total_units``.

    Each amount is first rounded down; the units still missing go, one each, to the amounts that lost
    the most in that rounding (ties: the earlier amount). When ``total_units`` is below the sum of the
    rounded-down amounts, units are taken back from those that lost the least. The caller checks that
    ``total_units`` is consistent with the amounts (within about a unit each).
    """
    exact = [dec(a) / unit for a in amounts]
    floors = [int(e.quantize(Decimal(1), rounding=ROUND_FLOOR)) for e in exact]
    remainders = [e - f for e, f in zip(exact, floors)]
    missing = total_units - sum(floors)
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


def allocate_cents(amounts: Sequence[float | Decimal], total_cents: int) -> list[int]:
    """:func:`allocate` in cents."""
    return allocate(amounts, total_cents, CENT)


def fmt_usd(cents: int, *, sign: bool = False) -> str:
    """``123456`` -> ``$1,234.56``; with ``sign``, ``+$1,234.56`` / ``-$1,234.56`` / ``$0.00``."""
    amount = Decimal(abs(cents)) * CENT
    text = f"${amount:,.2f}"
    if cents < 0:
        return "-" + text
    if sign and cents > 0:
        return "+" + text
    return text


def fmt_money(usd: float, *, sign: bool = False) -> str:
    """An amount in dollars as the text kinds show it: whole cents (``$1,234.57``); ``<$0.01`` for a positive
    amount that rounds to no cent, so a small cost never reads as free."""
    cents = to_cents(usd)
    if cents == 0 and to_micros(usd) > 0:
        return "<$0.01"
    return fmt_usd(cents, sign=sign)


def fmt_rate(usd: float) -> str:
    """A list price (per hour, per GB-second), as listed, never in exponent notation: ``0.214`` -> ``$0.214``,
    ``2e-05`` -> ``$0.00002``, ``1.4084`` -> ``$1.4084`` (at most 6 significant digits below $1)."""
    value = dec(usd)
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}" if value == value.quantize(CENT) else f"${value:,.4f}"
    return "$" + format(Decimal(f"{float(value):.6g}"), "f")


def fmt_per_million(usd: float) -> str:
    """Cost per 1M requests: an amount, so whole cents like every other amount in the text kinds."""
    return fmt_money(usd)


def fmt_pct(fraction: float | None, *, sign: bool = False) -> str:
    if fraction is None:
        return "n/a"
    text = f"{fraction * 100:+.1f}%" if sign else f"{fraction * 100:.1f}%"
    return text
