"""REST API: researchers read their studies, participants and exports; participants log events.

Ownership rules are the researcher pages' rules (``selectors.study_for_user``): an outsider
gets 404 for a study they cannot see, a viewer gets 404 for writes.
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from studyapp import selectors
from studyapp.api.serializers import (
    ConditionSerializer,
    EventSerializer,
    ParticipantSerializer,
    StudySerializer,
    StudyStatusSerializer,
    TrialRowSerializer,
)
from studyapp.models import Condition, Study
from studyapp.services import exports, flow, studies
from studyapp.sessions import participant_key


class StudyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The researcher's studies (owned or shared)."""

    serializer_class = StudySerializer
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return selectors.studies_for_user(self.request.user).prefetch_related("conditions")

    def _study(self, slug: str, *, edit: bool = False) -> Study:
        return selectors.study_for_user(self.request.user, slug, edit=edit)

    @extend_schema(request=StudyStatusSerializer, responses=StudySerializer)
    @action(detail=True, methods=["post"])
    def status(self, request: Request, slug: str) -> Response:
        """Open or close recruitment."""
        study = self._study(slug, edit=True)
        payload = StudyStatusSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        studies.study_set_status(study=study, status=payload.validated_data["status"])
        return Response(StudySerializer(study).data)

    @extend_schema(request=ConditionSerializer, responses=ConditionSerializer)
    @action(detail=True, methods=["patch"], url_path=r"conditions/(?P<name>[a-z0-9_-]+)")
    def condition(self, request: Request, slug: str, name: str) -> Response:
        """Stop or resume recruiting to one condition (``is_open``)."""
        study = self._study(slug, edit=True)
        condition = Condition.objects.filter(study=study, name=name).first()
        if condition is None:
            raise NotFound("No such condition")
        is_open = request.data.get("is_open")
        if not isinstance(is_open, bool):
            raise ValidationError({"is_open": "expected true or false"})
        studies.condition_set_open(condition=condition, is_open=is_open)
        return Response(ConditionSerializer(condition).data)

    @extend_schema(responses=ParticipantSerializer(many=True))
    @action(detail=True, methods=["get"])
    def participants(self, request: Request, slug: str) -> Response:
        """Participants (pseudonymised), as in participants.csv."""
        study = self._study(slug)
        page = self.paginate_queryset(exports.exported_participants(study))
        rows = exports.participant_rows_for(study, list(page or []))
        return self.get_paginated_response(ParticipantSerializer(rows, many=True).data)

    @extend_schema(responses=TrialRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def trials(self, request: Request, slug: str) -> Response:
        """Trial rows, as in trials.csv."""
        study = self._study(slug)
        page = self.paginate_queryset(exports.exported_trials(study))
        rows = exports.trial_rows_for(study, list(page or []))
        return self.get_paginated_response(TrialRowSerializer(rows, many=True).data)

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(
        description="trials.csv, participants.csv, events.csv, datapackage.json, study.yaml")})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, slug: str) -> StreamingHttpResponse:
        """The whole export as a zip archive, streamed as it is built."""
        study = self._study(slug)
        response = StreamingHttpResponse(exports.study_export_stream(study=study),
                                         content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-export.zip"'
        return response


class ParticipantSessionAuthentication(SessionAuthentication):
    """Participants are anonymous, but their posts still need the CSRF token."""

    def authenticate(self, request: Request) -> None:
        self.enforce_csrf(request)
        return None


class EventView(APIView):
    """Client-side events from a participant's page (explanation shown, tab hidden, ...)."""

    authentication_classes = [ParticipantSessionAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(request=EventSerializer, responses={201: None, 404: None, 409: None, 429: None})
    def post(self, request: Request) -> Response:
        payload = EventSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        slug = data["study"]
        participant = selectors.participant_for_session(
            slug, request.session.get(participant_key(slug)))
        if participant is None:
            raise NotFound("No participant session for this study")
        flow.event_record(participant=participant, kind=data["kind"], page=data["page"],
                          trial_index=data.get("trial_index"), client_ms=data.get("client_ms"),
                          detail=data["detail"])
        return Response(status=status.HTTP_201_CREATED)
