"""Nothing a participant receives identifies an item outside the study.

Guards finding 1 of issue 11: every trial page carried ``data-item="adult-test-14661"``, and
with the data shipped in the public repository that row index gives the true label (50 of 50
recovered). Every example spec is played by bots over HTTP — every page of every condition,
the mischief they try (stale posts, error pages), the events they log — and every response
(body, headers, the URLs followed) is searched for the study's item keys and explanation
fingerprints. That walk runs in the integration layer, on each example study prepared once
by tests/integration/test_example_studies.py (:func:`assert_no_response_names_an_item`).
Oracle: those strings are the identifiers a participant could look up in the public data;
none may appear. Tokens that do appear (``data-item``) are checked to be the opaque
per-study ones, and ``data-*`` attributes are limited to a known list, so a new attribute
carrying a row id fails here too.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from explainers.base import Explanation as ExplanationResult
from explainers.base import Provenance
from explainers.render import render_html
from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.models import Explanation, Item
from studyapp.tokens import public_id

# What participants' pages may say in data-* attributes (none names an item outside the study).
ALLOWED_DATA = {"data-point", "data-questionnaire", "data-trial", "data-step", "data-item",
                "data-phase", "data-panel",
                "data-explanation", "data-method", "data-timed", "data-once", "data-page"}
TOKEN = re.compile(r"^t[0-9a-f]{20}$")


class Recorder:
    """Every HTTP exchange the bots make, as text: URL, status, headers and body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def wrap(self, original: Any) -> Any:
        def request(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
            response = original(session, method, url, **kwargs)
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            self.seen.append((f"{method} {response.url}",
                              f"{response.url}\n{headers}\n{response.text}"))
            return response
        return request


def _identifiers(study: Any) -> set[str]:
    items = Item.objects.filter(study=study)
    keys = {item.key for item in items}
    fingerprints = set(Explanation.objects.filter(item__study=study)
                       .values_list("fingerprint", flat=True))
    # Renderers once named SVG elements by the fingerprint's first 10 characters.
    return keys | fingerprints | {f[:10] for f in fingerprints}


def assert_no_response_names_an_item(study: Any, base_url: str, monkeypatch: Any) -> None:
    """Bots play every condition / order of a prepared, open ``study`` (with mischief and
    events), plus the error pages; no response they get names an item or explanation.

    Called by tests/integration/test_example_studies.py on every example study, which
    prepares each one once for all its checks (a full preparation takes minutes)."""
    recorder = Recorder()
    monkeypatch.setattr(requests.Session, "request", recorder.wrap(requests.Session.request))
    config = bot_config(study, base_url=base_url, behaviour="planted", seed=5,
                        mischief=True, log_events=True)
    # One after the other, so balanced assignment sends them to every condition / order.
    summary = summarise(run_bots(config, study.conditions.count() + 1, concurrency=1))
    assert summary["with_errors"] == 0, summary["errors"]
    base = f"{base_url}/s/{study.slug}/"
    for extra in (f"{base}withdraw", f"{base}?PROLIFIC_PID=nothex", f"{base}nope"):
        requests.get(extra, timeout=30)
    monkeypatch.undo()

    identifiers = _identifiers(study)
    tokens = {public_id(study, item) for item in study.items.all()}
    trial_pages = 0
    for where, text in recorder.seen:
        leaked = sorted(i for i in identifiers if i in text)
        assert not leaked, f"{where} names {leaked[:3]}"
        names = set(re.findall(r"\b(data-[a-z-]+)=", text))
        assert names <= ALLOWED_DATA, f"{where}: unexpected {names - ALLOWED_DATA}"
        for token in re.findall(r'data-item="([^"]*)"', text):
            assert TOKEN.match(token) and token in tokens, f"{where}: data-item={token!r}"
            trial_pages += 1
    assert trial_pages > 0


def test_tokens_differ_between_studies_and_from_every_key(owner, db):
    from tests.factories import make_study, small_spec

    first = make_study(owner, small_spec(slug="first"))
    second = make_study(owner, small_spec(slug="second"))
    pairs = list(zip(first.items.order_by("key"), second.items.order_by("key"), strict=True))
    assert all(a.key == b.key for a, b in pairs)  # the same rows of the same data
    assert all(public_id(first, a) != public_id(second, b) for a, b in pairs)
    assert all(item.key not in public_id(first, item) for item, _ in pairs)


def test_example_cards_are_numbered_not_named_by_their_training_row():
    provenance = Provenance(method="nearest", params={}, random_state=0, model_fingerprint="m",
                            library_versions={})
    explanation = ExplanationResult(
        kind="examples", method="nearest", target=None, prediction={},
        provenance=provenance, content={"examples": [
            {"role": "nearest", "index": 14661, "label": 1, "label_name": ">50K",
             "prediction": 1, "prediction_name": ">50K", "features": {"Age": 40},
             "score": 0.5}]})
    html = render_html(explanation)
    assert "14661" not in html and "#1<" in html
