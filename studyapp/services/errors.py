"""Errors the services and selectors raise, in the study's terms (no HTTP here).

Their messages are safe to show. One translator turns them into responses: the participant
and researcher pages through ``studyapp.views.errors``, the API through its DRF exception
handler (``studyapp.api.exceptions``); both take the status from ``views.errors.status_for``.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out as asked (bad input, a closed study, ...)."""


class NotFoundError(ServiceError):
    """Nothing by that name that this user may see (outsiders cannot tell which)."""


class ConflictError(ServiceError):
    """A well-formed request at odds with where things stand now."""


class LimitReached(ServiceError):
    """More than a participant or client may do (now, or in all)."""


class ParticipantError(ServiceError):
    """Something a participant should read (bad link, study full, closed study)."""


class StaleSubmission(ConflictError):
    """A form for a page the participant has already left (back button, second tab)."""


class StudyConfigError(ServiceError):
    """A study specification or configuration that cannot be used."""


class MaterialRefused(StudyConfigError):
    """A researcher's own material that fails its checks; ``draft`` is the codebook inferred
    from it where one could be (an identifier column refused is excluded there), for the
    researcher to edit and bring with the data."""

    def __init__(self, message: str, *, draft: str = "") -> None:
        super().__init__(message)
        self.draft = draft
