"""``attention-transport benchmarks``: the registered benchmarks, their items, sources and licences."""
from __future__ import annotations

from attention_transport.cli.base import Command

__all__ = ["Benchmarks"]


class Benchmarks(Command):
    name = "benchmarks"
    help = "list the benchmarks (items, source package, licence, pairing rule)"
    description = ("Every registered benchmark. Items and pairs are counted from the fetched data (fetch the "
                   "component named in 'source' first); a benchmark that is not fetched says so.")

    def add_arguments(self, b):
        b.add_argument("--cache", help="cache directory of fetched components")
        b.add_argument("--json", action="store_true", help="one JSON object per benchmark")

    def run(self, args, out):
        import json

        from attention_transport.harness.benchmarks import BENCHMARKS, fetched_data

        rows = []
        for name, bench in BENCHMARKS.items():
            path = fetched_data(name, args.cache)
            row = {"name": name, "summary": bench.summary, "source": bench.source, "license": bench.license,
                   "pairing": bench.pairing, "component": bench.component, "items": None, "excluded": None,
                   "fetched": path is not None}
            if path is not None:
                _, report = bench.load(path)
                row["items"], row["excluded"] = report.n_items, dict(report.excluded)
            rows.append(row)
        if args.json:
            for row in rows:
                print(json.dumps(row), file=out)
            return 0
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            if r["fetched"]:
                excl = sum(r["excluded"].values())
                items = f"{r['items']} items" + (f" ({excl} excluded)" if excl else "")
            elif r["component"]:
                items = f"not fetched: attention-transport fetch {r['component']}"
            else:
                items = "not fetchable: --data FILE"
            print(f"{r['name']:<{width}}  {items}", file=out)
            print(f"{'':<{width}}  {r['summary']}", file=out)
            print(f"{'':<{width}}  source {r['source']}; licence {r['license']}; wrong answer: {r['pairing']}",
                  file=out)
        return 0
