"""Enrolment: one participant per recruitment id, balanced and concurrency-safe assignment."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from studyapp import selectors
from studyapp.models import Condition, Event, Participant, Study, Trial
from studyapp.services.errors import NotFoundError, ParticipantError
from studyapp.services.plans import study_block_orders, trial_plan_create
from studyapp.services.withdrawal import has_withdrawn

# Each platform's ids in their one canonical form, so that one person has one participant.
# Prolific ids are MongoDB ObjectIds, 24 hex digits (lower-cased here). MTurk's published
# patterns (Requester API 2017-01-17, shapes CustomerId and EntityId): a worker id is
# ^A[A-Z0-9]+$, an assignment or HIT id ^[A-Z0-9]+$, 1 to 64 characters (upper-cased here).
# Other parameters the platforms add (STUDY_ID, SESSION_ID) are short tokens, kept as sent.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FORMATS: dict[str, tuple[Callable[[str], str], re.Pattern[str]]] = {
    "PROLIFIC_PID": (str.lower, re.compile(r"^[0-9a-f]{24}$")),
    "workerId": (str.upper, re.compile(r"^A[A-Z0-9]{1,63}$")),
    "assignmentId": (str.upper, re.compile(r"^[A-Z0-9]{1,64}$")),
    "hitId": (str.upper, re.compile(r"^[A-Z0-9]{1,64}$")),
}
# The parameter that proves a returning browser was sent by the platform for this very
# participant's session: knowing someone's id alone must not let anyone act as them.
_SESSION_CHECK = {"prolific": "SESSION_ID", "mturk": "assignmentId"}
_PROLIFIC_KEYS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID")
_MTURK_KEYS = ("workerId", "assignmentId", "hitId")
MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"
WITHDRAWN_ALREADY = gettext_noop("You have withdrawn from this study, so it cannot be taken "
                                 "again. Thank you for your time.")
Arm = TypeVar("Arm")  # what assignment balances over: a condition, or a Latin-square row


@dataclass(frozen=True)
class Recruitment:
    """Who sent the participant, and the ids that platform gave them."""

    source: str
    external_id: str
    details: dict[str, str] = field(default_factory=dict)


def recruitment_from_query(query: Mapping[str, str]) -> Recruitment | None:
    """Parse Prolific / MTurk parameters; ``None`` when the link carries none.

    Raises ParticipantError (shown to the participant) for a garbled or half-given set.
    """
    if any(key in query for key in _PROLIFIC_KEYS):
        return _parse_ids("prolific", query, _PROLIFIC_KEYS, "PROLIFIC_PID")
    if any(key in query for key in _MTURK_KEYS):
        if query.get("assignmentId") == MTURK_PREVIEW:
            raise ParticipantError(gettext("This is an MTurk preview: accept the HIT to take "
                                           "part."))
        return _parse_ids("mturk", query, _MTURK_KEYS, "workerId")
    return None


def _parse_ids(source: str, query: Mapping[str, str], keys: tuple[str, ...],
               id_key: str) -> Recruitment:
    details: dict[str, str] = {}
    for key in keys:
        value = (query.get(key) or "").strip()
        if key == id_key and not value:
            raise ParticipantError(gettext("The study link is missing {key}. Please open the "
                                           "study again from {platform}.").format(
                key=id_key, platform=source.title()))
        if value:
            details[key] = _canonical(key, value, source)
    return Recruitment(source=source, external_id=details[id_key], details=details)


def _canonical(key: str, value: str, source: str) -> str:
    """``value`` in its platform's canonical form, or ParticipantError for a malformed one."""
    normalise, pattern = _FORMATS.get(key, (str, _TOKEN))
    canonical = normalise(value)
    if not pattern.match(canonical):
        raise ParticipantError(gettext("The study link has an invalid {key}. Please open the "
                                       "study again from {platform}.").format(
            key=key, platform=source.title()))
    return canonical


def direct_recruitment() -> Recruitment:
    """A generated id for a participant who came without a recruitment platform."""
    return Recruitment(source="direct", external_id=f"direct-{secrets.token_hex(10)}")


def bot_token(study: Study) -> str:
    """What a scripted bot sends (header ``X-Bot-Token``) to be flagged as a bot.

    Derived from the server's SECRET_KEY and the study's own secret, so only code that runs
    with the server's settings (``runbots``, the load and fault harnesses) can know it: a
    participant cannot mark themselves as a bot and drop out of the analysis.
    """
    key = f"{settings.SECRET_KEY}:{study.pseudonym_salt}".encode()
    return hmac.new(key, f"explainlab-bot:{study.slug}".encode(), hashlib.sha256).hexdigest()


