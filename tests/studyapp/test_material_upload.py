"""The researcher's upload page for their own table (/r/material/new/): a good table shows its
schema, the model's test metrics and calibration, and one item as participants see it, and
gives a spec block that a pasted spec (no files beside it) loads and prepares from; bad
material is a form error naming the file, row and column, and nothing is stored."""

from __future__ import annotations

import html as html_lib
import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from studyapp.models import Study
from studyapp.services import material, preparation
from studyapp.services.errors import StudyConfigError
from studyapp.services.studies import study_load_spec
from tests.experiments.test_own_material import CODEBOOK, loans

pytestmark = pytest.mark.django_db
URL = "/r/material/new/"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "own_material"


def _csv(frame: pd.DataFrame, name: str = "loans.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode(), "text/csv")


def _codebook(book: dict, name: str = "loans.codebook.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, yaml.safe_dump(book).encode(), "application/yaml")


def _post(client: Client, data: SimpleUploadedFile, codebook: SimpleUploadedFile | None = None,
          **fields: object) -> str:
    form = {"name": "loans", "target": "approved", "model": "gbm", "seed": "0", "table": data,
            **fields}
    if codebook is not None:
        form["codebook"] = codebook
    response = client.post(URL, form)
    assert response.status_code == 200
    return response.content.decode()


def _table(n: int = 80) -> pd.DataFrame:
    """The loan table without its identifier column, as a first upload without a codebook
    can be."""
    return loans(n).drop(columns=["loan_id"])


def _store(settings) -> Path:
    return Path(settings.VAR_DIR) / "material"


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section class="card"[^>]*data-section="{name}">(.*?)</section>\n',
                      html, re.S)
    assert match, f"no {name} section"
    return match.group(1)


def _form_error(html: str) -> str:
    errors = re.findall(r'data-error="material">(.*?)</p>', html, re.S)
    assert len(errors) == 1, html[:2000]
    return html_lib.unescape(errors[0])


# ----- a good table -----------------------------------------------------------------------

def test_the_page_states_the_limits(researcher):
    html = researcher.get(URL).content.decode()
    assert "8 MiB for the files of one upload together" in html
    assert "20000 of them and 64 MiB" in html and "5000 characters" in html
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html


def test_a_good_upload_shows_schema_metrics_calibration_and_one_item(researcher, settings):
    html = _post(researcher, _csv(loans()), _codebook(CODEBOOK))
    schema = _section(html, "schema")
    assert "(from loans.codebook.yaml)" in schema
    assert re.search(r'data-column="income" data-role="feature">.*?Yearly income.*?numeric'
                     r'.*?dollars', schema, re.S)
    assert 'data-column="loan_id" data-role="excluded"' in schema
    assert re.search(r'data-column="approved" data-role="target"', schema)
    assert "North" in schema  # the codebook's words for the categories
    model = _section(html, "model")
    for metric in ("accuracy", "majority_baseline", "brier", "calibration_error", "auc"):
        assert f'data-metric="{metric}"' in model
    assert re.search(r'<table class="data reliability">.*?<td>\d+%</td>', model, re.S)
    preview = _section(html, "preview")
    labels = re.findall(r'<th scope="row">(.*?)</th>', preview)
    # The features by the codebook's labels; neither the excluded id nor the target.
    assert labels == ["Age", "Yearly income", "Region", "Credit grade"]
    assert "Loan approved" not in preview and "L000" not in preview
    assert re.search(r'class="ai-prediction" data-panel="ai"><strong>(Approved|Refused)'
                     r'</strong>', preview)
    assert re.search(r"the AI is \d+% sure", preview)
    stored = sorted(p.name for p in _store(settings).iterdir())
    assert len(stored) == 2 and {Path(n).suffix for n in stored} == {".csv", ".yaml"}


def test_the_draft_codebook_is_offered_to_download_and_reads_back(researcher):
    table = loans().drop(columns=["loan_id"])
    html = _post(researcher, _csv(table))
    schema = _section(html, "schema")
    assert "(inferred from loans.csv)" in schema
    assert 'download="loans.codebook.yaml" href="data:text/yaml;charset=utf-8,' in schema
    text = _unescape(re.search(r'<pre class="codebook-yaml"[^>]*>(.*?)</pre>', schema, re.S))
    draft = yaml.safe_load(text)
    assert draft["columns"]["income"]["kind"] == "numeric"
    assert set(draft["columns"]) == set(table.columns)
    # Brought back as the codebook, it is accepted as given.
    again = _post(researcher, _csv(table), SimpleUploadedFile("loans.codebook.yaml",
                                                              text.encode()))
    assert "(from loans.codebook.yaml)" in _section(again, "schema")


def test_an_identifier_column_is_refused_with_a_draft_that_excludes_it(researcher, settings):
    """The first upload of a table with an id: refused (as the spec path refuses it), with
    the inferred codebook to bring along, which then gets it accepted."""
    html = _post(researcher, _csv(loans()))
    assert "loans.csv: column 'loan_id' has 80 distinct values" in _form_error(html)
    assert not _store(settings).exists()
    text = _unescape(re.search(r'<pre class="codebook-yaml"[^>]*>(.*?)</pre>', html, re.S))
    assert yaml.safe_load(text)["columns"]["loan_id"] == {"exclude": True}
    again = _post(researcher, _csv(loans()), SimpleUploadedFile("loans.codebook.yaml",
                                                                text.encode()))
    assert 'data-column="loan_id" data-role="excluded"' in _section(again, "schema")


def _unescape(match: re.Match[str] | None) -> str:
    assert match is not None
    return html_lib.unescape(match.group(1))


def _tumours_block(client: Client) -> dict:
    """The example's table and codebook uploaded; the page's scenario block."""
    folder = EXAMPLE / "tumours"
    html = _post(client, SimpleUploadedFile("tumours.csv", (folder / "tumours.csv").read_bytes()),
                 SimpleUploadedFile("tumours.codebook.yaml",
                                    (folder / "tumours.codebook.yaml").read_bytes()),
                 name="tumours", target="diagnosis")
    snippet = _unescape(re.search(r'<pre class="spec-snippet"[^>]*>(.*?)</pre>', html, re.S))
    return yaml.safe_load(snippet)["scenario"]


def test_the_spec_block_loads_prepares_and_runs_from_the_store_without_the_files(
        researcher, owner, settings):
    """Oracle: a spec whose scenario is the page's block, pasted as text (no folder), loads
    and is prepared from the stored copies."""
    block = _tumours_block(researcher)
    assert block["sha256"]["data"] and block["sha256"]["codebook"]
    assert block["task"] == "classification" and block["data"] == "tumours.csv"
    spec = yaml.safe_load((EXAMPLE / "tumours.yaml").read_text())
    spec["scenario"] = block
    study, created = study_load_spec(text=yaml.safe_dump(spec), owner=owner)
    assert created
    preparation.study_prepare(study=study)
    study.refresh_from_db()
    assert study.preparation == Study.Preparation.DONE and study.items.count() > 0


def test_a_spec_file_with_the_block_loads_with_load_study_from_a_folder_without_the_data(
        researcher, owner, tmp_path):
    """The stored copies stand in for files not beside the spec, and are checked again: a
    block edited to another target is refused at load, naming the file."""
    block = _tumours_block(researcher)
    spec = yaml.safe_load((EXAMPLE / "tumours.yaml").read_text())
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump({**spec, "scenario": block}))
    call_command("load_study", str(path), "--owner", "owner")
    study = Study.objects.get(slug=spec["slug"])
    assert study.spec["scenario"]["sha256"] == block["sha256"]
    path.write_text(yaml.safe_dump({**spec, "slug": "other", "scenario": {
        **block, "target": "radius"}}))
    with pytest.raises(CommandError, match=r"tumours\.csv: column 'radius' gives a regression"):
        call_command("load_study", str(path), "--owner", "owner")
    assert not Study.objects.filter(slug="other").exists()


