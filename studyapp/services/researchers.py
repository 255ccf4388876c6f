"""Researcher accounts: staff users in the Researchers group (admin access to own studies)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

RESEARCHERS_GROUP = "Researchers"


@transaction.atomic
def researcher_create(*, username: str, password: str, email: str = "") -> User:
    """Create (or reset the password of) a researcher who can use the admin for own studies."""
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.is_staff = True
    user.save()
    user.groups.add(_researchers_group())
    return user


def _researchers_group() -> Group:
    group, _ = Group.objects.get_or_create(name=RESEARCHERS_GROUP)
    perms = Permission.objects.filter(content_type__app_label="studyapp")
    group.permissions.set(perms)
    return group
