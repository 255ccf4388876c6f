"""Steps a participant takes in the browser, shared by the Chromium tests."""

from __future__ import annotations

from typing import Any


def submit(page: Any, action: str) -> None:
    """Press the submit button of the page's form for ``action``: found by the form, not by
    its words, so that a walk works in every language the pages are in."""
    page.locator(f"form:has(input[name=action][value={action}]) button[type=submit]").click()


def agree(page: Any) -> None:
    page.locator("button[name=agree][value=yes]").click()


def pass_comprehension(page: Any, study: Any, language: str | None = None) -> None:
    """Tick the right answer to every comprehension question (in ``language``, default the
    study's) and submit them."""
    spec = study.spec_in(language) if language else study.typed_spec
    for question in spec.comprehension.questions:
        page.get_by_label(question.answer, exact=True).check()
    submit(page, "comprehension")


def consent_and_pass_comprehension(page: Any, study: Any) -> None:
    """From the consent page: agree, read the instructions and pass the comprehension check."""
    agree(page)
    submit(page, "instructions")
    pass_comprehension(page, study)
