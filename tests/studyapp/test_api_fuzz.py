"""The REST API fuzzed from its own OpenAPI schema (schemathesis) as every kind of caller.

Oracle: the schema served at /api/schema/. Every operation it lists gets requests generated
from it (valid ones, boundary ones and, in the coverage phase, invalid ones), sent as an
anonymous visitor, as the study's owner (token auth), as an outsider and as a participant
(session cookie plus CSRF token, the only way the event log is reached). Whatever the
input, the API must never answer 5xx, and every answer (status code, content type, body,
headers) must be one the schema documents. Path parameters are drawn by schemathesis, and
half of the time the slug is replaced by the real study's, so that the handlers behind the
404 are fuzzed too.

The suite runs the moderate ``suite`` Hypothesis profile; ``make fuzz`` runs the same tests
with HYPOTHESIS_PROFILE=fuzz and prints the figures collected in ``FIGURES``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.core.result import Ok

from studyapp.wsgi import application
from tests.studyapp.fuzz_figures import FIGURES
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

def _served_schema() -> dict[str, Any]:
    """The schema /api/schema/ serves to a signed-in researcher, built by the same generator
    (the endpoint refuses anonymous callers, and there is no user before the tests run)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = application

# Function-scoped fixtures (the study, its owner's token) are set up once per operation and
# shared by its examples on purpose: every example runs against the same prepared study.
FUZZ_SETTINGS = settings(
    max_examples=settings().max_examples,  # from the active profile (suite or fuzz)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@contextmanager
def _inside_the_test_transaction() -> Iterator[None]:
    """Schemathesis calls the WSGI app directly, whose request signals would close the
    database connection (and with it the test's transaction); Django's test client detaches
    the same handler around each of its requests for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def callers(study, owner, outsider) -> dict[str, dict[str, Any]]:
    """Headers (and cookies) that make a request come from each kind of caller."""
    walker = Walker(study, pid="FUZZ1")
    walker.to_trials()
    walker.page()  # sets the CSRF cookie, as the participant's browser would have it
    cookies = {name: morsel.value for name, morsel in walker.client.cookies.items()}
    return {
        "anonymous": {},
        "owner": {"headers": {"Authorization": f"Token {Token.objects.create(user=owner)}"}},
        "outsider": {"headers": {
            "Authorization": f"Token {Token.objects.create(user=outsider)}"}},
        "participant": {"cookies": cookies,
                        "headers": {"X-CSRFToken": cookies["csrftoken"],
                                    "Referer": "http://localhost/"}},
    }


def _with_real_study(case: Any, slug: str) -> bool:
    """Point the case at the real study when it addresses one (in its path or, for the event
    log, its body); returns whether it does."""
    # Whole containers are assigned (not edited in place) so that schemathesis re-checks
    # whether the case is still a negative one.
    if "slug" in (case.path_parameters or {}):
        case.path_parameters = {**case.path_parameters, "slug": slug}
        return True
    if isinstance(case.body, dict) and "study" in case.body:
        case.body = {**case.body, "study": slug}
        return True
    return False


def _drop_generated_credentials(case: Any) -> None:
    """Remove the random session cookie / token schemathesis draws from the security schemes,
    so that a caller's own credentials are what the server judges. (The anonymous caller
    sends the random ones, which must be refused.)"""
    if case.cookies and "sessionid" in case.cookies:
        case.cookies = {k: v for k, v in case.cookies.items() if k != "sessionid"}
    if case.headers and "Authorization" in case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_any_caller_makes_the_api_fail_or_break_its_schema(case, study, callers):
    FIGURES.operation(case.operation.label)
    for real_study in (False, True):
        if real_study and not _with_real_study(case, study.slug):
            break
        for role, transport in callers.items():
            if role != "anonymous":
                _drop_generated_credentials(case)
            with _inside_the_test_transaction():
                response = case.call(**transport)
                FIGURES.request(role, response.status_code)
                # The caller's own credentials are explicit: schemathesis then also probes
                # the operation without them (and with invalid ones) and expects a refusal.
                case.validate_response(response, headers=transport.get("headers"))


def test_the_fuzzer_covers_every_api_route(db):
    """Oracle: Django's resolver. Every route under /api/ but the schema itself is an
    operation of the schema, so no endpoint escapes the fuzzer."""
    operations = list(schema.get_all_operations())
    assert all(isinstance(operation, Ok) for operation in operations)  # none is invalid
    fuzzed = {operation.ok().path for operation in operations if isinstance(operation, Ok)}
    routed = {_as_template(route) for route in _api_routes(get_resolver().url_patterns)}
    assert routed - {"/api/", "/api/schema/"} == fuzzed
    assert len(fuzzed) == 8


def _api_routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, text)
        elif text.startswith("api/"):
            yield text


def _as_template(route: str) -> str:
    """'api/^studies/(?P<slug>[^/.]+)/$' -> '/api/studies/{slug}/'."""
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("^", "").replace("$", "")
