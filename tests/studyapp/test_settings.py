"""Settings come from the environment; production settings pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL",
                          "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**clean, **env}, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="0",
                     SECRET_KEY="k" * 20 + "production-secret-0123456789-abcdefghij",
                     ALLOWED_HOSTS="study.example.org", EXPLAINLAB_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", DEBUG="0", SECRET_KEY="", EXPLAINLAB_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_garbled_boolean_setting_is_a_clear_error(tmp_path):
    result = _manage("check", DEBUG="maybe", EXPLAINLAB_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_new_enrolments_are_rate_limited_per_address_but_resuming_is_not(study, settings):
    from django.core.cache import cache
    from django.test import Client

    from studyapp.models import Participant

    cache.clear()
    settings.ENROL_RATE_PER_MINUTE = 3
    client = Client()
    def arrive(n: int) -> int:
        link = {"PROLIFIC_PID": f"{n:024x}", "SESSION_ID": "s"}
        return client.get(f"/s/{study.slug}/", link).status_code

    statuses = [arrive(n) for n in range(5)]
    assert statuses == [303, 303, 303, 429, 429]
    assert Participant.objects.count() == 3
    assert arrive(0) == 303
