"""Purchase options: the cost-minimising commitment (a quantile, checked against brute force), re-pricing a
different traffic path, and the seeded spot interruption simulation."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import InputError
from toolkit.planner.purchase import (
    choose_commitment,
    commitment_cost,
    optimal_commitment,
    per_minute,
    simulate_spot,
)


def day_night(days: int = 30, low: int = 2, high: int = 6, mid: int = 3) -> np.ndarray:
    """8 quiet hours, 10 busy hours, 6 in between, every day."""
    return np.tile(np.concatenate([np.full(8, low), np.full(10, high), np.full(6, mid)]), days).astype(float)


def brute_force(spend: np.ndarray, discount: float, steps: int = 4001) -> tuple[float, float]:
    """(commitment, cost) minimising the month's cost over a fine grid of commitments, every data point included."""
    top = spend.max() * (1 - discount)
    grid = np.unique(np.concatenate([np.linspace(0, top, steps), spend * (1 - discount)]))
    covered = grid[:, None] / (1 - discount)
    costs = grid * spend.size + np.maximum(0.0, spend[None, :] - covered).sum(axis=1)  # the bill, written out again
    i = int(np.argmin(costs))
    assert costs[i] == pytest.approx(commitment_cost(spend, grid[i], discount).cost)
    return float(grid[i]), float(costs[i])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("discount", [0.05, 0.3, 0.42, 0.64])
def test_the_optimum_is_the_discount_quantile_and_beats_brute_force(seed, discount):
    rng = np.random.default_rng(seed)
    hours = 720
    counts = np.maximum(0, np.round(4 + 3 * np.sin(np.arange(hours) * 2 * np.pi / 24) + rng.normal(0, 1.5, hours)))
    spend = counts * 1.4084  # ml.g5.xlarge on demand, USD per hour
    c = optimal_commitment(spend, discount)
    assert c == pytest.approx((1 - discount) * np.quantile(spend, discount, method="inverted_cdf"))
    _, best_cost = brute_force(spend, discount)
    assert commitment_cost(spend, c, discount).cost <= best_cost + 1e-9
    # and nothing a little above or below does better
    for other in (c * 0.97, c * 1.03, c + 0.01, max(0.0, c - 0.01)):
        assert commitment_cost(spend, other, discount).cost >= commitment_cost(spend, c, discount).cost - 1e-9


def test_choice_on_a_day_night_path():
    n = day_night()
    choice = choose_commitment(n, on_demand_rate=1.0, committed_rate=0.6)
    # discount 0.4: the 40% quantile of 2 (33% of hours), 3 (25%), 6 (42%) is 3 instances
    assert choice.committed_instances == pytest.approx(3.0) and choice.commitment_usd_per_hour == pytest.approx(1.8)
    assert (choice.discount, choice.quantile, choice.break_even_utilisation) == (pytest.approx(0.4), pytest.approx(0.4), pytest.approx(0.6))
    m = choice.month
    assert m.on_demand_cost == pytest.approx(n.sum())
    assert m.cost == pytest.approx(m.committed_cost + m.overflow_cost) and m.committed_cost == pytest.approx(1.8 * 720)
    assert m.overflow_cost == pytest.approx(3 * 10 * 30)  # 3 instances above the commitment in the 10 busy hours
    assert m.unused_commitment == pytest.approx(0.6 * 8 * 30)  # one committed instance idle in the 8 quiet hours
    assert m.utilisation == pytest.approx(1 - 144 / 1296) and m.utilisation > choice.break_even_utilisation
    assert choice.monthly_saving == pytest.approx(m.on_demand_cost - m.cost) and choice.monthly_saving > 0


def test_repricing_a_lower_traffic_path_prices_the_downside():
    choice = choose_commitment(day_night(), 1.0, 0.6)
    lower30 = choice.reprice(day_night(low=1, high=4, mid=2))
    lower60 = choice.reprice(day_night(low=1, high=2, mid=1))
    assert choice.month.saving > lower30.saving > lower60.saving
    assert lower60.saving < 0 and lower60.utilisation < choice.break_even_utilisation  # below break-even: it costs money
    assert lower60.committed_cost == pytest.approx(choice.month.committed_cost)  # billed whether used or not


def test_flat_usage_commits_everything_and_no_discount_commits_nothing():
    flat = np.full(720, 5.0)
    choice = choose_commitment(flat, 2.0, 1.2)
    assert choice.committed_instances == pytest.approx(5.0) and choice.month.utilisation == pytest.approx(1.0)
    assert choice.month.saving_fraction == pytest.approx(0.4)
    same = choose_commitment(flat, 2.0, 2.0)
    assert same.commitment_usd_per_hour == 0.0 and same.month.saving == 0.0
    dearer = choose_commitment(flat, 2.0, 2.5)
    assert dearer.commitment_usd_per_hour == 0.0 and dearer.discount == 0.0
    assert choose_commitment(np.zeros(24), 1.0, 0.5).commitment_usd_per_hour == 0.0


