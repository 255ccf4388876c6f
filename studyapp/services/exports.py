"""Tidy exports: trials.csv, participants.csv, events.csv, datapackage.json, study.yaml.

study.yaml is the current spec as the researcher wrote it; versions/v<n>.yaml every version's,
and participants.csv says which version each participant enrolled under.

Columns come from ``analysis.schema`` (the contract with the analysis package). Previews are
never exported; bots are, flagged ``is_bot``. Participant ids are pseudonymised with a keyed
hash unless the researcher opted in to raw ids.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from analysis.questionnaires import score
from analysis.schema import (
    BONUS_COLUMNS,
    EVENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    TRIAL_COLUMNS,
    Column,
)
from experiments.designs import design
from experiments.incentives import Incentives
from studyapp import selectors
from studyapp.models import (
    Event,
    Item,
    Participant,
    QuestionnaireAnswer,
    Response,
    Study,
    StudyVersion,
    Trial,
)
from studyapp.services.plans import study_block_orders
from studyapp.services.questionnaires import questionnaire_items, scale_applies, study_scales

Row = dict[str, Any]

# OWASP "CSV injection": a cell a spreadsheet would read as a formula (or DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SPREADSHEET_SAFETY = (
    "Text cells of the CSV files that start with =, +, -, @, a tab or a carriage return (what a "
    "spreadsheet would run as a formula) are written with a leading apostrophe ('), as OWASP "
    "advises against CSV injection; numbers are left as they are. The free-text answers exactly "
    "as typed are in free_text.jsonl (JSON Lines, which spreadsheets do not execute).")
FREE_TEXT_DESCRIPTION = ("Free-text answers exactly as typed: one JSON object per line with "
                         "participant, column (of participants.csv) and value.")


def participant_pseudonym(study: Study, external_id: str) -> str:
    """Keyed hash of a recruitment id: stable within a study, unlinkable across studies."""
    key = f"{settings.EXPORT_PSEUDONYM_KEY}:{study.pseudonym_salt}".encode()
    return "p_" + hmac.new(key, external_id.encode(), hashlib.sha256).hexdigest()[:16]


def study_export_files(*, study: Study, raw_ids: bool | None = None) -> dict[str, str]:
    """File name -> text of every export file (for tests, reconciliation and small studies;
    downloads stream with ``study_export_stream``)."""
    return {name: "".join(chunks) for name, chunks in _export_parts(study, raw_ids)}


def study_export(*, study: Study, out_dir: Path, raw_ids: bool | None = None) -> list[Path]:
    """Write the export files into ``out_dir`` (created if missing), row by row."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, chunks in _export_parts(study, raw_ids):
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)  # versions/
        with path.open("w", encoding="utf-8") as out:
            out.writelines(chunks)
        written.append(path)
    return written


def study_export_zip(*, study: Study, raw_ids: bool | None = None) -> bytes:
    return b"".join(study_export_stream(study=study, raw_ids=raw_ids))


def study_export_stream(*, study: Study, raw_ids: bool | None = None) -> Iterator[bytes]:
    """The export as a zip archive, produced while it is sent: the event log (the part that
    grows with the study) goes from the database cursor into the archive a chunk at a time,
    so memory stays flat however many events a study has."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in _export_parts(study, raw_ids):
            with archive.open(f"{study.slug}/{name}", "w", force_zip64=True) as entry:
                for chunk in chunks:
                    entry.write(chunk.encode("utf-8"))
                    if sink.size > STREAM_CHUNK_BYTES:
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()  # the archive's central directory


STREAM_CHUNK_BYTES = 256 * 1024


class _Sink(io.RawIOBase):
    """A write-only stream the zip writes into and the response reads out of. It cannot
    seek, so zipfile writes sizes after each member (data descriptors) as it does for pipes."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        self.size += len(data)
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks, self.size = [], 0
        return data


