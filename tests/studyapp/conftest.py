"""Fixtures shared by the studyapp tests of one feature across files."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def researcher(owner, settings, tmp_path) -> Client:  # type: ignore[no-untyped-def]
    """The owner signed in, with the material store in the test's own folder (the upload
    page's tests: test_material_upload*.py)."""
    settings.VAR_DIR = tmp_path / "var"
    client = Client()
    client.force_login(owner)
    return client
