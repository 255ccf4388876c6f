"""The participant's path through a study, driven through the real views."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from studyapp.models import Event, Participant, Response, Trial
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def test_a_prolific_link_enrols_and_redirects_to_the_clean_url(study):
    response = Walker(study).enter()
    assert response.status_code == 303
    assert response["Location"] == f"/s/{study.slug}/"
    participant = Participant.objects.get(external_id="5f0c0ffee0000000000000a1")
    assert participant.source == "prolific"
    assert participant.recruitment == {"PROLIFIC_PID": "5f0c0ffee0000000000000a1",
                                       "STUDY_ID": "st1", "SESSION_ID": "se1"}
    assert participant.spec_hash == study.spec_hash


def test_reopening_the_link_resumes_where_the_participant_was(study):
    walker = Walker(study)
    walker.to_trials()
    walker.answer_current()
    walker.enter()
    page = walker.page()
    assert b'data-trial="1"' in page.content
    assert Participant.objects.filter(study=study).count() == 1


def test_a_second_browser_with_the_same_pid_resumes_and_never_forks(study):
    first = Walker(study)
    first.to_trials()
    second = Walker(study, client=Client())
    second.enter()
    assert b'data-trial="0"' in second.page().content
    assert Participant.objects.filter(study=study).count() == 1


def test_declining_consent_ends_politely_with_the_screen_out_code(study):
    walker = Walker(study)
    walker.enter()
    walker.post("consent", agree="no")
    page = walker.page()
    assert walker.participant.status == "screened_out"
    assert study.screenout_code.encode() in page.content
    assert study.completion_code.encode() not in page.content


def test_a_wrong_comprehension_answer_allows_a_retry_then_screens_out(study):
    walker = Walker(study)
    walker.enter()
    walker.post("consent", agree="yes")
    walker.post("instructions")
    walker.post("comprehension", task="The person's age", ai_right="Yes")
    assert walker.participant.stage == "comprehension"
    assert b"Attempts left: 1" in walker.page().content
    walker.post("comprehension", task="The person's age", ai_right="Yes")
    assert walker.participant.status == "screened_out"
    assert walker.participant.comprehension_attempts == 2


def test_a_resent_wrong_comprehension_attempt_counts_once_and_a_right_one_still_passes(study):
    walker = Walker(study)
    walker.enter()
    walker.post("consent", agree="yes")
    walker.post("instructions")
    assert b'name="attempt" value="1"' in walker.page().content
    for _ in range(3):  # the browser re-sends the first, wrong, attempt
        walker.post("comprehension", attempt="1", task="The person's age", ai_right="Yes")
    assert walker.participant.stage == "comprehension"
    assert walker.participant.comprehension_attempts == 1
    assert Event.objects.filter(participant=walker.participant,
                                kind="duplicate_comprehension").count() == 2
    answers = {q["id"]: q["answer"] for q in study.spec["comprehension"]["questions"]}
    walker.post("comprehension", attempt="1", **answers)  # right, from the old tab
    assert walker.participant.stage == "trials"


def test_a_whole_path_ends_with_the_completion_code_and_redirect(study):
    walker = Walker(study)
    walker.to_trials()
    walker.finish_trials()
    assert walker.participant.stage == "questionnaire"
    page = walker.page()
    assert b"I am wary of the AI." in page.content  # a Jian et al. item, reverse-keyed
    walker.finish_questionnaire()
    page = walker.page()
    assert walker.participant.status == "completed"
    assert study.completion_code.encode() in page.content
    assert study.completion_url.encode() in page.content


def test_refreshing_a_trial_shows_the_same_trial_and_keeps_the_first_shown_time(study):
    walker = Walker(study)
    walker.to_trials()
    first = walker.page()
    shown_at = Trial.objects.get(participant=walker.participant, index=0).shown_at
    again = walker.page()
    assert re.search(rb'data-trial="0"', first.content) and b'data-trial="0"' in again.content
    assert Trial.objects.get(participant=walker.participant, index=0).shown_at == shown_at


def test_a_double_submit_records_one_answer(study):
    walker = Walker(study)
    walker.to_trials()
    walker.page()
    option = study.answer_options[0]["value"]
    for _ in range(2):
        response = walker.post("answer", trial_index=0, step="final", answer=option,
                               confidence=2, idempotency_key="same")
        assert response.status_code == 303
    assert Response.objects.filter(trial__participant=walker.participant).count() == 1
    assert walker.participant.trial_pointer == 1
    assert Event.objects.filter(kind="duplicate_answer").count() == 1


def test_the_back_button_cannot_re_answer_a_trial(study):
    walker = Walker(study)
    walker.to_trials()
    first, second = (o["value"] for o in study.answer_options)
    walker.post("answer", trial_index=0, step="final", answer=first, confidence=2)
    walker.post("answer", trial_index=0, step="final", answer=second, confidence=5)
    stored = Response.objects.get(trial__participant=walker.participant, trial__index=0)
    assert (stored.answer, stored.confidence) == (first, 2)
    assert walker.participant.trial_pointer == 1


def test_an_answer_to_a_later_trial_is_refused_and_changes_nothing(study):
    walker = Walker(study)
    walker.to_trials()
    response = walker.post("answer", trial_index=3, step="final",
                           answer=study.answer_options[0]["value"], confidence=2)
    assert response.status_code == 303  # sent back to the page they are on
    assert not Response.objects.filter(trial__participant=walker.participant).exists()
    assert walker.participant.trial_pointer == 0


def test_an_answer_to_a_trial_that_does_not_exist_is_refused(study):
    walker = Walker(study)
    walker.to_trials()
    response = walker.post("answer", trial_index=999, step="final",
                           answer=study.answer_options[0]["value"], confidence=2)
    assert response.status_code == 400
    assert b"does not exist" in response.content
    assert not Response.objects.exists()


def test_another_participants_trial_cannot_be_answered(study):
    """Trials are addressed by index within the session's own participant, so the only way
    to reach another person's trial is their session; forging an id reaches one's own."""
    victim = Walker(study, pid="VICTIM1")
    victim.to_trials()
    attacker = Walker(study, pid="ATTACKER1")
    attacker.to_trials()
    victim_trial = Trial.objects.get(participant=victim.participant, index=0)
    attacker.post("answer", trial_index=0, step="final", trial=victim_trial.pk,
                  answer=study.answer_options[0]["value"], confidence=1)
    assert not Response.objects.filter(trial=victim_trial).exists()
    assert Response.objects.filter(trial__participant=attacker.participant).count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("confidence", "9", b"confident"),
    ("confidence", "", b"confident"),
    ("answer", "maybe", b"choose one of the answers"),
    ("rt_ms", "-5", b"not sent correctly"),
    ("trial_index", "abc", b"not sent correctly"),
])
def test_out_of_range_answers_get_a_clear_error_and_change_nothing(study, field, value,
                                                                    message):
    walker = Walker(study)
    walker.to_trials()
    data = {"trial_index": 0, "step": "final", "answer": study.answer_options[0]["value"],
            "confidence": 3, "rt_ms": 100}
    data[field] = value
    response = walker.post("answer", **data)
    assert response.status_code == 400
    assert message in response.content
    assert not Response.objects.exists()
    assert walker.participant.trial_pointer == 0


def test_the_trial_page_does_not_depend_on_the_truth_label(study):
    """Oracle: flipping the stored truth must leave the page byte-identical (bar tokens)."""
    walker = Walker(study)
    walker.to_trials()

    def scrubbed() -> bytes:
        html = walker.page().content
        return re.sub(rb'value="[0-9a-zA-Z]{32,}"', b"", html)

    before = scrubbed()
    trial = Trial.objects.get(participant=walker.participant, index=0)
    names = [o["value"] for o in study.answer_options]
    trial.item.truth = names[1] if trial.item.truth == names[0] else names[0]
    trial.item.save()
    assert scrubbed() == before


def test_the_ai_and_its_explanation_are_shown_only_in_their_conditions(study):
    seen = {}
    for n, name in enumerate(["no_ai", "ai", "ai_shap"]):
        study.conditions.exclude(name=name).update(is_open=False)
        study.conditions.filter(name=name).update(is_open=True)
        walker = Walker(study, pid=f"PID{n}")
        walker.to_trials()
        while walker.participant.trials.get(index=walker.participant.trial_pointer).kind != "main":
            walker.answer_current()
        seen[name] = walker.page().content
    assert b"The AI's prediction" not in seen["no_ai"]
    assert b"The AI's prediction" in seen["ai"] and b"<figure" not in seen["ai"]
    assert b'class="explanation explanation-attribution"' in seen["ai_shap"]
    assert b'role="img"' in seen["ai_shap"]


def test_an_unknown_study_is_a_404(db):
    assert Client().get("/s/no-such-study/").status_code == 404


@pytest.mark.parametrize("query", [
    {"PROLIFIC_PID": ""},
    {"PROLIFIC_PID": "<script>", "STUDY_ID": "x"},
    {"PROLIFIC_PID": "a" * 65},
    {"STUDY_ID": "only-the-study"},
    {"workerId": "W1", "assignmentId": "bad id!"},
])
def test_missing_or_garbled_recruitment_ids_are_refused_and_create_nothing(study, query):
    response = Client().get(f"/s/{study.slug}/", query)
    assert response.status_code == 400
    assert b"Prolific" in response.content or b"Mturk" in response.content
    assert not Participant.objects.exists()


def test_an_mturk_preview_is_asked_to_accept_the_hit_first(study):
    response = Client().get(f"/s/{study.slug}/", {"workerId": "W1", "hitId": "H1",
                                                  "assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE"})
    assert response.status_code == 400
    assert b"accept the HIT" in response.content
    assert not Participant.objects.exists()


def test_a_closed_study_refuses_newcomers_but_lets_participants_finish(study):
    walker = Walker(study, pid="EARLY1")
    walker.to_trials()
    study.status = "closed"
    study.save()
    late = Walker(study, pid="LATE1").enter()
    assert late.status_code == 400
    assert b"not accepting participants" in late.content
    assert walker.answer_current().status_code == 303
    assert walker.participant.trial_pointer == 1


def test_a_direct_link_without_ids_needs_a_start_click_when_the_study_allows_it(study):
    client = Client()
    landing = client.get(f"/s/{study.slug}/")
    assert landing.status_code == 200 and b"Start the study" in landing.content
    assert not Participant.objects.exists()
    client.post(f"/s/{study.slug}/", {"action": "start"})
    assert Participant.objects.get().source == "direct"


def test_a_direct_link_is_refused_when_the_study_wants_prolific_ids(study):
    study.allow_direct = False
    study.save()
    response = Client().get(f"/s/{study.slug}/")
    assert response.status_code == 400
    assert b"missing your Prolific ID" in response.content


def test_past_the_time_limit_the_participant_is_timed_out_and_stops_counting(study):
    walker = Walker(study)
    walker.to_trials()
    Participant.objects.update(deadline_at=timezone.now() - timedelta(seconds=1))
    page = walker.page()
    assert walker.participant.status == "timed_out"
    assert b"time for this study has run out" in page.content
    response = walker.answer_current()
    assert not Response.objects.exists()
    assert response.status_code in {303, 400}


def test_posting_without_a_csrf_token_is_forbidden(study):
    walker = Walker(study, client=Client(enforce_csrf_checks=True))
    walker.enter()
    assert walker.post("consent", agree="yes").status_code == 403
    assert walker.participant.stage == "consent"


def test_pages_are_not_cached_by_the_browser(study):
    walker = Walker(study)
    walker.enter()
    assert "no-cache" in walker.page()["Cache-Control"]


def test_participants_who_never_saw_the_ai_are_not_asked_to_rate_it(study):
    study.conditions.exclude(name="no_ai").update(is_open=False)
    walker = Walker(study)
    walker.to_trials()
    walker.finish_trials()
    page = walker.page()
    assert b"I am wary of the AI." not in page.content
    assert b"Anything you would like to tell us" in page.content
    walker.post("questionnaire", text_comments="")
    assert walker.participant.status == "completed"


def test_withdrawal_deletes_every_record_of_the_participant(study, owner):
    from studyapp.models import Event, Response

    walker = Walker(study, pid="5f0c0ffee00000000000aaaa")
    walker.to_trials()
    walker.answer_current()
    stayer = Walker(study, pid="5f0c0ffee00000000000bbbb")
    stayer.to_trials()
    client = Client()
    client.force_login(owner)
    client.post("/admin/studyapp/participant/", {
        "action": "withdraw", "_selected_action": [walker.participant.pk]})
    assert not Participant.objects.filter(external_id=walker.pid).exists()
    assert not Trial.objects.filter(participant__external_id=walker.pid).exists()
    assert not Response.objects.exists() and Event.objects.filter(
        participant__external_id=stayer.pid).exists()


def test_the_periodic_sweep_times_out_participants_past_their_deadline(study):
    from studyapp import tasks

    late, on_time = Walker(study, pid="LATE"), Walker(study, pid="ONTIME")
    late.to_trials()
    on_time.to_trials()
    Participant.objects.filter(external_id=late.pid).update(
        deadline_at=timezone.now() - timedelta(minutes=1))
    assert tasks.release_stale_participants.delay().get() == 1
    assert late.participant.status == "timed_out"
    assert on_time.participant.status == "active"
