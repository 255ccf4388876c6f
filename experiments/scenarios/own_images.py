"""A researcher's own images: a CSV (or Parquet) table with a column of image file names (PNG
or JPEG, beside the table) and a label column, read into the same :class:`Source` the bundled
``digits`` scenario produces, so its models (an MLP, a logistic regression), the saliency
methods, nearest examples and prototypes and the image pages serve it unchanged.

Every picture is normalised once, when the material is checked: grey levels, padded with white
to a square, shrunk (or grown) to :data:`IMAGE_SIDE` pixels a side, and stored as darkness
0-255 (white 0, black 255). The model is trained and participants see exactly these pixels,
on the digits' 0-16 scale (darkness x 16 / 255). The normalised pixels are stored by content
hash (``sha256.pixels``) beside the table, so preparation needs neither the image files nor
the imaging library again.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.scenarios.own import Material, MaterialError, Plan, _row, read_material
from experiments.scenarios.own_media import media_source, plan_media, refuse_model_file
from experiments.scenarios.sources import MODELS, Source

IMAGE_SIDE = 16  # pixels a side, for the model and the page (the digits have 8)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IMAGE_FORMATS = ("PNG", "JPEG")  # what the file's content must be, whatever its name says
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096  # a larger picture is refused before it is decoded
MAX_IMAGES = 20_000
# The models of the bundled digits, on raw 0-16 pixels.
IMAGE_MODELS = MODELS["digits"]
# The explanation methods that read a picture (pixel maps, similar and typical pictures).
IMAGE_METHODS = frozenset({"gradient", "gradient_x_input", "smoothgrad",
                           "integrated_gradients", "nearest_examples", "prototypes"})
DIGITS_SCALE = 16.0


def read_images(files: pd.Series, *, folder: Path, name: str, column: str) -> np.ndarray:
    """Each row's picture, normalised: ``(n, IMAGE_SIDE, IMAGE_SIDE)`` darkness as uint8."""
    from PIL import Image

    root = folder.resolve()
    pixels = np.empty((len(files), IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    for i, file in enumerate(files):
        where = f"{name}: {_row(i)}, column {column!r}: {file!r}"
        path = (root / file).resolve()
        if not file:
            raise MaterialError(f"{name}: {_row(i)}, column {column!r}: no file name")
        if not path.is_relative_to(root):
            raise MaterialError(f"{where} is outside the folder of {name}")
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise MaterialError(f"{where}: expected a .png or .jpg file")
        if not path.is_file():
            raise MaterialError(f"{where}: no such file (looked for {path})")
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise MaterialError(f"{where}: larger than the limit of "
                                f"{MAX_IMAGE_BYTES // 1024**2} MiB")
        try:
            with Image.open(path) as picture:
                if picture.format not in IMAGE_FORMATS:
                    raise MaterialError(f"{where}: a {picture.format} file; expected PNG or JPEG")
                if picture.width * picture.height > MAX_IMAGE_PIXELS:
                    raise MaterialError(f"{where}: {picture.width} x {picture.height} pixels, "
                                        f"more than the limit of {MAX_IMAGE_PIXELS:,}")
                pixels[i] = normalise(picture)
        except MaterialError:
            raise
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise MaterialError(f"{where}: not a readable PNG or JPEG picture "
                                f"({str(exc)[:200]})") from None
    return pixels


def normalise(picture: Any) -> np.ndarray:
    """Grey levels on white (transparency too), padded to a square, IMAGE_SIDE a side;
    darkness 0 (white) to 255 (black)."""
    from PIL import Image, ImageOps

    rgba = picture.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    grey = Image.alpha_composite(white, rgba).convert("L")
    square = ImageOps.pad(grey, (IMAGE_SIDE, IMAGE_SIDE), method=Image.Resampling.BOX,
                          color=255)
    return 255 - np.asarray(square, dtype=np.uint8)


def load_image_plan(material: Material) -> Plan:
    """Check the image and label columns and read the pictures (or take the stored pixels);
    raise :class:`MaterialError` on the first problem. ``Plan.frame`` holds each row's
    picture as flattened darkness 0-255."""
    read = read_material(material)
    plan = plan_media(read, material.image, material.target, role="image", what="pictures",
                      noun="a small picture")
    if len(read.frame) > MAX_IMAGES:
        raise MaterialError(f"{read.name}: {len(read.frame):,} rows, more than the limit of "
                            f"{MAX_IMAGES:,} pictures")
    if material.pixels is None:
        pixels = read_images(read.frame[material.image], folder=material.data.parent,
                             name=read.name, column=material.image)
    else:
        pixels = np.load(material.pixels, allow_pickle=False)
        if pixels.shape != (len(read.frame), IMAGE_SIDE, IMAGE_SIDE):
            raise MaterialError(f"{material.pixels.name}: stored pixels of shape "
                                f"{pixels.shape} do not fit the {len(read.frame)} rows of "
                                f"{read.name}")
    return replace(plan, frame=pd.DataFrame(pixels.reshape(len(pixels), -1)))


def image_source(material: Material, *, random_state: int) -> tuple[Source, Plan]:
    """The researcher's pictures split (stratified by label) like the bundled digits."""
    refuse_model_file(material, "pictures")
    plan = load_image_plan(material)
    X = plan.frame.to_numpy(dtype=float) * (DIGITS_SCALE / 255)
    source = media_source(material, plan, X, random_state=random_state, modality="image",
                          models=IMAGE_MODELS, image_shape=(IMAGE_SIDE, IMAGE_SIDE))
    return source, plan


def pixels_file(plan: Plan) -> Path:
    """The normalised pixels as a .npy file (a temporary one, for the store to copy): numpy's
    plain array format, read back without pickle."""
    pixels = plan.frame.to_numpy(dtype=np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    fd, name = tempfile.mkstemp(suffix=".npy", prefix="pixels-")
    with os.fdopen(fd, "wb") as out:
        np.save(out, pixels, allow_pickle=False)
    return Path(name)
