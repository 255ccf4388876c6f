"""Every explanation kind rendered in German and Spanish: no English left, numbers as the
language writes them.

Oracles:
- the compiled catalogues (locale/<lang>/LC_MESSAGES/django.mo, read with the standard
  library): every message a renderer looks up while rendering must have a translation that
  differs from the English, except messages without a letter (names such as "7", numbers);
- a list of English words no German or Spanish sentence contains ("the", "of", "AI", …),
  searched in every text node of the fragment (visible text, SVG titles and descriptions,
  the hidden text alternatives) and its title attributes;
- the English rendering of the same explanation: each number in it appears in the German or
  Spanish one with the marks swapped (0.5 -> 0,5, 2,174 -> 2.174, 68% -> 68 %).
The payloads use the Adult scenario's words, which the catalogues translate (one test
uses German credit's and COMPAS's).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from explainers.base import Explanation, Provenance
from explainers.render import render_html
from explainers.render.words import Words, catalogue

LANGUAGES = ("de", "es")
ENGLISH_WORDS = re.compile(
    r"\b(the|of|and|is|for|to|AI|this|would|than|with|points|case|cases|predicts|evidence|"
    r"words|feature|features|rule|change|prediction|labelled|recorded|probability)\b",
    re.IGNORECASE)  # not "similar" (Spanish too)
# A number as English writes it: 2,174 or 0.25 or 68%.
ENGLISH_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")
MORE = "More than $50K"
LESS = "$50K or less"


def _features() -> list[dict[str, Any]]:
    shown = [("age", "Age", "39 years", 0.12), ("marital", "Marital status", "Married", 0.09),
             ("gain", "Capital gains last year", "2,174 dollars", 0.05),
             ("hours", "Hours worked per week", "40 hours", -0.04),
             ("education", "Education", "Bachelor's degree", 0.02),
             ("sex", "Sex", "Male", 0.01), ("race", "Race", "White", -0.003),
             ("job", "Occupation", "Executive or manager", 0.015),
             ("country", "Country of birth", "United States", 0.002),
             ("loss", "Capital losses last year", "0 dollars", -0.001)]
    return [{"name": n, "label": label, "value": 1.0, "display_value": v, "attribution": a}
            for n, label, v, a in shown]


def _attribution() -> dict[str, Any]:
    return {"features": _features(), "base_value": 0.24, "output_value": 0.5,
            "output_space": "probability"}


def _rule(found: bool = True, coverage: float = 0.12) -> dict[str, Any]:
    conditions = [
        {"feature": "age", "label": "Age", "op": ">=", "value": 38.0,
         "display": "Age is at least 38 years"},
        {"feature": "age", "label": "Age", "op": "<=", "value": 45.0,
         "display": "Age is at most 45 years"},
        {"feature": "gain", "label": "Capital gains last year", "op": "<=", "value": 0.0,
         "display": "Capital gains last year is 0 dollars"},
        {"feature": "marital", "label": "Marital status", "op": "==", "value": 1.0,
         "display": "Marital status is Married"},
    ]
    return {"conditions": conditions, "rule_text": "", "precision": 0.964,
            "coverage": coverage, "found": found, "predicted_class_name": MORE}


def _counterfactual(options: int = 2) -> dict[str, Any]:
    change = [{"feature": "marital", "label": "Marital status", "from": 0.0, "to": 1.0,
               "from_display": "Never married", "to_display": "Married"},
              {"feature": "hours", "label": "Hours worked per week", "from": 40.0, "to": 52.5,
               "from_display": "40 hours", "to_display": "52.5 hours"}]
    counterfactuals = [{"changes": change[: n + 1], "values": [], "cost": 0.75 + n,
                        "distance": 0.75, "valid": True,
                        "prediction": {"class_index": 0, "class_name": LESS,
                                       "probability": 0.6}} for n in range(options)]
    return {"cost_name": "mad_l1", "solver": "lp", "target_class": None, "query": {},
            "counterfactuals": counterfactuals}


def _examples() -> dict[str, Any]:
    tabular = {"index": 3, "role": "nearest", "score": 0.25, "label": 0, "label_name": LESS,
               "prediction": 1, "prediction_name": MORE,
               "features": {"Age": "39 years", "Marital status": "Married",
                            "Capital gains last year": "2,174 dollars"}}
    picture = {"index": 4, "role": "prototype", "score": 0.5, "image": np.eye(8).tolist(),
               "label": 1, "label_name": "7", "prediction": 1, "prediction_name": "7"}
    return {"score_name": "distance",
            "score_help": "Distance to the case being explained (smaller is more similar).",
            "examples": [tabular, picture, {**tabular, "role": "supports", "label": None}]}


def _saliency() -> dict[str, Any]:
    attributions = np.zeros((6, 6))
    attributions[0, 5], attributions[3, 3] = 1.0, -0.5
    return {"shape": [6, 6], "attributions": attributions.tolist(),
            "image": np.eye(6).tolist(), "value_range": [0.0, 1.0]}


def _text() -> dict[str, Any]:
    tokens = [{"text": "Gut", "start": 0, "end": 3, "weight": 0.4},
              {"text": " ", "start": 3, "end": 4, "weight": None},
              {"text": "gemacht", "start": 4, "end": 11, "weight": -0.25}]
    return {"text": "Gut gemacht", "tokens": tokens, "output": "probability",
            "intercept": 0.1, "words": [{"word": "Gut", "weight": 0.4, "count": 1},
                                        {"word": "gemacht", "weight": -0.25, "count": 1}]}


def _global(summary: str) -> dict[str, Any]:
    if summary == "rules":
        conditions = [
            {"feature": "age", "label": "Age", "op": ">", "threshold": 37.5,
             "threshold_display": "37.5 years"},
            {"feature": "marital", "label": "Marital status", "op": "<=", "threshold": 1.0,
             "threshold_display": "“Never married” or “Married”"},
            {"feature": "marital", "label": "Marital status", "op": ">", "threshold": 0.0,
             "threshold_display": "“Married” or “Separated”"}]
        rules = [{"conditions": conditions, "text": "", "class_index": 1, "class_name": MORE,
                  "support": 1234, "confidence": 0.875, "covers_input": True},
                 {"conditions": [], "text": "", "class_index": 0, "class_name": LESS,
                  "support": 12, "confidence": 0.5, "covers_input": False}]
        return {"summary": "rules", "depth": 2, "rules": rules}
    if summary == "importance":
        return {"summary": "importance", "importances": [
            {"feature": "age", "label": "Age", "value": 0.125},
            {"feature": "hours", "label": "Hours worked per week", "value": 0.0625}]}
    if summary == "counterfactual_summary":
        return {"summary": "counterfactual_summary", "group_size": 1500, "group_class": 1,
                "feature_changes": [
                    {"feature": "marital", "label": "Marital status", "share_changed": 0.625,
                     "median_change": 0.0, "median_change_display": "to Married"},
                    {"feature": "hours", "label": "Hours worked per week",
                     "share_changed": 0.25, "median_change": 5.5,
                     "median_change_display": "+5.5 hours"}]}
    return {"summary": "linear_model", "intercept": -2.5, "output_value": 0.1, "terms": [
        {"feature": "age", "label": "Age", "coefficient": 0.035, "value": 39.0,
         "display_value": "39 years", "unit": "years", "unit_one": "year", "contribution": 1.4},
        {"feature": "gain", "label": "Capital gains last year", "coefficient": 0.0002,
         "value": 2174.0, "display_value": "2,174 dollars", "unit": "", "contribution": 0.4}]}


# (case, kind, method, content, render options)
CASES = [
    ("attribution-plain", "attribution", "tree_shap", _attribution(), {}),
    ("attribution-lime", "attribution", "lime", _attribution(), {}),
    ("attribution-technical", "attribution", "tree_shap", _attribution(),
     {"wording": "technical"}),
    ("attribution-log-odds", "attribution", "tree_shap",
     {**_attribution(), "output_space": "log-odds", "base_value": -1.2, "output_value": 0.3},
     {"wording": "technical"}),
    ("rule", "rule", "anchors", _rule(), {}),
    ("rule-everyone", "rule", "anchors", {**_rule(coverage=1.0), "conditions": []}, {}),
    ("rule-almost-nobody", "rule", "anchors", _rule(coverage=0.004), {}),
    ("rule-not-found", "rule", "anchors", _rule(found=False), {}),
    ("counterfactual", "counterfactual", "counterfactual_mad", _counterfactual(), {}),
    ("counterfactual-one", "counterfactual", "counterfactual_mad", _counterfactual(1), {}),
    ("counterfactual-none", "counterfactual", "counterfactual_mad", _counterfactual(0), {}),
    ("examples", "examples", "nearest_examples", _examples(), {}),
    ("saliency", "saliency", "integrated_gradients", _saliency(), {}),
    ("text", "text", "lime_text", _text(), {}),
    *[(f"global-{s}", "global", "m", _global(s), {})
      for s in ("rules", "importance", "counterfactual_summary", "linear_model")],
]


def _explanation(kind: str, method: str, content: dict[str, Any]) -> Explanation:
    return Explanation(kind=kind, method=method, target=1,
                       prediction={"class_index": 1, "class_name": MORE, "probability": 0.625},
                       content=content, provenance=Provenance(method, {}, 0, "f", {}),
                       metrics={"fidelity": 0.9125, "recourse_rate": 0.375})


class Texts(HTMLParser):
    """Every text node and title attribute: what is read, seen or heard."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [value or "" for name, value in attrs if name == "title"]

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _read(html: str) -> str:
    parser = Texts()
    parser.feed(html)
    return " ".join(parser.parts)


