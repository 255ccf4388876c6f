"""The German example (feedback, a bonus and a per-condition tutorial) walked in Chromium by a
participant, on a desktop (1280x800) and a 390 px phone: every page in German (html lang, the
platform's words, the spec's texts), nothing wider than the screen, and a screenshot of every
page under var/screenshots/languages/ to look at.

Oracle: the German catalogue (locale/de) and the spec's own German texts; English platform
words that must not be left over are listed below.
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


class Looker:
    """At both sizes: the page is German, fits the screen, and is photographed."""

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


def test_the_german_example_is_walked_in_german_on_a_desktop_and_a_phone(
        browser, live_server, transactional_db, owner, settings):  # noqa: F811
    settings.ENROL_RATE_PER_MINUTE = 0
    study, _ = studies.study_load_spec(text=EXAMPLE.read_text(encoding="utf-8"), owner=owner)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    # The condition with the tutorial, its practice trial and feedback on four answers.
    study.conditions.exclude(name="ai_training").update(is_open=False)
    looker = Looker()
    context = browser.new_context(base_url=live_server.url, viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id('DE1')}&STUDY_ID=x&SESSION_ID=y")
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
    context.close()
    assert Participant.objects.get().language == "de"
    assert not looker.problems, "\n".join(looker.problems)
