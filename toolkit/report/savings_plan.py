"""SageMaker ML Savings Plan rates in reports, when (and only when) the price catalog has them.

The embedded price snapshot holds on-demand rates only, so reports say that no Savings Plan
projection is shown instead of assuming a discount. A catalog that carries Savings Plan rates
lists them in plan.json's ``prices`` with a SKU that starts with :data:`SP_SKU_PREFIX` and otherwise
matches the on-demand SKU it discounts, e.g. ``sagemaker-hosting ml.c7i.xlarge us-east-1`` (on
demand) and ``sagemaker-savings-plan ml.c7i.xlarge us-east-1`` (its Savings Plan rate; the term,
such as "1yr no-upfront", goes in the PriceRef's ``source``).
"""

from __future__ import annotations

from toolkit.artifacts.plan import Candidate, PriceRef
from toolkit.report.model import CostLine, SavingsPlan
from toolkit.report.money import micros_to_usd, to_cents, to_micros

SP_SKU_PREFIX = "sagemaker-savings-plan"

NOT_IN_CATALOG = (
    "ML Savings Plan rates are not shown: the price catalog this plan used holds on-demand rates only, "
    "so no discount is assumed. Savings Plans trade a 1- or 3-year commitment for a lower hourly rate."
)


def _tail(sku: str) -> str:
    return sku.split(" ", 1)[1] if " " in sku else ""


def savings_plan_view(chosen: Candidate, lines: list[CostLine], prices: list[PriceRef], total_cents: int) -> SavingsPlan:
    """The month at Savings Plan rates for instance lines that have one; other lines stay on demand."""
    rates = {_tail(p.sku): p for p in prices if p.sku.lower().startswith(SP_SKU_PREFIX)}
    if not rates:
        return SavingsPlan(available=False, note=NOT_IN_CATALOG)
    covered, terms, cents, micros = 0, set(), 0, 0
    for line in lines:
        rate = rates.get(_tail(line.price_sku or "")) if line.component == "instances" else None
        if rate is None:
            cents += line.cost_cents
            micros += to_micros(line.cost_usd)
            continue
        covered += 1
        terms.add(rate.source)
        cents += to_cents(line.usage_quantity * rate.usd)
        micros += to_micros(line.usage_quantity * rate.usd)
    if not covered:
        return SavingsPlan(available=False, note="The price catalog has ML Savings Plan rates, but none for this configuration's instances; no discount is assumed.")
    return SavingsPlan(
        available=True,
        note=f"Instance hours at ML Savings Plan rates ({'; '.join(sorted(terms))}); storage and data stay on demand. Needs a commitment.",
        monthly_cost_cents=cents,
        monthly_cost_usd=micros_to_usd(micros),
        savings_cents=total_cents - cents,
    )