def _export_parts(study: Study, raw_ids: bool | None) -> Iterator[tuple[str, Iterable[str]]]:
    """Every export file as (name, its text in chunks); the event log is read lazily."""
    participants = list(exported_participants(study))
    ids = _export_ids(study, participants, raw_ids)
    participant_rows, extra_columns = _participant_rows(study, participants, ids)
    yield "trials.csv", _csv_chunks(TRIAL_COLUMNS, _trial_rows(study, ids))
    yield "participants.csv", _csv_chunks(PARTICIPANT_COLUMNS + tuple(extra_columns),
                                          participant_rows)
    yield "events.csv", _csv_chunks(EVENT_COLUMNS, _event_rows(study, ids))
    rule = study.typed_spec.incentives
    if rule is not None:
        yield "bonuses.csv", _csv_chunks(BONUS_COLUMNS, _bonus_rows(study, rule, participants,
                                                                    ids))
    versions = list(study.versions.order_by("number"))
    yield "study.yaml", [selectors.study_source_text(study)]
    for version in versions:
        yield _version_path(version), [version.source_text]
    yield "free_text.jsonl", [_free_text_lines(participant_rows, extra_columns)]
    yield "datapackage.json", [_datapackage(study, extra_columns, versions)]


def _version_path(version: StudyVersion) -> str:
    return f"versions/v{version.number}.yaml"


def _csv_chunks(columns: Iterable[Column], rows: Iterable[Row]) -> Iterator[str]:
    """CSV text of ``rows`` in pieces of about 64 KB, text cells made spreadsheet-safe."""
    names = [c.name for c in columns]
    text = {c.name for c in columns if c.type == "string"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(_cell(row.get(k))) if k in text
                         else _cell(row.get(k)) for k in names})
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: a leading apostrophe before a formula
    start. A plain number ("-3", "+1.5") is data, not a formula, and stays as it is."""
    if not text.startswith(FORMULA_STARTS):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def _free_text_lines(rows: list[Row], extra_columns: list[Column]) -> str:
    """Every free-text answer exactly as typed, one JSON object per line."""
    text = [c.name for c in extra_columns if c.type == "string"]
    return "".join(json.dumps({"participant": row["participant"], "column": name,
                               "value": row[name]}, ensure_ascii=False) + "\n"
                   for row in rows for name in text if row.get(name) not in (None, ""))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def exported_participants(study: Study) -> QuerySet[Participant]:
    """Participants in the export (previews never are), in export order."""
    return (Participant.objects.filter(study=study, is_preview=False)
            .select_related("condition", "version").order_by("id"))


def exported_trials(study: Study) -> QuerySet[Trial]:
    """Trials in the export: every one shown or answered, in export order."""
    shown_or_answered = Q(shown_at__isnull=False) | Q(responses__isnull=False)
    return (Trial.objects.filter(shown_or_answered, participant__study=study,
                                 participant__is_preview=False).distinct()
            .select_related("participant__condition", "item", "condition", "explanation")
            .order_by("participant_id", "index"))


def participant_rows_for(study: Study, participants: list[Participant]) -> list[Row]:
    """participants.csv's rows of just these participants (one API page): the rest of the
    export, events above all, is not built for them."""
    rows, _ = _participant_rows(study, participants, _export_ids(study, participants))
    return rows


def trial_rows_for(study: Study, trials: list[Trial]) -> list[Row]:
    """trials.csv's rows of just these trials (one API page)."""
    participants = {t.participant_id: t.participant for t in trials}
    ids = _export_ids(study, list(participants.values()))
    responses = _responses_by_trial(Response.objects.filter(trial__in=trials))
    return [_trial_row(study, trial, responses.get(trial.pk, {}), ids) for trial in trials]


def scored_outcomes(study: Study, participants: list[Participant]) -> dict[int, list[bool]]:
    """Each participant's main trials answered and scored, right (True) or wrong (False), in
    trial order: what bonuses are paid on. Scored as trials.csv scores them (one rule)."""
    trials = list(exported_trials(study).filter(participant__in=participants,
                                                kind=Trial.Kind.MAIN))
    outcomes: dict[int, list[bool]] = {p.pk: [] for p in participants}
    for trial, row in zip(trials, trial_rows_for(study, trials), strict=True):
        if row["correct"] is not None:
            outcomes[trial.participant_id].append(bool(row["correct"]))
    return outcomes


