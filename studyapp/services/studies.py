"""Creating, updating, opening and closing studies from their specification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from experiments.spec import SpecError, parse_spec, spec_hash
from experiments.study_spec import StudySpec
from studyapp.models import Condition, Participant, Study
from studyapp.services.errors import StudyConfigError

# Spec sections whose change invalidates the prepared items and explanations.
_POOL_SECTIONS = ("scenario", "trials")


def study_load_spec(*, text: str, owner: User,
                    base_dir: Path | None = None) -> tuple[Study, bool]:
    """Create or update the study a YAML spec describes; returns ``(study, created)``.

    All or nothing: a bad spec raises StudyConfigError naming the field, and the database is
    left untouched. ``base_dir`` is the spec file's folder: a scenario of the researcher's own
    data is found there, checked, and copied (by content hash) into :func:`material_store`.
    """
    spec = spec_parse(text, base_dir=base_dir)
    with transaction.atomic():
        slug = StudySpec.from_dict(spec).slug
        study = Study.objects.select_for_update().filter(slug=slug).first()
        if study is None:
            return _create(spec, owner), True
        _update(study, spec)
        return study, False


def spec_parse(text: str, *, base_dir: Path | None = None) -> dict[str, Any]:
    """Validate a YAML spec against the schema and what this installation offers."""
    try:
        return parse_spec(text, known_scenarios=_known_scenarios(),
                          known_methods=_known_methods(), known_models=_known_models(),
                          material_dir=base_dir,
                          material_store=material_store() if base_dir else None)
    except SpecError as exc:
        raise StudyConfigError(str(exc)) from None


def material_store() -> Path:
    """Where researchers' own data, codebooks and models are kept, named by content hash."""
    return Path(settings.VAR_DIR) / "material"


def _known_scenarios() -> list[str]:
    from experiments.scenarios import available_scenarios

    return list(available_scenarios())


def _known_models() -> dict[str, list[str]]:
    from experiments.scenarios import available_models, available_scenarios

    return {name: available_models(name) for name in available_scenarios()}


def _known_methods() -> list[str]:
    from explainers import available_methods

    return available_methods()


def _study_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """The Study columns that repeat the spec (the dict itself is stored and hashed)."""
    typed = StudySpec.from_dict(spec)
    rec = typed.recruitment
    return {
        "title": typed.title, "description": typed.description, "spec": spec,
        "spec_hash": spec_hash(spec), "task": typed.task.design,
        "completion_code": rec.completion_code, "screenout_code": rec.screenout_code,
        "completion_url": rec.completion_url, "screenout_url": rec.screenout_url,
        "allow_direct": rec.allow_direct, "time_limit_minutes": rec.time_limit_minutes,
        "active_window_minutes": rec.active_window_minutes,
        "comprehension_max_attempts": typed.comprehension.max_attempts,
        "assignment_seed": typed.assignment_seed,
    }


def _create(spec: dict[str, Any], owner: User) -> Study:
    study = Study.objects.create(slug=StudySpec.from_dict(spec).slug, owner=owner,
                                 **_study_fields(spec))
    _sync_conditions(study)
    return study


def _update(study: Study, spec: dict[str, Any]) -> None:
    has_participants = Participant.objects.filter(study=study, is_preview=False).exists()
    pool_changed = any(study.spec.get(k) != spec.get(k) for k in _POOL_SECTIONS)
    if pool_changed and has_participants:
        raise StudyConfigError("scenario/trials: cannot change the item pool of a study that "
                               "has participants; create a new study (new slug) instead")
    for name, value in _study_fields(spec).items():
        setattr(study, name, value)
    if pool_changed:
        study.items.all().delete()
        study.preparation = Study.Preparation.NOT_STARTED
        study.preparation_done = study.preparation_total = 0
    study.save()
    _sync_conditions(study)


def _sync_conditions(study: Study) -> None:
    """The study's Condition rows, as its spec lists them."""
    wanted = {c.name: (i, c) for i, c in enumerate(study.typed_spec.conditions)}
    for condition in study.conditions.all():
        if condition.name not in wanted:
            if condition.participants.exists():
                raise StudyConfigError(f"conditions: {condition.name!r} has participants and "
                                       "cannot be removed; close it instead")
            condition.delete()
    for name, (position, entry) in wanted.items():
        explanation = entry.explanation
        Condition.objects.update_or_create(study=study, name=name, defaults={
            "label": entry.label, "position": position, "show_ai": entry.show_ai,
            "explanation_method": explanation.method if explanation else "",
            "explanation_params": dict(explanation.params) if explanation else {},
            "explanation_wording": explanation.wording if explanation else Condition.PLAIN,
            "model_variant": entry.model_variant or "", "cap": entry.cap})


def study_set_status(*, study: Study, status: str) -> Study:
    """Open or close recruitment. Opening needs finished preparation."""
    if status not in Study.Status.values:
        raise StudyConfigError(f"status: unknown {status!r}")
    if status == Study.Status.OPEN and study.preparation != Study.Preparation.DONE:
        raise StudyConfigError("status: prepare the study (items and explanations) first")
    study.status = status
    study.save(update_fields=["status", "updated_at"])
    return study


def condition_set_open(*, condition: Condition, is_open: bool) -> Condition:
    """The researcher's switch to stop (or resume) recruiting to one condition."""
    condition.is_open = is_open
    condition.save(update_fields=["is_open"])
    return condition


def study_set_raw_ids(*, study: Study, raw_ids: bool) -> Study:
    """Whether exports carry raw recruitment ids instead of pseudonyms (opt-in)."""
    if study.raw_ids_in_export != raw_ids:
        study.raw_ids_in_export = raw_ids
        study.save(update_fields=["raw_ids_in_export", "updated_at"])
    return study
