"""The own-data page in Chromium: a researcher uploads the example table and its codebook
through the form, and the page with its schema, model card and item preview passes axe at
desktop and phone sizes without sideways scrolling (screenshots under
var/screenshots/pages/material/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_every_page import SIZES, Inspector, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "own_material"


def test_the_upload_page_and_its_report_pass_axe_at_both_sizes(browser: Any,  # noqa: F811
                                                               live_server, transactional_db,
                                                               owner, settings, tmp_path):
    from django.test import Client

    settings.VAR_DIR = tmp_path / "var"
    client = Client()
    client.force_login(owner)
    context = browser.new_context(base_url=live_server.url, viewport=SIZES["desktop"])
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    inspect = Inspector("material")
    page.goto("/r/material/new/")
    inspect.look(page, "material-form")
    page.get_by_label("Name", exact=True).fill("tumours")
    page.get_by_label("Target", exact=True).fill("diagnosis")
    page.get_by_label("Data (CSV or Parquet)").set_input_files(
        str(EXAMPLE / "tumours" / "tumours.csv"))
    page.get_by_label("Codebook (YAML, optional)").set_input_files(
        str(EXAMPLE / "tumours" / "tumours.codebook.yaml"))
    page.get_by_role("button", name="Check and train").click()
    page.wait_for_selector("section[data-section=preview]", timeout=120_000)
    assert page.locator("section[data-section=preview] th[scope=row]").count() > 3
    inspect.look(page, "material-report")
    context.close()
    assert not inspect.problems, "\n".join(inspect.problems)
