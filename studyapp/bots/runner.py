"""Scripted participants that play a whole study over HTTP, like a person in a browser.

Each bot opens the study link with Prolific parameters, lands on the page the server
chooses, fills its form and checks the server moved it where it should. With ``mischief`` it
also tries what must fail — answering before consenting, a wrong comprehension attempt, a
double submit, re-posting the previous trial after moving on (the back button) — and checks
that nothing changed. Every answer the server confirmed is recorded, so the export can be
reconciled against what the bots were told was saved.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import requests

from studyapp.bots.behaviours import Behaviour
from studyapp.bots.pages import Page, parse_page

MAX_PAGES = 500


@dataclass
class BotConfig:
    base_url: str
    slug: str
    behaviour: Behaviour
    comprehension_answers: dict[str, str]
    seed: int = 0
    dropout: float = 0.0
    mischief: bool = True
    timeout: float = 30.0


@dataclass
class BotResult:
    external_id: str
    completed: bool = False
    dropped_out: bool = False
    code: str = ""
    answers: list[tuple[int, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pages: int = 0


class Bot:
    def __init__(self, config: BotConfig, number: int) -> None:
        self.config = config
        self.rng = np.random.default_rng([config.seed, number])
        self.result = BotResult(external_id=f"BOT{config.seed:05d}X{number:06d}")
        self.http = requests.Session()
        self.http.headers.update({"X-Bot": "1", "User-Agent": "ExplainLab-bot/1"})
        self.url = f"{config.base_url.rstrip('/')}/s/{config.slug}/"
        self.drop_after = (int(self.rng.integers(1, 20)) if self.rng.random() < config.dropout
                           else None)
        self.last_answer_form: dict[str, str] | None = None
        self.tried: set[str] = set()

    # -- HTTP ----------------------------------------------------------------------------

    def _get(self, params: dict[str, str] | None = None) -> Page:
        response = self.http.get(self.url, params=params, timeout=self.config.timeout)
        return parse_page(response.status_code, response.url, response.text)

    def _post(self, page: Page, data: dict[str, str]) -> Page:
        form = {"csrfmiddlewaretoken": page.forms[0].hidden.get("csrfmiddlewaretoken", "")}
        form.update(data)
        response = self.http.post(self.url, data=form, timeout=self.config.timeout,
                                  headers={"Referer": self.url})
        return parse_page(response.status_code, response.url, response.text)

    # -- the walk -----------------------------------------------------------------------

    def run(self) -> BotResult:
        try:
            self._walk()
        except (requests.RequestException, StopIteration, KeyError) as exc:
            self.result.errors.append(f"{type(exc).__name__}: {exc}")
        return self.result

    def _walk(self) -> None:
        page = self._get({"PROLIFIC_PID": self.result.external_id, "STUDY_ID": "BOTSTUDY",
                          "SESSION_ID": f"S{self.result.external_id}"})
        while self.result.pages < MAX_PAGES:
            self.result.pages += 1
            if self.drop_after is not None and self.result.pages > self.drop_after:
                self.result.dropped_out = True
                return
            if page.kind == "finished":
                self.result.completed = True
                self.result.code = page.code
                return
            if page.status >= 400 or page.kind == "error":
                self.result.errors.append(f"page {page.url} answered {page.status}")
                return
            page = self._act(page)
        self.result.errors.append("too many pages")

    def _act(self, page: Page) -> Page:
        kind = page.kind
        if self.config.mischief and kind not in self.tried:
            self.tried.add(kind)
            self._misbehave(page)
            page = self._get()
        if kind == "consent":
            return self._post(page, {"action": "consent", "agree": "yes"})
        if kind == "instructions":
            return self._post(page, {"action": "instructions"})
        if kind == "comprehension":
            return self._post(page, {"action": "comprehension",
                                     **self.config.comprehension_answers})
        if kind == "answer":
            return self._answer(page)
        if kind == "questionnaire":
            return self._questionnaire(page)
        if kind == "start":
            return self._post(page, {"action": "start"})
        self.result.errors.append(f"unexpected page kind {kind}")
        raise StopIteration(kind)

    def _answer(self, page: Page) -> Page:
        form = page.form
        # A learning page only asks to continue: its one answer is a hidden field.
        options = form.radios.get("answer") or [form.hidden["answer"]]
        answer, confidence = self.config.behaviour.answer(page, options, self.rng)
        if page.instruction:
            # An attention check names the answer it wants; an attentive person gives it.
            asked = [o for o in options if f"“{o}”" in page.instruction]
            answer = asked[0] if asked else answer
        data = {"action": "answer", "trial_index": form.hidden["trial_index"],
                "step": form.hidden["step"], "answer": answer,
                "idempotency_key": form.hidden.get("idempotency_key", ""),
                "rt_ms": str(int(self.rng.integers(800, 9000))),
                "explanation_visible_ms": str(int(self.rng.integers(0, 5000)))
                if page.has_explanation else ""}
        if confidence:
            data["confidence"] = str(confidence)
        after = self._post(page, data)
        if after.status >= 400:
            self.result.errors.append(f"answer refused: {after.status} {after.text[:200]}")
            return after
        self._check_advanced(page, after)
        if self.config.mischief and not self.result.answers:
            # A double click: the same post again must change nothing.
            repeat = self._post(page, data)
            if _position(repeat) != _position(after):
                self.result.errors.append("a repeated answer moved the participant")
        self.result.answers.append((int(data["trial_index"]), data["step"], answer))
        self.last_answer_form = data
        return after

    def _check_advanced(self, before: Page, after: Page) -> None:
        same = (after.kind == "answer" and
                after.attributes.get("data-trial") == before.attributes.get("data-trial") and
                after.attributes.get("data-step") == before.attributes.get("data-step"))
        if same:
            self.result.errors.append("the server did not move on after an answer")

    def _questionnaire(self, page: Page) -> Page:
        data = {"action": "questionnaire"}
        for name, values in page.form.radios.items():
            data[name] = str(self.rng.choice(values))
        for name in page.form.textareas:
            data[name] = "Scripted bot: no comment."
        return self._post(page, data)

    # -- what must fail -----------------------------------------------------------------

    def _misbehave(self, page: Page) -> None:
        """Try an illegal move on this page and check the participant's position holds."""
        position = _position(page)
        if page.kind == "consent":
            self._post(page, {"action": "answer", "trial_index": "0", "step": "final",
                              "answer": "x"})
        elif page.kind == "comprehension" and self.rng.random() < 0.3:
            wrong = {k: "definitely not an option" for k in self.config.comprehension_answers}
            self._post(page, {"action": "comprehension", **wrong})
            position = ("comprehension", None, None)
        elif page.kind == "answer" and self.last_answer_form is not None:
            self._post(page, self.last_answer_form)  # the back button: re-send the last trial
        elif page.kind == "questionnaire" and page.form.radios:
            self._post(page, {"action": "questionnaire"})  # required scales left empty
        again = self._get()
        now = _position(again)
        if now != position and not (page.kind == "comprehension" and again.kind == "finished"):
            self.result.errors.append(f"an illegal post moved the participant: {position} -> {now}")


def _position(page: Page) -> tuple[str, str | None, str | None]:
    return page.kind, page.attributes.get("data-trial"), page.attributes.get("data-step")


def run_bots(config: BotConfig, n: int, *, concurrency: int = 4) -> list[BotResult]:
    """Run ``n`` bots, ``concurrency`` at a time; results in bot order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(lambda i: Bot(config, i).run(), range(n)))


def summarise(results: list[BotResult]) -> dict[str, Any]:
    return {
        "bots": len(results),
        "completed": sum(r.completed for r in results),
        "dropped_out": sum(r.dropped_out for r in results),
        "with_errors": sum(bool(r.errors) for r in results),
        "answers": sum(len(r.answers) for r in results),
        "errors": [e for r in results for e in r.errors][:20],
    }
