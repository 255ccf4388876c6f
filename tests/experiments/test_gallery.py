"""The gallery CLI: one rendered explanation per method in a self-contained page plus JSON.

Checked on scikit-learn's bundled data (no scenarios needed) for a few methods of different
kinds; the page is parsed for balanced tags and the absence of external resources.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from experiments.__main__ import main
from experiments.gallery import build_gallery
from explainers import payloads

VOID = {"br", "rect", "stop", "meta", "link", "img", "hr", "input"}


class Balanced(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.sections: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section":
            self.sections.append(str(attributes.get("id")))
        self.sources += [str(v) for k, v in attrs if k in {"src", "href"} and v]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag not in VOID:
            assert self.stack.pop() == tag


def test_the_gallery_writes_one_section_and_one_json_file_per_method(tmp_path: Path):
    methods = ["gradient", "lime_text", "recourse", "distilled_tree", "nearest_examples"]
    outcome = build_gallery(tmp_path, methods=[*methods, "no_such_method"], use_scenarios=False)
    assert all(not outcome[m].startswith("error") for m in methods)
    assert outcome["no_such_method"].startswith("error")
    page = (tmp_path / "index.html").read_text()
    parser = Balanced()
    parser.feed(page)
    assert parser.stack == []
    assert parser.sections == [*methods, "no_such_method"]
    assert all(src.endswith(".json") for src in parser.sources)  # no CDN, only local links
    for method in methods:
        saved = json.loads((tmp_path / f"{method}.json").read_text())
        assert saved["method"] == method and saved["provenance"]["random_state"] == 0


def test_the_command_line_builds_the_gallery(tmp_path: Path, capsys):
    assert (
        main(
            [
                "gallery",
                "--out",
                str(tmp_path),
                "--methods",
                "smoothgrad",
                "--bundled-only",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    assert (tmp_path / "smoothgrad.json").exists()
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["failed"] == []


def test_every_payload_uses_exactly_the_keys_documented_in_payloads(tmp_path: Path):
    shapes: dict[str, Any] = {
        "examples": payloads.ExamplesContent,
        "counterfactual": payloads.CounterfactualContent,
        "saliency": payloads.SaliencyContent,
        "text": payloads.TextContent,
        "global": payloads.GlobalContent,
    }
    methods = [
        "integrated_gradients",
        "prototypes",
        "diverse_counterfactuals",
        "lime_text",
        "counterfactual_summary",
    ]
    build_gallery(tmp_path, methods=methods, use_scenarios=False)
    for method in methods:
        saved = json.loads((tmp_path / f"{method}.json").read_text())
        shape = shapes[saved["kind"]]
        keys = set(saved["content"])
        assert shape.__required_keys__ <= keys <= shape.__required_keys__ | shape.__optional_keys__
