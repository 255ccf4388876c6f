"""Reading a study spec's YAML safely, and the error every spec problem raises.

``yaml.safe_load`` builds no Python objects, but it still accepts what a spec never needs
and a hostile one can abuse: anchors and aliases (a "billion laughs" document expands
aliases of aliases into billions of nodes once serialised, e.g. by the spec hash), nesting
deep enough to exhaust the parser's recursion, and values JSON cannot hold (dates, bytes,
sets, NaN, non-text keys, NUL and lone surrogates, which no database column stores).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import yaml

# A real spec nests about six levels deep; far deeper is an attack on the parser's recursion.
MAX_DEPTH = 24
MAX_MESSAGE = 300  # characters of a field's value quoted back in an error
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


class SpecError(ValueError):
    """A study specification that cannot be loaded; the message names the field."""


def load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_SpecLoader)  # a SafeLoader, stricter still
    except yaml.YAMLError as exc:
        raise SpecError(f"spec: not valid YAML ({shorten(str(exc))})") from None


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting as it composes the tree."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise SpecError(f"spec: line {event.start_mark.line + 1}: YAML anchors and aliases "
                            "(& and *) are not allowed; write the value out")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise SpecError(f"spec: line {event.start_mark.line + 1}: nested more than "
                            f"{MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def check_plain_json(value: Any, path: tuple[Any, ...] = ()) -> None:
    """Refuse anything a spec, stored and hashed as JSON, cannot hold; names the field."""
    if len(path) > MAX_DEPTH:
        raise SpecError(f"{field_path(path)}: nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecError(f"{field_path(path)}: key {shorten(repr(key))} must be text")
            check_plain_json(item, (*path, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            check_plain_json(item, (*path, k))
    elif isinstance(value, str):
        if _UNSTORABLE_TEXT.search(value):
            raise SpecError(f"{field_path(path)}: contains a NUL or an unpaired surrogate "
                            "character")
    elif isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"{field_path(path)}: {value} is not a number a spec can hold")
    elif value is not None and not isinstance(value, bool | int | float):
        raise SpecError(f"{field_path(path)}: {type(value).__name__} values are not allowed "
                        "here (quote it to make it text)")


def field_path(parts: Iterable[Any]) -> str:
    """``["conditions", 2, "name"]`` -> ``conditions[2].name`` (``spec`` for the top)."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "spec"


def shorten(text: str) -> str:
    """A hostile value (a 200 KiB string, 10,000 conditions) is not echoed back whole."""
    return text if len(text) <= MAX_MESSAGE else f"{text[:MAX_MESSAGE]}… (shortened)"