def test_a_regression_target_shows_its_error_metrics_and_a_number(researcher):
    frame = _table()
    frame["amount"] = (frame["income"] * 0.3).round(0)
    html = _post(researcher, _csv(frame.drop(columns=["approved"])), target="amount",
                 model="linear")
    model = _section(html, "model")
    for metric in ("rmse", "mae", "r2"):
        assert f'data-metric="{metric}"' in model
    assert "reliability" not in model
    assert re.search(r'<strong>[\d,]+</strong>', _section(html, "preview"))


def test_parquet_is_read_like_csv(researcher, settings):
    buffer = io.BytesIO()
    _table().to_parquet(buffer)
    html = _post(researcher, SimpleUploadedFile("loans.parquet", buffer.getvalue()))
    assert 'data-section="model"' in html
    assert [p.suffix for p in _store(settings).iterdir()] == [".parquet"]


# ----- bad material: a form error naming the file, nothing stored -------------------------

def _bad_number() -> pd.DataFrame:
    frame = _table().astype(str)
    frame.loc[4, "income"] = "4O000"  # data row 5: a letter O typed for a zero
    return frame


def _many_levels() -> pd.DataFrame:
    frame = _table(2000)
    frame["city"] = [f"town {i}" for i in range(len(frame))]
    return frame