def is_bot_token(study: Study, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(token), bot_token(study))


def participant_enrol(*, study: Study, recruitment: Recruitment, is_bot: bool = False,
                      language: str | None = None) -> tuple[Participant, bool]:
    """Enrol a newcomer or resume the participant who already has this id.

    A newcomer reads the study in ``language`` (one of the spec's; None: its default) from
    then on; a returning participant keeps the language they started in.

    Returns ``(participant, created)``. The study row is locked for the assignment so that
    simultaneous arrivals see each other's choices (PostgreSQL: SELECT ... FOR UPDATE; SQLite:
    the IMMEDIATE transaction holds the write lock). Only the assignment holds it: the
    participant's trial plan is drawn in a second transaction (see :func:`_plan_or_undo`).
    """
    existing = participant_existing(study, recruitment)
    if existing is not None:
        return _with_plan(existing), False
    participant, created = _assigned(study, recruitment, is_bot=is_bot, language=language)
    if created:
        _plan_or_undo(participant)
    return participant, created


def _assigned(study: Study, recruitment: Recruitment, *, is_bot: bool,
              language: str | None) -> tuple[Participant, bool]:
    """The participant row, created under the study's lock with its condition (or the one
    this id already has: two tabs may arrive at once)."""
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        existing = participant_existing(locked, recruitment)
        if existing is not None:
            return existing, False
        if has_withdrawn(locked, source=recruitment.source,
                         external_id=recruitment.external_id):
            raise ParticipantError(gettext(WITHDRAWN_ALREADY))
        if not locked.is_accepting:
            raise ParticipantError(gettext("This study is not accepting participants at the "
                                           "moment."))
        if locked.typed_spec.assignment.in_blocks:
            condition, seed, sequence = _assign_sequence(locked)
        else:
            (condition, seed), sequence = _assign(locked), None
        participant = _create(locked, condition, seed, recruitment, is_bot=is_bot,
                              sequence=sequence, language=language)
    return participant, True


def _plan_or_undo(participant: Participant) -> None:
    """Draw a newcomer's trials after the assignment has committed and released the study.

    Under a burst of arrivals the study's lock is the one thing they queue on, and the plan
    (reading the pool, drawing, writing a row per trial) was half of the time it was held.
    The plan reads only the participant's own seed and condition and items that cannot change
    once the study has participants, so it needs no lock on the study. If it fails, the
    participant is removed, as the one transaction would have rolled it back; a process killed
    between the two leaves a participant without trials, planned when that id comes back
    (:func:`_with_plan`)."""
    try:
        _plan_once(participant)
    except BaseException:
        # The plan's error is the one to report; a delete that fails too (the database gone)
        # leaves a participant without trials, as a killed process does.
        with contextlib.suppress(DatabaseError):
            participant.delete()
        raise


def _with_plan(participant: Participant) -> Participant:
    """``participant``, given the plan a killed arrival did not write (rare: see
    :func:`_plan_or_undo`)."""
    if not participant.is_preview and not Trial.objects.filter(participant=participant).exists():
        _plan_once(participant)
    return participant


def _plan_once(participant: Participant) -> None:
    """Plan ``participant`` unless someone has, under their row's lock. The same id may arrive
    twice at once: the second request finds the first's participant committed but not yet
    planned, and the two must not both write a plan (the loser's unique-index error used to
    undo the participant the other had just planned)."""
    with transaction.atomic():
        Participant.objects.select_for_update().filter(pk=participant.pk).first()
        if not Trial.objects.filter(participant=participant).exists():
            _plan_and_record(participant)


def _plan_and_record(participant: Participant) -> None:
    trial_plan_create(participant=participant)
    Event.objects.create(participant=participant, kind="enrolled", page="entry",
                         detail={"condition": participant.condition.name,
                                 "source": participant.source})


def resume_allowed(*, participant: Participant, recruitment: Recruitment) -> bool:
    """May a browser that does not hold this participant's session take it over?

    Only when the platform's own session parameter matches the one stored at enrolment
    (Prolific's SESSION_ID, MTurk's assignmentId). Otherwise the refusal is logged as an event
    on the participant, so the researcher sees someone tried to act as them.
    """
    key = _SESSION_CHECK.get(participant.source)
    stored = participant.recruitment.get(key, "") if key else ""
    given = recruitment.details.get(key, "") if key else ""
    if stored and hmac.compare_digest(stored, given):
        return True
    Event.objects.create(participant=participant, kind="resume_refused", page="entry",
                         detail={"check": key or "none", "given": bool(given)})
    return False


