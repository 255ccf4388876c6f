"""A researcher's own pictures (experiments.scenarios.own_images): a CSV of file names and labels
beside PNG/JPEG files, normalised to 16 x 16 grey pixels and trained and explained like the
bundled digits.

Bad material: one test per case, each checking that the error names the file (and row and
column where there is one) and that nothing was stored. Oracles: pictures whose normalised
pixels are known by hand (a 16 x 16 picture is its own darkness; 2 x 2 blocks of a 32 x 32 one
average to one pixel; padding is white), and the CSV's labels.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from experiments.scenarios import load_scenario
from experiments.scenarios import own_images as own_images_module
from experiments.scenarios.own import check_material, material_from_spec
from experiments.scenarios.own_images import IMAGE_SIDE, normalise
from experiments.spec import SpecError, parse_spec
from explainers.registry import explain
from tests.experiments.own_material_cases import refused

N = 60


def picture(kind: str, rng: np.random.Generator) -> Image.Image:
    """A dark blob at the top (``top``) or at the bottom (``bottom``) of a 32 x 32 canvas."""
    canvas = np.full((32, 32), 255, dtype=np.uint8)
    row = rng.integers(2, 8) if kind == "top" else rng.integers(20, 26)
    column = rng.integers(4, 22)
    canvas[row:row + 6, column:column + 6] = rng.integers(0, 80)
    return Image.fromarray(canvas, mode="L")


def write(tmp_path: Path, n: int = N, seed: int = 0, labels: list[str] | None = None) -> dict:
    """Pictures in tmp_path/pics and the CSV naming them; returns the spec's scenario section."""
    rng = np.random.default_rng(seed)
    (tmp_path / "pics").mkdir(exist_ok=True)
    labels = labels or ["top" if i % 2 else "bottom" for i in range(n)]
    files = []
    for i, label in enumerate(labels):
        name = f"pics/p{i:03d}.{'jpg' if i % 10 == 9 else 'png'}"
        picture(label if label in ("top", "bottom") else "top", rng).save(tmp_path / name)
        files.append(name)
    pd.DataFrame({"file": files, "where": labels}).to_csv(tmp_path / "pics.csv", index=False)
    return {"name": "pics", "data": "pics.csv", "modality": "image", "image": "file",
            "target": "where", "model": "mlp", "seed": 0}


def loaded(tmp_path: Path, section: dict, model: str = "mlp"):
    store = tmp_path / "store"
    section = {**section, **check_material(section, base_dir=tmp_path, store=store)}
    return load_scenario("pics", model=model, random_state=0,
                         material=material_from_spec(section, store)), section


# ----- normalising ------------------------------------------------------------------------------

def test_a_picture_of_the_final_size_is_its_own_darkness():
    grey = np.arange(256, dtype=np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)
    assert np.array_equal(normalise(Image.fromarray(grey, mode="L")), 255 - grey)


def test_a_larger_picture_is_shrunk_by_averaging_blocks():
    blocks = np.random.default_rng(0).integers(0, 256, (IMAGE_SIDE, IMAGE_SIDE))
    large = np.kron(blocks, np.ones((2, 2))).astype(np.uint8)  # each pixel a 2 x 2 block
    assert np.array_equal(normalise(Image.fromarray(large, mode="L")), 255 - blocks)


def test_a_wide_picture_is_padded_with_white_to_a_square():
    wide = Image.new("L", (32, 16), 0)  # black, twice as wide as high
    pixels = normalise(wide)
    assert (pixels[:4] == 0).all() and (pixels[12:] == 0).all()  # white bands above and below
    assert (pixels[4:12] == 255).all()


def test_transparency_is_white_and_colour_is_grey():
    clear = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    red = Image.new("RGB", (16, 16), (255, 0, 0))
    assert (normalise(clear) == 0).all()
    assert (normalise(red) == 255 - round(0.299 * 255)).all()  # ITU-R 601-2 luma of red


# ----- loads, trains, explains ------------------------------------------------------------------

def test_the_pictures_load_train_and_show_as_normalised(tmp_path):
    section = write(tmp_path)
    scenario, _ = loaded(tmp_path, section)
    assert scenario.dataset.shape == (IMAGE_SIDE, IMAGE_SIDE)
    assert scenario.n_test == N // 4 and scenario.class_names == ("bottom", "top")
    frame = pd.read_csv(tmp_path / "pics.csv")
    expected = {f: normalise(Image.open(tmp_path / f)) / 255 * 16 for f in frame["file"]}
    labels = dict(zip(frame["file"], frame["where"], strict=True))
    for i in range(scenario.n_test):  # each item is one file's pixels, with that row's label
        shown = np.asarray(scenario.item(i)["image"])
        match = [f for f, pixels in expected.items() if np.allclose(pixels, shown)]
        assert match and scenario.class_names[scenario.y_test[i]] == labels[match[0]]
    card = scenario.model_card
    assert card["model"] == "mlp" and card["test_metrics"]["accuracy"] >= 0.9


@pytest.mark.parametrize("method", ["gradient", "smoothgrad", "integrated_gradients"])
def test_pixel_maps_explain_the_picture_at_its_size(tmp_path, method):
    scenario, _ = loaded(tmp_path, write(tmp_path))
    explanation = explain(method, scenario.model, scenario.X_test[0], dataset=scenario.dataset,
                          random_state=0)
    assert np.asarray(explanation.content["attributions"]).shape == (IMAGE_SIDE, IMAGE_SIDE)


