"""The shipped translations (locale/<lang>/LC_MESSAGES/django.po and its compiled .mo).

Oracle: the .po files themselves, read by a small parser of the PO format (GNU gettext
manual, "The Format of PO Files"), against what Python's own gettext reads from the .mo.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from experiments.languages import LANGUAGES
from experiments.scenarios.sources import LOADERS
from experiments.scenarios.tabular_specs import ADULT

LOCALE = Path(__file__).resolve().parents[2] / "locale"
SHIPPED = ("de", "es")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
# Placeholders a translation must keep: {name} (str.format) and %(name)s (templates).
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


@dataclass
class Entry:
    msgid: str
    msgstr: str
    fuzzy: bool
    obsolete: bool


def _unquote(lines: list[str]) -> str:
    text = "".join(m.group(1) for line in lines for m in _QUOTED.finditer(line))
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape") \
        .encode("latin-1").decode("utf-8") if "\\" in text else text


def read_po(path: Path) -> list[Entry]:
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = block.strip().splitlines()
        fields: dict[str, list[str]] = {}
        current = None
        for line in (line.removeprefix("#~ ") for line in lines):
            if line.startswith(("msgid ", "msgstr ")):
                current = line.split(" ", 1)[0]
                fields[current] = [line]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" in fields:
            entries.append(Entry(msgid=_unquote(fields["msgid"]),
                                 msgstr=_unquote(fields.get("msgstr", [])),
                                 fuzzy=any(line.startswith("#,") and "fuzzy" in line
                                           for line in lines),
                                 obsolete=any(line.startswith("#~") for line in lines)))
    return entries


def _messages(language: str) -> list[Entry]:
    return [e for e in read_po(LOCALE / language / "LC_MESSAGES" / "django.po") if e.msgid]


def test_the_parser_reads_what_it_must_refuse():
    sample = LOCALE.parent / "var" / "test-sample.po"
    sample.parent.mkdir(exist_ok=True)
    sample.write_text('#, fuzzy\nmsgid "a"\nmsgstr ""\n\n#~ msgid "b"\n#~ msgstr "c"\n\n'
                      'msgid ""\n"long "\n"id"\nmsgstr "ok \\"q\\""\n', encoding="utf-8")
    a, b, c = read_po(sample)
    sample.unlink()
    assert (a.msgid, a.msgstr, a.fuzzy) == ("a", "", True)
    assert b.obsolete and (c.msgid, c.msgstr) == ("long id", 'ok "q"')


def test_the_languages_shipped_are_the_ones_a_spec_may_declare():
    assert [code for code, _ in settings.LANGUAGES] == list(LANGUAGES)
    assert sorted(SHIPPED) == sorted(code for code in LANGUAGES if code != "en")
    assert Path(settings.LOCALE_PATHS[0]) == LOCALE


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_has_a_real_translation_keeping_its_placeholders(language):
    entries = _messages(language)
    assert len(entries) > 200
    assert not [e.msgid for e in entries if e.fuzzy], "fuzzy translations"
    assert not [e.msgid for e in entries if e.obsolete], "obsolete entries: run makemessages"
    assert not [e.msgid for e in entries if not e.msgstr.strip()], "untranslated"
    for entry in entries:
        assert sorted(_PLACEHOLDER.findall(entry.msgid)) == \
            sorted(_PLACEHOLDER.findall(entry.msgstr)), entry.msgid


@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalogue_is_up_to_date_with_the_po_file(language):
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [e.msgid for e in _messages(language) if compiled.gettext(e.msgid) != e.msgstr]
    assert not stale, f"run `manage.py compilemessages`: {stale[:3]}"


@pytest.mark.parametrize("language", SHIPPED)
def test_the_adult_scenario_s_words_are_translated(language):
    words = {"$50K or less", "More than $50K"}
    for spec in ADULT:
        words |= {spec.feature.display_name, spec.feature.unit, spec.feature.unit_one,
                  *spec.feature.categories}
        words |= {spec.default} if spec.default else set()
    words.discard("")
    assert "adult" in LOADERS
    with translation.override(language):
        untranslated = [w for w in words if translation.gettext(w) == w]
    assert not untranslated, untranslated
