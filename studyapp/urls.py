"""URL map: participant pages under /s/, researcher pages under /r/, API under /api/."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from studyapp.api.views import EventView, StudyViewSet
from studyapp.auth import ThrottledAuthenticationForm
from studyapp.views import material, participant, researcher

# No ".json" twins of the routes: the API speaks JSON only, and its schema lists no such
# paths (the twins passed a `format` argument no action takes: a 500).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("studies", StudyViewSet, basename="api-study")


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/r/")


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


handler404 = "studyapp.views.errors.page_not_found"

urlpatterns = [
    path("", home),
    path("healthz", health),
    path("s/<slug:slug>/", participant.study_page, name="study"),
    path("s/<slug:slug>/withdraw", participant.withdraw_page, name="study-withdraw"),
    path("r/", researcher.study_list, name="researcher-studies"),
    path("r/gallery/", researcher.explanation_gallery, name="researcher-gallery"),
    path("r/material/new/", material.material_new, name="researcher-material"),
    path("r/<slug:slug>/", researcher.study_detail, name="researcher-study"),
    path("r/<slug:slug>/counts.json", researcher.study_counts, name="researcher-counts"),
    path("r/<slug:slug>/status", researcher.study_status, name="researcher-status"),
    path("r/<slug:slug>/prepare", researcher.study_prepare, name="researcher-prepare"),
    path("r/<slug:slug>/export.zip", researcher.study_export, name="researcher-export"),
    path("r/<slug:slug>/payments/<slug:payment_file>.csv", researcher.payment_file,
         name="researcher-payments"),
    path("r/<slug:slug>/analysis", researcher.analysis_start, name="researcher-analysis"),
    path("r/<slug:slug>/analysis/<int:run_id>.zip", researcher.analysis_download,
         name="researcher-analysis-zip"),
    path("r/<slug:slug>/analysis/<int:run_id>/report", researcher.analysis_report,
         name="researcher-analysis-report"),
    path("r/<slug:slug>/conditions/<slug:name>/open", researcher.condition_toggle,
         name="researcher-condition"),
    path("r/<slug:slug>/preview/<slug:name>", researcher.study_preview,
         name="researcher-preview"),
    path("r/<slug:slug>/preview-language", researcher.preview_language,
         name="researcher-preview-language"),
    path("accounts/login/",
         auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/events/", EventView.as_view(), name="api-events"),
    # The schema maps every endpoint: for signed-in researchers, not for anyone who asks.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
         name="api-schema"),
    path("api/", include(router.urls)),
]