@pytest.mark.parametrize("method", ["nearest_examples", "prototypes"])
def test_examples_and_prototypes_are_training_pictures(tmp_path, method):
    scenario, _ = loaded(tmp_path, write(tmp_path), model="logistic")
    explanation = explain(method, scenario.model, scenario.X_test[0], dataset=scenario.dataset,
                          random_state=0)
    assert explanation.kind == "examples" and explanation.content["examples"]


def test_the_stored_pixels_serve_after_the_pictures_are_gone(tmp_path):
    scenario, section = loaded(tmp_path, write(tmp_path))
    assert (tmp_path / "store" / f"{section['sha256']['pixels']}.npy").is_file()
    shutil.rmtree(tmp_path / "pics")
    again = load_scenario("pics", model="logistic", random_state=0,
                          material=material_from_spec(section, tmp_path / "store"))
    assert np.array_equal(again.X_test, scenario.X_test)


# ----- bad material: one test per case ----------------------------------------------------------

def test_a_missing_image_column_is_named_with_the_columns_there_are(tmp_path):
    section = {**write(tmp_path), "image": "path"}
    refused(tmp_path, section, "pics.csv", "no image column 'path'", "file")


def test_a_missing_picture_names_its_row_and_file(tmp_path):
    section = write(tmp_path)
    (tmp_path / "pics" / "p004.png").unlink()
    refused(tmp_path, section, "pics.csv: row 5, column 'file': 'pics/p004.png'", "no such file")


def test_a_file_that_is_not_a_picture_names_its_row(tmp_path):
    section = write(tmp_path)
    (tmp_path / "pics" / "p006.png").write_text("not a picture")
    refused(tmp_path, section, "row 7", "'pics/p006.png'", "not a readable PNG or JPEG")


def test_a_gif_is_refused_by_its_content_whatever_its_name(tmp_path):
    section = write(tmp_path)
    Image.new("L", (8, 8)).save(tmp_path / "pics" / "p002.png", format="GIF")
    refused(tmp_path, section, "row 3", "a GIF file; expected PNG or JPEG")


def test_a_path_outside_the_folder_is_refused(tmp_path):
    section = write(tmp_path)
    frame = pd.read_csv(tmp_path / "pics.csv")
    frame.loc[1, "file"] = "../elsewhere.png"
    frame.to_csv(tmp_path / "pics.csv", index=False)
    refused(tmp_path, section, "row 2", "'../elsewhere.png' is outside the folder of pics.csv")


def test_a_picture_with_too_many_pixels_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(own_images_module, "MAX_IMAGE_PIXELS", 32 * 32 - 1)
    refused(tmp_path, write(tmp_path), "row 1", "32 x 32 pixels, more than the limit")


def test_a_one_class_label_is_refused(tmp_path):
    section = write(tmp_path, labels=["top"] * N)
    refused(tmp_path, section, "pics.csv", "column 'where'", "one value ('top')")


def test_too_few_pictures_are_refused(tmp_path):
    refused(tmp_path, write(tmp_path, n=20), "pics.csv", "20 rows", "at least 40")


def test_a_model_that_does_not_read_pictures_is_refused(tmp_path):
    section = {**write(tmp_path), "model": "gbm"}
    refused(tmp_path, section, "scenario.model: unknown 'gbm' for pictures", "mlp, logistic")


# ----- the spec ---------------------------------------------------------------------------------

SPEC = """
slug: own-pics
title: Own pictures
scenario: {name: pics, data: pics.csv, modality: image, image: file, target: where}
task: {design: decision, question: "Where is the blob?"}
trials: {count: 4}
conditions:
  - {name: ai}
  - {name: map, explanation: {method: smoothgrad}}
recruitment: {completion_code: DONE1234, screenout_code: OUT12345}
"""


def test_a_spec_of_own_pictures_defaults_to_the_mlp_and_pins_the_pixels(tmp_path):
    write(tmp_path)
    spec = parse_spec(SPEC, material_dir=tmp_path, material_store=tmp_path / "store")
    s = spec["scenario"]
    assert s["model"] == "mlp" and set(s["sha256"]) == {"data", "pixels"}
    assert parse_spec(yaml.safe_dump(spec)) == spec  # re-validates without the files
    # A changed picture changes the pixels: the pinned spec is refused.
    Image.new("L", (32, 32), 0).save(tmp_path / "pics" / "p000.png")
    with pytest.raises(SpecError, match=r"scenario\.sha256: the files are not the ones"):
        parse_spec(yaml.safe_dump(spec), material_dir=tmp_path)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("method: smoothgrad", "method: lime_text",
     r"conditions\[1\]\.explanation\.method: 'lime_text' does not explain pictures"),
    ("image: file, ", "", r"scenario\.image: material with modality: image names the column"),
    ("modality: image, ", "", r"scenario\.image: names the column of pictures of material "),
    ("modality: image", "modality: text, text: file",
     r"scenario\.image: names the column of pictures"),
])
def test_a_spec_of_own_pictures_refuses_what_pictures_cannot_have(tmp_path, old, new, message):
    write(tmp_path)
    with pytest.raises(SpecError, match=message):
        parse_spec(SPEC.replace(old, new), material_dir=tmp_path)
