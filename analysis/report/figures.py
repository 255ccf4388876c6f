"""Figures of the study report, in one journal style: estimates by condition with 95%
intervals, colours from the Okabe-Ito palette (distinguishable with every common colour-vision
deficiency, Okabe & Ito 2008) plus a marker shape per condition so they survive greyscale."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# Okabe-Ito, without yellow (too pale on white for points and whiskers).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
JOURNAL_STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
    "xtick.labelsize": 8.5, "ytick.labelsize": 8.5, "legend.fontsize": 8,
    "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False,
    "axes.linewidth": 0.8, "xtick.major.width": 0.8, "ytick.major.width": 0.8,
    "lines.linewidth": 1.2, "errorbar.capsize": 3, "axes.prop_cycle":
    cycler(color=list(OKABE_ITO)), "svg.fonttype": "none", "savefig.bbox": "tight",
    "figure.dpi": 100,
}


@contextmanager
def journal_style() -> Iterator[None]:
    """Every report figure is drawn inside this, so none depends on the caller's rcParams."""
    with mpl.rc_context(JOURNAL_STYLE):  # type: ignore[arg-type]
        yield

# The questions a paper asks, and the metrics that answer each.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "Does the explanation change accuracy?": (
        "accuracy", "simulation_accuracy", "simulation_accuracy_pre", "simulation_accuracy_post",
        "scored_accuracy_ai_correct", "scored_accuracy_ai_wrong",
    ),
    "Does it calibrate reliance on the AI?": (
        "agreement", "over_reliance", "under_reliance", "switch_fraction", "rair", "rsr",
    ),
    "Does the team beat the human and the AI alone?": (
        "team_accuracy", "human_alone_accuracy", "ai_accuracy",
    ),
    "Does it help find model bugs?": ("judged_ready_bugged", "sensitivity", "specificity"),
}


def plot_metrics(
    summary: pd.DataFrame, metrics: Sequence[str], *, title: str = "", ax: Axes | None = None
) -> Figure:
    """Dot-and-whisker plot of ``metrics`` (rows of a by-condition table) per condition.

    Conditions are side by side within each metric; whiskers are the 95% intervals, clipped
    to the plotted range when a tiny sample gives an interval beyond [0, 1].
    """
    rows = summary[summary["metric"].isin(metrics)]
    present = [m for m in metrics if m in set(rows["metric"])]
    conditions = sorted(rows["condition"].astype(str).unique())
    if ax is None:
        figure, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(present) + 1.5), 3.4))
    else:
        figure = ax.get_figure()  # type: ignore[assignment]
    width = 0.7 / max(len(conditions), 1)
    for j, condition in enumerate(conditions):
        part = rows[rows["condition"].astype(str) == condition].set_index("metric")
        x = np.arange(len(present)) + (j - (len(conditions) - 1) / 2) * width
        estimate = part.reindex(present)["estimate"].to_numpy(float)
        low = part.reindex(present)["ci_low"].to_numpy(float)
        high = part.reindex(present)["ci_high"].to_numpy(float)
        error = np.vstack([np.nan_to_num(estimate - low), np.nan_to_num(high - estimate)])
        ax.errorbar(x, estimate, yerr=np.clip(error, 0, None), fmt="o", capsize=3,
                    label=condition)
    ax.set_xticks(np.arange(len(present)))
    ax.set_xticklabels([m.replace("_", " ") for m in present], rotation=20, ha="right")
    if all(_is_proportion(m) for m in present):
        ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("estimate (95% CI)")
    ax.set_title(title)
    ax.legend(title="condition", fontsize="small")
    figure.tight_layout()
    return figure


def question_figures(summary: pd.DataFrame) -> dict[str, Figure]:
    """One figure per question in :data:`QUESTIONS` that the summary has metrics for."""
    figures = {}
    with journal_style():
        for question, metrics in QUESTIONS.items():
            if summary["metric"].isin(metrics).any():
                figures[question] = plot_metrics(summary, metrics, title=question)
    return figures


def figure_to_data_uri(figure: Figure) -> str:
    """The figure as an inline ``data:image/png;base64,...`` URI (closes the figure)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _is_proportion(metric: str) -> bool:
    return not metric.endswith("_s") and metric not in {"simulation_error", "decision_error"}
