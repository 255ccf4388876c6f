"""Command line: ``python -m analysis fit ...`` and ``python -m analysis power ...``.

Errors go to stderr (exit code 2 for bad input, 1 for a fit that fails numerically);
results go to stdout. ``fit --json`` of a small gaussian model with plain terms is read and
fitted with numpy alone (``analysis.mixed.dense``), since start-up is most of what such a fit
costs; everything else takes the full path through pandas and formulaic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

# The fits keep BLAS to one thread (see analysis.mixed.threads); so does everything around
# them here. Set before numpy loads, this also spares OpenBLAS starting threads that would
# only spin: on a 73,000-row model that was 0.2-0.4 s of CPU time.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def _add_fit(commands: Any) -> None:
    """``fit``: one mixed model on a CSV file."""
    fit = commands.add_parser("fit", help="fit a mixed model to a CSV file")
    fit.add_argument("--data", required=True, help="CSV file with one row per observation")
    fit.add_argument("--formula", required=True, help='e.g. "correct ~ condition + (1 | item)"')
    fit.add_argument("--family", choices=["gaussian", "binomial", "ordinal"], default="gaussian")
    fit.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    fit.add_argument("--factor", action="append", default=[], metavar="COLUMN",
                     help="treat a numeric-looking column as categorical (repeatable)")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.set_defaults(handler=_run_fit)


def _add_power(commands: Any) -> None:
    """``power``: simulation-based power of a crossed logistic design."""
    power = commands.add_parser("power", help="power of a crossed logistic GLMM by simulation")
    power.add_argument("--participants", type=int, required=True)
    power.add_argument("--items", type=int, required=True)
    power.add_argument("--effect", type=float, required=True,
                       help="effect of the condition in log-odds")
    power.add_argument("--intercept", type=float, default=0.0, help="log-odds in control")
    power.add_argument("--design", choices=["between", "within"], default="between")
    power.add_argument("--participant-sd", type=float, default=1.0)
    power.add_argument("--item-sd", type=float, default=0.5)
    power.add_argument("--slope-sd", type=float, default=0.0,
                       help="SD of participants' condition effects (within designs)")
    power.add_argument("--sims", type=int, default=200)
    power.add_argument("--alpha", type=float, default=0.05)
    power.add_argument("--seed", type=int, default=1)
    power.add_argument("--workers", type=int, default=1)
    power.add_argument("--json", action="store_true", help="print one JSON object")
    power.set_defaults(handler=_run_power)


def _read_csv(path: str, factors: list[str]) -> pd.DataFrame:
    """Read the data; ``factors`` are read as strings so they become categorical."""
    import pandas as pd  # here, not at the top: start-up time is what a user waits for

    try:
        return pd.read_csv(path, dtype={name: str for name in factors})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"cannot read {path}: {error}") from error


def _fit_small(args: argparse.Namespace) -> bool:
    """JSON of a small linear mixed model on the numpy-only path (analysis.mixed.dense);
    False when the data or the model need the full path."""
    if args.family != "gaussian" or not args.json:
        return False
    from analysis.mixed.dense import NotSimple, fit_csv

    try:
        result, alarms = fit_csv(args.data, args.formula, reml=not args.ml,
                                 factors=args.factor)
    except NotSimple:
        return False
    print(json.dumps(result, indent=2))
    if alarms:
        print(f"warning: {'; '.join(alarms)}", file=sys.stderr)
    return True


def _run_fit(args: argparse.Namespace) -> None:
    """Fit the model and print JSON or a text summary."""
    if _fit_small(args):
        return
    from analysis.mixed import ConvergenceWarning, clmm, glmer, lmer

    data = _read_csv(args.data, args.factor)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if args.family == "binomial":
            results = glmer(args.formula, data)
        elif args.family == "ordinal":
            results = clmm(args.formula, data)
        else:
            results = lmer(args.formula, data, reml=not args.ml)
    print(json.dumps(results.to_dict(), indent=2) if args.json else results.summary())
    for warning in caught:  # plain lines, not Python's file:line warning format
        print(f"warning: {warning.message}", file=sys.stderr)


def _progress_bar(stream: Any) -> Callable[[int, int], None]:
    """A one-line progress bar drawn on ``stream``."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            stream.write("\n")
        stream.flush()
    return show


def _run_power(args: argparse.Namespace) -> None:
    """Simulate, refit and print the estimated power."""
    from analysis.power import LogisticDesign, simulate_power

    design = LogisticDesign(
        n_participants=args.participants, n_items=args.items, effect=args.effect,
        intercept=args.intercept, within=args.design == "within",
        participant_sd=args.participant_sd, item_sd=args.item_sd, slope_sd=args.slope_sd,
    )
    result = simulate_power(design, n_sims=args.sims, alpha=args.alpha, seed=args.seed,
                            workers=args.workers, progress=_progress_bar(sys.stderr))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        low, high = result.ci
        print(f"power {result.power:.3f} (MC SE {result.mc_se:.3f}, 95% CI {low:.3f}-"
              f"{high:.3f}); {result.n_failed} of {result.n_sims} fits failed to converge")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run a sub-command; 2 on bad input, 0 on success."""
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="ExplainLab analysis tools")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_fit(commands)
    _add_power(commands)
    args = parser.parse_args(argv)
    import numpy as np  # after argument parsing, so --help and usage errors stay instant

    try:
        args.handler(args)
    # LinAlgError is a ValueError subclass: it must be caught first to be told apart.
    except np.linalg.LinAlgError as error:  # numerically hopeless data, not a bad request
        print(f"error: the fit failed numerically: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