@pytest.mark.parametrize("bad", [[], [1.0, -1.0], [np.nan, 1.0], [[1.0, 2.0]]])
def test_bad_paths_are_input_errors(bad):
    with pytest.raises(InputError):
        choose_commitment(bad, 1.0, 0.6)


def test_bad_rates_are_input_errors():
    with pytest.raises(InputError, match="rates must be positive"):
        choose_commitment([1.0], 0.0, 0.6)
    with pytest.raises(InputError, match=r"the plan discount must be in \[0, 1\)"):
        commitment_cost([1.0], 1.0, 1.0)


# ---- spot -------------------------------------------------------------------------------------------------------
SPOT = {"spot_rate": 0.4, "on_demand_rate": 1.0}


def test_no_interruptions_means_no_capacity_lost_and_a_spot_bill():
    demand = per_minute(day_night(days=2))
    sim = simulate_spot(demand, 2, interruptions_per_instance_hour=0.0, replacement_delay_min=5, **SPOT)
    assert sim.minutes_short == 0 and sim.interruptions == 0 and np.array_equal(sim.in_service, demand)
    spot_instance_minutes = (demand - 2).sum()
    assert sim.spot_cost == pytest.approx(spot_instance_minutes * 0.4 / 60)
    assert sim.on_demand_cost == pytest.approx(2 * demand.size * 1.0 / 60)
    assert sim.violation_minutes(demand) == 0


def test_interruptions_are_seeded_and_cost_capacity_for_the_replacement_delay():
    demand = per_minute(np.full(24 * 30, 10.0))
    kw = dict(interruptions_per_instance_hour=0.01, replacement_delay_min=7, **SPOT)
    a = simulate_spot(demand, 4, seed=3, **kw)
    b = simulate_spot(demand, 4, seed=3, **kw)
    assert np.array_equal(a.capacity_lost, b.capacity_lost) and a.interruptions == b.interruptions
    assert not np.array_equal(simulate_spot(demand, 4, seed=4, **kw).capacity_lost, a.capacity_lost)
    expected = 0.01 * 6 * 24 * 30  # hazard x spot instance-hours
    assert abs(a.interruptions - expected) < 4 * np.sqrt(expected)
    # every interruption removes one instance for the delay (the last ones may be cut by the path's end)
    assert (a.interruptions - 1) * 7 <= a.capacity_lost.sum() <= a.interruptions * 7
    assert a.violation_minutes(demand) == a.minutes_short > 0
    assert a.violation_minutes(demand - 1) <= a.minutes_short  # one instance of headroom absorbs single losses
    assert np.all(a.floor == 4) and np.all(a.in_service >= 4)


def test_fallback_replacements_run_on_demand_until_scale_in():
    demand = per_minute(np.concatenate([np.full(48, 8.0), np.full(24, 2.0)]))
    sim = simulate_spot(demand, 2, interruptions_per_instance_hour=0.2, replacement_delay_min=3, fallback_probability=1.0, seed=1, **SPOT)
    assert 0 < sim.fallback_launches <= sim.interruptions
    busy = slice(0, 48 * 60)
    assert np.all(sim.spot_in_service[busy] + sim.fallback_in_service[busy] + sim.capacity_lost[busy] == 6)
    assert sim.fallback_in_service[48 * 60 - 1] > 0
    assert np.all(sim.fallback_in_service[48 * 60:] == 0) and np.all(sim.spot_in_service[48 * 60:] == 0)  # floor only
    od_minutes = sim.floor.sum() + sim.fallback_in_service.sum()
    assert sim.on_demand_cost == pytest.approx(od_minutes / 60)


def test_scale_in_cancels_pending_replacements():
    demand = np.concatenate([np.full(60, 5.0), np.full(60, 1.0)])
    sim = simulate_spot(demand, 1, interruptions_per_instance_hour=60.0, replacement_delay_min=30, seed=0, **SPOT)
    assert sim.capacity_lost[:60].max() > 0
    assert np.all(sim.capacity_lost[60:] == 0)  # nothing above the floor is wanted any more


def test_floor_covering_demand_needs_no_spot_and_bad_inputs_are_refused():
    demand = per_minute(np.full(24, 3.0))
    sim = simulate_spot(demand, 5, interruptions_per_instance_hour=1.0, replacement_delay_min=2, **SPOT)
    assert sim.spot_cost == 0 and sim.minutes_short == 0 and np.all(sim.floor == 3)
    with pytest.raises(InputError):
        simulate_spot(demand, 1, interruptions_per_instance_hour=-1.0, replacement_delay_min=2, **SPOT)
    with pytest.raises(InputError):
        simulate_spot(demand, 1, interruptions_per_instance_hour=0.1, replacement_delay_min=2, fallback_probability=2.0, **SPOT)
    with pytest.raises(InputError):
        simulate_spot([], 1, interruptions_per_instance_hour=0.1, replacement_delay_min=2, **SPOT)
