"""The API's answers to the bad inputs the schema fuzzer found, pinned as plain examples.

Each was a 500 or an answer the OpenAPI schema did not document before it was fixed. Oracle:
the status code and, for stored events, what reached the database.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from studyapp.api.parsers import MAX_BODY_BYTES
from studyapp.models import Event
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(study, owner) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner)}")


@pytest.fixture
def participant(study) -> Walker:
    walker = Walker(study)
    walker.to_trials()
    return walker


def _event(walker: Walker, body: str, content_type: str = "application/json") -> int:
    # generic() sends the bytes as they are (post() would encode them in the charset).
    return walker.client.generic("POST", "/api/events/", body.encode(),
                                 content_type=content_type).status_code


def test_deeply_nested_json_is_a_400_not_a_recursion_error(participant):
    assert _event(participant, "[" * 30_000 + "]" * 30_000) == 400  # 60 KB, under the limit


def test_a_body_over_the_limit_is_a_413_whatever_its_content(participant):
    body = json.dumps({"study": participant.study.slug, "kind": "blur",
                       "detail": {"x": "y" * MAX_BODY_BYTES}})
    assert _event(participant, body) == 413


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "text/plain"])
def test_only_json_is_accepted(participant, content_type):
    assert _event(participant, "study=small&kind=blur", content_type) == 415


def test_nan_and_non_text_charsets_are_refused(participant):
    body = json.dumps({"study": participant.study.slug, "kind": "blur", "client_ms": 1})
    assert _event(participant, body.replace("1}", "NaN}")) == 400
    assert _event(participant, body, "application/json; charset=bz2_codec") == 400


@pytest.mark.parametrize(("field", "value"), [("page", 0), ("client_ms", "5"),
                                              ("client_ms", 0.0), ("trial_index", True),
                                              ("study", 7), ("study", " small"),
                                              ("page", "\x1f" + "p" * 40)])
def test_values_of_the_wrong_json_type_are_refused_not_coerced(participant, field, value):
    body = {"study": participant.study.slug, "kind": "blur", field: value}
    assert _event(participant, json.dumps(body)) == 400


def test_nul_and_lone_surrogates_in_an_event_are_stored_as_replacement_characters(
        participant):
    """PostgreSQL cannot store either (a 500 there before); the event is telemetry, so it
    is kept with U+FFFD in their place."""
    # Written by hand: json.dumps cannot produce a lone surrogate escape from a valid str.
    body = ('{"study": "SLUG", "kind": "blur", "page": "a\\u0000b", '
            '"detail": {"k\\udc00": "v\\u0000"}}').replace("SLUG", participant.study.slug)
    assert _event(participant, body) == 201
    event = Event.objects.get(kind="blur")
    assert event.page == "a\ufffdb" and event.detail == {"k\ufffd": "v\ufffd"}


@pytest.mark.parametrize("detail", [{"nested": {"a": 1}}, {"list": [1]},
                                    {f"k{n}": n for n in range(11)},
                                    {"text": "x" * 201}])
def test_event_details_are_a_few_flat_entries(participant, detail):
    body = {"study": participant.study.slug, "kind": "blur", "detail": detail}
    assert _event(participant, json.dumps(body)) == 400


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=1001", "offset=-1",
                                   "offset=1&offset=2", "limit=%D9%A3", "offset=1_0",
                                   "limit=99999999999999999999"])
def test_garbled_pagination_is_a_400_naming_the_parameter(study, owner_api, query):
    response = owner_api.get(f"/api/studies/{study.slug}/participants/?{query}")
    assert response.status_code == 400
    assert set(response.json()) <= {"limit", "offset"}


def test_participants_and_trials_come_in_the_documented_page_envelope(study, owner_api,
                                                                      participant):
    for rows in ("participants", "trials"):
        page = owner_api.get(f"/api/studies/{study.slug}/{rows}/?limit=2").json()
        assert set(page) == {"count", "next", "previous", "results"}
        assert len(page["results"]) <= 2


@pytest.mark.parametrize("path", ["/api/studies/a.b/", "/api/nothing-here/",
                                  "/api/studies/small/export.json"])
def test_a_path_no_api_route_matches_is_a_json_404(owner_api, path):
    response = owner_api.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
