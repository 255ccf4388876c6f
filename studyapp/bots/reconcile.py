"""Checking an export against what the bots were told was saved."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable

from studyapp.bots.runner import BotResult


def reconcile(results: list[BotResult], trials_csv: str,
              pseudonym: Callable[[str], str]) -> list[str]:
    """Problems found (empty = every confirmed answer is in the export exactly once, and the
    export holds no answer from these bots that they were not told was saved). Rows of
    participants outside this run (earlier bot runs, people) are not this run's business."""
    sent: Counter[tuple[str, int, str]] = Counter()
    ours = {pseudonym(result.external_id) for result in results}
    for result in results:
        pid = pseudonym(result.external_id)
        for trial_index, step, answer in result.answers:
            if step == "final":
                sent[(pid, trial_index, answer)] += 1
    exported: Counter[tuple[str, int, str]] = Counter()
    for row in csv.DictReader(io.StringIO(trials_csv)):
        if row["participant"] in ours and row["final_response"]:
            exported[(row["participant"], int(row["trial_index"]), row["final_response"])] += 1
    problems = [f"sent once, exported {exported[k]} times: {k}" for k in sent
                if exported[k] != 1]
    problems += [f"exported but never confirmed to a bot: {k}" for k in exported
                 if k not in sent]
    problems += [f"confirmed twice to a bot: {k}" for k, n in sent.items() if n > 1]
    return problems
