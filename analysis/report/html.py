"""A self-contained HTML report laid out as a results section: warnings first, the CONSORT
flow, plain-language comparisons, figures with their numbers, tables and models. Inline SVG,
no scripts, no CDN; the figures are also written beside the report as SVG and PNG."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.report.flow import consort_flow, consort_svg
from analysis.report.main_figures import ReportFigure, inline_svg, main_figures
from analysis.report.pipeline import (
    ReportOptions,
    StudyAnalysis,
    analyse_export,
    error_formulas,
    error_outcomes,
    model_formulas,
)
from analysis.report.prose import comparison_paragraph
from analysis.report.tables import fit_problems, fixed_effects_table, interval_text, p_text
from analysis.summary import AI_METRICS, EXPLANATION_METRICS, QUESTIONNAIRE, trial_outcomes

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll td, .scroll th { white-space: nowrap; }  /* scroll sideways rather than stack digits */
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right;
         vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #444; }
dl.options { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem;
             font-size: 0.9rem; }
dl.options dt { font-family: ui-monospace, monospace; }
dl.options dd { margin: 0; }
.warnings { border: 3px solid #b00020; background: #fff4f4; padding: 0.6rem 1rem;
            margin: 1rem 0; }
.warnings h2 { margin-top: 0; border: 0; color: #b00020; }
.model-warning { border-left: 4px solid #b00020; background: #fff4f4; padding: 0.4rem 0.8rem; }
.consort-box { overflow-x: auto; }
svg.consort { width: 100%; height: auto; font-size: 12px;
              font-family: system-ui, sans-serif; }
svg.consort rect { fill: #fff; stroke: #444; }
svg.consort .loss rect { fill: #f6f6f6; }
figure.result { margin: 1.5rem 0; }
figure.result svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: #444; }
.na { color: #777; font-style: italic; }
code { overflow-wrap: anywhere; }
"""


def build_html_report(
    export_dir: str | Path, out_path: str | Path, *, options: ReportOptions | None = None
) -> Path:
    """Analyse ``export_dir`` and write the report to ``out_path`` (opens offline), with each
    figure beside it as ``figure-<name>.svg`` and ``.png``."""
    options = options or ReportOptions()
    analysis = analyse_export(export_dir, options)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(analysis, options, figure_dir=out_path.parent), "utf-8")
    return out_path


def render_html(analysis: StudyAnalysis, options: ReportOptions | None = None, *,
                figure_dir: Path | None = None) -> str:
    """The report page for an analysis already run (``options``: those it was run with)."""
    options = options or ReportOptions()
    design = analysis.design
    figures = main_figures(analysis.by_ai_correctness, analysis.summary, analysis.participants,
                           design, out_dir=figure_dir, min_participants=options.min_participants,
                           interval=options.interval)
    model_parts, model_warnings = _models(analysis, options)
    parts = [
        f"<h1>Results: {html.escape(design.title)}</h1>",
        *_warnings(analysis, options, model_warnings),
        "<h2>Participants</h2>",
        '<div class="consort-box">' + consort_svg(
            consort_flow(analysis.export.participants, analysis.exclusions,
                         _conditions(analysis)),
            {c: design.label(c) for c in design.conditions}) + "</div>",
        _excluded_list(analysis),
        "<h2>Comparisons</h2>",
        *_comparisons(analysis, options),
        "<h2>Figures</h2>",
        *(_figure(f) for f in figures),
        "<h2>Metrics by condition</h2>",
        f"<p>Mean over participants of each participant's value, with 95% {options.interval} "
        f"intervals across participants. Below {options.min_participants} participants no "
        "interval is given. Reliance metrics appear only for conditions that showed the AI's "
        "advice.</p>",
        _metrics_table(analysis, options),
        "<h2>Differences from the control condition</h2>",
        _contrasts_table(analysis, options),
        "<h2>Questionnaire reliability</h2>",
        _table(analysis.reliability),
        "<h2>Mixed-effects models</h2>",
        *model_parts,
        "<h2>Analysis settings</h2>",
        _settings(options),
    ]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Results: {html.escape(design.title)}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def _conditions(analysis: StudyAnalysis) -> list[str]:
    present = set(analysis.export.participants["condition"].astype(str))
    return [c for c in analysis.design.conditions if c in present]


