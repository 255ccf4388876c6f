"""A researcher's own texts (experiments.scenarios.own_texts): a CSV with a text and a label
column, trained and explained like the bundled sentiment scenario.

Bad material: one test per case, each checking that the error names the file (and row and
column where there is one) and that nothing was stored. Oracles: the written CSV itself (what
participants must read and what the model must learn from), the words of each text (what LIME
may weigh) and scikit-learn's CountVectorizer (the vocabulary the model learns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.scenarios import load_scenario
from experiments.scenarios import own as own_module
from experiments.scenarios.own import (
    MAX_CLASSES,
    MAX_DATA_BYTES,
    check_material,
    material_from_spec,
)
from experiments.scenarios.own_texts import MAX_TEXT_CHARS
from experiments.spec import SpecError, parse_spec
from explainers.registry import explain
from tests.experiments.own_material_cases import refused

N = 80
GOOD = ("lovely", "friendly", "fresh", "excellent", "cosy")
BAD = ("rude", "stale", "noisy", "dirty", "bitter")
THINGS = ("coffee", "staff", "bread", "room", "soup")


def reviews(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Short reviews: a thing and one or two words of praise or criticism, and the label."""
    rng = np.random.default_rng(seed)
    liked = rng.random(n) < 0.5
    texts = [f"The {rng.choice(THINGS)} was {rng.choice(GOOD if ok else BAD)} and "
             f"{rng.choice(GOOD if ok else BAD)}." for ok in liked]
    return pd.DataFrame({"review_id": [f"R{i:03d}" for i in range(n)], "review": texts,
                         "label": np.where(liked, "liked", "disliked")})


def write(tmp_path: Path, frame: pd.DataFrame, codebook: dict | None = None) -> dict:
    """Write the material; returns the spec's scenario section."""
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    section = {"name": "reviews", "data": "reviews.csv", "modality": "text", "text": "review",
               "target": "label", "model": "bow_logistic", "seed": 0}
    if codebook is not None:
        (tmp_path / "reviews.codebook.yaml").write_text(yaml.safe_dump(codebook))
        section["codebook"] = "reviews.codebook.yaml"
    return section


def loaded(tmp_path: Path, section: dict):
    store = tmp_path / "store"
    section = {**section, **check_material(section, base_dir=tmp_path, store=store)}
    return load_scenario("reviews", model=section["model"], random_state=0,
                         material=material_from_spec(section, store))


# ----- loads, trains, explains -------------------------------------------------------------------

def test_the_texts_load_train_and_show_as_written(tmp_path):
    frame = reviews()
    scenario = loaded(tmp_path, write(tmp_path, frame))
    assert scenario.dataset.__class__.__name__ == "TextDataset"
    assert scenario.n_test == N // 4 and len(scenario.y_train) == N - N // 4
    written = dict(zip(frame["review"], frame["label"], strict=True))
    for i in range(scenario.n_test):  # each item is a row's text, with that row's label
        text = scenario.item(i)["text"]
        assert scenario.class_names[scenario.y_test[i]] == written[text]
    assert scenario.class_names == ("disliked", "liked")  # the labels' sorted order
    card = scenario.model_card
    assert card["model"] == "bow_logistic" and card["estimator"] == "LogisticRegression"
    assert card["excluded_columns"] == ["review_id"] and card["test_metrics"]["accuracy"] > 0.9


def test_the_model_is_the_sentiment_scenarios_bag_of_words_pipeline(tmp_path):
    from sklearn.feature_extraction.text import CountVectorizer

    scenario = loaded(tmp_path, write(tmp_path, reviews()))
    bundled = load_scenario("sentiment")
    assert [type(s).__name__ for _, s in scenario.model.steps] == \
        [type(s).__name__ for _, s in bundled.model.steps]
    learned = set(scenario.model.named_steps["bag_of_words"].vocabulary_)
    oracle = CountVectorizer(binary=True, min_df=2, token_pattern=r"(?u)[@#]?\b\w\w+\b")
    oracle.fit(list(scenario.X_train))
    assert learned == set(oracle.vocabulary_)


