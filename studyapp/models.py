"""The study's records: what was configured, who took part, what they saw and answered.

Writes happen only in ``studyapp.services``; reads shared by several views in
``studyapp.selectors``. Models hold data and small derived properties, no workflow.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from experiments.study_spec import StudySpec


def _new_secret() -> str:
    return secrets.token_hex(16)


class Study(models.Model):
    class Status(models.TextChoices):
        # Recruitment only: whether items and explanations are ready is ``preparation``.
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Preparation(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_studies")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The validated study specification (study-as-code) and its content hash.
    spec = models.JSONField()
    spec_hash = models.CharField(max_length=64)
    task = models.CharField(max_length=40, default="decision")
    completion_code = models.CharField(max_length=64)
    screenout_code = models.CharField(max_length=64)
    completion_url = models.URLField(max_length=500, blank=True)
    screenout_url = models.URLField(max_length=500, blank=True)
    allow_direct = models.BooleanField(default=False, help_text=(
        "Accept participants who arrive without Prolific/MTurk ids (an id is generated)."))
    time_limit_minutes = models.PositiveIntegerField(null=True, blank=True)
    active_window_minutes = models.PositiveIntegerField(default=30, help_text=(
        "A started participant counts towards balance while seen within this window."))
    comprehension_max_attempts = models.PositiveSmallIntegerField(default=2)
    # The answers a trial offers, from the scenario's classes: [{"value", "label"}].
    answer_options = models.JSONField(default=list, blank=True)
    assignment_seed = models.BigIntegerField(default=0)
    raw_ids_in_export = models.BooleanField(default=False)
    pseudonym_salt = models.CharField(max_length=32, default=_new_secret, editable=False)
    preparation = models.CharField(max_length=16, choices=Preparation.choices,
                                   default=Preparation.NOT_STARTED)
    preparation_done = models.PositiveIntegerField(default=0)
    preparation_total = models.PositiveIntegerField(default=0)
    preparation_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_accepting(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def typed_spec(self) -> StudySpec:
        """``spec`` read through its typed view (experiments.study_spec), built once per
        ``spec`` value: assigning another spec dict gives a fresh view."""
        cached = self.__dict__.get("_typed_spec")
        if cached is None or cached[0] is not self.spec:
            cached = (self.spec, StudySpec.from_dict(self.spec))
            self.__dict__["_typed_spec"] = cached
        return cached[1]

    def spec_in(self, language: str) -> StudySpec:
        """The typed spec with its participant-facing texts in ``language`` (one of the spec's
        languages; any other reads as the default), built once per spec value and language."""
        if language not in self.typed_spec.languages:
            return self.typed_spec
        views: tuple[Any, dict[str, StudySpec]] | None = self.__dict__.get("_spec_in")
        if views is None or views[0] is not self.spec:
            views = (self.spec, {})
            self.__dict__["_spec_in"] = views
        if language not in views[1]:
            views[1][language] = StudySpec.from_dict(self.spec, language)
        return views[1][language]


class StudyVersion(models.Model):
    """One saved state of a study's spec: every change that alters the hash makes the next.

    ``source_text`` is the YAML as the researcher wrote it (comments, order, quoting), shown
    again in the admin's editor and exported; ``spec`` is its normalised form and ``spec_hash``
    that form's hash. Participants keep the version they enrolled under (``Participant.version``).
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    spec_hash = models.CharField(max_length=64)
    source_text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["study", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"],
                                               name="one_version_number_per_study")]

    def __str__(self) -> str:
        return f"{self.study.slug} v{self.number}"


class StudyAccess(models.Model):
    """A colleague's rights on a study that someone else owns."""

    class Role(models.TextChoices):
        VIEW = "view", "View and export"
        EDIT = "edit", "Edit"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="access")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="study_access")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.VIEW)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="one_access_row")]


class Condition(models.Model):
    PLAIN, TECHNICAL = "plain", "technical"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="conditions")
    name = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    show_ai = models.BooleanField(default=True)
    explanation_method = models.CharField(max_length=64, blank=True)
    explanation_params = models.JSONField(default=dict, blank=True)
    explanation_wording = models.CharField(max_length=12, default=PLAIN, choices=[
        (PLAIN, "Plain (probability scale, for participants)"),
        (TECHNICAL, "Technical (the method's own units)")])
    # The scenario's model variant this condition's explanations explain ("" = the AI whose
    # predictions are shown; "scaffolded" = Slack et al.'s attack on it).
    model_variant = models.CharField(max_length=32, blank=True)
    cap = models.PositiveIntegerField(null=True, blank=True, help_text=(
        "Stop assigning newcomers once this many have completed or are active."))
    is_open = models.BooleanField(default=True, help_text="Untick to stop recruiting to it.")

    class Meta:
        ordering = ["study", "position"]
        constraints = [models.UniqueConstraint(fields=["study", "name"],
                                               name="condition_name_unique_in_study")]

    def __str__(self) -> str:
        return f"{self.study.slug}/{self.name}"


