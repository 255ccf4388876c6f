"""Explanation generators, quality metrics and renderers for scikit-learn models.

Pure Python (numpy, scipy, scikit-learn, shap): no Django. Use from a notebook::

    from explainers import explain
    e = explain("tree_shap", model, x, dataset=data, random_state=0)
    e.to_json()
"""

from explainers.base import Explanation, Feature, Provenance, TabularDataset, model_fingerprint
from explainers.registry import available_methods, explain, register

__all__ = [
    "Explanation",
    "Feature",
    "Provenance",
    "TabularDataset",
    "available_methods",
    "explain",
    "model_fingerprint",
    "register",
]
