"""A researcher's own table, codebook and model (experiments.scenarios.own / supplied).

Bad material: one test per case, each checking that the error names the file (and row and
column where there is one) and that nothing was stored. Oracles: the researcher's own fitted
pipeline on their raw data frame (what a supplied model must reproduce), scikit-learn's
``brier_score_loss`` and hand-computed calibration bins (model card), and the written CSV itself
(what participants must read).
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.scenarios import load_scenario
from experiments.scenarios.model_card import (
    brier_score,
    expected_calibration_error,
    reliability_bins,
)
from experiments.scenarios.own import (
    MAX_CATEGORIES,
    MAX_DATA_BYTES,
    check_material,
    draft_codebook,
    material_from_spec,
)
from experiments.spec import SpecError, parse_spec
from explainers.base import Feature
from tests.experiments.own_material_cases import refused

N = 80


def loans(n: int = N, seed: int = 0) -> pd.DataFrame:
    """A small loan table: an id, two numbers, a categorical, an ordinal and the label."""
    rng = np.random.default_rng(seed)
    income = rng.normal(40_000, 12_000, n).round(2)
    region = rng.choice(["north", "south", "east"], n)
    grade = rng.choice(["low", "mid", "high"], n)
    score = income / 1000 + (grade == "high") * 15 + rng.normal(0, 5, n)
    return pd.DataFrame({
        "loan_id": [f"L{i:05d}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "income": income,
        "region": region,
        "grade": grade,
        "approved": np.where(score > np.median(score), "yes", "no"),
    })


def write(tmp_path: Path, frame: pd.DataFrame, codebook: dict | None = None,
          name: str = "loans.csv") -> dict:
    """Write the material; returns the spec's scenario section."""
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    section = {"name": "loans", "data": name, "target": "approved", "model": "gbm", "seed": 0}
    if codebook is not None:
        (tmp_path / "loans.codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False))
        section["codebook"] = "loans.codebook.yaml"
    return section


CODEBOOK = {
    "description": "Each row is a loan application.",
    "columns": {
        "loan_id": {"exclude": True},
        "age": {"label": "Age", "unit": "years", "unit_one": "year", "immutable": True},
        "income": {"label": "Yearly income", "unit": "dollars", "direction": "increase"},
        "region": {"label": "Region", "categories": {"north": "North", "south": "South",
                                                      "east": "East"}},
        "grade": {"label": "Credit grade", "kind": "ordinal",
                  "categories": {"low": "Low", "mid": "Middle", "high": "High"}},
        "approved": {"label": "Loan approved", "categories": {"no": "Refused", "yes": "Approved"}},
    },
}


def loaded(tmp_path: Path, section: dict, model: str | None = None):
    store = tmp_path / "store"
    found = check_material(section, base_dir=tmp_path, store=store)
    section = {**section, **found}
    return load_scenario("loans", model=model or section["model"], random_state=0,
                         material=material_from_spec(section, store)), section


# ----- bad material: one test per case ---------------------------------------------------------

def test_a_missing_target_column_is_named_with_the_columns_there_are(tmp_path):
    section = write(tmp_path, loans().drop(columns="approved"))
    refused(tmp_path, section, "loans.csv", "no target column 'approved'", "income")


def test_a_missing_target_value_names_its_row(tmp_path):
    frame = loans().astype({"approved": object})
    frame.loc[11, "approved"] = ""
    refused(tmp_path, write(tmp_path, frame), "loans.csv", "row 12", "'approved'")


def test_a_constant_target_is_refused(tmp_path):
    frame = loans().assign(approved="yes")
    refused(tmp_path, write(tmp_path, frame), "loans.csv", "one value ('yes')", "80 rows")


def test_a_class_with_a_single_row_is_refused(tmp_path):
    frame = loans().assign(approved="yes")
    frame.loc[5, "approved"] = "no"
    refused(tmp_path, write(tmp_path, frame), "loans.csv", "['no']", "fewer than two rows")


def test_an_unparseable_number_names_the_row_and_the_column(tmp_path):
    frame = loans().astype({"income": object})
    frame.loc[16, "income"] = "n/a"  # data row 17, line 18 of the file
    refused(tmp_path, write(tmp_path, frame, CODEBOOK), "loans.csv: row 17, column 'income'",
            "'n/a'")


def test_a_word_in_a_column_the_codebook_calls_numeric_names_row_and_column(tmp_path):
    frame = loans().astype({"age": object})
    frame.loc[3, "age"] = "forty"
    book = {"columns": {"age": {"kind": "numeric"}, "loan_id": {"exclude": True}}}
    refused(tmp_path, write(tmp_path, frame, book), "row 4, column 'age'", "'forty'")


def test_a_categorical_with_thousands_of_levels_is_refused_with_the_limit(tmp_path):
    frame = loans(n=3000)  # loan_id: 3,000 distinct values and no codebook to exclude it
    refused(tmp_path, write(tmp_path, frame), "column 'loan_id' has 3,000 distinct values",
            f"the {MAX_CATEGORIES} a categorical", "exclude: true")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    section = write(tmp_path, loans())
    with (tmp_path / "loans.csv").open("r+b") as handle:
        handle.truncate(MAX_DATA_BYTES + 1)  # sparse: no 100 MiB actually written
    refused(tmp_path, section, "loans.csv", f"limit of {MAX_DATA_BYTES // 1024**2} MiB")


def test_an_empty_feature_value_names_the_row_and_column(tmp_path):
    frame = loans().astype({"region": object})
    frame.loc[40, "region"] = ""
    refused(tmp_path, write(tmp_path, frame, CODEBOOK), "row 41, column 'region'", "empty")


def test_a_codebook_column_not_in_the_data_is_named(tmp_path):
    book = {"columns": {**CODEBOOK["columns"], "salary": {"label": "Salary"}}}
    refused(tmp_path, write(tmp_path, loans(), book), "loans.codebook.yaml", "['salary']")


def test_a_value_missing_from_the_codebook_categories_is_named(tmp_path):
    book = {"columns": {**CODEBOOK["columns"], "region": {"categories": {"north": "North"}}}}
    refused(tmp_path, write(tmp_path, loans(), book), "column 'region'", "'east'")


def _fitted_pipeline(frame: pd.DataFrame, columns: list[str]):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in columns if c not in categorical]
    pipeline = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical),
                                (StandardScaler(), numeric)),
        LogisticRegression(max_iter=1000))
    return pipeline.fit(frame[columns], frame["approved"])


