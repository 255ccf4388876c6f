"""Researchers see and export only their own (or shared) studies, on pages and in the API."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from studyapp.models import Participant
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

READ_PAGES = ["/r/{slug}/", "/r/{slug}/counts.json", "/r/{slug}/export.zip"]
WRITE_PAGES = ["/r/{slug}/status", "/r/{slug}/conditions/ai/open", "/r/{slug}/prepare"]
READ_API = ["/api/studies/{slug}/", "/api/studies/{slug}/participants/",
            "/api/studies/{slug}/trials/", "/api/studies/{slug}/export/"]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", READ_PAGES + READ_API)
def test_the_owner_can_read_every_study_page_and_endpoint(study, owner, path):
    assert _client(owner).get(path.format(slug=study.slug)).status_code == 200


@pytest.mark.parametrize("path", READ_PAGES + READ_API)
def test_a_colleague_with_view_rights_can_read_too(study, colleague, path):
    assert _client(colleague).get(path.format(slug=study.slug)).status_code == 200


@pytest.mark.parametrize("path", READ_PAGES + READ_API)
def test_an_outsider_gets_404_everywhere(study, outsider, path):
    assert _client(outsider).get(path.format(slug=study.slug)).status_code == 404


@pytest.mark.parametrize("path", WRITE_PAGES)
def test_a_viewer_cannot_change_the_study(study, colleague, path):
    response = _client(colleague).post(path.format(slug=study.slug), {"status": "closed",
                                                                      "open": "0"})
    assert response.status_code == 404
    study.refresh_from_db()
    assert study.status == "open"
    assert study.conditions.get(name="ai").is_open


@pytest.mark.parametrize("path", READ_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(study, path):
    response = Client().get(path.format(slug=study.slug))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_login_page_offers_no_researcher_pages_until_logged_in(owner):
    """Oracle: the nav's own label. Logged out, every link in it would only lead back here."""
    assert 'aria-label="Researcher"' not in Client().get("/accounts/login/").content.decode()
    assert 'aria-label="Researcher"' in _client(owner).get("/r/").content.decode()


def test_open_recruitment_waits_for_preparation_on_the_study_page(owner):
    """Oracle: the page's forms. Unprepared, opening would only fail with an error, so there is
    no form to press, only a disabled button saying why; prepared, the form is there."""
    from studyapp.services import preparation, studies
    from tests.factories import small_spec, to_yaml

    study, _ = studies.study_load_spec(text=to_yaml(small_spec()), owner=owner)
    opening = 'name="status" value="open"'
    page = _client(owner).get(f"/r/{study.slug}/").content.decode()
    assert opening not in page and "Prepare the items and explanations first." in page
    preparation.study_prepare(study=study)
    page = _client(owner).get(f"/r/{study.slug}/").content.decode()
    assert opening in page and "Prepare the items and explanations first." not in page


@pytest.mark.parametrize("path", READ_API)
def test_anonymous_api_calls_are_refused(study, path):
    assert Client().get(path.format(slug=study.slug)).status_code in {401, 403}


@pytest.mark.parametrize("path", ["/r/{slug}/status", "/r/{slug}/prepare"])
def test_a_get_on_a_write_page_is_405(study, owner, path):
    assert _client(owner).get(path.format(slug=study.slug)).status_code == 405


def test_a_delete_on_the_study_endpoint_is_405(study, owner):
    assert _client(owner).delete(f"/api/studies/{study.slug}/").status_code == 405


def test_the_study_list_shows_own_and_shared_studies_only(study, owner, colleague, outsider):
    assert study.title.encode() in _client(owner).get("/r/").content
    assert study.title.encode() in _client(colleague).get("/r/").content
    assert study.title.encode() not in _client(outsider).get("/r/").content
    api = _client(outsider).get("/api/studies/").json()
    assert api["count"] == 0


def test_the_dashboard_counts_participants_by_condition_and_status(study, owner):
    Walker(study, pid="A1").to_trials()
    Walker(study, pid="A2").enter()
    counts = _client(owner).get(f"/r/{study.slug}/counts.json").json()["counts"]
    assert counts["totals"]["active"] == 1 and counts["totals"]["started"] == 1


def test_the_owner_closes_and_reopens_a_condition(study, owner):
    client = _client(owner)
    client.post(f"/r/{study.slug}/conditions/ai/open", {"open": "0"})
    assert not study.conditions.get(name="ai").is_open
    response = client.patch(f"/api/studies/{study.slug}/conditions/ai/", {"is_open": True},
                            content_type="application/json")
    assert response.status_code == 200 and study.conditions.get(name="ai").is_open


def test_the_api_refuses_a_garbled_condition_switch(study, owner):
    response = _client(owner).patch(f"/api/studies/{study.slug}/conditions/ai/",
                                    {"is_open": "perhaps"}, content_type="application/json")
    assert response.status_code == 400
    assert study.conditions.get(name="ai").is_open


def test_a_preview_is_flagged_and_left_out_of_counts_and_exports(study, owner):
    client = _client(owner)
    response = client.post(f"/r/{study.slug}/preview/ai_shap")
    assert response.status_code == 302
    page = client.get(f"/s/{study.slug}/")
    assert b"Preview" in page.content
    assert Participant.objects.get().is_preview
    export = b"".join(client.get(f"/r/{study.slug}/export.zip").streaming_content)
    with zipfile.ZipFile(io.BytesIO(export)) as archive:
        participants = archive.read(f"{study.slug}/participants.csv").decode()
    assert participants.count("\n") == 1  # the header only


def test_token_authentication_works_for_scripts(study, owner):
    token = Token.objects.create(user=owner)
    response = Client().get("/api/studies/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and response.json()["results"][0]["slug"] == study.slug


def test_the_openapi_schema_is_served_to_researchers_and_lists_the_study_endpoints(owner):
    assert Client().get("/api/schema/", {"format": "json"}).status_code == 403
    client = Client()
    client.force_login(owner)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/studies/{slug}/export/" in paths and "/api/events/" in paths


def test_a_participant_logs_an_event_for_their_own_session_only(study):
    walker = Walker(study)
    walker.to_trials()
    response = walker.client.post("/api/events/", {
        "study": study.slug, "kind": "explanation_shown", "trial_index": 0, "client_ms": 1200},
        content_type="application/json")
    assert response.status_code == 201
    assert walker.participant.events.filter(kind="explanation_shown").count() == 1
    stranger = Client().post("/api/events/", {"study": study.slug, "kind": "page_hidden"},
                             content_type="application/json")
    assert stranger.status_code == 404


def test_a_garbled_event_is_refused(study):
    walker = Walker(study)
    walker.enter()
    response = walker.client.post("/api/events/", {"study": study.slug, "kind": "rm -rf"},
                                  content_type="application/json")
    assert response.status_code == 400
