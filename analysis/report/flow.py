"""The CONSORT flow of participants (Schulz et al. 2010, Figure 1): enrolled, assigned to
each condition, who did not finish and why, who was excluded from the analysis and why, and
who was analysed; counted from the export's participants table and drawn as inline SVG.

Every participant is counted once per condition, under the first exclusion rule that applies
(:mod:`analysis.exclusions`); those excluded as ``incomplete`` are broken down by the status
the platform recorded. So for each condition: assigned = not finished + excluded + analysed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from analysis.exclusions import ExclusionResult

# How a status other than "completed" reads in the diagram.
STATUS_WORDS = {
    "screened_out": "screened out", "timed_out": "timed out",
    "started": "still in progress", "active": "still in progress",
}
REASON_WORDS = {
    "bot": "scripted bot", "preview": "researcher preview", "attention": "failed attention check",
    "speeder": "too fast (speeder)",
}


@dataclass(frozen=True)
class ConditionFlow:
    """One column of the diagram: counts for one condition, reasons in display order."""

    condition: str
    assigned: int
    not_finished: dict[str, int]
    excluded: dict[str, int]
    analysed: int


def consort_flow(participants: pd.DataFrame, exclusions: ExclusionResult,
                 conditions: list[str]) -> list[ConditionFlow]:
    """Counts per condition in ``conditions`` order (see module docstring)."""
    reason = exclusions.excluded.set_index(exclusions.excluded["participant"].astype(str))["reason"]
    ids = participants["participant"].astype(str)
    table = pd.DataFrame({
        "condition": participants["condition"].astype(str).to_numpy(),
        "status": participants["status"].astype("string").fillna("unknown").to_numpy(),
        "reason": ids.map(reason).astype("string").to_numpy(),
    })
    flows = []
    for condition in conditions:
        part = table[table["condition"] == condition]
        incomplete = part[part["reason"] == "incomplete"]
        not_finished = _counts(incomplete["status"].map(lambda s: STATUS_WORDS.get(s, s)))
        other = part[part["reason"].notna() & (part["reason"] != "incomplete")]
        excluded = _counts(other["reason"].map(lambda r: REASON_WORDS.get(r, r)))
        flows.append(ConditionFlow(condition=condition, assigned=len(part),
                                   not_finished=not_finished, excluded=excluded,
                                   analysed=int(part["reason"].isna().sum())))
    return flows


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


# Layout of the SVG, in user units (the drawing scales to the page width).
_BOX_W, _GAP, _LINE, _PAD = 190, 16, 15, 8


def consort_svg(flows: list[ConditionFlow], labels: dict[str, str]) -> str:
    """The flow diagram as an ``<svg class="consort">`` element with a ``<title>`` and a
    ``<desc>`` that state every count, for screen readers."""
    columns = max(len(flows), 1)
    width = columns * _BOX_W + (columns - 1) * _GAP
    enrolled = sum(f.assigned for f in flows)
    rows = [_box_lines(f, labels.get(f.condition, f.condition)) for f in flows]
    heights = [max((len(r[k]) for r in rows), default=1) * _LINE + 2 * _PAD for k in range(4)]
    top_h = _LINE + 2 * _PAD
    parts: list[str] = []
    x_mid = width / 2
    parts.append(_rect(x_mid - _BOX_W / 2, 0, _BOX_W, top_h, [f"Enrolled (n = {enrolled})"],
                       "stage"))
    y = top_h + 24
    for column in range(len(flows)):
        x = column * (_BOX_W + _GAP)
        parts.append(_arrow(x_mid, top_h, x + _BOX_W / 2, y))
    for k, height in enumerate(heights):
        for column, lines in enumerate(rows):
            x = column * (_BOX_W + _GAP)
            parts.append(_rect(x, y, _BOX_W, height, lines[k], ("stage", "loss", "loss",
                                                                "stage")[k]))
            if k < 3:
                parts.append(_arrow(x + _BOX_W / 2, y + height, x + _BOX_W / 2, y + height + 18))
        y += height + 18
    total_h = y - 18 + 2
    description = _describe(flows, labels, enrolled)
    # Narrower than about 11rem a column the text is too small to read (scroll instead);
    # wider than 15rem it is larger than the page's own.
    return (f'<svg class="consort" viewBox="-2 -2 {width + 4} {total_h + 4}" role="img" '
            f'style="min-width: {11 * columns}rem; max-width: {15 * columns}rem" '
            f'aria-labelledby="consort-title consort-desc" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="consort-title">Participant flow (CONSORT)</title>'
            f'<desc id="consort-desc">{html.escape(description)}</desc>'
            '<defs><marker id="consort-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>'
            + "".join(parts) + "</svg>")


def _box_lines(flow: ConditionFlow, label: str) -> list[list[str]]:
    lost = sum(flow.not_finished.values())
    excluded = sum(flow.excluded.values())
    return [
        [*_wrap(label), f"assigned (n = {flow.assigned})"],
        [f"Did not finish (n = {lost})", *(f"  {k}: {v}" for k, v in flow.not_finished.items())],
        [f"Excluded (n = {excluded})", *(f"  {k}: {v}" for k, v in flow.excluded.items())],
        [f"Analysed (n = {flow.analysed})"],
    ]


def _wrap(text: str, width: int = 27) -> list[str]:
    """Split a condition label into lines that fit a box (the SVG does not wrap text)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]


def _rect(x: float, y: float, w: float, h: float, lines: list[str], kind: str) -> str:
    bold = ' font-weight="600"'
    text = "".join(
        f'<text x="{x + _PAD}" y="{y + _PAD + (i + 1) * _LINE - 3}"'
        f'{bold if i == 0 else ""}>{html.escape(line)}</text>'
        for i, line in enumerate(lines))
    return (f'<g class="{kind}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3"/>'
            f"{text}</g>")


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#444" '
            'marker-end="url(#consort-arrow)"/>')


def _describe(flows: list[ConditionFlow], labels: dict[str, str], enrolled: int) -> str:
    sentences = [f"{enrolled} participants enrolled."]
    for flow in flows:
        lost = ", ".join(f"{v} {k}" for k, v in flow.not_finished.items()) or "none"
        excluded = ", ".join(f"{v} {k}" for k, v in flow.excluded.items()) or "none"
        sentences.append(
            f"{labels.get(flow.condition, flow.condition)}: {flow.assigned} assigned; "
            f"did not finish: {lost}; excluded: {excluded}; {flow.analysed} analysed.")
    return " ".join(sentences)