def _dump_skops(model, path: Path) -> None:
    import skops.io

    skops.io.dump(model, path)


FEATURES = ["age", "income", "region", "grade"]


def test_a_model_whose_input_columns_do_not_match_the_data_is_refused(tmp_path):
    frame = loans()
    _dump_skops(_fitted_pipeline(frame.assign(salary=frame["income"]),
                                 ["age", "salary", "region", "grade"]), tmp_path / "m.skops")
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "m.skops", "model": "supplied"}
    refused(tmp_path, section, "m.skops", "input columns do not match", "['salary']",
            "['income']")


def test_a_model_file_with_untrusted_types_is_refused_and_not_loaded(tmp_path):
    frame = loans()
    model = _fitted_pipeline(frame, FEATURES)
    model.steps[-1][1].audit = collections.Counter(a=1)  # a type outside the trusted list
    _dump_skops(model, tmp_path / "m.skops")
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "m.skops", "model": "supplied"}
    refused(tmp_path, section, "m.skops", "not trusted", "collections.Counter")


def test_a_pickle_file_is_refused_without_being_opened(tmp_path):
    (tmp_path / "m.pkl").write_bytes(b"\x80\x04 would run code")
    section = {**write(tmp_path, loans(), CODEBOOK), "model_file": "m.pkl", "model": "supplied"}
    refused(tmp_path, section, "m.pkl", "pickle")


def test_a_model_family_that_does_not_fit_the_task_is_refused(tmp_path):
    section = {**write(tmp_path, loans(), CODEBOOK), "model": "linear"}
    refused(tmp_path, section, "unknown 'linear' for a classification task", "random_forest")


# ----- good material -------------------------------------------------------------------------

