"""The columns of a study export: the contract between the platform and the analysis.

``studyapp`` writes ``trials.csv``, ``participants.csv`` and ``events.csv`` with exactly these
columns and describes them in ``datapackage.json`` (a Frictionless table schema built from the
same lists); ``analysis`` reads them. One place, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["string", "integer", "number", "boolean", "datetime"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False


TRIAL_COLUMNS: tuple[Column, ...] = (
    Column("participant", "string", "Pseudonymised participant id (keyed hash of the PID).", True),
    Column("condition", "string", "Condition the participant was assigned (within and mixed "
           "designs: the condition of their first block).", True),
    Column("trial_condition", "string", "Condition in force on this trial (differs from "
           "`condition` only in within-subjects designs)."),
    Column("trial_index", "integer", "0-based position of the trial in the participant's plan.",
           True),
    Column("item_id", "string", "Identifier of the item (input) shown.", True),
    Column("task", "string", "Task design of the trial (e.g. decision, forward_simulation).", True),
    Column("phase", "string", "Phase within the design (e.g. main, learning, pre, post).", True),
    Column("trial_kind", "string", "`main`; `attention` for an attention/catch trial; "
           "`practice` for an unscored practice trial of a condition's tutorial.", True),
    Column("ai_prediction", "string", "The AI's output shown (or that would have been shown); "
           "in counterfactual simulation, its output on the edited input being simulated."),
    Column("ai_prediction_shown", "string", "The AI's output on the item as shown on the page."),
    Column("edited_feature", "string", "Counterfactual simulation: the feature that was "
           "changed (its before/after values are in the study's item table)."),
    Column("ai_confidence", "number", "The AI's probability for its predicted class."),
    Column("ai_correct", "boolean", "Whether the AI's prediction equals the truth."),
    Column("truth", "string", "The true label of the item; in debugging studies the model "
           "variant that made the prediction (`clean` or the planted bug)."),
    Column("initial_response", "string", "First answer before advice (two-step designs)."),
    Column("final_response", "string", "The participant's final answer."),
    Column("reason", "string", "Debugging and model-comparison studies: the main reason "
           "given for the answer."),
    Column("explanation_rating", "integer", "Counterfactual simulation, post phase: how "
           "helpful the explanation was (1 not at all - 5 extremely), asked after answering."),
    Column("correct", "boolean", "Final answer scored correct under the task's scoring rule "
           "(truth for decisions, the AI's output for simulation)."),
    Column("agreed_with_ai", "boolean", "Final answer equals the AI's prediction."),
    Column("simulation_response", "number", "Simulate-then-decide: the participant's guess of "
           "the AI's output, given before seeing it."),
    Column("simulation_error", "number", "Simulate-then-decide: |simulation_response - "
           "ai_prediction|."),
    Column("deviation_from_ai", "number", "Simulate-then-decide: |final_response - "
           "ai_prediction| (how far the participant moved away from the AI)."),
    Column("absolute_error", "number", "Simulate-then-decide: |final_response - truth|."),
    Column("unusual", "boolean", "Simulate-then-decide: an unusual item, where the model errs "
           "badly (mistake detection)."),
    Column("n_options", "integer", "Distinction / model comparison: how many labelled views "
           "the participant chose among (chance = 1 / n_options)."),
    Column("confidence", "integer", "Stated confidence on the study's scale."),
    Column("rt_ms", "integer", "Client-measured response time in milliseconds."),
    Column("explanation_visible_ms", "integer", "Milliseconds the explanation was on screen."),
    Column("feedback_shown", "boolean", "Whether the trial showed its outcome after the "
           "answer (the condition's `feedback` rule; the answer was given before it)."),
    Column("feedback_ms", "integer", "Milliseconds the outcome page was read, if shown."),
    Column("group", "string", "The item's value of the study's fairness feature (e.g. Sex), "
           "for fairness gaps computed on participants' decisions; empty if none is set."),
    Column("explanation_id", "string", "Fingerprint of the explanation shown, empty if none."),
    Column("explanation_method", "string", "Explanation method shown, empty if none."),
    Column("shown_at", "datetime", "Server time the trial page was first sent (UTC)."),
    Column("answered_at", "datetime", "Server time the answer was stored (UTC)."),
    Column("is_bot", "boolean", "Row produced by a scripted bot participant.", True),
)

PARTICIPANT_COLUMNS: tuple[Column, ...] = (
    Column("participant", "string", "Pseudonymised participant id.", True),
    Column("condition", "string", "Assigned condition (within and mixed designs: the "
           "condition of the first block).", True),
    Column("design_group", "string", "Mixed designs: the between-subjects group assigned."),
    Column("block_order", "string", "Within and mixed designs: the participant's condition "
           "blocks in the order seen (Latin-square row), e.g. `ai_only > shap`."),
    Column("status", "string", "started, active, completed, screened_out or timed_out "
           "(withdrawn participants' records are deleted).", True),
    Column("source", "string", "Recruitment source: prolific, mturk or direct."),
    Column("spec_version", "integer", "Number of the study's spec version the participant "
           "enrolled under and read the texts of (its YAML is versions/v<number>.yaml)."),
    Column("language", "string", "The language the participant read the study in (ISO 639-1 "
           "code: en, de, es), chosen by the spec or the study link's ?lang=."),
    Column("spec_hash", "string", "Content hash of the study specification version.", True),
    Column("seed", "integer", "Seed of the participant's randomised trial plan.", True),
    Column("started_at", "datetime", "When the participant opened the study (UTC)."),
    Column("completed_at", "datetime", "When the participant finished (UTC)."),
    Column("duration_s", "number", "Seconds from start to completion."),
    Column("comprehension_attempts", "integer", "Attempts at the comprehension check."),
    Column("attention_passed", "boolean", "Passed every attention-check trial."),
    Column("is_bot", "boolean", "Scripted bot participant.", True),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("participant", "string", "Pseudonymised participant id.", True),
    Column("trial_index", "integer", "Trial the event belongs to, empty for page events."),
    Column("kind", "string", "Event kind (page_view, explanation_shown, blur, focus, ...).", True),
    Column("page", "string", "Page the event happened on."),
    Column("client_ms", "integer", "Client clock in milliseconds since the page loaded."),
    Column("server_at", "datetime", "Server time the event was stored (UTC).", True),
    Column("detail", "string", "JSON with event-specific detail."),
)


# bonuses.csv: written only for studies with an ``incentives`` section (experiments.incentives).
BONUS_COLUMNS: tuple[Column, ...] = (
    Column("participant", "string", "Pseudonymised participant id.", True),
    Column("status", "string", "Participant status; only completed participants are paid.",
           True),
    Column("scored_trials", "integer", "Main trials answered and scored right or wrong "
           "(attention checks and unscored phases do not count).", True),
    Column("correct", "integer", "Of those, answered correctly.", True),
    Column("bonus", "number", "Bonus by the spec's rule, in `currency`, to the cent.", True),
    Column("currency", "string", "GBP, USD or EUR, as the spec states.", True),
)
