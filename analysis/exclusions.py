"""Pre-registrable exclusions: who is left out of the analysis, and why (CONSORT-style).

Rules are applied in a fixed order and each participant is counted under the first rule that
excludes them, so the counts add up like a CONSORT flow diagram:

1. ``bot`` — scripted bot participants (``is_bot``);
2. ``preview`` — researcher preview sessions (``source == "preview"`` or an ``is_preview``
   column, when the export has one);
3. ``incomplete`` — ``status`` other than ``completed``;
4. ``attention`` — failed an attention check (``attention_passed`` false, or an attention trial
   scored incorrect);
5. ``speeder`` — completed in less than ``speeder_fraction`` * the median duration of the
   completed participants, or (an absolute floor, set in the spec's ``exclusions``) spent a
   median of less than ``min_seconds_per_trial`` on their trials. The relative rule alone
   misses a study where many rush: 13 trials in 8 seconds is no reading, whatever the median.
   A trial's time is the server's, from the page being sent (``shown_at``) to the final
   answer being stored (``answered_at``); the page's own ``rt_ms`` where those are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REASONS = ("bot", "preview", "incomplete", "attention", "speeder")


@dataclass
class ExclusionResult:
    """Kept data plus the record of exclusions.

    ``excluded``: one row per excluded participant (``participant, condition, reason,
    all_reasons``). ``flow``: per step, ``step, reason, excluded, remaining`` and one
    ``remaining_<condition>`` column per condition.
    """

    trials: pd.DataFrame
    participants: pd.DataFrame
    excluded: pd.DataFrame
    flow: pd.DataFrame


def apply_exclusions(
    trials: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    speeder_fraction: float | None = 0.3,
    min_seconds_per_trial: float | None = None,
    include_bots: bool = False,
    include_previews: bool = False,
    include_incomplete: bool = False,
    exclude_failed_attention: bool = True,
) -> ExclusionResult:
    """Apply the exclusion rules (module docstring) and return the kept trials and
    participants with the exclusion record. ``speeder_fraction=None`` and
    ``min_seconds_per_trial=None`` turn the two halves of the speeder rule off; each
    ``include_*`` flag keeps that group in."""
    flags = exclusion_flags(trials, participants, speeder_fraction=speeder_fraction,
                            min_seconds_per_trial=min_seconds_per_trial)
    active = [
        reason
        for reason, on in (
            ("bot", not include_bots),
            ("preview", not include_previews),
            ("incomplete", not include_incomplete),
            ("attention", exclude_failed_attention),
            ("speeder", speeder_fraction is not None or min_seconds_per_trial is not None),
        )
        if on
    ]
    ids = participants["participant"].astype(str)
    first_reason = pd.Series(pd.NA, index=participants.index, dtype="string")
    for reason in reversed(active):
        first_reason = first_reason.mask(flags[reason].to_numpy(), reason)
    all_reasons = flags[active].apply(lambda row: ";".join(r for r in active if row[r]), axis=1)
    dropped = first_reason.notna().to_numpy()
    excluded = pd.DataFrame(
        {
            "participant": ids[dropped].to_numpy(),
            "condition": participants["condition"].astype(str)[dropped].to_numpy(),
            "reason": first_reason[dropped].to_numpy(),
            "all_reasons": all_reasons[dropped].to_numpy() if len(all_reasons) else [],
        }
    )
    kept_ids = set(ids[~dropped])
    return ExclusionResult(
        trials=trials[trials["participant"].astype(str).isin(kept_ids)].copy(),
        participants=participants[~dropped].copy(),
        excluded=excluded,
        flow=_flow(participants, first_reason, active),
    )


def exclusion_flags(
    trials: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    speeder_fraction: float | None = 0.3,
    min_seconds_per_trial: float | None = None,
) -> pd.DataFrame:
    """One boolean column per rule in :data:`REASONS`, rows as ``participants``."""
    ids = participants["participant"].astype(str)
    flags = pd.DataFrame(index=participants.index)
    flags["bot"] = _true(participants.get("is_bot")) | ids.isin(_bot_ids_in(trials))
    preview = participants.get("source")
    flags["preview"] = (
        preview.astype("string").str.lower().eq("preview").fillna(False).astype(bool)
        if preview is not None
        else False
    ) | _true(participants.get("is_preview"))
    flags["incomplete"] = participants["status"].astype("string").ne("completed").fillna(True)
    flags["incomplete"] = flags["incomplete"].astype(bool)
    failed = (
        ~participants["attention_passed"].astype("boolean").fillna(True).astype(bool)
        if "attention_passed" in participants.columns
        else pd.Series(False, index=participants.index)
    )
    flags["attention"] = failed | ids.isin(_failed_attention_ids(trials))
    reference = ~flags["incomplete"] & ~flags["bot"].astype(bool)
    flags["speeder"] = _speeders(participants, reference, speeder_fraction) | _too_fast(
        trials, ids, min_seconds_per_trial)
    return flags.astype(bool)


def _true(column: pd.Series | None) -> pd.Series | bool:
    """A boolean column with missing read as False (absent column: False everywhere)."""
    if column is None:
        return False
    return column.astype("boolean").fillna(False).astype(bool)


def _bot_ids_in(trials: pd.DataFrame) -> set[str]:
    if "is_bot" not in trials.columns:
        return set()
    bots = trials["is_bot"].astype("boolean").fillna(False).astype(bool)
    return set(trials.loc[bots, "participant"].astype(str))


def _failed_attention_ids(trials: pd.DataFrame) -> set[str]:
    """Participants with an attention trial scored incorrect (``correct`` false)."""
    if "correct" not in trials.columns:
        return set()
    attention = trials["trial_kind"].astype("string").eq("attention").fillna(False).astype(bool)
    wrong = trials["correct"].astype("boolean").eq(False).fillna(False).astype(bool)
    return set(trials.loc[attention & wrong, "participant"].astype(str))


def _speeders(
    participants: pd.DataFrame, reference: pd.Series, fraction: float | None
) -> pd.Series:
    """Participants faster than ``fraction`` * the median duration of the ``reference`` ones
    (completed humans: bots and drop-outs would drag the median down)."""
    if fraction is None or "duration_s" not in participants.columns:
        return pd.Series(False, index=participants.index)
    duration = pd.to_numeric(participants["duration_s"], errors="coerce").astype(float)
    completed = duration[reference.to_numpy()]
    if completed.notna().sum() == 0:
        return pd.Series(False, index=participants.index)
    threshold = fraction * float(np.nanmedian(completed))
    return (duration < threshold).fillna(False).astype(bool)


def _too_fast(trials: pd.DataFrame, ids: pd.Series, min_seconds: float | None) -> pd.Series:
    """Participants whose median time per answered trial is under ``min_seconds``."""
    if min_seconds is None:
        return pd.Series(False, index=ids.index)
    if min_seconds < 0:
        raise ValueError(f"min_seconds_per_trial must be 0 or more, not {min_seconds}")
    seconds = trial_seconds(trials)
    per_participant = seconds.groupby(trials["participant"].astype(str)).median()
    median = ids.map(per_participant)
    return (median < min_seconds).fillna(False).astype(bool)


def trial_seconds(trials: pd.DataFrame) -> pd.Series:
    """Seconds each answered trial took: server time from page sent to final answer stored,
    else the page's ``rt_ms``; NaN for unanswered trials."""
    seconds = pd.Series(np.nan, index=trials.index)
    if {"shown_at", "answered_at"} <= set(trials.columns):
        shown = pd.to_datetime(trials["shown_at"], utc=True, errors="coerce", format="ISO8601")
        answered = pd.to_datetime(trials["answered_at"], utc=True, errors="coerce",
                                  format="ISO8601")
        seconds = (answered - shown).dt.total_seconds()
    if "rt_ms" in trials.columns:
        client = pd.to_numeric(trials["rt_ms"], errors="coerce") / 1000.0
        seconds = seconds.fillna(client)
    return seconds.astype(float)


def _flow(participants: pd.DataFrame, first_reason: pd.Series, active: list[str]) -> pd.DataFrame:
    """CONSORT-style counts: how many each step removed and how many remain, per condition."""
    conditions = sorted(participants["condition"].astype(str).unique())
    condition = participants["condition"].astype(str)
    remaining = pd.Series(True, index=participants.index)
    rows = [_flow_row(0, "enrolled", 0, remaining, condition, conditions)]
    for step, reason in enumerate(active, start=1):
        removed = (first_reason == reason).fillna(False).astype(bool)
        remaining = remaining & ~removed
        rows.append(_flow_row(step, reason, int(removed.sum()), remaining, condition, conditions))
    return pd.DataFrame(rows)


def _flow_row(
    step: int,
    reason: str,
    removed: int,
    remaining: pd.Series,
    condition: pd.Series,
    conditions: list[str],
) -> dict[str, object]:
    row: dict[str, object] = {
        "step": step, "reason": reason, "excluded": removed, "remaining": int(remaining.sum())
    }
    for name in conditions:
        row[f"remaining_{name}"] = int((remaining & (condition == name)).sum())
    return row