def test_the_codebook_sets_what_participants_read_and_the_ordinal_order(tmp_path):
    frame = loans()
    scenario, _ = loaded(tmp_path, write(tmp_path, frame, CODEBOOK))
    assert [f.name for f in scenario.features] == FEATURES  # the id is excluded
    age, income = scenario.features[FEATURES.index("age")], scenario.features[1]
    assert (age.unit, age.per_unit) == ("years", "year")  # a weight is "per year"
    assert (income.unit, income.per_unit) == ("dollars", "dollars")  # no unit_one: the unit
    grade = scenario.features[3]
    assert grade.categories == ("Low", "Middle", "High")  # the codebook's order, low to high
    assert scenario.class_names == ("Refused", "Approved") and scenario.positive_class == 1
    assert scenario.description == "Each row is a loan application."
    # Every test item reads as the CSV row it came from: find it by its income.
    for i in range(5):
        item = scenario.item(i)
        row = frame.loc[np.isclose(frame["income"], scenario.X_test[i, 1])].iloc[0]
        assert item["Age"] == f"{row['age']} years"
        assert item["Region"] == CODEBOOK["columns"]["region"]["categories"][row["region"]]
        assert item["Credit grade"] == CODEBOOK["columns"]["grade"]["categories"][row["grade"]]
    assert scenario.model_card["excluded_columns"] == ["loan_id"]


@pytest.mark.parametrize("model", ["gbm", "logistic", "random_forest", "mlp"])
def test_every_family_trains_from_the_seed_with_a_model_card(tmp_path, model):
    section = write(tmp_path, loans(n=200), CODEBOOK)
    first, _ = loaded(tmp_path, section, model)
    again, _ = loaded(tmp_path, {**section, "seed": 0}, model)
    card = first.model_card
    assert card["model"] == model and card["n_train"] + card["n_test"] == 200
    metrics = card["test_metrics"]
    assert metrics["accuracy"] > metrics["majority_baseline"]  # learnable by construction
    assert 0.5 < metrics["auc"] <= 1 and 0 <= metrics["brier"] <= 2
    assert np.array_equal(first.test_predictions, again.test_predictions)


def test_a_numeric_target_with_many_values_is_a_regression(tmp_path):
    frame = loans(n=120).drop(columns="loan_id")
    frame["approved"] = frame["income"] * 0.1 + frame["age"]  # a number to predict
    scenario, section = loaded(tmp_path, {**write(tmp_path, frame), "model": "linear"})
    assert section["task"] == "regression" and scenario.task == "regression"
    assert scenario.model_card["test_metrics"]["r2"] > 0.99  # exactly linear in the inputs
    for family in ("gbm", "random_forest", "mlp"):
        assert loaded(tmp_path, section, family)[0].model_card["test_metrics"]["rmse"] >= 0


def test_parquet_gives_the_same_scenario_as_csv(tmp_path):
    frame = loans()
    from_csv, _ = loaded(tmp_path, write(tmp_path, frame, CODEBOOK))
    from_parquet, _ = loaded(tmp_path, write(tmp_path, frame, CODEBOOK, name="loans.parquet"))
    assert np.array_equal(from_csv.X_test, from_parquet.X_test)


def test_a_supplied_skops_pipeline_predicts_as_it_does_on_the_raw_data(tmp_path):
    frame = loans(n=200)
    pipeline = _fitted_pipeline(frame, FEATURES)
    _dump_skops(pipeline, tmp_path / "m.skops")
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "m.skops", "model": "supplied"}
    scenario, _ = loaded(tmp_path, section)
    assert scenario.model_name == "supplied"
    raw = scenario.model.frame(scenario.X_test)  # the coded rows back as raw values
    expected = pipeline.predict_proba(raw)  # classes_ ['no', 'yes'] = Refused, Approved
    assert np.allclose(scenario.model.predict_proba(scenario.X_test), expected)
    # The oracle on the untouched CSV rows: match the test rows by income.
    rows = pd.concat([frame.loc[np.isclose(frame["income"], v)] for v in scenario.X_test[:, 1]])
    assert np.allclose(pipeline.predict_proba(rows[FEATURES]), expected)


