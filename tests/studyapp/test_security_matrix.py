"""Who may reach what: every URL pattern the site has, for every kind of visitor.

The URL patterns are enumerated from Django's resolver, so a new route without an entry in
the expectation table fails ``test_every_url_pattern_has_an_expectation``. Roles:

- anonymous: no session at all;
- participant: a browser enrolled in the study (a participant session, no login);
- owner: the researcher who owns the study;
- colleague: a researcher given view rights on it;
- outsider: a researcher with no rights on it.

Oracles: the status codes in ``GET_RULES`` / ``WRITE_RULES`` (refusals are 302-to-login for
pages, 403 for the API, and 404 for someone else's study so that slugs cannot be probed),
the database after each write, and canaries: a second participant's recruitment id, their
pseudonym and an item only their trial shows must never appear in a response to anyone but
them and the study's researchers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from studyapp.models import AnalysisRun, Event, Explanation, Item, Participant, Study, Trial
from studyapp.services.exports import participant_pseudonym
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "participant", "owner", "colleague", "outsider")
VICTIM = "5f0c0ffee00000000000a1c7"  # the other participant, whose data is the canary
CANARY_ITEM = "canary-display-value-4711"


# ----- the URL patterns -------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    text: str  # the pattern as written, prefixes joined
    name: str | None  # namespaced name for reverse(), if it has one
    groups: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(prefix + str(entry.pattern), name,
                        tuple(entry.pattern.regex.groupindex))


ROUTES = sorted(set(_walk(get_resolver().url_patterns)), key=lambda r: r.text)

# Patterns without a name, or whose regex reverse() cannot fill, written out by hand.
UNNAMED = {
    "": "/", "healthz": "/healthz",
    "admin/(?P<url>.*)$": "/admin/no-such-page/",
}


@dataclass
class World:
    study: Study
    participant: Walker
    victim: Walker
    clients: dict[str, Client]
    values: dict[str, str]


def _object_id(route: Route, world: World) -> str:
    """The admin object a route addresses: one of the owner's (or the victim's) records."""
    match = re.search(r"admin/(\w+)/(\w+)/", route.text)
    model = match.group(2) if match else "study"  # admin/r/<content type>/<id>/: a study
    victim = world.victim.participant
    first = {
        "item": Item.objects.filter(study=world.study),
        "explanation": Explanation.objects.filter(item__study=world.study),
        "trial": victim.trials.all(), "event": Event.objects.filter(participant=victim),
        "group": Group.objects.all(),
    }
    if model in first:
        return str(first[model].values_list("pk", flat=True)[0])
    own = {"study": world.study.pk, "participant": victim.pk, "user": world.study.owner_id,
           "tokenproxy": world.study.owner_id}
    return str(own[model])


def url_for(route: Route, world: World) -> str:
    if route.text in UNNAMED:
        return UNNAMED[route.text]
    kwargs = {group: world.values[group] for group in route.groups
              if group not in {"object_id", "id"}}
    for group in {"object_id", "id"} & set(route.groups):
        kwargs[group] = _object_id(route, world)
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    # An unnamed path() route: fill its <converter:name> parts in.
    assert "(?P" not in route.text, f"{route.text} needs an entry in UNNAMED"
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m.group(1)], route.text)


# ----- the people -------------------------------------------------------------------------

@pytest.fixture
def world(study, owner, colleague, outsider, settings, tmp_path) -> World:
    settings.VAR_DIR = tmp_path
    victim = Walker(study, pid=VICTIM)
    victim.to_trials()
    victim.client.post("/api/events/", {"study": study.slug, "kind": "page_hidden"},
                       content_type="application/json")
    _plant_canary_item(victim.participant)
    participant = Walker(study, pid="5f0c0ffee0000000000000e1")
    participant.to_trials()
    run = _finished_analysis_run(study, tmp_path)
    clients = {"anonymous": Client(), "participant": participant.client}
    for role, user in (("owner", owner), ("colleague", colleague), ("outsider", outsider)):
        clients[role] = Client()
        clients[role].force_login(user)
    Token.objects.create(user=owner)
    values = {"slug": study.slug, "name": "ai", "payment_file": "prolific-approvals",
              "run_id": str(run.pk), "format": "json",
              "app_label": "studyapp", "url": "no-such-page/",
              "content_type_id": str(ContentType.objects.get_for_model(Study).pk)}
    return World(study, participant, victim, clients, values)


def _plant_canary_item(victim: Participant) -> None:
    """The victim's current trial shows an item nobody else is ever given."""
    trial = victim.trials.get(index=victim.trial_pointer)
    item = trial.item
    item.pk, item.key = None, "canary-item"
    item.display = {"Occupation": CANARY_ITEM}
    item.save()
    Trial.objects.filter(pk=trial.pk).update(item=item)


