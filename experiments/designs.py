"""Task designs of the evaluation literature: phases, what each step shows and asks, scoring.

A design is pure description: the app renders the steps and stores one answer per step, and
``score`` says whether the final answer is right under the design's rule (the truth for
decisions, the AI's output for simulation, the AI's correctness for verification). It also
declares the metrics that answer its questions: the app, the export and ``analysis`` ask the
design, never compare its name. See LITERATURE.md, "Task designs", for the protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from experiments.languages import gettext_noop

QuestionKind = Literal["choice", "likert", "continue", "number"]
ItemSet = Literal["main", "learning", "test"]
# What a page can show besides the item; pages mark each with ``data-panel="<name>"`` so that
# a test can check every page against its step (tests/studyapp/test_page_audit.py).
Panel = Literal["ai", "explanation", "candidates", "edit", "outcome"]
Target = Literal["truth", "ai", "ai_correct", "ai_edited", "clean_model", "label_error"]
# What the final answer is: one of the model's classes, one of two models, a verdict on a
# training label, a rating on a scale, or a number (regression).
Answer = Literal["class", "model", "verdict", "rating", "number"]
# What the analysis compares the final answer with: the truth (h == y), the AI's output
# (h == m), or nothing, using the platform's ``correct`` (ratings and numbers, which only
# ``Design.score`` can judge).
ScoredAgainst = Literal["truth", "ai", "platform"]


@dataclass(frozen=True)
class Question:
    """What a step asks. ``choice`` offers the model's classes; ``likert`` a labelled scale;
    ``continue`` only acknowledges (learning pages); ``number`` a numeric estimate (regression
    scenarios, in the scenario's unit)."""

    kind: QuestionKind
    prompt: str
    scale_labels: tuple[str, ...] = ()
    asks_confidence: bool = False
    options: tuple[str, ...] = ()  # a choice among these instead of the model's classes
    from_panels: bool = False  # a choice among the trial's panels (one view per option)


@dataclass(frozen=True)
class Step:
    """One answer within a trial, and what is on screen while it is given."""

    name: str
    question: Question
    shows_ai: bool
    shows_explanation: bool
    # The trial's labelled alternatives side by side: HIVE's candidate classes, Ribeiro's two
    # models (each with its prediction if ``shows_ai``, its explanation if explained).
    shows_candidates: bool = False
    shows_edit: bool = False  # the one-feature change of a counterfactual item
    # Outcome feedback: whether the answer just committed was right, and the right answer.
    shows_outcome: bool = False

    @property
    def panels(self) -> frozenset[Panel]:
        """Everything on screen besides the item, by the names pages mark it with."""
        shown: dict[Panel, bool] = {"ai": self.shows_ai, "explanation": self.shows_explanation,
                                    "candidates": self.shows_candidates,
                                    "edit": self.shows_edit, "outcome": self.shows_outcome}
        return frozenset(name for name, on in shown.items() if on)


# The outcome of the trial's answer, shown after it is stored (never before: the right answer
# reaches the browser only on this step's page).
FEEDBACK = Step("feedback", Question("continue", gettext_noop("How did you do?")),
                shows_ai=False,
                shows_explanation=False, shows_outcome=True)


@dataclass(frozen=True)
class Exposure:
    """What a participant had on screen across their trials: the AI (its output, or an
    explanation of it) and an explanation. Questionnaire items about the AI or about
    explanations are asked only of those exposed to it."""

    ai: bool = False
    explanation: bool = False

    @classmethod
    def of_steps(cls, steps: tuple[Step, ...]) -> Exposure:
        explanation = any(step.shows_explanation for step in steps)
        # An explanation is the AI's: who read one has met the AI, even when its own
        # answer stays hidden (HIVE distinction).
        return cls(ai=explanation or any(step.shows_ai for step in steps),
                   explanation=explanation)

    def __or__(self, other: Exposure) -> Exposure:
        return Exposure(ai=self.ai or other.ai,
                        explanation=self.explanation or other.explanation)


@dataclass(frozen=True)
class Phase:
    """A block of trials: which item set it draws from and whether its answers are scored."""

    name: str
    items: ItemSet
    scored: bool = True
    explained: bool = True  # False: no explanation in this phase whatever the condition
    attention_checks: bool = True


@dataclass(frozen=True)
class Design:
    name: str
    title: str
    phases: tuple[Phase, ...]
    target: Target
    answer: Answer
    # The analysis metrics that answer the design's questions (names of analysis.summary's
    # calculators), and those added when the study has a human-alone condition with answers.
    metrics: tuple[str, ...]
    human_alone_metrics: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        """Answers are numbers (regression): scored by error, not right/wrong."""
        return self.answer == "number"

    @property
    def scored_against(self) -> ScoredAgainst:
        """What the analysis compares the final answer with (see ``ScoredAgainst``)."""
        if self.answer in ("rating", "number"):
            return "platform"
        return "ai" if self.target in ("ai", "ai_edited") else "truth"

    @property
    def decides_label(self) -> bool:
        """The final answer is one of the model's classes judged against the truth: a human
        decision (fairness gaps of decisions apply)."""
        return self.answer == "class" and self.target == "truth"

    @property
    def rates_ai(self) -> bool:
        """The answer rates whether the AI is right (stated confidence is about the AI's
        correctness, not one's own answer)."""
        return self.target == "ai_correct"

    @property
    def compares_models(self) -> bool:
        """The answer picks one of two models shown on the same input."""
        return self.answer == "model"

    @property
    def simulates_edit(self) -> bool:
        """Items carry a one-feature edit whose AI output the participant predicts."""
        return self.target == "ai_edited"

    @property
    def ready_from(self) -> int | None:
        """The lowest rating that says "ready to deploy" (debugging designs only)."""
        return READY_FROM if self.target == "clean_model" else None

    @property
    def answers_from_panels(self) -> bool:
        """The answer is a choice among the trial's panels (one explanation per panel)."""
        steps = self.steps(self.phases[-1], show_ai=True, explained=True, question="")
        return any(step.question.from_panels for step in steps)

    def truth(self, *, item_truth: str, model_variant: str) -> str:
        """What an answer is scored against: the item's truth, or in debugging designs which
        model made the prediction (the clean one or a planted bug)."""
        return model_variant if self.target == "clean_model" and model_variant else item_truth

    def steps(self, phase: Phase, *, show_ai: bool, explained: bool, question: str,
              attention: bool = False, feedback: bool = False) -> tuple[Step, ...]:
        """The steps of one trial of ``phase`` in a condition (``show_ai``/``explained``);
        with ``feedback``, a last step shows the outcome of the answer just committed (only
        on scored trials: an attention check or a learning page has no outcome to show)."""
        steps = _STEPS[self.name](self, phase, show_ai and not attention,
                                  explained and phase.explained and not attention, question)
        if feedback and self.gives_feedback and phase.scored and not attention:
            return (*steps, FEEDBACK)
        return steps

    @property
    def gives_feedback(self) -> bool:
        """Outcome feedback needs a right answer to show: a class, a model or a verdict, or
        for verification whether the AI was right. Numbers (scored by their error) and
        readiness ratings of planted bugs have none."""
        return self.answer in ("class", "model", "verdict") or self.rates_ai

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def score(self, answer: str | None, *, truth: str, ai_prediction: str,
              ai_correct: bool | None, phase: str,
              ai_prediction_edited: str | None = None) -> bool | None:
        """Whether the final answer is right under this design's rule (None: not scored)."""
        if answer is None or not self.phase(phase).scored or self.numeric:
            return None
        if self.target == "truth":
            return answer == truth
        if self.target == "ai":
            return answer == ai_prediction
        if self.target == "ai_edited":
            return None if ai_prediction_edited is None else answer == ai_prediction_edited
        if self.target == "clean_model":
            # Debugging: "ready" (upper points of the scale) exactly when the model has no bug.
            return (int(answer) >= READY_FROM) == (truth == CLEAN_MODEL)
        if self.target == "label_error":
            # Finding mislabelled training points: flagged exactly when the label was flipped.
            return (answer == LABEL_WRONG) == (truth == LABEL_WRONG)
        if self.target == "ai_correct" and ai_correct is not None:
            # Verification: confident (upper half of the scale) exactly when the AI is right.
            return (int(answer) >= AGREEMENT_MIDPOINT) == ai_correct
        return None

    def right_answer(self, *, truth: str, ai_prediction: str, ai_correct: bool | None,
                     ai_prediction_edited: str | None = None) -> str:
        """The answer ``score`` marks right (what a perfectly skilled participant gives;
        ``truth`` as :meth:`truth` returns it)."""
        if self.target == "ai":
            return ai_prediction
        if self.target == "ai_edited" and ai_prediction_edited is not None:
            return ai_prediction_edited
        if self.target == "ai_correct":  # most confident in the right direction
            return str(len(AGREEMENT_SCALE)) if ai_correct else "1"
        if self.target == "clean_model":  # ready exactly when the model is the clean one
            return str(len(READINESS_SCALE)) if truth == CLEAN_MODEL else "1"
        return truth


# Participant wording is marked for the translation catalogue (experiments.languages).
AGREEMENT_SCALE = (gettext_noop("Definitely wrong"), gettext_noop("Probably wrong"),
                   gettext_noop("Probably correct"), gettext_noop("Definitely correct"))
AGREEMENT_MIDPOINT = 3  # answers 3 and 4 say "correct"
HELPFULNESS_SCALE = (gettext_noop("Not at all helpful"), gettext_noop("Slightly helpful"),
                     gettext_noop("Moderately helpful"), gettext_noop("Very helpful"),
                     gettext_noop("Extremely helpful"))
READINESS_SCALE = (gettext_noop("Definitely not ready"), gettext_noop("Probably not ready"),
                   gettext_noop("Unsure"), gettext_noop("Probably ready"),
                   gettext_noop("Definitely ready"))
READY_FROM = 4  # answers 4 and 5 say "ready to deploy"
CLEAN_MODEL = "clean"
LABEL_RIGHT = gettext_noop("The label is right")
LABEL_WRONG = gettext_noop("The label is wrong")
COMPARISON_REASONS = (
    gettext_noop("Its predictions look more accurate"),
    gettext_noop("Its explanations rely on sensible evidence"),
    gettext_noop("The other model relies on something that should not matter"),
    gettext_noop("I could not tell them apart"),
)
DEBUG_REASONS = (
    gettext_noop("The predictions look wrong"),
    gettext_noop("It relies on something that should not matter"),
    gettext_noop("The explanation looks random or meaningless"),
    gettext_noop("The inputs look unusual for this model"),
    gettext_noop("I saw no problem"),
)


def _decision(design: Design, phase: Phase, show_ai: bool, explained: bool,
              question: str) -> tuple[Step, ...]:
    return (Step("final", Question("choice", question, asks_confidence=True), show_ai,
                 explained),)


def _judge_advisor(design: Design, phase: Phase, show_ai: bool, explained: bool,
                   question: str) -> tuple[Step, ...]:
    if not show_ai:
        return _decision(design, phase, show_ai, explained, question)
    return (Step("initial", Question("choice", question), False, False),
            Step("final", Question("choice", question, asks_confidence=True), True, explained))


def _agreement(design: Design, phase: Phase, show_ai: bool, explained: bool,
               question: str) -> tuple[Step, ...]:
    if not show_ai:  # an attention check: answer the instruction like a decision
        return _decision(design, phase, False, False, question)
    prompt = gettext_noop("How confident are you that the AI's prediction is correct?")
    return (Step("final", Question("likert", prompt, scale_labels=AGREEMENT_SCALE), True,
                 explained),)


def _forward_simulation(design: Design, phase: Phase, show_ai: bool, explained: bool,
                        question: str) -> tuple[Step, ...]:
    if phase.items == "learning":
        prompt = gettext_noop("Study the AI's prediction for this case, then continue.")
        return (Step("final", Question("continue", prompt), True, explained),)
    prompt = gettext_noop("What will the AI predict for this case?")
    return (Step("final", Question("choice", prompt, asks_confidence=True), False, False),)


def _counterfactual_simulation(design: Design, phase: Phase, show_ai: bool, explained: bool,
                               question: str) -> tuple[Step, ...]:
    if not show_ai:  # an attention check: answer the instruction like a decision
        return _decision(design, phase, False, False, question)
    prompt = gettext_noop("What will the AI predict for the changed case?")
    simulate = Step("final", Question("choice", prompt, asks_confidence=True), True, explained,
                    shows_edit=True)
    if not explained:
        return (simulate,)
    # Post phase (Hase & Bansal): after predicting, rate how helpful the explanation was.
    helpful = Question("likert",
                       gettext_noop("How helpful was the explanation for predicting the AI?"),
                       scale_labels=HELPFULNESS_SCALE)
    return (simulate, Step("rating", helpful, True, True, shows_edit=True))


def _debugging(design: Design, phase: Phase, show_ai: bool, explained: bool,
               question: str) -> tuple[Step, ...]:
    if not show_ai:  # an attention check: answer the instruction like a decision
        return _decision(design, phase, False, False, question)
    ready = Question("likert", gettext_noop("Is this model ready to deploy?"),
                     scale_labels=READINESS_SCALE)
    reason = Question("choice", gettext_noop("What is the main reason for your answer?"),
                      options=DEBUG_REASONS)
    return (Step("final", ready, True, explained), Step("reason", reason, True, explained))


def _distinction(design: Design, phase: Phase, show_ai: bool, explained: bool,
                 question: str) -> tuple[Step, ...]:
    if not show_ai:  # an attention check: answer the instruction like a decision
        return _decision(design, phase, False, False, question)
    # HIVE (Kim et al. 2022): k candidate classes, each with the explanation of why the model
    # would choose it; the AI's own choice is not revealed.
    pick = Question("choice", question, asks_confidence=True, from_panels=True)
    return (Step("final", pick, False, explained, shows_candidates=True),)


def _simulate_then_decide(design: Design, phase: Phase, show_ai: bool, explained: bool,
                          question: str) -> tuple[Step, ...]:
    if not show_ai:  # an attention check: one numeric answer as instructed
        return (Step("final", Question("number", question), False, False),)
    # Poursabzi-Sangdeh et al. (2021): predict the model's output (with the model, or only the
    # inputs, in view), then see its output and give one's own estimate.
    simulate = Question("number", gettext_noop("What will the AI predict?"))
    decide = Question("number", question, asks_confidence=True)
    return (Step("simulate", simulate, False, explained), Step("final", decide, True, explained))


def _model_comparison(design: Design, phase: Phase, show_ai: bool, explained: bool,
                      question: str) -> tuple[Step, ...]:
    if not show_ai:
        return _decision(design, phase, False, False, question)
    # Ribeiro et al. (2016): two models' predictions (and explanations) for the same input;
    # which one would you trust on new data?
    pick = Question("choice",
                    gettext_noop("Which model would you trust to work well on new cases?"),
                    from_panels=True, asks_confidence=True)
    reason = Question("choice", gettext_noop("What is the main reason for your choice?"),
                      options=COMPARISON_REASONS)
    return (Step("final", pick, True, explained, shows_candidates=True),
            Step("reason", reason, True, explained, shows_candidates=True))


def _mislabelled(design: Design, phase: Phase, show_ai: bool, explained: bool,
                 question: str) -> tuple[Step, ...]:
    if not show_ai:
        return _decision(design, phase, False, False, question)
    verdict = Question("choice", gettext_noop("Is this training example's label right?"),
                       options=(LABEL_RIGHT, LABEL_WRONG), asks_confidence=True)
    return (Step("final", verdict, True, explained),)


_STEPS = {
    "decision": _decision,
    "judge_advisor": _judge_advisor,
    "agreement": _agreement,
    "forward_simulation": _forward_simulation,
    "counterfactual_simulation": _counterfactual_simulation,
    "debugging": _debugging,
    "distinction": _distinction,
    "simulate_then_decide": _simulate_then_decide,
    "model_comparison": _model_comparison,
    "mislabelled": _mislabelled,
}

# Which metrics answer the questions of each design (LITERATURE.md, "Task designs").
_LABEL_DECISION = ("accuracy", "agreement", "over_reliance", "under_reliance")

DESIGNS: dict[str, Design] = {
    "decision": Design("decision", "AI-assisted decision (one step)",
                       (Phase("main", "main"),), target="truth", answer="class",
                       metrics=_LABEL_DECISION, human_alone_metrics=("complementarity",)),
    "judge_advisor": Design("judge_advisor", "Judge-advisor (first answer, advice, final)",
                            (Phase("main", "main"),), target="truth", answer="class",
                            metrics=("initial_accuracy", *_LABEL_DECISION, "switch_fraction",
                                     "rair", "rsr", "weight_of_advice", "complementarity")),
    "agreement": Design("agreement", "Agreement / verification (HIVE)",
                        (Phase("main", "main"),), target="ai_correct", answer="rating",
                        metrics=("scored_accuracy",)),
    # Hase & Bansal (2020): learn, predict the model, learn again with explanations, predict.
    "forward_simulation": Design(
        "forward_simulation", "Forward simulation (Hase & Bansal)",
        (Phase("learning", "learning", scored=False, explained=False, attention_checks=False),
         Phase("pre", "test", explained=False),
         Phase("learning_explained", "learning", scored=False, attention_checks=False),
         Phase("post", "test", explained=False)),
        target="ai", answer="class",
        metrics=("simulation_accuracy_pre", "simulation_accuracy_post", "simulation_change")),
    # Hase & Bansal (2020): see an input and the model's output, predict the output after one
    # feature changes; the post phase adds the explanation of the original input.
    "counterfactual_simulation": Design(
        "counterfactual_simulation", "Counterfactual simulation (Hase & Bansal)",
        (Phase("pre", "main", explained=False), Phase("post", "main")),
        target="ai_edited", answer="class", metrics=("simulation_accuracy",)),
    # Adebayo et al. (2020, 2022): a quality-assurance tester sees predictions and explanations
    # from models that may carry a planted bug and says whether each is ready to deploy.
    "debugging": Design("debugging", "Model debugging / QA (Adebayo et al.)",
                        (Phase("main", "main"),), target="clean_model", answer="rating",
                        metrics=("debugging_detection",)),
    # HIVE (Kim et al. 2022): which of k class-explanation pairs is the correct class? Chance 1/k.
    "distinction": Design("distinction", "Distinction (HIVE)", (Phase("main", "main"),),
                          target="truth", answer="class", metrics=("accuracy",)),
    # Poursabzi-Sangdeh et al. (2021): simulate the model, see it, estimate (numbers).
    "simulate_then_decide": Design("simulate_then_decide",
                                   "Simulate then decide (Poursabzi-Sangdeh et al.)",
                                   (Phase("main", "main"),), target="truth", answer="number",
                                   metrics=("simulation_error", "deviation_from_ai",
                                            "decision_error")),
    # Ribeiro et al. (2016): pick the model that generalises; the clean one is right.
    "model_comparison": Design("model_comparison", "Comparing two classifiers (Ribeiro et al.)",
                               (Phase("main", "main"),), target="truth", answer="model",
                               metrics=("accuracy",)),
    # Koh & Liang (2017), the tutorial's debugging use: flag mislabelled training points.
    "mislabelled": Design("mislabelled", "Finding mislabelled training points",
                          (Phase("main", "main"),), target="label_error", answer="verdict",
                          metrics=("accuracy",)),
}


def declaring(metric: str) -> tuple[str, ...]:
    """The designs whose metrics include ``metric``."""
    return tuple(name for name, task in DESIGNS.items()
                 if metric in (*task.metrics, *task.human_alone_metrics))


def design(name: str) -> Design:
    try:
        return DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown task design {name!r}; expected one of "
                         f"{', '.join(sorted(DESIGNS))}") from None
