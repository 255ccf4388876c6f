"""The hot path of a launch-day burst, counted in SQL queries (never timed): a trial page and
an answer cost a small fixed number of queries, whatever the trial's position, the condition
and the study's length, and an answer locks the participant's row only."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studyapp.models import Study
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

# participant with study, session, trial with item/condition/explanation and its progress
# (which also gives "page 3 of 5"), first-shown time
TRIAL_PAGE_QUERIES = 4
# participant with study, session, participant locked, trial with item/condition and its
# progress, the answer stored, pointer moved
ANSWER_QUERIES = 6
_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _statements(request: Callable[[], Any]) -> tuple[Any, list[str]]:
    """The response and the SQL it ran, transaction control left out (backends differ)."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    sql = [q["sql"] for q in captured.captured_queries
           if not q["sql"].upper().startswith(_TRANSACTION)]
    return response, sql


def _walk_trials(study: Study, pid: str) -> list[tuple[int, int]]:
    """(trial page queries, answer queries) for each trial but the last (whose answer also
    moves the participant on to the questionnaire)."""
    walker = Walker(study, pid=pid)
    walker.to_trials()
    counts = []
    total = walker.participant.trials.count()
    for _ in range(total - 1):
        page, page_sql = _statements(walker.page)
        assert page.status_code == 200
        participant = walker.participant
        trial = participant.trials.select_related("item").get(index=participant.trial_pointer)
        answer = trial.item.expected_answer or study.answer_options[0]["value"]
        posted, answer_sql = _statements(partial(
            walker.post, "answer", trial_index=trial.index, step="final", answer=answer,
            confidence=3, rt_ms=1500, idempotency_key="k"))
        assert posted.status_code == 303
        counts.append((len(page_sql), len(answer_sql)))
    return counts


@pytest.fixture
def longer_study(owner: Any) -> Study:
    spec = small_spec(slug="longer", trials={"count": 8, "pool_size": 16,
                                             "attention_checks": 1})
    return make_study(owner, spec)


def test_a_trial_page_and_an_answer_cost_the_same_few_queries_at_every_trial(study):
    # Three participants: balanced assignment puts one in each condition, so the trial
    # without AI, with AI and with a stored explanation are all counted.
    counts = [c for n in range(3) for c in _walk_trials(study, f"QUERYCOUNT{n}")]
    assert set(counts) == {(TRIAL_PAGE_QUERIES, ANSWER_QUERIES)}, counts


def test_the_query_counts_do_not_grow_with_the_number_of_trials(study, longer_study):
    short = _walk_trials(study, "SHORTSTUDY")
    long = _walk_trials(longer_study, "LONGSTUDY")
    assert len(long) == len(short) + 4
    assert set(short) == set(long) == {(TRIAL_PAGE_QUERIES, ANSWER_QUERIES)}


def test_an_answer_locks_the_participants_row_and_never_the_studys(study):
    walker = Walker(study, pid="LOCKER")
    walker.to_trials()
    trial = walker.participant.trials.select_related("item").get(index=0)
    answer = trial.item.expected_answer or study.answer_options[0]["value"]
    _, sql = _statements(lambda: walker.post("answer", trial_index=0, step="final",
                                             answer=answer, confidence=3,
                                             idempotency_key="k"))
    locks = [s for s in sql if "FOR UPDATE" in s]
    # Locking the study's row would queue every participant's answer behind each other's.
    assert not any("studyapp_study" in s for s in locks), locks
    if connection.features.has_select_for_update:
        assert len(locks) == 1 and "studyapp_participant" in locks[0]


# session, participant with study (found by the study's slug), the participant's client
# events counted against their limit, the event stored
EVENT_QUERIES = 4


def test_an_event_from_the_page_costs_a_few_queries(study):
    from django.core.cache import cache

    cache.clear()  # the per-minute event counter starts afresh
    walker = Walker(study, pid="EVENTS")
    walker.to_trials()
    for kind in ("explanation_shown", "blur", "focus"):
        posted, sql = _statements(lambda kind=kind: walker.client.post(
            "/api/events/", {"study": study.slug, "kind": kind, "page": "trial",
                             "trial_index": 0}, content_type="application/json"))
        assert posted.status_code == 201, posted.content
        assert len(sql) == EVENT_QUERIES, sql


# The study's row stays locked for the whole arrival (see participant_enrol), so the plan
# reads the items it draws from by the few fields the draw uses, and each arrival costs the
# same queries whatever the pool's size: a stray deferred field would load item by item.
_ITEM_PAYLOADS = ('"studyapp_item"."display"', '"studyapp_item"."features"',
                  '"studyapp_item"."panels"', '"studyapp_explanation"."payload"')


def _arrivals(study: Study) -> dict[str, list[str]]:
    """The SQL of three arrivals, by the condition each was given (balanced assignment gives
    the three conditions one each: no AI, AI, AI with an explanation)."""
    from studyapp.services import enrolment

    by_condition = {}
    for n in range(3):
        recruitment = enrolment.Recruitment(source="direct", external_id=f"ARRIVAL{n}")
        (participant, created), sql = _statements(
            partial(enrolment.participant_enrol, study=study, recruitment=recruitment))
        assert created and participant.trials.exists()
        by_condition[participant.condition.name] = sql
    return by_condition


def test_an_arrival_reads_no_item_payload_and_costs_the_same_whatever_the_pool(study, owner):
    wide = make_study(owner, small_spec(slug="widepool", trials={
        "count": 4, "pool_size": 32, "attention_checks": 1}))
    assert wide.items.count() > study.items.count()
    small_pool, wide_pool = _arrivals(study), _arrivals(wide)
    assert len(small_pool) == 3 and small_pool.keys() == wide_pool.keys()
    every = [s for sql in [*small_pool.values(), *wide_pool.values()] for s in sql]
    assert [s for s in every if any(p in s for p in _ITEM_PAYLOADS)] == []
    assert ({c: len(sql) for c, sql in small_pool.items()} ==
            {c: len(sql) for c, sql in wide_pool.items()})
