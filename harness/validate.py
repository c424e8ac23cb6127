"""``attention-transport validate``: forced scoring, resumable feature files, evaluation, reports.

A run has three stages.

1. **Features.**  For every example (two per benchmark item: faithful 0,
   hallucinated 1) one teacher-forced pass (attention path below), reduced at once
   to per-head features (:mod:`.features`) and written to
   ``OUT/features/<item>_<label>.npz`` by an atomic rename.  A run that is
   interrupted resumes where it stopped: finished examples are read back, never
   recomputed.  ``OUT/run.json`` records the settings that determine the
   features (model, benchmark, data file, λ₂ on/off, LapEigvals k, φ_bip grid); resuming
   with different settings is refused.
2. **Evaluation** (:func:`evaluate`).  Labels, items and response lengths in
   tokens give
   * per scalar feature, unsupervised: LC-AUROC and polarity of the all-heads
     mean, with an item-grouped bootstrap interval, and per layer (mean over
     that layer's heads);
   * per feature family: a cross-validated probe (median imputation,
     standardisation, logistic regression; folds grouped by item) with the
     LC-AUROC of its out-of-fold probabilities (pairs within one length
     stratum and one fold) and a bootstrap interval;
   * the baselines on the same attention maps: LapEigvals, LLM-Check's
     attention score, KL from uniform, and response length alone (which scores
     exactly 1/2 under LC-AUROC by construction; its plain AUROC shows how much
     length alone would give away).
3. **Report.**  ``OUT/report.json`` (snake_case keys), ``OUT/report.md`` (the
   tables) and the real-model figures (F5 two-axis, F6 polarity, F7 LC-AUROC)
   drawn from the JSON alone.

Attention path: ``eager`` holds every layer's maps (layers × heads × n²
floats) at once; ``per-layer`` reduces each layer inside a forward hook and
drops it (peak: one layer's maps); ``streaming`` never forms a map
(:mod:`.streaming`: O(n) per head beyond one block of rows; no λ₂, and
``phi_bip`` on a lattice of cuts beyond ``bip_grid`` tokens); ``auto`` uses
eager while all maps fit in 1 GiB, per-layer up to :data:`STREAMING_MIN_N`
tokens or when λ₂ is asked for, streaming beyond.  The features are the same
on every path where they overlap (tested to 1e-5); each feature file records
its path and the lattice stride of its ``phi_bip`` (1: exact), and the report
counts the examples whose ``phi_bip`` is a lattice value.  Examples longer than
``max_tokens`` are skipped and counted; an encoder's prompt is cut to its
position limit and the cut is counted.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attention_transport.check import json_ready
from attention_transport.figures import git_commit
from attention_transport.harness.data import HALUEVAL_TASKS, load_benchmark
from attention_transport.harness.features import TRANSPORT_FEATURES
from attention_transport.harness.metrics import bootstrap_ci, grouped_probe, lc_auroc, polarity

__all__ = ["BENCHMARKS", "RunConfig", "FeatureStore", "resolve_data", "run_features", "evaluate",
           "validate", "polarity_summary", "write_markdown", "SCALAR_FEATURES", "FAMILIES"]

BENCHMARKS = tuple(f"halueval-{t}" for t in HALUEVAL_TASKS) + ("medhallu",)

#: per-head scalar features evaluated one by one (``lambda2`` only when computed)
SCALAR_FEATURES = TRANSPORT_FEATURES + ("attn_score", "kl_uniform")
#: probe families: name → (kind, per-head features); kind "transport" or "baseline"
FAMILIES = {
    "transport": ("transport", tuple(f for f in TRANSPORT_FEATURES)),
    "phi": ("transport", ("phi", "t_star_frac")),
    "G": ("transport", ("G",)),
    "two_axis": ("transport", ("phi", "G")),
    "lapeig": ("baseline", ("lapeig",)),
    "attn_score": ("baseline", ("attn_score",)),
    "kl_uniform": ("baseline", ("kl_uniform",)),
    "length": ("baseline", ()),
}
_SETTINGS = ("model", "benchmark", "data", "spectral", "lapeig_k", "bip_grid")
#: settings missing from an older run.json take these values (the runs that predate them)
_SETTING_DEFAULTS = {"bip_grid": 1024}


@dataclass
class RunConfig:
    """Settings of one validation run (those in ``_SETTINGS`` fix the feature files)."""

    model: str
    benchmark: str
    data: str
    out: str
    limit: int | None = None
    seed: int = 0
    skip_bad: bool = False
    spectral: bool = False
    lapeig_k: int = 10
    max_tokens: int = 2048
    attention: str = "auto"  #: "eager", "per-layer", "streaming" or "auto" (see :func:`attention_method`)
    bip_grid: int = 1024  #: streaming path: phi_bip exact up to this many tokens, on a lattice beyond
    n_boot: int = 500
    n_splits: int = 5
    command: str = ""

    def settings(self):
        return {k: getattr(self, k) for k in _SETTINGS}


def resolve_data(benchmark, data=None, cache=None):
    """The dataset file of a benchmark: ``data`` if given, else the fetched HaluEval file.

    Raises
    ------
    ValueError
        Unknown benchmark.
    FileNotFoundError
        A missing ``data`` file, MedHallu without ``data`` (it cannot be
        fetched), or HaluEval not fetched yet.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; known benchmarks: {', '.join(BENCHMARKS)}.")
    if data is not None:
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"dataset file not found: {path}")
        return path
    if benchmark == "medhallu":
        raise FileNotFoundError("medhallu cannot be fetched; give the file you have with --data FILE "
                                "(JSON lines or CSV)")
    from attention_transport.harness.fetch import component_path

    task = benchmark[len("halueval-"):]
    return component_path("halueval", cache) / f"dataset_halueval_{task}.jsonl"


