"""Checking an export against what the bots were told was saved."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable

from studyapp.bots.runner import BotResult

AnswerKey = tuple[str, int, str]  # (participant pseudonym, trial index, final answer)
Pseudonym = Callable[[str], str]


def confirmed_answers(results: list[BotResult], pseudonym: Pseudonym) -> Counter[AnswerKey]:
    """The final answers the server confirmed to these bots."""
    return Counter((pseudonym(result.external_id), trial_index, answer)
                   for result in results for trial_index, step, answer in result.answers
                   if step == "final")


def exported_answers(results: list[BotResult], trials_csv: str,
                     pseudonym: Pseudonym) -> Counter[AnswerKey]:
    """The same keys counted in the export, for these bots' participants only: rows of
    participants outside this run (earlier bot runs, people) are not this run's business."""
    ours = {pseudonym(result.external_id) for result in results}
    return Counter((row["participant"], int(row["trial_index"]), row["final_response"])
                   for row in csv.DictReader(io.StringIO(trials_csv))
                   if row["participant"] in ours and row["final_response"])


def reconcile(results: list[BotResult], trials_csv: str, pseudonym: Pseudonym) -> list[str]:
    """Problems found (empty = every confirmed answer is in the export exactly once, and the
    export holds no answer from these bots that they were not told was saved)."""
    sent = confirmed_answers(results, pseudonym)
    exported = exported_answers(results, trials_csv, pseudonym)
    problems = [f"sent once, exported {exported[k]} times: {k}" for k in sent
                if exported[k] != 1]
    problems += [f"exported but never confirmed to a bot: {k}" for k in exported
                 if k not in sent]
    problems += [f"confirmed twice to a bot: {k}" for k, n in sent.items() if n > 1]
    return problems