def _finished_analysis_run(study: Study, tmp_path: Any) -> AnalysisRun:
    folder = tmp_path / "reports" / study.slug / "run"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html><body>report</body></html>")
    return AnalysisRun.objects.create(study=study, state=AnalysisRun.State.DONE,
                                      directory=str(folder))


# ----- what each role gets on GET ---------------------------------------------------------

LOGIN, API_REFUSED, HIDDEN = {302}, {403}, {404}


def _everyone(*statuses: int) -> dict[str, set[int]]:
    return {role: set(statuses) for role in ROLES}


# (path regex, {role: allowed statuses}); the first matching rule applies.
GET_RULES: list[tuple[str, dict[str, set[int]]]] = [
    (r"^/$", _everyone(302)),
    (r"^/healthz$", _everyone(200)),
    (r"^/s/[\w-]+/$", _everyone(200)),
    # Only a browser holding a participant session gets the confirmation page.
    (r"^/s/[\w-]+/withdraw$", {**_everyone(303), "participant": {200}}),
    # The material upload is every researcher's own page (it names no study).
    (r"^/r/(gallery/|material/new/)?$", {"anonymous": LOGIN, "participant": LOGIN,
                                         "owner": {200}, "colleague": {200},
                                         "outsider": {200}}),
    (r"^/r/[\w-]+/(status|prepare|analysis|conditions/\w+/open|preview/\w+|preview-language)$",
     {"anonymous": LOGIN, "participant": LOGIN, "owner": {405}, "colleague": {405},
      "outsider": {405}}),
    # Payment files carry the platforms' own ids: the study's editors only.
    (r"^/r/[\w-]+/payments/", {"anonymous": LOGIN, "participant": LOGIN, "owner": {200},
                               "colleague": HIDDEN, "outsider": HIDDEN}),
    (r"^/r/[\w-]+/", {"anonymous": LOGIN, "participant": LOGIN, "owner": {200},
                      "colleague": {200}, "outsider": HIDDEN}),
    (r"^/accounts/login/$", _everyone(200)),
    (r"^/accounts/logout/$", _everyone(405)),
    # The schema maps every endpoint: researchers only (it was open to anyone).
    (r"^/api/schema/$", {"anonymous": API_REFUSED, "participant": API_REFUSED, "owner": {200},
                         "colleague": {200}, "outsider": {200}}),
    (r"^/api/events/$", _everyone(405)),
    (r"^/api/studies/[\w-]+/(status|conditions/\w+)(/|\.json)$",
     {"anonymous": API_REFUSED, "participant": API_REFUSED, "owner": {405},
      "colleague": {405}, "outsider": {405}}),
    (r"^/api/studies/[\w-]+[/.]", {"anonymous": API_REFUSED, "participant": API_REFUSED,
                                   "owner": {200}, "colleague": {200}, "outsider": HIDDEN}),
    (r"^/api/", {"anonymous": API_REFUSED, "participant": API_REFUSED, "owner": {200},
                 "colleague": {200}, "outsider": {200}}),
    # The admin: visitors are sent to its login; researchers see their own studies' records.
    (r"^/admin/login/$", _everyone(200, 302)),
    (r"^/admin/logout/$", {"anonymous": LOGIN, "participant": LOGIN, "owner": {405},
                           "colleague": {405}, "outsider": {405}}),
    (r"^/admin/", {"anonymous": LOGIN, "participant": LOGIN}),
]


def _admin_rule(path: str, role: str) -> set[int]:
    """Researchers in the admin: users, groups and tokens are off limits (403); collected
    data is read-only (add/delete 403); someone else's records are 'not found' (302 back to
    the admin index, or 404)."""
    if path.startswith("/admin/r/") or path == "/admin/no-such-page/":
        return {404}  # no model has a "view on site" page
    if re.search(r"/\d+/$", path):
        return {302}  # a bare object URL redirects to its change page
    if re.match(r"^/admin/(auth|authtoken)/", path) or path == "/admin/autocomplete/":
        return {403}
    if re.search(r"/(item|explanation|participant|trial|event)/(add|\d+/delete)/$", path):
        return {403}
    if re.search(r"/study/\d+/delete/$", path):
        return {200} if role == "owner" else {403} if role == "colleague" else {302}
    if re.search(r"/\d+/(change|history)/$", path):
        return {302} if role == "outsider" else {200}
    return {200}


