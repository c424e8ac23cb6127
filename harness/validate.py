"""``attention-transport validate``: forced scoring into resumable feature files, then evaluation and reports.

A run has three stages.

1. **Features** (:func:`run_features`).  For every example (two per benchmark
   item: faithful 0, hallucinated 1) one teacher-forced pass through a
   registered attention path (:mod:`.paths`), reduced at once to the registered
   per-head features (:mod:`.features`) and written to
   ``OUT/features/<item>_<label>.npz`` by an atomic rename
   (:class:`~.store.FeatureStore`).  A run that is interrupted resumes where it
   stopped: finished examples are read back, never recomputed.  ``OUT/run.json``
   records what fixes the feature files (model, benchmark, data file, feature
   settings and feature set, φ_bip grid, schema); resuming with anything
   different is refused.  An example longer than ``max_tokens`` or the model's
   positions (:class:`~attention_transport.errors.TooLong`), or with nothing to
   score (:class:`~attention_transport.errors.Unscorable`), is skipped and
   counted; any other error stops the run.
2. **Evaluation** (:func:`~.evaluate.evaluate`): LC-AUROC per feature and
   layer, probes per group, baselines, each with its support.
3. **Report** (:mod:`.report`): ``OUT/report.json``, ``OUT/report.md`` and the
   real-model figures (F5 two-axis, F6 polarity, F7 LC-AUROC) drawn from the
   report alone.

The attention path is ``auto`` by default (:func:`~.paths.choose_path`).  Each
feature file records its path and the lattice stride of its ``phi_bip`` (1:
exact), and the report counts the examples whose ``phi_bip`` is a lattice
value.  An encoder's prompt is cut to its position limit and the cut is counted.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attention_transport.errors import SKIPPABLE
from attention_transport.harness.benchmarks import BENCHMARKS, benchmark
from attention_transport.harness.data import load_benchmark
from attention_transport.harness.evaluate import evaluate, polarity_summary
from attention_transport.harness.features import FEATURES, FeatureSettings
from attention_transport.harness.paths import AUTO, attention_path, choose_path
from attention_transport.harness.store import FeatureStore, content_sha256
from attention_transport.memory import require
from attention_transport.provenance import git_commit, utc_now

__all__ = ["BENCHMARKS", "RunConfig", "resolve_data", "run_features", "validate", "evaluate", "polarity_summary"]


@dataclass
class RunConfig:
    """Settings of one validation run (:meth:`manifest` lists those that fix the feature files)."""

    model: str
    benchmark: str
    data: str
    out: str
    limit: int | None = None
    seed: int = 0
    skip_bad: bool = False
    lambda2: bool = False
    lapeig_k: int = 100  #: the LapEigvals authors' best setting; at most max_tokens
    max_tokens: int = 2048
    attention: str = AUTO  #: a registered path or "auto" (see :func:`~.paths.choose_path`)
    bip_grid: int = 1024  #: streaming path: phi_bip exact up to this many tokens, on a lattice beyond
    n_boot: int = 500
    n_splits: int = 5
    command: str = ""
    #: content hash of the model (:func:`~.models.model_sha256`); None when the caller passes a loaded model
    model_sha256: str | None = None
    dtype: str = "float32"  #: the model's weights and maps (fixes the feature files: in the manifest)
    device: str = "cpu"  #: where the model runs (does not change the features beyond rounding: not in the manifest)
    #: ``(i, k)``: compute only the items whose index is i modulo k, and stop before the evaluation
    shard: tuple | None = None
    #: merge mode: compute nothing; read the feature files of ``out`` and of these folders, then evaluate
    merge: tuple | None = None
    #: score up to this many examples of equal token count in one forward pass (exact: no padding; the features
    #: equal one-at-a-time ones up to rounding, so not in the manifest)
    batch: int = 1

    def check(self):
        """Refuse a setting that cannot work, before any file is read or model loaded.

        Raises
        ------
        UsageError
            Naming the setting and the value received.
        """
        from attention_transport.errors import UsageError
        from attention_transport.harness.features import LAPEIG_K_MAX

        def need(ok, what):
            if not ok:
                raise UsageError(what)

        need(isinstance(self.seed, int) and 0 <= self.seed < 2**32, f"--seed must be in 0..2^32 − 1; got {self.seed}")
        need(isinstance(self.n_splits, int) and self.n_splits >= 2, f"--folds must be >= 2; got {self.n_splits}")
        need(self.limit is None or (isinstance(self.limit, int) and self.limit >= self.n_splits),
             f"--limit {self.limit} keeps fewer items than the {self.n_splits} cross-validation folds need; give "
             f"--limit >= {self.n_splits} or fewer --folds")
        need(isinstance(self.n_boot, int) and self.n_boot >= 0, f"--n-boot must be >= 0; got {self.n_boot}")
        need(isinstance(self.max_tokens, int) and self.max_tokens >= 2,
             f"--max-tokens must be >= 2; got {self.max_tokens}")
        need(isinstance(self.lapeig_k, int) and 1 <= self.lapeig_k <= min(LAPEIG_K_MAX, self.max_tokens),
             f"--lapeig-k must be in 1..{min(LAPEIG_K_MAX, self.max_tokens)} (at most {LAPEIG_K_MAX}, and no more "
             f"than --max-tokens: eigenvalues beyond the sequence length are zero padding); got {self.lapeig_k}")
        need(isinstance(self.bip_grid, int) and self.bip_grid >= 1, f"--bip-grid must be >= 1; got {self.bip_grid}")
        need(isinstance(self.batch, int) and self.batch >= 1, f"--batch must be >= 1; got {self.batch}")
        if self.shard is not None:
            i, k = self.shard
            need(isinstance(k, int) and isinstance(i, int) and k >= 1 and 0 <= i < k,
                 f"--shard must be I/K with 0 <= I < K; got {i}/{k}")
        need(self.shard is None or self.merge is None, "--shard computes one shard and --merge evaluates the union; "
             "give one of them")
        if self.attention != AUTO:
            attention_path(self.attention).refuse(self.features)

    @property
    def features(self):
        """The feature settings of the run."""
        return FeatureSettings(lambda2=self.lambda2, lapeig_k=self.lapeig_k)

    def manifest(self):
        """What fixes the feature files: recorded in ``run.json``, compared on resume."""
        settings = self.features
        return {"model": self.model, "model_sha256": self.model_sha256, "benchmark": self.benchmark,
                "data": self.data, "data_sha256": content_sha256(self.data), "lambda2": self.lambda2,
                "lapeig_k": self.lapeig_k, "bip_grid": self.bip_grid, "dtype": self.dtype,
                "features": sorted(n for n, f in FEATURES.items() if f.wanted(settings))}

    def settings(self):
        """The manifest without the feature set: the settings a report's provenance records."""
        return {k: v for k, v in self.manifest().items() if k != "features"}

    @classmethod
    def from_report(cls, report, *, out, data, command=""):
        """The run that reproduces a report's feature files, into ``out``, reading ``data``."""
        s = report.settings
        return cls(model=report.model, benchmark=report.benchmark, data=str(data), out=str(out), limit=report.limit,
                   seed=report.seed, lambda2=bool(s.get("lambda2", False)), lapeig_k=int(s.get("lapeig_k", 10)),
                   max_tokens=report.max_tokens or 2048, bip_grid=int(s.get("bip_grid", 1024)),
                   dtype=str(s.get("dtype", "float32")), command=command)


