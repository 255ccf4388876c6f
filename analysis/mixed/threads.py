"""Keep BLAS single-threaded while fitting.

The fits make many small dense products (a 1,000 x 40 block, say). Multi-threaded OpenBLAS
spends longer waking its threads than computing those, and on a busy machine a 40 x 1,000
product took 50 times longer with two threads than with one. threadpoolctl ships with
scikit-learn; without it the context manager does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["single_threaded_blas"]

_depth = 0  # nesting level: inner blocks (refits in a bootstrap loop) skip the ~25 ms setup


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (re-entrant: nested blocks cost nothing)."""
    global _depth
    if _depth:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only a speed-up
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
