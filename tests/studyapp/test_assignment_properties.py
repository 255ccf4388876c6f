"""Balanced assignment under any sequence of arrivals, completions, dropouts and switches.

Hypothesis draws per-condition caps and closures and then a sequence of events; the real
enrolment service assigns each arrival while a small model of the study (which participants
hold a slot) follows along. Oracle: the model, not the selectors under test. A participant
holds a slot while started/active and seen within the active window, or once completed
(README, "Condition assignment"); timed-out, withdrawn and stale participants do not.

Properties:
- every arrival goes to an open condition below its cap with the fewest slots held;
- an arrival never widens the gap between open, uncapped conditions beyond one (so with no
  dropouts they stay within one of each other, and dropouts are refilled first);
- a cap is never exceeded and a closed condition gets nobody;
- a full study says so and creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studyapp.models import Condition, Participant, Study, Withdrawal
from studyapp.services import enrolment, flow
from studyapp.services.errors import ParticipantError

pytestmark = pytest.mark.django_db

# One prepared study serves every example (rebuilding it per example would dominate the run);
# each example starts by removing the previous example's participants.
SHARED_STUDY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                               HealthCheck.too_slow])

# About half arrivals, a third leavers, the rest switches: enough arrivals after each dropout
# for a mis-counted slot to change where someone is sent.
EVENTS = st.lists(st.tuples(
    st.sampled_from(["arrive"] * 7 + ["complete", "drop", "drop", "time_out", "withdraw",
                                      "close", "reopen"]),
    st.integers(0, 10**6)), max_size=40)


@dataclass
class Model:
    """Which condition each enrolled participant is in, and whether they hold a slot."""

    holding: dict[int, str] = field(default_factory=dict)  # participant id -> condition name
    finished: set[int] = field(default_factory=set)  # completed: they keep their slot

    def load(self, name: str) -> int:
        return sum(1 for c in self.holding.values() if c == name)

    def active(self) -> list[int]:
        return sorted(pid for pid in self.holding if pid not in self.finished)


def _reset(study: Study, caps: list[int | None], closed: set[int]) -> list[Condition]:
    Participant.objects.filter(study=study).delete()
    Withdrawal.objects.filter(study=study).delete()  # withdrawn ids may not enrol again
    conditions = list(study.conditions.order_by("position"))
    for k, condition in enumerate(conditions):
        condition.cap, condition.is_open = caps[k], k not in closed
        condition.save(update_fields=["cap", "is_open"])
    return conditions


def _eligible(conditions: list[Condition], model: Model) -> list[str]:
    return [c.name for c in conditions
            if c.is_open and (c.cap is None or model.load(c.name) < c.cap)]


def _arrive(study: Study, conditions: list[Condition], model: Model, n: int) -> None:
    eligible = _eligible(conditions, model)
    before = Participant.objects.count()
    try:
        participant, _ = enrolment.participant_enrol(
            study=study, recruitment=enrolment.Recruitment("prolific", f"PROP{n}"))
    except ParticipantError as exc:
        assert not eligible and "full" in str(exc)
        assert Participant.objects.count() == before  # nothing half-written
        return
    name = participant.condition.name
    assert name in eligible, f"{name} was not open or was at its cap"
    assert model.load(name) == min(model.load(e) for e in eligible)
    _assert_gap_not_widened(conditions, model, name)
    model.holding[participant.pk] = name


def _assert_gap_not_widened(conditions: list[Condition], model: Model, chosen: str) -> None:
    free = [c.name for c in conditions if c.is_open and c.cap is None]
    if chosen not in free:
        return
    loads = {name: model.load(name) for name in free}
    gap_before = max(loads.values()) - min(loads.values())
    loads[chosen] += 1
    assert max(loads.values()) - min(loads.values()) <= max(gap_before, 1)


def _leave(kind: str, pick: int, model: Model) -> None:
    """A participant completes (keeps the slot) or stops holding it (dropout, time-out,
    withdrawal)."""
    candidates = model.active()
    if not candidates:
        return
    pid = candidates[pick % len(candidates)]
    participant = Participant.objects.get(pk=pid)
    if kind == "complete":
        Participant.objects.filter(pk=pid).update(status="completed", stage="done")
        model.finished.add(pid)
        return
    if kind == "drop":  # last seen before the active window: no longer counts
        stale = timezone.now() - timedelta(minutes=participant.study.active_window_minutes + 5)
        Participant.objects.filter(pk=pid).update(last_seen_at=stale)
    elif kind == "time_out":
        flow.participant_time_out(participant=participant)
    else:
        flow.participant_withdraw(participant=participant)
    del model.holding[pid]


def _switch(kind: str, index: int, conditions: list[Condition]) -> None:
    condition = conditions[index]
    condition.is_open = kind == "reopen"
    condition.save(update_fields=["is_open"])


@SHARED_STUDY
@given(caps=st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=3, max_size=3),
       closed=st.sets(st.integers(0, 2), max_size=3), events=EVENTS)
def test_any_sequence_of_events_keeps_assignment_balanced_capped_and_closed(study, caps,
                                                                            closed, events):
    conditions = _reset(study, caps, closed)
    model = Model()
    for n, (kind, value) in enumerate(events):
        if kind == "arrive":
            _arrive(study, conditions, model, n)
        elif kind in {"close", "reopen"}:
            _switch(kind, value % len(conditions), conditions)
        else:
            _leave(kind, value, model)
        for condition in conditions:
            assert condition.cap is None or model.load(condition.name) <= condition.cap


@SHARED_STUDY
@given(n_arrivals=st.integers(1, 30))
def test_arrivals_alone_keep_every_open_condition_within_one(study, n_arrivals):
    """The headline guarantee, stated on its own: no caps, no dropouts, counts within one."""
    conditions = _reset(study, [None, None, None], set())
    for n in range(n_arrivals):
        enrolment.participant_enrol(study=study,
                                    recruitment=enrolment.Recruitment("prolific", f"A{n}"))
    counts = [Participant.objects.filter(condition=c).count() for c in conditions]
    assert max(counts) - min(counts) <= 1 and sum(counts) == n_arrivals
