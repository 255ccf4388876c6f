"""Researcher sign-in with a lockout after repeated failures.

Passwords are the only thing between the public internet and a study's data, and without a
limit a script can try them as fast as the server answers. Failures are counted in the cache
(Redis in deployment, shared by every worker) per account and per client address; once either
reaches ``LOGIN_FAILURES_ALLOWED`` within ``LOGIN_LOCKOUT_SECONDS``, every attempt is refused —
the right password too — until the window has passed. The backend enforces it for every
sign-in form (the site's and the admin's); the forms say why.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from studyapp.views.ratelimit import client_address

LOCKED_OUT = ("Too many failed sign-in attempts. For your account's safety, sign-in is locked "
              "for {minutes} minutes; try again later.")


def _keys(request: HttpRequest | None, username: str | None) -> list[str]:
    keys = [f"login-fail:user:{(username or '').strip().lower()}"]
    if request is not None:
        keys.append(f"login-fail:addr:{client_address(request)}")
    return keys


def login_locked(request: HttpRequest | None, username: str | None) -> bool:
    """Whether sign-in for this account or from this address is locked out."""
    allowed = settings.LOGIN_FAILURES_ALLOWED
    return any((cache.get(key) or 0) >= allowed for key in _keys(request, username))


def login_failure_record(request: HttpRequest | None, username: str | None) -> None:
    for key in _keys(request, username):
        if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


class ThrottledModelBackend(ModelBackend):
    """Django's password check, refused while locked out and counting each failure."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get("username")
        if login_locked(request, username):
            raise PermissionDenied(LOCKED_OUT)  # stops Django trying any other backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            login_failure_record(request, username)
        return user


class _LockoutMessage:
    """Say "locked out" instead of "wrong password" when that is the reason."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = self.data.get("username")  # type: ignore[attr-defined]
        if login_locked(self.request, username):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            raise forms.ValidationError(LOCKED_OUT.format(minutes=minutes), code="locked")
        return super().clean()  # type: ignore[misc]


class ThrottledAuthenticationForm(_LockoutMessage, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(_LockoutMessage, AdminAuthenticationForm):
    pass
