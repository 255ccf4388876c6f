"""`load_study` with a researcher's own texts: the example spec (own_material/reviews.yaml) is
loaded from its file, prepared, and walked by one participant through the real pages.

Oracles: the example's CSV (the text on each trial page is one of its reviews, with that row's
label as the truth) and the codebook (the words the answer options use)."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from studyapp.models import Item, Study, Trial
from studyapp.services import preparation, studies
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "own_material"
QUOTE = re.compile(r'<blockquote class="item-text">(.*?)</blockquote>', re.S)


def _written() -> dict[str, str]:
    """Review text -> its label, as the CSV gives them."""
    with (EXAMPLE / "reviews" / "reviews.csv").open(encoding="utf-8") as handle:
        return {row["review"]: row["verdict"] for row in csv.DictReader(handle)}


def test_the_example_texts_are_prepared_and_a_participant_reads_them_with_lime(owner,
                                                                              settings, tmp_path):
    settings.VAR_DIR = tmp_path
    spec_path = EXAMPLE / "reviews.yaml"
    study, _ = studies.study_load_spec(text=spec_path.read_text(encoding="utf-8"), owner=owner,
                                       base_dir=spec_path.parent)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    study.refresh_from_db()
    assert study.preparation == Study.Preparation.DONE
    written = _written()
    labels = {"negative": "Did not like it", "positive": "Liked it"}  # the codebook's words
    pool = study.items.filter(role=Item.Role.POOL)
    assert pool.count() == 32
    for item in pool:
        assert labels[written[item.display["text"]]] == item.truth
    study.conditions.exclude(name="ai_lime").update(is_open=False)
    walker = Walker(study)
    walker.to_trials()
    shown = 0
    while walker.participant.stage == "trials":
        participant = walker.participant
        trial = participant.trials.get(index=participant.trial_pointer)
        page = walker.page().content.decode()
        if trial.kind == Trial.Kind.MAIN:
            quoted = html.unescape(QUOTE.search(page).group(1))
            assert quoted in written
            assert "Words that mattered" in page and 'class="xl-highlighted"' in page
            shown += 1
        assert walker.answer_current().status_code == 303
    assert shown == 8
    assert walker.finish_questionnaire().status_code == 303
    assert walker.participant.is_finished
