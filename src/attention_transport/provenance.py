"""Provenance and JSON helpers shared by reports, figures and the command line (bottom layer: imports nothing
of the package but its version).
"""
from __future__ import annotations

import datetime as _dt
import math
import subprocess
from pathlib import Path

import numpy as np

__all__ = ["json_ready", "git_commit", "stamp_text", "utc_now"]


def json_ready(obj):
    """Replace non-finite floats by ``None``, numpy scalars and arrays by Python ones.

    >>> json_ready({"a": np.float64("nan"), "b": np.arange(2), "c": (np.int64(3), np.bool_(True))})
    {'a': None, 'b': [0, 1], 'c': [3, True]}
    """
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def git_commit():
    """Short commit of the source tree the package runs from, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def stamp_text():
    """``attention-transport <version> · <commit>``: the stamp every figure carries."""
    from attention_transport import __version__

    return f"attention-transport {__version__} · {git_commit() or 'no-git'}"


def utc_now():
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
