"""``attention-transport patterns``: the pattern library with parameters and defaults."""
from __future__ import annotations

from attention_transport.cli.base import Command

__all__ = ["Patterns"]


class Patterns(Command):
    name = "patterns"
    help = "list the pattern library"

    def run(self, args, out):
        from attention_transport.numerics.patterns import describe_patterns

        print("\n".join(describe_patterns()), file=out)
        return 0
