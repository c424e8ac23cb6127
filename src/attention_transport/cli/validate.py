"""``attention-transport validate``: forced scoring of a benchmark on a real model, reports and figures."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from attention_transport.cli.base import PROG, Command, fmt, int_in, positive_int
from attention_transport.errors import UsageError

__all__ = ["Validate", "summary_line"]


def summary_line(report, out_dir):
    """One line per benchmark: items, coverage, φ's LC-AUROC and interval, G, the transport probe, LapEigvals."""
    def score(s):
        return f"insufficient ({s.n_pairs} pairs)" if s.insufficient else fmt(s.lc_auroc, "{:.3f}")

    f = report.features["phi"]
    interval = "" if f.ci_low is None else f" [{fmt(f.ci_low, '{:.3f}')}, {fmt(f.ci_high, '{:.3f}')}]"
    return (f"{report.model} {report.benchmark}: {report.n_items} items, coverage "
            f"{fmt(report.strata.coverage, '{:.3f}')}, LC-AUROC phi {score(f)}{interval}, "
            f"G {score(report.features['G'])}, probe transport {score(report.probes['transport'])}, "
            f"lapeig {score(report.baselines['lapeig'])} -> {out_dir}")


def _shard(text):
    """``I/K`` as (I, K) (argparse type)."""
    import argparse

    try:
        i, k = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be I/K, two integers; got {text!r}") from None
    if not 0 <= i < k:
        raise argparse.ArgumentTypeError(f"must be I/K with 0 <= I < K; got {text!r}")
    return i, k


