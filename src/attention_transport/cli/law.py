"""``attention-transport law``: the capacity law of a pattern or kernel, its certified bounds, checked at given n."""
from __future__ import annotations

import json

from attention_transport.cli.base import Command, int_in, n_value
from attention_transport.errors import UsageError

__all__ = ["Law"]


class Law(Command):
    name = "law"
    help = "capacity law φ_n ~ C n^α (ln n)^β of a pattern or kernel, with its certified bounds"
    description = ("The law a theorem of theory/laws.py gives for the pattern (causal kernels: summable reach-back, "
                   "the power-law regimes, exp-decay, bands; sinks; stacks of summable layers), or a fit that says "
                   "`fitted` when none applies; the certified bounds for every n >= n_min (L1 band width, L2 "
                   "reach-back mass, C5s); with --n, the law and each bound beside the computed φ_n.")

    def add_arguments(self, p):
        p.add_argument("spec", nargs="?", help="pattern spec (as for `check`); with --crossing, one parameter "
                       "written as NAME=? ('power-law:p=?')")
        p.add_argument("--kernel", metavar="EXPR", help="a causal kernel κ(d), d >= 0, as a sympy expression: "
                       "'(d+1)**(-p)', 'exp(-m*d)', 'Piecewise((1, d < w), (0, True))'")
        p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a value for a parameter of --kernel (repeatable)")
        p.add_argument("--n", type=n_value, nargs="+", default=None, metavar="N",
                       help="lengths at which to evaluate the law and bounds beside the computed φ_n")
        p.add_argument("--dps", type=int_in(5, 1000), default=20, help="significant digits of constants (default 20)")
        p.add_argument("--crossing", type=float, metavar="VALUE",
                       help="solve for the parameter marked NAME=? at which the limit capacity equals VALUE")
        p.add_argument("--json", action="store_true", help="print JSON")

    def run(self, args, out):
        from attention_transport.law import crossing, format_report, kernel_from_text, law_report
        from attention_transport.provenance import json_ready

        if args.crossing is not None:
            if args.spec is None or args.kernel is not None:
                raise UsageError("--crossing needs a SPEC with one NAME=? parameter (and no --kernel)")
            rec = crossing(args.spec, args.crossing, args.dps)
            if args.json:
                print(json.dumps(json_ready(rec)), file=out)
            else:
                print(f"{rec['param']} = {rec['value']} ({rec['method']})", file=out)
            return 0
        if (args.spec is None) == (args.kernel is None):
            raise UsageError("law needs exactly one of SPEC or --kernel EXPR")
        if args.param and args.kernel is None:
            raise UsageError("--param gives values to --kernel's parameters; a SPEC carries its own")
        if args.kernel is not None:
            rec = law_report(kernel=kernel_from_text(args.kernel, args.param), ns=args.n, dps=args.dps)
        else:
            from attention_transport.numerics.patterns import parse_pattern

            rec = law_report(parse_pattern(args.spec), ns=args.n, dps=args.dps)
        if args.json:
            print(json.dumps(json_ready(rec)), file=out)
        else:
            print(format_report(rec), file=out)
        return 0
