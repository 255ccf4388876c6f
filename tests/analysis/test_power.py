"""Power by simulation: calibration under no effect, growth with sample size, mechanics.

Oracles: with no effect the rejection rate of a calibrated test is the nominal alpha (checked
with an exact binomial interval on the simulation count); power must rise with n.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.stats

from analysis.power import LogisticDesign, power_curve, sample_size_for, simulate_power

NULL = LogisticDesign(n_participants=24, n_items=8, effect=0.0, participant_sd=0.8,
                      item_sd=0.4)


def test_under_no_effect_the_rejection_rate_is_near_alpha() -> None:
    result = simulate_power(NULL, n_sims=50, alpha=0.05, seed=11)
    interval = scipy.stats.binomtest(result.n_rejected, 50).proportion_ci(0.99, "exact")
    assert interval.low <= 0.05 <= interval.high
    assert result.n_failed == 0
    assert abs(np.mean(result.estimates)) < 0.15  # unbiased around the true 0


def test_power_rises_with_the_number_of_participants() -> None:
    design = replace(NULL, effect=1.2)
    curve = power_curve(design, [6, 40], n_sims=20, seed=5)
    small, large = curve["power"].tolist()
    assert large > small + 0.3
    assert large >= 0.8


def test_it_reports_monte_carlo_error_and_an_exact_interval() -> None:
    result = simulate_power(replace(NULL, effect=0.9, n_participants=20), n_sims=10, seed=2)
    assert result.mc_se == np.sqrt(result.power * (1 - result.power) / 10)
    assert result.ci[0] <= result.power <= result.ci[1]
    assert result.to_dict()["n_sims"] == 10


def test_results_do_not_depend_on_the_number_of_workers() -> None:
    design = replace(NULL, effect=0.5, n_participants=12, n_items=6)
    one = simulate_power(design, n_sims=6, seed=4, workers=1)
    two = simulate_power(design, n_sims=6, seed=4, workers=2)
    np.testing.assert_allclose(one.estimates, two.estimates)


def test_progress_is_reported_until_done() -> None:
    seen: list[tuple[int, int]] = []
    simulate_power(replace(NULL, n_participants=10, n_items=6), n_sims=7, seed=1,
                   progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (7, 7)


def test_a_within_design_with_random_slopes_simulates_both_conditions_per_participant() -> None:
    design = LogisticDesign(n_participants=6, n_items=4, effects={"ai": 0.5, "xai": 1.0},
                            within=True, slope_sd=0.3, test="xai")
    data = design.simulate(np.random.default_rng(0))
    assert data.groupby("participant", observed=True)["condition"].nunique().min() == 3
    assert design.formula() == ("correct ~ condition + (1 + condition | participant)"
                                " + (1 | item)")
    assert design.term == "condition[T.xai]"


def test_sample_size_search_returns_the_smallest_size_reaching_the_target() -> None:
    design = replace(NULL, effect=1.2, n_items=10, within=True)
    n, table = sample_size_for(design, 0.7, low=4, high=32, n_sims=6, seed=3)
    powers = dict(zip(table["n_participants"], table["power"], strict=True))
    assert powers[n] >= 0.7
    assert all(p < 0.7 for size, p in powers.items() if size < n)
