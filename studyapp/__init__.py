"""ExplainLab's Django project and app: the only package that imports Django."""

from studyapp.celery import app as celery_app

__all__ = ["celery_app"]
