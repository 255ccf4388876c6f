"""`load_study` with a researcher's own texts and pictures: the example specs
(own_material/reviews.yaml, own_material/shapes.yaml) are loaded from their files, prepared,
and walked by one participant through the real pages.

Oracles: the examples' CSVs (each trial shows one of their texts or pictures, with that row's
label as the truth) and their codebooks (the words the labels are shown in)."""

from __future__ import annotations

import csv
import html
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from experiments.scenarios.own_images import normalise
from studyapp.models import Item, Study, Trial
from studyapp.services import preparation, studies
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "own_material"
QUOTE = re.compile(r'<blockquote class="item-text">(.*?)</blockquote>', re.S)


def _rows(name: str) -> list[dict[str, str]]:
    with (EXAMPLE / name / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _prepared(owner: object, tmp_path: Path, name: str) -> Study:
    """The example loaded from a copy of its folder, which is then removed: preparation
    reads only the stored material."""
    shutil.copytree(EXAMPLE, tmp_path / "mine")
    spec_path = tmp_path / "mine" / f"{name}.yaml"
    study, _ = studies.study_load_spec(text=spec_path.read_text(encoding="utf-8"), owner=owner,
                                       base_dir=spec_path.parent)
    shutil.rmtree(tmp_path / "mine")
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    study.refresh_from_db()
    assert study.preparation == Study.Preparation.DONE
    return study


def _walk(study: Study, condition: str, check: Callable[[str], None]) -> int:
    """One participant of ``condition`` to the end; ``check`` reads each main trial page."""
    study.conditions.exclude(name=condition).update(is_open=False)
    walker = Walker(study)
    walker.to_trials()
    shown = 0
    while walker.participant.stage == "trials":
        participant = walker.participant
        trial = participant.trials.get(index=participant.trial_pointer)
        if trial.kind == Trial.Kind.MAIN:
            check(walker.page().content.decode())
            shown += 1
        assert walker.answer_current().status_code == 303
    assert walker.finish_questionnaire().status_code == 303
    assert walker.participant.is_finished
    return shown


def test_the_example_texts_are_prepared_and_a_participant_reads_them_with_lime(owner,
                                                                              settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    study = _prepared(owner, tmp_path, "reviews")
    written = {row["review"]: row["verdict"] for row in _rows("reviews")}
    labels = {"negative": "Did not like it", "positive": "Liked it"}  # the codebook's words
    pool = study.items.filter(role=Item.Role.POOL)
    assert pool.count() == 32
    for item in pool:
        assert labels[written[item.display["text"]]] == item.truth

    def check(page: str) -> None:
        assert html.unescape(QUOTE.search(page).group(1)) in written
        assert "Words that mattered" in page and 'class="xl-highlighted"' in page

    assert _walk(study, "ai_lime", check) == 8


def test_the_example_pictures_are_prepared_and_a_participant_sees_them_with_maps(owner,
                                                                                settings,
                                                                                tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    study = _prepared(owner, tmp_path, "shapes")
    rows = _rows("shapes")
    pictures = np.stack([normalise(Image.open(EXAMPLE / "shapes" / r["file"])) for r in rows])
    pool = study.items.filter(role=Item.Role.POOL)
    assert pool.count() == 24
    for item in pool:
        shown = np.asarray(item.display["image"]) / 16 * 255
        row = int(np.abs(pictures - shown).reshape(len(rows), -1).max(axis=1).argmin())
        assert np.allclose(pictures[row], shown)
        assert item.truth == rows[row]["shape"].capitalize()  # the codebook's words

    def check(page: str) -> None:
        assert 'aria-label="picture, 16 by 16 pixels"' in page
        assert "The picture (16 \u00d7 16 pixels)" in page and "handwritten" not in page
        assert "explanation-saliency" in page

    assert _walk(study, "ai_smoothgrad", check) == 6
