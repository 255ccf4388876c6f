"""Steps a participant takes in the browser, shared by the Chromium tests."""

from __future__ import annotations

from typing import Any


def pass_comprehension(page: Any, study: Any) -> None:
    """Tick the right answer to every comprehension question and submit them."""
    for question in study.spec["comprehension"]["questions"]:
        page.get_by_label(question["answer"], exact=True).check()
    page.get_by_role("button", name="Check my answers").click()


def consent_and_pass_comprehension(page: Any, study: Any) -> None:
    """From the consent page: agree, read the instructions and pass the comprehension check."""
    page.get_by_role("button", name="I agree to take part").click()
    page.get_by_role("button", name="I have read the instructions").click()
    pass_comprehension(page, study)