def test_lime_weighs_the_words_of_the_text_and_finds_the_praise(tmp_path):
    scenario = loaded(tmp_path, write(tmp_path, reviews()))
    text = scenario.item(0)["text"]
    explanation = explain("lime_text", scenario.model, text, dataset=scenario.dataset,
                          random_state=0, num_samples=300)
    words = {w["word"] for w in explanation.content["words"]}
    assert words == {w.lower() for w in text.replace(".", "").split()}
    top = explanation.content["words"][0]["word"]
    assert top in GOOD + BAD  # the strongest word is one that carries the verdict


def test_nearest_examples_are_training_texts(tmp_path):
    scenario = loaded(tmp_path, write(tmp_path, reviews()))
    explanation = explain("nearest_examples", scenario.model, scenario.item(0)["text"],
                          dataset=scenario.dataset, random_state=0)
    assert explanation.kind == "examples"
    assert explanation.content["examples"]


def test_a_codebook_words_the_labels_and_the_description(tmp_path):
    codebook = {"description": "Each text is a review of a bakery.",
                "columns": {"label": {"label": "Verdict", "categories": {
                    "disliked": "Did not like it", "liked": "Liked it"}}}}
    scenario = loaded(tmp_path, write(tmp_path, reviews(), codebook))
    assert scenario.class_names == ("Did not like it", "Liked it")
    assert scenario.description == "Each text is a review of a bakery."
    assert scenario.target_label == "Verdict"


# ----- bad material: one test per case -----------------------------------------------------------

def test_a_missing_text_column_is_named_with_the_columns_there_are(tmp_path):
    section = write(tmp_path, reviews().rename(columns={"review": "comment"}))
    refused(tmp_path, section, "reviews.csv", "no text column 'review'", "comment")


def test_an_empty_text_names_its_row_and_column(tmp_path):
    frame = reviews()
    frame.loc[[6, 30], "review"] = "   "
    refused(tmp_path, write(tmp_path, frame), "reviews.csv", "row 7", "column 'review'",
            "empty text (2 in the column)")