def _warnings(analysis: StudyAnalysis, options: ReportOptions,
              model_warnings: list[str]) -> list[str]:
    """The box at the top: everything that limits what may be concluded."""
    items = []
    counts = analysis.participants.groupby("condition")["participant"].nunique()
    counts = counts.reindex(_conditions(analysis), fill_value=0)
    small = counts[counts < options.min_participants]
    if not small.empty:
        listed = ", ".join(f"{analysis.design.label(c)}: n = {n}" for c, n in small.items())
        items.append(f"Too few participants for inference ({listed}; fewer than "
                     f"{options.min_participants} per condition). Those conditions get no "
                     "intervals, no tests and no models: with so few people an interval is "
                     "either undefined or too wide to mean anything.")
    if options.include_bots:
        items.append("Scripted bot participants are analysed (a rehearsal run): these are not "
                     "human data.")
    items.extend(model_warnings)
    if not items:
        return []
    listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return [f'<section class="warnings" role="alert"><h2>Warnings</h2><ul>{listed}</ul>'
            "</section>"]


def _excluded_list(analysis: StudyAnalysis) -> str:
    excluded = analysis.exclusions.excluded
    if excluded.empty:
        return "<p>No participant was excluded.</p>"
    return ("<details><summary>Every excluded participant and the rules they met</summary>"
            + _table(excluded) + "</details>")


def _comparisons(analysis: StudyAnalysis, options: ReportOptions) -> list[str]:
    design = analysis.design
    if not design.comparisons:
        return ["<p>No comparison: the study has a single condition.</p>"]
    control = design.label(design.control or "")
    parts = [] if design.comparisons_preregistered else [
        "<p>The study specification declares no pre-registered comparisons, so each "
        f"condition is compared with the control condition, <strong>{html.escape(control)}"
        "</strong>, on the design's primary outcome. Treat these as defined by the design, "
        "not as pre-registered.</p>"]
    tasks = sorted(analysis.summary.loc[analysis.summary["task"] != QUESTIONNAIRE, "task"]
                   .unique())
    for comparison in design.comparisons:
        for task in tasks:
            paragraph = comparison_paragraph(comparison, task, analysis.summary,
                                             analysis.contrasts, design, analysis.models,
                                             min_participants=options.min_participants)
            title = (f"{design.label(comparison.condition)} vs "
                     f"{design.label(comparison.reference)}")
            parts.append(f"<h3>{html.escape(title)}</h3><p>{html.escape(paragraph)}</p>")
    return parts


def _figure(figure: ReportFigure) -> str:
    files = ", ".join(f"<code>{html.escape(p.name)}</code>" for p in figure.files)
    saved = f" Saved beside this report as {files}." if files else ""
    return (f'<figure class="result" id="figure-{html.escape(figure.key)}">'
            f"<h3>{html.escape(figure.title)}</h3>{inline_svg(figure)}"
            f"<figcaption>{html.escape(figure.caption)}{saved}</figcaption>"
            "<details><summary>The numbers in this figure</summary>"
            f"{_table(figure.table)}</details></figure>")


def _metrics_table(analysis: StudyAnalysis, options: ReportOptions) -> str:
    summary = analysis.summary
    if summary.empty:
        return "<p><em>(none)</em></p>"
    conditions = [c for c in _conditions(analysis) if c in set(summary["condition"])]
    rows = []
    for (task, metric), part in summary.groupby(["task", "metric"], sort=False):
        part = part.set_index("condition")
        row = {"task": task, "metric": str(metric).replace("_", " ")}
        for condition in conditions:
            label = analysis.design.label(condition)
            if condition in part.index:
                row[label] = interval_text(part.loc[condition], min_n=options.min_participants)
            else:
                row[label] = _not_applicable(analysis, condition, str(metric))
        rows.append(row)
    return _table(pd.DataFrame(rows))


def _not_applicable(analysis: StudyAnalysis, condition: str, metric: str) -> str:
    if metric in AI_METRICS and not analysis.design.saw_ai(condition):
        return "n/a: no AI shown"
    if metric in EXPLANATION_METRICS and not analysis.design.saw_explanation(condition):
        return "n/a: no explanation shown"
    return "not measured"


