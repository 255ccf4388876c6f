"""The words and numbers an explanation is written in, in the participant's language.

Every participant-facing word a renderer writes goes through :class:`Words`, which translates
with the standard library's ``gettext`` from the project's own catalogues
(``locale/<lang>/LC_MESSAGES/django.mo``), the ones Django translates the rest of the page from.
Why that catalogue and not a message table here:

- one page, one vocabulary: the explanation names a feature, a category or a class with the very
  words the item table beside it shows ("Alter", "Mehr als 50.000 $"), because both look the
  same English word up in the same catalogue;
- one file per language for translators, checked by the same test (tests/studyapp/
  test_catalogues.py: nothing untranslated, fuzzy or stale, placeholders kept), and
  ``manage.py makemessages`` finds the messages marked here (``words.gettext("...")``,
  :func:`gettext_noop`);
- no Django: ``explainers`` stays a library a notebook can use (``render_html(e, language="de")``).

Numbers are written as the language writes them (de/es: 0,5 and 2.174 and "68 %" with a
no-break space), the convention the platform's own German and Spanish pages follow.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
from functools import cache
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale"
# Languages that write 2.174,5 where English writes 2,174.5, and "68 %" where it writes "68%".
DECIMAL_COMMA = frozenset({"de", "es"})
# A number as the scenarios write a value ("2,174", "39", "-1.5"), then its unit ("dollars").
_NUMBER_WITH_UNIT = re.compile(r"^([-+\u2212]?[0-9][0-9,]*(?:\.[0-9]+)?)(?: (.+))?$")
NO_BREAK_SPACE = "\u00a0"
# The longest unit kept on one line ("hours a week"): a longer run is a phrase, and a phrase
# that never breaks can be wider than a phone's column.
_LONGEST_UNIT = 12


def gettext_noop(text: str) -> str:
    """Marks ``text`` for the catalogue; it is translated where it is shown."""
    return text


def localised_number(text: str, language: str) -> str:
    """A number written the English way (2,174.5) as ``language`` writes it (2.174,5)."""
    if language not in DECIMAL_COMMA:
        return text
    return text.translate(str.maketrans(",.", ".,"))


def percent_text(number: str, language: str) -> str:
    """A number (already written) with its percent sign: "68%", or "68 %" in de/es."""
    return f"{number}{NO_BREAK_SPACE}%" if language in DECIMAL_COMMA else f"{number}%"


@cache
def catalogue(language: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalogue of ``language`` (English is the messages themselves).

    A missing catalogue is an error, not English: an English explanation on a German page
    would make the study invalid without anybody noticing.
    """
    if language == "en":
        return stdlib_gettext.NullTranslations()
    path = LOCALE / language / "LC_MESSAGES" / "django.mo"
    if not path.exists():
        raise LookupError(f"no compiled catalogue for language {language!r} at {path}")
    with path.open("rb") as mo:
        return stdlib_gettext.GNUTranslations(mo)


class Words:
    """One language's words and numbers for a renderer."""

    def __init__(self, language: str = "en") -> None:
        self.language = language
        self._catalogue = catalogue(language)

    def gettext(self, message: str) -> str:
        """``message`` in this language; "" stays "" (gettext("") is the catalogue header)."""
        return self._catalogue.gettext(message) if message else ""

    def number(self, value: float, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals and thousands separated, as the language writes
        it."""
        return localised_number(f"{value:,.{digits}f}", self.language)

    def percent(self, number: str) -> str:
        """A written number with the language's percent sign."""
        return percent_text(number, self.language)

    def value(self, text: object) -> str:
        """A value as a scenario displays it ("2,174 dollars", "Married") in this language:
        the number as the language writes it and the unit or category in its words (what the
        item table shows, studyapp.translation).

        A category label that starts with a number ("0 to 200 DM", "200 DM or more, or salary
        paid in") is translated whole when the catalogue has it, and only its first gap is
        kept from breaking when it is longer than a unit."""
        shown = str(text)
        match = _NUMBER_WITH_UNIT.match(shown)
        if match is None:
            return self.gettext(shown)
        whole = self._catalogue.gettext(shown)  # a probe: most numbers are not in the catalogue
        if whole != shown:
            return whole
        number, unit = match.groups()
        # A no-break space: a narrow column must not put "0" at a line's end and "Dollar"
        # on the next (it did at 390 px).
        return NO_BREAK_SPACE.join(filter(None, [localised_number(number, self.language),
                                                 self.unit(unit or "")]))

    def unit(self, text: str) -> str:
        """A unit in this language's words, never broken across lines ("sq ft" is one).

        Only a unit-sized run is kept whole: the rest of a category label after its number
        ("DM or more, or salary paid in") unbroken pushed an influence card 8 px past a
        390 px phone."""
        words = self.gettext(text)
        return words.replace(" ", NO_BREAK_SPACE) if len(words) <= _LONGEST_UNIT else words

    def general(self, value: float) -> str:
        """``value`` to three significant digits (a score, an importance)."""
        return localised_number(f"{value:.3g}", self.language)
