"""CSRF on every form, production headers and cookies, secrets from the environment, the
truth label never sent before an answer, and the enrolment rate limit behind a proxy.

Oracles: the forms the pages actually render (each is posted back without its token and
must get 403), the response headers of a server started with production settings, and the
participant's pages with every item's truth flipped (they must not change at all).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from studyapp.models import Item, Participant
from tests.studyapp.helpers import Walker, prolific_id

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "p" * 30 + "-production-secret-0123456789abcdef",
              "ALLOWED_HOSTS": "study.example.org"}


class _Forms(HTMLParser):
    """Every POST form of a page: its action and the fields it would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag in {"input", "button", "textarea", "select"} and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value", ""))


def _post_forms(html: str, page: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(form["action"] or page,
             {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"})
            for form in parser.forms]


def _without_token(client: Client) -> Client:
    """The same browser (its cookies, the CSRF cookie included) with checks enforced."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    return strict


def _participant_pages(study) -> list[tuple[Client, str, str]]:
    pages = []
    landing = Client()
    pages.append((landing, f"/s/{study.slug}/", landing.get(f"/s/{study.slug}/")))
    walker = Walker(study, pid="CSRF1")
    walker.enter()
    answers = {q["id"]: q["answer"] for q in study.spec["comprehension"]["questions"]}
    for action, data in (("consent", {"agree": "yes"}), ("instructions", {}),
                         ("comprehension", answers), (None, {})):
        pages.append((walker.client, walker.url, walker.page()))
        if action:
            walker.post(action, **data)
    walker.finish_trials()
    pages.append((walker.client, walker.url, walker.page()))  # the questionnaire
    withdraw = f"/s/{study.slug}/withdraw"
    pages.append((walker.client, withdraw, walker.client.get(withdraw)))
    return [(client, url, response.content.decode()) for client, url, response in pages]


def _researcher_pages(study, owner) -> list[tuple[Client, str, str]]:
    client = Client()
    client.force_login(owner)
    urls = [f"/r/{study.slug}/", "/r/gallery/", "/admin/studyapp/study/add/",
            f"/admin/studyapp/study/{study.pk}/change/"]
    pages = [(client, url, client.get(url).content.decode()) for url in urls]
    anonymous = Client()
    pages.append((anonymous, "/accounts/login/",
                  anonymous.get("/accounts/login/").content.decode()))
    return pages


@pytest.mark.django_db
def test_every_form_on_every_page_is_refused_without_its_csrf_token(study, owner):
    """Oracle: the forms as rendered. Each has a token (checked) and, posted back from the
    same browser without it, gets 403 and changes nothing."""
    checked = 0
    participants_before = list(Participant.objects.values_list("pk", "stage", "status"))
    for client, page, html in _participant_pages(study) + _researcher_pages(study, owner):
        for action, fields in _post_forms(html, page):
            assert "csrfmiddlewaretoken" in html, page
            response = _without_token(client).post(action, fields)
            assert response.status_code == 403, (page, action, fields)
            checked += 1
    assert checked >= 12  # consent, instructions, comprehension, trial, questionnaire, ...
    after = list(Participant.objects.values_list("pk", "stage", "status"))
    assert after[: len(participants_before)] == participants_before


@pytest.mark.django_db
def test_session_authenticated_api_writes_need_the_csrf_token(study, owner):
    """Token-authenticated scripts need no CSRF token; a browser session does."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(f"/api/studies/{study.slug}/status/", {"status": "closed"},
                           content_type="application/json")
    assert response.status_code == 403
    study.refresh_from_db()
    assert study.status == "open"


# ----- production settings ----------------------------------------------------------------

_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="study.example.org")
secure = client.get("/accounts/login/", secure=True)
plain = client.get("/accounts/login/")
health = client.get("/healthz")
forged = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "forged_status": forged.status_code,
    "headers": dict(secure.headers), "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""), "health_status": health.status_code,
    "csrf_cookie": str(secure.cookies.get("csrftoken", "")),
    "settings": {name: getattr(settings, name) for name in (
        "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY", "SECURE_SSL_REDIRECT", "DEBUG")},
}))
"""


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "SECRET_KEY",
                          "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "studyapp.settings",
                               "EXPLAINLAB_VAR_DIR": str(tmp_path), **env})


def test_production_sends_secure_headers_and_secure_cookies(tmp_path):
    result = _run(_PROBE, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "secure" in seen["csrf_cookie"].lower()
    assert seen["plain_status"] == 301 and seen["plain_location"].startswith("https://")
    assert seen["health_status"] == 200  # the load balancer's plain-HTTP probe
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]
    assert seen["settings"] == {
        "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True, "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True, "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin", "SECURE_SSL_REDIRECT": True, "DEBUG": False}


@pytest.mark.parametrize("key", ["", "explainlab-local-development-key-not-for-production-use-"
                                     "0123456789"])
def test_production_refuses_to_start_without_a_secret_of_its_own(tmp_path, key):
    result = _run("import django; django.setup()", tmp_path, DEBUG="0", SECRET_KEY=key)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_secrets_come_only_from_the_environment():
    """Oracle: the settings source. Every secret is read with os.getenv; the one literal key
    is the local development key, refused when DEBUG is off (test above)."""
    source = (ROOT / "studyapp" / "settings.py").read_text(encoding="utf-8")
    for name in ("SECRET_KEY", "EXPORT_PSEUDONYM_KEY", "DATABASE_URL", "CACHE_URL",
                 "CELERY_BROKER_URL"):
        assert re.search(rf'os\.getenv\("{name}"', source), name
    literals = re.findall(r'(?:PASSWORD|SECRET|TOKEN|KEY)\w*\s*=\s*"([^"]+)"', source)
    assert literals == ["explainlab-local-development-key-not-for-production-use-0123456789"]


# ----- the truth label --------------------------------------------------------------------

def _scrubbed(html: bytes) -> bytes:
    """A page without its per-request tokens (CSRF, idempotency key)."""
    return re.sub(rb'value="[0-9a-zA-Z]{32,}"', b"", html)


@pytest.mark.django_db
def test_no_page_of_the_whole_path_depends_on_the_truth_label_until_it_is_answered(study):
    """Oracle: every page the participant is shown, rendered once with the items' truths as
    they are and once with all of them flipped, must be byte-identical."""
    names = [o["value"] for o in study.answer_options]
    walker = Walker(study)
    walker.to_trials()
    pages = 0
    while walker.participant.stage in {"trials", "questionnaire"}:
        as_is = _scrubbed(walker.page().content)
        truths = dict(Item.objects.filter(study=study).values_list("pk", "truth"))
        for pk, truth in truths.items():
            Item.objects.filter(pk=pk).update(truth=names[1] if truth == names[0] else names[0])
        flipped = _scrubbed(walker.page().content)
        for pk, truth in truths.items():
            Item.objects.filter(pk=pk).update(truth=truth)
        assert flipped == as_is
        pages += 1
        if walker.participant.stage == "questionnaire":
            break
        walker.answer_current()
    assert pages >= 5


# ----- rate limit on the participant link -------------------------------------------------

@pytest.mark.django_db
def test_the_start_button_of_a_direct_study_is_rate_limited_too(study, settings):
    from django.core.cache import cache

    cache.clear()
    settings.ENROL_RATE_PER_MINUTE = 2
    statuses = [Client().post(f"/s/{study.slug}/", {"action": "start"}).status_code
                for _ in range(4)]
    assert statuses == [303, 303, 429, 429]
    assert Participant.objects.count() == 2


@pytest.mark.django_db
def test_behind_a_proxy_the_limit_counts_each_client_not_the_proxy(study, settings):
    """With TRUSTED_PROXIES=1, the address the proxy appended to X-Forwarded-For is the
    client's; an address the client wrote itself (further left) is ignored."""
    from django.core.cache import cache

    cache.clear()
    settings.ENROL_RATE_PER_MINUTE, settings.TRUSTED_PROXIES = 1, 1

    def arrive(pid: str, forwarded: str) -> int:
        return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded).get(
            f"/s/{study.slug}/", {"PROLIFIC_PID": prolific_id(pid)}).status_code

    assert arrive("P1", "203.0.113.1") == 303
    assert arrive("P2", "203.0.113.2") == 303  # another client behind the same proxy
    assert arrive("P3", "198.51.100.9, 203.0.113.1") == 429  # spoofed left part ignored


def test_a_forged_forwarded_proto_is_ignored_when_no_proxy_is_configured(tmp_path):
    """With TRUSTED_PROXIES=0 nothing stands in front of gunicorn, so X-Forwarded-Proto was
    written by the client: a plain-HTTP request claiming "https" must still be redirected.
    Oracle: the redirect Django's SecurityMiddleware sends to insecure requests."""
    result = _run(_PROBE, tmp_path, **PRODUCTION)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["forged_status"] == 301


def test_behind_a_configured_proxy_its_forwarded_proto_is_believed(tmp_path):
    result = _run(_PROBE, tmp_path, **PRODUCTION, TRUSTED_PROXIES="1")
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["forged_status"] == 200