def _rendered(case: tuple[Any, ...], language: str, looked_up: list[str] | None = None,
              monkeypatch: Any = None) -> str:
    _, kind, method, content, options = case
    if looked_up is not None:
        original = Words.gettext

        def recording(self: Words, message: str) -> str:
            looked_up.append(message)
            return original(self, message)

        monkeypatch.setattr(Words, "gettext", recording)
    return render_html(_explanation(kind, method, content), language=language, **options)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_message_a_renderer_writes_is_translated(case, language, monkeypatch):
    looked_up: list[str] = []
    _rendered(case, language, looked_up, monkeypatch)
    assert looked_up
    compiled = catalogue(language)
    untranslated = [m for m in looked_up
                    if re.search(r"[A-Za-z]", m) and compiled.gettext(m) == m]
    assert not untranslated


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_no_english_word_is_left_in_the_text(case, language):
    text = _read(_rendered(case, language))
    # The text kind shows its own material (here two German words) as it is.
    assert not ENGLISH_WORDS.findall(text), text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_numbers_are_written_as_the_language_writes_them(case, language):
    english = _read(_rendered(case, "en"))
    text = _read(_rendered(case, language))
    for number in ENGLISH_NUMBER.findall(english):
        written = number.translate(str.maketrans(",.", ".,")).replace("%", "\u00a0%")
        assert written in text, (number, written)


