"""What a condition's explanation shows, as the spec declares it: the wording level and, for
the scaffolding attack, which model is explained. Oracles: the spec itself, the items' stored
predictions, and the construction of the biased and scaffolded models (attacks.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.test import Client

from studyapp.models import Explanation
from studyapp.services import preparation, studies
from studyapp.services.explanations import explanation_key
from studyapp.services.gallery import gallery_build
from tests.factories import small_spec, to_yaml

pytestmark = pytest.mark.django_db
SLACK = (Path(__file__).resolve().parents[2] / "examples" / "studies"
         / "slack_scaffolding_compas.yaml")


def test_a_technical_condition_gets_its_own_technical_explanations_beside_the_plain_ones(owner):
    spec = small_spec()
    spec["conditions"].append({"name": "ai_shap_technical", "explanation": {
        "method": "tree_shap", "wording": "technical"}})
    study, _ = studies.study_load_spec(text=to_yaml(spec), owner=owner)
    preparation.study_prepare(study=study)
    plain, technical = (study.conditions.get(name=n) for n in ("ai_shap", "ai_shap_technical"))
    assert explanation_key(plain) != explanation_key(technical)
    for condition, wording in ((plain, "plain"), (technical, "technical")):
        rows = Explanation.objects.filter(item__study=study, params_key=explanation_key(condition))
        assert rows.count() == 16
        for row in rows:
            assert f"xl-wording-{wording}" in row.html
            assert ("log-odds" in row.html) == (wording == "technical")


def _top_feature(row: Explanation) -> str:
    features = row.payload["content"]["features"]
    return max(features, key=lambda f: abs(f["attribution"]))["name"]


def test_the_scaffolded_condition_explains_the_twin_that_hides_the_bias(owner):
    spec = yaml.safe_load(SLACK.read_text(encoding="utf-8"))
    spec["trials"] = {"count": 4, "pool_size": 16, "attention_checks": 1}
    for condition in spec["conditions"]:
        condition["explanation"]["params"] = {"num_samples": 1000}
    study, _ = studies.study_load_spec(text=to_yaml(spec), owner=owner)
    preparation.study_prepare(study=study)
    honest, attacked = (study.conditions.get(name=n) for n in ("lime_honest", "lime_scaffolded"))
    items = list(study.items.filter(role="pool"))
    assert len(items) == 16
    tops = {"honest": [], "attacked": []}
    for item in items:
        for name, condition in (("honest", honest), ("attacked", attacked)):
            row = item.explanations.get(params_key=explanation_key(condition))
            # Every explanation is of the prediction participants see (the twins agree on
            # every item the pool kept).
            assert row.payload["prediction"]["class_name"] == item.ai_prediction
            tops[name].append(_top_feature(row))
    # The biased AI decides by race alone: honest LIME says so; the scaffolded twin's hides it.
    assert tops["honest"].count("race") == len(items)
    assert tops["attacked"].count("race") <= len(items) // 4


def test_the_gallery_shows_the_scaffolding_attack_and_the_randomised_model(owner, settings,
                                                                           tmp_path):
    settings.VAR_DIR = tmp_path
    outcome = gallery_build(methods=["random_attribution"], controls=True)
    assert outcome["control:scaffolding"] == "scenarios"
    client = Client()
    client.force_login(owner)
    page = client.get("/r/gallery/").content.decode()
    for name in ("scaffolding", "randomised_model"):
        assert f'id="control-{name}"' in page
    start = page.index('id="control-scaffolding"')
    section = page[start:page.index("</section>", start)]
    labels = re.findall(r"class=\"xl-label\"[^>]*>([^<]+)<", section)
    assert labels and labels[0].startswith("Race")  # honest view first: race on top
    assert "Technical wording" in page


def test_forward_simulation_pages_are_headed_by_what_they_ask(owner):
    """Before: learning pages were headed by the task's question ("Over $50K?") though they
    only ask to study the AI's prediction and continue. Oracle: the design's own step
    questions (experiments/designs.py)."""
    from experiments.designs import design
    from studyapp.models import Trial
    from tests.factories import make_study
    from tests.studyapp.helpers import Walker

    spec = small_spec(
        slug="fwd-headings", task={"design": "forward_simulation", "question": "Over $50K?"},
        trials={"learning": 2, "count": 2, "pool_size": 16, "attention_checks": 0},
        conditions=[{"name": "shap", "explanation": {"method": "tree_shap"}}])
    study = make_study(owner, spec)
    task = design("forward_simulation")
    walker = Walker(study)
    walker.to_trials()
    participant = walker.participant
    headings: dict[str, str] = {}
    while walker.participant.stage == "trials":
        trial = Trial.objects.get(participant=participant, index=walker.participant.trial_pointer)
        page = walker.page().content.decode()
        heading = re.search(r'<h1 class="question">(.*?)</h1>', page, re.S).group(1)
        headings[trial.phase] = heading
        step = task.steps(task.phase(trial.phase), show_ai=True, explained=True,
                          question="Over $50K?", attention=False)[0]
        assert heading == step.question.prompt.replace("'", "&#x27;")
        assert page.count(heading) == 1  # said once, not again above the button
        answer = "seen" if trial.phase.startswith("learning") else trial.item.ai_prediction
        assert walker.answer_current(answer).status_code == 303
    assert set(headings) == {"learning", "pre", "learning_explained", "post"}
    assert "Over $50K?" not in headings["learning"]
