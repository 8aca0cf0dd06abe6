"""How the plan's capacity is bought: Savings Plans commitments and --purchase.

The snapshot holds no Savings Plans rate (none could be sourced), so these tests put a rate in the user's
price cache — where `leanserve prices refresh` writes the ones AWS returns — marked as test data.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.planner.conftest import PROFILES, VARIANTS, write_spec

HEADER = "instance_type,region,plan,term,payment,usd_per_hour,upfront_fraction,source,sources,as_of,confidence,notes\n"


def _catalog(tmp_path, monkeypatch, rows: list[str]):
    from toolkit.pricing import load_catalog

    cache = tmp_path / "cache"
    (cache / "prices").mkdir(parents=True, exist_ok=True)
    (cache / "prices" / "savings_plan_rates.csv").write_text(HEADER + "".join(r + "\n" for r in rows))
    monkeypatch.setenv("LEANSERVE_CACHE_DIR", str(cache))
    return load_catalog(warn=lambda m: None)


def _plan(tmp_path, catalog, purchase=None, **changes):
    from toolkit.planner import load_inputs, make_plan

    spec = write_spec(tmp_path, **{"traffic.days": 7, "sla.peak_rps": 1500, "traffic.pattern.trough_rps": 150,
                                   "targets.platforms": ["sagemaker-realtime"], "targets.instance_types": ["ml.c6i.large"], **changes})
    loaded, v, p = load_inputs(spec, VARIANTS, PROFILES)
    return make_plan(loaded, v, p, catalog=catalog, purchase=purchase).plan


def test_the_commitment_is_the_cheapest_for_the_simulated_month_and_its_downside_is_resimulated(tmp_path, monkeypatch):
    cat = _catalog(tmp_path, monkeypatch, ["ml.c6i.large,us-east-1,sagemaker,1yr,no-upfront,0.07,0,test,test data,2026-12-01,low,made up"])
    c = _plan(tmp_path, cat).chosen
    od_rate = cat.hosting_price("ml.c6i.large", "us-east-1").usd
    k = c.purchase.committed
    assert (k.plan, k.term, k.payment) == ("sagemaker", "1yr", "no-upfront")
    assert k.discount == pytest.approx(1 - 0.07 / od_rate, abs=1e-4) and k.break_even_utilisation == pytest.approx(1 - k.discount, abs=1e-4)
    # brute force over commitment levels on the plan's own hourly path: the chosen level is the cheapest
    hourly = np.asarray(c.simulation.hourly_instances)  # in service; billed differs only while instances start
    from toolkit.planner.purchase import commitment_cost

    grid = np.linspace(0, hourly.max() * 0.07, 400)
    costs = [commitment_cost(hourly * od_rate, x, k.discount).cost for x in grid]
    assert commitment_cost(hourly * od_rate, k.commitment_usd_per_hour, k.discount).cost <= min(costs) * 1.02
    assert 0 < k.saving_usd < c.purchase.on_demand_usd
    # less traffic, same commitment: the saving shrinks, and at -60% the unused commitment shows
    d30, d60 = k.downside
    assert (d30.traffic_change_pct, d60.traffic_change_pct) == (-30, -60)
    assert d60.on_demand_usd < d30.on_demand_usd < c.purchase.on_demand_usd
    assert d60.committed_usd - d60.on_demand_usd >= d30.committed_usd - d30.on_demand_usd


def test_no_rate_keeps_on_demand_and_says_so(tmp_path, monkeypatch):
    cat = _catalog(tmp_path, monkeypatch, [])
    c = _plan(tmp_path, cat).chosen
    assert c.purchase.committed is None
    assert any("no 1yr no-upfront sagemaker Savings Plans rate for ml.c6i.large" in n and "on-demand kept" in n for n in c.purchase.notes)


def test_purchase_restricts_the_options(tmp_path, monkeypatch):
    from toolkit.errors import InputError

    cat = _catalog(tmp_path, monkeypatch, ["ml.c6i.large,us-east-1,sagemaker,1yr,no-upfront,0.07,0,test,test data,2026-12-01,low,made up"])
    c = _plan(tmp_path, cat, purchase=["on-demand"]).chosen
    assert c.purchase.committed is None and "Savings Plans left out (--purchase)" in c.purchase.notes
    with pytest.raises(InputError, match=r"unknown purchase option 'reserved'"):
        _plan(tmp_path, cat, purchase=["reserved"])


def test_plan_cli_rejects_an_unknown_purchase_option_with_the_choices(tmp_path):
    from tests.conftest import run_cli

    spec = write_spec(tmp_path)
    r = run_cli("plan", str(spec), "--variants", str(VARIANTS), "--purchase", "reserved")
    assert r.exit_code == 2 and "'reserved' is not one of 'on-demand', 'savings-plan', 'spot'" in r.output


def test_confidence_plans_nearer_the_pessimistic_end_and_shows_the_choice_across_the_band(tmp_path, catalog):
    point = _plan(tmp_path, catalog, **{"targets.instance_types": []})
    from toolkit.planner import load_inputs, make_plan

    spec = write_spec(tmp_path, **{"traffic.days": 7, "sla.peak_rps": 1500, "traffic.pattern.trough_rps": 150,
                                   "targets.platforms": ["sagemaker-realtime"]})
    loaded, v, p = load_inputs(spec, VARIANTS, PROFILES)
    sure = make_plan(loaded, v, p, catalog=catalog, confidence=0.9).plan
    c = sure.chosen
    assert c.capacity.value < next(x for x in [point.chosen, *point.runners_up] if x.instance_type == c.instance_type).capacity.value
    low, high = c.capacity_band
    assert c.capacity.value == pytest.approx(high - 0.9 * (high - low), rel=1e-3)  # capacity equally likely across the band
    rows = {r.at: r for r in sure.confidence.choices}
    assert set(rows) == {"optimistic end", "middle", "confidence 0.9", "pessimistic end"}
    assert rows["optimistic end"].monthly_cost_usd <= rows["confidence 0.9"].monthly_cost_usd <= rows["pessimistic end"].monthly_cost_usd
    assert rows["confidence 0.9"].monthly_cost_usd == pytest.approx(c.monthly_cost_usd, abs=0.01)
