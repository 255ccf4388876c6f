"""``python -m analysis.report run analysis.ipynb``: re-run an exported notebook in place.

The kernel is this interpreter and the working directory the notebook's folder (the export),
so on any machine where ``pip install -r requirements.txt`` ran, the notebook recomputes its
results with the shipped analysis package. Errors go to stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.report")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute a notebook in place, saving its outputs")
    run.add_argument("notebook", type=Path)
    run.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    return _run(args.notebook, timeout=args.timeout)


def _run(path: Path, *, timeout: int) -> int:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from analysis.report.notebook import execute_notebook

    if not path.is_file():
        print(f"error: no notebook at {path}", file=sys.stderr)
        return 2
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as error:  # nbformat raises several unrelated types for a bad file
        print(f"error: {path} is not a notebook: {error}", file=sys.stderr)
        return 2
    try:
        execute_notebook(notebook, working_dir=path.resolve().parent, timeout=timeout)
    except CellExecutionError as error:  # the file is left as it was
        print(f"error: a cell failed:\n{error}", file=sys.stderr)
        return 1
    nbformat.write(notebook, str(path))
    print(f"ran {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