def expected_get(path: str, role: str) -> set[int]:
    for pattern, by_role in GET_RULES:
        if re.match(pattern, path):
            if role in by_role:
                return by_role[role]
            return _admin_rule(path, role)
    raise AssertionError(f"no rule for {path}")


def test_every_url_pattern_has_an_expectation(world):
    """Oracle: the resolver's own list; a new URL must be added to the table above."""
    assert len(ROUTES) > 60
    for route in ROUTES:
        path = url_for(route, world)
        for role in ROLES:
            assert expected_get(path, role), (route.text, role)


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_table_says(world, role):
    wrong = []
    for route in ROUTES:
        path = url_for(route, world)
        response = world.clients[role].get(path)
        if response.status_code not in expected_get(path, role):
            wrong.append(f"{path}: {response.status_code}, expected {expected_get(path, role)}")
        if (response.status_code == 302 and role in {"anonymous", "participant"}
                and path.startswith(("/r/", "/admin/")) and path != "/admin/logout/"):
            assert "login" in response["Location"], path
    assert wrong == []


@pytest.mark.parametrize("role", ["anonymous", "participant", "outsider"])
def test_nobody_else_ever_sees_another_participants_data(world, role):
    """Canaries: the victim's recruitment id, pseudonym and the item only their trial shows.
    Oracle: the bodies of every GET response (streamed ones included)."""
    canaries = [VICTIM, participant_pseudonym(world.study, VICTIM), CANARY_ITEM]
    victim_page = world.victim.page().content.decode()
    assert CANARY_ITEM in victim_page  # the canary is live: its owner does see it
    for route in ROUTES:
        path = url_for(route, world)
        body = _body(world.clients[role].get(path))
        leaked = [c for c in canaries if c in body]
        assert not leaked, f"{role} sees {leaked} at {path}"


def test_the_owner_and_colleague_do_see_the_pseudonym_but_never_the_raw_id(world):
    """Exports pseudonymise by default: the raw recruitment id is in no researcher response
    outside the admin (where the participant record itself is shown)."""
    pseudonym = participant_pseudonym(world.study, VICTIM)
    for role in ("owner", "colleague"):
        bodies = {url_for(r, world): _body(world.clients[role].get(url_for(r, world)))
                  for r in ROUTES if not r.text.startswith("admin/")}
        assert any(pseudonym in body for body in bodies.values())
        assert [path for path, body in bodies.items() if VICTIM in body] == []


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if content[:2] == b"PK":  # a zip archive: read what is inside
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace")
                             for n in archive.namelist())
    return content.decode("utf-8", "replace")


# ----- writes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Write:
    method: str
    path: str
    data: dict[str, Any]
    allowed: frozenset[str]  # roles whose write goes through
    refused: dict[str, int]  # role -> status of the refusal


PAGE_REFUSAL = {"anonymous": 302, "participant": 302, "colleague": 404, "outsider": 404}
API_REFUSAL = {"anonymous": 403, "participant": 403, "colleague": 404, "outsider": 404}
WRITES = [
    Write("post", "/r/{slug}/status", {"status": "closed"}, frozenset({"owner"}), PAGE_REFUSAL),
    Write("post", "/r/{slug}/conditions/ai/open", {"open": "0"}, frozenset({"owner"}),
          PAGE_REFUSAL),
    Write("post", "/r/{slug}/prepare", {}, frozenset({"owner"}), PAGE_REFUSAL),
    # A preview creates a participant and an analysis run is stored with the study: both are
    # writes, so a view-only colleague is refused like for any other (it was let through).
    Write("post", "/r/{slug}/preview/ai", {}, frozenset({"owner"}), PAGE_REFUSAL),
    Write("post", "/r/{slug}/analysis", {}, frozenset({"owner"}), PAGE_REFUSAL),
    # One gallery serves the site: only a site administrator rebuilds it.
    Write("post", "/r/gallery/", {}, frozenset({"admin"}),
          {"anonymous": 302, "participant": 302, "owner": 403, "colleague": 403,
           "outsider": 403}),
    Write("post", "/api/studies/{slug}/status/", {"status": "closed"}, frozenset({"owner"}),
          API_REFUSAL),
    Write("patch", "/api/studies/{slug}/conditions/ai/", {"is_open": False},
          frozenset({"owner"}), API_REFUSAL),
]


