"""Write shapes.csv and images/: small drawings of circles, squares and triangles, each with
its label. Deterministic; run from this folder (needs Pillow):

    python make_shapes.py

Each picture is one dark shape on white, near the middle, of random size, grey level and
stroke (filled, or an outline), on a canvas of 48 x 48 pixels or, for every seventh, 48 x 36
(the platform pads it to a square). Every fifth is saved as JPEG, the rest as PNG. At the
16 x 16 pixels the platform shrinks them to, small shapes are hard to tell apart, so the AI
of the example study makes mistakes, as a real one does.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

SEED = 13
PER_CLASS = 60
SHAPES = ("circle", "square", "triangle")


def draw(shape: str, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    picture = Image.new("L", size, 255)
    pen = ImageDraw.Draw(picture)
    width, height = size
    radius = rng.uniform(9, min(width, height) / 2 - 3)
    cx = width / 2 + rng.uniform(-3, 3)
    cy = height / 2 + rng.uniform(-3, 3)
    grey = rng.randint(0, 110)
    filled = rng.random() < 0.7
    stroke = rng.randint(2, 4)
    fill, outline = (grey, None) if filled else (None, grey)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if shape == "circle":
        pen.ellipse(box, fill=fill, outline=outline, width=stroke)
    elif shape == "square":
        pen.rectangle(box, fill=fill, outline=outline, width=stroke)
    else:
        turn = rng.uniform(0, 2 * math.pi)
        corners = [(cx + radius * math.cos(turn + k * 2 * math.pi / 3),
                    cy + radius * math.sin(turn + k * 2 * math.pi / 3)) for k in range(3)]
        pen.polygon(corners, fill=fill, outline=outline, width=stroke)
    return picture


def main() -> None:
    rng = random.Random(SEED)
    here = Path(__file__).resolve().parent
    (here / "images").mkdir(exist_ok=True)
    labels = [shape for shape in SHAPES for _ in range(PER_CLASS)]
    rng.shuffle(labels)
    with (here / "shapes.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "shape"])
        for i, shape in enumerate(labels, start=1):
            size = (48, 36) if i % 7 == 0 else (48, 48)
            picture = draw(shape, rng, size)
            name = f"images/s{i:03d}.{'jpg' if i % 5 == 0 else 'png'}"
            if name.endswith(".jpg"):
                picture.save(here / name, quality=90)
            else:
                picture.save(here / name, optimize=True)
            writer.writerow([name, shape])


if __name__ == "__main__":
    main()
