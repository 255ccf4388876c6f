"""Scripted participants that play a whole study over HTTP, like a person in a browser.

Each bot opens the study link with Prolific parameters, lands on the page the server
chooses, fills its form and checks the server moved it where it should. With ``mischief`` it
also tries what must fail — answering before consenting, a wrong comprehension attempt, a
double submit, re-posting the previous trial after moving on (the back button) — and checks
that nothing changed. Every answer the server confirmed is recorded, so the export can be
reconciled against what the bots were told was saved.

For load tests a bot can pause between pages (``think_seconds``), and hands every HTTP request
it makes to an ``observer`` with its page type and wall time; each request carries an
``X-Request-Id`` so the server's own timing of it can be joined afterwards.

A request the server could not answer (connection lost, 502/503/504) is sent again unchanged
for up to ``retry_seconds`` (``transport.py``); each retry is counted. For the fault tests a
bot can also re-send every POST, answer in two tabs, or come back after the time limit.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import numpy as np
import requests

from studyapp.bots.behaviours import Behaviour, number_answer
from studyapp.bots.pages import Page, parse_page
from studyapp.bots.transport import Retry, send_retrying

MAX_PAGES = 500
TIMED_OUT_HEADING = "time for this study has run out"  # templates/participant/finished.html
# What a bot reports per HTTP request: (request id, page type, seconds, status).
RequestObserver = Callable[[str, str, float, int], None]


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
    # A pause drawn uniformly from this range before acting on each page (a person reading).
    think_seconds: tuple[float, float] = (0.0, 0.0)
    observer: RequestObserver | None = None
    # Log "explanation shown" to the event API as the page's script does in a browser.
    log_events: bool = False
    # Requests the server could not answer are sent again, unchanged, for this long (0: never).
    retry_seconds: float = 30.0
    # More mischief: re-send every POST once its answer came back; answer each trial in two
    # tabs; the first ``late_bots`` bots leave at their first trial and come back after the
    # time limit, which ``come_back_late(external_id)`` makes pass (bots never sleep for it).
    retry_every_post: bool = False
    two_tabs: bool = False
    late_bots: int = 0
    come_back_late: Callable[[str], None] | None = None
    # The server-side secret that flags these participants as bots (``enrolment.bot_token``);
    # without it the server takes them for people.
    bot_token: str = ""


@dataclass
class BotResult:
    external_id: str
    completed: bool = False
    dropped_out: bool = False
    code: str = ""
    answers: list[tuple[int, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pages: int = 0
    timed_out: bool = False
    retries: list[Retry] = field(default_factory=list)


class Bot:
    def __init__(self, config: BotConfig, number: int) -> None:
        self.config = config
        self.rng = np.random.default_rng([config.seed, number])
        # A well-formed Prolific id (24 hex digits), distinct per run seed and bot number.
        self.result = BotResult(external_id=f"b0{config.seed % 16**8:08x}{number:014x}")
        self.http = requests.Session()
        self.http.headers.update({"X-Bot-Token": config.bot_token,
                                  "User-Agent": "ExplainLab-bot/1"})
        self.url = f"{config.base_url.rstrip('/')}/s/{config.slug}/"
        self.drop_after = (int(self.rng.integers(1, 20)) if self.rng.random() < config.dropout
                           else None)
        self.last_answer_form: dict[str, str] | None = None
        self.tried: set[str] = set()
        self.requests_sent = 0
        self.number = number

    # -- HTTP ----------------------------------------------------------------------------

    def _get(self, params: dict[str, str] | None = None) -> Page:
        return self._navigate("GET", "arrival" if params else "", params=params)

    def _post(self, page: Page, data: dict[str, str]) -> Page:
        form = _filled(page, data)
        label = "answer POST" if data.get("action") == "answer" else f"{data.get('action')} POST"
        after = self._navigate("POST", label, data=form, headers={"Referer": self.url})
        if self.config.retry_every_post:  # as a client unsure whether its POST arrived
            after = self._navigate("POST", label, data=form, headers={"Referer": self.url})
        return after

    def _retried(self, retry: Retry) -> None:
        self.result.retries.append(retry)

    def _navigate(self, method: str, label: str, **kwargs: Any) -> Page:
        """One request and the redirects it answers with, followed by hand (as a browser
        does after POST/redirect/GET) so that each HTTP request is timed on its own."""
        response, timing = self._request(method, self.url, **kwargs)
        pending = [(label, timing)]
        while response.is_redirect:
            response, timing = self._request("GET", urljoin(response.url,
                                                            response.headers["Location"]))
            pending.append(("", timing))
        page = parse_page(response.status_code, response.url, response.text)
        if self.config.observer is not None:
            for name, (request_id, seconds, status) in pending:
                self.config.observer(request_id, name or page_type(page), seconds, status)
        return page

    def _request(self, method: str, url: str, **kwargs: Any
                 ) -> tuple[requests.Response, tuple[str, float, int]]:
        self.requests_sent += 1
        request_id = f"{self.result.external_id}-{self.requests_sent}"
        headers = {"X-Request-Id": request_id, **kwargs.pop("headers", {})}
        start = time.perf_counter()
        response = send_retrying(self.http, method, url, retry_seconds=self.config.retry_seconds,
                                 on_retry=self._retried, headers=headers,
                                 allow_redirects=False, timeout=self.config.timeout, **kwargs)
        return response, (request_id, time.perf_counter() - start, response.status_code)

    def _think(self) -> None:
        low, high = self.config.think_seconds
        if high > 0:  # no draw otherwise, so runs without pauses replay their old answers
            time.sleep(float(self.rng.uniform(low, high)))

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
                self.result.timed_out = _timed_out(page)
                self.result.completed = not self.result.timed_out
                self.result.code = page.code
                return
            if page.status >= 400 or page.kind == "error":
                self.result.errors.append(f"page {page.url} answered {page.status}")
                return
            self._think()
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
            if self.config.log_events and page.has_explanation:
                self._log_event(page, "explanation_shown")
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
        options = form.radios.get("answer") or [form.hidden.get("answer", "")]
        answer, confidence = self.config.behaviour.answer(page, options, self.rng)
        if "answer" in form.numbers:  # a numeric estimate (simulate then decide)
            answer = number_answer(self.config.behaviour, page, form.numbers["answer"],
                                   self.rng)
            options = [answer]
        elif page.instruction:
            # An attention check names the answer it wants; an attentive person gives it.
            asked = [o for o in options if page.asks_for(o)]
            answer = asked[0] if asked else answer
        data = {"action": "answer", "trial_index": form.hidden["trial_index"],
                "step": form.hidden["step"], "answer": answer,
                "idempotency_key": form.hidden.get("idempotency_key", ""),
                "rt_ms": str(int(self.rng.integers(800, 9000))),
                "explanation_visible_ms": str(int(self.rng.integers(0, 5000)))
                if page.has_explanation else ""}
        if confidence:
            data["confidence"] = str(confidence)
        if self.number < self.config.late_bots and self.config.come_back_late is not None:
            return self._answer_after_time_limit(page, data)
        after = (self._answer_in_two_tabs(page, data, options) if self.config.two_tabs
                 else self._post(page, data))
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

    def _answer_in_two_tabs(self, page: Page, data: dict[str, str], options: list[str]) -> Page:
        """The trial is open in a second tab too: both tabs send this answer at once, then the
        second, still showing the old page, sends a different one. Only the first may be
        stored, so the bot records that one (reconciling catches any other outcome)."""
        tab = requests.Session()
        tab.headers.update(self.http.headers)
        tab.cookies.update(self.http.cookies)
        form = _filled(page, data)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            other_tab = pool.submit(self._tab_post, tab, form)
            after = self._post(page, data)
            other_tab.result()
        different = [option for option in options if option != data["answer"]]
        if different:
            self._tab_post(tab, {**form, "answer": different[0]})
        return after

    def _tab_post(self, tab: requests.Session, form: dict[str, str]) -> None:
        send_retrying(tab, "POST", self.url, retry_seconds=self.config.retry_seconds,
                      on_retry=self._retried, data=form, headers={"Referer": self.url},
                      timeout=self.config.timeout)

    def _answer_after_time_limit(self, page: Page, data: dict[str, str]) -> Page:
        """Leave, come back after the time limit and send the answer of the page left open:
        the server must answer with the timed-out page (so the answer is not recorded)."""
        assert self.config.come_back_late is not None
        self.config.come_back_late(self.result.external_id)
        after = self._post(page, data)
        if not _timed_out(after):
            self.result.errors.append(f"an answer after the time limit got a {after.kind} page")
        return after

    def _log_event(self, page: Page, kind: str) -> None:
        """What static/js/participant.js sends: JSON, the CSRF token in a header."""
        url = f"{self.config.base_url.rstrip('/')}/api/events/"
        trial = page.attributes.get("data-trial")
        body: dict[str, Any] = {"study": self.config.slug, "kind": kind, "page": "",
                                "trial_index": int(trial) if trial else None,
                                "client_ms": int(self.rng.integers(500, 60_000)),
                                "detail": {}}
        token = page.forms[0].hidden.get("csrfmiddlewaretoken", "")
        response, (request_id, seconds, status) = self._request(
            "POST", url, json=body, headers={"X-CSRFToken": token, "Referer": self.url})
        if self.config.observer is not None:
            self.config.observer(request_id, "event POST", seconds, status)
        if status != 201:
            self.result.errors.append(f"event refused: {status} {response.text[:200]}")

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
            position = ("instructions", None, None)  # a wrong attempt: read them again
        elif page.kind == "answer" and self.last_answer_form is not None:
            self._post(page, self.last_answer_form)  # the back button: re-send the last trial
        elif page.kind == "questionnaire" and page.form.radios:
            self._post(page, {"action": "questionnaire"})  # required scales left empty
        again = self._get()
        now = _position(again)
        if now != position and not (page.kind == "comprehension" and again.kind == "finished"):
            self.result.errors.append(f"an illegal post moved the participant: {position} -> {now}")


def _filled(page: Page, data: dict[str, str]) -> dict[str, str]:
    """What a browser sends: the form's hidden fields (CSRF token, the comprehension attempt
    number, ...) with the bot's answers over them."""
    return {**page.forms[0].hidden, **data}


