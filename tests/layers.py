"""Which test layers can run here: integration (PostgreSQL/Redis/Celery worker) and browser
(Chromium); REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 say they must."""

from __future__ import annotations

import os
import shutil


def required(name: str) -> bool:
    return os.getenv(name, "") in {"1", "true", "yes"}


def missing_services() -> str | None:
    """Why the integration layer cannot run here, or None when it can."""
    url = os.getenv("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL does not point at PostgreSQL"
    if not os.getenv("CELERY_BROKER_URL", "").startswith("redis://"):
        return "CELERY_BROKER_URL does not point at Redis"
    return None


def missing_browser() -> str | None:
    if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
        return "Chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed"
    return None


def layers() -> list[tuple[str, str | None, bool]]:
    """Per layer: its marker, why it cannot run here (None when it can), and whether it must."""
    return [("integration", missing_services(), required("REQUIRE_SERVICES")),
            ("browser", missing_browser(), required("REQUIRE_BROWSER"))]
