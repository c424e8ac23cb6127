"""Turn a pytest-benchmark JSON file into a Markdown table of ratios.

Each group holds one ``baseline`` (``extra_info["role"]``) measured in the same
run; every other entry is reported as median seconds and median / baseline.

Usage: ``python benchmarks/report.py benchmarks/results.json``
"""
import json
import sys
from collections import defaultdict


def rows(path):
    data = json.load(open(path, encoding="utf-8"))
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"]].append(b)
    out = []
    for group, items in sorted(groups.items()):
        base = [b for b in items if b["extra_info"].get("role") == "baseline"]
        if len(base) != 1:
            raise SystemExit(f"group {group!r} needs exactly one baseline; got {len(base)}")
        t0 = base[0]["stats"]["median"]
        for b in items:
            extra = {k: v for k, v in b["extra_info"].items() if k != "role"}
            note = ", ".join(f"{k} = {_fmt(v)}" for k, v in extra.items())
            name = b["name"].split("[", 1)[-1].rstrip("]")
            out.append((group, name, b["stats"]["median"], b["stats"]["median"] / t0, note))
    return data.get("machine_info", {}), out


def _fmt(v):
    """An ``extra_info`` value: yes/no, — for none, three significant digits for numbers."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return "—"
    return f"{v:.3g}" if isinstance(v, (int, float)) else str(v)


def main(argv):
    machine, table = rows(argv[1])
    print(f"machine: {machine.get('cpu', {}).get('brand_raw', '?')}, python {machine.get('python_version', '?')}")
    print("| group | entry | median s | ratio to baseline | notes |")
    print("|---|---|---:|---:|---|")
    for group, name, med, ratio, note in table:
        print(f"| {group} | {name} | {med:.4g} | {ratio:.2f} | {note} |")


if __name__ == "__main__":
    main(sys.argv)
