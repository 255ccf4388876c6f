"""Participant pages in the participant's language: chosen by the spec or the link, stored
with the participant, kept for the session, written in the export.

Oracle: the spec's own texts per language (tests.factories.multilingual_spec marks each
language's text "[xx] ...") and the shipped catalogues (locale/), whose wording is checked
here for the platform strings a page must show.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from studyapp.models import Participant, Trial
from studyapp.services import studies
from studyapp.services.exports import study_export_files
from tests.factories import make_study, multilingual_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db
GERMAN_EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "studies"
                  / "feedback_and_bonus_adult_de.yaml")
# Platform words that must not be left in English on a German page.
ENGLISH = ("I agree to take part", "I have read the instructions", "Check my answers",
           "Withdraw from the study", "Page ", "How confident are you", "The AI's prediction",
           "Profile", "Next", "Bonus so far", "You can earn a bonus", "Education", "years")


def _text(response: Any) -> str:
    """The words a participant reads: the page without its tags and attribute values or soft
    hyphens, any run of white space (a no-break space too) as one space."""
    html = response.content.decode().replace("\u00ad", "")  # soft hyphens (locale/de)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _pass_comprehension(walker: Walker, language: str) -> None:
    spec = walker.study.spec_in(language)
    walker.post("comprehension", **{q.id: q.answer for q in spec.comprehension.questions})


def _to_trials(walker: Walker, language: str, **link: str) -> None:
    walker.enter(**link)
    walker.post("consent", agree="yes")
    walker.post("instructions")
    _pass_comprehension(walker, language)
    assert walker.participant.stage == Participant.Stage.TRIALS


@pytest.fixture
def multilingual(owner: Any) -> Any:
    return make_study(owner, multilingual_spec(("en", "de", "es")))


def test_without_a_link_language_the_spec_s_first_language_is_used(owner):
    study = make_study(owner, multilingual_spec(("de", "en")))
    walker = Walker(study)
    walker.enter()
    page = walker.page()
    assert walker.participant.language == "de"
    assert '<html lang="de">' in page.content.decode()
    text = _text(page)
    assert "[de] " in text and "Ich willige in die Teilnahme ein" in text
    assert "I agree to take part" not in text


def test_the_link_chooses_spanish_and_it_sticks_across_pages(multilingual):
    walker = Walker(multilingual)
    walker.enter(lang="es")
    assert walker.participant.language == "es"
    consent = _text(walker.page())
    assert "Acepto participar" in consent and "[es] " in consent and "[de] " not in consent
    walker.post("consent", agree="yes")
    instructions = walker.page()  # no ?lang= any more: the session keeps the language
    assert '<html lang="es">' in instructions.content.decode()
    assert "He leído las instrucciones" in _text(instructions)
    walker.post("instructions")
    comprehension = _text(walker.page())
    assert "Comprobar mis respuestas" in comprehension
    _pass_comprehension(walker, "es")  # the Spanish answers are the right ones
    assert walker.participant.stage == Participant.Stage.TRIALS
    trial = _text(walker.page())
    assert "Página 1 de" in trial and "[es] " in trial


def test_an_english_answer_does_not_pass_a_spanish_participant_s_check(multilingual):
    walker = Walker(multilingual)
    walker.enter(lang="es")
    walker.post("consent", agree="yes")
    walker.post("instructions")
    _pass_comprehension(walker, "en")
    participant = walker.participant
    assert participant.stage != Participant.Stage.TRIALS
    assert participant.comprehension_attempts == 1


def test_a_language_the_study_is_not_given_in_is_refused_and_enrols_nobody(multilingual):
    walker = Walker(multilingual)
    response = walker.enter(lang="fr")
    assert response.status_code == 400
    text = _text(response)
    assert "not available in the language the link asks for (“fr”)" in text
    assert "en, de, es" in text
    assert not Participant.objects.filter(study=multilingual).exists()


def test_a_returning_link_with_another_language_keeps_the_participant_s(multilingual):
    walker = Walker(multilingual)
    walker.enter(lang="de")
    walker.enter(lang="es")
    assert walker.participant.language == "de"
    assert "Ich willige in die Teilnahme ein" in _text(walker.page())


def test_a_service_error_is_told_in_the_participant_s_language(multilingual):
    walker = Walker(multilingual)
    _to_trials(walker, "de", lang="de")
    trial = walker.participant.trials.get(index=0)
    response = walker.post("answer", trial_index=trial.index, step="final",
                           answer="not an option", confidence=3, idempotency_key="x")
    assert "Bitte wählen Sie eine der angezeigten Antworten." in _text(response)


def test_the_trial_page_shows_the_profile_and_answers_in_german(multilingual):
    walker = Walker(multilingual)
    _to_trials(walker, "de", lang="de")
    participant = walker.participant
    trial = participant.trials.exclude(kind=Trial.Kind.ATTENTION).first()
    while participant.trial_pointer < trial.index:
        walker.answer_current()
        participant = walker.participant
    text = _text(walker.page())
    assert "Alter" in text and "Bildung" in text and "Wochenarbeitsstunden" in text
    assert "Mehr als 50.000 $" in text  # the class, as the answer's label
    assert re.search(r"\d+ Jahre", text)
    assert "Weiter" in text and "Wie sicher sind Sie?" in text
    values = re.findall(r'name="answer" value="([^"]+)"', walker.page().content.decode())
    assert "More than $50K" in values  # values never change with the language


def test_an_attention_check_asks_in_german_for_the_answer_as_its_label_reads(multilingual):
    walker = Walker(multilingual)
    _to_trials(walker, "de", lang="de")
    attention = walker.participant.trials.get(kind=Trial.Kind.ATTENTION)
    while walker.participant.trial_pointer < attention.index:
        walker.answer_current()
    text = _text(walker.page())
    label = {"More than $50K": "Mehr als 50.000 $",
             "$50K or less": "50.000 $ oder weniger"}[attention.item.expected_answer]
    assert f"Aufmerksamkeitsprüfung: Um zu zeigen, dass Sie sorgfältig lesen, antworten Sie " \
           f"auf dieser Seite bitte „{label}“" in text


def test_the_export_says_which_language_each_participant_read(multilingual):
    for pid, language in (("P-DE", "de"), ("P-ES", "es"), ("P-EN", None)):
        Walker(multilingual, pid).enter(**({"lang": language} if language else {}))
    files = study_export_files(study=multilingual)
    rows = list(csv.DictReader(io.StringIO(files["participants.csv"])))
    assert sorted(r["language"] for r in rows) == ["de", "en", "es"]
    package = json.loads(files["datapackage.json"])
    fields = next(r for r in package["resources"] if r["path"] == "participants.csv")
    (column,) = [f for f in fields["schema"]["fields"] if f["name"] == "language"]
    assert "?lang=" in column["description"]


def test_a_scale_translation_is_what_a_german_participant_rates(owner):
    spec = multilingual_spec(("de", "en"))
    spec["questionnaires"] = ["jian_trust"]
    spec["scale_translations"] = {"jian_trust": {"de": {
        "source": "Test fixture only, not a validated translation",
        "items": [f"Testaussage {n}" for n in range(1, 13)],
        "anchors": ["Überhaupt nicht", "Äußerst"]}}}
    study = make_study(owner, spec)
    study.conditions.exclude(name="ai").update(is_open=False)
    walker = Walker(study)
    _to_trials(walker, "de")
    walker.finish_trials()
    text = _text(walker.page())
    assert "Testaussage 12" in text and "Überhaupt nicht" in text and "Äußerst" in text
    assert "Einige Fragen zur KI" in text and "Abschließen" in text
    assert "The AI" not in text and "Not at all" not in text


def test_the_german_example_is_german_from_consent_to_the_bonus(owner):
    study, _ = studies.study_load_spec(text=GERMAN_EXAMPLE.read_text(encoding="utf-8"),
                                       owner=owner)
    from studyapp.services import preparation

    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    study.conditions.exclude(name="ai_training").update(is_open=False)
    walker = Walker(study)
    walker.enter()
    pages = [_text(walker.page())]
    walker.post("consent", agree="yes")
    pages.append(_text(walker.page()))
    walker.post("instructions")
    pages.append(_text(walker.page()))
    _pass_comprehension(walker, "de")
    pages.append(_text(walker.page()))
    consent, instructions, comprehension, practice = pages
    assert "Dies ist eine wissenschaftliche Studie" in consent
    assert ("Sie können einen Bonus verdienen: 0,05 € für jede richtige Antwort. Jede "
            "falsche Antwort zieht 0,02 € von Ihrem Bonus ab") in instructions
    assert "Wofür bekommen Sie einen Bonus?" in comprehension
    assert "Übung: Diese Seite zählt nicht" in practice
    assert "Bevor Sie beginnen: So lesen Sie diese Seite" in practice
    assert "Diese erste Seite ist eine Übung" in practice
    for page in pages:
        left = [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", page)]
        assert not left, left


def test_bots_complete_the_german_example_reading_its_german_pages(owner, live_server):
    """The integration layer plays it with 50 bots on PostgreSQL; here 20 on SQLite, one at a
    time: bots find the attention check's answer and the AI's by the pages' German labels."""
    from studyapp.bots.reconcile import reconcile
    from studyapp.bots.runner import run_bots, summarise
    from studyapp.management.commands.runbots import bot_config
    from studyapp.services import preparation
    from studyapp.services.exports import participant_pseudonym

    study, _ = studies.study_load_spec(text=GERMAN_EXAMPLE.read_text(encoding="utf-8"),
                                       owner=owner)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    config = bot_config(study, base_url=live_server.url, behaviour="planted", seed=3,
                        dropout=0.1, mischief=True)
    results = run_bots(config, 20, concurrency=1)
    summary = summarise(results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] + summary["dropped_out"] == 20
    trials_csv = study_export_files(study=study)["trials.csv"]
    assert reconcile(results, trials_csv, lambda pid: participant_pseudonym(study, pid)) == []
    people = list(csv.DictReader(io.StringIO(study_export_files(study=study)
                                             ["participants.csv"])))
    completed = [p for p in people if p["status"] == "completed"]
    # The attention check asks in German for „label“: every bot that finished found it.
    assert completed and all(p["attention_passed"] == "true" for p in completed)
    assert set(Participant.objects.filter(study=study).values_list("language", flat=True)) \
        == {"de"}


def test_the_first_answer_is_echoed_in_the_page_s_language(owner):
    """A judge-advisor page repeats the participant's first answer above the AI's advice. It
    echoed the stored value, the English class name ("Bad credit risk" on a German page).
    Oracle: the German catalogue's class name, as the answer options on the page show it."""
    from django.utils import translation

    spec = multilingual_spec(("de",), slug="erst", task={
        "design": "judge_advisor", "question": "Does this person earn more than $50K?",
        "confidence_scale": 5})
    study = make_study(owner, spec)
    walker = Walker(study)
    _to_trials(walker, "de")
    chosen = study.answer_options[0]["value"]
    walker.answer_current(chosen, step="initial")
    with translation.override("de"):
        german = translation.gettext(chosen)
    assert german != chosen
    text = _text(walker.page())
    assert f"Ihre erste Antwort: {german}" in text and chosen not in text