class FeatureStore:
    """One ``.npz`` per example under ``OUT/features``, written atomically; ``OUT/run.json`` holds the settings."""

    def __init__(self, out, settings):
        self.root = Path(out)
        self.dir = self.root / "features"
        self.dir.mkdir(parents=True, exist_ok=True)
        manifest = self.root / "run.json"
        if manifest.is_file():
            old = json.loads(manifest.read_text(encoding="utf-8"))
            diff = [k for k in _SETTINGS if old.get(k, _SETTING_DEFAULTS.get(k)) != settings.get(k)]
            if diff:
                k = diff[0]
                raise ValueError(f"{self.root} holds a run with {k} = {old.get(k)!r}, not {settings.get(k)!r}; "
                                 "use another --out directory to start a new run.")
        else:
            _atomic_write(manifest, json.dumps(settings, indent=1).encode())

    def path(self, example):
        stem = re.sub(r"[^A-Za-z0-9.-]+", "_", example.item_id)
        return self.dir / f"{stem}_{example.label}.npz"

    def has(self, example):
        return self.path(example).is_file()

    def save(self, example, record):
        path = self.path(example)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            np.savez(fh, **record)
        os.replace(tmp, path)

    def load(self, example):
        with np.load(self.path(example), allow_pickle=False) as z:
            rec = {k: z[k] for k in z.files}
        if str(rec["item_id"]) != example.item_id or int(rec["label"]) != example.label:
            raise ValueError(f"feature file {self.path(example)} belongs to {rec['item_id']} / {rec['label']}, "
                             f"not {example.item_id} / {example.label}.")
        return rec