def _bonus_rows(study: Study, rule: Incentives, participants: list[Participant],
                ids: dict[int, str]) -> Iterator[Row]:
    for start in range(0, len(participants), 500):  # bounded memory on large studies
        chunk = participants[start:start + 500]
        outcomes = scored_outcomes(study, chunk)
        for p in chunk:
            scored = outcomes[p.pk]
            paid = p.status == Participant.Status.COMPLETED
            yield {"participant": ids[p.pk], "status": p.status, "scored_trials": len(scored),
                   "correct": sum(scored),
                   "bonus": rule.bonus(scored) if paid else Decimal(0),
                   "currency": rule.currency}


def _export_ids(study: Study, participants: list[Participant],
                raw_ids: bool | None = None) -> dict[int, str]:
    raw = study.raw_ids_in_export if raw_ids is None else raw_ids
    return {p.pk: (p.external_id if raw else participant_pseudonym(study, p.external_id))
            for p in participants}


def _responses_by_trial(responses: QuerySet[Response]) -> dict[int, dict[str, Response]]:
    by_trial: dict[int, dict[str, Response]] = defaultdict(dict)
    for response in responses:
        by_trial[response.trial_id][response.step] = response
    return by_trial


def _trial_rows(study: Study, ids: dict[int, str]) -> Iterator[Row]:
    responses = _responses_by_trial(Response.objects.filter(
        trial__participant__study=study, trial__participant__is_preview=False))
    for trial in exported_trials(study).iterator(chunk_size=2000):
        yield _trial_row(study, trial, responses.get(trial.pk, {}), ids)


def _trial_row(study: Study, trial: Trial, steps: dict[str, Response],
               ids: dict[int, str]) -> Row:
    item, final, initial = trial.item, steps.get("final"), steps.get("initial")
    reason, rating = steps.get("reason"), steps.get("rating")
    task = design(study.task)
    truth = task.truth(item_truth=item.truth, model_variant=item.model_variant)
    answer = final.answer if final else None
    classes = {o["value"] for o in study.answer_options}
    if trial.kind == Trial.Kind.PRACTICE:
        correct = None  # a tutorial's practice trial is not scored
    elif trial.kind == Trial.Kind.ATTENTION:
        correct = None if answer is None else answer == item.expected_answer
    else:
        correct = task.score(answer, truth=truth,
                                           ai_prediction=item.ai_prediction,
                                           ai_correct=item.ai_correct, phase=trial.phase,
                                           ai_prediction_edited=item.edit.get("ai_prediction"))
    # Counterfactual simulation: the output being simulated is the AI's on the edited input;
    # the truth of an edited (imagined) person is unknown.
    edited = bool(item.edit) and trial.kind == Trial.Kind.MAIN
    simulated = item.edit["ai_prediction"] if edited else item.ai_prediction
    explanation = trial.explanation
    numeric = task.numeric and trial.kind == Trial.Kind.MAIN
    return {
        "participant": ids[trial.participant_id],
        "condition": trial.participant.first_block_condition.name,
        "trial_condition": trial.condition.name,
        "trial_index": trial.index, "item_id": item.key, "task": study.task,
        "phase": trial.phase, "trial_kind": trial.kind,
        "ai_prediction": simulated, "ai_prediction_shown": item.ai_prediction,
        "edited_feature": item.edit.get("label") if edited else None,
        "ai_confidence": item.ai_confidence,
        "ai_correct": None if edited else item.ai_correct,
        "truth": None if edited else truth,
        "reason": reason.answer if reason else None,
        "explanation_rating": rating.answer if rating else None,
        "group": _fairness_group(study, item),
        "initial_response": initial.answer if initial else None,
        "final_response": answer,
        "correct": correct,
        "agreed_with_ai": answer == simulated if answer in classes else None,
        **(_numeric_scores(item, steps) if numeric else {}),
        "n_options": len(item.panels) if item.panels else None,
        "confidence": final.confidence if final else None,
        "rt_ms": final.rt_ms if final else None,
        "explanation_visible_ms": final.explanation_visible_ms if final else None,
        "feedback_shown": trial.feedback,
        "feedback_ms": steps["feedback"].rt_ms if "feedback" in steps else None,
        "explanation_id": explanation.fingerprint if explanation else None,
        "explanation_method": explanation.method if explanation else None,
        "shown_at": trial.shown_at, "answered_at": final.answered_at if final else None,
        "is_bot": trial.participant.is_bot,
    }


