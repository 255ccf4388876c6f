"""Chunked preparation (the Celery chord, eager here) against the sequential one.

Oracle: the rows the sequential ``study_prepare`` stores for the same spec — the explanations
are a pure function of (method, model, input, seed), so the chunked run must store exactly
those, once each.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from studyapp import tasks
from studyapp.models import Explanation, Study
from studyapp.services import preparation, studies
from tests.factories import small_spec, to_yaml


def _two_method_spec(slug: str) -> dict[str, Any]:
    return small_spec(slug=slug, conditions=[
        {"name": "no_ai", "label": "No AI", "show_ai": False},
        {"name": "ai_lime", "label": "AI + LIME",
         "explanation": {"method": "lime", "quality": "basic",
                         "params": {"num_samples": 300}}},
        {"name": "ai_shap", "label": "AI + SHAP", "explanation": {"method": "tree_shap"}}])


def _rows(study: Study) -> dict[tuple[int | None, str, str], tuple[Any, str]]:
    """Stored explanations keyed by (scenario row, method, parameters): item ids differ
    between two studies, the scenario row an item shows does not."""
    return {(e.item.source_index, e.method, e.params_key): (e.payload, e.html)
            for e in Explanation.objects.filter(item__study=study).select_related("item")}


def _load(owner: Any, slug: str) -> Study:
    study, _ = studies.study_load_spec(text=to_yaml(_two_method_spec(slug)), owner=owner)
    return study


@pytest.mark.django_db
def test_the_chunked_preparation_stores_exactly_what_the_sequential_one_stores(owner, settings):
    settings.PREPARATION_CHUNK_SIZE = 5  # 32 explanations: 7 chunks, the last one short
    sequential = preparation.study_prepare(study=_load(owner, "sequential"))
    tasks.prepare_study.delay(_load(owner, "chunked").pk)
    chunked = Study.objects.get(slug="chunked")
    assert chunked.preparation == Study.Preparation.DONE
    expected = _rows(sequential)
    assert len(expected) == 32
    assert _rows(chunked) == expected


@pytest.mark.django_db
def test_running_a_chunk_twice_stores_nothing_twice_and_counts_once(owner):
    study = _load(owner, "twice")
    chunks = preparation.preparation_begin(study=study, chunk_size=8)
    assert [len(c) for c in chunks] == [8, 8, 8, 8]
    assert preparation.preparation_chunk_run(study=study, units=chunks[0]) == 8
    # The same chunk delivered again (its worker died before acknowledging it).
    assert preparation.preparation_chunk_run(study=study, units=chunks[0]) == 0
    assert Explanation.objects.filter(item__study=study).count() == 8
    study.refresh_from_db()
    assert (study.preparation_done, study.preparation_total) == (8, 32)
    for units in chunks[1:]:
        preparation.preparation_chunk_run(study=study, units=units)
    study.refresh_from_db()  # the last chunk completed it, even without the finishing task
    assert study.preparation == Study.Preparation.DONE
    study = preparation.preparation_finish(study=study)
    assert study.preparation == Study.Preparation.DONE
    assert (study.preparation_done, study.preparation_total) == (32, 32)
    assert Explanation.objects.filter(item__study=study).count() == 32


@pytest.mark.django_db
def test_a_restarted_preparation_only_chunks_what_is_missing_and_progress_reaches_total(owner):
    study = _load(owner, "restart")
    first = preparation.preparation_begin(study=study, chunk_size=10)
    preparation.preparation_chunk_run(study=study, units=first[0])  # then the run was lost
    again = preparation.preparation_begin(study=study, chunk_size=10)
    assert sum(len(c) for c in again) == 22
    study.refresh_from_db()
    assert (study.preparation_done, study.preparation_total) == (10, 32)
    tasks.prepare_study.delay(study.pk)
    study.refresh_from_db()
    assert (study.preparation, study.preparation_done, study.preparation_total) == (
        Study.Preparation.DONE, 32, 32)


@pytest.mark.django_db
def test_finishing_with_explanations_missing_marks_the_preparation_failed(owner):
    study = _load(owner, "missing")
    chunks = preparation.preparation_begin(study=study, chunk_size=16)
    preparation.preparation_chunk_run(study=study, units=chunks[0])
    study = preparation.preparation_finish(study=study)
    assert study.preparation == Study.Preparation.FAILED
    assert "16 explanations missing" in study.preparation_error
    # The chord finished early (a chunk counted twice); the last chunk still completes it.
    preparation.preparation_chunk_run(study=study, units=chunks[1])
    study.refresh_from_db()
    assert (study.preparation, study.preparation_error) == (Study.Preparation.DONE, "")
    assert study.preparation_done == study.preparation_total == 32


@pytest.mark.django_db
def test_a_chunk_naming_another_studys_item_is_refused_and_stores_nothing(owner):
    study, other = _load(owner, "mine"), _load(owner, "theirs")
    preparation.preparation_begin(study=study, chunk_size=16)
    theirs = preparation.preparation_begin(study=other, chunk_size=16)[0]
    with pytest.raises(ValueError, match="no condition/item"):
        preparation.preparation_chunk_run(study=study, units=theirs)
    assert not Explanation.objects.exists()
    with pytest.raises(ValueError, match="chunk_size"):
        preparation.preparation_begin(study=study, chunk_size=0)


@pytest.mark.django_db
def test_the_prepare_study_command_waits_for_every_chunk(owner):
    study = _load(owner, "command")
    out = StringIO()
    call_command("prepare_study", study.slug, stdout=out)
    items = study.items.count()  # 16 in the pool, plus the attention checks
    assert out.getvalue().strip() == f"prepared: {items} items, 32/32 explanations"


@pytest.mark.django_db
def test_a_preparation_is_queued_only_when_the_callers_transaction_commits(owner, monkeypatch):
    """Oracle: the worker must read what was committed; a rolled-back caller queues nothing."""
    from django.db import transaction

    study = _load(owner, "queued")
    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr(tasks.prepare_study, "delay", lambda *args: sent.append(args))
    with pytest.raises(RuntimeError), transaction.atomic():
        preparation.preparation_queue(study=study)
        raise RuntimeError("the caller fails after queuing")
    assert sent == []
    with transaction.atomic():
        preparation.preparation_queue(study=study)
        assert sent == []  # not before the commit
    assert sent == [(study.pk,)]
