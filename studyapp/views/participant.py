"""Participant pages: one URL per study; the server decides which page it shows.

GET ``/s/<slug>/?PROLIFIC_PID=…`` enrols or resumes and redirects to the clean URL. GET
``/s/<slug>/`` renders the participant's current page; every POST goes through one service
and redirects back (POST/redirect/GET), so a refresh never re-submits and the back button
cannot re-answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from studyapp import selectors
from studyapp.forms import AnswerForm, parse_answer
from studyapp.models import Participant, Study
from studyapp.services import enrolment, flow
from studyapp.services.errors import NotFoundError, ServiceError, StaleSubmission
from studyapp.sessions import language_key, participant_key, withdrawn_key
from studyapp.translation import LANGUAGE_PARAMETER, link_language
from studyapp.views.errors import error_page, status_for
from studyapp.views.pages import page_context
from studyapp.views.ratelimit import enrolment_allowed

Stage = Participant.Stage


def _here(study: Study) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("study", args=[study.slug]), status=303)


ParticipantView = Callable[[HttpRequest, str], HttpResponse]


def in_participant_language(view: ParticipantView) -> ParticipantView:
    """Runs a participant view in the participant's language (stored at enrolment, kept in
    the session), or before enrolment in the one the link asks for or the study's default;
    a service's error is shown in that language too."""
    @wraps(view)
    def in_language(request: HttpRequest, slug: str) -> HttpResponse:
        with translation.override(_request_language(request, slug)):
            try:
                return view(request, slug)
            except NotFoundError:
                raise
            except ServiceError as exc:
                return error_page(request, Study.objects.filter(slug=slug).first(), str(exc),
                                  status=status_for(exc))
    return in_language


def _request_language(request: HttpRequest, slug: str) -> str:
    stored = request.session.get(language_key(slug))
    if stored:
        return str(stored)
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        return translation.get_language() or "en"
    languages = study.typed_spec.languages
    asked = request.GET.get(LANGUAGE_PARAMETER, "")
    return asked if asked in languages else languages[0]


