"""Creating, updating, opening and closing studies from their specification."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from experiments.spec import SpecError, dump_spec, parse_spec, spec_hash
from experiments.spec_changes import fixed_changes
from experiments.spec_yaml import load_yaml
from experiments.study_spec import StudySpec
from studyapp import selectors
from studyapp.models import Condition, Participant, Study, StudyAccess, StudyVersion
from studyapp.services.errors import StudyConfigError

# Spec sections whose change invalidates the prepared items and explanations.
_POOL_SECTIONS = ("scenario", "trials")


def study_load_spec(*, text: str, owner: User, base_dir: Path | None = None,
                    author: User | None = None) -> tuple[Study, bool]:
    """Create or update the study a YAML spec describes; returns ``(study, created)``.

    All or nothing: a bad spec raises StudyConfigError naming the field, and the database is
    left untouched. ``base_dir`` is the spec file's folder: a scenario of the researcher's own
    data is found there, checked, and copied (by content hash) into :func:`material_store`.
    A change that alters the spec's hash is a new version (``author`` wrote it; None: the
    command line); one that would alter what enrolled participants get is refused
    (:func:`study_check_change`).
    """
    spec = spec_parse(text, base_dir=base_dir)
    source = _source_text(text, spec)
    with transaction.atomic():
        slug = StudySpec.from_dict(spec).slug
        study = Study.objects.select_for_update().filter(slug=slug).first()
        if study is None:
            study = _create(spec, owner)
            _version_add(study, source, author)
            return study, True
        study_check_change(study=study, spec=spec)
        _update(study, spec)
        _version_record(study, source, author)
        return study, False


def study_check_change(*, study: Study, spec: dict[str, Any]) -> None:
    """Refuse (StudyConfigError naming the field) a change of ``study`` to the validated
    ``spec`` that would alter what its enrolled participants get (experiments.spec_changes).
    Previews are not participants: they are dropped when such a change is saved."""
    if not Participant.objects.filter(study=study, is_preview=False).exists():
        return
    changed = fixed_changes(study.spec, spec)
    if changed:
        raise StudyConfigError(
            f"{changed[0]}: this study has participants, and changing "
            f"{'this' if len(changed) == 1 else f'this (and {len(changed) - 1} more)'} would "
            "alter what they get. Only wording, recruitment, caps and exclusions may change "
            "now; copy the study (a new slug: the admin's \"Copy as a new study\") and change the "
            "copy instead")


def _source_text(text: str, spec: dict[str, Any]) -> str:
    """The YAML to keep as written. A spec of the researcher's own data gets the files'
    hashes filled in when loaded beside them; without them it could not be loaded again
    without its folder (the admin's editor has none), so they are added to its ``scenario:``
    block, and only where that cannot be done line by line is the spec kept as normalised."""
    written = load_yaml(text)
    pinned = spec["scenario"].get("sha256")
    if not pinned or written.get("scenario", {}).get("sha256") == pinned:
        return text
    return _with_filled_in_scenario(text, written, spec["scenario"]) or dump_spec(spec)


_SCENARIO_LINE = re.compile(r"^scenario[ \t]*:[ \t]*(#.*)?$")
_FILLED_IN_NOTE = "# Filled in on loading: the stored copies of the files, by content hash."


def _with_filled_in_scenario(text: str, written: dict[str, Any],
                             scenario: dict[str, Any]) -> str | None:
    """``text`` with the scenario keys the platform filled in (the hashes, the task) appended
    to its ``scenario:`` block, every other line as written; None when the block is not a
    plain block mapping or the result would not read back as ``scenario``."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _SCENARIO_LINE.match(line.rstrip())),
                 None)
    if start is None:
        return None
    last, indent = start, 0
    for i in range(start + 1, len(lines)):
        content = lines[i].strip()
        if not content or content.startswith("#"):
            continue
        width = len(lines[i]) - len(lines[i].lstrip(" "))
        if width == 0:  # the next top-level key: the block ended at the last content line
            break
        last, indent = i, indent or width
    added = {key: value for key, value in scenario.items()
             if key not in written.get("scenario", {})}
    if not indent or not added:
        return None
    block = [_FILLED_IN_NOTE, *dump_spec(added).splitlines()]
    lines[last] = lines[last] if lines[last].endswith("\n") else lines[last] + "\n"
    lines[last + 1:last + 1] = [" " * indent + line + "\n" for line in block]
    result = "".join(lines)
    try:
        read_back = load_yaml(result)
    except SpecError:
        return None
    return result if read_back == {**written, "scenario": scenario} else None


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
    pool_changed = any(study.spec.get(k) != spec.get(k) for k in _POOL_SECTIONS)
    if fixed_changes(study.spec, spec):
        # Only previews can be left (study_check_change): walks through the old study,
        # whose trials hold its items and conditions.
        Participant.objects.filter(study=study, is_preview=True).delete()
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


def _version_add(study: Study, source: str, author: User | None) -> StudyVersion:
    latest = selectors.study_version(study)
    return StudyVersion.objects.create(
        study=study, number=latest.number + 1 if latest else 1, spec=study.spec,
        spec_hash=study.spec_hash, source_text=source, created_by=author)


def _version_record(study: Study, source: str, author: User | None) -> None:
    """A new version when the hash changed; else the same version, its text as now written
    (a comment or the layout changed, which no participant reads)."""
    latest = selectors.study_version(study)
    if latest is None or latest.spec_hash != study.spec_hash:
        _version_add(study, source, author)
    elif latest.source_text != source:
        latest.source_text = source
        latest.save(update_fields=["source_text"])


@transaction.atomic
def study_copy(*, study: Study, author: User | None = None) -> Study:
    """A new draft study with the same spec under a new slug (``<slug>-copy``,
    ``<slug>-copy-2``, ...), its YAML as written but for the slug, the same owner and
    colleagues, and no items or participants: a changed study that is not a running one."""
    slug = _copy_slug(study.slug)
    source = spec_with_slug(selectors.study_source_text(study), slug)
    spec = spec_parse(source)
    copy = _create(spec, study.owner)
    _version_add(copy, _source_text(source, spec), author)
    for access in study.access.all():
        StudyAccess.objects.create(study=copy, user=access.user, role=access.role)
    return copy


def _copy_slug(slug: str) -> str:
    for n in range(1, 1000):
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        candidate = slug[:64 - len(suffix)] + suffix
        if not Study.objects.filter(slug=candidate).exists():
            return candidate
    raise StudyConfigError(f"slug: no free slug for a copy of {slug!r}")


_SLUG_LINE = re.compile(r"^slug[ \t]*:[^#\n]*(#.*)?$", re.MULTILINE)


def spec_with_slug(text: str, slug: str) -> str:
    """The YAML ``text`` with its top-level slug replaced, everything else as written; a spec
    whose slug is not on a ``slug:`` line of its own is rewritten whole."""
    replaced, count = _SLUG_LINE.subn(
        lambda m: f"slug: {slug}" + (f"  {m.group(1)}" if m.group(1) else ""), text, count=1)
    data = load_yaml(replaced) if count else None
    original = load_yaml(text)
    if isinstance(data, dict) and data == {**original, "slug": slug}:
        return replaced
    return dump_spec({**original, "slug": slug})


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
