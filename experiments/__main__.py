"""Command line for a researcher's own material (no Django needed).

    python -m experiments codebook loans.csv --target approved [--out loans.codebook.yaml]
        The codebook as inferred from the data, for the researcher to check and edit.
    python -m experiments check study.yaml
        Check a spec and its own material, train the model and print its model card.
    python -m experiments gallery --out DIR [--methods a,b] [--seed N] [--bundled-only]
        One explanation of every method on the bundled scenarios, rendered (index.html + JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from experiments.scenarios.own import MaterialError, draft_codebook
from experiments.spec import SpecError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments")
    commands = parser.add_subparsers(dest="command", required=True)
    codebook = commands.add_parser("codebook", help="draft a codebook from a CSV or Parquet")
    codebook.add_argument("data", type=Path)
    codebook.add_argument("--target", required=True, help="the column the model predicts")
    codebook.add_argument("--out", type=Path, help="write here (refuses to overwrite)")
    check = commands.add_parser("check", help="check a spec's material and print the model card")
    check.add_argument("spec", type=Path)
    _add_gallery(commands)
    args = parser.parse_args(argv)
    if args.command == "gallery":
        from experiments.gallery import main_gallery

        return main_gallery(args.out, args.methods, args.seed, args.bundled_only)
    try:
        if args.command == "codebook":
            return _codebook(args.data, args.target, args.out)
        return _check(args.spec)
    except (MaterialError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _add_gallery(commands: Any) -> None:
    gallery = commands.add_parser("gallery", help="render one explanation of every method")
    gallery.add_argument("--out", required=True, help="directory for index.html and JSON")
    gallery.add_argument("--methods", help="comma-separated method names (default: all)")
    gallery.add_argument("--seed", type=int, default=0)
    gallery.add_argument("--bundled-only", action="store_true",
                         help="use scikit-learn's bundled data, not the study scenarios")


def _codebook(data: Path, target: str, out: Path | None) -> int:
    text = draft_codebook(data, target)
    if out is None:
        sys.stdout.write(text)
        return 0
    if out.exists():
        print(f"error: {out} exists; choose another --out", file=sys.stderr)
        return 2
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _check(path: Path) -> int:
    from experiments.scenarios import load_scenario
    from experiments.scenarios.own import material_files, section_material
    from experiments.spec import parse_spec
    from experiments.study_spec import StudySpec

    if not path.is_file():
        raise SpecError(f"{path}: no such file")
    spec = parse_spec(path.read_text(encoding="utf-8"), material_dir=path.resolve().parent)
    s = StudySpec.from_dict(spec).scenario
    if s.data is None:
        print(f"{path}: valid (bundled scenario {s.name!r})")
        return 0
    files = material_files(s.section, path.resolve().parent)
    material = section_material(s.section, files)
    scenario = load_scenario(s.name, model=s.model, random_state=s.seed, material=material)
    print(json.dumps(scenario.model_card, indent=2))
    print("one item as a participant sees it:", json.dumps(scenario.item(0), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