def _numeric_scores(item: Item, steps: dict[str, Response]) -> Row:
    """Simulate then decide: the simulation guess and the three errors of Poursabzi-Sangdeh
    et al. (simulation error, deviation from the model, prediction error)."""
    guess = _number(steps.get("simulate"))
    final = _number(steps.get("final"))
    ai, truth = float(item.ai_prediction), float(item.truth)
    return {"simulation_response": guess,
            "simulation_error": None if guess is None else abs(guess - ai),
            "deviation_from_ai": None if final is None else abs(final - ai),
            "absolute_error": None if final is None else abs(final - truth),
            "unusual": not item.ai_correct, "ai_correct": None}


def _number(response: Response | None) -> float | None:
    return None if response is None else float(response.answer)


def _fairness_group(study: Study, item: Item) -> str | None:
    fairness = study.typed_spec.task.fairness
    if fairness is None or not isinstance(item.display, dict):
        return None
    value = item.display.get(fairness.feature)
    return None if value is None else str(value)


def _participant_rows(study: Study, participants: list[Participant],
                      ids: dict[int, str]) -> tuple[list[Row], list[Column]]:
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for a in QuestionnaireAnswer.objects.filter(participant__in=participants):
        answers[a.participant_id][_answer_column(a.questionnaire, a.item)] = a.value
    attention = _attention_results(participants)
    asked = _scales_asked(study, participants)
    extra = _questionnaire_columns(study)
    orders = study_block_orders(study) if study.typed_spec.assignment.in_blocks else []
    rows = []
    for p in participants:
        order = orders[p.sequence] if p.sequence is not None and orders else None
        row: Row = {
            "participant": ids[p.pk], "condition": p.first_block_condition.name, "status": p.status,
            "design_group": order.group or None if order else None,
            "block_order": " > ".join(order.conditions) if order else None,
            "source": p.source, "language": p.language,
            "spec_version": p.version.number if p.version else None,
            "spec_hash": p.spec_hash, "seed": p.seed,
            "started_at": p.started_at, "completed_at": p.completed_at,
            "duration_s": (p.completed_at - p.started_at).total_seconds()
            if p.completed_at else None,
            "comprehension_attempts": p.comprehension_attempts,
            "attention_passed": attention.get(p.pk), "is_bot": p.is_bot,
        }
        row.update(asked[p.pk])
        row.update(answers.get(p.pk, {}))
        rows.append(row)
    _add_scale_scores(study, rows)
    return rows, extra


def _scales_asked(study: Study, participants: list[Participant]) -> dict[int, Row]:
    """Per participant, ``asked_<scale>``: whether the scale was put to them. Not asked (they
    never saw what it rates, or left before the questionnaire) is not missing: their items
    are empty by design."""
    scales = study_scales(study)
    seen = selectors.exposures(study, [p.pk for p in participants]) if scales else {}
    rows: dict[int, Row] = {}
    for p in participants:
        reached = p.stage == Participant.Stage.QUESTIONNAIRE or \
            p.status == Participant.Status.COMPLETED
        rows[p.pk] = {f"asked_{scale.name}": reached and scale_applies(scale, seen[p.pk])
                      for scale in scales}
    return rows


def _add_scale_scores(study: Study, rows: list[Row]) -> None:
    """score_<scale> per participant, by the analysis package's scoring (reverse keying)."""
    scales = study_scales(study)
    if not rows or not scales:
        return
    table = pd.DataFrame(rows)
    for scale in scales:
        for column in scale.columns:
            if column not in table:
                table[column] = None
        scores = score(table, scale)
        for row, value in zip(rows, scores, strict=True):
            row[f"score_{scale.name}"] = None if pd.isna(value) else round(float(value), 4)


def _answer_column(questionnaire: str, item: str) -> str:
    return f"text_{item}" if questionnaire == "text" else f"q_{questionnaire}_{item}"


