"""The researcher's explanation gallery renders each method with the participant partials."""

from __future__ import annotations

import pytest
from django.test import Client

from studyapp.services.gallery import gallery_build

pytestmark = pytest.mark.django_db
METHODS = ["tree_shap", "anchors", "counterfactual_mad", "integrated_gradients", "lime_text",
           "distilled_tree", "nearest_examples"]


def test_the_gallery_shows_every_built_method_as_participants_see_it(owner, settings,
                                                                     tmp_path):
    settings.VAR_DIR = tmp_path
    outcome = gallery_build(methods=METHODS)
    assert not [m for m, case in outcome.items() if case.startswith("error")], outcome
    client = Client()
    client.force_login(owner)
    page = client.get("/r/gallery/").content.decode()
    for method in METHODS:
        assert f'id="method-{method}"' in page
    for kind in ["attribution", "rule", "counterfactual", "saliency", "text", "global",
                 "examples"]:
        assert f'class="explanation explanation-{kind}"' in page


def test_the_gallery_page_needs_a_login_and_says_when_it_is_empty(owner, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert Client().get("/r/gallery/").status_code == 302
    client = Client()
    client.force_login(owner)
    assert b"has not been built" in client.get("/r/gallery/").content
