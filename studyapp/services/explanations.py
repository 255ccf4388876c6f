"""Storing precomputed explanations: one row per item, method and parameter set."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction

from explainers.base import Explanation as ExplanationResult
from explainers.render import render_html
from studyapp.models import Condition, Explanation, Item


def params_key(params: dict[str, Any]) -> str:
    """A short stable key for a condition's explanation parameters."""
    canonical = json.dumps(params or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def explanation_params(condition: Condition, target: int | None = None) -> dict[str, Any]:
    """The condition's parameters, plus the class to explain for a distinction panel."""
    params = dict(condition.explanation_params)
    if target is not None:
        params["target"] = int(target)
    return params


def explanation_key(condition: Condition, target: int | None = None) -> str:
    """The key of the stored explanation a condition shows: its method's parameters, plus the
    wording and the model explained when these are not the defaults (two conditions with the
    same method but another wording or model must not share a row; default keys stay as they
    were)."""
    params: dict[str, Any] = explanation_params(condition, target)
    view = {name: value for name, value, default in (
        ("wording", condition.explanation_wording, Condition.PLAIN),
        ("model", condition.model_variant, "")) if value != default}
    return params_key({**params, "_shown": view} if view else params)


def explanation_store(*, item: Item, key: str, wording: str, result: ExplanationResult,
                      languages: tuple[str, ...] = ("en",)) -> tuple[Explanation, bool]:
    """Store an explanation once, rendered in each of the study's ``languages`` (the first,
    the default, is also ``html``); a concurrent or retried preparation gets the existing row.
    Returns the row and whether this call created it (chunked preparation counts progress
    by the rows it created, so a re-delivered chunk does not count twice).

    (The preparation checks for an existing row before computing; the unique constraint
    settles the race between two workers that both computed it.)
    """
    rendered = {language: render_html(result, wording=wording, language=language)
                for language in languages}
    try:
        with transaction.atomic():
            return Explanation.objects.create(
                item=item, method=result.method, params_key=key, kind=result.kind,
                fingerprint=result.fingerprint, payload=result.to_dict(),
                metrics=result.metrics, html=rendered[languages[0]],
                html_by_language=rendered), True
    except IntegrityError:  # a concurrent retry stored it first
        return Explanation.objects.get(item=item, method=result.method, params_key=key), False
