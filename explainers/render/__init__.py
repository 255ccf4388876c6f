"""Server-side HTML/SVG for showing an explanation to a participant (no JS, no CDN).

``render_html(explanation)`` dispatches on ``explanation.kind`` to ``explainers.render.<kind>``,
whose ``render(explanation, **options) -> str`` returns an escaped, accessible HTML fragment:
inline SVG with <title>/<desc>, signs written out (not carried by colour alone), and a text
alternative. The Django partials in ``templates/explanations/`` wrap these fragments; a notebook
can show them with ``IPython.display.HTML``.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from typing import Any

from explainers.base import Explanation

# Colour-blind-safe diverging pair (blue / orange, distinguishable in all common CVD types).
POSITIVE_COLOUR = "#1f6fb4"
NEGATIVE_COLOUR = "#d55e00"
NEUTRAL_COLOUR = "#6b6b6b"


def element_id(explanation: Explanation) -> str:
    """An id for the SVG elements of one explanation (unique when two share a page).

    Not the fingerprint: that names the explanation outside the study (it is exported, and
    anyone re-running the public pipeline gets the same), and participants' pages must carry
    nothing that identifies an item. A one-way hash of it names nothing the page's own
    content does not already show.
    """
    digest = hashlib.sha256(f"svg-id:{explanation.fingerprint}".encode()).hexdigest()
    return f"xl-{digest[:10]}"


def render_html(explanation: Explanation, *, wording: str = "plain", language: str = "en",
                **options: Any) -> str:
    """The explanation's HTML fragment in ``language`` (en, de, es: every word the renderer
    writes, explainers.render.words). ``wording`` ("plain" for participants, "technical" for
    researchers) reaches the renderers whose text has two registers; the others have one."""
    if wording not in ("plain", "technical"):
        raise ValueError(f"wording must be plain or technical, not {wording!r}")
    module = importlib.import_module(f"explainers.render.{explanation.kind}")
    if "wording" in inspect.signature(module.render).parameters:
        options["wording"] = wording
    html: str = module.render(explanation, language=language, **options)
    return html
