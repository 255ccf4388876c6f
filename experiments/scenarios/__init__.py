"""Bundled scenarios for studies: data, a fitted model and optionally a planted bug.

    from experiments.scenarios import load_scenario
    s = load_scenario("adult", model="gbm")            # cached per process
    s.item(0), s.predict(0), s.ai_correct
    load_scenario("digits", bug="spurious").bug_details

Scenarios: adult, compas, german_credit, house_prices (regression), digits (8x8 images),
sentiment (text). Bugs: spurious, label_noise, randomised_weights, ood.
"""

from experiments.scenarios.scenario import (
    Scenario,
    available_bugs,
    available_models,
    available_scenarios,
    load_scenario,
)

__all__ = [
    "Scenario",
    "available_bugs",
    "available_models",
    "available_scenarios",
    "load_scenario",
]
