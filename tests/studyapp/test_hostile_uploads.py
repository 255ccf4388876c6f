"""Hostile study specs through every way a spec gets in, and hostile participant posts.

Ways in: ``manage.py load_study`` (a file), the admin's YAML form (a textarea). The REST API
takes no specs (checked below). For each hostile input the oracle is the same: a clear error
that names the problem, a non-zero exit for the command, and the database exactly as it was
(row counts of every table, and the existing study's spec hash).

Participants' form posts are fuzzed with Hypothesis: whatever they send, the page answers
with a 4xx or a redirect, never a 5xx, and at most one answer is stored per trial and step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studyapp.models import Participant, Response, Study
from studyapp.services import studies
from studyapp.services.errors import StudyConfigError
from tests.experiments.test_spec_hostile import SPEC_PATHS, _billion_laughs, yaml_values
from tests.factories import small_spec, to_yaml
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _row_counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count()
            for model in apps.get_app_config("studyapp").get_models()}


def _hostile_files() -> dict[str, bytes]:
    deep = "slug: " + "[" * 5_000 + "]" * 5_000
    return {
        "billion_laughs": _billion_laughs().encode(),
        "deep_nesting": deep.encode(),
        "huge_file": b"# x\n" * 100_000,
        "not_utf8": to_yaml(small_spec()).encode("utf-16"),
        "binary": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10,
        "empty": b"",
        "ten_thousand_conditions": to_yaml(small_spec(
            conditions=[{"name": f"c{k}"} for k in range(10_000)])).encode(),
        "pickle_model": to_yaml(small_spec(scenario={"name": "adult",
                                                     "model": "/tmp/model.pkl"})).encode(),
        "wrong_types": to_yaml(small_spec(trials={"count": "twelve"})).encode(),
    }


EXPECTED = {
    "billion_laughs": "anchors and aliases", "deep_nesting": "nested more than",
    "huge_file": "larger than 256 KiB", "not_utf8": "not UTF-8",
    "binary": "not UTF-8", "empty": "expected a mapping",
    "ten_thousand_conditions": "conditions: too long", "pickle_model": "scenario.model: unknown",
    "wrong_types": "trials.count",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_study_refuses_a_hostile_file_clearly_and_writes_nothing(study, tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(_hostile_files()[name])
    before, spec_hash = _row_counts(), study.spec_hash
    with pytest.raises(CommandError) as raised:
        call_command("load_study", str(path), "--owner", "owner")
    assert EXPECTED[name] in str(raised.value) and str(path) in str(raised.value)
    assert _row_counts() == before
    assert Study.objects.get(pk=study.pk).spec_hash == spec_hash


def test_a_hostile_update_of_an_existing_study_changes_nothing(study, tmp_path):
    """Same slug as the existing study, so the update path runs; a bad field must stop it."""
    bad = small_spec(title="Changed", conditions=[{"name": "ai", "cap": 10**12}])
    path = tmp_path / "update.yaml"
    path.write_text(to_yaml(bad))
    before = _row_counts()
    with pytest.raises(CommandError, match=r"conditions\[0\]\.cap"):
        call_command("load_study", str(path), "--owner", "owner")
    assert _row_counts() == before and Study.objects.get().title != "Changed"


def test_the_command_exits_non_zero_with_the_error_on_stderr(tmp_path):
    """Oracle: the process's exit status, as a shell script or CI would see it."""
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    result = subprocess.run([sys.executable, "manage.py", "load_study", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**env, "EXPLAINLAB_VAR_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "CommandError" in result.stderr and "not UTF-8" in result.stderr


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["billion_laughs", "deep_nesting", "ten_thousand_conditions",
                                  "pickle_model", "wrong_types"])
def test_the_admin_form_refuses_a_hostile_spec_and_writes_nothing(study, owner, name):
    before = _row_counts()
    response = _admin(owner).post("/admin/studyapp/study/add/", {
        "spec_yaml": _hostile_files()[name].decode()})
    assert response.status_code == 200  # the form again, with the error
    assert EXPECTED[name].encode() in response.content.replace(b"&#x27;", b"'")
    assert _row_counts() == before


def test_the_admin_change_form_keeps_the_study_when_the_new_yaml_is_hostile(study, owner):
    before, spec_hash = _row_counts(), study.spec_hash
    response = _admin(owner).post(f"/admin/studyapp/study/{study.pk}/change/", {
        "spec_yaml": _billion_laughs(), "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0", "access-TOTAL_FORMS": "0",
        "access-INITIAL_FORMS": "0"})
    assert b"anchors and aliases" in response.content
    assert _row_counts() == before and Study.objects.get().spec_hash == spec_hash


def test_a_paste_over_the_request_size_limit_is_a_400_and_writes_nothing(owner, db):
    before = _row_counts()
    response = _admin(owner).post("/admin/studyapp/study/add/", {"spec_yaml": "x" * 3_000_000})
    assert response.status_code == 400
    assert _row_counts() == before


def test_the_api_offers_no_way_to_upload_a_spec(owner):
    """Oracle: the OpenAPI schema. Request bodies are the status switch, the condition
    switch and the event log; none has a field that could carry a spec or a file."""
    researcher = Client()
    researcher.force_login(owner)
    schema = researcher.get("/api/schema/", {"format": "json"}).json()
    bodies = {(path, method) for path, operations in schema["paths"].items()
              for method, operation in operations.items() if "requestBody" in operation}
    assert bodies == {("/api/studies/{slug}/status/", "post"),
                      ("/api/studies/{slug}/conditions/{name}/", "patch"),
                      ("/api/events/", "post")}
    text = str(schema["components"]["schemas"])
    assert "spec_yaml" not in text and "binary" not in text


# ----- no pickles, anywhere ---------------------------------------------------------------

UNSAFE_LOADERS = ["pickle.load", "pickle.loads", "joblib.load", "torch.load", "dill.",
                  "cloudpickle", "shelve.open", "marshal.load", "read_pickle",
                  "allow_pickle=True", "yaml.unsafe_load", "yaml.full_load", "Loader=yaml.Loader",
                  "Loader=yaml.FullLoader", "Loader=yaml.UnsafeLoader"]


def test_no_code_loads_a_pickle_or_unsafe_yaml():
    """Oracle: the source text of every package (tests excluded). Models are always trained
    from bundled data in-process; nothing deserialises objects from files or requests."""
    offenders = [f"{path.relative_to(ROOT)}: {needle}"
                 for package in ("explainers", "experiments", "analysis", "studyapp")
                 for path in (ROOT / package).rglob("*.py")
                 for needle in UNSAFE_LOADERS if needle in path.read_text(encoding="utf-8")]
    assert offenders == []


# ----- any spec through the service -------------------------------------------------------

@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(SPEC_PATHS), value=yaml_values)
def test_any_spec_is_stored_whole_or_refused_leaving_the_database_as_it_was(owner, path,
                                                                              value):
    """Oracle: row counts (refused) or a round trip of the stored spec (accepted)."""
    Study.objects.all().delete()
    spec = small_spec()
    parent = spec
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    try:
        text = yaml.safe_dump(spec)
    except yaml.YAMLError:
        return
    before = _row_counts()
    try:
        study, _ = studies.study_load_spec(text=text, owner=owner)
    except StudyConfigError:
        assert _row_counts() == before
        return
    stored = Study.objects.get(pk=study.pk)
    assert stored.spec == studies.spec_parse(text) and stored.conditions.count() == len(
        stored.spec["conditions"])


