"""Explanations in the participant's language: rendered at preparation in each of the
study's languages, shown on the trial page and in the researcher's preview in the language
of the participant (or of the preview's ``?lang=``).

Oracle: the shipped catalogues' wording of the attribution renderer's sentence (locale/de,
locale/es: "For an average case the AI gives …") and the number conventions of the German
pages ("24 %"), against the English sentence for an English participant of the same study.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from studyapp.models import Explanation, Participant, Trial
from tests.factories import make_study, multilingual_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db
# The start of the sentence, up to the class the AI predicts (which varies by item).
SENTENCE = {"en": "For an average case the AI gives “",
            "de": "Für einen durchschnittlichen Fall gibt die KI „",
            "es": "Para un caso medio, la IA da a «"}


@pytest.fixture
def explained(owner: Any) -> Any:
    """The small study in en, de and es, recruiting only to its TreeSHAP condition."""
    study = make_study(owner, multilingual_spec(("en", "de", "es")))
    study.conditions.exclude(name="ai_shap").update(is_open=False)
    return study


def _text(response: Any) -> str:
    html = response.content.decode().replace("\u00ad", "")  # soft hyphens (locale/de)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _explained_trial_page(walker: Walker, language: str) -> str:
    spec = walker.study.spec_in(language)
    walker.post("consent", agree="yes")
    walker.post("instructions")
    walker.post("comprehension", **{q.id: q.answer for q in spec.comprehension.questions})
    participant = walker.participant
    trial = participant.trials.exclude(kind=Trial.Kind.ATTENTION).first()
    while walker.participant.trial_pointer < trial.index:
        walker.answer_current()
    return walker.page().content.decode()


def test_preparation_stores_each_explanation_in_every_language_of_the_study(explained):
    rows = Explanation.objects.filter(item__study=explained)
    assert rows.exists()
    for row in rows:
        assert sorted(row.html_by_language) == ["de", "en", "es"]
        assert row.html == row.html_by_language["en"]  # the default language's
        for language, sentence in SENTENCE.items():
            assert sentence in row.html_by_language[language]


def test_a_german_participant_reads_the_german_explanation(explained):
    walker = Walker(explained, "P-DE")
    walker.enter(lang="de")
    page = _explained_trial_page(walker, "de")
    assert 'class="xl-explanation xl-attribution' in page
    assert SENTENCE["de"] in page and SENTENCE["en"] not in page
    assert re.search(r"Wahrscheinlichkeit von \d+\u00a0%", page)
    assert "Warum die KI das vorhersagt" in _text(walker.page())  # the partial's caption


def test_an_english_participant_of_the_same_study_reads_the_english_one(explained):
    walker = Walker(explained, "P-EN")
    walker.enter(lang="en")
    page = _explained_trial_page(walker, "en")
    assert SENTENCE["en"] in page and SENTENCE["de"] not in page
    assert re.search(r"a probability of \d+%", page)


def test_a_row_prepared_before_languages_were_rendered_shows_its_one_fragment(explained):
    # Oracle: Explanation.html_in falls back to ``html`` (rows from before migration 0017).
    Explanation.objects.filter(item__study=explained).update(html_by_language={})
    walker = Walker(explained, "P-OLD")
    walker.enter(lang="de")
    assert SENTENCE["en"] in _explained_trial_page(walker, "de")


def _researcher(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _preview_to_trials(client: Client, study: Any, **query: str) -> Participant:
    url = f"/r/{study.slug}/preview/ai_shap"
    assert client.post(url + (f"?lang={query['lang']}" if query else "")).status_code == 302
    participant = Participant.objects.get(is_preview=True)
    walker = Walker(study, participant.external_id, client=client)
    language = participant.language
    walker.post("consent", agree="yes")
    walker.post("instructions")
    spec = study.spec_in(language)
    walker.post("comprehension", **{q.id: q.answer for q in spec.comprehension.questions})
    participant.refresh_from_db()
    while participant.trials.get(index=participant.trial_pointer).kind == Trial.Kind.ATTENTION:
        walker.answer_current()
        participant.refresh_from_db()
    return participant


def test_the_preview_link_chooses_the_language_like_the_participant_link(explained, owner):
    client = _researcher(owner)
    participant = _preview_to_trials(client, explained, lang="es")
    assert participant.language == "es"
    page = client.get(f"/s/{explained.slug}/").content.decode()
    assert SENTENCE["es"] in page and SENTENCE["en"] not in page


def test_the_preview_switches_language_on_the_same_page(explained, owner):
    client = _researcher(owner)
    participant = _preview_to_trials(client, explained)
    page = client.get(f"/s/{explained.slug}/").content.decode()
    assert SENTENCE["en"] in page
    # The switcher offers the other two languages, by their own names.
    assert 'preview-language?lang=de"' in page and ">Deutsch</button>" in page
    assert ">Español</button>" in page and 'aria-current="true">English' in page
    response = client.post(f"/r/{explained.slug}/preview-language?lang=de")
    assert response.status_code == 302
    after = Participant.objects.get(pk=participant.pk)
    assert (after.language, after.trial_pointer) == ("de", participant.trial_pointer)
    assert SENTENCE["de"] in client.get(f"/s/{explained.slug}/").content.decode()


def test_a_preview_in_a_language_the_study_is_not_given_in_is_a_400(explained, owner):
    client = _researcher(owner)
    response = client.post(f"/r/{explained.slug}/preview/ai_shap?lang=fr")
    assert response.status_code == 400
    text = _text(response)
    assert "not available in the language the link asks for (“fr”)" in text
    assert "en, de, es" in text
    assert not Participant.objects.filter(is_preview=True).exists()
    _preview_to_trials(client, explained)
    assert client.post(f"/r/{explained.slug}/preview-language?lang=fr").status_code == 400
    assert Participant.objects.get(is_preview=True).language == "en"


def test_only_a_preview_switches_language_and_only_for_its_editors(explained, owner,
                                                                   colleague):
    from studyapp.models import StudyAccess

    StudyAccess.objects.get_or_create(study=explained, user=colleague)
    walker = Walker(explained, "P-REAL", client=_researcher(owner))
    walker.enter(lang="de")
    response = walker.client.post(f"/r/{explained.slug}/preview-language?lang=en")
    assert response.status_code == 404  # a participant's language never changes
    assert walker.participant.language == "de"
    viewer = _researcher(colleague)
    assert viewer.post(f"/r/{explained.slug}/preview-language?lang=en").status_code == 404
    assert Client().post(f"/r/{explained.slug}/preview-language?lang=en").status_code == 302


def test_the_study_page_offers_a_preview_in_each_language(explained, owner):
    page = _researcher(owner).get(f"/r/{explained.slug}/").content.decode()
    for code in ("en", "de", "es"):
        assert f'/preview/ai_shap?lang={code}"' in page
    assert "Preview (de)" in page