def test_a_text_too_long_to_read_on_a_page_names_its_row(tmp_path):
    frame = reviews()
    frame.loc[11, "review"] = "word " * (MAX_TEXT_CHARS // 4)
    refused(tmp_path, write(tmp_path, frame), "reviews.csv", "row 12", "column 'review'",
            f"limit of {MAX_TEXT_CHARS:,}")


def test_a_one_class_label_is_refused(tmp_path):
    section = write(tmp_path, reviews().assign(label="liked"))
    refused(tmp_path, section, "reviews.csv", "column 'label'", "one value ('liked')")


def test_too_many_classes_are_refused_with_the_limit(tmp_path):
    frame = reviews()
    frame["label"] = [f"class{i % (MAX_CLASSES + 1)}" for i in range(N)]
    refused(tmp_path, write(tmp_path, frame), "reviews.csv", "column 'label'",
            f"more than {MAX_CLASSES}")


def test_a_label_of_many_numbers_is_still_classes_and_refused_as_too_many(tmp_path):
    frame = reviews().assign(label=[str(i % 30) for i in range(N)])
    refused(tmp_path, write(tmp_path, frame), "reviews.csv", "30 classes")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    section = write(tmp_path, reviews())
    with (tmp_path / "reviews.csv").open("r+b") as handle:
        handle.truncate(MAX_DATA_BYTES + 1)  # sparse: no 100 MiB actually written
    refused(tmp_path, section, "reviews.csv", f"limit of {MAX_DATA_BYTES // 1024**2} MiB")


def test_too_many_rows_are_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(own_module, "MAX_ROWS", 50)
    refused(tmp_path, write(tmp_path, reviews()), "reviews.csv", "more than 50 rows")


def test_too_few_rows_are_refused(tmp_path):
    refused(tmp_path, write(tmp_path, reviews(n=20)), "reviews.csv", "20 rows",
            "at least 40")


def test_the_text_column_cannot_also_be_the_label(tmp_path):
    section = {**write(tmp_path, reviews()), "target": "review"}
    refused(tmp_path, section, "reviews.csv", "'review' cannot be both the texts and the target")


def test_texts_that_share_no_word_are_refused_naming_the_column(tmp_path):
    frame = reviews().assign(review=[f"word{i}" for i in range(N)])
    refused(tmp_path, write(tmp_path, frame), "reviews.csv", "column 'review'",
            "no word occurs in two training texts")


def test_a_codebook_that_calls_the_label_numeric_is_refused(tmp_path):
    codebook = {"columns": {"label": {"kind": "numeric"}}}
    refused(tmp_path, write(tmp_path, reviews(), codebook), "reviews.codebook.yaml",
            "predicts a class, not a number")


def test_a_model_that_does_not_read_texts_is_refused_naming_the_one_that_does(tmp_path):
    section = {**write(tmp_path, reviews()), "model": "gbm"}
    refused(tmp_path, section, "scenario.model: unknown 'gbm' for texts", "bow_logistic")


# ----- the spec ---------------------------------------------------------------------------------

SPEC = """
slug: own-reviews
title: Own reviews
scenario: {name: reviews, data: reviews.csv, modality: text, text: review, target: label}
task: {design: decision, question: "Did the reviewer like it?"}
trials: {count: 4}
conditions:
  - {name: ai}
  - {name: lime, explanation: {method: lime_text}}
recruitment: {completion_code: DONE1234, screenout_code: OUT12345}
"""


def test_a_spec_of_own_texts_defaults_to_the_text_model_and_records_the_hash(tmp_path):
    write(tmp_path, reviews())
    spec = parse_spec(SPEC, material_dir=tmp_path, material_store=tmp_path / "store")
    s = spec["scenario"]
    assert s["model"] == "bow_logistic" and s["task"] == "classification"
    assert (tmp_path / "store" / f"{s['sha256']['data']}.csv").is_file()
    assert parse_spec(yaml.safe_dump(spec)) == spec  # re-validates without the files


@pytest.mark.parametrize(("old", "new", "message"), [
    ("method: lime_text", "method: tree_shap",
     r"conditions\[1\]\.explanation\.method: 'tree_shap' does not explain texts; a study of "
     r"texts can show lime_text, nearest_examples"),
    ("text: review, ", "", r"scenario\.text: material with modality: text names the column"),
    ("modality: text, ", "", r"scenario\.text: names the column of texts of material with "),
    ("target: label}", "target: label, model_file: model.skops}",
     r"scenario\.model_file: a model brought as a file takes a table"),
    ("target: label}", "target: label, bug: ood}", r"scenario\.bug: the ood bug on texts"),
])
def test_a_spec_of_own_texts_refuses_what_texts_cannot_have(tmp_path, old, new, message):
    write(tmp_path, reviews())
    with pytest.raises(SpecError, match=message):
        parse_spec(SPEC.replace(old, new), material_dir=tmp_path)


def test_bad_texts_in_a_spec_are_a_spec_error_and_store_nothing(tmp_path):
    frame = reviews()
    frame.loc[2, "review"] = ""
    write(tmp_path, frame)
    with pytest.raises(SpecError, match=r"scenario: reviews.csv: row 3, column 'review'"):
        parse_spec(SPEC, material_dir=tmp_path, material_store=tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_a_bundled_scenario_takes_no_text_column(tmp_path):
    spec = SPEC.replace("{name: reviews, data: reviews.csv, modality: text, text: review, "
                        "target: label}", "{name: sentiment, text: review}")
    with pytest.raises(SpecError, match=r"scenario\.text: belongs to a scenario of your own"):
        parse_spec(spec)


def test_the_check_command_prints_the_model_card_of_the_example(capsys):
    from experiments.__main__ import main

    assert main(["check", "examples/studies/own_material/reviews.yaml"]) == 0
    out = capsys.readouterr().out
    assert '"model": "bow_logistic"' in out and '"accuracy"' in out
    assert '"Liked it"' in out and '"text":' in out
