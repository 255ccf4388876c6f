"""What a participant's browser does on the study's pages, checked in Chromium: the events it
logs (tab-leaving, with page and trial), the choices it keeps across a refresh and a page the
server sends back, and how the pages fit a 390 px phone. Screenshots go to var/screenshots/.

Oracles: the events table (what the server stored), the DOM as the browser laid it out
(element boxes, ``scrollWidth``), and the form state after a reload.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from studyapp.models import Event, Participant, QuestionnaireAnswer
from tests.browser.steps import consent_and_pass_comprehension
from tests.browser.test_demo_in_chromium import (  # noqa: F401  (fixtures)
    CHROMIUM_ARGS,
    _only_condition,
    _shot,
    browser,
    demo,
)
from tests.studyapp.helpers import prolific_id

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _to_trials(page: Any, study: Any, pid: str) -> None:
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id(pid)}&STUDY_ID=demo&SESSION_ID=s1")
    consent_and_pass_comprehension(page, study)
    page.wait_for_selector("section.trial")


def _answer_trial(page: Any) -> None:
    before = page.locator("section.trial").get_attribute("data-trial")
    page.locator("input[name=answer]").first.check()
    if page.locator("input[name=confidence]").count():
        page.locator("input[name=confidence]").nth(2).check()
    page.locator("form.answer-form button[type=submit]").click()
    page.wait_for_function(
        f"!document.querySelector('section.trial') || "
        f"document.querySelector('section.trial').dataset.trial !== '{before}'")


def _to_questionnaire(page: Any) -> None:
    while page.locator("section.trial").count():
        _answer_trial(page)
    page.wait_for_selector("fieldset.likert")


# ----- events -------------------------------------------------------------------------------

def test_moving_through_pages_logs_no_tab_leaving_and_events_name_their_page(
        browser, live_server, demo):  # noqa: F811
    """The reported bug: page_hidden on every page change (85 of 130 events), page empty."""
    _only_condition(demo, "ai_shap")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100,
                                                                      "height": 900})
    page = context.new_page()
    _to_trials(page, demo, "EVENTS1")
    for _ in range(4):
        _answer_trial(page)
    page.wait_for_timeout(500)  # let the last keepalive posts land
    context.close()
    participant = Participant.objects.get(external_id=prolific_id("EVENTS1"))
    kinds = list(participant.events.values_list("kind", flat=True))
    assert "page_hidden" not in kinds and "page_visible" not in kinds, kinds
    shown = participant.events.filter(kind="explanation_shown")
    assert shown.exists()
    assert set(shown.values_list("page", flat=True)) == {"trial"}
    assert None not in set(shown.values_list("trial_index", flat=True))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def chromium_port(tmp_path) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """A Chromium of our own, its DevTools port open. Playwright cannot show a tab switch:
    while it is attached every page stays visible (checked: a second tab, activateTarget,
    minimising, Page.setWebLifecycleState, even a window on Xvfb). Without it attached, a
    tab opened and closed through the DevTools HTTP endpoint hides and shows the page for
    real, in headless Chromium too."""
    port = _free_port()
    args = [a for a in CHROMIUM_ARGS if a != "--headless"]
    chromium = subprocess.Popen(
        ["/usr/bin/chromium", "--headless=new", *args, f"--remote-debugging-port={port}",
         f"--user-data-dir={tmp_path / 'profile'}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _devtools(port, "/json/version")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield port
    finally:
        chromium.terminate()
        chromium.wait()


def _devtools(port: int, path: str, method: str = "GET") -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body.startswith((b"{", b"[")) else None


def test_switching_to_another_tab_and_back_is_logged_with_page_and_trial(
        browser, chromium_port, live_server, demo):  # noqa: F811
    _only_condition(demo, "ai_shap")
    # The running Playwright (one per thread) attaches to our Chromium, then lets go.
    connected = browser.browser_type.connect_over_cdp(f"http://127.0.0.1:{chromium_port}")
    page = connected.contexts[0].pages[0]
    page.goto(f"{live_server.url}/s/{demo.slug}/?PROLIFIC_PID={prolific_id('TABS1')}&STUDY_ID=d&SESSION_ID=s")
    consent_and_pass_comprehension(page, demo)
    page.wait_for_selector("section.trial")
    trial = int(page.locator("section.trial").get_attribute("data-trial"))
    connected.close()  # detach; the tab stays open on the trial page
    participant = Participant.objects.get(external_id=prolific_id("TABS1"))
    other = _devtools(chromium_port, "/json/new?about:blank", method="PUT")
    _wait_for_event(participant, "page_hidden")
    _devtools(chromium_port, f"/json/close/{other['id']}")
    _wait_for_event(participant, "page_visible")
    events = list(participant.events.filter(kind__in=["page_hidden", "page_visible"])
                  .order_by("id"))
    assert [e.kind for e in events] == ["page_hidden", "page_visible"]
    assert {(e.page, e.trial_index) for e in events} == {("trial", trial)}
    assert events[1].detail["hidden_ms"] > 0


def _wait_for_event(participant: Participant, kind: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not participant.events.filter(kind=kind).exists():
        assert time.monotonic() < deadline, list(participant.events.values_list("kind"))
        time.sleep(0.3)


# ----- drafts -------------------------------------------------------------------------------

def test_a_refresh_keeps_the_choices_made_on_the_page(browser, live_server, demo):  # noqa: F811
    _only_condition(demo, "ai_shap")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    _to_trials(page, demo, "DRAFT1")
    page.locator("input[name=answer]").nth(1).check()
    page.locator("input[name=confidence]").nth(3).check()
    page.reload()
    assert page.locator("input[name=answer]").nth(1).is_checked()
    assert page.locator("input[name=confidence]").nth(3).is_checked()
    # Nothing was stored as an answer: the participant is on the same trial, unanswered.
    participant = Participant.objects.get(external_id=prolific_id("DRAFT1"))
    assert not participant.trials.filter(responses__isnull=False).exists()
    context.close()


def test_a_questionnaire_sent_back_keeps_the_answers_given(browser, live_server, demo):  # noqa: F811
    _only_condition(demo, "ai_shap")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    _to_trials(page, demo, "DRAFT2")
    _to_questionnaire(page)
    groups = page.locator("fieldset.likert").all()
    for group in groups[:-1]:  # the last scale item left unanswered
        group.locator("input[type=radio]").nth(4).check()
    page.get_by_label("Anything you would like to tell us").fill("Kept?")
    # Without the browser's own check, the server is the one to refuse the page.
    page.evaluate("document.querySelectorAll('[required]').forEach(e => e.required = false)")
    page.get_by_role("button", name="Finish").click()
    page.wait_for_selector(".message-error")
    assert "Please answer every question" in page.locator(".message-error").inner_text()
    groups = page.locator("fieldset.likert").all()
    assert all(g.locator("input[type=radio]").nth(4).is_checked() for g in groups[:-1])
    assert page.get_by_label("Anything you would like to tell us").input_value() == "Kept?"
    assert not QuestionnaireAnswer.objects.exists()
    context.close()


# ----- a 390 px phone ------------------------------------------------------------------------

def _no_sideways_scroll(page: Any) -> int:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 390 px phone"
    return int(page.evaluate("document.scrollingElement.scrollHeight"))


def test_the_jian_scale_fits_one_row_on_a_phone(browser, live_server, demo):  # noqa: F811
    _only_condition(demo, "ai_shap")
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    _to_trials(page, demo, "PHONE7")
    _no_sideways_scroll(page)
    _shot(page, "phone-trial-shap")
    _to_questionnaire(page)
    _no_sideways_scroll(page)
    _shot(page, "phone-questionnaire-jian")
    for group in page.locator("fieldset.likert").all():
        boxes = [p.bounding_box() for p in group.locator(".scale-point").all()]
        assert len(boxes) == 7
        assert len({round(b["y"]) for b in boxes}) == 1, "a point of the scale wrapped"
        radios = [r.bounding_box() for r in group.locator("input[type=radio]").all()]
        assert min(r["width"] for r in radios) >= 16, "radio buttons shrank"
        anchors = group.locator(".scale-anchors span").all_inner_texts()
        assert anchors == ["Not at all", "Extremely"]
    context.close()


def test_the_researcher_dashboard_fits_a_phone(browser, live_server, demo, owner):  # noqa: F811
    from django.test import Client

    client = Client()
    client.force_login(owner)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.goto(f"/r/{demo.slug}/")
    _no_sideways_scroll(page)
    _shot(page, "phone-researcher-dashboard")
    context.close()


def test_hive_saliency_pages_fit_a_phone(browser, live_server, transactional_db, owner,  # noqa: F811
                                         settings):
    from pathlib import Path

    from studyapp.services import preparation, studies

    settings.ENROL_RATE_PER_MINUTE = 0
    spec = Path(__file__).resolve().parents[2] / "examples" / "studies" / \
        "hive_distinction_digits.yaml"
    study, _ = studies.study_load_spec(text=spec.read_text(encoding="utf-8"), owner=owner)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    _only_condition(study, "integrated_gradients")
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    _to_trials(page, study, "PHONEHIVE")
    if page.locator("p.instruction").count():  # the attention check first: answer it
        _answer_trial(page)
    height = _no_sideways_scroll(page)
    _shot(page, "phone-hive-distinction-saliency")
    # Four candidates with a map each, each map beside its description: about two and a half
    # screens (the reported page was 3,100 px, almost four), the legend still readable.
    assert height <= 2.5 * PHONE["height"], f"the page is {height} px tall"
    legend = page.evaluate(
        "Math.min(...[...document.querySelectorAll('figure.explanation svg text, "
        "figure.explanation .xl-legend, figure.explanation figcaption')].map("
        "e => e.getBoundingClientRect().height).filter(h => h > 0))")
    assert legend >= 10, f"the smallest legend text is {legend} px high"
    context.close()
    assert Event.objects.filter(kind="page_hidden").count() == 0
