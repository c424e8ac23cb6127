"""``attention-transport check``: the transport report of a pattern at one or several n, or of a matrix file."""
from __future__ import annotations

import json

import numpy as np

from attention_transport.cli.base import Command, fmt, int_in, n_value, row_tol
from attention_transport.errors import UsageError

__all__ = ["Check", "format_table"]

_COLUMNS = [
    ("n", "n", "{}"), ("φ", "phi", "{:.6f}"), ("t*", "t_star", "{}"), ("t*/n", "t_star_over_n", "{:.4f}"),
    ("φ<1/5", "below_floor", "{}"), ("φ_bip", "phi_bip", "{:.6f}"), ("a*", "a_star", "{}"),
    ("b*", "b_star", "{}"), ("G", "G", "{:.4f}"), ("λ₂", "lambda2", "{:.3e}"),
    ("h ≥", "cheeger_lower", "{:.3e}"), ("h ≤", "cheeger_upper", "{:.4f}"), ("h", "cheeger_exact", "{:.6f}"),
]


def format_table(records, title):
    """Human-readable table of check records."""
    cells = [[fmt(r.get(key), spec) for _, key, spec in _COLUMNS] for r in records]
    widths = [max(len(h), *(len(row[k]) for row in cells)) for k, (h, _, _) in enumerate(_COLUMNS)]
    lines = [title, "  ".join(h.rjust(w) for (h, _, _), w in zip(_COLUMNS, widths))]
    lines += ["  ".join(x.rjust(w) for x, w in zip(row, widths)) for row in cells]
    for r in records:
        if "phi_exact" in r:
            lines.append(f"n = {r['n']}: φ = {r['phi_exact']} exactly (t* = {r['t_star_exact']})")
    notes = {}
    for r in records:
        for key, why in r.get("skipped", {}).items():
            notes.setdefault(why, []).append(key)
    for why, keys in notes.items():
        lines.append(f"skipped {', '.join(dict.fromkeys(keys))}: {why}")
    for r in records:
        for b in r.get("certified_bounds", []):
            lines.append(f"n = {r['n']}: certified {b['side']} bound φ_n {'≤' if b['side'] == 'upper' else '≥'} "
                         f"{b['value']:.6g} ({b['claim']}; {b['hypothesis']})")
    for r in records:
        if r.get("lambda2_method"):
            state = "" if r.get("lambda2_converged", True) else (
                " — not converged: λ₂ is the Rayleigh quotient, an upper bound, and an eigenvalue lies within the "
                "residual of it")
            lines.append(f"n = {r['n']}: λ₂ by {r['lambda2_method']}, residual {r['lambda2_residual']:.1e}{state}")
    return "\n".join(lines)


