"""Every page type of every example spec, in Chromium, on a desktop (1280x800) and a phone
(390x844): no WCAG 2.2 AA violation found by axe-core, no sideways scrolling on the phone,
and a screenshot of each under var/screenshots/pages/ to look at.

Oracle: axe-core 4.14.1 (Deque's rules engine, vendored under tests/browser/vendor/), run with
the WCAG 2.0/2.1/2.2 A and AA tags. One participant per condition (between subjects) or per
block order (within, mixed); a page type is checked the first time it appears, so a spec costs
one walk per condition, not one per page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studyapp.models import Participant
from studyapp.services import preparation, studies
from tests.browser.steps import agree, pass_comprehension, submit
from tests.studyapp.helpers import prolific_id

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "browser" / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots" / "pages"
_STUDIES = ROOT / "examples" / "studies"
EXAMPLES = sorted([*_STUDIES.glob("*.yaml"), *_STUDIES.glob("own_material/*.yaml")])
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""
# A page's type: its stage, and on trial pages the phase, step and what it shows.
PAGE_TYPE = """() => {
  const trial = document.querySelector('section.trial');
  if (!trial) return document.querySelector('h1') ? document.querySelector('h1').innerText : '';
  if (document.querySelector('p.instruction')) return 'attention';
  const panels = [...new Set([...trial.querySelectorAll('[data-panel]')]
                             .map(e => e.dataset.panel))].sort().join('+');
  const kinds = [...new Set([...trial.querySelectorAll('figure.explanation')]
      .map(f => [...f.classList].find(c => c.startsWith('explanation-')) || ''))].join('+');
  return ['trial', trial.dataset.phase, trial.dataset.step, panels || 'item', kinds]
      .filter(Boolean).join('-');
}"""

# The innermost elements whose right edge passes the window: what a too-wide page names, so
# the next person starts from the culprit, not from a screenshot.
STICKING_OUT = """(limit) => {
  const out = [...document.body.querySelectorAll('*')]
      .filter(e => e.getBoundingClientRect().right > limit + 0.5);
  const innermost = out.filter(e => !out.some(o => o !== e && e.contains(o)));
  return innermost.slice(0, 4).map(e => {
    const name = e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
        ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
    const text = (e.innerText || '').trim().slice(0, 40);
    return `${name} (${Math.round(e.getBoundingClientRect().right)} px) "${text}"`;
  });
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls between browser steps
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Inspector:
    """Checks each new page type at both sizes: axe, sideways scrolling, a screenshot."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: set[str] = set()
        self.condition = ""  # the condition being walked
        self.problems: list[str] = []
        (SCREENSHOTS / name).mkdir(parents=True, exist_ok=True)

    def look(self, page: Any, kind: str | None = None) -> None:
        if kind is None:
            kind = page.evaluate(PAGE_TYPE)
            if "explanation-" in kind:  # each method reads differently: one look per condition
                kind = f"{kind}-{self.condition}"
        slug = re.sub(r"[^a-z0-9+]+", "-", kind.lower()).strip("-")[:80] or "page"
        if slug in self.seen:
            return
        self.seen.add(slug)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            _load_axe(page)
            for violation in page.evaluate(AXE_RUN, WCAG_AA):
                self.problems.append(f"{self.name} {slug} {size}: {violation}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                culprits = "; ".join(page.evaluate(STICKING_OUT, viewport["width"]))
                self.problems.append(f"{self.name} {slug} {size}: {width} px wide: {culprits}")
            page.screenshot(path=str(SCREENSHOTS / self.name / f"{slug}-{size}.png"),
                            full_page=True)
        page.set_viewport_size(SIZES["desktop"])


def _load_axe(page: Any) -> None:
    """axe into the page through the DevTools protocol, not a <script> tag: the pages'
    Content-Security-Policy (scripts from this site only, none inline) stays in force, so
    axe checks the page exactly as a participant gets it."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))


def _study(owner: Any, path: Path) -> Any:
    study, _ = studies.study_load_spec(text=path.read_text(encoding="utf-8"), owner=owner,
                                       base_dir=path.parent)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    return study


def _walk(page: Any, study: Any, pid: str, inspect: Inspector) -> None:
    """One participant from consent to the completion code, looking at every new page."""
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={pid}&STUDY_ID=x&SESSION_ID=y")
    inspect.look(page, "consent")
    agree(page)  # by the form, not its words: some examples are in German
    inspect.look(page, "instructions")
    submit(page, "instructions")
    inspect.look(page, "comprehension")
    pass_comprehension(page, study)
    for _ in range(200):
        if not page.locator("section.trial").count():
            break
        inspect.look(page)
        _answer(page)
    if page.locator("form textarea, fieldset.likert").count():
        scales = sorted({name.split("_")[1] for name in page.locator(
            "fieldset.likert input").evaluate_all("inputs => inputs.map(i => i.name)")})
        inspect.look(page, "-".join(["questionnaire", *scales]))
        for group in page.locator("fieldset.likert").all():
            group.locator("input[type=radio]").first.check()
        for box in page.locator("form textarea").all():
            box.fill("Fine.")
        submit(page, "questionnaire")
    assert page.locator("#completion-code").inner_text() == study.completion_code
    inspect.look(page, "completion")


def _answer(page: Any) -> None:
    answers = page.locator("input[name=answer][type=radio]")
    if answers.count():
        answers.first.check()
    number = page.locator("input[name=answer][type=number]")
    if number.count():  # a numeric estimate; an attention check names its number
        instruction = page.locator("p.instruction")
        asked = re.findall(r"\d[\d,]*", instruction.inner_text() if instruction.count() else "")
        number.fill(asked[0].replace(",", "") if asked else "150000")
    if page.locator("input[name=confidence]").count():
        page.locator("input[name=confidence]").first.check()
    page.locator("form.answer-form button[type=submit]").click()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_page_of_an_example_study_passes_axe_at_desktop_and_phone_sizes(
        browser, live_server, transactional_db, owner, settings, path, tmp_path):
    settings.ENROL_RATE_PER_MINUTE = 0
    settings.VAR_DIR = tmp_path  # own material (own_material/) is stored there by hash
    study = _study(owner, path)
    inspect = Inspector(path.stem)
    context = browser.new_context(base_url=live_server.url, viewport=SIZES["desktop"])
    for n, condition in enumerate(study.conditions.order_by("pk")):
        if study.spec["design"]["type"] == "between":
            study.conditions.update(is_open=False)
            study.conditions.filter(pk=condition.pk).update(is_open=True)
        context.clear_cookies()
        inspect.condition = condition.name
        _walk(context.new_page(), study, prolific_id(f"axe-{path.stem}-{n}"), inspect)
    context.close()
    assert Participant.objects.filter(status="completed").count() == study.conditions.count()
    assert not inspect.problems, "\n".join(inspect.problems)


def test_the_pages_around_the_path_and_the_researchers_pages_pass_axe_at_both_sizes(
        browser, live_server, transactional_db, owner, settings):
    """The landing, withdrawal, screen-out and error pages, the login page, and the researcher's
    study list and dashboard."""
    from django.test import Client

    settings.ENROL_RATE_PER_MINUTE = 0
    study = _study(owner, _STUDIES / "demo.yaml")
    inspect = Inspector("around")
    context = browser.new_context(base_url=live_server.url, viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(f"/s/{study.slug}/")
    inspect.look(page, "landing")
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id('AROUND1')}&STUDY_ID=x&SESSION_ID=y")
    page.goto(f"/s/{study.slug}/withdraw")
    inspect.look(page, "withdraw")
    page.get_by_role("button", name="Withdraw and delete my answers").click()
    inspect.look(page, "withdrawn")
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={prolific_id('AROUND2')}&STUDY_ID=x&SESSION_ID=y")
    page.get_by_role("button", name="I agree to take part").click()
    page.get_by_role("button", name="I have read the instructions").click()
    attempts = study.comprehension_max_attempts
    for attempt in range(1, attempts + 1):  # wrong every time: screened out
        for question in study.spec["comprehension"]["questions"]:
            wrong = next(o for o in question["options"] if o != question["answer"])
            page.get_by_label(wrong, exact=True).check()
        inspect.look(page, f"comprehension-attempt-{attempt}")
        page.get_by_role("button", name="Check my answers").click()
        if attempt < attempts:  # a wrong attempt leads back to the instructions
            inspect.look(page, f"instructions-again-{attempt}")
            page.get_by_role("button", name="I have read the instructions").click()
    inspect.look(page, "screened-out")
    page.goto(f"/s/no-such-study/?PROLIFIC_PID={prolific_id('X')}&STUDY_ID=x&SESSION_ID=y")
    inspect.look(page, "error")
    page.goto("/accounts/login/")
    inspect.look(page, "login")
    client = Client()
    client.force_login(owner)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    # The gallery is checked where it is built, in test_demo_in_chromium.py.
    for url, kind in (("/r/", "researcher-studies"), (f"/r/{study.slug}/", "researcher-study")):
        page.goto(url)
        inspect.look(page, kind)
    context.close()
    assert not inspect.problems, "\n".join(inspect.problems)


def test_axe_reports_what_these_tests_must_catch(browser):
    """The oracle can fail: a page with an unlabelled field, an image without a text
    alternative and grey-on-white text gets those violations from the vendored axe."""
    page = browser.new_page()
    page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                     '<p style="color:#bbb">faint</p><input type="text"><img src="x.png">'
                     "</main></body></html>")
    _load_axe(page)
    found = {v["id"] for v in page.evaluate(AXE_RUN, WCAG_AA)}
    page.close()
    assert {"color-contrast", "label", "image-alt"} <= found