def preview_participant_create(*, study: Study, condition: Condition,
                               language: str | None = None) -> Participant:
    """A researcher's walk-through in one condition, in one of the study's languages (None:
    its default): flagged, never counted, never exported."""
    recruitment = Recruitment(source="preview", external_id=f"preview-{secrets.token_hex(10)}")
    seed = secrets.randbelow(2**31)
    sequence = None
    if study.typed_spec.assignment.in_blocks:
        # The first block order that starts with the condition asked for.
        orders = study_block_orders(study)
        sequence = next(r for r, order in enumerate(orders)
                        if order.conditions[0] == condition.name)
    with transaction.atomic():
        participant = _create(study, condition, seed, recruitment, is_preview=True,
                              sequence=sequence, language=language)
        _plan_and_record(participant)  # a preview takes no lock: one transaction will do
    return participant


def preview_language_set(*, participant: Participant, language: str) -> Participant:
    """Show a researcher's preview in another of the study's languages from the page they are
    on (a participant's language never changes: only a preview's may)."""
    if not participant.is_preview:
        raise NotFoundError("Only a preview can change its language.")
    participant.language = _language(participant.study, language)
    participant.save(update_fields=["language"])
    return participant


def participant_existing(study: Study, recruitment: Recruitment) -> Participant | None:
    """The participant this platform's id already enrolled (platforms are kept apart: a
    worker id equal to someone's Prolific id is another person)."""
    return Participant.objects.filter(study=study, source=recruitment.source,
                                      external_id=recruitment.external_id).first()


def _assign(study: Study) -> tuple[Condition, int]:
    """Fewest completed + recently active wins; ties broken by a draw seeded per arrival."""
    load = selectors.condition_load(study, now=timezone.now())
    eligible = [c for c in study.conditions.all() if c.is_open and
                (c.cap is None or load.get(c.pk, 0) < c.cap)]
    if not eligible:
        raise ParticipantError(gettext("This study is full. Thank you for your interest."))
    return _least_loaded(study, eligible, lambda c: load.get(c.pk, 0))


def _assign_sequence(study: Study) -> tuple[Condition, int, int]:
    """Within and mixed designs: the block order with the fewest completed + recently active
    participants, ties by a seeded draw. Mixed designs first pick the least-loaded group, so
    groups stay balanced even when they have different numbers of orders."""
    by_name = {c.name: c for c in study.conditions.all()}
    orders = study_block_orders(study)
    load = selectors.sequence_load(study, now=timezone.now())
    candidates = list(range(len(orders)))
    groups = sorted({order.group for order in orders})
    if len(groups) > 1:
        def group_load(group: str) -> int:
            return sum(load.get(r, 0) for r, o in enumerate(orders) if o.group == group)
        group, _ = _least_loaded(study, groups, group_load)
        candidates = [r for r in candidates if orders[r].group == group]
    sequence, seed = _least_loaded(study, candidates, lambda r: load.get(r, 0))
    return by_name[orders[sequence].conditions[0]], seed, sequence


def _least_loaded(study: Study, arms: list[Arm], load: Callable[[Arm], int]) -> tuple[Arm, int]:
    """The arm with the least load, ties broken by a draw seeded per arrival (so a study
    replays), and the participant's own plan seed from the same stream."""
    fewest = min(load(arm) for arm in arms)
    tied = [arm for arm in arms if load(arm) == fewest]
    arrival = Participant.objects.filter(study=study, is_preview=False).count()
    rng = np.random.default_rng([study.assignment_seed, arrival])
    return tied[int(rng.integers(len(tied)))], int(rng.integers(2**31))


def _language(study: Study, language: str | None) -> str:
    languages = study.typed_spec.languages
    if language is not None and language not in languages:
        raise ValueError(f"language {language!r}: the study's languages are {languages}")
    return language or languages[0]


def _create(study: Study, condition: Condition, seed: int, recruitment: Recruitment, *,
            is_bot: bool = False, is_preview: bool = False,
            sequence: int | None = None, language: str | None = None) -> Participant:
    """The participant's row alone: its plan is :func:`_plan_and_record`'s."""
    now = timezone.now()
    deadline = (now + timedelta(minutes=study.time_limit_minutes)
                if study.time_limit_minutes else None)
    participant = Participant.objects.create(
        study=study, condition=condition, external_id=recruitment.external_id,
        source=recruitment.source, recruitment=recruitment.details, seed=seed,
        sequence=sequence, version=selectors.study_version(study),
        language=_language(study, language),
        spec_hash=study.spec_hash, is_bot=is_bot, is_preview=is_preview,
        started_at=now, last_seen_at=now, deadline_at=deadline,
    )
    return participant
