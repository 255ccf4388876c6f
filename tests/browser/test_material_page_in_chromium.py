"""The own-data page in Chromium: a researcher uploads the example table and its codebook,
the example texts, and the example pictures as one zip through the form, and the page with
its schema, model card and item preview (with its explanation) passes axe at desktop and
phone sizes without sideways scrolling (screenshots under var/screenshots/pages/material/)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_every_page import SIZES, Inspector, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "own_material"


def _signed_in_page(chromium: Any, live_server: Any, owner: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(owner)
    context = chromium.new_context(base_url=live_server.url, viewport=SIZES["desktop"])
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.goto("/r/material/new/")
    return page


def _upload(page: Any, *, kind: str, name: str, target: str, data: Path,
            codebook: Path, column: tuple[str, str] | None = None) -> None:
    page.get_by_role("radio", name=re.compile(f"^{re.escape(kind)}")).check()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Target", exact=True).fill(target)
    if column is not None:
        page.get_by_label(column[0], exact=True).fill(column[1])
    page.get_by_label("Data (CSV or Parquet; for pictures a .zip)").set_input_files(str(data))
    page.get_by_label("Codebook (YAML, optional)").set_input_files(str(codebook))
    page.get_by_role("button", name="Check and train").click()
    page.wait_for_selector("section[data-section=preview]", timeout=120_000)


def test_the_upload_page_and_its_report_pass_axe_at_both_sizes(browser: Any,  # noqa: F811
                                                               live_server, transactional_db,
                                                               owner, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    page = _signed_in_page(browser, live_server, owner)
    context = page.context
    inspect = Inspector("material")
    inspect.look(page, "material-form")
    _upload(page, kind="A table", name="tumours", target="diagnosis",
            data=EXAMPLE / "tumours" / "tumours.csv",
            codebook=EXAMPLE / "tumours" / "tumours.codebook.yaml")
    assert page.locator("section[data-section=preview] th[scope=row]").count() > 3
    inspect.look(page, "material-report")
    context.close()
    assert not inspect.problems, "\n".join(inspect.problems)


def test_texts_and_a_zip_of_pictures_uploaded_pass_axe_at_both_sizes(
        browser: Any, live_server, transactional_db, owner, settings,  # noqa: F811
        tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    page = _signed_in_page(browser, live_server, owner)
    inspect = Inspector("material")
    reviews = EXAMPLE / "reviews"
    _upload(page, kind="Texts", name="reviews", target="verdict",
            data=reviews / "reviews.csv", codebook=reviews / "reviews.codebook.yaml",
            column=("Text column", "review"))
    assert page.locator("section[data-section=preview] blockquote.item-text").count() == 1
    assert page.locator("section[data-section=preview] .explanation-text").count() == 1
    inspect.look(page, "material-report-texts")
    shapes = EXAMPLE / "shapes"
    archive = tmp_path / "shapes.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(shapes / "shapes.csv", "shapes.csv")
        for picture in sorted((shapes / "images").iterdir()):
            zipped.write(picture, f"images/{picture.name}")
    page.goto("/r/material/new/")
    _upload(page, kind="Pictures", name="shapes", target="shape", data=archive,
            codebook=shapes / "shapes.codebook.yaml", column=("Image column", "file"))
    assert page.locator("section[data-section=preview] figure.item-image svg").count() == 1
    assert page.locator("section[data-section=preview] .explanation-saliency").count() == 1
    inspect.look(page, "material-report-pictures")
    page.context.close()
    assert not inspect.problems, "\n".join(inspect.problems)
