"""The semantic audit: every example spec, every condition, every block, walked as a participant
through the real pages, and each page checked against what the design declares.

Oracle: the declaration itself — ``experiments.designs`` (which panels each step shows, which
question it asks, with which scale and labels), the spec (conditions, question, confidence
scale, questionnaires) and ``analysis.questionnaires`` (item wording, points, anchors, what a
scale is about) — never the page renderer's own helpers. Pages are read through their
machine-readable panel markers (``data-panel``) and form fields, as a browser would get them.
A new design, condition or example spec gets the audit without a line of test code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from analysis.questionnaires import Questionnaire
from experiments.designs import Step, design
from studyapp.models import Participant, Study, Trial
from studyapp.services.questionnaires import SCALES
from studyapp.translation import translated
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker
from tests.studyapp.page_tree import Element, parse_tree

pytestmark = pytest.mark.django_db
_STUDIES = Path(__file__).resolve().parents[2] / "examples" / "studies"
EXAMPLES = sorted([*_STUDIES.glob("*.yaml"), *_STUDIES.glob("own_material/*.yaml")])
# Block designs have no example spec yet; the audit walks them from the test factory's spec.
BLOCK_DESIGNS = {
    "within_subjects": small_spec(slug="within", design={"type": "within"},
                                  trials={"count": 6, "pool_size": 24, "attention_checks": 1},
                                  questionnaires=["jian_trust", "hoffman_satisfaction"]),
    "mixed": small_spec(slug="mixed", design={"type": "mixed", "groups": [
        {"name": "shap_group", "conditions": ["ai", "ai_shap"]},
        {"name": "three", "conditions": ["no_ai", "ai", "ai_shap"]}]},
        trials={"count": 6, "pool_size": 24, "attention_checks": 1},
        questionnaires=["hoffman_trust", "hoffman_satisfaction"]),
}
SPECS = {path.stem: path for path in EXAMPLES} | BLOCK_DESIGNS


@dataclass
class Seen:
    """What one participant was shown over the whole study, read off the pages."""

    panels: set[str] = field(default_factory=set)
    steps: set[tuple[str, str, str, str]] = field(default_factory=set)  # condition, phase, ...


@pytest.fixture(autouse=True)
def _language_reset():  # type: ignore[no-untyped-def]
    """The audit reads expectations in the study's language; later tests get the default."""
    yield
    translation.deactivate()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_page_shows_and_asks_what_its_design_declares(owner, settings, tmp_path, name):
    settings.VAR_DIR = tmp_path  # own material (own_material/) is stored there by hash
    source = SPECS[name]
    study = _example(owner, source) if isinstance(source, Path) else make_study(owner, source)
    # The pages are in the study's language: the expected words are read in it too.
    translation.activate(study.typed_spec.language)
    covered: set[tuple[str, str, str, str]] = set()
    for n, condition in enumerate(study.conditions.order_by("pk")):
        if study.spec["design"]["type"] == "between":  # everyone in this condition
            study.conditions.update(is_open=False)
            study.conditions.filter(pk=condition.pk).update(is_open=True)
        covered |= _walk(study, pid=f"5f0c0ffee000000000{n:06d}").steps
    # Every condition's every declared step was met (block designs: over the block orders).
    declared = {(c.name, phase.name, step.name)
                for c in study.conditions.all() for phase in design(study.task).phases
                for step in _declared_steps(study, phase.name, c.show_ai,
                                            c.explanation_method, attention=False,
                                            feedback=_gives_feedback(study, c.name,
                                                                     phase.name))}
    assert declared <= {(c, p, s) for c, p, k, s in covered if k == Trial.Kind.MAIN}


def _example(owner: object, path: Path) -> Study:
    """An example spec as loaded from its file (own material is found beside it)."""
    from studyapp.services import preparation, studies

    study, _ = studies.study_load_spec(text=path.read_text(encoding="utf-8"), owner=owner,
                                       base_dir=path.parent)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    return study


# ----- the walk --------------------------------------------------------------------------

