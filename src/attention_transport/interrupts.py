"""Ctrl-C that is never lost.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the interpreter happens to be, and a
library that catches everything in a bare ``except:`` swallows it: mpmath does so while it
looks for its gmpy backend at import time and while it converts numbers.  :func:`remembered`
installs a handler that raises as usual *and* records the signal, so the command can stop at
the next safe point (after its imports, between two proof steps) even when the exception was
eaten.  A signal handler is process-wide by nature; the record is the one piece of module state.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager

__all__ = ["remembered", "requested"]

_SEEN = []


def _handler(signum, frame):
    _SEEN.append(signum)
    raise KeyboardInterrupt


@contextmanager
def remembered():
    """Within the block, Ctrl-C raises ``KeyboardInterrupt`` and is remembered; the previous handler is restored."""
    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield requested
    finally:
        signal.signal(signal.SIGINT, previous)


def requested():
    """True once a Ctrl-C arrived under :func:`remembered`, whether or not its exception survived."""
    return bool(_SEEN)
