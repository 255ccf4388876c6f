"""Data descriptions for inputs that are not feature tables: images and texts.

Tabular data uses :class:`explainers.base.TabularDataset`. Images and texts need less metadata
(no per-feature constraints) but the same role: a background sample with labels and class names
that explainers draw prototypes, baselines and noise scales from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from explainers.base import TabularDataset


@dataclass(frozen=True)
class ImageDataset:
    """Grey-scale images ``X`` of shape ``(n, h, w)``; models consume them flattened to ``h*w``.

    ``shape`` is ``(h, w)``; ``y`` holds class indices when known.
    """

    X: np.ndarray
    y: np.ndarray | None
    class_names: tuple[str, ...]
    shape: tuple[int, int]
    name: str = ""

    def __post_init__(self) -> None:
        if self.X.ndim != 3 or tuple(self.X.shape[1:]) != tuple(self.shape):
            raise ValueError(
                f"X has shape {self.X.shape}; expected (n, {self.shape[0]}, {self.shape[1]})"
            )

    @property
    def flat(self) -> np.ndarray:
        """The images as the ``(n, h*w)`` matrix a scikit-learn model is trained on."""
        return self.X.reshape(len(self.X), -1).astype(float)

    @property
    def value_range(self) -> tuple[float, float]:
        return float(np.min(self.X)), float(np.max(self.X))


@dataclass(frozen=True)
class TextDataset:
    """Raw texts with labels; the model is a pipeline that takes a list of strings."""

    texts: tuple[str, ...]
    y: np.ndarray | None
    class_names: tuple[str, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if self.y is not None and len(self.y) != len(self.texts):
            raise ValueError(f"{len(self.texts)} texts but {len(self.y)} labels")


Dataset: TypeAlias = TabularDataset | ImageDataset | TextDataset
"""Any data description a method can be given (tabular, image or text)."""
