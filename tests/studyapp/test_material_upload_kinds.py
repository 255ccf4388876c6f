"""The upload page's other kinds of material (/r/material/new/): a table with the researcher's
own fitted model (skops, ONNX), texts, and pictures in one .zip. Good material shows its item
and an explanation as participants see them and gives a scenario block that a spec without the
files loads; bad material is a form error naming the file (and the zip's entry, or the row
and the column), and nothing is stored. The zip is unpacked safely: no entry may reach outside
its folder, be a link, or unpack to more than the limits, whatever its header says.

Oracles: the researcher's own fitted pipeline (what the page must call "supplied" and store),
the example material's files (what the snippet must name), and zips built here byte by byte.
"""

from __future__ import annotations

import collections
import io
import re
import stat
import struct
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from experiments.scenarios.own import MaterialError
from studyapp.models import Study
from studyapp.services import material_archive, preparation
from studyapp.services.studies import study_load_spec
from tests.experiments.test_own_material import CODEBOOK, FEATURES, _fitted_pipeline, loans
from tests.studyapp.test_material_upload import (
    EXAMPLE,
    _codebook,
    _csv,
    _form_error,
    _post,
    _section,
    _store,
    _unescape,
)

pytestmark = pytest.mark.django_db
REVIEWS = EXAMPLE / "reviews"
SHAPES = EXAMPLE / "shapes"


def _snippet(html: str) -> dict:
    snippet = _unescape(re.search(r'<pre class="spec-snippet"[^>]*>(.*?)</pre>', html, re.S))
    return yaml.safe_load(snippet)["scenario"]


def _stored(settings) -> list[str]:
    store = _store(settings)
    return sorted(p.suffix for p in store.iterdir()) if store.exists() else []


# ----- a table with the researcher's own fitted model --------------------------------------

def _skops(model, name: str = "m.skops") -> SimpleUploadedFile:
    import skops.io

    return SimpleUploadedFile(name, skops.io.dumps(model))


def test_a_table_with_its_own_skops_model_uses_it_and_the_snippet_names_it(researcher, owner,
                                                                             settings):
    """Oracle: the pipeline fitted here, uploaded as skops. The family field says gbm; the
    model file wins. The block, pasted as text without the files, loads and prepares."""
    frame = loans(n=120)
    html = _post(researcher, _csv(frame), _codebook(CODEBOOK), model="gbm",
                 model_file=_skops(_fitted_pipeline(frame, FEATURES)))
    assert "The model: supplied" in _section(html, "model")
    preview = _section(html, "preview")
    assert "<code>kernel_shap</code>" in preview  # applies to a model brought as a file
    assert 'class="explanation explanation-attribution"' in preview
    block = _snippet(html)
    assert block["model"] == "supplied" and block["model_file"] == "m.skops"
    assert set(block["sha256"]) == {"data", "codebook", "model_file"}
    assert _stored(settings) == [".csv", ".skops", ".yaml"]
    spec = yaml.safe_load((EXAMPLE / "tumours.yaml").read_text())
    spec.update(scenario=block, conditions=[{"name": "ai", "label": "AI"}],
                trials={"count": 4, "pool_size": 8, "attention_checks": 1})
    study, created = study_load_spec(text=yaml.safe_dump(spec), owner=owner)
    assert created and study.spec["scenario"]["sha256"] == block["sha256"]
    preparation.study_prepare(study=study)
    study.refresh_from_db()
    assert study.preparation == Study.Preparation.DONE and study.items.count() > 0


def test_a_table_with_an_onnx_model_on_its_columns_is_accepted(researcher, settings):
    """Oracle: the same pipeline exported with skl2onnx, one input per column."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    frame = loans(n=120)
    pipeline = _fitted_pipeline(frame.astype({"age": float}), FEATURES)
    types = [("age", FloatTensorType([None, 1])), ("income", FloatTensorType([None, 1])),
             ("region", StringTensorType([None, 1])), ("grade", StringTensorType([None, 1]))]
    exported = to_onnx(pipeline, initial_types=types, options={"zipmap": False})
    html = _post(researcher, _csv(frame), _codebook(CODEBOOK), model="",
                 model_file=SimpleUploadedFile("m.onnx", exported.SerializeToString()))
    assert _snippet(html)["model_file"] == "m.onnx"
    assert ".onnx" in _stored(settings)


def _untrusted_skops() -> SimpleUploadedFile:
    frame = loans()
    model = _fitted_pipeline(frame, FEATURES)
    model.steps[-1][1].audit = collections.Counter(a=1)  # a type outside the trusted list
    return _skops(model)


def _other_columns_skops() -> SimpleUploadedFile:
    frame = loans()
    return _skops(_fitted_pipeline(frame.assign(salary=frame["income"]),
                                   ["age", "salary", "region", "grade"]))


def _three_input_onnx() -> SimpleUploadedFile:
    """A model on a single tensor of three columns, for a table of four features."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    frame = loans()
    model = LogisticRegression(max_iter=5000).fit(frame[["age", "income"]].assign(one=1.0),
                                     frame["approved"])
    exported = to_onnx(model, initial_types=[("X", FloatTensorType([None, 3]))],
                       options={"zipmap": False})
    return SimpleUploadedFile("m.onnx", exported.SerializeToString())