class Check(Command):
    name = "check"
    help = "transport report of a pattern or a matrix file"
    description = ("Prefix capacity φ and worst cut t*, bipartite capacity φ_bip and (a*, b*), asymmetry G, λ₂ and "
                   "the Cheeger sandwich.")

    def add_arguments(self, c):
        from attention_transport.check import BIP_MAX_N, DENSE_MAX_N, SPECTRAL_MAX_N

        c.add_argument("pattern", nargs="?", help="pattern spec: a family (window:w=64), a preset (longformer:w=512,g=1), "
                       "a FlexAttention file (file:my_mask.py) or a composition, quoted "
                       "('stack(repeat(window:w=16, 5), uniform-causal)'); see `attention-transport patterns`")
        c.add_argument("--n", type=n_value, nargs="+", default=None, metavar="N",
                       help="sequence lengths (default: 1000)")
        c.add_argument("--matrix", metavar="FILE", help="attention matrix: .npy, .npz (with --key when it holds "
                       "several arrays), or a scipy sparse matrix saved with scipy.sparse.save_npz")
        c.add_argument("--key", help="array name inside a .npz file")
        c.add_argument("--row-tol", type=row_tol, default="auto",
                       help="tolerance on |row sum − 1| for --matrix: a number, 'auto' (float16 2e-2, "
                       "float32 1e-5, float64 1e-9) or 'none' (default: auto)")
        c.add_argument("--dense-max", type=int_in(2), default=DENSE_MAX_N,
                       help=f"largest n for which a pattern's dense matrix is built; beyond it every quantity comes "
                       f"from the pattern's structure (default {DENSE_MAX_N})")
        c.add_argument("--spectral-max", type=int_in(2), default=SPECTRAL_MAX_N,
                       help=f"largest n for λ₂ and the Cheeger sandwich (default {SPECTRAL_MAX_N})")
        c.add_argument("--bip-max", type=int_in(2), default=BIP_MAX_N,
                       help=f"largest n for the exact O(n²) bipartite scan beyond the dense route (default {BIP_MAX_N})")
        c.add_argument("--plot", metavar="FILE", help="draw the prefix landscape over t/n at the (last) given n, "
                       "with the floor and, for causal patterns, the uniform-causal reference; the bipartite "
                       "landscape too when n <= 400 (.png, .pdf or .svg)")
        c.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(self, args, out):
        from attention_transport.check import check_matrix, check_pattern, load_matrix, scaling_summary
        from attention_transport.numerics.patterns import parse_pattern
        from attention_transport.provenance import json_ready

        if (args.pattern is None) == (args.matrix is None):
            raise UsageError("check needs exactly one of PATTERN or --matrix FILE")
        if args.plot is not None and args.matrix is not None:
            raise UsageError("--plot applies to patterns; got --matrix")
        if args.matrix is not None:
            if args.n is not None:
                raise UsageError("--n applies to patterns; a matrix file has its own n")
            A = load_matrix(args.matrix, args.key)
            if not isinstance(A, np.ndarray):  # a scipy sparse matrix: the pattern route, never densified
                from attention_transport.numerics.patterns import sparse_matrix_pattern

                P = sparse_matrix_pattern(A, source=str(args.matrix), row_tol=args.row_tol)
                rec = check_pattern(P, P.size, dense_max=args.dense_max, spectral_max=args.spectral_max,
                                    bip_max=args.bip_max, source=str(args.matrix))
                rec["dtype"] = f"sparse {A.format} {A.dtype}"
            else:
                rec = check_matrix(A, source=str(args.matrix), row_tol=args.row_tol, dense_max=args.dense_max,
                                   spectral_max=args.spectral_max, bip_max=args.bip_max)
            if args.json:
                print(json.dumps(json_ready(rec)), file=out)
            else:
                kind = "causal" if rec["causal"] else "not causal"
                print(format_table([rec], f"matrix {args.matrix} ({rec['dtype']}, {kind})"), file=out)
            return 0
        pattern = parse_pattern(args.pattern)
        ns = args.n or [1000]
        records = [check_pattern(pattern, n, dense_max=args.dense_max, spectral_max=args.spectral_max,
                                 bip_max=args.bip_max) for n in ns]
        if args.plot is not None:
            from attention_transport.figures.pattern import write_pattern_plot

            write_pattern_plot(pattern, ns[-1], args.plot)
        scaling = scaling_summary(pattern, records) if len(ns) > 1 else None
        if scaling is not None:
            for r in records:
                r["scaling"] = scaling
        if args.json:
            payload = records[0] if len(records) == 1 else records
            print(json.dumps(json_ready(payload)), file=out)
            return 0
        kind = "causal" if all(r["causal"] for r in records) else "not causal"
        print(format_table(records, f"pattern {pattern.spec} ({kind})"), file=out)
        if scaling is not None:
            exp = "—" if scaling["exponent"] is None else f"{scaling['exponent']:.4f}"
            first = scaling["first_n_below_floor"]
            crossing = (f"first n with φ < 1/5: {first}" if first is not None
                        else f"φ ≥ 1/5 for every n ≤ {scaling['scanned_up_to']}")
            print(f"fitted exponent of φ(n) ~ n^α over the given n: α = {exp}; {crossing} "
                  f"(exhaustive scan n = 2..{scaling['scanned_up_to']})", file=out)
        return 0
