"""``attention-transport evidence``: the README's evidence tables, computed from validation reports."""
from __future__ import annotations

import json
from pathlib import Path

from attention_transport.cli.base import Command
from attention_transport.cli.polarity import PREDICTIONS

__all__ = ["Evidence", "POLARITY_TEST"]

#: the scored pre-registered polarity test the repository keeps
POLARITY_TEST = PREDICTIONS.parent / "polarity-test.json"


class Evidence(Command):
    name = "evidence"
    help = "the evidence tables (LC-AUROC, architectural signature, G vs diagonal, polarity) as Markdown"
    description = ("Print the tables of the README's evidence section, computed from validation reports (default: "
                   "the shipped ones) and the scored polarity test (default: "
                   f"{POLARITY_TEST}, when present).")

    def add_arguments(self, p):
        p.add_argument("--reports", nargs="+", metavar="FILE", help="validation report.json files")
        p.add_argument("--polarity", metavar="FILE", help=f"a polarity-test.json (default: {POLARITY_TEST})")

    def run(self, args, out):
        from attention_transport.figures import bundled_reports, load_reports
        from attention_transport.harness.evidence import evidence_markdown

        reports = load_reports(args.reports or bundled_reports())
        path = Path(args.polarity) if args.polarity else POLARITY_TEST
        if args.polarity and not path.is_file():
            raise FileNotFoundError(f"polarity test file not found: {path}")
        polarity = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        out.write(evidence_markdown(reports, polarity))
        return 0