def _walk(study: Study, *, pid: str) -> Seen:
    client, url, seen = Client(), f"/s/{study.slug}/", Seen()
    client.get(url, {"PROLIFIC_PID": pid, "STUDY_ID": "audit", "SESSION_ID": "audit"})
    participant = Participant.objects.get(study=study, external_id=pid)
    for _ in range(500):
        participant.refresh_from_db()
        page = parse_tree(client.get(url).content.decode())
        if participant.is_finished:
            assert participant.status == Participant.Status.COMPLETED
            return seen
        data = _answers(study, participant, page, seen)
        response = client.post(url, data)
        assert response.status_code == 303, (participant.stage, data,
                                             response.content.decode()[:800])
    raise AssertionError("the walk did not finish")


def _answers(study: Study, participant: Participant, page: Element,
             seen: Seen) -> dict[str, str]:
    stage = participant.stage
    if stage == Participant.Stage.CONSENT:
        return {"action": "consent", "agree": "yes"}
    if stage == Participant.Stage.INSTRUCTIONS:
        return {"action": "instructions"}
    if stage == Participant.Stage.COMPREHENSION:
        questions = study.spec["comprehension"]["questions"]
        return {"action": "comprehension", **_hidden(page),
                **{q["id"]: q["answer"] for q in questions}}
    if stage == Participant.Stage.QUESTIONNAIRE:
        return _audit_questionnaire(study, page, seen)
    trial = (Trial.objects.select_related("item", "condition")
             .get(participant=participant, index=participant.trial_pointer))
    return _audit_trial(study, trial, page, seen)


def _hidden(page: Element) -> dict[str, str]:
    return {i.attrs["name"]: i.attrs.get("value", "") for i in page.find_all("input")
            if i.attrs.get("type") == "hidden" and i.attrs.get("name")}


# ----- a trial page against its declared step ---------------------------------------------

def _declared_steps(study: Study, phase: str, show_ai: bool, method: str, *,
                    attention: bool, feedback: bool = False) -> tuple[Step, ...]:
    task = design(study.task)
    return task.steps(task.phase(phase), show_ai=show_ai, explained=bool(method),
                      question=study.typed_spec.task.question, attention=attention,
                      feedback=feedback)


def _gives_feedback(study: Study, condition: str, phase: str) -> bool:
    """Whether the spec gives this condition's trials of ``phase`` outcome feedback."""
    rule = study.typed_spec.condition(condition).feedback
    return rule is not None and (rule.phases is None or phase in rule.phases)


def _audit_trial(study: Study, trial: Trial, page: Element, seen: Seen) -> dict[str, str]:
    steps = _declared_steps(study, trial.phase, trial.condition.show_ai,
                            trial.condition.explanation_method,
                            attention=trial.kind == Trial.Kind.ATTENTION,
                            feedback=trial.feedback)
    answered = set(trial.responses.values_list("step", flat=True))
    step = next(s for s in steps if s.name not in answered)
    where = f"{trial.condition.name}/{trial.phase}/{trial.kind}/{step.name}"
    section = page.find("section", class_="trial")
    assert section is not None, where
    assert (section.attrs["data-step"], section.attrs["data-phase"]) == (step.name, trial.phase)
    _check_panels(study, trial, step, section, where)
    _check_method_not_named(trial, section, where)
    _check_question(study, trial, step, section, where)
    if step.shows_outcome:
        _check_outcome(study, trial, section, where)
    seen.panels |= {e.attrs["data-panel"] for e in section.find_all() if "data-panel" in e.attrs}
    seen.steps.add((trial.condition.name, trial.phase, trial.kind, step.name))
    return {**_hidden(section), **_choose(trial, step, section)}


def _check_panels(study: Study, trial: Trial, step: Step, section: Element, where: str) -> None:
    marked = [e for e in section.find_all() if "data-panel" in e.attrs]
    shown = {e.attrs["data-panel"] for e in marked}
    assert shown == set(step.panels), f"{where}: shows {sorted(shown)}, declared " \
                                      f"{sorted(step.panels)}"
    counts = {name: sum(e.attrs["data-panel"] == name for e in marked) for name in shown}
    if step.shows_candidates:  # each alternative carries its own prediction / explanation
        panels = trial.item.panels
        labels = [a.text for a in section.find_all("h3", class_="panel-label")]
        assert labels == [p["label"] for p in panels], where
        for name in ("ai", "explanation"):
            assert counts.get(name, 0) in (0, len(panels)), f"{where}: {name} per panel"
        return
    assert all(n == 1 for n in counts.values()), f"{where}: {counts}"
    if step.shows_ai:
        ai = section.find(data_panel="ai")
        assert ai is not None and _ai_output(study, trial.item.ai_prediction) in ai.text, where


