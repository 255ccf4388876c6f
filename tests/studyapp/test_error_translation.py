"""Services raise errors in the study's terms; one table gives each kind its HTTP status.

Oracle: the statuses the services' errors carried before they lost their HTTP codes (stale
form 409, event over the limits 429, event for an unreached trial 409, anything else 400)
and the 404 that hides which studies exist.
"""

from __future__ import annotations

import pytest

from studyapp.services.errors import (
    NotFoundError,
    ParticipantError,
    ServiceError,
    StaleSubmission,
    StudyConfigError,
)
from studyapp.services.event_limits import EventInvalid, EventRefused
from studyapp.views.errors import status_for


@pytest.mark.parametrize(("error", "status"), [
    (NotFoundError("No such study"), 404), (StaleSubmission("left"), 409),
    (EventInvalid("unreached"), 409), (EventRefused("too many"), 429),
    (ParticipantError("bad link"), 400), (StudyConfigError("status: x"), 400),
    (ServiceError("anything"), 400)])
def test_each_kind_of_service_error_answers_with_its_status(error, status):
    assert status_for(error) == status


@pytest.mark.django_db
def test_an_outsider_gets_the_same_404_from_a_page_and_from_the_api(study, outsider, client):
    client.force_login(outsider)
    assert client.get(f"/r/{study.slug}/").status_code == 404
    response = client.get(f"/api/studies/{study.slug}/participants/")
    assert (response.status_code, response.json()) == (404, {"detail": "No such study"})
