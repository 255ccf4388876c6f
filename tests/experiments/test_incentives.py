"""Bonus rules: amounts against hand-worked cases, the sentence participants read, bad specs.

Oracle: amounts worked out by hand (in comments beside each case), in exact decimals.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from experiments.incentives import Incentives, money
from experiments.spec import validate_spec
from experiments.spec_yaml import SpecError
from tests.factories import small_spec

RIGHT, WRONG = True, False


def _rule(**section: object) -> Incentives:
    rule = Incentives.from_spec({"incentives": {"currency": "GBP", **section}})
    assert rule is not None
    return rule


def test_per_correct_with_a_penalty_and_a_cap():
    rule = _rule(per_correct=0.05, per_incorrect=0.02, cap=0.2)
    # 7 right, 3 wrong: 7 x 0.05 - 3 x 0.02 = 0.35 - 0.06 = 0.29, capped at 0.20.
    assert rule.bonus([RIGHT] * 7 + [WRONG] * 3) == Decimal("0.20")
    # 3 right, 2 wrong: 0.15 - 0.04 = 0.11 (under the cap).
    assert rule.bonus([RIGHT] * 3 + [WRONG] * 2) == Decimal("0.11")
    # 1 right, 5 wrong: 0.05 - 0.10 < 0, so nothing (never negative).
    assert rule.bonus([RIGHT] + [WRONG] * 5) == Decimal("0.00")


def test_per_accuracy_point_above_the_floor():
    rule = _rule(per_accuracy_point=0.03, accuracy_floor=50)
    # 8 of 10 right = 80%: 30 points above 50% x 0.03 = 0.90.
    assert rule.bonus([RIGHT] * 8 + [WRONG] * 2) == Decimal("0.90")
    # 2 of 6 = 33.3%: below the floor, nothing.
    assert rule.bonus([RIGHT] * 2 + [WRONG] * 4) == Decimal("0.00")
    # 2 of 3 = 66.666...%: 16.666... points x 0.03 = 0.5 exactly after rounding to the cent.
    assert rule.bonus([RIGHT, RIGHT, WRONG]) == Decimal("0.50")


def test_unanswered_trials_earn_and_cost_nothing_and_amounts_round_half_up():
    rule = _rule(per_correct=0.005, per_incorrect=1)
    assert rule.bonus([RIGHT, None, None]) == Decimal("0.01")  # 0.005 rounds half up
    assert rule.bonus([]) == Decimal("0.00")


def test_float_amounts_in_the_spec_do_not_drift():
    # 0.1 + 0.2 in floats is 0.30000000000000004; as decimals from the spec's text it is 0.3.
    rule = _rule(per_correct=0.1)
    assert rule.bonus([RIGHT] * 3) == Decimal("0.30")
    assert money(rule.bonus([RIGHT] * 3), "GBP") == "£0.30"


def test_the_statement_says_every_part_of_the_rule():
    text = _rule(per_correct=0.05, per_incorrect=0.02, cap=1, show_running_total=True,
                 currency="USD").statement()
    assert "$0.05 for each correct answer" in text
    assert "$0.02 off" in text and "never goes below zero" in text
    assert "at most $1.00" in text
    assert "so far" in text
    assert "attention" in text  # attention checks do not count, and participants are told
    points = _rule(per_accuracy_point=0.03, accuracy_floor=50).statement()
    assert "£0.03 for each percentage point of your accuracy above 50%" in points


def test_a_spec_without_incentives_pays_no_bonus():
    assert Incentives.from_spec(validate_spec(small_spec())) is None


def test_a_valid_section_is_kept_as_written():
    section = {"currency": "EUR", "per_correct": 0.1, "show_running_total": True}
    spec = validate_spec(small_spec(incentives=section))
    assert spec["incentives"] == section


@pytest.mark.parametrize("section, message", [
    ({"per_correct": 0.1}, "currency"),
    ({"currency": "JPY", "per_correct": 0.1}, "currency"),
    ({"currency": "GBP", "per_correct": -0.1}, "per_correct"),
    ({"currency": "GBP", "per_incorrect": 0.1}, "per_correct or per_accuracy_point"),
    ({"currency": "GBP", "per_correct": 0.1, "bonus": 3}, "bonus"),
    ({"currency": "GBP", "per_correct": 0.1, "cap": 0}, "cap"),
])
def test_bad_incentives_are_refused_with_the_field_named(section, message):
    with pytest.raises(SpecError, match=message):
        validate_spec(small_spec(incentives=section))


def test_a_task_scored_by_error_cannot_pay_per_correct_answer():
    from tests.factories import DEMO_SPEC
    houses = DEMO_SPEC.parent / "poursabzi_simulate_then_decide_houses.yaml"
    import yaml
    spec = yaml.safe_load(houses.read_text(encoding="utf-8"))
    spec["incentives"] = {"currency": "USD", "per_correct": 0.1}
    with pytest.raises(SpecError, match="numbers scored by their error"):
        validate_spec(spec)


def test_amounts_and_the_rule_are_written_as_the_participant_s_language_writes_them():
    from decimal import Decimal

    from experiments.incentives import Incentives, money

    assert money(Decimal("0.05"), "EUR", "de") == "0,05\u00a0€"
    assert money(Decimal("1.5"), "GBP", "es") == "1,50\u00a0£"
    assert money(Decimal("0.05"), "GBP") == "£0.05"
    rule = Incentives(currency="EUR", per_correct=Decimal("0.05"))
    marked = rule.statement(lambda text: f"<{text}>", "de")
    assert marked.startswith("<You can earn a bonus: {rule}.>".replace(
        "{rule}", "<{amount} for each correct answer>".replace("{amount}", "0,05\u00a0€")))
