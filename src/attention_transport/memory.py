"""Memory pre-checks: an operation that allocates by n states what it will need *before* allocating.

Each estimate is the whole footprint of the operation (the arrays it holds at
its peak, copies and temporaries included), deliberately on the high side; the
operation is refused with :class:`~attention_transport.errors.WontFit` when it
exceeds the memory available now (``MemAvailable``), naming both numbers.  A
``MemoryError`` that still happens (an estimate too low) reaches the user as
one line, never as a traceback (``attention_transport.cli.main``).
"""
from __future__ import annotations

from attention_transport.errors import WontFit

__all__ = ["available_bytes", "require", "gib"]


def available_bytes():
    """Memory available to a new allocation (``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def gib(nbytes):
    """``nbytes`` as a short GiB string (``"18.0 GiB"``; below 0.1 GiB in MiB)."""
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 / 10 else f"{nbytes / 2**20:.0f} MiB"


def require(need, what, *, available=None, hint=""):
    """Refuse ``what`` when it needs more than the available memory.

    Parameters
    ----------
    need : int or float
        Bytes the operation will hold at its peak.
    what : str
        The operation, for the message (``"check at n = 10000000000"``).
    available : int, optional
        Bytes available (default: :func:`available_bytes`; nothing is refused where unknown).
    hint : str, optional
        What to do instead, appended to the message.

    Raises
    ------
    WontFit
        ``"<what> needs about X GiB of memory; Y GiB available."``
    """
    have = available_bytes() if available is None else available
    if have is not None and need > have:
        raise WontFit(f"{what} needs about {gib(need)} of memory; {gib(have)} available.{' ' + hint if hint else ''}")
