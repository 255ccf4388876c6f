"""Hostile study specs: every one is refused with a SpecError that names the field, quickly,
without echoing megabytes back, and nothing else (no RecursionError, no MemoryError, no
value a database or the spec hash cannot hold slipping through).

Oracle: the error's type and the field it names. A spec that parses is additionally checked
to be plain JSON (what is stored and hashed), so a parse that "succeeds" on a date or a NaN
would fail here too.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from experiments.spec import MAX_SPEC_BYTES, SpecError, parse_spec, spec_hash
from experiments.spec_yaml import MAX_MESSAGE
from tests.factories import small_spec, to_yaml

KNOWN: dict[str, Any] = {"known_scenarios": ["adult"], "known_methods": ["tree_shap", "anchors"],
         "known_models": {"adult": ["gbm", "logistic", "mlp"]}}


def _refused(text: str) -> str:
    with pytest.raises(SpecError) as raised:
        parse_spec(text, **KNOWN)
    message = str(raised.value)
    assert len(message) < MAX_MESSAGE + 200, "the error echoes the hostile value back"
    return message


def _spec_text(**overrides: object) -> str:
    return to_yaml(small_spec(**overrides))


def _with_params(flow_yaml: str) -> str:
    """The small spec whose SHAP condition has ``params: {v: <flow_yaml>}``, written as is."""
    spec = small_spec()
    spec["conditions"][2]["explanation"]["params"] = {"v": "PARAMS_PLACEHOLDER"}
    return to_yaml(spec).replace("PARAMS_PLACEHOLDER", flow_yaml)


def _billion_laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_document_is_refused_before_it_expands():
    assert "anchors and aliases" in _refused(_billion_laughs())


def test_an_alias_hidden_in_a_free_form_field_is_refused_too():
    """explanation.params is free-form, so the schema alone would let an alias bomb through
    to the spec hash (json.dumps expands every alias)."""
    text = _with_params("{a: &lol [1, 2, 3], b: [*lol, *lol, *lol]}")
    assert "anchors and aliases" in _refused(text)


@pytest.mark.parametrize("text", [
    "slug: " + "[" * 50_000 + "]" * 50_000,
    "slug: " + "{a: " * 20_000 + "1" + "}" * 20_000,
    "slug:\n" + "".join("  " * k + "- \n" for k in range(3_000)),
])
def test_deep_nesting_is_refused_without_exhausting_the_stack(text):
    message = _refused(text[: MAX_SPEC_BYTES - 1])
    assert "nested more than" in message or "not valid YAML" in message


@pytest.mark.parametrize(("overrides", "field", "expected"), [
    ({"description": "x" * 200_000}, "description", "too long: 200000 characters"),
    ({"title": "t" * 5_000}, "title", "too long"),
    ({"conditions": [{"name": f"c{k}"} for k in range(10_000)]}, "conditions",
     "too long: 10000 entries"),
    ({"instructions": ["read this"] * 500}, "instructions", "too long"),
])
def test_huge_strings_and_lists_are_refused_naming_the_field_and_the_limit(overrides, field,
                                                                           expected):
    text = _spec_text(**overrides)
    if len(text.encode()) > MAX_SPEC_BYTES:
        assert "larger than 256 KiB" in _refused(text)
        return
    message = _refused(text)
    assert message.startswith(f"{field}:") and expected in message


def test_a_spec_over_the_size_limit_is_refused_before_it_is_parsed():
    assert "larger than 256 KiB" in _refused("# padding\n" * 40_000)


@pytest.mark.parametrize(("yaml_value", "field", "expected"), [
    ("2020-01-01", "title", "date values are not allowed"),
    ("!!binary aGVsbG8=", "title", "bytes values are not allowed"),
    ("!!set {a: null}", "title", "set values are not allowed"),
    ('"a\\0b"', "title", "NUL"),
    ('"\\udc00"', "title", "surrogate"),
    ("12", "title", "is not of type 'string'"),
    ("[a, list]", "title", "is not of type 'string'"),
])
def test_values_that_are_not_plain_json_text_are_refused(yaml_value, field, expected):
    text = _spec_text(title="PLACEHOLDER").replace("PLACEHOLDER", yaml_value)
    message = _refused(text)
    assert message.startswith(f"{field}:") and expected in message


@pytest.mark.parametrize("value", ["2020-01-01", ".nan", ".inf", "-.inf", "{1: one}"])
def test_free_form_explanation_params_must_be_plain_json(value):
    """Params go into a JSON column and the spec hash: a date or NaN there would be a crash
    at save time (PostgreSQL's jsonb refuses NaN), not a clear error at load time."""
    assert "conditions[2].explanation.params.v" in _refused(_with_params(value))


@pytest.mark.parametrize(("trials", "expected"), [
    ({"count": 4.0, "pool_size": 16}, "trials.count: 4.0 is not of type 'integer'"),
    ({"count": True, "pool_size": 16}, "trials.count: True is not of type 'integer'"),
    ({"count": "4", "pool_size": 16}, "trials.count: '4' is not of type 'integer'"),
    ({"count": -1, "pool_size": 16}, "trials.count"),
    ({"count": 10**30, "pool_size": 16}, "trials.count"),
])
def test_wrong_types_and_out_of_range_numbers_are_refused(trials, expected):
    assert expected in _refused(_spec_text(trials=trials))


@pytest.mark.parametrize(("overrides", "field"), [
    ({"assignment_seed": 10**30}, "assignment_seed"),
    ({"scenario": {"name": "adult", "seed": 2**40}}, "scenario.seed"),
    ({"conditions": [{"name": "x", "cap": 10**12}]}, "conditions[0].cap"),
])
def test_numbers_a_database_column_or_a_random_generator_cannot_take_are_refused(overrides,
                                                                                   field):
    assert _refused(_spec_text(**overrides)).startswith(f"{field}:")


@pytest.mark.parametrize("model", ["/tmp/model.pkl", "model.joblib", "../../etc/passwd",
                                   "gbm.pkl", "https://example.org/m.pkl"])
def test_a_spec_cannot_name_a_model_file_only_a_model_the_scenario_trains(model):
    """The model is trained from bundled data under a known name; a path or URL is refused
    at load time with the names on offer, so no code path ever opens it."""
    message = _refused(_spec_text(scenario={"name": "adult", "model": model}))
    assert message.startswith("scenario.model: unknown") and "gbm, logistic, mlp" in message


@pytest.mark.parametrize("field", ["model_path", "pickle", "weights"])
def test_the_schema_has_no_field_through_which_a_file_could_be_named(field):
    message = _refused(_spec_text(scenario={"name": "adult", field: "/tmp/evil.pkl"}))
    assert message.startswith("scenario: Additional properties are not allowed")


@pytest.mark.parametrize("field", ["model_file", "data", "codebook"])
def test_files_are_named_only_by_a_spec_loaded_from_its_folder(field):
    """A researcher's own files (issue 13) are opened only when the spec is read from a file
    (`load_study PATH`), never from pasted text, and a model only as skops or ONNX
    (tests/experiments/test_own_material.py)."""
    scenario = {"name": "mine", "data": "mine.csv", "target": "y", field: "/tmp/evil.pkl"}
    message = _refused(_spec_text(scenario=scenario))
    # (the spec's tree_shap condition is refused first for a model file: it reads internals)
    assert message.startswith("conditions[2].explanation.method: 'tree_shap' reads"
                              if field == "model_file" else
                              "scenario.data: a spec with its own data is loaded from its file")
    bundled = _refused(_spec_text(scenario={"name": "adult", field: "/tmp/evil.pkl"}))
    # data turns the scenario into one's own, whose target is then missing
    assert bundled.startswith("scenario.target:" if field == "data" else f"scenario.{field}:")


def test_an_unknown_planted_bug_is_refused():
    assert _refused(_spec_text(scenario={"name": "adult", "bug": "rm -rf /"})).startswith(
        "scenario.bug:")


def test_python_object_tags_are_refused():
    assert "not valid YAML" in _refused("slug: !!python/object/apply:os.system ['true']\n")


# ----- anything at all ----------------------------------------------------------------------

json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                        st.text(max_size=30), st.dates())
yaml_values = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), inner, max_size=4)),
    max_leaves=12)
