"""Figures of a fuzz run: operations fuzzed, requests sent per caller, statuses, failures.

The API fuzz test records into ``FIGURES``; loaded as a pytest plugin (``make fuzz`` passes
``-p tests.studyapp.fuzz_figures``) this module prints them at the end of the run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FuzzFigures:
    operations: set[str] = field(default_factory=set)
    requests: Counter[str] = field(default_factory=Counter)  # per caller
    statuses: Counter[int] = field(default_factory=Counter)
    examples: Counter[str] = field(default_factory=Counter)  # generated cases per operation
    by_role: defaultdict[str, Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter))

    def operation(self, label: str) -> None:
        self.operations.add(label)
        self.examples[label] += 1

    def request(self, role: str, status: int) -> None:
        self.requests[role] += 1
        self.statuses[status] += 1
        self.by_role[role][status] += 1

    def lines(self) -> list[str]:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        return [
            f"operations fuzzed: {len(self.operations)}",
            f"generated cases: {sum(self.examples.values())} "
            f"(per operation: min {min(self.examples.values(), default=0)}, "
            f"max {max(self.examples.values(), default=0)})",
            f"requests sent: {sum(self.requests.values())} ("
            + ", ".join(f"{role} {n}" for role, n in sorted(self.requests.items())) + ")",
            "statuses: " + ", ".join(f"{k} {n}" for k, n in sorted(by_class.items()))
            + " (" + ", ".join(f"{k}: {n}" for k, n in sorted(self.statuses.items())) + ")",
            *(f"  {role}: " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items()))
              for role, counts in sorted(self.by_role.items())),
        ]


FIGURES = FuzzFigures()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not FIGURES.operations:
        return
    stats = terminalreporter.stats
    terminalreporter.section("fuzz figures")
    for line in FIGURES.lines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        f"tests: {len(stats.get('passed', []))} passed, {len(stats.get('failed', []))} failed")
