"""Performance bonuses: the rule a spec states, the sentence participants read, the amount owed.

A study's ``incentives`` section pays for correct answers on the scored (main) trials::

    incentives:
      currency: GBP               # GBP, USD or EUR: what Prolific / MTurk pay in
      per_correct: 0.05           # for each correct answer
      per_incorrect: 0.02         # a penalty for each wrong one (subtracted)
      per_accuracy_point: 0.01    # for each percentage point of accuracy above the floor
      accuracy_floor: 50          # percent; chance in a two-class task
      cap: 1.00                   # the most anyone can earn
      show_running_total: true    # trial pages show the bonus earned so far

A bonus is never negative (penalties only reduce what was earned) and never above the cap.
Unanswered trials earn and cost nothing. Amounts are exact decimals, rounded to the cent
half-up once, at the end, so the total a participant was told equals the amount paid.

The rule is the participant's contract, so it is stated in the instructions in plain words
(:meth:`Incentives.statement`) exactly as it is computed (:meth:`Incentives.bonus`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from experiments.languages import gettext_noop

__all__ = ["CURRENCIES", "SCHEMA", "Incentives", "money"]

CURRENCIES = {"GBP": "£", "USD": "$", "EUR": "€"}
CENT = Decimal("0.01")

_AMOUNT = {"type": "number", "minimum": 0, "maximum": 100}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["currency"],
    "properties": {
        "currency": {"enum": sorted(CURRENCIES)},
        "per_correct": _AMOUNT,
        "per_incorrect": _AMOUNT,
        "per_accuracy_point": _AMOUNT,
        "accuracy_floor": {"type": "number", "minimum": 0, "maximum": 100},
        "cap": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "show_running_total": {"type": "boolean"},
    },
}


# Languages that write an amount "0,35 €": decimal comma, the symbol after the number.
_SYMBOL_AFTER = frozenset({"de", "es"})


def money(amount: Decimal, currency: str, language: str = "en") -> str:
    """``£0.35``: an amount as participants read it (``0,35 £`` in German or Spanish)."""
    number = f"{amount.quantize(CENT, rounding=ROUND_HALF_UP)}"
    if language in _SYMBOL_AFTER:
        return f"{number.replace('.', ',')}\u00a0{CURRENCIES[currency]}"
    return f"{CURRENCIES[currency]}{number}"


def _decimal(value: Any) -> Decimal:
    # Through str: 0.05 as a float is 0.05000000000000000277, which must not reach a payment.
    return Decimal(str(value))


@dataclass(frozen=True)
class Incentives:
    """A study's bonus rule (see the module docstring for the spec section)."""

    currency: str
    per_correct: Decimal = Decimal(0)
    per_incorrect: Decimal = Decimal(0)
    per_accuracy_point: Decimal = Decimal(0)
    accuracy_floor: Decimal = Decimal(0)
    cap: Decimal | None = None
    show_running_total: bool = False

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Incentives | None:
        """The rule of a validated spec, or None when it pays no bonus."""
        section = spec.get("incentives")
        if not section:
            return None
        cap = section.get("cap")
        return cls(currency=section["currency"],
                   per_correct=_decimal(section.get("per_correct", 0)),
                   per_incorrect=_decimal(section.get("per_incorrect", 0)),
                   per_accuracy_point=_decimal(section.get("per_accuracy_point", 0)),
                   accuracy_floor=_decimal(section.get("accuracy_floor", 0)),
                   cap=None if cap is None else _decimal(cap),
                   show_running_total=bool(section.get("show_running_total", False)))

    @property
    def pays_anything(self) -> bool:
        return bool(self.per_correct or self.per_accuracy_point)

    def bonus(self, correct: Iterable[bool | None]) -> Decimal:
        """The bonus for these scored trials' outcomes (None: not answered), to the cent."""
        outcomes = [c for c in correct if c is not None]
        right = sum(outcomes)
        wrong = len(outcomes) - right
        amount = self.per_correct * right - self.per_incorrect * wrong
        if self.per_accuracy_point and outcomes:
            points = Decimal(100 * right) / Decimal(len(outcomes)) - self.accuracy_floor
            amount += self.per_accuracy_point * max(points, Decimal(0))
        amount = max(amount, Decimal(0))
        if self.cap is not None:
            amount = min(amount, self.cap)
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    def statement(self, gettext: Callable[[str], str] = gettext_noop,
                  language: str = "en") -> str:
        """The rule in the words participants read in the instructions; ``gettext``
        translates each sentence (the page passes Django's, in the participant's language),
        amounts are written as ``language`` writes them."""
        parts = []
        if self.per_correct:
            parts.append(gettext("{amount} for each correct answer").format(
                amount=self._money(self.per_correct, language)))
        if self.per_accuracy_point:
            amount = self._money(self.per_accuracy_point, language)
            parts.append(
                gettext("{amount} for each percentage point of your accuracy above {floor}%")
                .format(amount=amount, floor=f"{self.accuracy_floor.normalize():f}")
                if self.accuracy_floor else
                gettext("{amount} for each percentage point of your accuracy")
                .format(amount=amount))
        rule = (parts[0] if len(parts) == 1 else
                gettext("{first} and {second}").format(first=parts[0], second=parts[1]))
        sentences = [gettext("You can earn a bonus: {rule}.").format(rule=rule)]
        if self.per_incorrect:
            sentences.append(gettext("Each wrong answer takes {amount} off your bonus, which "
                                     "never goes below zero.")
                             .format(amount=self._money(self.per_incorrect, language)))
        if self.cap is not None:
            sentences.append(gettext("The bonus is at most {amount}.")
                             .format(amount=self._money(self.cap, language)))
        sentences.append(gettext("It is paid after the study, on top of the payment for "
                                 "taking part; questions that check your attention do not "
                                 "count."))
        if self.show_running_total:
            sentences.append(gettext("Each page shows the bonus you have earned so far."))
        return " ".join(sentences)

    def _money(self, amount: Decimal, language: str = "en") -> str:
        return money(amount, self.currency, language)
