"""Reports that reproduce a study's analysis from its export: notebook, R script, HTML."""

from __future__ import annotations

from analysis.report.html import build_html_report
from analysis.report.notebook import build_notebook
from analysis.report.pipeline import ReportOptions, StudyAnalysis, analyse_export
from analysis.report.rscript import build_r_script

__all__ = [
    "ReportOptions",
    "StudyAnalysis",
    "analyse_export",
    "build_html_report",
    "build_notebook",
    "build_r_script",
]