def _questionnaire_columns(study: Study) -> list[Column]:
    columns = [Column(_answer_column(q.questionnaire, q.item),
                      "string" if q.kind == "text" else "integer", q.text)
               for q in questionnaire_items(study)]
    for scale in study_scales(study):
        columns.append(Column(f"score_{scale.name}", "number",
                              f"{scale.title}: mean of the items, reverse-keyed items reversed."))
        rates = "an explanation" if scale.about == "explanation" else "the AI"
        columns.append(Column(
            f"asked_{scale.name}", "boolean",
            f"{scale.title}: true if the scale was put to this participant; false if not "
            f"(asked only of those who saw {rates}, and only once they reached the "
            f"questionnaire). When false its items are empty because they were not asked, "
            f"not because an answer is missing."))
    return columns


def _attention_results(participants: list[Participant]) -> dict[int, bool | None]:
    """True when every attention trial answered was passed; None when none answered yet."""
    result: dict[int, bool | None] = {}
    finals = (Response.objects.filter(trial__participant__in=participants,
                                      trial__kind=Trial.Kind.ATTENTION, step="final")
              .select_related("trial__item"))
    for response in finals:
        pid = response.trial.participant_id
        passed = response.answer == response.trial.item.expected_answer
        result[pid] = passed and result.get(pid, True) is not False
    return result


def _event_rows(study: Study, ids: dict[int, str]) -> Iterator[Row]:
    """The event log row by row, read in bounded chunks of plain values (no model objects):
    the one part of the export that grows with the study."""
    fields = ("participant_id", "trial_index", "kind", "page", "client_ms", "server_at",
              "detail")
    events = (Event.objects.filter(participant__study=study, participant__is_preview=False)
              .order_by("participant_id", "server_at", "id").values_list(*fields))
    for pid, trial_index, kind, page, client_ms, server_at, detail in events.iterator(
            chunk_size=2000):
        yield {"participant": ids[pid], "trial_index": trial_index, "kind": kind,
               "page": page, "client_ms": client_ms, "server_at": server_at,
               "detail": json.dumps(detail, sort_keys=True)}


def _schema(columns: Iterable[Column]) -> dict[str, Any]:
    fields = []
    for c in columns:
        field: dict[str, Any] = {"name": c.name, "type": c.type, "description": c.description}
        if c.type == "boolean":
            field.update(trueValues=["true"], falseValues=["false"])
        if c.required:
            field["constraints"] = {"required": True}
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def _datapackage(study: Study, extra_columns: list[Column],
                 versions: list[StudyVersion]) -> str:
    resources = [
        ("trials", "One row per trial that was shown (unanswered trials have empty answers).",
         TRIAL_COLUMNS),
        ("participants", "One row per participant, with questionnaire items and scale scores.",
         PARTICIPANT_COLUMNS + tuple(extra_columns)),
        ("events", "Client and server events, one row each.", EVENT_COLUMNS),
    ]
    if study.typed_spec.incentives is not None:
        resources.append(("bonuses", "Each participant's performance bonus by the spec's "
                          "incentives rule (completed participants only are paid).",
                          BONUS_COLUMNS))
    package = {
        "profile": "tabular-data-package", "name": study.slug, "title": study.title,
        "created": _cell(timezone.now()),
        "explainlab": {"spec_hash": study.spec_hash, "task": study.task,
                       "raw_ids": study.raw_ids_in_export,
                       "spreadsheet_safety": SPREADSHEET_SAFETY,
                       # participants.csv's spec_version is a number of this list.
                       "versions": [{"number": v.number, "spec_hash": v.spec_hash,
                                     "created_at": _cell(v.created_at),
                                     "path": _version_path(v)} for v in versions],
                       # Not a CSV table, so outside the tabular resources.
                       "free_text": {"path": "free_text.jsonl", "format": "jsonl",
                                     "encoding": "utf-8",
                                     "description": FREE_TEXT_DESCRIPTION}},
        "resources": [
            {"name": name, "path": f"{name}.csv", "profile": "tabular-data-resource",
             "format": "csv", "encoding": "utf-8", "description": description,
             "schema": _schema(columns)}
            for name, description, columns in resources
        ],
    }
    return json.dumps(package, indent=2)
