"""Mixed-effects models matching R's lme4 (lmer, glmer) and ordinal (clmm)."""

from __future__ import annotations

from analysis.mixed.clmm import clmm
from analysis.mixed.glmm import glmer
from analysis.mixed.lmm import lmer
from analysis.mixed.results import MixedResults

__all__ = ["MixedResults", "clmm", "glmer", "lmer"]
