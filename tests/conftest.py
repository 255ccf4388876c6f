"""Test layers: integration (PostgreSQL/Redis/Celery worker) and browser (Chromium) tests skip
with a reason when their services are absent, and fail instead when REQUIRE_SERVICES=1 /
REQUIRE_BROWSER=1 is set (as .ci/run does)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests.layers import layers

# Property and fuzz tests that do not pin max_examples take it from a profile: a moderate one
# by default (the suite and CI), many more examples with HYPOTHESIS_PROFILE=fuzz (`make fuzz`).
# No deadline: app tests touch the database, whose timing says nothing about correctness.
hypothesis_settings.register_profile("suite", max_examples=25, deadline=None)
hypothesis_settings.register_profile("fuzz", max_examples=400, deadline=None)
hypothesis_settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "suite"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, reason, must_run in layers():
        if reason is None or marker not in item.keywords:
            continue
        if must_run:
            pytest.fail(f"{marker} layer is required here but {reason}", pytrace=False)
        pytest.skip(reason)


# ----- app fixtures (Django) ---------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fast_password_hashing(request):  # type: ignore[no-untyped-def]
    if "django_db_setup" not in request.fixturenames:
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_enrolment_rate_limit(request):  # type: ignore[no-untyped-def]
    """Tests enrol many participants from one address within a minute; the tests of the
    limit itself set ENROL_RATE_PER_MINUTE (and clear the cache) explicitly."""
    if "django_db_setup" not in request.fixturenames:
        return
    request.getfixturevalue("settings").ENROL_RATE_PER_MINUTE = 0


@pytest.fixture
def owner(django_user_model):  # type: ignore[no-untyped-def]
    from studyapp.services.researchers import researcher_create

    return researcher_create(username="owner", password="owner-password-1")


@pytest.fixture
def colleague(django_user_model):  # type: ignore[no-untyped-def]
    from studyapp.services.researchers import researcher_create

    return researcher_create(username="colleague", password="colleague-password-1")


@pytest.fixture
def outsider(django_user_model):  # type: ignore[no-untyped-def]
    from studyapp.services.researchers import researcher_create

    return researcher_create(username="outsider", password="outsider-password-1")


@pytest.fixture
def study(owner, colleague, db):  # type: ignore[no-untyped-def]
    """A small prepared, open study; the colleague may view (not edit) it."""
    from studyapp.models import StudyAccess
    from tests.factories import make_study

    prepared = make_study(owner)
    StudyAccess.objects.create(study=prepared, user=colleague, role=StudyAccess.Role.VIEW)
    return prepared


@pytest.fixture(autouse=True)
def _celery_mode(request):  # type: ignore[no-untyped-def]
    """Tasks run eagerly in-process, except in the integration layer (a real worker)."""
    if "django_db_setup" not in request.fixturenames:
        yield
        return
    from studyapp.celery import app

    eager = "integration" not in request.keywords
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _commit_hooks_run_at_the_code_s_own_commit(request, monkeypatch):  # type: ignore[no-untyped-def]
    """The test's transaction never commits, so Django would never run what services queue
    with ``transaction.on_commit`` (Celery tasks). Run it where production commits: at once
    when only the test holds a transaction, else when the code leaves its outermost own one."""
    if "django_db_setup" not in request.fixturenames:
        return
    from django.db import transaction
    from django.db.backends.base.base import BaseDatabaseWrapper

    def only_the_test_holds_one(connection):  # type: ignore[no-untyped-def]
        blocks = connection.atomic_blocks
        return bool(blocks) and all(block._from_testcase for block in blocks)

    on_commit = BaseDatabaseWrapper.on_commit

    def on_commit_as_in_production(self, func, robust=False):  # type: ignore[no-untyped-def]
        if only_the_test_holds_one(self):
            func()
        else:
            on_commit(self, func, robust)

    atomic_exit = transaction.Atomic.__exit__

    def exit_then_commit_hooks(self, *exc):  # type: ignore[no-untyped-def]
        result = atomic_exit(self, *exc)
        connection = transaction.get_connection(self.using)
        if not self._from_testcase and only_the_test_holds_one(connection):
            hooks, connection.run_on_commit = connection.run_on_commit, []
            for _, func, _ in hooks:
                func()
        return result

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit_as_in_production)
    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_then_commit_hooks)


_EXPLANATIONS: dict[tuple[object, ...], object] = {}


@pytest.fixture(autouse=True)
def _reuse_explanations(request, monkeypatch):  # type: ignore[no-untyped-def]
    """Explanations are a pure function of (method, params, item, seed): compute each once per
    test session instead of once per test, so that app tests stay fast."""
    if "django_db_setup" not in request.fixturenames:
        return  # pure-package tests do not prepare studies
    import copy
    import json

    from studyapp.services import preparation

    original = preparation.explanation_compute

    def memoised(method, scenario, x, *, params, seed, quality="full"):  # type: ignore
        row = x if isinstance(x, str) else x.tobytes()
        # The model is named by scenario, model kind, planted bug and feature set.
        key = (method, scenario.name, scenario.model_name, scenario.bug,
               tuple(f.name for f in scenario.features), json.dumps(params, sort_keys=True),
               row, seed, quality)
        if key not in _EXPLANATIONS:
            _EXPLANATIONS[key] = original(method, scenario, x, params=params, seed=seed,
                                          quality=quality)
        return copy.deepcopy(_EXPLANATIONS[key])

    monkeypatch.setattr(preparation, "explanation_compute", memoised)
