"""The attribution bar chart: escaped, accessible, sorted, signs in text and shape; a plain
wording on the probability scale for participants and a technical one for researchers."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest

from explainers.base import Explanation, Provenance
from explainers.render import render_html
from explainers.render.attribution import probability_scale, render, signed

HOSTILE = '<script>alert("x")</script>'


def make_explanation(values, names=None, output_space="probability", base=0.5, method="tree_shap"):
    names = names or [f"feature {i}" for i in range(len(values))]
    features = [{"name": n, "label": n, "value": 1.0, "display_value": "1", "attribution": v}
                for n, v in zip(names, values, strict=True)]
    return Explanation(
        kind="attribution", method=method, target=1,
        prediction={"class_index": 1, "class_name": "approved & <safe>", "probability": 0.8},
        content={"features": features, "base_value": base,
                 "output_value": base + math.fsum(values),
                 "output_space": output_space},
        provenance=Provenance("tree_shap", {}, 0, "abc", {}),
    )


class Collector(HTMLParser):
    """Collects start tags with their attributes, and all text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.parents: dict[str, list[str]] = {}  # class -> classes of its ancestors

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        cls = dict(attrs).get("class") or ""
        for name in cls.split():
            self.parents.setdefault(name, []).extend(self.open)
        self.open.append(cls)

    def handle_endtag(self, tag):
        self.open.pop()

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


def sentence(html, cls):
    return re.search(rf'<p class="{cls}">([^<]*)</p>', html).group(1)


def test_the_chart_is_an_image_labelled_by_its_title_and_description():
    html = render(make_explanation([0.3, -0.1]))
    tags = parse(html).tags
    chart = next(attrs for _, attrs in tags if attrs.get("class") == "xl-chart")
    assert chart["role"] == "img"
    ids = {attrs.get("id") for _, attrs in tags}
    for ref in chart["aria-labelledby"].split():
        assert ref in ids


def test_bars_are_sorted_by_absolute_attribution_with_the_rest_summed():
    html = render(make_explanation([0.01, -0.4, 0.2, 0.05, -0.02]), top_k=3, wording="technical")
    labels = re.findall(r'<span class="xl-label"[^>]*>([^<]+)</span>', html)
    assert labels == ["feature 1 = 1", "feature 2 = 1", "feature 3 = 1", "2 other features"]
    assert "\u2212" + "0.01" in html  # -0.02 + 0.01 summed, with a true minus sign


def test_signs_are_written_and_shaped_not_only_coloured():
    html = render(make_explanation([0.12, -0.05]), wording="technical")
    assert "\u25b6 +0.12" in html and "\u25c0 \u22120.05" in html
    assert "repeating-linear-gradient" in html  # the negative bar is hatched
    assert "xl-positive" in html and "xl-negative" in html
    plain = render(make_explanation([0.12, -0.05]))
    assert "\u25b6 +12.0" in plain and "\u25c0 \u22125.0" in plain  # percentage points


def test_the_zero_line_is_drawn_only_through_the_bar_tracks_never_across_the_labels():
    # Before: one SVG line ran from the first bar to the bottom, through every later label.
    parser = parse(render(make_explanation([0.3, -0.2, 0.1])))
    zero_lines = [a for _, a in parser.tags if "xl-zero" in (a.get("class") or "")]
    assert len(zero_lines) == 3
    assert all("xl-track" in parent for parent in parser.parents["xl-zero"][-1:])
    assert not any("xl-label" in p for p in parser.parents["xl-zero"])


def test_the_technical_wording_states_base_and_output_in_the_explanations_own_units():
    html = render(make_explanation([0.12, -0.05]), wording="technical")
    text = " ".join(parse(html).text)
    assert "Base value 0.50" in text and "output for this case 0.57" in text
    assert "they sum to +0.07" in text
    hidden = next(attrs for tag, attrs in parse(html).tags if tag == "ul")
    assert "xl-visually-hidden" in hidden["class"]
    assert "feature 0 = 1: +0.12 (towards approved & <safe>)" in text


