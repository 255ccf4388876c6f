"""The attribution bar chart: escaped, accessible, sorted, signs in text and shape."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from explainers.base import Explanation, Provenance
from explainers.render import render_html
from explainers.render.attribution import render, signed

HOSTILE = '<script>alert("x")</script>'


def make_explanation(values, names=None, output_space="probability"):
    names = names or [f"feature {i}" for i in range(len(values))]
    features = [{"name": n, "label": n, "value": 1.0, "display_value": "1", "attribution": v}
                for n, v in zip(names, values, strict=True)]
    return Explanation(
        kind="attribution", method="tree_shap", target=1,
        prediction={"class_index": 1, "class_name": "approved & <safe>", "probability": 0.8},
        content={"features": features, "base_value": 0.5, "output_value": 0.8,
                 "output_space": output_space},
        provenance=Provenance("tree_shap", {}, 0, "abc", {}),
    )


class Collector(HTMLParser):
    """Collects start tags with their attributes, and all text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    parser = Collector()
    parser.feed(html)
    return parser


def test_a_hostile_feature_name_is_escaped_everywhere():
    html = render(make_explanation([0.3, -0.1], names=[HOSTILE, "age"]))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "approved &amp; &lt;safe&gt;" in html
    assert not any(tag == "script" for tag, _ in parse(html).tags)


def test_the_svg_is_an_image_labelled_by_its_title_and_description():
    html = render(make_explanation([0.3, -0.1]))
    tags = parse(html).tags
    svg = next(attrs for tag, attrs in tags if tag == "svg")
    assert svg["role"] == "img"
    ids = {attrs.get("id") for _, attrs in tags}
    for ref in svg["aria-labelledby"].split():
        assert ref in ids
    assert any(tag == "title" for tag, _ in tags) and any(tag == "desc" for tag, _ in tags)


def test_bars_are_sorted_by_absolute_attribution_with_the_rest_summed():
    html = render(make_explanation([0.01, -0.4, 0.2, 0.05, -0.02]), top_k=3)
    labels = re.findall(r'class="xl-label" x="0" y="\d+" font-size="13">([^<]+)</text>', html)
    assert labels == ["feature 1 = 1", "feature 2 = 1", "feature 3 = 1", "2 other features"]
    assert "\u2212" + "0.01" in html  # -0.02 + 0.01 summed, with a true minus sign


def test_signs_are_written_and_shaped_not_only_coloured():
    html = render(make_explanation([0.12, -0.05]))
    assert "+0.12" in html and "\u22120.05" in html
    assert "\u25b6 +0.12" in html and "\u25c0 \u22120.05" in html
    assert 'fill="url(#' in html  # the negative bar is hatched
    assert "xl-positive" in html and "xl-negative" in html


def test_base_value_prediction_and_a_hidden_text_alternative_are_stated():
    html = render(make_explanation([0.12, -0.05]))
    text = " ".join(parse(html).text)
    assert "base value of 0.50" in text
    assert "The AI predicts approved & <safe> (probability 80%)" in text
    hidden = next(attrs for tag, attrs in parse(html).tags if tag == "ul")
    assert "xl-visually-hidden" in hidden["class"]
    assert "feature 0 = 1: +0.12 (towards approved & <safe>)" in text


def test_signed_values_read_well():
    assert signed(0.123) == "+0.12"
    assert signed(-0.004) == "\u22120.004"
    assert signed(0.0) == "0.00"


def test_render_html_dispatches_on_the_kind():
    e = make_explanation([0.1])
    assert render_html(e) == render(e)


def test_long_labels_are_shortened_in_the_chart_but_kept_whole_in_the_text_alternative():
    long_name = "Occupation held for the longest time in the last ten years of work"
    html = render(make_explanation([0.3], names=[long_name]))
    assert "\u2026" in html
    assert f"<title>{long_name} = 1</title>" in html
    assert f"<li>{long_name} = 1: +0.30" in html