BAD_MODELS = {
    "untrusted skops type": (_untrusted_skops,
                             r"m\.skops: contains types that are not trusted: "
                             r"collections\.Counter"),
    "columns that do not match": (_other_columns_skops,
                                  r"m\.skops: the model's input columns do not match "
                                  r"loans\.csv: the model needs \['salary'\]"),
    "onnx with the wrong inputs": (_three_input_onnx,
                                   r"m\.onnx: the model's input columns do not match "
                                   r"loans\.csv: the model needs \['X'\]"),
    "a pickle": (lambda: SimpleUploadedFile("m.pkl", b"\x80\x04 would run code"),
                 r"m\.pkl: a model is brought as \.skops .* pickle and joblib files are "
                 "refused"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_a_bad_model_file_is_a_form_error_and_nothing_is_stored(researcher, settings, case):
    make, message = BAD_MODELS[case]
    html = _post(researcher, _csv(loans()), _codebook(CODEBOOK), model_file=make())
    assert re.search(message, _form_error(html)), _form_error(html)
    assert 'data-section="schema"' not in html and _stored(settings) == []


# ----- texts -------------------------------------------------------------------------------

def _reviews(frame: pd.DataFrame | None = None) -> SimpleUploadedFile:
    if frame is None:
        return SimpleUploadedFile("reviews.csv", (REVIEWS / "reviews.csv").read_bytes())
    return _csv(frame, "reviews.csv")


def _post_texts(client, data: SimpleUploadedFile | None = None, **fields: object) -> str:
    form = {"name": "reviews", "kind": "texts", "text": "review", "target": "verdict",
            "model": "", "codebook": SimpleUploadedFile(
                "reviews.codebook.yaml", (REVIEWS / "reviews.codebook.yaml").read_bytes()),
            **fields}
    return _post(client, data or _reviews(), **form)


def test_texts_show_the_text_and_its_word_weights_and_a_block_that_loads(researcher, owner,
                                                                         settings):
    """Oracle: the example's CSV (its first columns and its texts) and its spec."""
    html = _post_texts(researcher)
    schema = _section(html, "schema")
    assert re.search(r'data-column="review" data-role="feature">.*?<td>text</td>', schema,
                     re.S)
    assert 'data-column="review_id" data-role="excluded"' in schema
    preview = _section(html, "preview")
    text = _unescape(re.search(r'<blockquote class="item-text">(.*?)</blockquote>', preview,
                               re.S))
    assert text in set(pd.read_csv(REVIEWS / "reviews.csv")["review"])
    assert "<code>lime_text</code>" in preview
    assert 'class="explanation explanation-text"' in preview
    block = _snippet(html)
    assert block["modality"] == "text" and block["text"] == "review"
    assert block["model"] == "bow_logistic"  # the usual one for texts, asked for with ""
    assert _stored(settings) == [".csv", ".yaml"]
    spec = yaml.safe_load((EXAMPLE / "reviews.yaml").read_text())
    study, created = study_load_spec(text=yaml.safe_dump({**spec, "scenario": block}),
                                     owner=owner)
    assert created and study.spec["scenario"]["modality"] == "text"
    # The draft codebook of texts reads back as a codebook (no "kind: text" in it).
    draft = _unescape(re.search(r'<pre class="codebook-yaml"[^>]*>(.*?)</pre>', schema, re.S))
    again = _post_texts(researcher, codebook=SimpleUploadedFile("reviews.codebook.yaml",
                                                                draft.encode()))
    assert 'data-section="preview"' in again


def _empty_text() -> SimpleUploadedFile:
    frame = pd.read_csv(REVIEWS / "reviews.csv", dtype=str)
    frame.loc[6, "review"] = ""  # data row 7
    return _reviews(frame)


BAD_TEXTS = {
    "text column missing": ({"text": "body"},
                            r"reviews\.csv: no text column 'body'; its columns are review_id, "
                            "review, verdict"),
    "an empty text": ({"data": _empty_text},
                      r"reviews\.csv: row 7, column 'review': empty text"),
    "a table model for texts": ({"model": "gbm"},
                                r"scenario\.model: unknown 'gbm' for texts; expected one of "
                                "bow_logistic"),
    "a model file with texts": ({"model_file": lambda: _skops(_fitted_pipeline(
        loans(), FEATURES))}, r"m\.skops: a model brought as a file takes a table's "
                              "columns; texts are modelled by the platform"),
}


@pytest.mark.parametrize("case", sorted(BAD_TEXTS))
def test_bad_texts_are_a_form_error_and_nothing_is_stored(researcher, settings, case):
    fields, message = BAD_TEXTS[case]
    fields = {key: value() if callable(value) else value for key, value in fields.items()}
    html = _post_texts(researcher, **fields)
    assert re.search(message, _form_error(html)), _form_error(html)
    assert _stored(settings) == []


def test_texts_without_their_column_named_are_asked_for_it(researcher, settings):
    html = _post_texts(researcher, text="")
    assert "Name the column of texts." in html and 'data-error="material"' not in html
    assert _stored(settings) == []


# ----- pictures in a zip -------------------------------------------------------------------

def _shapes_zip(*, folder: str = "", table: bytes | None = None,
                extra: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """The example's table and pictures zipped (inside ``folder`` when given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"{folder}shapes.csv", table or (SHAPES / "shapes.csv").read_bytes())
        for picture in sorted((SHAPES / "images").iterdir()):
            if picture.name not in drop:
                zipped.write(picture, f"{folder}images/{picture.name}")
        for name, content in (extra or {}).items():
            zipped.writestr(name, content)
    return buffer.getvalue()


def _post_pictures(client, archive: bytes, name: str = "shapes.zip", **fields: object) -> str:
    form = {"name": "shapes", "kind": "pictures", "image": "file", "target": "shape",
            "model": "mlp", "codebook": SimpleUploadedFile(
                "shapes.codebook.yaml", (SHAPES / "shapes.codebook.yaml").read_bytes()),
            **fields}
    return _post(client, SimpleUploadedFile(name, archive, "application/zip"), **form)


def test_pictures_in_a_zip_show_the_picture_and_a_pixel_map_and_prepare_from_the_block(
        researcher, owner, settings):
    """Oracle: the example's spec with the page's block in place of its scenario, pasted as
    text: it loads and prepares from the stored table and pixels (no picture is stored)."""
    html = _post_pictures(researcher, _shapes_zip(extra={"README.md": b"not unpacked"}))
    preview = _section(html, "preview")
    assert re.search(r'<figure class="item-image"><svg', preview)
    assert "The picture (16 \u00d7 16 pixels)" in preview
    assert "<code>smoothgrad</code>" in preview
    assert 'class="explanation explanation-saliency"' in preview
    block = _snippet(html)
    assert block["modality"] == "image" and block["image"] == "file"
    assert block["data"] == "shapes.csv" and set(block["sha256"]) == {"data", "codebook",
                                                                        "pixels"}
    assert _stored(settings) == [".csv", ".npy", ".yaml"]
    spec = yaml.safe_load((EXAMPLE / "shapes.yaml").read_text())
    study, _ = study_load_spec(text=yaml.safe_dump({**spec, "scenario": block}), owner=owner)
    preparation.study_prepare(study=study)
    study.refresh_from_db()
    assert study.preparation == Study.Preparation.DONE and study.items.count() > 0


def test_a_zipped_folder_is_read_from_inside_its_folder(researcher, settings):
    html = _post_pictures(researcher, _shapes_zip(folder="shapes/", extra={
        "__MACOSX/shapes/._shapes.csv": b"\x00\x05\x16\x07"}))
    assert _snippet(html)["data"] == "shapes/shapes.csv"


def _zip(entries: dict[str, bytes], *, link: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in entries.items():
            zipped.writestr(name, content)
        if link:  # a symbolic link entry, as `zip --symlinks` writes it
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _lying_bomb() -> bytes:
    """A table whose header says 200 bytes, but which unpacks to 1 MiB."""
    archive = bytearray(_zip({"shapes.csv": b"file,shape\n" + b"0" * 2**20}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = archive.index(signature) + offset
        archive[at:at + 4] = struct.pack("<I", 200)
    return bytes(archive)


def _unpacks_too_large() -> bytes:
    return _zip({"shapes.csv": (SHAPES / "shapes.csv").read_bytes(),
                 "images/big.png": b"\0" * (material_archive.MAX_UNPACKED_BYTES + 1)})


CSV = (SHAPES / "shapes.csv").read_bytes()
BAD_ZIPS = {
    "zip-slip": (lambda: _zip({"shapes.csv": CSV, "../evil.png": b"x"}),
                 r"shapes\.zip: entry '\.\./evil\.png' points outside the zip's folder"),
    "absolute path": (lambda: _zip({"shapes.csv": CSV, "/tmp/evil.png": b"x"}),
                      r"shapes\.zip: entry '/tmp/evil\.png' points outside"),
    "symlink": (lambda: _zip({"shapes.csv": CSV}, link="images/s001.png"),
                r"shapes\.zip: entry 'images/s001\.png' is a symbolic link"),
    "too large unpacked": (_unpacks_too_large,
                           r"shapes\.zip: 64 MiB unpacked, more than the limit of 64 MiB"),
    "a bomb that lies": (_lying_bomb, r"shapes\.zip: not a readable zip \(Bad CRC-32"),
    "no table": (lambda: _shapes_zip(folder="pictures/", extra={"notes/a.txt": b""}),
                 r"shapes\.zip: no table \(\.csv or \.parquet\) at the top of the zip; found "
                 r"only pictures/shapes\.csv in folders below it"),
    "two tables": (lambda: _shapes_zip(extra={"old.csv": CSV}),
                   r"shapes\.zip: 2 tables at the top of the zip \(old\.csv, shapes\.csv\)"),
    "a picture missing": (lambda: _shapes_zip(drop=("s003.png",)),
                          r"shapes\.zip: shapes\.csv: row 3, column 'file': "
                          r"'images/s003\.png': no such file \(looked for images/s003\.png\)"),
    "not a zip": (lambda: b"PK\x03\x04 not really", r"shapes\.zip: not a readable zip"),
}


@pytest.mark.parametrize("case", sorted(BAD_ZIPS))
def test_a_bad_zip_of_pictures_is_a_form_error_and_nothing_is_stored(researcher, settings,
                                                                     tmp_path, case):
    make, message = BAD_ZIPS[case]
    html = _post_pictures(researcher, make())
    assert re.search(message, _form_error(html)), _form_error(html)
    assert "/tmp/explainlab-upload" not in _form_error(html)  # no server folder named
    assert _stored(settings) == []
    assert not (tmp_path / "evil.png").exists() and not Path("/tmp/evil.png").exists()


def test_too_many_entries_are_refused_from_the_count(researcher, settings, monkeypatch):
    monkeypatch.setattr(material_archive, "MAX_ENTRIES", 100)
    html = _post_pictures(researcher, _shapes_zip())
    assert re.search(r"shapes\.zip: 181 entries, more than the limit of 100",
                     _form_error(html))
    assert _stored(settings) == []


def test_pictures_must_come_as_a_zip(researcher, settings):
    html = _post(researcher, SimpleUploadedFile("shapes.csv", CSV), name="shapes",
                 kind="pictures", image="file", target="shape")
    assert "shapes.csv: pictures come as one .zip" in _form_error(html)
    assert _stored(settings) == []


def test_unpacking_stops_at_the_limit_whatever_the_header_said(tmp_path):
    """The second line of defence: the bytes are counted as they are copied."""
    with pytest.raises(MaterialError, match=r"x\.zip: a\.png: unpacks to more than"):
        material_archive.copy_capped(io.BytesIO(b"0" * 1000), (tmp_path / "a").open("wb"),
                                     limit=999, label="x.zip: a.png")
    copied = material_archive.copy_capped(io.BytesIO(b"0" * 1000),
                                          (tmp_path / "b").open("wb"), limit=1000, label="b")
    assert copied == 1000


def test_the_files_of_one_upload_together_stay_under_the_limit(researcher, settings,
                                                               monkeypatch):
    """Each file fits, but not both: the request must stay under the server's limit."""
    from studyapp.services import material

    table, model = _csv(loans()), _skops(_fitted_pipeline(loans(), FEATURES))
    monkeypatch.setattr(material, "UPLOAD_MAX_BYTES", max(table.size, model.size) + 100)
    html = _post(researcher, table, model_file=model)
    assert re.search(r"loans\.csv, m\.skops: [\d.]+ MiB together, more than the limit",
                     _form_error(html))
    assert _stored(settings) == []