def test_the_english_rendering_is_what_it_was():
    # Oracle: the sentences the English renderers wrote before they were translatable (but a
    # number and its unit now joined by a no-break space).
    html = render_html(_explanation("rule", "anchors", _rule()))
    assert ("Age is at least 38\u00a0years and at most 45\u00a0years" in html
            and "In 96% of similar cases the AI predicts the same." in html)
    html = render_html(_explanation("attribution", "tree_shap", _attribution()))
    assert "For an average case the AI gives “More than $50K” a probability of 24%" in html


def test_german_reads_as_the_item_table_does():
    # Oracle: locale/de (the words the item table shows) and the German number conventions.
    html = render_html(_explanation("attribution", "tree_shap", _attribution()), language="de")
    assert "Alter = 39\u00a0Jahre" in html and "2.174\u00a0Dollar" in html
    assert "„Mehr als 50.000 $“ eine Wahrscheinlichkeit von 24\u00a0%" in html
    assert "+12,0" in html
    rule = render_html(_explanation("rule", "anchors", _rule()), language="de")
    assert "Alter: mindestens 38\u00a0Jahre und höchstens 45\u00a0Jahre" in rule
    assert "In 96\u00a0% der ähnlichen Fälle sagt die KI dasselbe vorher." in rule


@pytest.mark.parametrize(("language", "per_year"),
                         [("en", "per year"), ("de", "pro Jahr"), ("es", "por año")])
def test_a_weight_is_given_per_one_unit_in_every_language(language, per_year):
    # Oracle: the grammar of each language ("per years" and "pro Jahre" before) and locale/.
    html = render_html(_explanation("global", "linear_model", _global("linear_model")),
                       language=language)
    assert f"{per_year}<" in html


