"""Loading studies from YAML: create, update, and refuse bad specs leaving nothing behind."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from studyapp.models import Condition, Study
from tests.factories import small_spec, to_yaml

pytestmark = pytest.mark.django_db


def _write(tmp_path, spec) -> str:
    path = tmp_path / "study.yaml"
    path.write_text(to_yaml(spec))
    return str(path)


def test_load_study_creates_a_study_with_its_conditions_and_hash(owner, tmp_path, capsys):
    call_command("load_study", _write(tmp_path, small_spec()), "--owner", "owner")
    study = Study.objects.get(slug="small")
    assert [c.name for c in study.conditions.all()] == ["no_ai", "ai", "ai_shap"]
    assert study.conditions.get(name="ai_shap").explanation_method == "tree_shap"
    assert len(study.spec_hash) == 64 and study.status == "draft"
    assert "Created study small" in capsys.readouterr().out


def test_loading_again_updates_in_place_and_changes_the_hash(owner, tmp_path):
    call_command("load_study", _write(tmp_path, small_spec()), "--owner", "owner")
    before = Study.objects.get().spec_hash
    call_command("load_study", _write(tmp_path, small_spec(title="Renamed")), "--owner", "owner")
    study = Study.objects.get()
    assert study.title == "Renamed" and study.spec_hash != before


@pytest.mark.parametrize(("spec", "message"), [
    (small_spec(conditions=[{"name": "x", "explanation": {"method": "magic"}}]),
     "conditions[0].explanation.method: unknown 'magic'"),
    (small_spec(scenario={"name": "atlantis"}), "scenario.name: unknown 'atlantis'"),
    (small_spec(unexpected_field=1), "Additional properties"),
])
def test_a_bad_spec_fails_with_a_named_field_and_writes_nothing(owner, tmp_path, spec, message):
    with pytest.raises(CommandError) as raised:
        call_command("load_study", _write(tmp_path, spec), "--owner", "owner")
    assert message in str(raised.value)
    assert not Study.objects.exists() and not Condition.objects.exists()


def test_a_bad_update_leaves_the_existing_study_untouched(owner, tmp_path):
    call_command("load_study", _write(tmp_path, small_spec()), "--owner", "owner")
    before = Study.objects.get().spec_hash
    bad = small_spec(title="New")
    bad["conditions"].append({"name": "ai"})
    with pytest.raises(CommandError):
        call_command("load_study", _write(tmp_path, bad), "--owner", "owner")
    assert Study.objects.get().spec_hash == before
    assert Study.objects.get().title != "New"


def test_a_missing_file_is_a_clear_error(owner):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_study", "/nonexistent.yaml", "--owner", "owner")


def test_the_item_pool_cannot_change_under_existing_participants(study, tmp_path):
    from tests.studyapp.helpers import Walker

    Walker(study).enter()
    with pytest.raises(CommandError, match=r"trials\.count: this study has participants"):
        call_command("load_study", _write(tmp_path, small_spec(
            trials={"count": 6, "pool_size": 16})), "--owner", "owner")
    assert Study.objects.get().spec["trials"]["count"] == 4


def test_a_study_cannot_open_before_it_is_prepared(owner, tmp_path):
    from studyapp.services import studies
    from studyapp.services.errors import StudyConfigError

    call_command("load_study", _write(tmp_path, small_spec()), "--owner", "owner")
    with pytest.raises(StudyConfigError, match="prepare"):
        studies.study_set_status(study=Study.objects.get(), status="open")


def test_preparing_twice_creates_nothing_twice(study):
    from studyapp.services.preparation import study_prepare

    items, explanations = study.items.count(), study.items.filter(
        explanations__isnull=False).count()
    study_prepare(study=study)
    assert study.items.count() == items
    assert study.items.filter(explanations__isnull=False).count() == explanations


def test_each_explanation_is_stored_with_quality_metrics_and_provenance(study):
    from studyapp.models import Explanation

    stored = Explanation.objects.filter(item__study=study)
    assert stored.count() == 16
    for explanation in stored:
        # Exact TreeSHAP has no seed, so seed-to-seed variation is not among its metrics.
        assert {"deletion_auc", "insertion_auc", "faithfulness_correlation",
                "randomisation_rank_correlation", "max_sensitivity"} <= set(explanation.metrics)
        provenance = explanation.payload["provenance"]
        assert provenance["method"] == "tree_shap" and provenance["model_fingerprint"]
        assert {"numpy", "scikit-learn", "shap"} <= set(provenance["library_versions"])
        assert explanation.payload["target"] == explanation.item.ai_class_index
        assert 'role="img"' in explanation.html


def test_the_readmes_command_works_after_make_demo_without_an_owner(tmp_path):
    """`make demo` creates one researcher (not a superuser); the README's `load_study PATH`
    has no --owner. It failed with "create a superuser first"; the one account owns it now."""
    from studyapp.services.researchers import researcher_create

    researcher = researcher_create(username="researcher", password="demo-password-1")
    call_command("load_study", _write(tmp_path, small_spec()))
    assert Study.objects.get(slug="small").owner == researcher


def test_with_several_researchers_and_no_owner_it_asks_whose_study_it_is(owner, colleague,
                                                                        tmp_path):
    with pytest.raises(CommandError, match=r"several researcher accounts .*--owner"):
        call_command("load_study", _write(tmp_path, small_spec()))
    assert not Study.objects.exists()


def test_with_no_account_at_all_it_says_how_to_make_one(db, tmp_path):
    with pytest.raises(CommandError, match="make demo"):
        call_command("load_study", _write(tmp_path, small_spec()))
