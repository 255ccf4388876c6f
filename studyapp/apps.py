from django.apps import AppConfig


class StudyappConfig(AppConfig):
    name = "studyapp"
    verbose_name = "ExplainLab studies"

    def ready(self) -> None:
        # Registers the OpenAPI extension for the participant session authenticator.
        from studyapp.api import schema  # noqa: F401
