"""The package's exceptions: one base class, one subclass per kind of bad input.

Every error that bad *input* can cause (a malformed matrix, an unknown name, a
broken dataset line, a model that is not fetched, an example that cannot be
scored) is an :class:`AttentionTransportError`.  The command line maps exactly
these, and :class:`OSError`, to one line ``attention-transport: error: …`` and
exit status 2; anything else is a programming error and keeps its traceback.

The base class derives from :class:`ValueError`, so code that catches
``ValueError`` keeps working.  Messages follow one template: what must hold,
then the value received (``"n must be >= 2; got 1."``).

=================  ===============================================================
class              raised for
=================  ===============================================================
``BadType``        an input of the wrong type (also a :class:`TypeError`)
``UnknownName``    a name not in a registry: pattern, feature, attention path,
                   benchmark, model, figure, claim
``UsageError``     command-line usage (exclusive options, missing arguments)
``DatasetError``   a malformed dataset file or record (names file and line)
``FetchError``     a component that could not be fetched or verified (also a
                   :class:`RuntimeError`)
``IncompatibleRun``  an output folder holding a run with other settings
``WontFit``        attention maps that need more memory than is available
``TooLong``        an example longer than ``max_tokens`` or the model's positions
``Unscorable``     an example with nothing to score (empty response)
=================  ===============================================================

``TooLong`` and ``Unscorable`` concern one example: ``validate`` skips and
counts the example by the exception's *type*; every other error stops the run.
"""
from __future__ import annotations

__all__ = ["AttentionTransportError", "BadType", "UnknownName", "UsageError", "DatasetError", "FetchError",
           "IncompatibleRun", "WontFit", "TooLong", "Unscorable", "SKIPPABLE"]


class AttentionTransportError(ValueError):
    """Bad input to the package; the message names the problem and the value received."""


class BadType(AttentionTransportError, TypeError):
    """An input of the wrong type (a matrix of strings, a non-integer n)."""


class UnknownName(AttentionTransportError):
    """A name that is not in a registry (pattern, feature, attention path, benchmark, model, figure, claim)."""


class UsageError(AttentionTransportError):
    """Bad command-line usage (exit status 2)."""


class DatasetError(AttentionTransportError):
    """A malformed dataset file or record (the message names file and line)."""


class FetchError(AttentionTransportError, RuntimeError):
    """A component could not be fetched (registry unreachable, unexpected package contents, hash mismatch)."""


class IncompatibleRun(AttentionTransportError):
    """An output folder holds a run whose settings differ from the ones asked for."""


class WontFit(AttentionTransportError):
    """The attention maps of a path need more memory than is available."""


class TooLong(AttentionTransportError):
    """One example has more tokens than ``max_tokens`` or than the model's positions."""


class Unscorable(AttentionTransportError):
    """One example has nothing to score (its response tokenises to nothing)."""


#: the per-example errors ``validate`` skips and counts, by report key
SKIPPABLE = {TooLong: "too_long", Unscorable: "unscorable"}
