"""Reading a participant page the way a bot needs: which page it is and what its form wants.

Plain ``html.parser``: bots see exactly the HTML a browser gets, nothing more (in particular
never the truth label, which the server does not send).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)
    # name -> value -> the words its label shows (in the page's language)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    numbers: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (min, max)
    textareas: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Page:
    """One participant page as a bot reads it."""

    status: int
    url: str
    forms: list[Form] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    code: str = ""
    ai_prediction: str = ""
    has_explanation: bool = False
    text: str = ""
    instruction: str = ""

    @property
    def kind(self) -> str:
        """consent, instructions, comprehension, answer, questionnaire, start, finished, error."""
        for form in self.forms:
            if form.hidden.get("action"):
                return form.hidden["action"]
        if self.code:
            return "finished"
        return "error"

    @property
    def form(self) -> Form:
        return next(f for f in self.forms if f.hidden.get("action") == self.kind)

    def answer_value(self, words: str) -> str:
        """The answer option a text on the page names, by its label (pages are in the
        participant's language; values are not); the text itself when no label shows it."""
        labels = self.form.labels.get("answer", {}) if self.forms else {}
        return next((value for value, label in labels.items() if label == words), words)

    def asks_for(self, value: str) -> bool:
        """Whether the attention instruction asks for the answer ``value``: its label in
        quotation marks of any of the page's languages (“…”, „…“, «…»)."""
        label = (self.form.labels.get("answer", {}) if self.forms else {}).get(value, value)
        return any(f"{left}{label}{right}" in self.instruction
                   for left, right in (("“", "”"), ("„", "“"), ("«", "»")))


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.attributes: dict[str, str] = {}
        self.code = ""
        self.ai_prediction = ""
        self.has_explanation = False
        self.instruction = ""
        self.text: list[str] = []
        self._capture: str | None = None
        self._label: tuple[Form, str, str] | None = None  # the radio whose label is read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form())
        elif tag == "input" and self.forms:
            self._input(self.forms[-1], a)
        elif tag == "textarea" and self.forms:
            self.forms[-1].textareas.append(a.get("name", ""))
        elif tag == "button" and self.forms:
            self.forms[-1].buttons.append((a.get("name", ""), a.get("value", "")))
        elif tag == "figure" and "explanation" in a.get("class", ""):
            self.has_explanation = True
        for key in ("data-trial", "data-step", "data-item"):
            if key in a:
                self.attributes[key] = a[key]
        if a.get("id") == "completion-code":
            self._capture = "code"
        elif "ai-prediction" in a.get("class", ""):
            self._capture = "ai"
        elif "instruction" in a.get("class", "").split():
            self._capture = "instruction"

    def _input(self, form: Form, a: dict[str, str]) -> None:
        kind, name = a.get("type", "text"), a.get("name", "")
        if kind == "hidden":
            form.hidden[name] = a.get("value", "")
        elif kind == "radio":
            form.radios.setdefault(name, []).append(a.get("value", ""))
            self._label = (form, name, a.get("value", ""))
        elif kind == "number":
            form.numbers[name] = (float(a.get("min") or 0), float(a.get("max") or 1e9))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            form, name, value = self._label
            words = form.labels.get(name, {}).get(value, "")
            form.labels.setdefault(name, {})[value] = " ".join(words.split())
            self._label = None
        if tag == "p" or (tag == "strong" and self._capture != "instruction"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._label is not None:
            form, name, value = self._label
            labels = form.labels.setdefault(name, {})
            labels[value] = labels.get(value, "") + data
        if self._capture == "code":
            self.code += data.strip()
        elif self._capture == "ai" and data.strip():
            self.ai_prediction = self.ai_prediction or data.strip()
        elif self._capture == "instruction":
            self.instruction += data


def parse_page(status: int, url: str, html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    return Page(status=status, url=url, forms=parser.forms, attributes=parser.attributes,
                code=parser.code, ai_prediction=parser.ai_prediction,
                has_explanation=parser.has_explanation, text=" ".join(parser.text),
                instruction=" ".join(parser.instruction.split()))
