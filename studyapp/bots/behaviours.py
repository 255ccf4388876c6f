"""How a bot answers a trial. Pluggable: a behaviour is a callable object with ``answer``.

- ``random``: picks an answer uniformly.
- ``follows_ai``: takes the AI's advice when shown (with probability ``p_follow``), else random.
- ``planted``: answers correctly with a probability that depends on what it is shown
  (no AI / AI / AI + explanation), so a study run by these bots carries a known effect the
  analysis must recover. It knows the truth through an oracle (the runner reads the item's
  label from the database, keyed by the opaque token the page carries in `data-item`) — a
  simulated person of known skill, not a browser feature.
"""

from __future__ import annotations

import re
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
        followed = page.answer_value(page.ai_prediction)
        if followed in options and rng.random() < self.p_follow:
            return followed, _confidence(page, rng)
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


def number_answer(behaviour: Behaviour, page: Page, bounds: tuple[float, float],
                  rng: np.random.Generator) -> str:
    """A numeric estimate (simulate then decide), in range: the number an attention check
    asks for; the AI's output for a bot that follows it; the truth give or take 10% for a
    planted bot; otherwise a guess in the lower part of the range."""
    low, high = bounds
    asked = _NUMBER.findall(page.instruction.replace(",", ""))
    if asked:
        return asked[0]
    shown = _NUMBER.findall(page.ai_prediction.replace(",", ""))
    if isinstance(behaviour, FollowsAI) and shown:
        return shown[0]
    if isinstance(behaviour, Planted):
        truth = behaviour.oracle(page.attributes.get("data-item", ""))
        if truth and _NUMBER.fullmatch(truth):
            guess = float(truth) * (1 + rng.normal(0, 0.1))
            return str(int(min(max(guess, low), high)))
    return str(int(rng.uniform(low, low + (high - low) / 10)))


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


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
