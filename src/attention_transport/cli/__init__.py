"""Command line: ``attention-transport <subcommand>``, one module per subcommand.

Subcommands (each a :class:`~.base.Command` in its own module, listed in :data:`COMMANDS`)
---------------------------------------------------------------------------------------------
check
    Transport report of a named pattern at one or several n, or of a matrix file.
law
    The capacity law φ_n ~ C n^α (ln n)^β of a pattern or a kernel, derived
    (or fitted, and said so), its certified bounds, checked at given n.
verify
    Run the machine-checked claims C1–C7; exit status 1 if any step fails.
fetch
    Download the real components (models, benchmarks' data) into the cache directory.
benchmarks
    List the benchmarks: items, source package, licence, pairing rule.
patterns
    List the pattern library with parameters and defaults.
validate
    Real-model validation: forced scoring, transport features and baselines,
    LC-AUROC, probes, polarity; resumable; JSON and Markdown reports, figures.
polarity
    The pre-registered polarity test of C8: register each run's predicted sign
    from its calibration split, commit, then score the test split.
evidence
    The README's evidence tables, computed from validation reports and the
    scored polarity test.
figures
    Regenerate the figures F1–F9 (F5–F7 and F9 from validation reports).
profile
    Seconds and peak memory of one long forced pass with and without the
    transport features, for one attention path.

Bad input (unknown pattern, malformed matrix, missing file, ...) raises one of
the package's errors (:mod:`attention_transport.errors`) or an :class:`OSError`;
:func:`main` prints it as one line ``attention-transport: error: ...`` on
stderr and returns 2.  Any other exception is a programming error and keeps its
traceback.  Heavy imports (torch, transformers, matplotlib) happen inside the
commands.
"""
from __future__ import annotations

import os
import signal
import sys

from attention_transport import __version__
from attention_transport.cli.base import PROG, Parser
from attention_transport.cli.benchmarks import Benchmarks
from attention_transport.cli.check import Check
from attention_transport.cli.evidence import Evidence
from attention_transport.cli.fetch import Fetch
from attention_transport.cli.figures import Figures
from attention_transport.cli.law import Law
from attention_transport.cli.patterns import Patterns
from attention_transport.cli.polarity import Polarity
from attention_transport.cli.profile import Profile
from attention_transport.cli.validate import Validate
from attention_transport.cli.verify import Verify
from attention_transport.errors import AttentionTransportError, UsageError

__all__ = ["main", "build_parser", "COMMANDS", "PROG", "UsageError"]

#: the subcommands, in the order ``--help`` lists them
COMMANDS = {c.name: c for c in (Check(), Law(), Verify(), Fetch(), Benchmarks(), Patterns(), Validate(), Polarity(),
                                 Evidence(), Figures(), Profile())}


def build_parser():
    """The argparse parser of the ``attention-transport`` command."""
    p = Parser(prog=PROG, description="Self-attention as transport: capacity, direction and "
               "the limits of symmetric spectral diagnostics (arXiv:2605.04893).")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return p


def main(argv=None, out=None):
    """Entry point; returns the exit status (0 ok, 1 a failed verification, 2 bad input or too little memory,
    130 interrupted, 141 the reader of stdout went away)."""
    out = sys.stdout if out is None else out
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command].run(args, out)
    except ImportError as exc:
        if exc.name is None or exc.name.startswith("attention_transport"):
            raise
        print(f"{PROG}: error: {exc.name} is not installed; the real-model harness needs the optional "
              "extra: pip install 'attention-transport[harness]'", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`check … | head -1`): stop quietly, as a killed writer would
        _silence_stdout()
        return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:
        detail = f" ({' '.join(str(exc).split())})" if str(exc) else ""
        print(f"{PROG}: error: out of memory{detail}; use a smaller n or input, or free memory", file=sys.stderr)
        return 2
    except (AttentionTransportError, OSError) as exc:
        msg = " ".join(str(exc).split())
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2


def _silence_stdout():
    """Point stdout at /dev/null so the interpreter's final flush cannot raise a second broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no file descriptor (captured in tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