class Validate(Command):
    name = "validate"
    help = "transport features and baselines on a real model and benchmark"
    description = ("Teacher-forced scoring of a benchmark's faithful and hallucinated answers, per-head transport "
                   "features and baselines (resumable feature files), length-controlled AUROC, grouped probes and "
                   "the polarity test; writes report.json, report.md and figures.")

    def add_arguments(self, va):
        from attention_transport.harness.benchmarks import BENCHMARKS
        from attention_transport.harness.models import MODELS
        from attention_transport.harness.paths import ATTENTION_CHOICES, STREAMING_MIN_N

        va.add_argument("--model", required=True, help=f"{', '.join(MODELS)}, a local Hugging Face directory "
                        "or a .gguf file")
        va.add_argument("--benchmark", required=True, nargs="+", metavar="NAME",
                        help=f"{', '.join(BENCHMARKS)} (`attention-transport benchmarks` describes them; several: "
                        "one run each, plus the polarity test across them)")
        va.add_argument("--data", metavar="PATH", help="dataset file or folder (required for medhallu; default: the "
                        "fetched data); only with one benchmark")
        va.add_argument("--limit", type=positive_int, help="first N items of the benchmark (two examples each)")
        va.add_argument("--out", help="output directory (default: validation/<model>[/<benchmark>]); rerun the "
                        "same command to resume an interrupted run")
        va.add_argument("--seed", type=int_in(0), default=0, help="seed of the folds and the bootstrap (default 0)")
        va.add_argument("--skip-bad", action="store_true", help="skip and count malformed records instead of failing")
        va.add_argument("--lambda2", action="store_true", help="also compute λ₂ per head (O(n³) per head)")
        va.add_argument("--lapeig-k", type=positive_int, help="LapEigvals kept per head (default 100, the authors' "
                        "best setting, or --max-tokens if that is smaller)")
        va.add_argument("--max-tokens", type=int_in(2), default=2048,
                        help="skip (and count) examples longer than this many tokens (default 2048)")
        va.add_argument("--attention", choices=ATTENTION_CHOICES, default="auto",
                        help="eager: all layers' maps at once; per-layer: each layer reduced in a hook and dropped; "
                        "streaming: no map, features accumulated from Q and K (no λ₂; φ_bip on a lattice beyond "
                        f"--bip-grid tokens); auto: eager while the maps fit in 1 GiB, per-layer up to "
                        f"{STREAMING_MIN_N} tokens, streaming beyond (default). Same features where the paths overlap")
        va.add_argument("--bip-grid", type=positive_int, default=1024,
                        help="streaming path: φ_bip exact up to this many tokens, on a lattice of cuts beyond "
                        "(default 1024)")
        va.add_argument("--n-boot", type=int_in(0), default=500,
                        help="bootstrap resamples for the intervals (default 500)")
        va.add_argument("--folds", type=int_in(2), default=5, help="cross-validation folds (default 5)")
        va.add_argument("--cache", help="cache directory of fetched components")
        va.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                        help="the model's weights and attention maps (default float32). The maps' rows must sum to 1 "
                        "within 1e-5 (float32), 1e-2 (bfloat16) or 2e-3 (float16); features are computed in "
                        "float64 either way")
        va.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps; the eager and per-layer "
                        "paths bring each layer's maps to the host, the streaming path keeps its blocks on the device")
        va.add_argument("--batch", type=positive_int, default=1, help="score up to this many examples of equal token "
                        "count in one forward pass (exact: no padding; default 1). Pays on a GPU; on 2 CPU cores a "
                        "batch of 8 saved 15%% of SmolLM2's forward time (1.01 → 0.86 s per 200-token sequence)")
        va.add_argument("--shard", type=_shard, metavar="I/K", help="compute only every K-th item from item I "
                        "(0 <= I < K) and stop before the evaluation: K processes or machines share a run, into one "
                        "--out folder or several; then `validate --merge` evaluates the union")
        va.add_argument("--merge", nargs="*", metavar="DIR", help="compute nothing: copy the feature files of the "
                        "shard folders DIR (their run must equal this one) into --out where missing, and evaluate "
                        "every item found; the report lists what no shard computed")
        va.add_argument("--offline", action="store_true", help="never download: a registered model or benchmark "
                        "that is not in the cache is an error naming what to fetch (default: fetch it, with the "
                        "integrity checks of `attention-transport fetch`)")
        va.add_argument("--no-figures", action="store_true", help="skip the figures")
        va.add_argument("--quiet", action="store_true", help="no progress bar")

    def run(self, args, out):
        from attention_transport.harness.benchmarks import benchmark
        from attention_transport.harness.evaluate import polarity_summary
        from attention_transport.harness.features import LAPEIG_K_DEFAULT
        from attention_transport.harness.fetch import fetch, is_fetched
        from attention_transport.harness.validate import RunConfig, resolve_data, validate
        from attention_transport.provenance import json_ready

        if args.data and len(args.benchmark) > 1:
            raise UsageError("--data names one dataset file; give one --benchmark with it")
        command = "attention-transport " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["validate"] else ""
        stem = Path(args.model).name if Path(args.model).exists() else args.model
        root = Path(args.out) if args.out else Path("validation") / stem
        reports = []
        for bench in args.benchmark:
            out_dir = root if len(args.benchmark) == 1 and args.out else root / bench
            component = benchmark(bench).component
            if args.data is None and component and not args.offline and not is_fetched(component, args.cache):
                fetch(component, args.cache, progress=not args.quiet)
            config = RunConfig(model=args.model, benchmark=bench, data=str(resolve_data(bench, args.data, args.cache)),
                               out=str(out_dir), limit=args.limit, seed=args.seed, skip_bad=args.skip_bad,
                               lambda2=args.lambda2, max_tokens=args.max_tokens,
                               lapeig_k=args.lapeig_k or min(LAPEIG_K_DEFAULT, args.max_tokens),
                               attention=args.attention, bip_grid=args.bip_grid, n_boot=args.n_boot,
                               n_splits=args.folds, command=command, shard=args.shard, dtype=args.dtype,
                               device=args.device, batch=args.batch,
                               merge=None if args.merge is None else tuple(args.merge))
            try:
                rep = validate(config, cache=args.cache, progress=not args.quiet, figures=not args.no_figures,
                               fetch_missing=not args.offline)
            except KeyboardInterrupt:
                print(f"{PROG}: interrupted; finished examples are kept in {out_dir}; rerun the same command to "
                      "resume", file=sys.stderr)
                return 130
            if args.shard is not None:
                i, k = args.shard
                print(f"{bench} shard {i}/{k}: {rep['computed']} examples computed, {rep['resumed']} resumed, in "
                      f"{out_dir}; evaluate with `validate ... --out {out_dir} --merge [other shard folders]`",
                      file=out)
                continue
            reports.append(rep)
            print(summary_line(rep, out_dir), file=out)
        if len(reports) > 1:
            summary = polarity_summary(reports)
            (root / "polarity.json").write_text(json.dumps(json_ready(summary), indent=1), encoding="utf-8")
            signs = ", ".join(f"{b}: {v['polarity']:+d}" if v["polarity"] is not None else f"{b}: n/a"
                              for b, v in summary["per_benchmark"].items())
            print(f"polarity of phi: {signs}; reversal: {'yes' if summary['reversal'] else 'no'}", file=out)
            if not args.no_figures:
                from attention_transport.figures import real_model_figures

                real_model_figures([root / b / "report.json" for b in args.benchmark], root / "figures",
                                   only=("F6", "F7"))
        return 0
