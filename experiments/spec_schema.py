"""JSON Schema of the study specification (the structural half of validation)."""

from __future__ import annotations

from typing import Any

from experiments.incentives import SCHEMA as INCENTIVES_SCHEMA
from experiments.languages import LANGUAGES

# The planted bugs experiments.scenarios offers (kept in step by a test).
BUG_NAMES = ("spurious", "label_noise", "randomised_weights", "ood")

_SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}
_CODE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{4,64}$"}
_LANGUAGE = {"enum": list(LANGUAGES)}


def _localised(text: dict[str, Any]) -> dict[str, Any]:
    """A participant-facing text: a string, or the string in each of the study's languages
    (experiments.languages; which languages must be given is checked beside the schema)."""
    return {"oneOf": [text, {"type": "object", "minProperties": 1,
                             "propertyNames": _LANGUAGE, "additionalProperties": text}]}


_TEXT = _localised({"type": "string", "maxLength": 20000})
_PATH = {"type": "string", "minLength": 1, "maxLength": 500}

_EXPLANATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["method"],
    "properties": {
        "method": {"type": "string", "minLength": 1, "maxLength": 64},
        "params": {"type": "object"},
        # "full" adds stability and seed-to-seed variation (about 15 more runs of the method
        # per item); "basic" stores deletion/insertion, faithfulness and the randomisation check.
        "quality": {"type": "string", "enum": ["basic", "full"]},
        # "plain": the probability scale and everyday sentences (participants' default);
        # "technical": the method's own units, base and output values (for researchers).
        "wording": {"type": "string", "enum": ["plain", "technical"]},
    },
}

_CONDITION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": _SLUG,
        "label": {"type": "string", "maxLength": 200},
        "show_ai": {"type": "boolean"},
        "explanation": _EXPLANATION,
        # Slack et al.'s attack: explain the scaffolded model (same predictions on real rows,
        # innocuous on the explainer's perturbations) instead of the AI itself. Needs
        # scenario.scaffolding.
        "model_variant": {"type": "string", "enum": ["scaffolded"]},
        "cap": {"type": ["integer", "null"], "minimum": 1, "maximum": 100_000},
        # Outcome feedback after each answer (true), or only in a training stretch: the first
        # N scored trials and/or the named phases (experiments.feedback).
        "feedback": {"oneOf": [
            {"type": "boolean"},
            {"type": "object", "additionalProperties": False, "minProperties": 1,
             "properties": {"first": {"type": "integer", "minimum": 1, "maximum": 500},
                            "phases": {"type": "array", "minItems": 1, "uniqueItems": True,
                                       "items": _SLUG}}}]},
        # A tutorial for this condition's own view (how to read its explanation): paragraphs
        # shown at the start of its block, on its unscored practice trials (none: on the
        # block's first trial).
        "tutorial": {"type": "object", "additionalProperties": False, "required": ["text"],
                     "properties": {"text": {"type": "array", "minItems": 1, "maxItems": 20,
                                             "items": _localised({"type": "string",
                                                                  "minLength": 1,
                                                                  "maxLength": 2000})},
                                    "practice": {"type": "integer", "minimum": 0,
                                                 "maximum": 10}}},
        # Tables: the features this condition's model uses and participants see ("key": the
        # scenario's key features, "all", or a list of column names), for "2 vs 8 features".
        "features": {"oneOf": [
            {"type": "string", "enum": ["key", "all"]},
            {"type": "array", "minItems": 1, "maxItems": 64, "uniqueItems": True,
             "items": {"type": "string", "minLength": 1, "maxLength": 64}}]},
    },
}

_QUESTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "text", "options", "answer"],
    "properties": {
        "id": _SLUG,
        "text": _localised({"type": "string", "minLength": 1, "maxLength": 1000}),
        "options": {"type": "array", "minItems": 2, "maxItems": 10,
                    "items": _localised({"type": "string", "minLength": 1, "maxLength": 300})},
        "answer": _localised({"type": "string"}),
    },
}

