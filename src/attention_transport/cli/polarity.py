"""``attention-transport polarity``: the pre-registered polarity test (register predictions, score the test split)."""
from __future__ import annotations

import json
from pathlib import Path

from attention_transport.cli.base import Command, positive_int

__all__ = ["Polarity", "PREDICTIONS"]

#: where the repository keeps its predictions and the scored test
PREDICTIONS = Path("docs") / "polarity" / "predictions.json"


class Polarity(Command):
    name = "polarity"
    help = "the pre-registered polarity test of C8: register predictions, then score the test split"
    description = ("register RUN...: predict the sign of φ's effect for each validation run folder from its "
                   "calibration split only (two rules: the prompts' evidence share and the faithful answers' "
                   "heads below 1/5) and add it to the predictions file; an entry is never changed. "
                   "test RUN...: score the test split of each run against its committed prediction and write "
                   "polarity-test.json and .md.")

    def add_arguments(self, p):
        sub = p.add_subparsers(dest="action", required=True, parser_class=type(p))
        for action, text in (("register", "add the predictions of these runs"),
                             ("test", "score the test split of these runs against their predictions")):
            a = sub.add_parser(action, help=text, description=text)
            a.add_argument("runs", nargs="+", metavar="RUN", help="validation run folders (with run.json)")
            a.add_argument("--predictions", default=str(PREDICTIONS),
                           help=f"the predictions file (default: {PREDICTIONS})")
            a.add_argument("--data", help="the benchmark's data file, if not where run.json says (one RUN only)")
            if action == "test":
                a.add_argument("--out", help="folder for polarity-test.json and .md (default: the predictions "
                               "file's folder)")
                a.add_argument("--n-boot", type=positive_int, default=1000, help="bootstrap resamples (default 1000)")
                a.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
                a.add_argument("--keep", action="store_true",
                               help="keep the rows of the existing polarity-test.json for runs not given here, as "
                               "scored then (their folders need not exist here); each must still match its "
                               "registered prediction, rule version, --n-boot and --seed")
                a.add_argument("--uncommitted", action="store_true",
                               help="score even if the predictions file is not committed (not a pre-registered "
                               "test; the output says so)")

    def run(self, args, out):
        from attention_transport.errors import UsageError
        from attention_transport.harness import polarity
        from attention_transport.harness.store import atomic_write

        if args.data and len(args.runs) > 1:
            raise UsageError(f"--data names one run's data file; got {len(args.runs)} runs")
        if args.action == "register":
            for key, what in polarity.register(args.runs, args.predictions, data=args.data):
                print(f"{key}: {what}", file=out)
            return 0
        folder = Path(args.out or Path(args.predictions).parent)
        earlier = None
        if args.keep:
            path = folder / "polarity-test.json"
            if not path.is_file():
                raise UsageError(f"--keep: there is no earlier {path} to keep rows from")
            try:
                earlier = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise UsageError(f"--keep: {path} is not a polarity test: {exc.msg} at line {exc.lineno}") from None
        result = polarity.score(args.runs, args.predictions, data=args.data, n_boot=args.n_boot, seed=args.seed,
                                require_commit=not args.uncommitted, earlier=earlier)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "polarity-test.json", (json.dumps(result, indent=1) + "\n").encode())
        atomic_write(folder / "polarity-test.md", polarity.markdown(result).encode())
        out.write(polarity.markdown(result))
        return 0
