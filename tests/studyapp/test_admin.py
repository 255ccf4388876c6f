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