def test_a_supplied_onnx_model_predicts_as_the_pipeline_it_was_exported_from(tmp_path):
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    frame = loans(n=200)
    frame_numeric = frame.astype({"age": float})
    pipeline = _fitted_pipeline(frame_numeric, FEATURES)
    types = [("age", FloatTensorType([None, 1])), ("income", FloatTensorType([None, 1])),
             ("region", StringTensorType([None, 1])), ("grade", StringTensorType([None, 1]))]
    onnx_model = to_onnx(pipeline, initial_types=types, options={"zipmap": False})
    (tmp_path / "m.onnx").write_bytes(onnx_model.SerializeToString())
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "m.onnx", "model": "supplied"}
    scenario, _ = loaded(tmp_path, section)
    expected = pipeline.predict_proba(scenario.model.frame(scenario.X_test))
    assert np.allclose(scenario.model.predict_proba(scenario.X_test), expected, atol=1e-4)


def test_the_draft_codebook_is_the_inference_and_reads_back_as_a_codebook(tmp_path):
    write(tmp_path, loans())
    draft = draft_codebook(tmp_path / "loans.csv", "approved")
    book = yaml.safe_load(draft)
    assert book["columns"]["loan_id"] == {"exclude": True}  # an id: 80 levels, drafted out
    frame = loans().drop(columns="loan_id")  # the inference without a codebook needs no id
    write(tmp_path, frame)
    draft = draft_codebook(tmp_path / "loans.csv", "approved")
    book = yaml.safe_load(draft)
    assert book["columns"]["income"]["kind"] == "numeric"
    assert book["columns"]["region"]["categories"] == {"east": "east", "north": "north",
                                                       "south": "south"}
    (tmp_path / "draft.yaml").write_text(draft)
    section = {**write(tmp_path, frame), "codebook": "draft.yaml"}
    with_draft, _ = loaded(tmp_path, section)
    inferred, _ = loaded(tmp_path, write(tmp_path, frame))
    assert np.array_equal(with_draft.X_test, inferred.X_test)


# ----- the spec ------------------------------------------------------------------------------

SPEC = """
slug: own-loans
title: Loans
scenario: {name: loans, data: loans.csv, target: approved, codebook: loans.codebook.yaml}
task: {design: decision, question: "Approve?"}
trials: {count: 4}
conditions: [{name: ai}]
recruitment: {completion_code: DONE1234, screenout_code: OUTS1234}
"""


def test_the_spec_records_the_task_and_the_data_hash_and_pins_it(tmp_path):
    write(tmp_path, loans(), CODEBOOK)
    spec = parse_spec(SPEC, material_dir=tmp_path, material_store=tmp_path / "store")
    assert spec["scenario"]["task"] == "classification" and spec["scenario"]["model"] == "gbm"
    assert (tmp_path / "store" / f"{spec['scenario']['sha256']['data']}.csv").is_file()
    # The normalised spec re-validates without the files (the admin re-reads stored specs).
    assert parse_spec(yaml.safe_dump(spec)) == spec
    # Changed data no longer matches the pinned hash.
    write(tmp_path, loans(seed=1), CODEBOOK)
    with pytest.raises(SpecError, match=r"scenario\.sha256: the files are not the ones"):
        parse_spec(yaml.safe_dump(spec), material_dir=tmp_path)


def test_a_spec_with_own_data_but_no_folder_to_find_it_says_how_to_load_it():
    with pytest.raises(SpecError, match="load_study PATH"):
        parse_spec(SPEC)


