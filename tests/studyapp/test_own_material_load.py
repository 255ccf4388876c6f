"""`load_study` with a researcher's own data: the files beside the spec are checked, stored by
content hash under VAR_DIR, and preparation finds them there even after the originals move;
bad material leaves neither a study nor a stored file behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from studyapp.models import Study
from studyapp.services import preparation, studies

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "own_material"


def _copy_example(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    shutil.copytree(EXAMPLE, folder)
    return folder / "tumours.yaml"


def test_own_material_is_stored_by_hash_and_prepared_after_the_original_moves(owner, tmp_path,
                                                                            settings):
    settings.VAR_DIR = tmp_path / "var"
    spec_path = _copy_example(tmp_path)
    call_command("load_study", str(spec_path), "--owner", "owner")
    study = Study.objects.get(slug="own-tumours")
    digest = study.spec["scenario"]["sha256"]["data"]
    assert (tmp_path / "var" / "material" / f"{digest}.csv").is_file()
    shutil.rmtree(spec_path.parent)  # the researcher tidies up their folder
    preparation.study_prepare(study=study)
    study.refresh_from_db()
    assert study.preparation == Study.Preparation.DONE and study.items.count() > 0


def test_bad_material_leaves_no_study_and_no_stored_file(owner, tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    spec_path = _copy_example(tmp_path)
    data = spec_path.parent / "tumours" / "tumours.csv"
    lines = data.read_text().splitlines()
    cells = lines[5].split(",")
    cells[2] = "12.5O"  # data row 5, column texture: a letter O typed for a zero
    lines[5] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match=r"tumours/tumours\.csv: row 5, column 'texture'"):
        call_command("load_study", str(spec_path), "--owner", "owner")
    assert not Study.objects.exists()
    assert not (tmp_path / "var" / "material").exists()


def test_own_material_keeps_its_comments_with_the_hashes_filled_in(owner, tmp_path, settings):
    """The version keeps the researcher's text (oracle: the example file's own comments) with
    the stored files' hashes added to its scenario block, and that text, loaded again without
    the folder (as the admin's editor does), is the same spec: no new version."""
    settings.VAR_DIR = tmp_path / "var"
    spec_path = _copy_example(tmp_path)
    written = spec_path.read_text()
    call_command("load_study", str(spec_path), "--owner", "owner")
    study = Study.objects.get(slug="own-tumours")
    (version,) = study.versions.all()
    kept = version.source_text
    for line in written.splitlines():  # every line as written, the comments too
        assert line in kept.splitlines()
    assert "# our name for this material" in kept
    assert f"data: {study.spec['scenario']['sha256']['data']}" in kept
    shutil.rmtree(spec_path.parent)
    again, _ = studies.study_load_spec(text=kept, owner=study.owner)
    assert again.pk == study.pk and again.spec_hash == study.spec_hash
    assert again.versions.count() == 1
