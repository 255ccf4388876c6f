"""The reads whose SQL is written once (studyapp.rows) give exactly what the ORM gives.

Oracle: the same rows read through Django's ORM (``select_related``, ``with_progress``,
Django's own database session store), compared field by field on every concrete field of
every joined model — JSON, datetimes, booleans and nullable foreign keys included.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from studyapp import selectors
from studyapp.models import Participant, Study, Trial
from studyapp.rows import JoinedRead, Part, table
from studyapp.sessions import SessionStore
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def _fields(instance: Model | None) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _walkers(study: Study, n: int) -> list[Walker]:
    """``n`` participants in the trials stage, one answer given (balanced over the
    conditions, so a trial without an explanation is among them)."""
    walkers = []
    for k in range(n):
        walker = Walker(study, pid=f"ROWS{k}")
        walker.to_trials()
        walker.answer_current()
        walkers.append(walker)
    return walkers


def test_the_participant_read_gives_what_select_related_gives(study):
    for walker in _walkers(study, 3):
        ours = selectors.participant_for_session(study.slug, walker.participant.pk)
        orm = Participant.objects.select_related("study", "version").get(
            pk=walker.participant.pk)
        assert ours is not None
        assert _fields(ours) == _fields(orm)
        assert _fields(ours.study) == _fields(orm.study)
        assert _fields(ours.version) == _fields(orm.version)
        # The other form (the study itself rather than its slug) reads the same rows.
        by_study = selectors.participant_for_session(study, walker.participant.pk)
        assert by_study is not None and _fields(by_study.study) == _fields(orm.study)


def test_a_participant_without_a_version_reads_as_none_there(study):
    walker = _walkers(study, 1)[0]
    Participant.objects.filter(pk=walker.participant.pk).update(version=None)
    ours = selectors.participant_for_session(study.slug, walker.participant.pk)
    assert ours is not None and ours.version is None and ours.version_id is None


def test_no_participant_is_read_from_another_study_or_a_wrong_id(study, owner):
    from tests.factories import make_study, small_spec

    other = make_study(owner, small_spec(slug="elsewhere"))
    walker = _walkers(study, 1)[0]
    pid = walker.participant.pk
    assert selectors.participant_for_session("elsewhere", pid) is None
    assert selectors.participant_for_session(other, pid) is None
    assert selectors.participant_for_session(study.slug, pid + 10_000) is None
    assert selectors.participant_for_session(study.slug, str(pid)) is None  # not from a session


def test_the_trial_read_gives_what_with_progress_gives(study):
    seen_without_explanation = seen_with_explanation = False
    for walker in _walkers(study, 4):
        participant = walker.participant
        for index in range(participant.trials.count()):
            ours = selectors.participant_trial(participant, index)
            orm = (selectors.with_progress(Trial.objects.select_related(
                "item", "condition", "explanation"))
                .get(participant=participant, index=index))
            assert ours is not None
            assert _fields(ours) == _fields(orm)
            for relation in ("item", "condition", "explanation"):
                assert _fields(getattr(ours, relation)) == _fields(getattr(orm, relation))
            assert (ours.answer_count, ours.trial_total) == (orm.answer_count, orm.trial_total)
            assert ours.participant is participant
            seen_with_explanation |= ours.explanation is not None
            seen_without_explanation |= ours.explanation is None
    assert seen_with_explanation and seen_without_explanation
    assert selectors.participant_trial(participant, 999) is None


def test_the_current_trial_counts_answers_as_they_are_given(study):
    walker = _walkers(study, 1)[0]
    participant = walker.participant
    answered = selectors.participant_trial(participant, 0)
    current = selectors.current_trial(participant)
    assert answered is not None and answered.answer_count == 1
    assert current is not None and current.index == 1 and current.answer_count == 0


def test_a_locking_read_says_for_update_where_the_database_has_row_locks(study):
    walker = _walkers(study, 1)[0]
    read = JoinedRead([Part(Participant, "p")], table(Participant, "p"),
                      where='"p"."id" = %s', lock=True)
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked = read.one(walker.participant.pk)
    assert _fields(locked) == _fields(walker.participant)
    sql = captured.captured_queries[-1]["sql"]
    assert ("FOR UPDATE" in sql) == connection.features.has_select_for_update


def test_the_session_store_loads_what_djangos_loads():
    theirs = DjangoSessionStore()
    theirs["participant:demo"] = 7
    theirs["language:demo"] = "de"
    theirs.save()
    ours = SessionStore(theirs.session_key)
    assert ours.load() == DjangoSessionStore(theirs.session_key).load() == {
        "participant:demo": 7, "language:demo": "de"}
    assert ours.session_key == theirs.session_key


def test_an_expired_or_unknown_session_loads_empty_and_forgets_its_key():
    store = DjangoSessionStore()
    store["participant:demo"] = 7
    store.save()
    store.model.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    for key in (store.session_key, "x" * 32):
        ours = SessionStore(key)
        assert ours.load() == {}
        assert ours.session_key is None