SCALE_NAMES = ("jian_trust", "hoffman_satisfaction", "hoffman_trust")
_SCALE_TRANSLATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["source", "items", "anchors"],
    "properties": {
        # The publication of the validated translation (authors, year, journal, pages).
        "source": {"type": "string", "minLength": 10, "maxLength": 500},
        # The scale's items in its order, and the words at its anchored points in order.
        "items": {"type": "array", "minItems": 1, "maxItems": 50,
                  "items": {"type": "string", "minLength": 1, "maxLength": 500}},
        "anchors": {"type": "array", "maxItems": 11,
                    "items": {"type": "string", "minLength": 1, "maxLength": 100}},
    },
}

_QUESTIONNAIRE = {
    "oneOf": [
        {"type": "string", "enum": list(SCALE_NAMES)},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["free_text"],
            "properties": {
                "free_text": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "prompt"],
                    "properties": {
                        "name": _SLUG,
                        "prompt": _localised({"type": "string", "minLength": 1,
                                               "maxLength": 1000}),
                        "required": {"type": "boolean"},
                    },
                }
            },
        },
    ]
}

SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slug", "title", "scenario", "task", "trials", "conditions", "recruitment"],
    "properties": {
        "slug": _SLUG,
        "title": _localised({"type": "string", "minLength": 1, "maxLength": 200}),
        "description": _TEXT,
        # The languages participants can read the study in, the default first
        # (experiments.languages); without it the study is English.
        "languages": {"type": "array", "minItems": 1, "maxItems": len(LANGUAGES),
                      "uniqueItems": True, "items": _LANGUAGE},
        # A standard scale in a language other than English: the validated translation, with
        # the publication it is taken from (scale -> language -> translation).
        "scale_translations": {"type": "object", "propertyNames": {"enum": list(SCALE_NAMES)},
                               "additionalProperties": {
                                   "type": "object", "propertyNames": _LANGUAGE,
                                   "additionalProperties": _SCALE_TRANSLATION}},
        "scenario": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "model": {"type": "string", "minLength": 1, "maxLength": 64},
                # Seeds reach numpy and scikit-learn, which take 32-bit seeds.
                "seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
                "bug": {"enum": [*BUG_NAMES, None]},
                # Debugging studies: the planted bugs whose models appear beside the clean one.
                "bugs": {"type": "array", "minItems": 1, "uniqueItems": True,
                         "items": {"enum": list(BUG_NAMES)}},
                # A researcher's own table (experiments.scenarios.own): paths are relative to
                # the spec file; `sha256` and `task` are filled in when the files are checked.
                "data": _PATH,
                "target": {"type": "string", "minLength": 1, "maxLength": 200},
                "codebook": _PATH,
                "model_file": _PATH,
                # Own texts or pictures: the modality and the column that holds the texts
                # or the pictures' file names (own_texts.py, own_images.py).
                "modality": {"enum": ["tabular", "text", "image"]},
                "text": {"type": "string", "minLength": 1, "maxLength": 200},
                "image": {"type": "string", "minLength": 1, "maxLength": 200},
                "task": {"enum": ["classification", "regression"]},
                "sha256": {"type": "object", "additionalProperties": False, "required": ["data"],
                           "properties": {k: {"type": "string", "pattern": "^[0-9a-f]{64}$"}
                                          for k in ("data", "codebook", "model_file",
                                                    "pixels")}},
                # A biased AI that decides by one feature, and the innocuous feature its
                # scaffolded twin shows to LIME and SHAP (Slack et al. 2020); column names.
                "scaffolding": {
                    "type": "object", "additionalProperties": False,
                    "required": ["biased_feature", "innocuous_feature"],
                    "properties": {"biased_feature": {"type": "string", "minLength": 1,
                                                      "maxLength": 64},
                                   "innocuous_feature": {"type": "string", "minLength": 1,
                                                         "maxLength": 64}}},
            },
        },
        "task": {
            "type": "object",
            "additionalProperties": False,
            "required": ["design", "question"],
            "properties": {
                "design": {"type": "string"},
                "question": _localised({"type": "string", "minLength": 1, "maxLength": 500}),
                "prompt": _localised({"type": "string", "maxLength": 2000}),
                "confidence_scale": {"type": "integer", "enum": [0, 4, 5, 7]},
                # Distinction: how many candidate classes each trial offers (HIVE used 4).
                "candidates": {"type": "integer", "minimum": 2, "maximum": 10},
                # Fairness of participants' decisions: the item feature (as shown, e.g. "Sex")
                # whose groups are compared, and the positive class for TPR/FPR.
                "fairness": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["feature", "positive"],
                    "properties": {"feature": {"type": "string", "minLength": 1},
                                   "positive": {"type": "string", "minLength": 1}},
                },
            },
        },
        "design": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            # within: every participant sees every condition, in blocks whose order follows a
            # balanced Latin square (Williams design) row assigned like a between condition.
            # mixed: participants are assigned (balanced) to one of the groups and see each of
            # its conditions, in Latin-square order within the group.
            "properties": {
                "type": {"type": "string", "enum": ["between", "within", "mixed"]},
                "groups": {"type": "array", "minItems": 2, "maxItems": 16, "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["name", "conditions"],
                    "properties": {"name": _SLUG,
                                   "conditions": {"type": "array", "minItems": 1,
                                                  "maxItems": 16, "uniqueItems": True,
                                                  "items": _SLUG}}}},
            },
        },
        "trials": {
            "type": "object",
            "additionalProperties": False,
            "required": ["count"],
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 500},
                # Forward simulation: how many learning items precede the test items.
                "learning": {"type": "integer", "minimum": 1, "maximum": 200},
                "pool_size": {"type": "integer", "minimum": 1, "maximum": 5000},
                "balance": {"type": "array", "items": {"enum": ["ai_correct", "predicted_class"]},
                            "uniqueItems": True},
                "attention_checks": {"type": "integer", "minimum": 0, "maximum": 20},
                # Simulate-then-decide: how many of the trials are unusual items, where the
                # model errs badly (Poursabzi-Sangdeh et al.'s mistake-detection items).
                "unusual": {"type": "integer", "minimum": 0, "maximum": 100},
            },
        },
        "conditions": {"type": "array", "minItems": 1, "maxItems": 32, "items": _CONDITION},
        "consent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {"text": _TEXT, "screen_out_on_decline": {"type": "boolean"}},
        },
        "instructions": {"type": "array", "maxItems": 20, "items": _TEXT},
        "comprehension": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
                "questions": {"type": "array", "maxItems": 20, "items": _QUESTION},
            },
        },
        "questionnaires": {"type": "array", "maxItems": 10, "items": _QUESTIONNAIRE},
        "recruitment": {
            "type": "object",
            "additionalProperties": False,
            "required": ["completion_code", "screenout_code"],
            "properties": {
                "completion_code": _CODE,
                "screenout_code": _CODE,
                "completion_url": {"type": "string", "maxLength": 500,
                                   "pattern": "^(https?://.*)?$"},
                "screenout_url": {"type": "string", "maxLength": 500,
                                  "pattern": "^(https?://.*)?$"},
                "allow_direct": {"type": "boolean"},
                "time_limit_minutes": {"type": ["integer", "null"], "minimum": 1,
                                       "maximum": 1440},
                "active_window_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            },
        },
        "assignment_seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
        # Pre-registered exclusions the analysis applies (analysis.exclusions): the relative
        # speeder rule (a fraction of the median duration) and an absolute floor on the median
        # seconds per trial; null switches either off.
        # Performance bonuses (experiments.incentives): stated, computed and paid by the rule.
        "incentives": INCENTIVES_SCHEMA,
        "exclusions": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "speeder_fraction": {"type": ["number", "null"], "exclusiveMinimum": 0,
                                     "exclusiveMaximum": 1},
                "min_seconds_per_trial": {"type": ["number", "null"], "exclusiveMinimum": 0,
                                          "maximum": 600},
            },
        },
    },
}
