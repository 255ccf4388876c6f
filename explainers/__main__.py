"""Command line: ``python -m explainers gallery --out DIR [--methods a,b] [--seed N]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explainers")
    commands = parser.add_subparsers(dest="command", required=True)
    gallery = commands.add_parser("gallery", help="render one explanation of every method")
    gallery.add_argument("--out", required=True, help="directory for index.html and JSON")
    gallery.add_argument("--methods", help="comma-separated method names (default: all)")
    gallery.add_argument("--seed", type=int, default=0)
    gallery.add_argument(
        "--bundled-only",
        action="store_true",
        help="use scikit-learn's bundled data, not the study scenarios",
    )
    args = parser.parse_args(argv)
    if args.command == "gallery":
        from explainers.gallery import main_gallery

        return main_gallery(args.out, args.methods, args.seed, args.bundled_only)
    return 2


if __name__ == "__main__":
    sys.exit(main())