class Item(models.Model):
    """One input from the scenario's test set, with the AI's output on it."""

    class Role(models.TextChoices):
        POOL = "pool", "Trial pool"
        ATTENTION = "attention", "Attention check"
        PRACTICE = "practice", "Practice"
        # Shown beside a pool item, never drawn on its own: the second model's view of the
        # same input in a model-comparison study.
        PAIRED = "paired", "Paired view"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=64)
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.POOL)
    source_index = models.IntegerField(null=True, blank=True)
    # What a participant may see of the input (display labels -> display values).
    display = models.JSONField()
    features = models.JSONField(default=list, help_text="Numeric feature vector (model input).")
    truth = models.CharField(max_length=64)
    ai_prediction = models.CharField(max_length=64)
    ai_class_index = models.IntegerField(null=True, blank=True)
    ai_confidence = models.FloatField(null=True, blank=True)
    ai_correct = models.BooleanField()
    # For attention checks: the answer the instruction asks for.
    expected_answer = models.CharField(max_length=64, blank=True)
    instruction = models.CharField(max_length=300, blank=True)
    # Counterfactual simulation: the one-feature edit shown after the item and the AI's
    # output on it ({"label", "before", "after", "features", "ai_prediction"}).
    edit = models.JSONField(default=dict, blank=True)
    # Debugging studies: which model made the prediction ("clean" or a planted bug's name).
    model_variant = models.CharField(max_length=32, blank=True)
    # Designs whose trial shows several labelled views of the input, one to choose
    # (distinction: one per candidate class; model comparison: one per model). Each panel is
    # {"label", "value", "item" (whose explanation it shows), "target" (class explained, or
    # null for the prediction), "prediction"}.
    panels = models.JSONField(default=list, blank=True)
    # Where the input comes from: the scenario's test split, or its training split (finding
    # mislabelled training points).
    source_split = models.CharField(max_length=8, default="test")

    class Meta:
        ordering = ["study", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="item_key_unique")]

    def __str__(self) -> str:
        return f"{self.study.slug}/{self.key}"


