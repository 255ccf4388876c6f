"""A gallery page: one explanation of every registered method, rendered, with its metrics.

Used by ``python -m experiments gallery --out DIR`` and the researchers' gallery page. Cases
come from the bundled study scenarios (``experiments.scenarios``), or with ``--bundled-only``
from scikit-learn's bundled data and a small synthetic text set. It lives in ``experiments``,
not ``explainers``, because it needs the scenarios: ``explainers`` depends on nothing of ours.

With the scenarios it also shows the *controls* a study can run, each as a pair on the same
input (``out/controls/<name>.json``): the scaffolding attack (Slack et al. 2020; LIME of a
biased AI and of its scaffolded twin) and the model-randomisation check (Adebayo et al. 2018;
TreeSHAP of the trained model and of a copy with random weights). Every explanation is shown
in the participants' plain wording, with the technical one beside it.
"""

from __future__ import annotations

import json
import traceback
import warnings
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from experiments.scenarios import load_scenario
from experiments.scenarios.attacks import load_scaffolded
from explainers.base import Classifier, Explanation, Regressor
from explainers.data import Dataset
from explainers.registry import available_methods, explain
from explainers.render import render_html


@dataclass(frozen=True)
class Case:
    """One model, its data description and the input whose prediction is explained."""

    name: str
    model: Classifier | Regressor
    dataset: Dataset
    x: Any


