"""Editing a study safely: versions with the YAML as written, participants keep theirs, and a
change that would alter what enrolled participants get is a form error, not a server error.

Oracles: the texts a test itself wrote (a comment, a consent sentence) found again where the
researcher or the participant reads them; the database compared before and after a refused
change; experiments.spec_changes for which change is which.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from studyapp.models import Item, Participant, Study, StudyVersion
from studyapp.services import enrolment, exports, preparation, studies
from studyapp.services.errors import StudyConfigError
from tests.factories import small_spec, to_yaml
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

COMMENT = "# Pilot of 2026-12: keep the pool small."
CONSENT_V1 = "Consent as first written."
CONSENT_V2 = "Consent as reworded after the pilot."


def _source(consent: str = CONSENT_V1, **overrides: Any) -> str:
    spec = small_spec(slug="versions", consent={"text": consent, "screen_out_on_decline": True},
                      **overrides)
    return f"{COMMENT}\n{to_yaml(spec)}"


@pytest.fixture
def running(owner) -> Study:
    """A prepared, open study loaded from YAML with a comment."""
    study, _ = studies.study_load_spec(text=_source(), owner=owner)
    preparation.study_prepare(study=study)
    return studies.study_set_status(study=study, status="open")


def _admin(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _save_in_admin(user, study: Study, text: str) -> Any:
    return _admin(user).post(f"/admin/studyapp/study/{study.pk}/change/", {
        "spec_yaml": text, "raw_ids_in_export": "",
        "conditions-TOTAL_FORMS": "0", "conditions-INITIAL_FORMS": "0",
        "access-TOTAL_FORMS": "0", "access-INITIAL_FORMS": "0"})


def _state(study: Study) -> tuple[Any, ...]:
    study.refresh_from_db()
    return (study.spec_hash, study.spec, study.preparation, study.items.count(),
            list(study.versions.values_list("number", "spec_hash", "source_text")),
            list(study.conditions.values_list("name", "label")))


# ----- the YAML as written -------------------------------------------------------------------

def test_the_admin_editor_shows_the_yaml_with_its_comments(running, owner):
    page = _admin(owner).get(f"/admin/studyapp/study/{running.pk}/change/")
    assert COMMENT in page.content.decode()


def test_a_wording_change_in_the_admin_keeps_the_comments_and_makes_version_2(running, owner):
    response = _save_in_admin(owner, running, _source(CONSENT_V2))
    assert response.status_code == 302, response.content[:2000]
    versions = list(running.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].created_by == owner and versions[0].created_by is None
    assert versions[1].spec_hash == Study.objects.get(pk=running.pk).spec_hash
    assert versions[0].spec_hash != versions[1].spec_hash
    assert versions[1].source_text == _source(CONSENT_V2)
    page = _admin(owner).get(f"/admin/studyapp/study/{running.pk}/change/").content.decode()
    assert COMMENT in page and CONSENT_V2 in page
    assert f"v2 {versions[1].spec_hash[:12]}" in page and f"by {owner.username}" in page


def test_export_as_yaml_returns_the_text_as_written(running, owner):
    response = _admin(owner).post("/admin/studyapp/study/", {
        "action": "export_yaml", "_selected_action": [running.pk]})
    assert response.content.decode() == _source()


def test_saving_the_same_spec_again_makes_no_new_version(running, owner):
    studies.study_load_spec(text=_source(), owner=owner)
    assert running.versions.count() == 1


def test_a_comment_alone_changes_the_text_kept_but_not_the_version(running, owner):
    text = _source().replace(COMMENT, "# Reworded comment.")
    studies.study_load_spec(text=text, owner=owner)
    (version,) = running.versions.all()
    assert version.number == 1 and version.source_text == text


# ----- participants keep the version they started ----------------------------------------------

def test_a_participant_keeps_reading_the_wording_they_started_with(running, owner):
    before = Walker(running, pid="BEFORE")
    before.enter()
    assert CONSENT_V1 in before.page().content.decode()
    studies.study_load_spec(text=_source(CONSENT_V2), owner=owner)
    after = Walker(running, pid="AFTER")
    after.enter()
    assert CONSENT_V2 in after.page().content.decode()
    page = before.page().content.decode()
    assert CONSENT_V1 in page and CONSENT_V2 not in page
    assert before.participant.version.number == 1 and after.participant.version.number == 2
    assert before.participant.spec_hash != after.participant.spec_hash


def test_instructions_and_the_task_question_are_read_from_the_participants_version(
        running, owner):
    walker = Walker(running, pid="EARLY")
    walker.enter()
    walker.post("consent", agree="yes")
    spec = small_spec(slug="versions", consent={"text": CONSENT_V1,
                                                "screen_out_on_decline": True})
    spec["instructions"] = ["Reworded instructions."]
    spec["task"] = dict(spec["task"], question="Reworded question?")
    studies.study_load_spec(text=to_yaml(spec), owner=owner)
    assert "Reworded instructions." not in walker.page().content.decode()
    walker.post("instructions")
    walker.post("comprehension", **{q["id"]: q["answer"]
                                    for q in running.spec["comprehension"]["questions"]})
    trial = walker.page().content.decode()
    assert small_spec()["task"]["question"] in trial and "Reworded question?" not in trial


def test_the_export_says_which_version_each_participant_saw(running, owner):
    Walker(running, pid="BEFORE").enter()
    studies.study_load_spec(text=_source(CONSENT_V2), owner=owner)
    Walker(running, pid="AFTER").enter()
    files = exports.study_export_files(study=running)
    rows = list(csv.DictReader(io.StringIO(files["participants.csv"])))
    assert [r["spec_version"] for r in rows] == ["1", "2"]
    assert files["study.yaml"] == _source(CONSENT_V2)
    assert files["versions/v1.yaml"] == _source() and files["versions/v2.yaml"] == _source(
        CONSENT_V2)
    package = json.loads(files["datapackage.json"])
    hashes = {v["number"]: v["spec_hash"] for v in package["explainlab"]["versions"]}
    assert [rows[0]["spec_hash"], rows[1]["spec_hash"]] == [hashes[1], hashes[2]]
    (participants,) = [r for r in package["resources"] if r["name"] == "participants"]
    assert "spec_version" in {f["name"] for f in participants["schema"]["fields"]}


def test_the_export_command_writes_each_version_s_yaml(running, owner, tmp_path):
    studies.study_load_spec(text=_source(CONSENT_V2), owner=owner)
    call_command("export_study", running.slug, "--out", str(tmp_path), "--no-reports")
    assert (tmp_path / "versions" / "v1.yaml").read_text() == _source()
    assert (tmp_path / "study.yaml").read_text() == _source(CONSENT_V2)


# ----- what may not change while participants exist ----------------------------------------

POOL = small_spec()["trials"] | {"pool_size": 20}
SEED = small_spec()["scenario"] | {"seed": 5}
EXPLAINED = [*small_spec()["conditions"][:1], {"name": "ai", "label": "AI prediction",
                                               "explanation": {"method": "tree_shap"}},
             *small_spec()["conditions"][2:]]


@pytest.mark.parametrize(("section", "value", "field"), [
    ("trials", POOL, "trials.pool_size"),
    ("scenario", SEED, "scenario.seed"),
    ("conditions", EXPLAINED, "conditions[1].explanation"),
], ids=["pool size", "scenario seed", "a condition's explanation"])
def test_a_change_to_what_participants_get_is_a_form_error_and_writes_nothing(
        running, owner, section, value, field):
    Walker(running, pid="ENROLLED").to_trials()
    before = _state(running)
    response = _save_in_admin(owner, running, _source(**{section: value}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["spec_yaml"]
    assert errors[0].startswith(field) and "copy the study" in errors[0]
    assert _state(running) == before


def test_the_command_line_refuses_the_same_change(running, owner, tmp_path):
    Walker(running, pid="ENROLLED").enter()
    before = _state(running)
    path = tmp_path / "study.yaml"
    path.write_text(_source(trials=POOL))
    with pytest.raises(CommandError, match=r"trials\.pool_size: this study has participants"):
        call_command("load_study", str(path), "--owner", "owner")
    assert _state(running) == before


def test_the_service_refuses_it_whatever_the_participant_s_status(running, owner):
    Walker(running, pid="DONE").enter()
    Participant.objects.update(status=Participant.Status.COMPLETED)
    studies.study_set_status(study=running, status="closed")
    with pytest.raises(StudyConfigError, match="copy the study"):
        studies.study_load_spec(text=_source(trials=POOL), owner=owner)


def test_without_participants_the_pool_may_change_and_previews_are_dropped(running, owner):
    preview = enrolment.preview_participant_create(
        study=running, condition=running.conditions.get(name="ai"))
    response = _save_in_admin(owner, running, _source(trials=POOL))
    assert response.status_code == 302, response.content[:2000]
    running.refresh_from_db()
    assert running.typed_spec.trials.pool_size == 20 and running.versions.count() == 2
    assert running.preparation == Study.Preparation.NOT_STARTED
    assert not Item.objects.filter(study=running).exists()
    assert not Participant.objects.filter(pk=preview.pk).exists()


# ----- copying ---------------------------------------------------------------------------------

def test_copy_as_a_new_study_gives_a_draft_with_the_text_as_written(running, owner):
    Walker(running, pid="ENROLLED").enter()
    client = _admin(owner)
    for _ in range(2):
        response = client.post("/admin/studyapp/study/", {
            "action": "copy_study", "_selected_action": [running.pk]})
        assert response.status_code == 302
    first, second = Study.objects.get(slug="versions-copy"), Study.objects.get(
        slug="versions-copy-2")
    assert first.status == Study.Status.DRAFT and not first.participants.exists()
    assert first.owner == owner and first.preparation == Study.Preparation.NOT_STARTED
    (version,) = first.versions.all()
    assert version.source_text == _source().replace("slug: versions", "slug: versions-copy")
    assert COMMENT in version.source_text and second.versions.count() == 1
    # The copy takes the change the running study refused.
    studies.study_load_spec(text=_source(trials=POOL).replace(
        "slug: versions", "slug: versions-copy"), owner=owner)
    assert Study.objects.get(slug="versions-copy").typed_spec.trials.pool_size == 20


def test_a_colleague_who_may_only_view_cannot_copy(running, colleague):
    from studyapp.models import StudyAccess

    StudyAccess.objects.create(study=running, user=colleague, role=StudyAccess.Role.VIEW)
    _admin(colleague).post("/admin/studyapp/study/", {
        "action": "copy_study", "_selected_action": [running.pk]})
    assert not Study.objects.filter(slug__startswith="versions-copy").exists()


def test_a_slug_on_a_line_of_its_own_is_replaced_and_nothing_else():
    text = "# note\nslug: demo   # the address\ntitle: 'Quoted: title'\n"
    assert studies.spec_with_slug(text, "demo-copy") == (
        "# note\nslug: demo-copy  # the address\ntitle: 'Quoted: title'\n")


@pytest.mark.django_db(transaction=True)  # migrations change the schema: no test transaction
def test_a_study_created_before_versions_gets_version_1_from_the_migration(owner):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    study, _ = studies.study_load_spec(text=_source(), owner=owner)
    participant = Participant.objects.create(
        study=study, condition=study.conditions.get(name="ai"), external_id="before",
        seed=1, spec_hash=study.spec_hash)
    StudyVersion.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate([("studyapp", "0014_trial_practice")])
    executor.loader.build_graph()
    executor.migrate([("studyapp", "0015_study_versions")])
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # the later migrations too
    (version,) = StudyVersion.objects.filter(study=study)
    assert version.number == 1 and version.spec_hash == study.spec_hash
    assert Participant.objects.get(pk=participant.pk).version_id == version.pk
