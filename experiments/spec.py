"""The study specification: a whole study as one YAML document (study-as-code).

``parse_spec(text)`` validates a YAML string against the schema and the semantic rules (known
scenario, model, task design and explanation methods; consistent conditions and codes) and
returns the normalised spec as a plain dict, with defaults filled in. ``spec_hash`` is the
content hash of that normalised form: the citable identity of one study version.

Errors name the field and what was expected: ``SpecError("conditions[2].explanation.method:
unknown method 'shapp'; expected one of ...")``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import jsonschema
import yaml

from experiments.designs import DESIGNS
from experiments.spec_schema import SPEC_SCHEMA

MAX_SPEC_BYTES = 256 * 1024


class SpecError(ValueError):
    """A study specification that cannot be loaded; the message names the field."""


def parse_spec(
    text: str,
    *,
    known_scenarios: Iterable[str] | None = None,
    known_methods: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Parse, validate and normalise a YAML study specification."""
    if len(text.encode("utf-8", errors="replace")) > MAX_SPEC_BYTES:
        raise SpecError(f"spec: larger than {MAX_SPEC_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"spec: not valid YAML ({exc})") from None
    return validate_spec(data, known_scenarios=known_scenarios, known_methods=known_methods)


def validate_spec(
    data: Any,
    *,
    known_scenarios: Iterable[str] | None = None,
    known_methods: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Validate an already-parsed spec; returns a normalised deep copy."""
    if not isinstance(data, dict):
        raise SpecError("spec: expected a mapping at the top level")
    spec = copy.deepcopy(data)
    _check_schema(spec)
    _fill_defaults(spec)
    for check in _SEMANTIC_CHECKS:
        check(spec)
    if known_scenarios is not None:
        _check_one_of("scenario.name", spec["scenario"]["name"], known_scenarios)
    if known_methods is not None:
        for i, condition in enumerate(spec["conditions"]):
            method = condition.get("explanation", {}).get("method")
            if method:
                _check_one_of(f"conditions[{i}].explanation.method", method, known_methods)
    return spec


def spec_hash(spec: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a normalised spec."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def dump_spec(spec: dict[str, Any]) -> str:
    """The spec as YAML; parsing it again gives the same spec and the same hash."""
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


def _check_schema(spec: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(SPEC_SCHEMA)
    errors = sorted(validator.iter_errors(spec), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        error = errors[0]
        raise SpecError(f"{_path(error.absolute_path)}: {_explain(error)}")


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "spec"


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; expected only: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not allowed; expected one of {error.validator_value}"
    return str(error.message)


def _check_one_of(field: str, value: str, allowed: Iterable[str]) -> None:
    options = sorted(allowed)
    if value not in options:
        raise SpecError(f"{field}: unknown {value!r}; expected one of {', '.join(options)}")


def _fill_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("description", "")
    spec["scenario"].setdefault("model", "gbm")
    spec["scenario"].setdefault("seed", 0)
    spec["scenario"].setdefault("bug", None)
    spec.setdefault("design", {"type": "between"})
    trials = spec["trials"]
    trials.setdefault("balance", ["ai_correct", "predicted_class"])
    trials.setdefault("attention_checks", 1)
    trials.setdefault("pool_size", max(4 * (trials["count"] + trials.get("learning", 0)), 16))
    task = spec["task"]
    task.setdefault("confidence_scale", 0)
    task.setdefault("prompt", "")
    spec.setdefault("consent", {"text": "", "screen_out_on_decline": True})
    spec.setdefault("instructions", [])
    spec.setdefault("comprehension", {"max_attempts": 2, "questions": []})
    spec["comprehension"].setdefault("max_attempts", 2)
    spec.setdefault("questionnaires", [])
    rec = spec["recruitment"]
    rec.setdefault("allow_direct", False)
    rec.setdefault("time_limit_minutes", None)
    rec.setdefault("active_window_minutes", 30)
    rec.setdefault("completion_url", "")
    rec.setdefault("screenout_url", "")
    spec.setdefault("assignment_seed", 0)
    for condition in spec["conditions"]:
        condition.setdefault("label", condition["name"])
        condition.setdefault("show_ai", True)
        condition.setdefault("cap", None)
        if "explanation" in condition:
            condition["explanation"].setdefault("params", {})
            condition["explanation"].setdefault("quality", "full")


def _check_unique_conditions(spec: dict[str, Any]) -> None:
    seen: set[str] = set()
    for i, condition in enumerate(spec["conditions"]):
        if condition["name"] in seen:
            raise SpecError(f"conditions[{i}].name: duplicate condition {condition['name']!r}")
        seen.add(condition["name"])
        if "explanation" in condition and not condition["show_ai"]:
            raise SpecError(f"conditions[{i}].explanation: an explanation needs show_ai: true "
                            "(it explains the AI's prediction)")


def _check_codes(spec: dict[str, Any]) -> None:
    rec = spec["recruitment"]
    if rec["completion_code"] == rec["screenout_code"]:
        raise SpecError("recruitment.screenout_code: must differ from completion_code")


def _check_comprehension(spec: dict[str, Any]) -> None:
    for i, question in enumerate(spec["comprehension"]["questions"]):
        if question["answer"] not in question["options"]:
            raise SpecError(f"comprehension.questions[{i}].answer: {question['answer']!r} is "
                            f"not one of its options {question['options']}")


def _check_task(spec: dict[str, Any]) -> None:
    design = spec["task"]["design"]
    if design not in DESIGNS:
        raise SpecError(f"task.design: unknown {design!r}; expected one of "
                        f"{', '.join(sorted(DESIGNS))}")
    if design == "judge_advisor" and not any(c["show_ai"] for c in spec["conditions"]):
        raise SpecError("conditions: a judge_advisor study needs at least one condition "
                        "with show_ai: true")
    if design in {"agreement", "forward_simulation", "counterfactual_simulation",
                  "debugging"} and not all(
            c["show_ai"] for c in spec["conditions"]):
        raise SpecError(f"conditions: every condition of a {design} study must show the AI "
                        "(show_ai: true)")
    if (design == "debugging") != ("bugs" in spec["scenario"]):
        raise SpecError("scenario.bugs: a debugging study (and only a debugging study) lists "
                        "the planted bugs whose models participants inspect")
    if design == "forward_simulation" and "learning" not in spec["trials"]:
        raise SpecError("trials.learning: a forward_simulation study needs the number of "
                        "learning items")


def _check_trial_counts(spec: dict[str, Any]) -> None:
    trials = spec["trials"]
    needed = trials["count"] + trials.get("learning", 0)
    if trials["pool_size"] < needed:
        raise SpecError(f"trials.pool_size: {trials['pool_size']} is smaller than the "
                        f"{needed} items a participant needs (trials.count + trials.learning)")


def _check_within(spec: dict[str, Any]) -> None:
    if spec["design"]["type"] != "within":
        return
    n = len(spec["conditions"])
    if n < 2:
        raise SpecError("design.type: a within-subjects study needs at least two conditions")
    if spec["trials"]["count"] % n:
        raise SpecError(f"trials.count: {spec['trials']['count']} trials cannot be split into "
                        f"{n} equal condition blocks")
    if any(c["cap"] is not None for c in spec["conditions"]):
        raise SpecError("conditions: caps apply to between-subjects conditions only")
    if spec["task"]["design"] == "forward_simulation":
        raise SpecError("design.type: forward_simulation runs between subjects (its pre/post "
                        "phases already compare within each participant)")


_SEMANTIC_CHECKS: tuple[Callable[[dict[str, Any]], None], ...] = (
    _check_unique_conditions,
    _check_codes,
    _check_comprehension,
    _check_task,
    _check_trial_counts,
    _check_within,
)
