"""Balanced, dropout-aware condition assignment and reproducible trial plans."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from experiments.designs import design
from studyapp.models import Item, Participant, Trial
from studyapp.services import enrolment
from studyapp.services.errors import ParticipantError
from studyapp.services.plans import plan_draw

pytestmark = pytest.mark.django_db


def _enrol(study, pid: str) -> Participant:
    recruitment = enrolment.Recruitment(source="prolific", external_id=pid)
    participant, _ = enrolment.participant_enrol(study=study, recruitment=recruitment)
    return participant


def _counts(study) -> Counter[str]:
    return Counter(Participant.objects.filter(study=study).values_list("condition__name",
                                                                         flat=True))


def test_sequential_newcomers_fill_conditions_evenly(study):
    for n in range(11):
        _enrol(study, f"P{n}")
        counts = _counts(study)
        assert max(counts.values()) - min(counts.get(c.name, 0)
                                          for c in study.conditions.all()) <= 1


def test_a_dropout_stops_counting_once_outside_the_active_window(study):
    first = _enrol(study, "P0")
    Participant.objects.filter(pk=first.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=study.active_window_minutes + 1))
    others = [_enrol(study, f"P{n}") for n in range(1, 3)]
    # The stale slot is free again, so the three conditions hold P1, P2 and the next one.
    newcomer = _enrol(study, "P3")
    assert newcomer.condition == first.condition
    assert {p.condition_id for p in others} | {newcomer.condition_id} == set(
        study.conditions.values_list("id", flat=True))


def test_completed_participants_keep_counting_after_the_window(study):
    first = _enrol(study, "P0")
    Participant.objects.filter(pk=first.pk).update(
        status="completed", last_seen_at=timezone.now() - timedelta(days=1))
    second, third = _enrol(study, "P1"), _enrol(study, "P2")
    assert len({first.condition_id, second.condition_id, third.condition_id}) == 3


def test_a_closed_condition_gets_no_newcomers(study):
    study.conditions.filter(name="ai").update(is_open=False)
    names = {_enrol(study, f"P{n}").condition.name for n in range(6)}
    assert names == {"no_ai", "ai_shap"}


def test_a_condition_at_its_cap_gets_no_newcomers_and_a_full_study_says_so(study):
    study.conditions.update(cap=1)
    assert {_enrol(study, f"P{n}").condition.name for n in range(3)} == {
        "no_ai", "ai", "ai_shap"}
    with pytest.raises(ParticipantError, match="full"):
        _enrol(study, "P4")


def test_previews_neither_count_nor_take_slots(study):
    ai = study.conditions.get(name="ai")
    for _ in range(3):
        enrolment.preview_participant_create(study=study, condition=ai)
    names = {_enrol(study, f"P{n}").condition.name for n in range(3)}
    assert names == {"no_ai", "ai", "ai_shap"}


def test_ties_are_broken_by_a_seeded_draw_that_replays(study, owner):
    first = [_enrol(study, f"P{n}").condition.name for n in range(6)]
    Participant.objects.all().delete()
    again = [_enrol(study, f"Q{n}").condition.name for n in range(6)]
    assert first == again


def test_each_plan_is_balanced_on_ai_correct_and_predicted_class(study):
    participant = _enrol(study, "P0")
    main = [t.item for t in participant.trials.filter(kind="main")]
    cells = Counter((i.ai_correct, i.ai_class_index) for i in main)
    assert len(cells) == 4 and set(cells.values()) == {1}


def test_each_plan_has_its_attention_check_never_first(study):
    for n in range(5):
        kinds = list(_enrol(study, f"P{n}").trials.values_list("kind", flat=True))
        assert kinds.count("attention") == 1 and kinds[0] == "main"


def test_a_plan_is_replayed_exactly_from_the_participants_seed(study):
    participant = _enrol(study, "P0")
    pool = list(study.items.filter(role=Item.Role.POOL).order_by("id"))
    attention = list(study.items.filter(role=Item.Role.ATTENTION).order_by("id"))
    replay = plan_draw(pool=pool, attention=attention, trials=study.typed_spec.trials,
                       task=design(study.task), seed=participant.seed)
    stored = list(Trial.objects.filter(participant=participant).order_by("index")
                  .values_list("item_id", "kind"))
    assert [(p.item_id, p.kind) for p in replay] == stored


def test_different_seeds_give_different_orders(study):
    orders = {tuple(_enrol(study, f"P{n}").trials.values_list("item_id", flat=True))
              for n in range(6)}
    assert len(orders) > 1


def test_explanation_trials_point_at_the_explanation_of_their_item(study):
    study.conditions.exclude(name="ai_shap").update(is_open=False)
    participant = _enrol(study, "P0")
    for trial in participant.trials.filter(kind="main"):
        assert trial.explanation is not None
        assert trial.explanation.item_id == trial.item_id
        assert trial.explanation.payload["target"] == trial.item.ai_class_index


# ----- the study's lock holds the assignment only --------------------------------------------

def test_the_study_is_released_before_the_trial_plan_is_written(study):
    """Oracle: the SQL of one arrival, in order. The locked block (a savepoint inside the
    test's transaction; a transaction in production) ends after the participant's row and
    before the first trial row: a burst of arrivals queues on the lock for the assignment
    alone, not for the plan (it held it for half its time)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        participant = _enrol(study, "LOCKED")
    sql = [q["sql"] for q in captured.captured_queries]
    locked = next(i for i, s in enumerate(sql)
                  if s.startswith('INSERT INTO "studyapp_participant"'))
    released = next(i for i, s in enumerate(sql)
                    if i > locked and s.startswith("RELEASE SAVEPOINT"))
    planned = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "studyapp_trial"'))
    assert released < planned
    assert participant.trials.exists() and participant.events.filter(kind="enrolled").count() == 1


def test_an_arrival_whose_plan_fails_leaves_no_participant(study, monkeypatch):
    def broken(**_: object) -> None:
        raise RuntimeError("the plan failed")

    monkeypatch.setattr(enrolment, "trial_plan_create", broken)
    with pytest.raises(RuntimeError, match="the plan failed"):
        _enrol(study, "UNPLANNED")
    assert not Participant.objects.filter(external_id="UNPLANNED").exists()
    monkeypatch.undo()
    assert _enrol(study, "UNPLANNED").trials.exists()  # the same person, once it works


def test_a_participant_left_without_a_plan_by_a_killed_arrival_gets_it_when_they_return(study):
    """A process killed between the assignment's commit and the plan's: the participant's row
    exists with no trials. Their link, opened again, plans them once (two tabs: still once)."""
    recruitment = enrolment.Recruitment(source="prolific", external_id="KILLED")
    orphan, created = enrolment._assigned(study, recruitment, is_bot=False, language=None)
    assert created and not orphan.trials.exists()
    first, created_again = enrolment.participant_enrol(study=study, recruitment=recruitment)
    second, _ = enrolment.participant_enrol(study=study, recruitment=recruitment)
    assert first.pk == second.pk == orphan.pk and not created_again
    # Oracle: the plan a fresh arrival with this seed gets (plan_draw, replayed here).
    pool = list(study.items.filter(role=Item.Role.POOL).order_by("id"))
    attention = list(study.items.filter(role=Item.Role.ATTENTION).order_by("id"))
    replay = plan_draw(pool=pool, attention=attention, trials=study.typed_spec.trials,
                       task=design(study.task), seed=first.seed)
    assert ([(p.item_id, p.kind) for p in replay] ==
            list(first.trials.order_by("index").values_list("item_id", "kind")))
    assert first.events.filter(kind="enrolled").count() == 1


def test_the_same_id_planned_by_a_second_request_first_is_planned_once_and_kept(study):
    """Two tabs with one id: the second finds the first's participant committed but not yet
    planned and plans it; then the first goes on to plan. Seen in CI (20 arrivals of one PID
    at once): the first's plan hit the unique index and its undo deleted the participant.
    Oracle: this interleaving, played in order on one connection."""
    recruitment = enrolment.Recruitment(source="prolific", external_id="TWOTABS")
    first, _ = enrolment._assigned(study, recruitment, is_bot=False, language=None)
    second, created = enrolment.participant_enrol(study=study, recruitment=recruitment)
    assert second.pk == first.pk and not created and second.trials.exists()
    planned = list(second.trials.order_by("index").values_list("item_id", flat=True))
    enrolment._plan_or_undo(first)  # the first request resumes
    assert Participant.objects.filter(pk=first.pk).exists()
    assert list(first.trials.order_by("index").values_list("item_id", flat=True)) == planned
    assert first.events.filter(kind="enrolled").count() == 1
