"""ExplainLab settings: one file, read from the environment, safe local defaults.

With nothing set, the platform runs on SQLite under ``var/`` with Celery in eager mode
(``make demo``). A real deployment sets ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``SECRET_KEY``,
``DEBUG=0`` and ``ALLOWED_HOSTS``; then ``manage.py check --deploy`` is clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("EXPLAINLAB_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
# The local default key is only ever used with DEBUG on; production must set its own.
_LOCAL_KEY = "explainlab-local-development-key-not-for-production-use-0123456789"
SECRET_KEY = os.getenv("SECRET_KEY", "")
if not DEBUG and SECRET_KEY in {"", _LOCAL_KEY}:
    raise ImproperlyConfigured("SECRET_KEY must be set (to a secret of its own) when DEBUG is off")
SECRET_KEY = SECRET_KEY or _LOCAL_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "studyapp",
]

MIDDLEWARE = [
    # Outermost, so that a database or broker outage anywhere below becomes a 503 "retry".
    "studyapp.middleware.ServiceUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: an oversized upload is refused unread.
    "studyapp.middleware.RequestSizeLimitMiddleware",
    "studyapp.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A service's error that a page's view let through: 404 or the error page with its reason.
    "studyapp.views.errors.ServiceErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "studyapp.urls"
WSGI_APPLICATION = "studyapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.getenv("DATABASE_URL", "")
if DATABASE_URL:
    # Persistent connections are checked before reuse, so that after a PostgreSQL restart
    # each worker reconnects instead of failing its next request on a dead connection.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60,
                                                  conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "explainlab.sqlite3"),
            # IMMEDIATE makes concurrent enrolments queue for the write lock instead of
            # failing with "database is locked" halfway through a transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
            # Tests use a file too, as the embedded default does: with Django's in-memory
            # test database the live server lends the test's one connection to all its
            # request threads, and two concurrent requests (an answer and the page's event
            # log) then commit over each other's running statements. One file per test run.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Participant pages are translated into these (locale/; a spec's `languages:` chooses among
# them, experiments.languages). Researcher pages and the admin stay English.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", VAR_DIR / "staticfiles"))
if DEBUG:
    # WhiteNoise serves from the app folders in DEBUG but warns when the root is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

AUTHENTICATION_BACKENDS = ["studyapp.auth.ThrottledModelBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/r/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Sessions carry the participant's identity between pages; cookies only over HTTPS in
# production, and never readable from JavaScript.
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with SQL compiled once (studyapp/sessions.py).
SESSION_ENGINE = "studyapp.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 7
SECURE = not DEBUG
# Overridable only for servers tested over plain HTTP on loopback (fault and load runs),
# whose clients would otherwise never send a Secure cookie back.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SECURE)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SECURE)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE)
# A load balancer's health probe speaks plain HTTP to the backend: answer it, don't redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only (what every client sends), bounded in size and nesting.
    "DEFAULT_PARSER_CLASSES": ["studyapp.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "studyapp.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 500,
    # Services' errors (studyapp.services.errors) answered in one place.
    "EXCEPTION_HANDLER": "studyapp.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ExplainLab API",
    "DESCRIPTION": "Researcher API (studies, participants, exports) and participant event log.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "studyapp.api.schema.document_error_responses"],
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "studyapp.models.Study.Status",
        "ParticipantStatusEnum": "studyapp.models.Participant.Status",
    },
}

CACHE_URL = os.getenv("CACHE_URL", "")
if CACHE_URL:
    # Only losable counters live in the cache: a Redis outage degrades to "nothing cached"
    # (studyapp/cache.py) instead of failing pages, and a hung Redis is given up on quickly.
    CACHES = {"default": {"BACKEND": "studyapp.cache.ForgivingRedisCache",
                          "LOCATION": CACHE_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Chunked preparation is a chord, and a chord needs a result backend: the Redis broker's own
# Redis unless another is set.
CELERY_RESULT_BACKEND = os.getenv("CELERY_RESULT_BACKEND", "") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None)
# Explanations per chunk task: small enough that every worker gets a share and a worker lost
# mid-chunk costs little, large enough that queueing does not dominate.
PREPARATION_CHUNK_SIZE = env_int("PREPARATION_CHUNK_SIZE", 20)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose whole worker died (acks_late: never acknowledged) is delivered again once it has
# been unacknowledged this long; it must exceed the longest task. The fault tests shorten it,
# and then sweep for such tasks every few seconds instead of kombu's default ~100 s.
_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int] = {"visibility_timeout": _VISIBILITY_TIMEOUT}
if _VISIBILITY_TIMEOUT < 100:
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "unacked_restore_interval": max(1, _VISIBILITY_TIMEOUT // 3),
        "unacked_restore_throttle": 1}
CELERY_BEAT_SCHEDULE = {
    "release-stale-participants": {
        "task": "studyapp.tasks.release_stale_participants",
        "schedule": 60.0,
    },
}

# The largest request body accepted, uploads included; larger ones are refused unread (413).
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 10 * 2**20)
# Researcher logins: this many failures per account or address within the window lock
# further attempts out until the window has passed.
LOGIN_FAILURES_ALLOWED = env_int("LOGIN_FAILURES_ALLOWED", 10)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Participant pages may log this many client events in all, and this many per minute.
EVENTS_PER_PARTICIPANT = env_int("EVENTS_PER_PARTICIPANT", 1000)
EVENTS_PER_MINUTE = env_int("EVENTS_PER_MINUTE", 60)

# Participant links accept this many new enrolments per minute per client address.
ENROL_RATE_PER_MINUTE = env_int("ENROL_RATE_PER_MINUTE", 120)
# How many reverse proxies (load balancer, nginx) stand in front of gunicorn: the client's
# address is then read from X-Forwarded-For. 0 (the default) trusts no such header.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# X-Forwarded-Proto says "this came over HTTPS" only when a proxy of ours wrote it: with no
# proxy configured any client could send it and make a plain-HTTP request count as secure.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES > 0 else None
# Exports pseudonymise ids with this key (a deployment sets its own, kept secret).
EXPORT_PSEUDONYM_KEY = os.getenv("EXPORT_PSEUDONYM_KEY", SECRET_KEY)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
