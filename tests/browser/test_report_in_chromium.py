"""The HTML report of a 50-bot planted study, opened in headless Chromium on a desktop and on
a phone-sized screen; screenshots go to var/screenshots/ (look at them)."""

from __future__ import annotations

import os
import shutil

import pytest

from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.services.reports import study_reports_write

# The Chromium set-up (and its permission for the ORM inside Playwright's loop) is shared.
from tests.browser.test_demo_in_chromium import SCREENSHOTS, browser  # noqa: F401
from tests.factories import make_study, small_spec

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BOTS = 50


@pytest.fixture
def planted_report(transactional_db, owner, settings, live_server, tmp_path):  # type: ignore[no-untyped-def]
    """50 bots with the planted effect (accuracy 0.6 without AI, 0.7 with the prediction,
    0.85 with SHAP), some dropping out, exported and reported as the study page would."""
    settings.ENROL_RATE_PER_MINUTE = 0
    spec = small_spec(trials={"count": 8, "pool_size": 16, "attention_checks": 1})
    study = make_study(owner, spec)
    config = bot_config(study, base_url=live_server.url, behaviour="planted", seed=12,
                        mischief=False, dropout=0.1)
    summary = summarise(run_bots(config, BOTS, concurrency=1))
    assert summary["bots"] == BOTS and summary["completed"] >= 40, summary
    study_reports_write(study=study, out_dir=tmp_path, execute_notebook=False)
    keep = os.environ.get("KEEP_REPORT_EXPORT")  # a copy to look at by hand
    if keep:
        shutil.copytree(tmp_path, keep, dirs_exist_ok=True)
    return tmp_path / "report.html"


def test_the_report_of_a_planted_study_reads_on_a_desktop_and_a_phone(browser,  # noqa: F811
                                                                      planted_report):
    page_text = planted_report.read_text("utf-8")
    assert "ReportOptions(" not in page_text
    for name, viewport in (("desktop", {"width": 1280, "height": 900}),
                           ("phone", {"width": 390, "height": 844})):
        context = browser.new_context(viewport=viewport, is_mobile=name == "phone")
        page = context.new_page()
        page.goto(planted_report.as_uri())
        assert page.locator("svg.consort").count() == 1
        assert page.locator("figure.result").count() >= 3
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the report scrolls sideways at {name} width"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"report-{name}.png"), full_page=True)
        context.close()