BAD = {
    "missing target": (lambda: _csv(_table().drop(columns=["approved"])), {},
                       r"loans\.csv: no target column 'approved'"),
    "constant target": (lambda: _csv(_table().assign(approved="yes")), {},
                        r"loans\.csv: column 'approved': the target has one value"),
    "one-row class": (lambda: _csv(_table().assign(approved=["maybe"] + ["yes"] * 79)), {},
                      r"loans\.csv: column 'approved': classes \['maybe'\] have fewer than two"),
    "not a number": (lambda: _csv(_bad_number()), {},
                     r"loans\.csv: row 5, column 'income': '4O000' is not a number"),
    "thousands of levels": (lambda: _csv(_many_levels()), {},
                            r"loans\.csv: column 'city' has 2,000 distinct values"),
    "wrong extension": (lambda: SimpleUploadedFile("loans.xlsx", b"PK\x03\x04 not a table"),
                        {}, r"loans\.xlsx: expected a \.csv or \.parquet file"),
    "binary content": (lambda: SimpleUploadedFile("loans.csv", b"\xff\xfe\x00\x81" * 50),
                       {}, r"loans\.csv: not UTF-8 text"),
    "not parquet": (lambda: SimpleUploadedFile("loans.parquet", b"age,income\n1,2\n"), {},
                    r"loans\.parquet: cannot be read as a table"),
    "empty file": (lambda: SimpleUploadedFile("loans.csv", b""), {},
                   r"loans\.csv: the file is empty"),
    "model for the other task": (lambda: _csv(_table()), {"model": "linear"},
                                 r"scenario\.model: unknown 'linear' for a classification"),
    "bundled name": (lambda: _csv(_table()), {"name": "adult"},
                     r"name: 'adult' is a bundled scenario"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_material_is_a_form_error_and_nothing_is_stored(researcher, settings, case):
    make, fields, message = BAD[case]
    html = _post(researcher, make(), **fields)
    assert re.search(message, _form_error(html)), _form_error(html)
    assert 'data-section="schema"' not in html
    assert not _store(settings).exists()


def test_a_codebook_naming_a_missing_column_is_refused_by_its_name(researcher, settings):
    book = {"columns": {"salary": {"label": "Salary"}}}
    html = _post(researcher, _csv(_table()), _codebook(book, "mine.yml"))
    assert re.search(r"mine\.yml: columns \['salary'\] are not in loans\.csv",
                     _form_error(html))
    assert not _store(settings).exists()


def test_a_codebook_that_is_not_yaml_by_name_is_refused(researcher, settings):
    html = _post(researcher, _csv(_table()), SimpleUploadedFile("book.txt", b"columns: {}"))
    assert "book.txt: expected a codebook in YAML" in _form_error(html)
    assert not _store(settings).exists()


def test_a_file_over_the_limit_is_refused_through_the_page(researcher, settings, monkeypatch):
    monkeypatch.setattr(material, "UPLOAD_MAX_BYTES", 1024)
    html = _post(researcher, _csv(_table()))
    assert re.search(r"loans\.csv: larger than the limit of 1 KiB", _form_error(html))
    assert not _store(settings).exists()


class _Unreadable(SimpleUploadedFile):
    def chunks(self, chunk_size=None):  # type: ignore[no-untyped-def]
        raise AssertionError("the upload was read")


def test_the_limit_is_enforced_from_the_declared_size_before_reading(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    upload = _Unreadable("loans.csv", b"x" * 16)
    upload.size = material.UPLOAD_MAX_BYTES + 1
    with pytest.raises(StudyConfigError, match=r"loans\.csv: larger than the limit of 8 MiB"):
        material.material_upload(name="loans", target="approved", model="gbm", seed=0,
                                 data=upload)
    assert not _store(settings).exists()


def test_the_uploaded_name_is_never_a_path(researcher, settings, tmp_path):
    """A name with folders in it names the file in messages only; the copy is stored by its
    hash inside the store."""
    html = _post(researcher, _csv(_table(), name="../../outside/loans.csv"))
    assert 'data-section="model"' in html
    assert [p.parent for p in _store(settings).iterdir()] == [_store(settings)]
    assert not (tmp_path / "outside").exists()
    assert material.upload_name("..\\..\\evil\u202e.csv") == "evil.csv"
    assert material.upload_name("") == "upload"


# ----- who may ---------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_stored(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    response = Client().post(URL, {"name": "loans", "target": "approved", "model": "gbm",
                                   "seed": "0", "table": _csv(_table())})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not _store(settings).exists()


def test_a_signed_in_user_who_is_not_a_researcher_is_refused(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    client = Client()
    client.force_login(User.objects.create_user("visitor", password="visitor-password-1"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "loans", "target": "approved", "model": "gbm",
                             "seed": "0", "table": _csv(_table())}).status_code == 403
    assert not _store(settings).exists()


def test_a_post_without_the_csrf_token_is_refused(owner, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(URL, {"name": "loans", "target": "approved", "model": "gbm",
                                 "seed": "0", "table": _csv(_table())})
    assert response.status_code == 403
    assert not _store(settings).exists()
