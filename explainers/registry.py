"""One entry point for every method: ``explain(method, model, x, dataset=..., ...)``.

Each method module registers a function with :func:`register`; the function receives the model,
the row to explain, the dataset description, a seed and its own keyword parameters, and returns
an :class:`~explainers.base.Explanation` with provenance filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from explainers.base import Classifier, Explanation, Regressor
from explainers.data import Dataset

ExplainFunction = Callable[..., Explanation]
_METHODS: dict[str, ExplainFunction] = {}


def register(name: str) -> Callable[[ExplainFunction], ExplainFunction]:
    """Decorator: make ``fn`` reachable as ``explain(name, ...)``."""

    def decorate(fn: ExplainFunction) -> ExplainFunction:
        if name in _METHODS and _METHODS[name] is not fn:
            raise ValueError(f"explanation method {name!r} is registered twice")
        _METHODS[name] = fn
        return fn

    return decorate


def available_methods() -> list[str]:
    _load_all_methods()
    return sorted(_METHODS)


def method_parameters(method: str) -> list[str]:
    """The keyword parameters ``method`` accepts beyond model, input, dataset and seed."""
    import inspect

    _load_all_methods()
    if method not in _METHODS:
        raise ValueError(f"unknown explanation method {method!r}")
    skip = {"model", "x", "dataset", "random_state"}
    return [name for name in inspect.signature(_METHODS[method]).parameters if name not in skip]


def explain(
    method: str,
    model: Classifier | Regressor,
    x: Any,
    *,
    dataset: Dataset | None,
    random_state: int | None = None,
    **params: Any,
) -> Explanation:
    """Explain ``model``'s prediction for ``x`` with ``method``.

    ``x`` is one input (a feature vector, an image array or a text). Same inputs, parameters and
    ``random_state`` give the same explanation JSON.
    """
    _load_all_methods()
    try:
        fn = _METHODS[method]
    except KeyError:
        known = ", ".join(sorted(_METHODS))
        raise ValueError(f"unknown explanation method {method!r}; known: {known}") from None
    if isinstance(x, np.ndarray | list | tuple):
        x = np.asarray(x, dtype=float)
    return fn(model, x, dataset=dataset, random_state=random_state, **params)


def _load_all_methods() -> None:
    # Importing the method modules runs their @register decorators.
    import explainers.methods  # noqa: F401