def _state(study: Study) -> tuple[Any, ...]:
    study.refresh_from_db()
    return (study.status, tuple(study.conditions.values_list("is_open", flat=True)),
            AnalysisRun.objects.count(), Participant.objects.filter(is_preview=True).count())


@pytest.mark.parametrize("write", WRITES, ids=lambda w: f"{w.method} {w.path}")
@pytest.mark.parametrize("role", ROLES)
def test_each_write_goes_through_for_its_roles_only(world, monkeypatch, write, role):
    """Oracle: the status and whether the study's state changed."""
    from studyapp import tasks

    monkeypatch.setattr(tasks.prepare_study, "delay", lambda *a, **k: None)
    monkeypatch.setattr(tasks.build_analysis, "delay", lambda *a, **k: None)
    rebuilt: list[bool] = []
    monkeypatch.setattr(tasks.build_gallery, "delay", lambda *a, **k: rebuilt.append(True))
    before = _state(world.study)
    path = write.path.format(slug=world.study.slug)
    kwargs: dict[str, Any] = {"content_type": "application/json"} if path.startswith(
        "/api/") else {}
    response = getattr(world.clients[role], write.method)(path, write.data, **kwargs)
    if role in write.allowed:
        assert response.status_code in {200, 302}, response.content[:300]
        assert _state(world.study) != before or path.endswith("/prepare")
    else:
        assert response.status_code == write.refused[role]
        assert _state(world.study) == before
        assert rebuilt == []


def test_a_viewer_cannot_change_delete_or_bulk_delete_in_the_admin(world):
    colleague = world.clients["colleague"]
    study = world.study
    change = colleague.post(f"/admin/studyapp/study/{study.pk}/change/", {
        "spec_yaml": "slug: small", "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0", "access-TOTAL_FORMS": "0",
        "access-INITIAL_FORMS": "0"})
    assert change.status_code == 403
    assert colleague.post(f"/admin/studyapp/study/{study.pk}/delete/",
                          {"post": "yes"}).status_code == 403
    colleague.post("/admin/studyapp/study/", {"action": "delete_selected",
                                              "_selected_action": [study.pk], "post": "yes"})
    assert Study.objects.filter(pk=study.pk).exists()


@pytest.mark.parametrize("model", ["trial", "event", "item", "explanation", "participant"])
def test_collected_data_cannot_be_deleted_by_hand_even_by_the_owner(world, model):
    """Removal of a participant's data goes through withdrawal, which removes all of it;
    deleting single trials or events would leave a half-record behind."""
    victim = world.victim.participant
    objects = {"trial": victim.trials.first(), "event": victim.events.first(),
               "item": Item.objects.filter(study=world.study).first(),
               "explanation": Explanation.objects.filter(item__study=world.study).first(),
               "participant": victim}
    target = objects[model]
    owner = world.clients["owner"]
    assert owner.post(f"/admin/studyapp/{model}/{target.pk}/delete/",
                      {"post": "yes"}).status_code == 403
    owner.post(f"/admin/studyapp/{model}/", {"action": "delete_selected",
                                              "_selected_action": [target.pk], "post": "yes"})
    assert type(target).objects.filter(pk=target.pk).exists()


def test_a_participant_cannot_act_on_another_participants_trial_or_session(world):
    """The session binds a browser to its participant: ids in the form are ignored, and the
    event log writes to the session's own participant."""
    victim = world.victim.participant
    before = (victim.trial_pointer, victim.events.count())
    attacker = world.participant
    attacker.post("answer", trial_index=victim.trial_pointer, step="final", participant=victim.pk,
                  answer=world.study.answer_options[0]["value"], confidence=2)
    attacker.client.post("/api/events/", {"study": world.study.slug, "kind": "blur",
                                          "participant": victim.pk},
                         content_type="application/json")
    victim.refresh_from_db()
    assert (victim.trial_pointer, victim.events.count()) == before
    assert CANARY_ITEM not in attacker.page().content.decode()
