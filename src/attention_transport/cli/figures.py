"""``attention-transport figures``: regenerate the figures F1–F9."""
from __future__ import annotations

from pathlib import Path

from attention_transport.cli.base import Command

__all__ = ["Figures"]


class Figures(Command):
    name = "figures"
    help = "regenerate the figures F1–F9"
    description = ("Write the theory figures (F1–F4) and the real-model figures (F5–F7 and F9, from validation "
                   "reports; default: the reports shipped with the package).")

    def add_arguments(self, fg):
        fg.add_argument("--out", default="figures", help="output directory (default: figures)")
        fg.add_argument("--only", nargs="+", metavar="ID", help="figure ids, e.g. --only F1 F3")
        fg.add_argument("--format", default="png", help="comma-separated formats: png, pdf, svg (default png)")
        fg.add_argument("--reports", nargs="+", metavar="FILE", help="validation report.json files for F5–F7 and F9")
        fg.add_argument("--rerun", action="store_true", help="recompute the shipped reports (real models; needs the "
                        "harness extra and the fetched components) before drawing F5–F7 and F9")
        fg.add_argument("--cache", help="cache directory of fetched components (with --rerun)")

    def run(self, args, out):
        from attention_transport.figures import bundled_reports, check_formats, load_reports, write_figures

        formats = check_formats([f.strip() for f in args.format.split(",") if f.strip()])
        reports = args.reports
        if args.rerun:
            from attention_transport.harness.validate import RunConfig, resolve_data, validate

            reports = []
            for path in bundled_reports():
                rep = load_reports([path])[0]
                out_dir = Path(args.out) / "runs" / path.stem
                config = RunConfig.from_report(rep, out=out_dir, data=resolve_data(rep.benchmark, None, args.cache),
                                               command="attention-transport figures --rerun")
                validate(config, cache=args.cache, figures=False)
                reports.append(out_dir / "report.json")
        for path in write_figures(args.out, only=args.only, formats=formats, reports=reports):
            print(path, file=out)
        return 0