def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in a spec where a value sits (keys of mappings, indices of lists)."""
    children: list[tuple[object, object]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    return [path for key, child in children
            for path in [(*prefix, key), *_paths(child, (*prefix, key))]]


SPEC_PATHS = _paths(small_spec())


@given(path=st.sampled_from(SPEC_PATHS), value=yaml_values, remove=st.booleans())
def test_any_value_anywhere_gives_a_valid_spec_or_a_spec_error(path, value, remove):
    """Any one place in a valid spec replaced by any YAML value (or removed). Oracle: the
    only outcomes allowed; a spec that passes must be storable JSON whose hash can be taken
    (a date, NaN or non-text key slipping through would break here)."""
    spec = small_spec()
    parent = spec
    for key in path[:-1]:
        parent = parent[key]
    if remove and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        text = yaml.safe_dump(spec)
    except yaml.YAMLError:
        return  # not expressible as YAML at all
    try:
        parsed = parse_spec(text, **KNOWN)
    except SpecError as exc:
        assert len(str(exc)) < MAX_MESSAGE + 200
        return
    json.loads(json.dumps(parsed, allow_nan=False))
    assert len(spec_hash(parsed)) == 64
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(parsed))


@given(text=st.text(max_size=400))
def test_any_text_at_all_parses_or_fails_with_a_spec_error(text):
    with contextlib.suppress(SpecError):
        parse_spec(text, **KNOWN)


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