def _check_outcome(study: Study, trial: Trial, section: Element, where: str) -> None:
    """A feedback page says right or not as the design scores the stored answer, and tells
    what the AI said only where the trial showed the AI."""
    task, item = design(study.task), trial.item
    answer = trial.responses.get(step="final").answer
    right = task.score(answer, truth=task.truth(item_truth=item.truth,
                                                model_variant=item.model_variant),
                       ai_prediction=item.ai_prediction, ai_correct=item.ai_correct,
                       phase=trial.phase, ai_prediction_edited=item.edit.get("ai_prediction"))
    outcome = section.find(data_panel="outcome")
    assert outcome is not None, where
    heading = outcome.find("h2")
    assert heading is not None and heading.text == (gettext("Right") if right
                                                    else gettext("Not right")), where
    said = gettext("The AI said <strong>%(answer)s</strong>, which was right.").split("<")[0]
    if not trial.condition.show_ai:
        assert said.strip() not in outcome.text, f"{where}: a control group told the AI's answer"


def _check_method_not_named(trial: Trial, section: Element, where: str) -> None:
    """The page's markup never names the condition's explanation method: a placebo
    (random_attribution) must not be told apart from the method it imitates by a look at the
    page source."""
    method = trial.condition.explanation_method
    if method:
        named = [e.tag for e in section.walk() if method in e.attrs.values()]
        assert not named, f"{where}: {named} carry the method name {method!r}"


def _ai_output(study: Study, value: str) -> str:
    options = {o["value"]: o["label"] for o in study.answer_options}
    if list(options) == ["number"]:  # a regression: the number as people write it
        return f"{float(value):,.0f}"
    return translated(options.get(value, value))


def _check_question(study: Study, trial: Trial, step: Step, section: Element,
                    where: str) -> None:
    question = step.question
    form = section.find("form", class_="answer-form")
    assert form is not None, where
    radios = [i for i in form.find_all("input") if i.attrs.get("type") == "radio"]
    names = {i.attrs["name"] for i in radios}
    assert names <= {"answer", "confidence"}, f"{where}: asks {names}"
    heading = section.find("h1")
    if trial.kind == Trial.Kind.ATTENTION:
        instruction = section.find("p", class_="instruction")
        asked = translated(trial.item.expected_answer)  # the answer as the page labels it
        assert instruction is not None and (trial.item.instruction in instruction.text
                                            or f"{asked}" in instruction.text), where
    # The page is headed with what this step asks, never with another question (a learning
    # page that only asks to continue, a rating after a simulation).
    assert heading is not None and heading.text == translated(question.prompt), \
        f"{where}: the page is headed {heading and heading.text!r}, the step asks " \
        f"{question.prompt!r}"
    if question.kind == "continue":
        assert "answer" not in names and _hidden(form).get("answer") == "seen", where
    elif question.kind == "number":
        number = form.find("input", name="answer")
        assert number is not None and number.attrs.get("type") == "number", where
    else:
        offered = [(i.attrs["value"], _label_of(form, i)) for i in radios
                   if i.attrs["name"] == "answer"]
        assert offered == _declared_options(study, trial, step), where
    confidence = [i.attrs["value"] for i in radios if i.attrs["name"] == "confidence"]
    scale = study.spec["task"]["confidence_scale"] if question.asks_confidence else 0
    assert confidence == [str(n) for n in range(1, (scale or 0) + 1)], where


def _declared_options(study: Study, trial: Trial, step: Step) -> list[tuple[str, str]]:
    """(value, label) the step offers; labels in the page's language."""
    return [(value, translated(label)) for value, label in _offered(study, trial, step)]


def _offered(study: Study, trial: Trial, step: Step) -> list[tuple[str, str]]:
    question = step.question
    if question.kind == "likert":
        return [(str(n), label) for n, label in enumerate(question.scale_labels, start=1)]
    if question.from_panels:
        return [(p["value"], p["label"]) for p in trial.item.panels]
    if question.options:
        return [(option, option) for option in question.options]
    return [(o["value"], o["label"]) for o in study.answer_options]


