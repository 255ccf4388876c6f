"""Cronbach's alpha and McDonald's omega. Oracles: a hand-worked matrix, the standardised-alpha
identity, exact population covariances, and a simulated congeneric scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import reliability
from analysis.io import load_export
from tests.analysis.test_questionnaires import TINY


def test_alpha_of_a_hand_worked_matrix() -> None:
    items = np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]])
    # Item variances 5/3, 19/12, 11/12 (sum 25/6); total-score variance 35/3.
    # alpha = 3/2 * (1 - (25/6) / (35/3)) = 27/28.
    assert reliability.cronbach_alpha(items) == pytest.approx(27 / 28)


def test_alpha_of_standardised_items_is_the_spearman_brown_of_the_mean_correlation() -> None:
    rng = np.random.default_rng(0)
    latent = rng.normal(size=200)
    items = np.column_stack([latent * w + rng.normal(size=200) for w in (1.0, 0.7, 0.5, 1.5)])
    standardised = (items - items.mean(0)) / items.std(0, ddof=1)
    correlations = np.asarray(np.corrcoef(items, rowvar=False))
    k = 4
    mean_r = correlations[np.triu_indices(k, 1)].mean()
    expected = k * mean_r / (1 + (k - 1) * mean_r)
    assert reliability.cronbach_alpha(standardised) == pytest.approx(expected, rel=1e-12)


def test_one_factor_fit_recovers_the_loadings_of_an_exact_covariance() -> None:
    loadings = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    uniquenesses = np.array([0.3, 0.4, 0.5, 0.6, 0.7])
    covariance = np.outer(loadings, loadings) + np.diag(uniquenesses)
    fit = reliability.fit_one_factor(covariance)
    assert fit.converged
    np.testing.assert_allclose(fit.loadings, loadings, atol=1e-5)
    np.testing.assert_allclose(fit.uniquenesses, uniquenesses, atol=1e-5)
    assert fit.discrepancy == pytest.approx(0.0, abs=1e-9)
    # Closed form: (sum of loadings)^2 / ((sum)^2 + sum of uniquenesses) = 12.25 / 14.75.
    assert fit.omega == pytest.approx(12.25 / 14.75, abs=1e-6)


def test_omega_equals_alpha_for_tau_equivalent_items() -> None:
    # Equal loadings, unequal error variances: alpha's assumption holds, so omega == alpha.
    covariance = 0.7**2 * np.ones((4, 4)) + np.diag([0.3, 0.5, 0.7, 0.9])
    fit = reliability.fit_one_factor(covariance)
    assert fit.omega == pytest.approx(reliability.alpha_from_covariance(covariance), abs=1e-6)


def test_omega_recovers_the_reliability_of_a_simulated_congeneric_scale() -> None:
    rng = np.random.default_rng(42)
    loadings = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    n = 20_000
    latent = rng.normal(size=(n, 1))
    items = latent * loadings + rng.normal(size=(n, 5)) * np.sqrt(1 - loadings**2)
    fit = reliability.fit_one_factor(np.cov(items, rowvar=False))
    np.testing.assert_allclose(fit.loadings, loadings, atol=0.03)
    true_omega = loadings.sum() ** 2 / (loadings.sum() ** 2 + (1 - loadings**2).sum())
    assert reliability.mcdonald_omega(items) == pytest.approx(true_omega, abs=0.01)
    # Congeneric items: alpha is a lower bound on omega.
    assert reliability.cronbach_alpha(items) < reliability.mcdonald_omega(items)


def test_omega_needs_three_items() -> None:
    with pytest.raises(ValueError, match="at least three items"):
        reliability.fit_one_factor(np.eye(2))


def test_reliability_table_lists_each_questionnaire_present() -> None:
    participants = load_export(TINY).participants
    table = reliability.reliability_table(participants)
    assert table["scale"].tolist() == ["jian"]
    # p1-p5 answered all 12 items; p6 none.
    assert table["n"].iloc[0] == 5
    assert table["k"].iloc[0] == 12
    assert isinstance(table, pd.DataFrame)