def resolve_data(name, data=None, cache=None):
    """The dataset of a benchmark: ``data`` if given, else the fetched file or folder.

    Raises
    ------
    UnknownName
        Unknown benchmark.
    FileNotFoundError
        A missing ``data`` path, a benchmark that cannot be fetched (MedHallu) without
        ``data``, or one whose component is not fetched yet.
    """
    bench = benchmark(name)
    if data is not None:
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"dataset file not found: {path}")
        return path
    return bench.default_data(cache)


def _batches(loaded, todo, config, info):
    """The examples to compute, encoded, as lists of ``(example, ForcedPass, inputs)`` run in one forward pass.

    ``config.batch`` = 1: one example at a time, encoded as it comes.  Larger: every example is
    encoded first, and examples whose inputs have the same shape (so the same token count, and
    no padding is needed) go together, up to ``config.batch`` at a time, in order of first
    appearance.  An example that cannot be scored (too long, empty response) is counted in
    ``info`` and left out.
    """
    from attention_transport.harness.models import ForcedPass, encode

    def encoded():
        for ex in todo:
            try:
                ids, prompt_len, inputs, truncated = encode(loaded, ex.prompt, ex.response, config.max_tokens)
            except tuple(SKIPPABLE) as exc:
                info[SKIPPABLE[type(exc)]].append(f"{ex.item_id}/{ex.label}")
                continue
            yield ex, ForcedPass(ids=ids, prompt_len=prompt_len, attention=None, truncated=truncated), inputs

    if config.batch == 1:
        yield from ([one] for one in encoded())
        return
    groups = {}
    for one in encoded():
        groups.setdefault(tuple((k, tuple(v.shape)) for k, v in one[2].items()), []).append(one)
    for group in groups.values():
        for i in range(0, len(group), config.batch):
            yield group[i:i + config.batch]


