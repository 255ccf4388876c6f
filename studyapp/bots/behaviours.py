"""How a bot answers a trial. Pluggable: a behaviour is a callable object with ``answer``.

- ``random``: picks an answer uniformly.
- ``follows_ai``: takes the AI's advice when shown (with probability ``p_follow``), else random.
- ``planted``: answers correctly with a probability that depends on what it is shown
  (no AI / AI / AI + explanation), so a study run by these bots carries a known effect the
  analysis must recover. It knows the truth through an oracle (the runner reads the item's
  label from the database) — a simulated person of known skill, not a browser feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from studyapp.bots.pages import Page

TruthOracle = Callable[[str], str | None]


class Behaviour(Protocol):
    def answer(self, page: Page, options: list[str], rng: np.random.Generator
               ) -> tuple[str, int]: ...


def _confidence(page: Page, rng: np.random.Generator) -> int:
    points = page.form.radios.get("confidence", [])
    return int(rng.choice([int(p) for p in points])) if points else 0


@dataclass
class RandomBehaviour:
    def answer(self, page: Page, options: list[str], rng: np.random.Generator
               ) -> tuple[str, int]:
        return str(rng.choice(options)), _confidence(page, rng)


@dataclass
class FollowsAI:
    p_follow: float = 0.9

    def answer(self, page: Page, options: list[str], rng: np.random.Generator
               ) -> tuple[str, int]:
        if page.ai_prediction in options and rng.random() < self.p_follow:
            return page.ai_prediction, _confidence(page, rng)
        return str(rng.choice(options)), _confidence(page, rng)


@dataclass
class Planted:
    """Accuracy by what is shown: the planted condition effect."""

    oracle: TruthOracle
    p_correct_no_ai: float = 0.6
    p_correct_ai: float = 0.7
    p_correct_explained: float = 0.85

    def answer(self, page: Page, options: list[str], rng: np.random.Generator
               ) -> tuple[str, int]:
        truth = self.oracle(page.attributes.get("data-item", ""))
        if truth not in options:
            return str(rng.choice(options)), _confidence(page, rng)
        p = (self.p_correct_explained if page.has_explanation
             else self.p_correct_ai if page.ai_prediction else self.p_correct_no_ai)
        if rng.random() < p:
            return truth, _confidence(page, rng)
        wrong = [o for o in options if o != truth]
        return str(rng.choice(wrong)), _confidence(page, rng)


def make_behaviour(name: str, oracle: TruthOracle | None = None) -> Behaviour:
    if name == "random":
        return RandomBehaviour()
    if name == "follows_ai":
        return FollowsAI()
    if name == "planted":
        if oracle is None:
            raise ValueError("the planted behaviour needs a truth oracle")
        return Planted(oracle=oracle)
    raise ValueError(f"unknown bot behaviour {name!r}; expected random, follows_ai or planted")