def test_a_language_without_a_catalogue_is_an_error_not_english():
    with pytest.raises(LookupError, match="xx"):
        render_html(_explanation("rule", "anchors", _rule()), language="xx")


def test_a_unit_stays_whole_but_a_category_label_after_a_number_still_wraps():
    words = Words("en")
    # Oracle: the no-break space (U+00A0) is the only space the line breaker never uses.
    assert words.value("1,337 sq ft") == "1,337\u00a0sq\u00a0ft"
    # A German-credit category: unbroken, it pushed an influence card 8 px past a 390 px phone.
    label = words.value("200 DM or more, or salary paid in")
    assert label == "200\u00a0DM or more, or salary paid in"


def test_a_category_label_that_starts_with_a_number_is_translated_whole(monkeypatch):
    import gettext

    class Catalogue(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return {"0 to 200 DM": "0 bis 200 DM", "to 200 DM": "WRONG"}.get(message, message)

    words = Words("de")
    monkeypatch.setattr(words, "_catalogue", Catalogue())
    assert words.value("0 to 200 DM") == "0 bis 200 DM"
    assert words.value("2,174 dollars") == "2.174\u00a0dollars"  # no whole entry: number + unit


# Two other bundled tables' words (tabular_specs: German credit, COMPAS): the class, then
# (feature, label, value shown, attribution).
OTHER_TABLES = {
    "german_credit": ("Good credit risk", [
        ("duration", "Loan duration", "24 months", 0.1),
        ("savings", "Savings", "Below 100 DM", -0.05),
        ("status", "Checking account balance", "0 to 200 DM", 0.03),
        ("job", "Time in current job", "1 to 4 years", 0.02)]),
    "compas": ("Re-arrested within two years", [
        ("priors", "Prior offences", "3", 0.2),
        ("charge", "Current charge", "Felony", 0.05),
        ("race", "Race", "African-American", 0.01),
        ("juvenile", "Juvenile misdemeanours", "0", -0.01)]),
}


@pytest.mark.parametrize(("scenario", "language", "expected"), [
    ("german_credit", "de", ["Ersparnisse = Unter 100 DM", "= 24\u00a0Monate",
                             "= 0 bis 200 DM", "= 1 bis 4 Jahre", "„Gute Bonität“"]),
    ("german_credit", "es", ["Ahorros = Menos de 100 DM", "= 24\u00a0meses",
                             "= De 0 a 200 DM", "= De 1 a 4 años", "Buen riesgo crediticio"]),
    ("compas", "de", ["Frühere Straftaten = 3", "Aktuelle Anklage = Verbrechen",
                      "= Afroamerikanisch", "Vergehen im Jugendalter = 0",
                      "Innerhalb von zwei Jahren erneut festgenommen"]),
    ("compas", "es", ["Delitos anteriores = 3", "Acusación actual = Delito grave",
                      "= Afroamericana", "Delitos leves como menor = 0",
                      "Nueva detención en dos años"]),
])
def test_another_table_s_words_are_translated_in_an_explanation(scenario, language, expected,
                                                                monkeypatch):
    # Oracle: the translations written for the catalogues (locale/<lang>), and the lists above.
    class_name, shown = OTHER_TABLES[scenario]
    content = {"features": [{"name": n, "label": label, "value": 1.0, "display_value": v,
                             "attribution": a} for n, label, v, a in shown],
               "base_value": 0.3, "output_value": 0.7, "output_space": "probability"}
    explanation = Explanation(
        kind="attribution", method="tree_shap", target=1,
        prediction={"class_index": 1, "class_name": class_name, "probability": 0.7},
        content=content, provenance=Provenance("tree_shap", {}, 0, "f", {}), metrics={})
    looked_up: list[str] = []
    original = Words.gettext

    def recording(self: Words, message: str) -> str:
        looked_up.append(message)
        return original(self, message)

    monkeypatch.setattr(Words, "gettext", recording)
    text = _read(render_html(explanation, language=language))
    for words in expected:
        assert words in text, words
    compiled = catalogue(language)
    assert not [m for m in looked_up if re.search(r"[A-Za-z]", m) and compiled.gettext(m) == m]
    assert not ENGLISH_WORDS.findall(text), text
