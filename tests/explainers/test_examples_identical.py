"""``nearest_examples`` on a training row: ``exclude_identical`` leaves the row itself out.

Oracle: brute force — the standardised Euclidean distances to every other row, sorted.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from explainers import explain
from explainers.base import Feature, TabularDataset


def test_a_training_row_is_not_its_own_nearest_example_when_excluded():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    dataset = TabularDataset(X=X, features=tuple(Feature(f"x{i}", "numeric") for i in range(3)),
                             class_names=("no", "yes"), y=y)
    model = LogisticRegression().fit(X, y)
    with_self = explain("nearest_examples", model, X[7], dataset=dataset, k=3)
    without = explain("nearest_examples", model, X[7], dataset=dataset, k=3,
                      exclude_identical=True)
    assert with_self.content["examples"][0]["index"] == 7
    z = (X - X.mean(axis=0)) / X.std(axis=0)
    distances = np.linalg.norm(z - z[7], axis=1)
    distances[7] = np.inf
    expected = list(np.argsort(distances, kind="stable")[:3])
    assert [e["index"] for e in without.content["examples"]] == expected