class Explanation(models.Model):
    """A precomputed explanation of the AI's prediction on one item."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="explanations")
    method = models.CharField(max_length=64)
    params_key = models.CharField(max_length=64, default="", help_text=(
        "Hash of the method's parameters, so two conditions with different settings coexist."))
    kind = models.CharField(max_length=20)
    fingerprint = models.CharField(max_length=32)
    payload = models.JSONField()
    metrics = models.JSONField(default=dict)
    html = models.TextField(help_text="Rendered fragment shown to participants (in the "
                                      "study's default language).")
    html_by_language = models.JSONField(default=dict, blank=True, help_text=(
        "The fragment in each of the study's languages (code -> HTML), rendered at "
        "preparation; a participant sees theirs."))
    created_at = models.DateTimeField(auto_now_add=True)

    def html_in(self, language: str) -> str:
        """The fragment in ``language``; rows prepared before the study's languages were
        rendered have only ``html``."""
        return str(self.html_by_language.get(language, self.html))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "method", "params_key"],
                                               name="one_explanation_per_item_method")]


class Participant(models.Model):
    class Status(models.TextChoices):
        STARTED = "started", "Started"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        SCREENED_OUT = "screened_out", "Screened out"
        TIMED_OUT = "timed_out", "Timed out"
        # No "withdrawn": withdrawal deletes the participant; a Withdrawal record counts them.

    class Stage(models.TextChoices):
        CONSENT = "consent", "Consent"
        INSTRUCTIONS = "instructions", "Instructions"
        COMPREHENSION = "comprehension", "Comprehension check"
        TRIALS = "trials", "Trials"
        QUESTIONNAIRE = "questionnaire", "Questionnaire"
        DONE = "done", "Done"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT,
                                  related_name="participants", help_text=(
        "The assigned condition; in within and mixed designs the condition of the first "
        "block (the order of all blocks is given by sequence)."))
    external_id = models.CharField(max_length=64, help_text="PROLIFIC_PID / workerId / generated.")
    source = models.CharField(max_length=12, default="direct")
    recruitment = models.JSONField(default=dict, help_text="STUDY_ID, SESSION_ID, hitId, ...")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CONSENT)
    trial_pointer = models.PositiveIntegerField(default=0)
    # Within-subjects designs: the row of the Latin square giving the order of condition
    # blocks (``condition`` is then the first block's condition).
    sequence = models.PositiveSmallIntegerField(null=True, blank=True)
    seed = models.BigIntegerField()
    spec_hash = models.CharField(max_length=64)
    # The spec version enrolled under: its texts are the ones this participant reads.
    version = models.ForeignKey(StudyVersion, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="participants")
    comprehension_attempts = models.PositiveSmallIntegerField(default=0)
    is_bot = models.BooleanField(default=False)
    is_preview = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Chosen at enrolment (the link's ?lang= or the spec's default) and kept for the session.
    language = models.CharField(max_length=8, default="en",
                                help_text="The language the participant read the study in.")

    class Meta:
        ordering = ["study", "id"]
        # One participant per recruitment id and platform: the same string from two
        # platforms is two people (ids are stored in their platform's canonical form).
        constraints = [models.UniqueConstraint(fields=["study", "source", "external_id"],
                                               name="one_participant_per_platform_id")]
        indexes = [models.Index(fields=["study", "condition", "status", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.study.slug}/{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.COMPLETED, self.Status.SCREENED_OUT,
                               self.Status.TIMED_OUT}

    @property
    def first_block_condition(self) -> Condition:
        """The condition of the participant's first block: between subjects their only one,
        within and mixed designs the first of their block order (stored as ``condition``)."""
        return self.condition


class Trial(models.Model):
    """One planned trial: what the participant is (or was) shown. Answers are Responses."""

    class Kind(models.TextChoices):
        MAIN = "main", "Main"
        ATTENTION = "attention", "Attention check"
        PRACTICE = "practice", "Practice (unscored, the condition's tutorial)"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="trials")
    index = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="trials")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="trials")
    phase = models.CharField(max_length=20, default="main")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MAIN)
    explanation = models.ForeignKey(Explanation, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="trials")
    shown_at = models.DateTimeField(null=True, blank=True)
    # Outcome feedback after the answer (the condition's spec rule, fixed in the plan).
    feedback = models.BooleanField(default=False)

    class Meta:
        ordering = ["participant", "index"]
        constraints = [models.UniqueConstraint(fields=["participant", "index"],
                                               name="one_trial_per_index")]

    def __str__(self) -> str:
        return f"{self.participant_id}#{self.index}"


class Response(models.Model):
    """One answer to one step of a trial, stored exactly once (unique per trial and step)."""

    class Step(models.TextChoices):
        INITIAL = "initial", "Initial answer (before advice)"
        FINAL = "final", "Final answer"
        REASON = "reason", "Reason given for the final answer"
        RATING = "rating", "Rating of the explanation after answering"
        SIMULATE = "simulate", "Guess of the AI's output (before seeing it)"
        FEEDBACK = "feedback", "Outcome feedback read (after the final answer)"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="responses")
    step = models.CharField(max_length=8, choices=Step.choices)
    answer = models.CharField(max_length=200)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    rt_ms = models.PositiveIntegerField(null=True, blank=True)
    explanation_visible_ms = models.PositiveIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trial", "step"],
                                               name="one_response_per_step")]


class QuestionnaireAnswer(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE,
                                    related_name="questionnaire_answers")
    questionnaire = models.CharField(max_length=40)
    item = models.CharField(max_length=40)
    value = models.TextField()
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "questionnaire", "item"],
                                               name="one_answer_per_questionnaire_item")]


class Event(models.Model):
    """Client and server events (page views, explanation shown, tab hidden, ...)."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="events")
    trial_index = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=40)
    page = models.CharField(max_length=40, blank=True)
    client_ms = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    server_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "server_at", "id"]



class Withdrawal(models.Model):
    """What is kept of a participant who withdrew: no data, no recruitment id.

    Enough for the CONSORT counts (their condition, how far they got) and to refuse a second
    enrolment: ``person`` is a keyed hash of their platform and id (``services.withdrawal``),
    which identifies nobody without the server's secret and the study's.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="withdrawals")
    condition = models.CharField(max_length=64)
    stage = models.CharField(max_length=16)
    person = models.CharField(max_length=64)
    is_bot = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["study", "withdrawn_at"]
        constraints = [models.UniqueConstraint(fields=["study", "person"],
                                               name="one_withdrawal_per_person")]


class AnalysisRun(models.Model):
    """One build of a study's export and analysis reports (notebook, R script, HTML)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="analysis_runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    step = models.CharField(max_length=80, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    steps_total = models.PositiveSmallIntegerField(default=4)
    directory = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when a participant whose data this run exported withdrew: its files are deleted
    # and the study page offers a rebuild.
    outdated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
