"""A participant completes the demo study in headless Chromium; every page type is saved as a
screenshot under var/screenshots/ (look at them), on a desktop and on a phone-sized screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studyapp.models import Participant, Response
from studyapp.services import preparation, studies
from tests.browser.steps import consent_and_pass_comprehension, pass_comprehension
from tests.browser.test_every_page import Inspector, _study
from tests.factories import demo_spec, to_yaml
from tests.studyapp.helpers import prolific_id

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps (and the database flush after each) are synchronous and safe.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo(transactional_db, owner, settings):  # type: ignore[no-untyped-def]
    settings.ENROL_RATE_PER_MINUTE = 0
    study, _ = studies.study_load_spec(text=to_yaml(demo_spec()), owner=owner)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    return study


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _only_condition(study: Any, name: str) -> None:
    study.conditions.exclude(name=name).update(is_open=False)
    study.conditions.filter(name=name).update(is_open=True)


def _walk(page: Any, study: Any, *, prefix: str, pid: str) -> None:
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id(pid)}&STUDY_ID=demo&SESSION_ID=s1")
    _shot(page, f"{prefix}1-consent")
    page.get_by_role("button", name="I agree to take part").click()
    _shot(page, f"{prefix}2-instructions")
    page.get_by_role("button", name="I have read the instructions").click()
    _shot(page, f"{prefix}3-comprehension")
    pass_comprehension(page, study)
    trial_shots = set()
    while page.locator("section.trial").count():
        kind = "attention" if page.locator("p.instruction").count() else "trial"
        if kind not in trial_shots:
            _shot(page, f"{prefix}4-{kind}")
            trial_shots.add(kind)
        section = page.locator("section.trial")
        before = section.get_attribute("data-trial")
        page.locator("input[name=answer]").first.check()
        page.locator("input[name=confidence]").nth(2).check()
        page.get_by_role("button", name="Next").click()
        if page.locator("section.trial").count():
            assert page.locator("section.trial").get_attribute("data-trial") != before
    _shot(page, f"{prefix}5-questionnaire")
    for group in page.locator("fieldset.likert").all():
        group.locator("input[type=radio]").nth(3).check()
    page.get_by_label("Anything you would like to tell us").fill("Clear enough.")
    page.get_by_role("button", name="Finish").click()
    assert page.locator("#completion-code").inner_text() == study.completion_code
    _shot(page, f"{prefix}6-completion")


@pytest.mark.parametrize("condition", ["ai_shap", "ai_rule"])
def test_a_participant_completes_the_demo_study_in_chromium(browser, live_server, demo,
                                                            condition):
    _only_condition(demo, condition)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100,
                                                                      "height": 900})
    page = context.new_page()
    _walk(page, demo, prefix=f"desktop-{condition}-", pid=f"BROWSER{condition.upper()}")
    context.close()
    participant = Participant.objects.get()
    assert participant.status == "completed" and participant.condition.name == condition
    finals = Response.objects.filter(step="final", trial__participant=participant)
    assert finals.count() == participant.trials.count() == 13
    assert all(r.rt_ms and r.rt_ms > 0 for r in finals)
    explained = finals.filter(trial__kind="main")
    assert all(r.explanation_visible_ms is not None for r in explained)
    assert participant.events.filter(kind="explanation_shown").exists()


def test_the_study_reads_on_a_phone_and_works_by_keyboard(browser, live_server, demo):
    _only_condition(demo, "ai_shap")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390,
                                                                      "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    pid = prolific_id("PHONE1")
    page.goto(f"/s/{demo.slug}/?PROLIFIC_PID={pid}&STUDY_ID=demo&SESSION_ID=s1")
    page.keyboard.press("Tab")  # the skip link first
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "I agree" by keyboard alone
    page.wait_for_selector("text=Instructions")
    page.get_by_role("button", name="I have read the instructions").click()
    pass_comprehension(page, demo)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the trial page scrolls sideways on a phone"
    _shot(page, "phone-trial")
    context.close()


def test_the_researcher_dashboard_shows_live_counts(browser, live_server, demo, owner):
    from django.test import Client

    from studyapp.services import enrolment

    for n in range(7):
        enrolment.participant_enrol(study=demo, recruitment=enrolment.Recruitment(
            source="prolific", external_id=f"DASH{n}"))
    client = Client()
    client.force_login(owner)
    cookie = client.cookies["sessionid"].value
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280,
                                                                      "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"/r/{demo.slug}/")
    assert page.locator("#consort").is_visible()
    assert page.locator("#consort tfoot td").first.inner_text() == "7"
    _shot(page, "researcher-dashboard")
    context.close()


def test_the_explanation_gallery_renders_every_method(browser, live_server, transactional_db,
                                                      owner, settings,
                                                      tmp_path):
    from django.test import Client

    from explainers import available_methods
    from studyapp.services.gallery import gallery_build

    settings.VAR_DIR = tmp_path
    outcome = gallery_build()
    assert not [m for m, case in outcome.items() if case.startswith("error")], outcome
    client = Client()
    client.force_login(owner)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100,
                                                                      "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.goto("/r/gallery/")
    assert page.locator("section.gallery-entry").count() == len(available_methods())
    _shot(page, "researcher-gallery")
    inspect = Inspector("researcher")  # axe (WCAG 2.2 AA) and no sideways scroll, both sizes
    inspect.look(page, "gallery")
    assert not inspect.problems, "\n".join(inspect.problems)
    context.close()


_STUDIES = Path(__file__).resolve().parents[2] / "examples" / "studies"
EXAMPLES = sorted([*_STUDIES.glob("*.yaml"), *_STUDIES.glob("own_material/*.yaml")])


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.stem != "demo"],
                         ids=[p.stem for p in EXAMPLES if p.stem != "demo"])
def test_each_example_study_is_completed_in_chromium(browser, live_server, transactional_db,
                                                     owner, settings, path, tmp_path):
    """One participant per example design, with a screenshot of every kind of page it shows."""
    settings.ENROL_RATE_PER_MINUTE = 0
    settings.VAR_DIR = tmp_path  # own material (own_material/) is stored there by hash
    study = _study(owner, path)
    explained = [c for c in study.conditions.all() if c.explanation_method]
    keep = explained[0] if explained else study.conditions.first()
    study.conditions.exclude(pk=keep.pk).update(is_open=False)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100,
                                                                      "height": 900})
    page = context.new_page()
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id(path.stem)}&STUDY_ID=x&SESSION_ID=y")
    consent_and_pass_comprehension(page, study)
    shots: set[str] = set()
    for _ in range(200):
        section = page.locator("section.trial")
        if not section.count():
            break
        name = f"{section.get_attribute('data-phase')}-{section.get_attribute('data-step')}"
        if page.locator("p.instruction").count():
            name = "attention"
        if name not in shots:
            _shot(page, f"example-{path.stem}-{name}")
            shots.add(name)
        answers = page.locator("input[name=answer][type=radio]")
        if answers.count():
            answers.first.check()
        number = page.locator("input[name=answer][type=number]")
        if number.count():  # a numeric estimate; an attention check names its number
            asked = re.findall(r"\d[\d,]*", page.locator("p.instruction").inner_text()
                               if page.locator("p.instruction").count() else "")
            number.fill(asked[0].replace(",", "") if asked else "150000")
        if page.locator("input[name=confidence]").count():
            page.locator("input[name=confidence]").first.check()
        page.locator("form.answer-form button[type=submit]").click()
    for group in page.locator("fieldset.likert").all():
        group.locator("input[type=radio]").first.check()
    if page.locator("form textarea").count():
        page.locator("form textarea").first.fill("Fine.")
    # The questionnaire's own form, not the English word "Finish" (German: "Abschließen").
    page.locator("form:has(input[name=action][value=questionnaire]) button[type=submit]").click()
    assert page.locator("#completion-code").inner_text() == study.completion_code
    context.close()
    assert Participant.objects.get().status == "completed"