def _label_of(form: Element, radio: Element) -> str:
    label = next(lb for lb in form.find_all("label")
                 if any(i is radio for i in lb.find_all("input")))
    return label.text


def _choose(trial: Trial, step: Step, section: Element) -> dict[str, str]:
    """A valid answer to the step as the page offers it (the instructed one on a check)."""
    form = section.find("form", class_="answer-form")
    assert form is not None
    expected = trial.item.expected_answer if trial.kind == Trial.Kind.ATTENTION else None
    chosen: dict[str, str] = {}
    for radio in form.find_all("input", type="radio"):
        name, value = radio.attrs["name"], radio.attrs["value"]
        if name not in chosen or value == expected:
            chosen[name] = value
    number = form.find("input", type="number")
    if number is not None:
        low, high = float(number.attrs.get("min") or 0), float(number.attrs.get("max") or 1e6)
        chosen["answer"] = expected or f"{(low + high) / 2:.0f}"
    return {**chosen, "rt_ms": "1500"}


# ----- the questionnaire against what the participant saw ----------------------------------

def _audit_questionnaire(study: Study, page: Element, seen: Seen) -> dict[str, str]:
    # What a scale is about must have been on one of this participant's pages (any block).
    exposure = {"ai": bool(seen.panels & {"ai", "explanation"}),
                "explanation": "explanation" in seen.panels}
    expected = [(scale, item) for entry in study.spec["questionnaires"]
                if isinstance(entry, str) and exposure[(scale := SCALES[entry]).about]
                for item in scale.items]
    groups = page.find_all("fieldset", class_="likert")
    assert len(groups) == len(expected), (sorted(seen.panels),
                                          [g.text[:60] for g in groups])
    answers: dict[str, str] = {"action": "questionnaire", **_hidden(page)}
    for group, (scale, item) in zip(groups, expected, strict=True):
        legend = group.find("legend")
        assert legend is not None
        assert re.sub(r"^\d+\.\s*", "", legend.text) == item.render("the AI")
        points = [i.attrs["value"] for i in group.find_all("input", type="radio")]
        assert points == [str(n) for n in range(scale.scale_min, scale.scale_max + 1)]
        _check_anchors(scale, group)
        answers[group.find_all("input", type="radio")[0].attrs["name"]] = points[0]
    free = [e for e in study.spec["questionnaires"] if not isinstance(e, str)]
    boxes = page.find_all("textarea")
    assert len(boxes) == len(free)
    assert groups or boxes, "a questionnaire page that asks nothing"
    for box, entry in zip(boxes, free, strict=True):
        label = page.find("label", **{"for": box.attrs["id"]})
        assert label is not None and label.text.startswith(entry["free_text"]["prompt"])
        answers[box.attrs["name"]] = "Fine."
    return answers


def _check_anchors(scale: Questionnaire, group: Element) -> None:
    """Each point carries exactly the scale's published words at that point (none where the
    original shows only the number)."""
    shown = {}
    for point in group.find_all("label", class_="scale-point"):
        words = point.find_all(class_="point-words")
        shown[point.attrs["data-point"]] = words[0].text if words else ""
    assert shown == {str(p): scale.label_at(p) for p in scale.points}, (scale.name, shown)


def test_the_audit_fails_a_page_that_shows_an_explanation_its_step_does_not_declare(owner):
    """The audit can fail: an explained condition's page checked against a control's
    declaration (no AI, no explanation) is refused, naming what it shows."""
    study = make_study(owner, small_spec(slug="tamper"))
    study.conditions.exclude(name="ai_shap").update(is_open=False)
    walker = Walker(study)
    walker.to_trials()
    while (trial := _current(walker)).kind != Trial.Kind.MAIN:
        walker.answer_current()
    control = _declared_steps(study, trial.phase, False, "", attention=False)[0]
    section = parse_tree(walker.page().content.decode()).find("section", class_="trial")
    assert section is not None
    _check_panels(study, trial, _declared_steps(study, trial.phase, True, "tree_shap",
                                                attention=False)[0], section, "as declared")
    with pytest.raises(AssertionError, match=r"shows \['ai', 'explanation'\], declared \[\]"):
        _check_panels(study, trial, control, section, "tampered")


def _current(walker: Walker) -> Trial:
    participant = walker.participant
    return (Trial.objects.select_related("item", "condition")
            .get(participant=participant, index=participant.trial_pointer))
