"""Each task design's scoring rule and metrics live in experiments.designs alone.

Oracle: the declarations in ``experiments.designs.DESIGNS``. The summary must compute exactly
the metrics each design declares (observed by replacing every calculator with a recorder), and
no module of ``analysis/`` or ``studyapp/`` may decide anything by comparing a task's name:
a task name is only ever looked up, in a table whose keys the designs declare.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis import summary
from experiments.designs import DESIGNS

REPOSITORY = Path(__file__).resolve().parents[2]
HUMAN_ALONE = "human"


def trials_of_every_design() -> pd.DataFrame:
    """One trial per design in a human-alone condition and one in an AI condition."""
    return pd.DataFrame([{"participant": f"{name}-{condition}", "task": name,
                          "condition": condition, "confidence": None}
                         for name in DESIGNS for condition in (HUMAN_ALONE, "ai")])


def computed_metrics(monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[str, list[str]]:
    """Per task, the calculators summarise_study runs on ``trials_of_every_design``."""
    called: dict[str, list[str]] = {}

    def recorder(name: str) -> Any:
        def record(trials: pd.DataFrame, **_: Any) -> pd.DataFrame:
            for task in trials["task"].unique():
                called.setdefault(str(task), []).append(name)
            return pd.DataFrame()
        return record

    monkeypatch.setattr(summary, "CALCULATORS", {
        name: (recorder(name), fixed) for name, (_, fixed) in summary.CALCULATORS.items()})
    summary.summarise_study(trials_of_every_design(), **options)
    return called


def test_every_metric_a_design_declares_has_a_calculator() -> None:
    for task in DESIGNS.values():
        assert set(task.metrics) | set(task.human_alone_metrics) <= set(summary.CALCULATORS), (
            task.name)


def test_the_summary_computes_exactly_the_metrics_each_design_declares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called = computed_metrics(monkeypatch)
    assert called == {name: [*task.metrics, *summary.EVERY_TASK_METRICS]
                      for name, task in DESIGNS.items()}


def test_with_human_alone_answers_the_summary_adds_the_designs_human_alone_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called = computed_metrics(monkeypatch, human_alone=HUMAN_ALONE)
    assert called == {name: [*task.metrics, *task.human_alone_metrics,
                             *summary.EVERY_TASK_METRICS]
                      for name, task in DESIGNS.items()}


# ----- no module outside experiments decides by a task's name ---------------------------------

def sources() -> Iterator[tuple[str, ast.Module]]:
    for package in ("analysis", "studyapp"):
        for path in sorted((REPOSITORY / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield (path.relative_to(REPOSITORY).as_posix(),
                       ast.parse(path.read_text("utf-8")))


def is_task(node: ast.expr) -> bool:
    """``task``, ``study.task``, ``row["task"]``, or a method call on one of them."""
    if isinstance(node, ast.Name):
        return node.id == "task"
    if isinstance(node, ast.Attribute):
        return node.attr == "task"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "task"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "get":  # row.get("task")
            return bool(node.args) and isinstance(node.args[0], ast.Constant) and (
                node.args[0].value == "task")
        return is_task(node.func.value)
    return False


def names(node: ast.expr, tables: dict[str, ast.expr]) -> list[str]:
    """The strings a literal (or a module-level name bound to one) holds."""
    if isinstance(node, ast.Name) and node.id in tables:
        return names(tables[node.id], tables)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args and (
            node.func.id in ("frozenset", "set", "tuple", "list")):
        return names(node.args[0], tables)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        return [value for element in node.elts for value in names(element, tables)]
    return []


def module_tables(module: ast.Module) -> dict[str, ast.expr]:
    tables: dict[str, ast.expr] = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else \
                [statement.target]
            tables.update({t.id: statement.value for t in targets if isinstance(t, ast.Name)})
    return tables


def name_comparisons(path: str, module: ast.Module) -> Iterator[str]:
    tables = module_tables(module)
    for node in ast.walk(module):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(is_task(o) for o in operands):
                compared = [n for o in operands if not is_task(o) for n in names(o, tables)]
                if compared:
                    yield f"{path}:{node.lineno} compares a task with {compared}"
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "isin" and is_task(node.func.value)):
            compared = [n for a in node.args for n in names(a, tables)]
            if compared:
                yield f"{path}:{node.lineno} compares a task with {compared}"


def task_lookups(module: ast.Module) -> Iterator[tuple[int, ast.expr]]:
    """Module-level tables looked up with a task: ``TABLE[task]``, ``TABLE.get(task)``."""
    tables = module_tables(module)
    for node in ast.walk(module):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and is_task(
                node.slice):
            table = tables.get(node.value.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
              and node.args and is_task(node.args[0])):
            table = tables.get(node.func.value.id)
        else:
            continue
        if isinstance(table, ast.Dict):
            yield node.lineno, table


def test_no_module_of_analysis_or_studyapp_compares_task_names() -> None:
    found = [line for path, module in sources() for line in name_comparisons(path, module)]
    assert found == []


def test_tables_looked_up_by_task_name_only_designs_the_designs_declare() -> None:
    undeclared = [f"{path}:{line} {key.value!r}"
                  for path, module in sources() for line, table in task_lookups(module)
                  for key in table.keys
                  if isinstance(key, ast.Constant) and key.value not in DESIGNS]
    assert undeclared == []
