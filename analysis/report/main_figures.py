"""The figures of a results section: accuracy and reliance on the AI by condition and by
whether the AI was right, and questionnaire (trust) scores by condition. Each is saved as SVG
and PNG beside the report and comes with a table and a text alternative of the same numbers.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.questionnaires import QUESTIONNAIRES
from analysis.report.design import StudyDesign
from analysis.report.figures import MARKERS, OKABE_ITO, journal_style
from analysis.report.tables import MIN_PARTICIPANTS, interval_text
from analysis.summary import QUESTIONNAIRE

MEASURE_WORDS = {
    "accuracy": ("Accuracy by condition and AI correctness", "proportion of correct answers"),
    "reliance": ("Reliance on the AI by condition and AI correctness",
                 "proportion of answers following the AI"),
}


@dataclass
class ReportFigure:
    """One figure: ``svg`` to inline, ``table`` of its numbers, ``alt`` the same in words."""

    key: str
    title: str
    caption: str
    svg: str
    png: bytes
    table: pd.DataFrame
    alt: str
    files: list[Path] = field(default_factory=list)


def main_figures(by_ai: pd.DataFrame, summary: pd.DataFrame, participants: pd.DataFrame,
                 design: StudyDesign, *, out_dir: Path | None = None,
                 min_participants: int = MIN_PARTICIPANTS, interval: str = "t"
                 ) -> list[ReportFigure]:
    """Every main figure the data allow, written to ``out_dir`` as ``figure-<key>.svg/.png``;
    ``interval`` names how the intervals were computed ("t" or "bootstrap")."""
    figures = []
    tasks = sorted(by_ai["task"].unique()) if not by_ai.empty else []
    for task in tasks:
        for measure in ("accuracy", "reliance"):
            part = by_ai[(by_ai["task"] == task) & (by_ai["measure"] == measure)]
            if part.empty:
                continue
            key = measure if len(tasks) == 1 else f"{measure}-{task}"
            figures.append(_by_ai_figure(key, measure, part, design, min_participants,
                                         interval))
    scores = summary[summary["task"] == QUESTIONNAIRE]
    for metric in sorted(scores["metric"].unique()):
        figures.append(_scale_figure(metric, scores[scores["metric"] == metric], participants,
                                     design, min_participants, interval))
    if out_dir is not None:
        for figure in figures:
            figure.files = _save(figure, out_dir)
    return figures


def _conditions(design: StudyDesign, present: pd.Series) -> list[str]:
    names = set(present.astype(str))
    return [c for c in design.conditions if c in names] + sorted(names - set(design.conditions))


def _style(design: StudyDesign, condition: str) -> tuple[str, str]:
    index = list(design.conditions).index(condition) if condition in design.conditions else 0
    return OKABE_ITO[index % len(OKABE_ITO)], MARKERS[index % len(MARKERS)]


def _by_ai_figure(key: str, measure: str, part: pd.DataFrame, design: StudyDesign,
                  min_participants: int, interval: str) -> ReportFigure:
    title, ylabel = MEASURE_WORDS[measure]
    conditions = _conditions(design, part["condition"])
    # For a condition without AI these are the items the AI (not shown) would have got right.
    groups = [(True, "AI right"), (False, "AI wrong")]
    with journal_style():
        figure, ax = plt.subplots(figsize=(4.6, 3.0))
        width = 0.7 / max(len(conditions), 1)
        for j, condition in enumerate(conditions):
            rows = part[part["condition"] == condition].set_index("ai_correct")
            rows = rows.reindex([g for g, _ in groups])
            x = np.arange(len(groups)) + (j - (len(conditions) - 1) / 2) * width
            _points(ax, x, rows, design, condition, min_participants)
        ax.set_xticks(np.arange(len(groups)), [label for _, label in groups])
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(f"{ylabel} (95% CI)")
        if measure == "reliance":
            ax.text(1, 1.0, "over-reliance", ha="center", va="bottom", fontsize=7.5,
                    color="#555")
            ax.text(0, 1.0, "appropriate reliance", ha="center", va="bottom", fontsize=7.5,
                    color="#555")
        _legend(ax, figure)
        svg, png = _render(figure, key)
    table = _by_ai_table(part, conditions, groups, design, min_participants)
    alt = f"{title}. " + "; ".join(
        f"{r['Condition']}, {r['Items']}: {r['Mean [95% CI]']} (n = {r['n']})"
        for r in table.to_dict("records")) + "."
    caption = (f"{title}: items on which the AI's prediction was right or wrong (shown or not, "
               "depending on the condition); each participant's proportion, averaged per "
               "condition; whiskers are "
               f"95% {interval} intervals across participants. Hollow markers: "
               f"fewer than {min_participants} participants, no interval.")
    return ReportFigure(key=key, title=title, caption=caption, svg=svg, png=png,
                        table=table, alt=alt)


def _points(ax: Axes, x: np.ndarray, rows: pd.DataFrame, design: StudyDesign, condition: str,
            min_participants: int) -> None:
    colour, marker = _style(design, condition)
    estimate = rows["estimate"].to_numpy(float)
    n = rows["n"].fillna(0).to_numpy(int)
    low, high = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
    enough = (n >= min_participants) & ~np.isnan(low)
    error = np.vstack([estimate - low, high - estimate])
    if enough.any():
        ax.errorbar(x[enough], estimate[enough], yerr=error[:, enough], fmt=marker,
                    color=colour, markersize=5.5, elinewidth=1.2, capsize=3,
                    label=f"{design.label(condition)} (n = {int(n.max())})")
    if (~enough).any():
        ax.plot(x[~enough], estimate[~enough], marker, markersize=5.5, markerfacecolor="white",
                markeredgecolor=colour, linestyle="none",
                label=None if enough.any() else
                f"{design.label(condition)} (n = {int(n.max())}, no interval)")


def _legend(ax: Axes, figure: Figure) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=min(2, len(labels)), handletextpad=0.3, columnspacing=1.2)


def _by_ai_table(part: pd.DataFrame, conditions: list[str], groups: list[tuple[bool, str]],
                 design: StudyDesign, min_participants: int) -> pd.DataFrame:
    rows = []
    for condition in conditions:
        for flag, label in groups:
            match = part[(part["condition"] == condition) & (part["ai_correct"] == flag)]
            if match.empty:
                continue
            row = match.iloc[0]
            rows.append({"Condition": design.label(condition), "Items": label,
                         "n": int(row["n"]),
                         "Mean [95% CI]": interval_text(row, percent=True,
                                                        min_n=min_participants)})
    return pd.DataFrame(rows)


def _scale_figure(metric: str, scores: pd.DataFrame, participants: pd.DataFrame,
                  design: StudyDesign, min_participants: int, interval: str) -> ReportFigure:
    scale = metric.removeprefix("score_")
    known = QUESTIONNAIRES.get(scale)
    title = f"{known.title if known else scale} by condition"
    conditions = _conditions(design, scores["condition"])
    values = pd.to_numeric(participants.get(metric), errors="coerce")
    with journal_style():
        figure, ax = plt.subplots(figsize=(max(3.2, 1.0 * len(conditions) + 1.6), 3.0))
        rng = np.random.default_rng(0)  # jitter only: fixed so the figure is reproducible
        for j, condition in enumerate(conditions):
            colour, _ = _style(design, condition)
            own = values[participants["condition"].astype(str) == condition].dropna()
            ax.scatter(j - 0.18 + rng.uniform(-0.06, 0.06, len(own)), own, s=9, color=colour,
                       alpha=0.45, linewidths=0)
            row = scores[scores["condition"] == condition].iloc[0]
            rows = pd.DataFrame([row])
            _points(ax, np.array([j + 0.08]), rows, design, condition, min_participants)
        ax.set_xticks(np.arange(len(conditions)),
                      [_short(design.label(c)) for c in conditions])
        ax.set_xlim(-0.6, len(conditions) - 0.4)
        if known is not None:  # the whole response scale, so differences are not magnified
            ax.set_ylim(known.scale_min - 0.2, known.scale_max + 0.2)
            ax.set_yticks(range(known.scale_min, known.scale_max + 1))
        ax.set_ylabel(f"{'score' if known else scale + ' score'} (mean, 95% CI)")
        svg, png = _render(figure, metric)
    table = pd.DataFrame([
        {"Condition": design.label(c), "n": int(scores.loc[scores["condition"] == c, "n"].iloc[0]),
         "Mean [95% CI]": interval_text(scores[scores["condition"] == c].iloc[0],
                                        min_n=min_participants)}
        for c in conditions])
    alt = f"{title}. " + "; ".join(f"{r['Condition']}: {r['Mean [95% CI]']} (n = {r['n']})"
                                   for r in table.to_dict("records")) + "."
    caption = (f"{title}: dots are participants, markers and whiskers the condition mean "
               f"with its 95% {interval} interval across participants.")
    return ReportFigure(key=metric.replace("_", "-"), title=title, caption=caption, svg=svg,
                        png=png, table=table, alt=alt)


def _short(label: str, width: int = 16) -> str:
    """A condition label broken over lines so tick labels do not collide."""
    words, lines = label.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return "\n".join(lines)


def _render(figure: Figure, key: str) -> tuple[str, bytes]:
    """The figure as SVG text (from ``<svg``, for inlining) and as a 300 dpi PNG; closes it."""
    buffer, png = io.StringIO(), io.BytesIO()
    with plt.rc_context({"svg.hashsalt": key}):  # stable ids: the same data, the same file
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    figure.savefig(png, format="png", dpi=300)
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):], png.getvalue()


def _save(figure: ReportFigure, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    svg_path, png_path = out_dir / f"figure-{figure.key}.svg", out_dir / f"figure-{figure.key}.png"
    svg_path.write_text('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + figure.svg,
                        "utf-8")
    png_path.write_bytes(figure.png)
    return [svg_path, png_path]


def inline_svg(figure: ReportFigure) -> str:
    """The SVG element labelled for screen readers with the figure's text alternative, drawn
    a third larger than its natural size (9 pt text reads small on a screen) but never wider
    than the page."""
    width = re.search(r'width="([\d.]+)pt"', figure.svg)
    style = (f' style="width: min(100%, {float(width.group(1)) * 4 / 3 * 1.35:.0f}px)"'
             if width else "")
    return figure.svg.replace(
        "<svg", f'<svg role="img" aria-label="{_attr(figure.alt)}"{style}', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
