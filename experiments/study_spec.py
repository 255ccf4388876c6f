"""The study specification as typed, read-only sections (``StudySpec``).

``experiments.spec.validate_spec`` returns the normalised spec as a plain dict: that dict is what
is stored (as JSON) and hashed (``spec_hash``), and what the YAML round-trips to. Code that
*reads* a spec asks :meth:`StudySpec.from_dict` for a view of it instead of indexing the dict, so
that every field has one name and one type::

    spec = StudySpec.from_dict(validated)
    spec.task.design          # the task design: "decision", "forward_simulation", ...
    spec.assignment.kind      # how participants meet conditions: "between", "within", "mixed"
    spec.trials.pool_size

Two things in the YAML are called "design"; here they have different names:

* ``task.design`` stays :attr:`TaskSpec.design`: the *task design* (what a participant does on
  a trial, one of ``experiments.designs.DESIGNS``).
* the top-level ``design:`` section (``type: between | within | mixed`` and the mixed design's
  ``groups``) is :attr:`StudySpec.assignment`, an :class:`AssignmentSpec` whose ``kind`` says
  whether each participant is assigned one condition (between) or sees condition blocks
  (within, mixed).

Participant-facing texts may be given per language (experiments.languages). A view reads them
in one language: ``StudySpec.from_dict(spec, language="de")`` (default: the study's first
language), so ``spec.title``, ``spec.task.question`` ... are always plain strings.

The view is built from a spec that ``validate_spec`` has normalised (defaults filled in). The
few sections that older stored specs may lack (exclusions, questionnaires, incentives,
fairness) read as their defaults, as they did before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from experiments.feedback import FeedbackRule
from experiments.incentives import Incentives
from experiments.languages import spec_languages, text_in

__all__ = [
    "AssignmentKind",
    "AssignmentSpec",
    "ComprehensionQuestion",
    "ComprehensionSpec",
    "ConditionSpec",
    "ConsentSpec",
    "ExclusionsSpec",
    "ExplanationSpec",
    "FairnessSpec",
    "FreeTextQuestion",
    "GroupSpec",
    "RecruitmentSpec",
    "ScaffoldingSpec",
    "ScaleTranslation",
    "ScenarioSpec",
    "StudySpec",
    "TaskSpec",
    "TrialsSpec",
]

AssignmentKind = Literal["between", "within", "mixed"]


@dataclass(frozen=True)
class ScaffoldingSpec:
    """Slack et al.'s attack: the column the biased AI decides by, and the innocuous one its
    scaffolded twin shows to perturbation-based explainers."""

    biased_feature: str
    innocuous_feature: str


@dataclass(frozen=True)
class ScenarioSpec:
    """``scenario:``: the data and model (bundled, or the researcher's own material)."""

    name: str
    model: str
    seed: int
    bug: str | None
    bugs: tuple[str, ...]  # debugging / model comparison: the planted bugs beside the clean model
    data: str | None  # the researcher's own data file (None: a bundled scenario)
    scaffolding: ScaffoldingSpec | None
    # The section as stored, for the readers of own material (experiments.scenarios.own).
    section: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, s: Mapping[str, Any]) -> ScenarioSpec:
        scaffolding = s.get("scaffolding")
        return cls(name=s["name"], model=s["model"], seed=s["seed"], bug=s["bug"],
                   bugs=tuple(s.get("bugs", ())), data=s.get("data"),
                   scaffolding=None if scaffolding is None else ScaffoldingSpec(**scaffolding),
                   section=dict(s))


@dataclass(frozen=True)
class FairnessSpec:
    """The item feature (as shown) whose groups' decisions are compared, and the positive
    class for TPR/FPR."""

    feature: str
    positive: str


@dataclass(frozen=True)
class TaskSpec:
    """``task:``: what participants do on each trial."""

    design: str  # the task design (experiments.designs.DESIGNS), not between/within
    question: str
    prompt: str
    confidence_scale: int  # points of the confidence scale; 0: not asked
    candidates: int | None  # distinction: candidate classes per trial
    fairness: FairnessSpec | None

    @classmethod
    def from_dict(cls, t: Mapping[str, Any], language: str = "en") -> TaskSpec:
        fairness = t.get("fairness")
        return cls(design=t["design"], question=text_in(t["question"], language),
                   prompt=text_in(t.get("prompt", ""), language),
                   confidence_scale=t.get("confidence_scale") or 0,
                   candidates=t.get("candidates"),
                   fairness=FairnessSpec(**fairness) if fairness else None)