def _contrasts_table(analysis: StudyAnalysis, options: ReportOptions) -> str:
    contrasts = analysis.contrasts
    if contrasts.empty:
        return "<p><em>(none)</em></p>"
    rows = []
    for row in contrasts.to_dict("records"):
        small = min(int(row["n"]), int(row["n_reference"])) < options.min_participants
        rows.append({
            "task": row["task"], "metric": str(row["metric"]).replace("_", " "),
            "condition": analysis.design.label(row["condition"]),
            "vs": analysis.design.label(row["reference"]),
            "n": f"{row['n']} vs {row['n_reference']}",
            "difference [95% CI]": (
                f"{row['difference']:.3f} (n too small for an interval or test)" if small else
                interval_text({"estimate": row["difference"], "ci_low": row["ci_low"],
                               "ci_high": row["ci_high"], "n": options.min_participants})),
            "test": "" if small else {"welch": "Welch t", "paired": "paired t"}.get(
                row["test"], row["test"]),
            "p": "" if small or pd.isna(row["p_value"]) else p_text(float(row["p_value"])),
        })
    return _table(pd.DataFrame(rows))


def _models(analysis: StudyAnalysis, options: ReportOptions) -> tuple[list[str], list[str]]:
    """The model sections, and the warnings about them for the box at the top."""
    parts: list[str] = []
    warnings = list(analysis.notes)
    parts.extend(f'<p class="model-warning">{html.escape(note)}</p>' for note in analysis.notes)
    outcomes = trial_outcomes(analysis.exclusions.trials)
    formulas = model_formulas(outcomes, random_slopes=options.random_slopes)
    formulas.update(error_formulas(error_outcomes(analysis.exclusions.trials)))
    for name, fit in analysis.models.items():
        parts.append(f"<h3>{html.escape(name)}</h3>")
        parts.append(f"<p><code>{html.escape(formulas.get(name, fit.formula))}</code> "
                     f"({html.escape(_fit_words(fit))})</p>")
        problems = fit_problems(fit)
        if problems:
            warnings.extend(f"{name}: {problem}." for problem in problems)
            listed = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
            parts.append(f'<div class="model-warning"><strong>Do not report this model as '
                         f"it stands.</strong><ul>{listed}</ul></div>")
        parts.append(_table(_fixed_effects_display(fit)))
        parts.append("<details><summary>Random effects (SD and correlations)</summary>"
                     f"{_table(fit.var_corr)}</details>")
    if not analysis.models and not analysis.notes:
        parts.append("<p><em>No model: fewer than two conditions.</em></p>")
    return parts, warnings


def _fit_words(fit: Any) -> str:
    groups = ", ".join(f"{n} {g}s" for g, n in fit.ngroups.items())
    return f"{fit.family}, {fit.method}; {fit.nobs} observations, {groups}"


def _fixed_effects_display(fit: Any) -> pd.DataFrame:
    table = fixed_effects_table(fit)
    shown = pd.DataFrame({
        "term": table["term"],
        "estimate": table["estimate"].map(lambda v: f"{v:.3f}"),
        "SE": table["std_error"].map(lambda v: f"{v:.3f}"),
        "95% CI": [f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(table["ci_low"], table["ci_high"],
                                                               strict=True)],
    })
    if "odds_ratio" in table.columns:
        shown["odds ratio [95% CI]"] = [
            f"{o:.2f} [{lo:.2f}, {hi:.2f}]"
            for o, lo, hi in zip(table["odds_ratio"], table["or_low"], table["or_high"],
                                 strict=True)]
    if np.isfinite(table["df"].astype(float)).any():  # t tests: the df a paper reports
        shown["df"] = table["df"].map(lambda v: f"{v:.1f}")
    shown["statistic"] = table["statistic"].map(lambda v: f"{v:.2f}")
    shown["p"] = table["p_value"].map(p_text)
    shown["test"] = table["test"]
    return shown


def _settings(options: ReportOptions) -> str:
    items = "".join(f"<dt>{html.escape(name)}</dt><dd>{html.escape(value)} — "
                    f"{html.escape(meaning)}</dd>" for name, value, meaning in options.described())
    return ("<p>Every choice this analysis made, so that it can be pre-registered and "
            f'reproduced:</p><dl class="options">{items}</dl>')


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(none)</em></p>"
    table = frame.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="",
                          border=0)
    return f'<div class="scroll">{table}</div>'
