"""One-feature edits for counterfactual simulation."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.perturb import one_feature_edit
from explainers.base import Feature, TabularDataset


def _data() -> TabularDataset:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 3, 200), rng.normal(40, 10, 200).round()])
    return TabularDataset(X=X, features=(
        Feature("job", "categorical", ("clerk", "nurse", "pilot")),
        Feature("age", integer=True, unit="years")))


def test_an_edit_changes_exactly_one_feature_to_a_value_seen_in_the_data():
    data = _data()
    x = data.X[0]
    for seed in range(20):
        edit = one_feature_edit(x, data, rng=np.random.default_rng(seed))
        changed = np.flatnonzero(edit.row != x)
        assert list(changed) == [edit.feature]
        assert edit.row[edit.feature] in data.X[:, edit.feature]
        assert edit.before != edit.after


def test_numeric_edits_are_at_least_half_an_interquartile_range_away():
    data = _data()
    q1, q3 = np.percentile(data.X[:, 1], [25, 75])
    for seed in range(20):
        edit = one_feature_edit(data.X[3], data, rng=np.random.default_rng(seed))
        if edit.feature == 1:
            assert abs(edit.row[1] - data.X[3, 1]) >= (q3 - q1) / 2


def test_an_input_that_cannot_change_is_a_clear_error():
    data = TabularDataset(X=np.ones((5, 1)), features=(Feature("constant"),))
    with pytest.raises(ValueError, match="no feature"):
        one_feature_edit(data.X[0], data, rng=np.random.default_rng(0))
