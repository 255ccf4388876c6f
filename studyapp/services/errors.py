"""Errors the services raise; views turn them into clear pages or API responses."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; the message is safe to show."""

    status_code = 400


class ParticipantError(ServiceError):
    """Something a participant should read (bad link, study full, closed study)."""


class StaleSubmission(ServiceError):
    """A form for a page the participant has already left (back button, second tab)."""

    status_code = 409


class StudyConfigError(ServiceError):
    """A study specification or configuration that cannot be used."""