def run_features(config, examples, *, loaded=None, cache=None, progress=True):
    """Stage 1: compute the missing feature files, read back the finished ones.

    Returns
    -------
    (records, info) : list of dict (one per usable example, in input order) and a
        dict with ``computed``, ``resumed``, ``too_long`` and ``unscorable`` as
        ``item/label`` ids, ``truncated`` (examples whose encoder prompt was cut),
        ``seconds`` (forward pass and features, summed over the examples, as
        recorded when each was computed), ``paths`` (path → examples),
        ``bip_lattice`` (examples whose ``phi_bip`` is a lattice value) and
        ``corrupt`` (feature files that could not be read: set aside as
        ``<file>.corrupt`` and computed again).  A finished example longer than
        ``max_tokens`` (a resume with a smaller limit) is counted in ``too_long``,
        as a fresh run would.

    Raises
    ------
    UnknownName
        An unknown attention path.
    IncompatibleRun
        ``config.out`` holds a run with other settings or features.
    """
    config.check()  # before any file or model is touched
    settings = config.features
    store = FeatureStore(config.out, config.manifest())
    if config.merge is not None:
        info_merged = _merge_shards(store, config)
    if config.shard is not None:
        i, k = config.shard
        index = {item: n for n, item in enumerate(dict.fromkeys(ex.item_id for ex in examples))}
        examples = [ex for ex in examples if index[ex.item_id] % k == i]
    info = {"computed": 0, "resumed": 0, "too_long": [], "unscorable": [], "truncated": 0, "seconds": 0.0,
            "paths": {}, "bip_lattice": 0, "corrupt": []}
    finished = {}
    for ex in examples:
        if store.has(ex):
            rec = store.load_readable(ex)
            if rec is None:
                info["corrupt"].append(f"{ex.item_id}/{ex.label}")
            else:
                finished[id(ex)] = rec
    info["resumed"] = len(finished)
    todo = [ex for ex in examples if id(ex) not in finished]
    info["not_computed"] = []
    if config.merge is not None:  # nothing is computed: what no shard finished is named
        info["not_computed"] = [f"{ex.item_id}/{ex.label}" for ex in todo]
        info["merged"] = info_merged
        todo = []
    if todo:
        if loaded is None:
            from attention_transport.harness.models import load_model

            loaded = load_model(config.model, cache, dtype=config.dtype, device=config.device)
        from tqdm.auto import tqdm

        from attention_transport.harness.models import features_from_batch, map_shape

        layers, heads = map_shape(loaded)
        bar = tqdm(total=len(todo), desc=f"{config.benchmark} features", unit="ex", disable=not progress)

        def skipped():
            return len(info["too_long"]) + len(info["unscorable"])

        counted = skipped()  # the bar advances for skipped examples too, so it ends at its total
        for group in _batches(loaded, todo, config, info):
            n = group[0][1].n
            path = choose_path(config.attention, settings=settings, layers=layers, heads=heads, n=n, kind=loaded.kind)
            names = ", ".join(f"{ex.item_id}/{ex.label}" for ex, _, _ in group)
            require(path.footprint(loaded.model.config, n, batch=len(group)),  # before the pass; finished ones kept
                    f"{names} through the {path.name} attention path at n = {n}",
                    hint="Finished examples are kept; try --attention auto, a smaller --max-tokens or --batch.")
            t0 = time.perf_counter()
            feats = features_from_batch(loaded, [inputs for _, _, inputs in group],
                                        [fp.prompt_len for _, fp, _ in group], attention=path.name,
                                        settings=settings, bip_grid=config.bip_grid)
            seconds = (time.perf_counter() - t0) / len(group)
            for (ex, fp, _), f in zip(group, feats):
                record = {k: v.astype(np.float32) for k, v in f.items()}
                record.update(item_id=np.array(ex.item_id), label=np.array(ex.label), n=np.array(fp.n),
                              prompt_len=np.array(fp.prompt_len), response_len=np.array(fp.response_len),
                              truncated=np.array(fp.truncated), seconds=np.array(seconds),
                              attention=np.array(path.name),
                              bip_stride=np.array(path.bip_stride(fp.n, config.bip_grid)))
                store.save(ex, record)
                finished[id(ex)] = store.load(ex)
                info["computed"] += 1
            bar.update(len(group) + skipped() - counted)
            counted = skipped()
        bar.update(skipped() - counted)
        bar.close()
    records = []
    for ex in examples:
        rec = finished.get(id(ex))
        if rec is not None:
            if int(rec["n"]) > config.max_tokens:
                info["too_long"].append(f"{ex.item_id}/{ex.label}")
                continue
            info["seconds"] += float(rec["seconds"] if "seconds" in rec else rec["forward_s"] + rec["features_s"])
            info["truncated"] += int(rec["truncated"] > 0)
            path = str(rec["attention"]) if "attention" in rec else "eager or per-layer"
            info["paths"][path] = info["paths"].get(path, 0) + 1
            info["bip_lattice"] += int(rec["bip_stride"] > 1) if "bip_stride" in rec else 0
            records.append(rec)
    if records:
        store.commit()
    return records, info