def _position(page: Page) -> tuple[str, str | None, str | None]:
    return page.kind, page.attributes.get("data-trial"), page.attributes.get("data-step")


def _timed_out(page: Page) -> bool:
    return page.kind == "finished" and TIMED_OUT_HEADING in page.text


_PAGE_TYPES = {"answer": "trial GET", "finished": "done GET"}


def page_type(page: Page) -> str:
    """How a load report names a GET by the page it returned: 'trial GET', 'consent GET'."""
    return _PAGE_TYPES.get(page.kind, f"{page.kind} GET")


def run_bots(config: BotConfig, n: int, *, concurrency: int = 4, ramp_seconds: float = 0.0,
             first: int = 0, start_at: float | None = None) -> list[BotResult]:
    """Run ``n`` bots (numbered from ``first``), ``concurrency`` at a time, the k-th starting
    ``k * ramp_seconds / n`` after ``start_at`` (``time.monotonic()``; default now): a ramp.
    Results in bot order."""
    start = time.monotonic() if start_at is None else start_at

    def play(k: int) -> BotResult:
        time.sleep(max(0.0, start + k * ramp_seconds / max(n, 1) - time.monotonic()))
        return Bot(config, first + k).run()

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(play, range(n)))


def summarise(results: list[BotResult]) -> dict[str, Any]:
    return {
        "bots": len(results),
        "completed": sum(r.completed for r in results),
        "dropped_out": sum(r.dropped_out for r in results),
        "with_errors": sum(bool(r.errors) for r in results),
        "answers": sum(len(r.answers) for r in results),
        "timed_out": sum(r.timed_out for r in results),
        "retries": sum(len(r.retries) for r in results),
        "errors": [e for r in results for e in r.errors][:20],
    }