@never_cache
@require_http_methods(["GET", "POST"])
@in_participant_language
def study_page(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "GET" and _has_recruitment(request):
        return _enter(request, get_object_or_404(Study, slug=slug))
    # Every page of a participant's path comes here: their study is read with them.
    participant = selectors.participant_for_session(
        slug, request.session.get(participant_key(slug)))
    if participant is None:
        return _landing(request, get_object_or_404(Study, slug=slug))
    study = participant.study
    participant = flow.participant_touch(participant=participant)
    with translation.override(participant.language):
        if request.method == "POST":
            return _submit(request, study, participant)
        return render(request, *page_context(request, study, participant))


def _has_recruitment(request: HttpRequest) -> bool:
    keys = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId", "hitId")
    return any(key in request.GET for key in keys)


def _enter(request: HttpRequest, study: Study) -> HttpResponse:
    recruitment = enrolment.recruitment_from_query(request.GET)
    assert recruitment is not None
    return _enrol(request, study, recruitment)


def _enrol(request: HttpRequest, study: Study,
           recruitment: enrolment.Recruitment) -> HttpResponse:
    existing = enrolment.participant_existing(study, recruitment)
    if existing is not None and not _resumable(request, study, existing, recruitment):
        return error_page(request, study, gettext(RESUME_REFUSED), status=403)
    if existing is None and not enrolment_allowed(request):
        return error_page(request, study, gettext("Too many sign-ups from your network right "
                                                  "now. Please wait a minute and open the "
                                                  "link again."), status=429)
    participant, _ = enrolment.participant_enrol(
        study=study, recruitment=recruitment,
        is_bot=enrolment.is_bot_token(study, request.headers.get("X-Bot-Token")),
        language=link_language(study, request.GET))
    request.session.cycle_key()
    request.session[participant_key(study.slug)] = participant.pk
    request.session[language_key(study.slug)] = participant.language
    return _here(study)


RESUME_REFUSED = gettext_noop(
    "This study is already in progress for your ID in another session. Please continue in "
    "the browser where you started, or open the study again from the link your recruitment "
    "platform gives you (it carries your session).")


def _resumable(request: HttpRequest, study: Study, participant: Participant,
               recruitment: enrolment.Recruitment) -> bool:
    """The browser that holds the participant resumes; another one must pass the platform's
    session check."""
    if request.session.get(participant_key(study.slug)) == participant.pk:
        return True
    return enrolment.resume_allowed(participant=participant, recruitment=recruitment)


def _landing(request: HttpRequest, study: Study) -> HttpResponse:
    """No participant in this browser yet: a start button (direct studies) or an error."""
    if not study.allow_direct:
        return error_page(request, study, gettext("This link is missing your Prolific ID. "
                                                  "Please open the study from Prolific."))
    if not study.is_accepting:
        return error_page(request, study, gettext("This study is not accepting participants "
                                                  "at the moment."), status=403)
    language = link_language(study, request.GET)
    if request.method == "POST" and request.POST.get("action") == "start":
        return _enrol(request, study, enrolment.direct_recruitment())
    return render(request, "participant/landing.html",
                  {"study": study, "spec": study.spec_in(language)})


def _submit(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
    handler = _HANDLERS.get(request.POST.get("action", ""))
    if handler is None:
        return error_page(request, study, gettext("Unknown action."))
    try:
        handler(request, participant)
    except StaleSubmission as exc:
        messages.info(request, str(exc))
    except ServiceError as exc:
        # Nothing was stored: show the same page again with the reason.
        template, context = page_context(request, study, _reload(participant), error=str(exc))
        return render(request, template, context, status=status_for(exc))
    return _here(study)


def _reload(participant: Participant) -> Participant:
    return Participant.objects.select_related("study", "condition").get(pk=participant.pk)


def _consent(request: HttpRequest, participant: Participant) -> None:
    flow.consent_record(participant=participant, agreed=request.POST.get("agree") == "yes")


def _instructions(request: HttpRequest, participant: Participant) -> None:
    flow.instructions_done(participant=participant)


def _comprehension(request: HttpRequest, participant: Participant) -> None:
    # A wrong attempt leads back to the instructions, which say so themselves (page_context).
    attempt = request.POST.get("attempt", "")
    flow.comprehension_submit(participant=participant, answers=request.POST.dict(),
                              attempt=int(attempt) if attempt.isdigit() else None)


def _answer(request: HttpRequest, participant: Participant) -> None:
    form = AnswerForm(request.POST)
    flow.response_record(participant=participant, answer=parse_answer(form))


def _questionnaire(request: HttpRequest, participant: Participant) -> None:
    flow.questionnaire_submit(participant=participant, answers=request.POST)


_HANDLERS: dict[str, Callable[[HttpRequest, Participant], None]] = {
    "consent": _consent,
    "instructions": _instructions,
    "comprehension": _comprehension,
    "answer": _answer,
    "questionnaire": _questionnaire,
}


@never_cache
@require_http_methods(["GET", "POST"])
@in_participant_language
def withdraw_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Withdrawal, open from every participant page: GET asks to confirm, POST deletes every
    record of the participant and shows the confirmation (with the screen-out code)."""
    study = get_object_or_404(Study, slug=slug)
    participant = selectors.participant_for_session(
        study, request.session.get(participant_key(slug)))
    if participant is None:
        if request.session.get(withdrawn_key(slug)):
            return render(request, "participant/withdrawn.html", {
                "study": study, "spec": study.spec_in(translation.get_language() or "")})
        return _here(study)
    if request.method == "POST":
        flow.participant_withdraw(participant=participant)
        del request.session[participant_key(slug)]
        request.session[withdrawn_key(slug)] = True
        return HttpResponseRedirect(reverse("study-withdraw", args=[slug]), status=303)
    return render(request, "participant/withdraw.html", {
        "study": study, "spec": selectors.participant_spec(participant),
        "participant": participant, "is_preview": participant.is_preview,
        "withdrawing": True})