# Which case suits which method; methods not listed try every case in CASE_ORDER.
PREFERRED = {
    **dict.fromkeys(
        ["gradient", "gradient_x_input", "smoothgrad", "integrated_gradients", "prototypes"],
        "digits",
    ),
    "lime_text": "text",
    **dict.fromkeys(
        ["influence", "counterfactual_mad", "recourse", "counterfactual_summary"], "tabular_linear"
    ),
    # A transparent model is only an equation when it is a linear regression (Poursabzi-Sangdeh).
    "linear_model": "regression_linear",
}
CASE_ORDER = ("tabular_trees", "tabular_linear", "digits", "text", "regression_linear")

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ccc;padding:1rem 0}
h2 code{font-size:1.1em} .meta{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:.5rem 0} th,td{border:1px solid #ddd;padding:.2rem .5rem;
text-align:left} caption{text-align:left;padding:.3rem 0}
.xl-cards{display:flex;flex-wrap:wrap;gap:.75rem;list-style:none;padding:0}
.xl-card{border:1px solid #ddd;border-radius:6px;padding:.5rem;max-width:16rem}
.xl-card dl{display:grid;grid-template-columns:auto auto;gap:0 .5rem;font-size:.85em}
.xl-card dd{margin:0} mark{background:none;color:inherit} .error{color:#a00}
"""


def build_gallery(
    out: Path,
    *,
    methods: list[str] | None = None,
    random_state: int = 0,
    use_scenarios: bool = True,
    controls: bool | None = None,
) -> dict[str, str]:
    """Write ``out/<method>.json`` and ``out/index.html``; return method -> case used or error.

    ``controls`` (default: on for a full build from the scenarios) adds the control pairs."""
    out.mkdir(parents=True, exist_ok=True)
    cases = _cases(use_scenarios, random_state)
    sections, outcome = [], {}
    if controls if controls is not None else (methods is None and use_scenarios):
        for control in build_controls(out / "controls", random_state=random_state):
            sections.append(_control_section(control))
            outcome[f"control:{control['name']}"] = "scenarios"
    for method in methods or available_methods():
        explanation, case, error = _first_that_works(method, cases, random_state)
        if explanation is None:
            outcome[method] = f"error: {error}"
            sections.append(_section(method, None, "", error))
            continue
        (out / f"{method}.json").write_text(explanation.to_json())
        outcome[method] = case
        sections.append(_section(method, explanation, case, ""))
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>ExplainLab explanation gallery</title>"
        f"<style>{STYLE}</style></head><body><h1>Explanation gallery</h1>"
        f'<p class="meta">{len(sections)} methods, seed {random_state}. Each section '
        "explains the model's predicted class for one input.</p>"
        f"{''.join(sections)}</body></html>"
    )
    (out / "index.html").write_text(page)
    return outcome


def _first_that_works(
    method: str, cases: dict[str, Case], random_state: int
) -> tuple[Explanation | None, str, str]:
    preferred = PREFERRED.get(method)
    names = [preferred] if preferred else [n for n in CASE_ORDER if n in cases]
    error = "no suitable case"
    for name in names:
        case = cases.get(name)
        if case is None:
            continue
        try:
            return (
                explain(
                    method, case.model, case.x, dataset=case.dataset, random_state=random_state
                ),
                case.name,
                "",
            )
        except Exception as exc:  # a method that does not fit this case: try the next one
            error = "".join(traceback.format_exception_only(exc)).strip()
    return None, "", error


def _section(method: str, explanation: Explanation | None, case: str, error: str) -> str:
    if explanation is None:
        return (
            f'<section id="{escape(method)}"><h2><code>{escape(method)}</code></h2>'
            f'<p class="error">Not computed: {escape(error)}</p></section>'
        )
    fragment = _both_wordings(explanation)
    p = explanation.prediction
    metrics = "".join(
        f'<tr><th scope="row">{escape(k)}</th><td>{v:.4g}</td></tr>'
        for k, v in sorted(explanation.metrics.items())
    )
    table = f'<table class="metrics"><caption>Metrics</caption>{metrics}</table>' if metrics else ""
    return (
        f'<section id="{escape(method)}"><h2><code>{escape(method)}</code></h2>'
        f'<p class="meta">Kind: {escape(explanation.kind)} · case: {escape(case)} · '
        f"prediction: {escape(str(p.get('class_name')))} ({float(p.get('probability', 0)):.0%})"
        f' · <a href="{escape(method)}.json">JSON</a></p>{fragment}{table}</section>'
    )


def _both_wordings(explanation: Explanation) -> str:
    """The participants' plain fragment, then the technical one (when it differs)."""
    try:
        plain = render_html(explanation)
        technical = render_html(explanation, wording="technical")
    except Exception as exc:  # show the gap rather than lose the page
        return f'<p class="error">No renderer: {escape(repr(exc))}</p>'
    if technical == plain:
        return plain
    return (f"{plain}<details><summary>Technical wording</summary>{technical}</details>")


def build_controls(out: Path, *, random_state: int = 0) -> list[dict[str, Any]]:
    """The control pairs (see the module docstring), written as ``out/<name>.json``; each is
    ``{"name", "title", "note", "views": [{"label", "explanation"}, ...]}``."""
    out.mkdir(parents=True, exist_ok=True)
    biased, scaffolded = load_scaffolded("compas", model="gbm", random_state=random_state,
                                         biased_feature="race",
                                         innocuous_feature="c_charge_degree")
    agree = np.flatnonzero(biased.model.predict(biased.X_test)
                           == scaffolded.model.predict(biased.X_test))
    row = biased.X_test[int(agree[0])]
    trained = load_scenario("german_credit", model="gbm", random_state=random_state)
    randomised = load_scenario("german_credit", model="gbm", random_state=random_state,
                               bug="randomised_weights")
    pairs = [
        ("scaffolding", "Scaffolding attack (Slack et al. 2020)",
         "The AI decides by race alone. Its scaffolded twin gives the same answers on real "
         "records but answers by the charge on the perturbed records LIME asks about, so LIME "
         "of the twin hides the bias. A spec shows the twin's explanations with "
         "model_variant: scaffolded.", "lime",
         [("LIME of the biased AI (honest)", biased), ("LIME of its scaffolded twin", scaffolded)],
         row),
        ("randomised_model", "Model randomisation (Adebayo et al. 2018)",
         "The same explanation method for the trained model and for a copy whose weights and "
         "splits were redrawn at random (bug: randomised_weights). An explanation that barely "
         "changes does not reflect the model.", "tree_shap",
         [("TreeSHAP of the trained model", trained), ("TreeSHAP of the randomised copy",
                                                       randomised)], trained.X_test[0]),
    ]
    controls = []
    for name, title, note, method, views, x in pairs:
        control = {"name": name, "title": title, "note": note, "views": [
            {"label": label, "explanation": explain(method, scenario.model, x,
                                                    dataset=scenario.dataset,
                                                    random_state=random_state).to_dict()}
            for label, scenario in views]}
        (out / f"{name}.json").write_text(json.dumps(control, sort_keys=True))
        controls.append(control)
    return controls


def _control_section(control: dict[str, Any]) -> str:
    views = "".join(
        f"<div><h3>{escape(view['label'])}</h3>"
        f"{_both_wordings(Explanation.from_dict(view['explanation']))}</div>"
        for view in control["views"])
    return (f'<section id="control-{escape(control["name"])}"><h2>{escape(control["title"])}'
            f'</h2><p class="meta">{escape(control["note"])}</p>{views}</section>')


def _cases(use_scenarios: bool, random_state: int) -> dict[str, Case]:
    return _scenario_cases(random_state) if use_scenarios else _bundled_cases(random_state)


def _scenario_cases(random_state: int) -> dict[str, Case]:
    cases = {}
    for key, name, model in (
        ("tabular_trees", "german_credit", "gbm"),
        ("tabular_linear", "german_credit", "logistic"),
        ("digits", "digits", "mlp"),
        ("text", "sentiment", "bow_logistic"),
        ("regression_linear", "house_prices", "linear"),
    ):
        s = load_scenario(name, model=model, random_state=random_state)
        cases[key] = Case(f"{name} ({model})", s.model, s.dataset, s.X_test[0])
    return cases


@lru_cache(maxsize=2)  # fitting the demo models is the slow part; reuse them in one process
def _bundled_cases(random_state: int) -> dict[str, Case]:
    """scikit-learn's breast cancer, diabetes and digits, and a tiny synthetic review set."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from explainers.base import Feature, TabularDataset
    from explainers.data import ImageDataset, TextDataset

    cancer = load_breast_cancer()
    features = tuple(Feature(str(n).replace(" ", "_"), label=str(n)) for n in cancer.feature_names)
    X, y = cancer.data[:400], cancer.target[:400]
    table = TabularDataset(X, features, ("malignant", "benign"), y, name="breast_cancer")
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    trees = GradientBoostingClassifier(n_estimators=50, random_state=random_state).fit(X, y)
    diabetes = load_diabetes()
    progression = TabularDataset(
        diabetes.data[:400],
        tuple(Feature(str(n), label=str(n)) for n in diabetes.feature_names),
        (),
        diabetes.target[:400],
        name="diabetes",
    )
    line = LinearRegression().fit(diabetes.data[:400], diabetes.target[:400])
    digits = load_digits()
    images = ImageDataset(
        digits.images[:1000],
        digits.target[:1000],
        tuple(str(d) for d in range(10)),
        (8, 8),
        name="digits",
    )
    with warnings.catch_warnings():  # a capped, slightly unconverged MLP is fine for a demo
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((32,), max_iter=150, random_state=random_state).fit(
            images.flat, images.y
        )
    texts, labels = _synthetic_reviews(np.random.default_rng(random_state))
    reviews = TextDataset(texts, labels, ("negative", "positive"), name="reviews")
    bow = make_pipeline(CountVectorizer(binary=True), LogisticRegression()).fit(list(texts), labels)
    return {
        "tabular_trees": Case("breast_cancer (gbm)", trees, table, cancer.data[450]),
        "tabular_linear": Case("breast_cancer (logistic)", linear, table, cancer.data[450]),
        "digits": Case("digits (mlp)", mlp, images, digits.images[1500]),
        "regression_linear": Case("diabetes (linear)", line, progression, diabetes.data[420]),
        "text": Case(
            "reviews (bag of words)",
            bow,
            reviews,
            "The plot was dull but the cast was great and the ending lovely.",
        ),
    }


def _synthetic_reviews(rng: np.random.Generator) -> tuple[tuple[str, ...], np.ndarray]:
    good = ["great", "lovely", "fun", "moving", "clever"]
    bad = ["dull", "awful", "boring", "clumsy", "slow"]
    filler = ["the", "plot", "was", "cast", "ending", "and", "but", "film"]
    texts, labels = [], []
    for _ in range(300):
        label = int(rng.integers(2))
        words = (
            list(rng.choice(good if label else bad, size=2))
            + list(rng.choice(good + bad, size=1))
            + list(rng.choice(filler, size=4))
        )
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return tuple(texts), np.array(labels)


def main_gallery(out: str, methods: str | None, seed: int, bundled_only: bool) -> int:
    """CLI entry: build the gallery and print one line per method."""
    chosen = [m.strip() for m in methods.split(",")] if methods else None
    outcome = build_gallery(
        Path(out), methods=chosen, random_state=seed, use_scenarios=not bundled_only
    )
    for method, where in outcome.items():
        print(f"{method:28s} {where}")
    print(
        json.dumps(
            {
                "index": str(Path(out) / "index.html"),
                "failed": sorted(m for m, w in outcome.items() if w.startswith("error")),
            }
        )
    )
    return 0
