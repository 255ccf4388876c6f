"""The admin: researchers configure their own studies there, and only see their own."""

from __future__ import annotations

import pytest
from django.test import Client

from experiments.spec import parse_spec, spec_hash

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_sees_and_edits_their_study_in_the_admin(study, owner):
    client = _client(owner)
    assert study.slug.encode() in client.get("/admin/studyapp/study/").content
    assert client.get(f"/admin/studyapp/study/{study.pk}/change/").status_code == 200


def test_an_outsider_sees_no_trace_of_the_study_in_the_admin(study, outsider):
    client = _client(outsider)
    assert study.slug.encode() not in client.get("/admin/studyapp/study/").content
    assert client.get(f"/admin/studyapp/study/{study.pk}/change/").status_code == 302
    items = client.get("/admin/studyapp/item/").content
    assert b"adult-test-" not in items


def test_a_viewer_cannot_save_changes_in_the_admin(study, colleague):
    client = _client(colleague)
    page = client.get(f"/admin/studyapp/study/{study.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_collected_data_is_read_only_in_the_admin(study, owner):
    from tests.studyapp.helpers import Walker

    Walker(study).to_trials()
    client = _client(owner)
    assert client.get("/admin/studyapp/participant/add/").status_code == 403


def test_a_study_exported_as_yaml_loads_back_to_the_same_spec(study, owner):
    response = _client(owner).post("/admin/studyapp/study/", {
        "action": "export_yaml", "_selected_action": [study.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-yaml"
    again = parse_spec(response.content.decode())
    assert spec_hash(again) == study.spec_hash


def test_a_researcher_creates_a_study_by_pasting_its_yaml(owner, db):
    from studyapp.models import Study
    from tests.factories import small_spec, to_yaml

    response = _client(owner).post("/admin/studyapp/study/add/", {
        "spec_yaml": to_yaml(small_spec(slug="pasted")), "raw_ids_in_export": ""})
    assert response.status_code == 302, response.content[:2000]
    study = Study.objects.get(slug="pasted")
    assert study.owner == owner and study.conditions.count() == 3


def test_a_bad_yaml_in_the_admin_names_the_field_and_saves_nothing(owner, db):
    from studyapp.models import Study
    from tests.factories import small_spec, to_yaml

    response = _client(owner).post("/admin/studyapp/study/add/", {
        "spec_yaml": to_yaml(small_spec(trials={"count": 0}))})
    assert response.status_code == 200
    assert b"trials.count" in response.content
    assert not Study.objects.exists()


def test_editing_the_yaml_in_the_admin_updates_the_study_and_its_hash(study, owner):
    from experiments.spec import dump_spec

    spec = dict(study.spec, title="A clearer title")
    response = _client(owner).post(f"/admin/studyapp/study/{study.pk}/change/", {
        "spec_yaml": dump_spec(spec), "raw_ids_in_export": "on",
        "conditions-TOTAL_FORMS": "0", "conditions-INITIAL_FORMS": "0",
        "access-TOTAL_FORMS": "0", "access-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:3000]
    before = study.spec_hash
    study.refresh_from_db()
    assert study.title == "A clearer title" and study.spec_hash != before
    assert study.raw_ids_in_export


def test_the_slug_cannot_change_through_the_admin(study, owner):
    from experiments.spec import dump_spec

    response = _client(owner).post(f"/admin/studyapp/study/{study.pk}/change/", {
        "spec_yaml": dump_spec(dict(study.spec, slug="renamed")),
        "conditions-TOTAL_FORMS": "0", "conditions-INITIAL_FORMS": "0",
        "access-TOTAL_FORMS": "0", "access-INITIAL_FORMS": "0"})
    assert b"slug cannot change" in response.content
