"""Driving a participant through the study with Django's test client."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.test import Client

from studyapp.models import Participant, Study


def prolific_id(name: str) -> str:
    """``name`` if it is a well-formed Prolific id, else a stable one made from it (so tests
    can name their participants "LEAVER" or "P1")."""
    if re.fullmatch(r"[0-9a-f]{24}", name):
        return name
    return hashlib.sha256(name.encode()).hexdigest()[:24]


class Walker:
    """One participant's browser: follows the server's pages and posts their forms."""

    def __init__(self, study: Study, pid: str = "5f0c0ffee0000000000000a1",
                 client: Client | None = None) -> None:
        self.study = study
        self.pid = prolific_id(pid)
        self.client = client or Client()
        self.url = f"/s/{study.slug}/"

    def enter(self, **extra: str) -> Any:
        params = {"PROLIFIC_PID": self.pid, "STUDY_ID": "st1", "SESSION_ID": "se1", **extra}
        return self.client.get(self.url, params)

    def page(self) -> Any:
        return self.client.get(self.url)

    def post(self, action: str, **data: Any) -> Any:
        return self.client.post(self.url, {"action": action, **data})

    @property
    def participant(self) -> Participant:
        return Participant.objects.get(study=self.study, external_id=self.pid)

    def to_trials(self) -> None:
        self.enter()
        self.post("consent", agree="yes")
        self.post("instructions")
        answers = {q["id"]: q["answer"] for q in self.study.spec["comprehension"]["questions"]}
        self.post("comprehension", **answers)
        assert self.participant.stage == "trials"

    def answer_current(self, answer: str | None = None, *, confidence: int = 3,
                       step: str = "final") -> Any:
        participant = self.participant
        trial = participant.trials.get(index=participant.trial_pointer)
        value = answer or (trial.item.expected_answer or self.study.answer_options[0]["value"])
        return self.post("answer", trial_index=trial.index, step=step, answer=value,
                         confidence=confidence, rt_ms=1500, idempotency_key="k")

    def finish_trials(self) -> None:
        while self.participant.stage == "trials":
            response = self.answer_current()
            assert response.status_code == 303, response.content[:500]

    def finish_questionnaire(self, value: int = 4) -> Any:
        from studyapp.services.questionnaires import questionnaire_items

        data = {q.field: (str(value) if q.kind == "likert" else "fine")
                for q in questionnaire_items(self.study)}
        return self.post("questionnaire", **data)