def _atomic_write(path, data):
    tmp = Path(str(path) + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


#: auto leaves the eager path when all layers' maps would exceed this many bytes
EAGER_MAX_BYTES = 1 << 30
#: auto streams inputs longer than this many tokens (unless λ₂ is asked for)
STREAMING_MIN_N = 2048
ATTENTION_PATHS = ("auto", "eager", "per-layer", "streaming")


def attention_method(config, loaded, n):
    """The attention path for an input of n tokens.

    The configured one, or for ``auto``: eager while all layers' float32 maps
    fit in :data:`EAGER_MAX_BYTES`; per-layer up to :data:`STREAMING_MIN_N`
    tokens, or at any n when λ₂ is asked for (it needs the full map);
    streaming beyond.

    Raises
    ------
    ValueError
        An unknown path, or streaming together with λ₂.
    """
    if config.attention not in ATTENTION_PATHS:
        raise ValueError(f"attention must be one of {', '.join(ATTENTION_PATHS)}; got {config.attention!r}.")
    if config.attention == "streaming" and config.spectral:
        raise ValueError("λ₂ needs each head's full map: --lambda2 cannot go with --attention streaming; use "
                         "per-layer or auto.")
    if config.attention != "auto":
        return config.attention
    cfg = loaded.model.config
    heads = getattr(cfg, "num_attention_heads", 1) * getattr(cfg, "num_hidden_layers", 1)
    if 4 * heads * n * n <= EAGER_MAX_BYTES:
        return "eager"
    return "per-layer" if n <= STREAMING_MIN_N or config.spectral else "streaming"


def run_features(config, examples, *, loaded=None, cache=None, progress=True):
    """Stage 1: compute the missing feature files, read back the finished ones.

    Returns
    -------
    (records, info) : list of dict (one per usable example, in input order) and a
        dict with ``computed``, ``resumed``, ``too_long`` and ``unscorable`` (empty
        response after tokenisation) as ``item/label`` ids, ``truncated``
        (examples whose encoder prompt was cut), ``seconds`` (forward pass and
        features, summed over the examples, as recorded when each was computed).
    """
    store = FeatureStore(config.out, config.settings())
    if config.attention == "streaming" and config.spectral:
        attention_method(config, None, 0)  # raises before any model is loaded
    todo = [ex for ex in examples if not store.has(ex)]
    info = {"computed": 0, "resumed": len(examples) - len(todo), "too_long": [], "unscorable": [], "truncated": 0,
            "seconds": 0.0, "paths": {}, "bip_lattice": 0}
    if todo:
        if loaded is None:
            from attention_transport.harness.models import load_model

            loaded = load_model(config.model, cache)
        from tqdm.auto import tqdm

        from attention_transport.harness.models import _encode, forced_features
        from attention_transport.harness.streaming import StreamConfig

        for ex in tqdm(todo, desc=f"{config.benchmark} features", unit="ex", disable=not progress):
            t0 = time.perf_counter()
            try:
                n = len(_encode(loaded, ex.prompt, ex.response, config.max_tokens)[0])
                method = attention_method(config, loaded, n)
                fp, feats = forced_features(loaded, ex.prompt, ex.response, method=method,
                                            max_tokens=config.max_tokens, spectral=config.spectral,
                                            lapeig_k=config.lapeig_k, bip_grid=config.bip_grid)
            except ValueError as exc:
                if "max_tokens" in str(exc) or "positions" in str(exc):
                    info["too_long"].append(f"{ex.item_id}/{ex.label}")
                    continue
                if "tokenises to nothing" in str(exc):
                    info["unscorable"].append(f"{ex.item_id}/{ex.label}")
                    continue
                raise
            t1 = time.perf_counter()
            record = {k: v.astype(np.float32) for k, v in feats.items()}
            record.update(item_id=np.array(ex.item_id), label=np.array(ex.label), n=np.array(fp.n),
                          prompt_len=np.array(fp.prompt_len), response_len=np.array(fp.response_len),
                          truncated=np.array(fp.truncated), seconds=np.array(t1 - t0), path=np.array(method),
                          bip_stride=np.array(StreamConfig(prompt_len=1, bip_grid=config.bip_grid).stride(fp.n)
                                              if method == "streaming" else 1))
            store.save(ex, record)
            info["computed"] += 1
    records = []
    for ex in examples:
        if store.has(ex):
            rec = store.load(ex)
            info["seconds"] += float(rec["seconds"] if "seconds" in rec else rec["forward_s"] + rec["features_s"])
            info["truncated"] += int(rec["truncated"] > 0)
            path = str(rec["path"]) if "path" in rec else "eager or per-layer"
            info["paths"][path] = info["paths"].get(path, 0) + 1
            info["bip_lattice"] += int(rec["bip_stride"] > 1) if "bip_stride" in rec else 0
            records.append(rec)
    return records, info


def _complete_items(records):
    """Keep the examples whose item has both answers (the unit of pairing and of the folds)."""
    by_item = {}
    for rec in records:
        by_item.setdefault(str(rec["item_id"]), set()).add(int(rec["label"]))
    return [rec for rec in records if by_item[str(rec["item_id"])] == {0, 1}]


def _score_summary(scores, y, lengths, groups, *, n_boot, seed):
    ok = ~np.isnan(scores)  # NaN (undefined feature) is dropped; ±inf ranks like any value
    lc = lc_auroc(scores[ok], y[ok], lengths[ok])
    lo, hi = bootstrap_ci(scores[ok], y[ok], lengths[ok], groups[ok], n_boot=n_boot, seed=seed) if n_boot else (
        float("nan"), float("nan"))
    return {"lc_auroc": lc.value, "polarity": polarity(lc.value), "ci_low": lo, "ci_high": hi,
            "n_pairs": lc.n_pairs, "n_used": int(ok.sum())}


def evaluate(records, *, n_boot=500, n_splits=5, seed=0, spectral=False):
    """Stage 2: unsupervised per-feature LC-AUROC (all heads and per layer), probes per family, baselines.

    Parameters
    ----------
    records : list of dict
        Feature records as written by :func:`run_features`.

    Returns
    -------
    dict
        ``n_items``, ``n_examples``, ``strata`` (coverage, pairs, the strata),
        ``lc_auroc`` / ``polarity`` (feature → all-heads value), ``features``
        (feature → summary with CI and ``per_layer``), ``probes`` (transport
        families) and ``baselines`` (baseline families and unsupervised scores),
        ``heads`` (per-head class means of φ and G, for the two-axis figure).

    Raises
    ------
    ValueError
        Fewer than ``n_splits`` complete items.
    """
    records = _complete_items(records)
    y = np.array([int(r["label"]) for r in records])
    groups = np.array([str(r["item_id"]) for r in records])
    lengths = np.array([int(r["response_len"]) for r in records])
    n_items = len(set(groups.tolist()))
    if n_items < max(n_splits, 2):
        raise ValueError(f"evaluation needs at least {max(n_splits, 2)} items with both answers; got {n_items}.")
    names = [f for f in SCALAR_FEATURES if spectral or f != "lambda2"]
    stack = {name: np.stack([r[name] for r in records]).astype(np.float64) for name in names}
    lapeig = np.stack([r["lapeig"] for r in records]).astype(np.float64)
    n_layers = stack["phi"].shape[1]

    strata = lc_auroc(lengths.astype(float), y, lengths)
    report = {"n_items": n_items, "n_examples": len(records),
              "strata": {"coverage": strata.coverage, "n_pairs": strata.n_pairs, "n_strata": len(strata.strata),
                         "strata": strata.as_dict()["strata"]},
              "lc_auroc": {}, "polarity": {}, "features": {}, "probes": {}, "baselines": {}}
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (undefined feature) give NaN, dropped
        for name in names:
            per_head = stack[name]
            overall = np.nanmean(per_head.reshape(len(records), -1), axis=1)
            summary = _score_summary(overall, y, lengths, groups, n_boot=n_boot, seed=seed)
            summary["per_layer"] = []
            for layer in range(n_layers):
                lc = _score_summary(np.nanmean(per_head[:, layer], axis=1), y, lengths, groups, n_boot=0, seed=seed)
                summary["per_layer"].append({"layer": layer, "lc_auroc": lc["lc_auroc"],
                                             "polarity": lc["polarity"], "n_pairs": lc["n_pairs"]})
            report["features"][name] = summary
            report["lc_auroc"][name] = summary["lc_auroc"]
            report["polarity"][name] = summary["polarity"]

    length_scores = lengths.astype(float)
    from sklearn.metrics import roc_auc_score

    report["baselines"]["length_unsupervised"] = {
        **_score_summary(length_scores, y, lengths, groups, n_boot=0, seed=seed),
        "auroc_without_length_control": float(roc_auc_score(y, length_scores)) if len(set(y.tolist())) == 2
        else float("nan")}
    for fam, (kind, feats) in FAMILIES.items():
        if fam == "length":
            X = length_scores[:, None]
        elif feats == ("lapeig",):
            X = lapeig.reshape(len(records), -1)
        else:
            used = [f for f in feats if f in stack]
            X = np.concatenate([stack[f].reshape(len(records), -1) for f in used], axis=1)
        res = grouped_probe(X, y, groups, lengths, n_splits=n_splits, seed=seed)
        lo, hi = bootstrap_ci(res["oof"], y, res["strata_key"], groups, n_boot=n_boot, seed=seed) if n_boot else (
            float("nan"), float("nan"))
        entry = {"lc_auroc": res["lc_auroc"]["lc_auroc"], "ci_low": lo, "ci_high": hi, "auroc": res["auroc"],
                 "n_pairs": res["lc_auroc"]["n_pairs"], "n_features": int(X.shape[1]), "n_splits": n_splits}
        (report["probes"] if kind == "transport" else report["baselines"])[fam] = entry
    for name in ("attn_score", "kl_uniform"):
        report["baselines"][f"{name}_unsupervised"] = {k: v for k, v in report["features"][name].items()
                                                       if k != "per_layer"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report["heads"] = {f: {"faithful": np.nanmean(stack[f][y == 0], axis=0).tolist(),
                               "hallucinated": np.nanmean(stack[f][y == 1], axis=0).tolist()}
                           for f in ("phi", "G")}
    return report


def validate(config, *, cache=None, loaded=None, progress=True, figures=True):
    """Run all three stages for one benchmark; returns the report dict (also written to ``config.out``)."""
    from attention_transport import __version__

    started = time.perf_counter()
    examples, load_report = load_benchmark(config.benchmark, config.data, limit=config.limit,
                                           skip_bad=config.skip_bad)
    if not examples:
        raise ValueError(f"{config.data} yields no {config.benchmark} items.")
    records, info = run_features(config, examples, loaded=loaded, cache=cache, progress=progress)
    report = {"model": config.model, "benchmark": config.benchmark, "data": Path(config.data).name,
              "seed": config.seed, "limit": config.limit, "items_loaded": load_report.n_items,
              "records_skipped": load_report.n_skipped, "skipped_lines": load_report.skipped_lines,
              "too_long": info["too_long"], "unscorable": info["unscorable"], "max_tokens": config.max_tokens,
              "prompt_truncated": info["truncated"], "computed": info["computed"], "resumed": info["resumed"],
              "attention": config.attention, "attention_paths": info["paths"], "phi_bip_lattice": info["bip_lattice"],
              "seconds_per_example": info["seconds"] / max(len(records), 1)}
    report.update(evaluate(records, n_boot=config.n_boot, n_splits=config.n_splits, seed=config.seed,
                           spectral=config.spectral))
    report["provenance"] = {"package_version": __version__, "commit": git_commit(), "command": config.command,
                            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "elapsed_s": time.perf_counter() - started,
                            "settings": {**config.settings(), "data": Path(config.data).name}}
    out = Path(config.out)
    _atomic_write(out / "report.json", json.dumps(json_ready(report), indent=1).encode())
    _atomic_write(out / "report.md", write_markdown(report).encode())
    if figures:
        from attention_transport.figures import real_model_figures

        real_model_figures([out / "report.json"], out / "figures")
    return report


def polarity_summary(reports, feature="phi"):
    """C8's polarity test across benchmarks: the sign of ``feature``'s effect per benchmark.

    Returns
    -------
    dict
        ``feature``, ``per_benchmark`` (benchmark → LC-AUROC, CI, polarity, and
        whether the CI excludes 1/2), ``signs`` (the distinct non-zero signs
        among benchmarks whose CI excludes 1/2) and ``reversal`` (True when both
        signs occur with intervals excluding 1/2; False otherwise — "no reversal
        seen", which includes effects too small to sign).
    """
    per = {}
    for rep in reports:
        f = rep["features"][feature]
        lo, hi = f["ci_low"], f["ci_high"]
        decided = bool(lo == lo and hi == hi and (lo > 0.5 or hi < 0.5))
        per[rep["benchmark"]] = {"model": rep["model"], "lc_auroc": f["lc_auroc"], "ci_low": lo, "ci_high": hi,
                                 "polarity": f["polarity"], "ci_excludes_half": decided}
    signs = sorted({v["polarity"] for v in per.values() if v["ci_excludes_half"] and v["polarity"] in (1, -1)})
    return {"feature": feature, "per_benchmark": per, "signs": signs, "reversal": signs == [-1, 1]}


def _f(v, spec="{:.3f}"):
    return "—" if v is None or v != v else spec.format(v)


def _sign(p):
    return {1: "+1", -1: "−1", 0: "0"}.get(p, "—") if p is not None and p == p else "—"


def write_markdown(report):
    """The report's tables as Markdown (what ``report.md`` holds)."""
    s = report["strata"]
    lines = [f"# {report['model']} on {report['benchmark']}", "",
             f"{report['n_items']} items ({report['n_examples']} examples), seed {report['seed']}; "
             f"LC-AUROC strata: {s['n_strata']} response lengths hold both classes, "
             f"coverage {_f(s['coverage'])} of examples, {s['n_pairs']} pairs.", "",
             "## Unsupervised features (mean over all heads)", "",
             "| feature | LC-AUROC | 95% CI | polarity | best layer | its LC-AUROC |", "|---|---|---|---|---|---|"]
    for name, f in report["features"].items():
        layers = [r for r in f["per_layer"] if r["lc_auroc"] is not None and r["lc_auroc"] == r["lc_auroc"]]
        best = max(layers, key=lambda r: abs(r["lc_auroc"] - 0.5)) if layers else None
        lines.append(f"| {name} | {_f(f['lc_auroc'])} | {_f(f['ci_low'])}–{_f(f['ci_high'])} | "
                     f"{_sign(f['polarity'])} | {best['layer'] if best else '—'} | "
                     f"{_f(best['lc_auroc']) if best else '—'} |")
    lines += ["", "## Probes (grouped 5-fold CV, out-of-fold LC-AUROC)", "",
              "| family | kind | features | LC-AUROC | 95% CI | plain AUROC |", "|---|---|---|---|---|---|"]
    for kind, block in (("transport", report["probes"]), ("baseline", report["baselines"])):
        for fam, e in block.items():
            if "n_features" not in e:
                continue
            lines.append(f"| {fam} | {kind} | {e['n_features']} | {_f(e['lc_auroc'])} | "
                         f"{_f(e['ci_low'])}–{_f(e['ci_high'])} | {_f(e['auroc'])} |")
    ln = report["baselines"]["length_unsupervised"]
    lines += ["", f"Response length alone: LC-AUROC {_f(ln['lc_auroc'])} (1/2 by construction), "
              f"AUROC without length control {_f(ln['auroc_without_length_control'])}.", ""]
    return "\n".join(lines)