@dataclass(frozen=True)
class GroupSpec:
    """A mixed design's between-subjects group: the conditions each of its members sees."""

    name: str
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class AssignmentSpec:
    """The spec's ``design:`` section: how participants meet the conditions.

    between: each participant is assigned one condition. within: every participant sees every
    condition, in blocks ordered by a balanced Latin square row. mixed: participants are
    assigned to one of ``groups`` and see each of its conditions in blocks.
    """

    kind: AssignmentKind
    groups: tuple[GroupSpec, ...] = ()

    @property
    def in_blocks(self) -> bool:
        """Whether participants see several condition blocks (within and mixed designs)."""
        return self.kind != "between"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AssignmentSpec:
        return cls(kind=cast(AssignmentKind, d["type"]),
                   groups=tuple(GroupSpec(name=g["name"], conditions=tuple(g["conditions"]))
                                for g in d.get("groups", ())))


@dataclass(frozen=True)
class TrialsSpec:
    """``trials:``: how many trials, from how large a pool, balanced on what."""

    count: int
    pool_size: int
    balance: tuple[str, ...]  # "ai_correct", "predicted_class"
    attention_checks: int
    learning: int | None = None  # forward simulation: learning items before the test
    unusual: int = 0  # simulate then decide: how many trials are unusual items

    @classmethod
    def from_dict(cls, t: Mapping[str, Any]) -> TrialsSpec:
        return cls(count=t["count"], pool_size=t["pool_size"],
                   balance=tuple(t.get("balance", ())), attention_checks=t["attention_checks"],
                   learning=t.get("learning"), unusual=t.get("unusual", 0))


@dataclass(frozen=True)
class ExplanationSpec:
    """A condition's ``explanation:``: the method and how it is computed and worded."""

    method: str
    params: Mapping[str, Any]
    quality: str  # "basic" or "full" (see spec_schema)
    wording: str  # "plain" or "technical"

    @classmethod
    def from_dict(cls, e: Mapping[str, Any]) -> ExplanationSpec:
        return cls(method=e["method"], params=dict(e.get("params", {})),
                   quality=e.get("quality", "full"), wording=e.get("wording", "plain"))


@dataclass(frozen=True)
class ConditionSpec:
    """One entry of ``conditions:``."""

    name: str
    label: str
    show_ai: bool
    explanation: ExplanationSpec | None
    model_variant: str | None  # "scaffolded": explain the scaffolded twin
    cap: int | None
    features: str | tuple[str, ...] | None  # "key", "all" or column names (tables)
    feedback: FeedbackRule | None = None  # outcome feedback after answers (experiments.feedback)
    tutorial: TutorialSpec | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any], language: str = "en") -> ConditionSpec:
        explanation = c.get("explanation")
        features = c.get("features")
        tutorial = c.get("tutorial")
        return cls(name=c["name"], label=c["label"], show_ai=c["show_ai"],
                   explanation=ExplanationSpec.from_dict(explanation) if explanation else None,
                   model_variant=c.get("model_variant"), cap=c["cap"],
                   features=tuple(features) if isinstance(features, list) else features,
                   feedback=FeedbackRule.from_condition(c),
                   tutorial=TutorialSpec(text=tuple(text_in(paragraph, language)
                                                    for paragraph in tutorial["text"]),
                                         practice=tutorial.get("practice", 0))
                   if tutorial else None)


@dataclass(frozen=True)
class TutorialSpec:
    """A condition's ``tutorial:``: paragraphs that open its block, on ``practice`` unscored
    practice trials (none: on the block's first trial)."""

    text: tuple[str, ...]
    practice: int = 0


@dataclass(frozen=True)
class ConsentSpec:
    """``consent:``: the text participants agree to before anything else."""

    text: str
    # Not filled in when the spec gives a consent section without it (nor read yet).
    screen_out_on_decline: bool = True


@dataclass(frozen=True)
class ComprehensionQuestion:
    """A multiple-choice question about the task; ``answer`` is one of ``options``."""

    id: str
    text: str
    options: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class ComprehensionSpec:
    """``comprehension:``: the check after the instructions (no questions: no check)."""

    max_attempts: int
    questions: tuple[ComprehensionQuestion, ...]

    @classmethod
    def from_dict(cls, c: Mapping[str, Any], language: str = "en") -> ComprehensionSpec:
        return cls(max_attempts=c["max_attempts"],
                   questions=tuple(ComprehensionQuestion(
                       id=q["id"], text=text_in(q["text"], language),
                       options=tuple(text_in(option, language) for option in q["options"]),
                       answer=text_in(q["answer"], language))
                       for q in c["questions"]))