# ----- participants' posts ----------------------------------------------------------------

form_text = st.one_of(st.text(max_size=50), st.sampled_from(
    ["", "0", "-1", "99999999999999999999", "yes", "seen", "\x00", "<script>", "final"]))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(action=st.sampled_from(["consent", "instructions", "comprehension", "answer",
                               "questionnaire", "start", "withdraw", "", "bogus"]),
       fields=st.dictionaries(st.sampled_from(
           ["agree", "trial_index", "step", "answer", "confidence", "rt_ms", "task",
            "ai_right", "explanation_visible_ms", "idempotency_key", "text_comments",
            "jian_1", "jian_12"]), form_text, max_size=8))
def test_whatever_a_participant_posts_the_page_never_fails(study, action, fields):
    """Oracle: the status class (never 5xx) and the one-answer-per-step constraint."""
    Participant.objects.filter(study=study).delete()  # each example starts a new person
    walker = Walker(study, pid="FUZZER1")
    walker.to_trials()
    response = walker.post(action, **fields)
    assert response.status_code < 500
    steps = list(Response.objects.values_list("trial_id", "step"))
    assert len(steps) == len(set(steps))


def test_a_nul_character_in_free_text_is_refused_not_a_database_error(study):
    """PostgreSQL text cannot hold NUL: without the check this is a 500 there (and silently
    stored on SQLite). Oracle: the status, the message, and no answer stored."""
    from studyapp.models import QuestionnaireAnswer
    from studyapp.services.questionnaires import questionnaire_items

    walker = Walker(study)
    walker.to_trials()
    walker.finish_trials()
    data = {q.field: ("4" if q.kind == "likert" else "fine\x00") for q in
            questionnaire_items(study)}
    response = walker.post("questionnaire", **data)
    assert response.status_code == 400 and b"cannot be saved" in response.content
    assert not QuestionnaireAnswer.objects.exists()
    assert walker.participant.stage == "questionnaire"
