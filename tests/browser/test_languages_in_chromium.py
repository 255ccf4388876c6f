"""The German example (feedback, a bonus and a per-condition tutorial) walked in Chromium by a
participant, on a desktop (1280x800) and a 390 px phone: every page in German (html lang, the
platform's words, the spec's texts), no WCAG 2.2 AA violation found by axe, nothing wider than
the screen, and a screenshot of every page under var/screenshots/languages/ to look at.

Oracle: the German catalogue (locale/de) and the spec's own German texts; English platform
words that must not be left over are listed below; axe-core as in test_every_page.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from studyapp.models import Participant
from studyapp.services import preparation, studies
from tests.browser.steps import agree, pass_comprehension, submit
from tests.browser.test_demo_in_chromium import browser  # noqa: F401 (fixture)
from tests.browser.test_every_page import AXE_RUN, WCAG_AA, _load_axe
from tests.browser.test_material_page_in_chromium import _signed_in_page
from tests.studyapp.helpers import prolific_id

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "studies" / "feedback_and_bonus_adult_de.yaml"
SCREENSHOTS = ROOT / "var" / "screenshots" / "languages"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LEFT_OVER = ("I agree", "I have read", "Check my answers", "Withdraw from the study", "Page ",
             "How confident", "The AI's prediction", "Profile", "Next", "Bonus so far",
             "You can earn", "Right", "Not right", "Your answer", "Education", "years",
             "Finish", "Thank you", "completion code", "Return to Prolific", "Practice")


def axe_violations(page: Any, name: str) -> list[str]:
    """What axe-core (WCAG 2.2 AA, the oracle of test_every_page.py) finds on the page."""
    _load_axe(page)
    return [f"{name}: {violation}" for violation in page.evaluate(AXE_RUN, WCAG_AA)]


class Looker:
    """At both sizes: the page is German, passes axe, fits the screen, and is photographed."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.shots: list[Path] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def look(self, page: Any, name: str) -> None:
        if page.evaluate("document.documentElement.lang") != "de":
            self.problems.append(f"{name}: <html lang> is not de")
        text = page.locator("body").inner_text()
        for words in LEFT_OVER:
            if re.search(rf"\b{re.escape(words)}(?!\w)", text):
                self.problems.append(f"{name}: English left over: {words!r}")
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            self.problems += axe_violations(page, f"{name} {size}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                self.problems.append(f"{name} {size}: {width} px wide")
            path = SCREENSHOTS / f"{name}-{size}.png"
            page.screenshot(path=str(path), full_page=True)
            self.shots.append(path)
        page.set_viewport_size(SIZES["desktop"])


def _answer(page: Any) -> None:
    instruction = page.locator("p.instruction")
    answers = page.locator("input[name=answer][type=radio]")
    if instruction.count():  # the attention check names its answer „…“
        asked = re.search(r"„(.+?)“", instruction.inner_text())
        assert asked, instruction.inner_text()
        page.get_by_label(asked.group(1), exact=True).check()
    elif answers.count():
        answers.first.check()
    if page.locator("input[name=confidence]").count():
        page.locator("input[name=confidence]").first.check()
    page.locator("form.answer-form button[type=submit]").click()


def _open_example(owner: Any, settings: Any, condition: str) -> Any:
    """The German example, prepared and open, recruiting to ``condition`` only (one browser
    enrols every participant: no rate limit)."""
    settings.ENROL_RATE_PER_MINUTE = 0
    study, _ = studies.study_load_spec(text=EXAMPLE.read_text(encoding="utf-8"), owner=owner)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    study.conditions.exclude(name=condition).update(is_open=False)
    return study


def _participant_page(chromium: Any, live_server: Any, study: Any, name: str) -> Any:
    """A participant's browser on a desktop screen, opened on the study's Prolific link."""
    context = chromium.new_context(base_url=live_server.url, viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id(name)}&STUDY_ID=x&SESSION_ID=y")
    return page


def test_the_german_example_is_walked_in_german_on_a_desktop_and_a_phone(
        browser, live_server, transactional_db, owner, settings):  # noqa: F811
    # The condition with the tutorial, its practice trial and feedback on four answers.
    study = _open_example(owner, settings, "ai_training")
    looker = Looker()
    page = _participant_page(browser, live_server, study, "DE1")
    looker.look(page, "1-consent")
    assert "Dies ist eine wissenschaftliche Studie" in page.locator("main").inner_text()
    agree(page)
    looker.look(page, "2-instructions")
    assert "Sie können einen Bonus verdienen" in page.locator("main").inner_text()
    submit(page, "instructions")
    looker.look(page, "3-comprehension")
    pass_comprehension(page, study)
    seen: set[str] = set()
    for _ in range(60):
        trial = page.locator("section.trial")
        if not trial.count():
            break
        kind = "-".join(filter(None, [trial.get_attribute("data-step"),
                                      "tutorial" if page.locator("section.tutorial").count()
                                      else "", "attention" if page.locator(
                                          "p.instruction").count() else ""]))
        if kind not in seen:
            seen.add(kind)
            looker.look(page, f"4-trial-{kind}")
        _answer(page)
    assert {"final-tutorial", "feedback", "final", "final-attention"} <= seen, seen
    looker.look(page, "5-questionnaire")
    for box in page.locator("form textarea").all():
        box.fill("Ich bin der KI meistens gefolgt.")
    submit(page, "questionnaire")
    looker.look(page, "6-finished")
    assert page.locator("#completion-code").inner_text() == study.completion_code
    assert "Ihr Bonus" in page.locator("main").inner_text()
    page.context.close()
    assert Participant.objects.get().language == "de"
    assert not looker.problems, "\n".join(looker.problems)


def test_the_german_example_s_explanation_is_german_on_a_desktop_and_a_phone(
        browser, live_server, transactional_db, owner, settings):  # noqa: F811
    """Oracle: locale/de's wording of the attribution sentence and its numbers ("24 %")."""
    study = _open_example(owner, settings, "ai_explained")
    looker = Looker()
    page = _participant_page(browser, live_server, study, "DE2")
    agree(page)
    submit(page, "instructions")
    pass_comprehension(page, study)
    while page.locator("p.instruction").count():  # the attention check shows no explanation
        _answer(page)
    explanation = page.locator("figure.explanation-attribution")
    assert explanation.count() == 1
    text = explanation.inner_text()
    assert "Warum die KI das vorhersagt" in text
    assert re.search(r"Für einen durchschnittlichen Fall gibt die KI „.+“ eine "
                     r"Wahrscheinlichkeit von \d+\s%", text), text
    assert "For an average case" not in text and "points" not in text
    looker.look(page, "4-trial-explained")
    page.context.close()
    assert not looker.problems, "\n".join(looker.problems)


def test_a_researcher_previews_the_explained_condition_and_switches_its_language(
        browser, live_server, transactional_db, owner, settings):  # noqa: F811
    """A study in English and German: the preview starts in German from the study page's
    button, and the switcher shows the same trial page in English. Oracle: locale/de's and
    the English wording of the attribution sentence."""
    import yaml

    from experiments.languages import localised_fields
    from tests.factories import _set_path

    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    spec.update(slug="feedback-bonus-de-en", languages=["de", "en"])
    for path, text in list(localised_fields(spec)):  # each text in both (the English marked)
        _set_path(spec, path, {"de": text, "en": f"[en] {text}"})
    study, _ = studies.study_load_spec(text=yaml.safe_dump(spec, allow_unicode=True),
                                       owner=owner)
    preparation.study_prepare(study=study)
    page = _signed_in_page(browser, live_server, owner)
    page.goto(f"/r/{study.slug}/")
    page.get_by_role("button", name="Preview KI-Vorhersage mit Erklärung, keine Rückmeldung "
                                    "as a participant in Deutsch").click()
    agree(page)
    submit(page, "instructions")
    pass_comprehension(page, study, "de")
    while page.locator("p.instruction").count():
        _answer(page)
    looker = Looker()
    looker.look(page, "7-preview-explained")
    assert "Für einen durchschnittlichen Fall" in page.locator("main").inner_text()
    page.locator(".preview-languages button", has_text="English").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "For an average case" in page.locator("main").inner_text()
    looker.problems += axe_violations(page, "7-preview-explained-switched-en")
    page.screenshot(path=str(SCREENSHOTS / "7-preview-explained-switched-en.png"),
                    full_page=True)
    page.context.close()
    assert Participant.objects.get(is_preview=True).language == "en"
    assert not looker.problems, "\n".join(looker.problems)