def test_bad_material_in_a_spec_is_a_spec_error_naming_the_file_row_and_column(tmp_path):
    frame = loans().astype({"income": object})
    frame.loc[16, "income"] = "12,000 $"
    write(tmp_path, frame, CODEBOOK)
    with pytest.raises(SpecError, match=r"scenario: loans.csv: row 17, column 'income'"):
        parse_spec(SPEC, material_dir=tmp_path, material_store=tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_own_data_cannot_take_a_bundled_scenario_name(tmp_path):
    write(tmp_path, loans(), CODEBOOK)
    with pytest.raises(SpecError, match="'adult' is a bundled scenario"):
        parse_spec(SPEC.replace("name: loans", "name: adult"), material_dir=tmp_path)


# ----- model card and display ------------------------------------------------------------------

def test_the_brier_score_is_twice_scikit_learns_binary_brier_loss():
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(1)
    p = rng.uniform(size=50)
    y = rng.integers(0, 2, 50)
    # Summed over both classes, the squared error counts each item's error twice.
    assert np.isclose(brier_score(np.column_stack([1 - p, p]), y), 2 * brier_score_loss(y, p))


def test_the_calibration_error_by_hand():
    # Top-class confidences 0.95, 0.95 (bin 10: both right) and 0.55, 0.55 (bin 6: one right):
    # ECE = 0.5 * |0.95 - 1| + 0.5 * |0.55 - 0.5| = 0.05.
    proba = np.array([[0.95, 0.05], [0.05, 0.95], [0.55, 0.45], [0.45, 0.55]])
    y = np.array([0, 1, 0, 0])
    assert np.isclose(expected_calibration_error(proba, y), 0.05)


def test_the_reliability_bins_by_hand():
    # The same four items: only the bins that hold items, low to high, with their shares.
    proba = np.array([[0.95, 0.05], [0.05, 0.95], [0.55, 0.45], [0.45, 0.55]])
    y = np.array([0, 1, 0, 0])
    bins = reliability_bins(proba, y)
    assert [b["count"] for b in bins] == [2, 2]
    table = [[b[k] for k in ("low", "high", "share", "confidence", "accuracy")] for b in bins]
    assert table[0] == pytest.approx([0.5, 0.6, 0.5, 0.55, 0.5])
    assert table[1] == pytest.approx([0.9, 1.0, 0.5, 0.95, 1.0])


def test_numbers_of_a_thousand_and_more_are_shown_without_exponent():
    # Before the fix a non-integer column showed 1001.5 as "1e+03".
    feature = Feature("area", label="Area")
    assert feature.display_value(1001.5) == "1,002"
    assert feature.display_value(0.08474) == "0.0847"


def test_the_command_line_writes_a_draft_codebook_and_never_overwrites(tmp_path, capsys):
    from experiments.__main__ import main

    write(tmp_path, loans())
    out = tmp_path / "draft.yaml"
    assert main(["codebook", str(tmp_path / "loans.csv"), "--target", "approved",
                 "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["columns"]["region"]["kind"] == "categorical"
    assert main(["codebook", str(tmp_path / "loans.csv"), "--target", "approved",
                 "--out", str(out)]) == 2
    assert main(["codebook", str(tmp_path / "loans.csv"), "--target", "nope"]) == 2
    assert "no target column 'nope'" in capsys.readouterr().err


def test_a_supplied_model_gets_exactly_the_model_agnostic_methods(tmp_path):
    """Oracle: running every tabular method on a supplied model; the ones that fail are the
    ones a spec with model_file refuses."""
    from experiments.scenarios.own import MODEL_SPECIFIC_METHODS
    from explainers.registry import available_methods, explain

    frame = loans(n=120)
    _dump_skops(_fitted_pipeline(frame, FEATURES), tmp_path / "m.skops")
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "m.skops", "model": "supplied"}
    scenario, _ = loaded(tmp_path, section)
    failing = set()
    for method in set(available_methods()) - {"lime_text"}:  # lime_text explains texts
        try:
            explain(method, scenario.model, scenario.X_test[0], dataset=scenario.dataset,
                    random_state=0)
        except Exception:  # any failure: the method needs what a file does not give
            failing.add(method)
    assert failing == MODEL_SPECIFIC_METHODS
    spec = SPEC.replace("codebook: loans.codebook.yaml", "model_file: m.skops").replace(
        "conditions: [{name: ai}]", "conditions: [{name: ai, explanation: {method: tree_shap}}]")
    with pytest.raises(SpecError, match=r"conditions\[0\]\.explanation\.method: 'tree_shap' "
                                        "reads the model's internals"):
        parse_spec(spec, material_dir=tmp_path)


def test_a_spreadsheet_csv_with_a_byte_order_mark_keeps_its_first_column_name(tmp_path):
    frame = loans()[["approved", "age", "income", "region", "grade"]]  # the target first
    section = write(tmp_path, frame)
    path = tmp_path / "loans.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Excel writes "CSV UTF-8"
    scenario, _ = loaded(tmp_path, section)
    assert scenario.task == "classification" and len(scenario.features) == 4


def test_a_parquet_file_over_the_row_limit_is_refused_from_its_footer(tmp_path, monkeypatch):
    import experiments.scenarios.own as own

    monkeypatch.setattr(own, "MAX_ROWS", 50)
    section = write(tmp_path, loans(), CODEBOOK, name="loans.parquet")
    refused(tmp_path, section, "loans.parquet: 80 rows, more than the limit of 50")


def test_a_supplied_model_takes_no_planted_bug_and_no_feature_sets(tmp_path):
    frame = loans()
    _dump_skops(_fitted_pipeline(frame, FEATURES), tmp_path / "m.skops")
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "m.skops", "model": "supplied",
               "bug": "label_noise"}
    refused(tmp_path, section, "m.skops: planted bugs retrain the model")
    spec = SPEC.replace("codebook: loans.codebook.yaml", "model_file: m.skops").replace(
        "conditions: [{name: ai}]", "conditions: [{name: ai, features: [age, income]}]")
    with pytest.raises(SpecError, match="a model brought as a file takes all its columns"):
        parse_spec(spec, material_dir=tmp_path)


def test_onnx_models_on_one_float_tensor_classify_and_regress_like_their_source(tmp_path):
    """One input tensor: the features in the data's column order, categoricals as codes.
    Oracle: the scikit-learn models the ONNX files were exported from."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LinearRegression, LogisticRegression

    frame = loans(n=200)
    trained, _ = loaded(tmp_path, write(tmp_path, frame, CODEBOOK))  # the coded matrix
    classifier = LogisticRegression(max_iter=2000).fit(trained.X_train, trained.y_train)
    exported = to_onnx(classifier, initial_types=[("X", FloatTensorType([None, 4]))],
                       options={"zipmap": False})
    (tmp_path / "c.onnx").write_bytes(exported.SerializeToString())
    section = {**write(tmp_path, frame, CODEBOOK), "model_file": "c.onnx", "model": "supplied"}
    supplied, _ = loaded(tmp_path, section)
    assert np.allclose(supplied.model.predict_proba(supplied.X_test),
                       classifier.predict_proba(supplied.X_test), atol=1e-4)

    numbers = frame.drop(columns=["loan_id", "region", "grade"])
    numbers["approved"] = numbers["income"] * 0.1 + numbers["age"]
    regression, _ = loaded(tmp_path, {**write(tmp_path, numbers), "model": "linear"})
    regressor = LinearRegression().fit(regression.X_train, regression.y_train)
    exported = to_onnx(regressor, initial_types=[("X", FloatTensorType([None, 2]))])
    (tmp_path / "r.onnx").write_bytes(exported.SerializeToString())
    section = {**write(tmp_path, numbers), "model_file": "r.onnx", "model": "supplied"}
    supplied, _ = loaded(tmp_path, section)
    assert supplied.task == "regression"
    assert np.allclose(supplied.test_predictions, regressor.predict(supplied.X_test), rtol=1e-4)


def test_the_scaffolding_attack_is_refused_on_own_data_for_now(tmp_path):
    write(tmp_path, loans(), CODEBOOK)
    spec = SPEC.replace("codebook: loans.codebook.yaml}", "codebook: loans.codebook.yaml, "
                        "scaffolding: {biased_feature: age, innocuous_feature: income}}")
    with pytest.raises(SpecError, match=r"scenario\.scaffolding: the scaffolding attack is not"):
        parse_spec(spec, material_dir=tmp_path)


def test_the_check_command_prints_the_model_card_of_the_example(capsys):
    from experiments.__main__ import main

    assert main(["check", "examples/studies/own_material/tumours.yaml"]) == 0
    out = capsys.readouterr().out
    assert '"model": "gbm"' in out and '"accuracy"' in out and '"calibration_error"' in out
    assert "Nucleus radius (mean)" in out  # one item, as a participant reads it
