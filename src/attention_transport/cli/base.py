"""What every subcommand shares: the :class:`Command` base class, the parser that raises, argument types."""
from __future__ import annotations

import argparse
from abc import ABC, abstractmethod

from attention_transport.errors import UsageError

__all__ = ["PROG", "Command", "Parser", "n_value", "int_in", "positive_int", "row_tol", "fmt"]

PROG = "attention-transport"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are :class:`UsageError` (one line, no usage block)."""

    def error(self, message):
        raise UsageError(message)


class Command(ABC):
    """One subcommand: its name and help, the arguments it adds, and what it runs.

    Subclass, set :attr:`name`, :attr:`help` and :attr:`description`, implement
    :meth:`add_arguments` and :meth:`run`; then list an instance in
    :data:`attention_transport.cli.COMMANDS`.
    """

    name = ""
    help = ""
    description = None

    def add_parser(self, subparsers):
        p = subparsers.add_parser(self.name, help=self.help, description=self.description or self.help)
        self.add_arguments(p)
        return p

    def add_arguments(self, parser):
        """Add this command's arguments to its parser."""

    @abstractmethod
    def run(self, args, out):
        """Run with parsed ``args``, printing to ``out``; returns the exit status."""


def int_in(lo, hi=None, what=None):
    """An argparse type: an integer in ``[lo, hi]``, with a one-line message naming the value.

    >>> int_in(2, 5)("7")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be in [2, 5]; got 7
    """
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"{what + ' ' if what else ''}must be {bound}; got {v}")
        return v

    return parse


#: a sequence length (n >= 2)
n_value = int_in(2, what="n")
#: a count of at least one
positive_int = int_in(1)


def row_tol(text):
    """``--row-tol``: a number >= 0, ``auto`` or ``none``."""
    if text == "auto":
        return "auto"
    if text == "none":
        return None
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, 'auto' or 'none'; got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; got {text!r}")
    return v


def fmt(v, spec="{:.6f}"):
    """A table cell: ``—`` for None, yes/no for booleans, ``spec`` for floats (a fixed-point spec
    switches to ``{:.3e}`` below 1e-3, so a capacity of 8e-92 never prints as 0.000000)."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if spec.endswith("f}") and 0 < abs(v) < 1e-3:
            return f"{v:.3e}"
        return spec.format(v)
    return str(v)
