"""A self-contained HTML report: tables and inline PNG figures, no scripts, no CDN."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from analysis.report.figures import figure_to_data_uri, question_figures
from analysis.report.pipeline import (
    ReportOptions,
    StudyAnalysis,
    analyse_export,
    describe_model,
    error_formulas,
    error_outcomes,
    model_formulas,
)
from analysis.summary import trial_outcomes

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f2f2f2; }
pre { background: #f7f7f7; padding: 0.75rem; overflow-x: auto; font-size: 0.8rem; }
img { max-width: 100%; }
.note { color: #8a4b00; }
"""


def build_html_report(
    export_dir: str | Path, out_path: str | Path, *, options: ReportOptions | None = None
) -> Path:
    """Analyse ``export_dir`` and write the report to ``out_path`` (one file, opens offline)."""
    options = options or ReportOptions()
    analysis = analyse_export(export_dir, options)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(analysis, options), "utf-8")
    return out_path


def render_html(analysis: StudyAnalysis, options: ReportOptions | None = None) -> str:
    """The report page for an analysis already run (``options``: those it was run with)."""
    options = options or ReportOptions()
    name = analysis.export.datapackage.get("name") or (
        analysis.export.path.name if analysis.export.path else "study"
    )
    parts = [
        f"<h1>Analysis of {html.escape(str(name))}</h1>",
        "<p>Every metric is computed on the participants' answers; attention-check trials are "
        "excluded. Intervals are 95% t intervals across participants' means unless stated.</p>",
        f"<p>Options: <code>{html.escape(repr(options))}</code></p>",
        "<h2>Participants and exclusions</h2>",
        _table(analysis.exclusions.flow),
        _table(analysis.exclusions.excluded),
        "<h2>Questionnaire reliability</h2>",
        _table(analysis.reliability),
        "<h2>Metrics by condition</h2>",
        _table(analysis.summary),
        "<h2>Differences from the reference condition (Welch)</h2>",
        _table(analysis.contrasts),
        "<h2>Figures</h2>",
    ]
    for question, figure in question_figures(analysis.summary).items():
        parts.append(f"<h3>{html.escape(question)}</h3>")
        parts.append(f'<img alt="{html.escape(question)}" src="{figure_to_data_uri(figure)}">')
    parts.append("<h2>Mixed-effects models</h2>")
    parts.extend(_models(analysis, options))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Analysis of {html.escape(str(name))}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(none)</em></p>"
    return frame.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="")


def _models(analysis: StudyAnalysis, options: ReportOptions) -> list[str]:
    parts = [f'<p class="note">{html.escape(note)}</p>' for note in analysis.notes]
    outcomes = trial_outcomes(analysis.exclusions.trials)
    formulas = model_formulas(outcomes, random_slopes=options.random_slopes)
    formulas.update(error_formulas(error_outcomes(analysis.exclusions.trials)))
    for name, result in analysis.models.items():
        parts.append(f"<h3>{html.escape(name)}</h3>")
        parts.append(f"<p><code>{html.escape(formulas.get(name, ''))}</code></p>")
        parts.append(f"<pre>{html.escape(describe_model(result))}</pre>")
    if not analysis.models and not analysis.notes:
        parts.append("<p><em>No model: fewer than two conditions.</em></p>")
    return parts
