"""What a condition's explanation shows, as the spec declares it: the wording level.
Oracle: the spec itself."""

from __future__ import annotations

import pytest

from studyapp.models import Explanation
from studyapp.services import preparation, studies
from studyapp.services.explanations import explanation_key
from tests.factories import small_spec, to_yaml

pytestmark = pytest.mark.django_db


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