def _merge_shards(store, config):
    """Copy into ``store`` the feature files of every folder in ``config.merge`` that it lacks.

    Each folder's manifest must equal this run's (the same model, data, settings and feature
    set); a shard's files are copied through a ``.part`` file and a rename, so an interrupted
    merge leaves only whole files.  Returns the number of files copied per folder.
    """
    import shutil

    from attention_transport.harness.store import FeatureStore

    copied = {}
    for folder in config.merge:
        folder = Path(folder)
        if not (folder / "run.json").is_file():
            raise FileNotFoundError(f"{folder} holds no validation run (no run.json) to merge")
        manifest = config.manifest()
        theirs = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        if theirs.get("data_sha256") == manifest["data_sha256"]:
            manifest["data"] = theirs.get("data")  # the same data read from another path (another machine)
        other = FeatureStore(folder, manifest)  # refuses a shard of another run, naming the difference
        n = 0
        for src in sorted(other.dir.glob("*.npz")):
            dst = store.dir / src.name
            if not dst.exists():
                store.dir.mkdir(parents=True, exist_ok=True)
                part = dst.with_name(dst.name + ".part")
                shutil.copyfile(src, part)
                part.replace(dst)
                n += 1
        copied[str(folder)] = n
    return copied


def validate(config, *, cache=None, loaded=None, progress=True, figures=True, fetch_missing=False):
    """Run all three stages for one benchmark; returns the :class:`~.report.Report` (also written to ``config.out``).

    With ``config.shard = (i, k)`` only stage 1 runs, on every k-th item from item i, and the
    feature information of :func:`run_features` is returned instead: k such processes (or
    machines) share the work, writing into one folder or several.  ``config.merge`` (a tuple
    of folders, possibly empty) runs no model at all: the feature files of those folders are
    copied into ``config.out`` where missing, and the union is evaluated; the report lists the
    examples no shard computed (``not_computed``).

    With ``fetch_missing``, a registered model that is not in the cache is fetched (with the
    same integrity checks as ``attention-transport fetch``) once the data have been read, so a
    bad data file is refused before anything is downloaded.

    Raises
    ------
    AttentionTransportError
        A benchmark file that yields no items, an incompatible output folder,
        too few complete items to evaluate, ...
    """
    from attention_transport import __version__
    from attention_transport.errors import AttentionTransportError
    from attention_transport.harness.report import write_markdown
    from attention_transport.harness.store import atomic_write

    started = time.perf_counter()
    config.check()
    examples, load_report = load_benchmark(config.benchmark, config.data, limit=config.limit,
                                           skip_bad=config.skip_bad)
    if not examples:
        raise AttentionTransportError(f"{config.data} yields no {config.benchmark} items.")
    if loaded is None and config.model_sha256 is None:  # a bad --model is refused here, before anything is written
        from attention_transport.harness.models import MODELS, model_sha256

        if fetch_missing and config.model in MODELS:
            from attention_transport.harness.fetch import fetch, is_fetched

            if not is_fetched(MODELS[config.model].component, cache):
                fetch(MODELS[config.model].component, cache, progress=progress)
        config.model_sha256 = model_sha256(config.model, cache)
    records, info = run_features(config, examples, loaded=loaded, cache=cache, progress=progress)
    if config.shard is not None:  # one shard of several: the evaluation waits for validate --merge
        return info
    report = evaluate(records, n_boot=config.n_boot, n_splits=config.n_splits, seed=config.seed,
                      lambda2=config.lambda2, model=config.model, benchmark=config.benchmark)
    report.data, report.limit = Path(config.data).name, config.limit
    report.items_loaded, report.records_skipped = load_report.n_items, load_report.n_skipped
    report.excluded, report.not_computed = dict(load_report.excluded), info["not_computed"]
    report.skipped_lines, report.too_long, report.unscorable = (load_report.skipped_lines, info["too_long"],
                                                                info["unscorable"])
    report.max_tokens, report.prompt_truncated = config.max_tokens, info["truncated"]
    report.computed, report.resumed, report.corrupt = info["computed"], info["resumed"], info["corrupt"]
    report.attention, report.attention_paths, report.phi_bip_lattice = (config.attention, info["paths"],
                                                                        info["bip_lattice"])
    report.seconds_per_example = info["seconds"] / max(len(records), 1)
    report.provenance = {"package_version": __version__, "commit": git_commit(), "command": config.command,
                         "date": utc_now(), "elapsed_s": time.perf_counter() - started,
                         "settings": {**config.settings(), "data": Path(config.data).name}}
    out = Path(config.out)
    report.write(out / "report.json")
    atomic_write(out / "report.md", write_markdown(report).encode())
    if figures:
        from attention_transport.figures import real_model_figures

        real_model_figures([out / "report.json"], out / "figures")
    return report