def test_the_plain_wording_never_speaks_of_log_odds_nor_repeats_the_prediction():
    # Before: "Starting from a base value of -2.00 (log-odds of ...)" and "The AI predicts
    # ... (probability 80%)" a second time under the page's own AI panel.
    html = render(make_explanation([2.5, -0.4, 0.3], output_space="log-odds", base=-2.0))
    text = " ".join(parse(html).text)
    for jargon in ("log-odds", "base value", "Base value", "The AI predicts"):
        assert jargon not in text
    assert "percentage points" in text


def test_log_odds_bars_on_the_probability_scale_sum_to_the_stated_change():
    """Oracle: the closed form sigmoid(b + S) - sigmoid(b) for the change from the base."""
    values, base = [2.5, -0.4, 0.3, 0.05], -2.0
    explanation = make_explanation(values, output_space="log-odds", base=base)
    start, end, scaled = probability_scale(explanation.content)
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    assert start == pytest.approx(sigmoid(base))
    assert end == pytest.approx(sigmoid(base + sum(values)))
    assert math.fsum(scaled) == pytest.approx(sigmoid(base + sum(values)) - sigmoid(base))
    assert [math.copysign(1, v) for v in scaled] == [math.copysign(1, v) for v in values]
    html = render(explanation)
    text = " ".join(parse(html).text)
    stated = float(re.search(r"change of ([+\u2212][\d.]+) points", text).group(1)
                   .replace("\u2212", "-"))
    shown = [float(v.replace("\u2212", "-")) for v in
             re.findall(r'class="xl-value"[^>]*>[\u25b6\u25c0] ([^<]+)<', html)]
    assert stated == pytest.approx(100 * (end - start), abs=0.05)
    assert sum(shown) == pytest.approx(stated, abs=0.05 * len(shown))
    assert f"{100 * start:.0f}%" in text and f"{100 * end:.0f}%" in text


def test_lime_states_its_surrogate_and_the_ai_on_the_same_scale():
    # Before: "probability 85%" beside "The output for this case is 0.70".
    explanation = make_explanation([0.3, -0.1], method="lime", base=0.2)
    explanation.prediction["probability"] = 0.85
    for wording in ("plain", "technical"):
        text = " ".join(parse(render(explanation, wording=wording)).text)
        assert "85%" in text
    plain = " ".join(parse(render(explanation)).text)
    assert "imitates the AI" in plain and "20%" in plain and "40%" in plain
    technical = " ".join(parse(render(explanation, wording="technical")).text)
    assert "local surrogate's output for this case 0.40" in technical


def test_an_unknown_wording_is_refused():
    with pytest.raises(ValueError, match="wording"):
        render(make_explanation([0.1]), wording="fancy")
    with pytest.raises(ValueError, match="wording"):
        render_html(make_explanation([0.1]), wording="fancy")


def test_signed_values_read_well():
    assert signed(0.123) == "+0.12"
    assert signed(-0.004) == "\u22120.004"
    assert signed(0.0) == "0.00"


def test_render_html_dispatches_on_the_kind():
    e = make_explanation([0.1])
    assert render_html(e) == render(e)
    assert render_html(e, wording="technical") == render(e, wording="technical")


def test_long_labels_wrap_whole_instead_of_being_cut():
    # Before: German-credit labels were cut at 44 characters with an ellipsis in the SVG.
    long_name = "Occupation held for the longest time in the last ten years of work"
    html = render(make_explanation([0.3], names=[long_name]))
    assert "\u2026" not in html
    assert f">{long_name} = 1</span>" in html
    assert "overflow-wrap:anywhere" in html
    assert f"<li>{long_name} = 1: +30.0 points" in html


def test_a_bar_that_rounds_to_nothing_shows_no_direction_and_no_sliver():
    # Seen in the gallery: "\u25c0 0.0" beside a 2 px bordered stub for a -0.0003 change.
    html = render(make_explanation([0.5, -0.0003]))
    values = re.findall(r'class="xl-value"[^>]*>([^<]+)<', html)
    assert values == ["\u25b6 +50.0", "0.0"]
    assert "feature 1 = 1: 0.0 points (no change)" in html
    assert "width:0.0%;box-sizing:border-box;border:0" in html
