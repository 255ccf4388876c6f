"""A study's languages in its spec: every participant-facing text in each declared language,
plain strings only in a study of one language, standard scales only with a validated
translation. Oracle: the rules as the README states them ("Languages")."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from experiments.languages import localised_fields
from experiments.spec import SpecError, spec_hash, validate_spec
from experiments.study_spec import StudySpec
from tests.factories import multilingual_spec, small_spec

# Test material, clearly not a validated translation: only the form is checked here.
_JIAN_DE: dict[str, Any] = {
    "source": "Test fixture only, not a validated translation",
    "items": [f"Testaussage {n}" for n in range(1, 13)],
    "anchors": ["Überhaupt nicht", "Äußerst"],
}


def test_a_spec_without_languages_is_english_and_its_normal_form_and_hash_are_unchanged():
    spec = small_spec()
    validated = validate_spec(spec)
    assert "languages" not in validated  # nothing added: stored specs keep their hashes
    assert spec_hash(validated) == spec_hash(validate_spec(small_spec()))
    typed = StudySpec.from_dict(validated)
    assert typed.languages == ("en",) and typed.language == "en"
    assert typed.title == spec["title"]


def test_the_typed_spec_reads_every_text_in_the_language_asked_and_the_first_by_default():
    validated = validate_spec(multilingual_spec(("es", "en", "de")))
    default, german = StudySpec.from_dict(validated), StudySpec.from_dict(validated, "de")
    assert default.language == "es" and default.title.startswith("[es] ")
    assert german.title.startswith("[de] ") and german.task.question.startswith("[de] ")
    assert all(p.startswith("[de] ") for p in german.instructions)
    assert german.consent.text.startswith("[de] ")
    question = german.comprehension.questions[0]
    assert question.answer in question.options and question.answer.startswith("[de] ")
    free_text = [q for q in german.questionnaires if not isinstance(q, str)]
    assert free_text and all(q.prompt.startswith("[de] ") for q in free_text)
    with pytest.raises(KeyError):
        StudySpec.from_dict(validated, "fr")


def test_every_text_field_the_spec_can_hold_is_checked_for_its_languages():
    spec = multilingual_spec()
    spec["conditions"][1]["tutorial"] = {"text": [{"en": "Read the chart.",
                                                   "de": "Lesen Sie das Diagramm."}]}
    with pytest.raises(SpecError, match=r"conditions\[1\]\.tutorial\.text\[0\]: no text in es"):
        validate_spec(spec)


@pytest.mark.parametrize("path", [path for path, _ in localised_fields(multilingual_spec())])
def test_a_text_missing_a_language_is_refused_naming_the_field_and_the_language(path):
    spec = multilingual_spec()
    target = dict(localised_fields(spec))[path]
    del target["es"]
    with pytest.raises(SpecError) as error:
        validate_spec(spec)
    assert str(error.value).startswith(f"{path}: no text in es")


def test_a_plain_string_in_a_study_of_several_languages_is_refused():
    spec = multilingual_spec()
    spec["task"]["question"] = "Does this person earn more than $50,000 a year?"
    with pytest.raises(SpecError, match=r"task\.question: a study in en, de, es gives this "
                                        r"text in each language"):
        validate_spec(spec)


def test_plain_strings_are_fine_in_a_study_of_one_language_other_than_english():
    spec = small_spec(languages=["de"])
    spec["questionnaires"] = [q for q in spec["questionnaires"] if not isinstance(q, str)]
    assert StudySpec.from_dict(validate_spec(spec)).language == "de"


def test_a_text_in_a_language_the_study_does_not_declare_is_refused():
    spec = multilingual_spec(("en", "de"))
    spec["title"]["es"] = "Decisiones"
    with pytest.raises(SpecError, match=r"title: es is not one of the study's languages"):
        validate_spec(spec)


def test_an_unknown_language_is_refused_with_the_choices():
    with pytest.raises(SpecError, match=r"languages\[1\]: 'fr' is not allowed; expected one "
                                        r"of \['en', 'de', 'es'\]"):
        validate_spec(small_spec(languages=["en", "fr"]))


def test_a_comprehension_answer_must_be_an_option_in_every_language():
    spec = multilingual_spec()
    spec["comprehension"]["questions"][1]["answer"]["de"] = "[de] Vielleicht"
    with pytest.raises(SpecError, match=r"comprehension\.questions\[1\]\.answer: "
                                        r"'\[de\] Vielleicht' is not one of its options .* "
                                        r"\(in de\)"):
        validate_spec(spec)


def test_a_standard_scale_in_german_without_a_validated_translation_is_refused():
    spec = multilingual_spec(("en", "de"))
    spec["questionnaires"].insert(0, "jian_trust")
    with pytest.raises(SpecError, match=r"questionnaires: jian_trust is published in English; "
                                        r"in Deutsch \(de\) it is asked only with a validated "
                                        r"translation: give scale_translations\.jian_trust\.de"):
        validate_spec(spec)


def test_a_scale_translation_is_used_in_its_language_and_must_match_the_scale():
    spec = multilingual_spec(("en", "de"))
    spec["questionnaires"].insert(0, "jian_trust")
    spec["scale_translations"] = {"jian_trust": {"de": _JIAN_DE}}
    validated = validate_spec(spec)
    german = StudySpec.from_dict(validated, "de")
    assert german.scale_translations["jian_trust"].items[0] == "Testaussage 1"
    assert StudySpec.from_dict(validated, "en").scale_translations == {}
    short = copy.deepcopy(spec)
    short["scale_translations"]["jian_trust"]["de"]["items"] = _JIAN_DE["items"][:11]
    with pytest.raises(SpecError, match=r"scale_translations\.jian_trust\.de\.items: 11 items; "
                                        r"jian_trust has 12"):
        validate_spec(short)
    unsourced = copy.deepcopy(spec)
    del unsourced["scale_translations"]["jian_trust"]["de"]["source"]
    with pytest.raises(SpecError, match=r"scale_translations\.jian_trust\.de: 'source' is a "
                                        "required property"):
        validate_spec(unsourced)


def test_a_translation_of_a_scale_the_study_does_not_ask_is_refused():
    spec = multilingual_spec(("en", "de"))
    spec["scale_translations"] = {"jian_trust": {"de": _JIAN_DE}}
    with pytest.raises(SpecError, match=r"scale_translations\.jian_trust: the study does not "
                                        r"ask jian_trust"):
        validate_spec(spec)
