"""HTML fragments for the example, counterfactual, saliency, text and global kinds.

Checked by parsing the fragment (balanced tags, SVGs with role/title/desc), by reading the
visible text, and with hostile strings in every field a data set or model can supply.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from explainers.base import Explanation, Provenance
from explainers.render import render_html
from explainers.render.saliency import describe

EVIL = '<script>alert("x")</script>'
VOID = {"br", "rect", "stop", "img", "meta", "link", "hr", "input"}


class Tree(HTMLParser):
    """Collects tags, checks nesting, and gathers the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tree:
    tree = Tree()
    tree.feed(html)
    tree.close()
    assert tree.stack == [], f"unclosed tags {tree.stack}"
    assert "<script" not in html
    return tree


def _explanation(kind, content, metrics=None, class_name=EVIL) -> Explanation:
    return Explanation(
        kind=kind,
        method="m",
        target=1,
        prediction={"class_index": 1, "class_name": class_name, "probability": 0.8},
        content=content,
        provenance=Provenance("m", {}, 0, "f", {}),
        metrics=metrics or {},
    )


def _svgs_are_accessible(tree: Tree, html: str) -> None:
    svgs = [attrs for tag, attrs in tree.tags if tag == "svg"]
    assert svgs and all(a.get("role") == "img" for a in svgs)
    assert html.count("<title>") >= len(svgs) and html.count("<desc>") >= len(svgs)


def _change(label):
    return {
        "feature": "f",
        "label": label,
        "from": 1.0,
        "to": 2.0,
        "from_display": EVIL,
        "to_display": "2 k$",
    }


def test_counterfactual_table_lists_feature_now_and_would_need_to_be():
    content: dict[str, Any] = {
        "cost_name": "mad_l1",
        "solver": "lp",
        "target_class": None,
        "query": {},
        "counterfactuals": [
            {
                "changes": [_change(EVIL), _change("Debt")],
                "values": [2.0],
                "cost": 0.5,
                "distance": 0.5,
                "prediction": {"class_index": 0, "class_name": "approved", "probability": 0.6},
                "valid": True,
            }
        ],
    }
    html = render_html(_explanation("counterfactual", content))
    tree = parse(html)
    headers = [t for t, _ in tree.tags if t == "th"]
    assert len(headers) == 3 + 2
    text = "".join(tree.text)
    assert "Would need to be" in text and "Debt" in text and EVIL in text  # shown, escaped


def test_a_counterfactual_without_options_says_so():
    content: dict[str, Any] = {
        "cost_name": "mad_l1",
        "solver": "lp",
        "target_class": None,
        "query": {},
        "counterfactuals": [],
    }
    text = "".join(parse(render_html(_explanation("counterfactual", content))).text)
    assert "No change" in text


def test_example_cards_show_values_true_label_and_the_ais_prediction():
    examples = [
        {
            "index": 3,
            "role": "nearest",
            "score": 0.2,
            "features": {EVIL: EVIL},
            "values": [1.0],
            "label": 0,
            "label_name": EVIL,
            "prediction": 1,
            "prediction_name": "yes",
        },
        {
            "index": 4,
            "role": "prototype",
            "score": 0.5,
            "image": np.eye(8).tolist(),
            "label": 1,
            "label_name": "1",
            "prediction": 1,
            "prediction_name": "1",
        },
    ]
    content = {"score_name": "distance", "score_help": EVIL, "examples": examples}
    html = render_html(_explanation("examples", content))
    tree = parse(html)
    text = "".join(tree.text)
    assert text.count("Recorded label") == 2 and "AI's prediction" in text
    assert "the AI is wrong here" in text  # first card: label 0, prediction 1
    _svgs_are_accessible(tree, html)


def test_saliency_map_is_an_accessible_svg_with_a_legend_and_a_text_alternative():
    attributions = np.zeros((8, 8))
    attributions[0, 7] = 1.0
    attributions[7, 0] = -0.8
    content = {
        "shape": [8, 8],
        "attributions": attributions.tolist(),
        "image": np.eye(8).tolist(),
        "value_range": [0, 1],
        "score": "logit",
    }
    html = render_html(_explanation("saliency", content))
    tree = parse(html)
    _svgs_are_accessible(tree, html)
    assert html.count("<desc>") == 2  # map and legend
    rects = [a for t, a in tree.tags if t == "rect" and a.get("fill-opacity")]
    assert len(rects) == 64
    text = "".join(tree.text)
    assert "top right" in text and "bottom left" in text and EVIL in text
    assert "+" in text and "\u2212" in text  # sign glyphs, not colour alone


def test_the_text_alternative_names_the_regions_of_strongest_evidence():
    a = np.zeros((9, 9))
    a[4, 4] = 2.0
    a[0, 0] = -1.0
    assert describe(a, "7") == (
        "The strongest evidence for “7” is in the centre. "
        "The strongest evidence against “7” is in the top left."
    )


def test_text_marks_words_with_sign_styles_and_lists_them():
    tokens = [
        {"text": "great", "start": 0, "end": 5, "weight": 0.4},
        {"text": " ", "start": 5, "end": 6, "weight": None},
        {"text": EVIL, "start": 6, "end": 30, "weight": -0.2},
    ]
    words = [
        {"word": "well-made", "weight": 0.3, "count": 1},
        {"word": "great", "weight": 0.4, "count": 1},
        {"word": EVIL, "weight": -0.2, "count": 1},
    ]
    content = {
        "text": "x",
        "tokens": tokens,
        "words": words,
        "output": "probability",
        "intercept": 0.1,
    }
    html = render_html(_explanation("text", content, class_name="positive"))
    tree = parse(html)
    marks = [a for t, a in tree.tags if t == "mark"]
    assert len(marks) == 2
    assert "solid" in str(marks[0]["style"]) and "wavy" in str(marks[1]["style"])
    text = "".join(tree.text)
    assert "great (+0.400)" in text and "(\u22120.200)" in text
    assert "well-made (+0.300)" in text  # hyphens in words stay hyphens


@pytest.mark.parametrize("summary", ["rules", "importance", "counterfactual_summary"])
def test_global_summaries_render_escaped(summary):
    content = {
        "rules": {
            "summary": "rules",
            "depth": 1,
            "rules": [
                {
                    # The rule is written from its conditions (in the page's language).
                    "conditions": [{"feature": "a", "label": EVIL, "op": ">", "threshold": 1.0,
                                    "threshold_display": "1"}],
                    "text": f"IF {EVIL} > 1 THEN yes",
                    "class_index": 1,
                    "class_name": "yes",
                    "support": 10,
                    "confidence": 0.9,
                    "covers_input": True,
                }
            ],
        },
        "importance": {
            "summary": "importance",
            "importances": [
                {"feature": "a", "label": EVIL, "value": 0.3},
                {"feature": "b", "label": "B", "value": 0.1},
            ],
        },
        "counterfactual_summary": {
            "summary": "counterfactual_summary",
            "group_size": 5,
            "group_class": 1,
            "feature_changes": [
                {
                    "feature": "a",
                    "label": EVIL,
                    "share_changed": 0.6,
                    "median_change": 2.0,
                    "median_change_display": "+2",
                }
            ],
        },
    }[summary]
    html = render_html(_explanation("global", content, {"fidelity": 0.9, "recourse_rate": 0.8}))
    tree = parse(html)
    assert EVIL in "".join(tree.text)
    if summary == "importance":
        _svgs_are_accessible(tree, html)
        assert "<desc>" in html
    if summary == "rules":
        assert "applies to this case" in "".join(tree.text)