@dataclass(frozen=True)
class FreeTextQuestion:
    """A questionnaire entry that asks for free text (the others name a standard scale)."""

    name: str
    prompt: str
    required: bool = False


@dataclass(frozen=True)
class ScaleTranslation:
    """A standard scale in the view's language, from the validated translation the spec
    cites (``scale_translations``): items in the scale's order, anchors in its order."""

    source: str
    items: tuple[str, ...]
    anchors: tuple[str, ...]


@dataclass(frozen=True)
class RecruitmentSpec:
    """``recruitment:``: the platforms' codes and return addresses, and who may enter."""

    completion_code: str
    screenout_code: str
    completion_url: str
    screenout_url: str
    allow_direct: bool
    time_limit_minutes: int | None
    active_window_minutes: int


@dataclass(frozen=True)
class ExclusionsSpec:
    """Pre-registered exclusions (analysis.exclusions); None switches a rule off."""

    speeder_fraction: float | None = 0.3  # of the median duration
    min_seconds_per_trial: float | None = None


@dataclass(frozen=True)
class StudySpec:
    """A validated, normalised study specification, read-only and typed (module docstring)."""

    slug: str
    title: str
    description: str
    scenario: ScenarioSpec
    task: TaskSpec
    assignment: AssignmentSpec  # the YAML's ``design:`` section (between/within/mixed)
    trials: TrialsSpec
    conditions: tuple[ConditionSpec, ...]
    consent: ConsentSpec
    instructions: tuple[str, ...]
    comprehension: ComprehensionSpec
    # In the spec's order: a standard scale's name, or a free-text question.
    questionnaires: tuple[str | FreeTextQuestion, ...]
    recruitment: RecruitmentSpec
    assignment_seed: int
    exclusions: ExclusionsSpec
    incentives: Incentives | None  # None: no performance bonus
    # The study's languages (default first) and the one this view reads its texts in.
    languages: tuple[str, ...] = ("en",)
    language: str = "en"
    # Standard scales in this view's language (none in English: the published wording).
    scale_translations: Mapping[str, ScaleTranslation] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], language: str | None = None) -> StudySpec:
        """The typed view of a spec that ``validate_spec`` returned (or stored), its texts in
        ``language`` (one of its languages; None: its default)."""
        languages = spec_languages(spec)
        language = language or languages[0]
        if language not in languages:
            raise KeyError(f"language {language!r}: the study's languages are {languages}")
        consent = spec["consent"]
        return cls(
            slug=spec["slug"], title=text_in(spec["title"], language),
            description=text_in(spec["description"], language),
            scenario=ScenarioSpec.from_dict(spec["scenario"]),
            task=TaskSpec.from_dict(spec["task"], language),
            assignment=AssignmentSpec.from_dict(spec["design"]),
            trials=TrialsSpec.from_dict(spec["trials"]),
            conditions=tuple(ConditionSpec.from_dict(c, language) for c in spec["conditions"]),
            consent=ConsentSpec(**{**consent, "text": text_in(consent["text"], language)}),
            instructions=tuple(text_in(p, language) for p in spec["instructions"]),
            comprehension=ComprehensionSpec.from_dict(spec["comprehension"], language),
            questionnaires=tuple(_questionnaire(entry, language)
                                 for entry in spec.get("questionnaires", ())),
            recruitment=RecruitmentSpec(**spec["recruitment"]),
            assignment_seed=spec["assignment_seed"],
            exclusions=ExclusionsSpec(**(spec.get("exclusions") or {})),
            incentives=Incentives.from_spec(spec),
            languages=languages, language=language,
            scale_translations={
                name: ScaleTranslation(source=by_language[language]["source"],
                                       items=tuple(by_language[language]["items"]),
                                       anchors=tuple(by_language[language]["anchors"]))
                for name, by_language in spec.get("scale_translations", {}).items()
                if language in by_language})

    def condition(self, name: str) -> ConditionSpec:
        """The condition of this name (KeyError when the spec has none)."""
        for condition in self.conditions:
            if condition.name == name:
                return condition
        raise KeyError(name)

    @property
    def scales(self) -> tuple[str, ...]:
        """The standard questionnaire scales asked, by name (free-text questions left out)."""
        return tuple(entry for entry in self.questionnaires if isinstance(entry, str))


def _questionnaire(entry: str | Mapping[str, Any], language: str) -> str | FreeTextQuestion:
    if isinstance(entry, str):
        return entry
    question = entry["free_text"]
    return FreeTextQuestion(**{**question, "prompt": text_in(question["prompt"], language)})
