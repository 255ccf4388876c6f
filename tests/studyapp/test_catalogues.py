"""The shipped translations (locale/<lang>/LC_MESSAGES/django.po and its compiled .mo).

Oracle: the .po files themselves, read by a small parser of the PO format (GNU gettext
manual, "The Format of PO Files"), against what Python's own gettext reads from the .mo.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from experiments.languages import LANGUAGES
from experiments.scenarios import tabular_specs
from experiments.scenarios.sources import MODALITIES, load_source

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


# The bundled table scenarios and the column descriptions they are built from.
TABLES = {"adult": tabular_specs.ADULT, "compas": tabular_specs.COMPAS,
          "german_credit": tabular_specs.GERMAN_CREDIT,
          "house_prices": tabular_specs.HOUSE_PRICES}
# Words a language writes as English does: the Deutsche Mark's "DM", Spanish "No".
SAME_AS_ENGLISH = {"de": {"DM"}, "es": {"DM", "No"}}


@cache
def _scenario_words(name: str) -> frozenset[str]:
    """Every word of a table scenario a participant reads: its features' labels, units (and
    units of one), categories (the default too), its classes and its target's label and unit."""
    source = load_source(name, random_state=0, features=None)
    words = {*source.class_names, source.target_label, source.target_unit}
    for spec in TABLES[name]:
        feature = spec.feature
        words |= {feature.display_name, feature.unit, feature.unit_one, *feature.categories}
        words |= {spec.default} if spec.default else set()
    assert {f.display_name for f in source.features} <= words
    return frozenset(words - {""})


def test_every_table_scenario_is_checked():
    assert sorted(TABLES) == sorted(n for n, kind in MODALITIES.items() if kind == "tabular")


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("scenario", sorted(TABLES))
def test_every_table_scenario_s_words_are_translated(scenario, language):
    # Oracle: the .po file (an entry, translated, not fuzzy) and Django's gettext from the .mo.
    words = _scenario_words(scenario)
    entries = {e.msgid: e for e in _messages(language)}
    missing = sorted(w for w in words if w not in entries or entries[w].fuzzy
                     or entries[w].obsolete or not entries[w].msgstr.strip())
    assert not missing, f"no translation in locale/{language}: {missing}"
    with translation.override(language):
        english = sorted(w for w in words - SAME_AS_ENGLISH[language]
                         if translation.gettext(w) == w)
    assert not english, english


def _marked_in(package: Path) -> set[str]:
    """Every string literal passed to ``gettext_noop`` in a package's source (read with ast,
    not imported: a word marked in a branch no test runs counts too)."""
    import ast

    marked = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "gettext_noop"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                marked.add(node.args[0].value)
    return marked


@pytest.mark.parametrize("language", SHIPPED)
def test_every_word_marked_in_the_libraries_is_translated(language):
    # Oracle: the source's own marks (ast) against the .po entries. Covers what the table
    # check does not reach: the text scenario's classes, the columns an injected bug adds.
    marked = _marked_in(LOCALE.parent / "experiments") | _marked_in(LOCALE.parent / "explainers")
    assert {"Negative", "Processing office", "Photos in the listing"} <= marked
    entries = {e.msgid: e for e in _messages(language)}
    missing = sorted(w for w in marked if w not in entries or entries[w].fuzzy
                     or not entries[w].msgstr.strip())
    assert not missing, f"no translation in locale/{language}: {missing[:10]}"
