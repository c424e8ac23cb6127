"""``validate``: resumable feature files, evaluation, reports and the CLI, on tiny random models (no download)."""
import json

import numpy as np
import pytest

pytest.importorskip("torch")

from synthetic import synthetic_records, write_qa  # noqa: E402
from tiny_models import tiny_bert, tiny_llama  # noqa: E402

from attention_transport.cli import main  # noqa: E402
from attention_transport.errors import IncompatibleRun, UnknownName  # noqa: E402
from attention_transport.harness.data import load_halueval  # noqa: E402
from attention_transport.harness.evaluate import evaluate, polarity_summary  # noqa: E402
from attention_transport.harness.features import FEATURES, probe_groups  # noqa: E402
from attention_transport.harness.report import Report, write_markdown  # noqa: E402
from attention_transport.harness.store import FeatureStore  # noqa: E402
from attention_transport.harness.streaming import STREAMED  # noqa: E402
from attention_transport.harness.validate import RunConfig, resolve_data, run_features, validate  # noqa: E402


def config(tmp_path, data, **kw):
    base = dict(model="tiny", benchmark="halueval-qa", data=str(data), out=str(tmp_path / "run"), n_boot=20,
                n_splits=3, max_tokens=120, lapeig_k=10)
    base.update(kw)
    return RunConfig(**base)


def test_features_resume_without_recomputing(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 6)
    examples, _ = load_halueval(data, "qa")
    cfg = config(tmp_path, data)
    lm = tiny_llama()
    records, info = run_features(cfg, examples, loaded=lm, progress=False)
    assert info["computed"] == 12 and info["resumed"] == 0 and len(records) == 12
    # an interrupted run: three files missing, one half-written file left behind
    store = FeatureStore(cfg.out, cfg.manifest())
    for ex in examples[:3]:
        store.path(ex).unlink()
    (store.dir / "junk.npz.part").write_bytes(b"half")
    again, info2 = run_features(cfg, examples, loaded=lm, progress=False)
    assert info2["computed"] == 3 and info2["resumed"] == 9
    for a, b in zip(records, again):
        for key in FEATURES:
            np.testing.assert_array_equal(a[key], b[key])
    # nothing left to do: the model is not even needed
    _, info3 = run_features(cfg, examples, loaded=None, progress=False)
    assert info3["computed"] == 0 and info3["resumed"] == 12


def test_resume_refuses_other_settings(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 2)
    FeatureStore(tmp_path / "run", config(tmp_path, data).manifest()).commit()
    with pytest.raises(IncompatibleRun, match="lapeig_k = 10, not 5"):
        FeatureStore(tmp_path / "run", config(tmp_path, data, lapeig_k=5).manifest())


def test_too_long_examples_are_counted_not_fatal(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 5, long_item=2)
    examples, _ = load_halueval(data, "qa")
    records, info = run_features(config(tmp_path, data), examples, loaded=tiny_llama(), progress=False)
    assert sorted(info["too_long"]) == ["halueval-qa:3/0", "halueval-qa:3/1"]
    assert len(records) == 8


def test_evaluate_finds_a_planted_effect_and_length_scores_one_half():
    rep = evaluate(synthetic_records(), n_boot=50, n_splits=4)
    assert rep.n_items == 40 and rep.n_examples == 80
    assert rep.lc_auroc["phi"] > 0.7 and rep.polarity["phi"] == 1
    assert rep.features["phi"].ci_low > 0.5
    layers = rep.features["phi"].per_layer
    assert layers[0].lc_auroc > 0.75 and abs(layers[1].lc_auroc - 0.5) < 0.25
    assert rep.baselines["length_unsupervised"].lc_auroc == 0.5  # exactly, by construction
    assert rep.probes["phi"].lc_auroc > 0.65
    assert set(rep.probes) | set(rep.baselines) >= set(probe_groups())
    assert rep.probes["transport"].n_features == 3 * 2 * 7  # lambda2 off
    assert 0 < rep.strata.coverage <= 1 and rep.strata.n_strata >= 4
    assert np.shape(rep.heads["phi"]["hallucinated"]) == (3, 2)
    # phi_response is NaN for one-token answers: those examples are dropped, not scored
    assert rep.features["phi_response"].n_used < rep.n_examples


def test_evaluate_null_effect_straddles_one_half():
    rep = evaluate(synthetic_records(effect=0.0, n_items=60, seed=5), n_boot=100, n_splits=4)
    f = rep.features["phi"]
    assert f.ci_low < 0.5 < f.ci_high


def test_evaluate_needs_complete_items():
    recs = [r for r in synthetic_records(n_items=6) if int(r["label"]) == 1]
    with pytest.raises(ValueError, match="at least 5 items with both answers; got 0"):
        evaluate(recs)


def test_polarity_summary_reversal():
    from attention_transport.harness.report import Score, Strata

    def rep(bench, value, lo, hi, pairs=100):
        phi = Score(lc_auroc=value, ci_low=lo, ci_high=hi, polarity=1 if value > .5 else -1, n_pairs=pairs,
                    n_items=min(pairs, 50))
        return Report(model="m", benchmark=bench, data="", seed=0, limit=None, n_items=50, n_examples=100,
                      strata=Strata(1.0, 100, 1, []), features={"phi": phi}, probes={}, baselines={}, heads={})
    s = polarity_summary([rep("a", 0.6, 0.55, 0.65), rep("b", 0.4, 0.35, 0.45)])
    assert s["reversal"] and s["signs"] == [-1, 1]
    s = polarity_summary([rep("a", 0.6, 0.55, 0.65), rep("b", 0.45, 0.38, 0.52)])
    assert not s["reversal"] and s["per_benchmark"]["b"]["ci_excludes_half"] is False
    s = polarity_summary([rep("a", 0.6, 0.55, 0.65), rep("b", 0.0, 0.0, 0.0, pairs=1)])  # one pair signs nothing
    assert not s["reversal"] and s["per_benchmark"]["b"]["polarity"] is None
    assert "1 within-stratum pairs" in s["per_benchmark"]["b"]["insufficient"]


def test_validate_writes_report_markdown_and_figures(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 10)
    cfg = config(tmp_path, data, command="attention-transport validate ...")
    rep = validate(cfg, loaded=tiny_llama(), progress=False)
    out = tmp_path / "run"
    on_disk = json.loads((out / "report.json").read_text())
    for key in ("lc_auroc", "polarity", "probes", "baselines", "strata", "model", "benchmark", "n_items", "seed",
                "provenance", "features", "heads"):
        assert key in on_disk
    assert on_disk["n_items"] == 10 and on_disk["computed"] == 20
    assert all(k == k.lower() and " " not in k for k in on_disk)
    assert "| phi |" in (out / "report.md").read_text() and "| lapeig | baseline |" in write_markdown(rep)
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "F5_two_axis_tiny_halueval-qa.png", "F6_polarity.png", "F7_lc_auroc.png", "F9_signature.png"]
    again = validate(cfg, loaded=tiny_llama(), progress=False, figures=False)  # nothing is computed again
    assert again.computed == 0 and again.lc_auroc == rep.lc_auroc
    assert Report.from_json(on_disk).to_json() == json.loads(json.dumps(rep.to_json()))  # the file round-trips


def test_encoder_prompt_is_truncated_to_positions(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 5, long_item=1)
    examples, _ = load_halueval(data, "qa")
    records, info = run_features(config(tmp_path, data, max_tokens=500), examples, loaded=tiny_bert(),
                                 progress=False)
    assert len(records) == 10 and info["truncated"] == 2 and not info["too_long"]
    assert all(int(r["n"]) <= 128 for r in records)


def test_resolve_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="medhallu cannot be fetched"):
        resolve_data("medhallu")
    with pytest.raises(ValueError, match="unknown benchmark 'halueval-x'"):
        resolve_data("halueval-x")
    with pytest.raises(FileNotFoundError, match="dataset file not found"):
        resolve_data("halueval-qa", tmp_path / "nope.jsonl")
    with pytest.raises(FileNotFoundError, match="run `attention-transport fetch halueval`"):
        resolve_data("halueval-qa", cache=tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["validate", "--model", "smollm2-135m", "--benchmark", "medhallu"], "medhallu cannot be fetched"),
    (["validate", "--model", "smollm2-135m", "--benchmark", "halueval-xyz"], "unknown benchmark 'halueval-xyz'"),
    (["validate", "--model", "smollm2-135m", "--benchmark", "halueval-qa", "halueval-dialogue", "--data", "x"],
     "--data names one dataset file"),
    (["validate", "--model", "smollm2-135m", "--benchmark", "medhallu", "--data", "missing.jsonl"],
     "dataset file not found: missing.jsonl"),
    (["validate", "--benchmark", "halueval-qa"], "the following arguments are required: --model"),
])
def test_validate_cli_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--cache", str(tmp_path)] if "--model" in argv else argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_validate_cli_bad_record_and_skip_bad(tmp_path, capsys):
    data = write_qa(tmp_path / "qa.jsonl", 3)
    with open(data, "a", encoding="utf-8") as fh:
        fh.write('{"knowledge": "k"}\n')
    argv = ["validate", "--model", "no-such-model", "--benchmark", "halueval-qa", "--data", str(data),
            "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "qa.jsonl:4: missing field(s) question" in capsys.readouterr().err
    assert main(argv + ["--skip-bad"]) == 2  # the records load; the unknown model is the next error
    assert "unknown model 'no-such-model'" in capsys.readouterr().err


def test_length_probe_scores_exactly_one_half():
    """Within one fold and one length stratum a length-only probe ties every pair."""
    rep = evaluate(synthetic_records(n_items=30, seed=2), n_boot=20, n_splits=3)
    assert rep.baselines["length"].lc_auroc == 0.5
    assert rep.baselines["length"].n_pairs > 0


def test_empty_response_is_counted_not_fatal(tmp_path):
    data = tmp_path / "qa.jsonl"
    write_qa(data, 5)
    examples, _ = load_halueval(data, "qa")
    from attention_transport.harness.data import Example

    ex = examples[0]
    examples[0] = Example(ex.item_id, ex.benchmark, ex.label, ex.prompt, "", ex.meta)
    records, info = run_features(config(tmp_path, data), examples, loaded=tiny_llama(), progress=False)
    assert info["unscorable"] == ["halueval-qa:1/0"] and len(records) == 9
    assert evaluate(records, n_boot=0, n_splits=2).n_items == 4  # the item lost its pair


@pytest.mark.parametrize("batch", [1, 4])
def test_the_progress_bar_counts_skipped_examples(tmp_path, monkeypatch, batch):
    """The bar's total counts every example to compute, so it advances for a skipped one too and ends full."""
    import tqdm.auto

    bars = []

    class Bar:
        def __init__(self, total, **kw):
            self.total, self.n = total, 0
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    data = tmp_path / "qa.jsonl"
    write_qa(data, 5)
    examples, _ = load_halueval(data, "qa")
    from attention_transport.harness.data import Example

    for k in (0, 7):  # one at the start, one in the middle
        ex = examples[k]
        examples[k] = Example(ex.item_id, ex.benchmark, ex.label, ex.prompt, "", ex.meta)
    _, info = run_features(config(tmp_path, data, batch=batch), examples, loaded=tiny_llama(), progress=True)
    assert len(info["unscorable"]) == 2 and info["computed"] == 8
    assert [(b.total, b.n) for b in bars] == [(10, 10)]


def test_attention_paths_give_the_same_feature_files(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 3)
    examples, _ = load_halueval(data, "qa")
    lm = tiny_llama(1)
    eager, _ = run_features(config(tmp_path, data, out=str(tmp_path / "e"), attention="eager"), examples, loaded=lm,
                            progress=False)
    layer, _ = run_features(config(tmp_path, data, out=str(tmp_path / "p"), attention="per-layer"), examples,
                            loaded=lm, progress=False)
    stream, info = run_features(config(tmp_path, data, out=str(tmp_path / "s"), attention="streaming"), examples,
                                loaded=lm, progress=False)
    assert info["paths"] == {"streaming": 6} and info["bip_lattice"] == 0
    for a, b, c in zip(eager, layer, stream):
        assert str(a["attention"]) == "eager" and str(b["attention"]) == "per-layer"
        assert str(c["attention"]) == "streaming"
        for key in STREAMED:  # every feature the three paths share, from the registry
            np.testing.assert_allclose(a[key], b[key], atol=1e-5)
            np.testing.assert_allclose(a[key], c[key], atol=1e-5)
    with pytest.raises(UnknownName, match="attention must be one of auto, eager, per-layer, streaming; got 'fast'"):
        run_features(config(tmp_path, data, out=str(tmp_path / "x"), attention="fast"), examples[:1], loaded=lm,
                     progress=False)
    with pytest.raises(ValueError, match="lambda2 needs each head's full map; the streaming path never forms one"):
        run_features(config(tmp_path, data, out=str(tmp_path / "y"), attention="streaming", lambda2=True),
                     examples[:1], loaded=lm, progress=False)


def test_streaming_lattice_is_recorded_and_counted(tmp_path):
    """With bip_grid below n, phi_bip is a lattice value: an upper bound, recorded per file and counted."""
    data = write_qa(tmp_path / "qa.jsonl", 2)
    examples, _ = load_halueval(data, "qa")
    lm = tiny_llama(1)
    exact, _ = run_features(config(tmp_path, data, out=str(tmp_path / "e"), attention="eager"), examples, loaded=lm,
                            progress=False)
    coarse, info = run_features(config(tmp_path, data, out=str(tmp_path / "s"), attention="streaming", bip_grid=8),
                                examples, loaded=lm, progress=False)
    assert info["bip_lattice"] == 4
    for a, b in zip(exact, coarse):
        assert int(b["bip_stride"]) == -(-int(b["n"]) // 8) > 1 and int(a["bip_stride"]) == 1
        assert np.all(b["phi_bip"] >= a["phi_bip"] - 1e-5)
        np.testing.assert_allclose(a["G"], b["G"], atol=1e-5)
    with pytest.raises(IncompatibleRun, match="holds a run with bip_grid = 8, not 1024"):
        run_features(config(tmp_path, data, out=str(tmp_path / "s"), attention="streaming"), examples, loaded=lm,
                     progress=False)


def test_auto_attention_path_by_length():
    from attention_transport.harness.features import FeatureSettings
    from attention_transport.harness.paths import STREAMING_MIN_N, choose_path

    def auto(n, **kw):
        return choose_path("auto", settings=FeatureSettings(**kw), layers=30, heads=9, n=n).name

    assert auto(300) == "eager"  # 270 maps of 300² floats: 97 MB
    assert auto(1500) == "per-layer"
    assert auto(STREAMING_MIN_N) == "per-layer"
    assert auto(STREAMING_MIN_N + 1) == "streaming"
    assert auto(8192, lambda2=True) == "per-layer"
    assert choose_path("streaming", settings=FeatureSettings(), layers=30, heads=9, n=10).name == "streaming"


def test_resume_after_the_feature_set_changed_is_refused(tmp_path, diag_mass):
    """Regression: a feature added after a run started made the resume die in a KeyError inside evaluate."""
    from attention_transport.harness.features import FEATURES

    data = write_qa(tmp_path / "qa.jsonl", 3)
    examples, _ = load_halueval(data, "qa")
    del FEATURES["diag_mass"]  # the run starts without the feature ...
    try:
        run_features(config(tmp_path, data), examples, loaded=tiny_llama(), progress=False)
    finally:
        FEATURES["diag_mass"] = diag_mass  # ... which a later release (or the user) adds
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "diag_mass" not in manifest["features"] and manifest["schema_version"] == 2
    with pytest.raises(IncompatibleRun, match=r"holds a run with another feature set \(without diag_mass\); use "
                                              "another --out directory"):
        run_features(config(tmp_path, data), examples, loaded=tiny_llama(), progress=False)
    assert main(["validate", "--model", "tiny", "--benchmark", "halueval-qa", "--data", str(data), "--out",
                 str(tmp_path / "run"), "--quiet"]) == 2


def test_a_run_folder_of_the_first_schema_resumes(tmp_path, monkeypatch):
    """Output folders written before the manifest recorded the feature set and schema still resume, with the
    features of that release (``lookback`` came later: with it registered, such a folder is refused as any run
    without a feature is)."""
    from attention_transport.harness.features import FEATURES

    monkeypatch.delitem(FEATURES, "lookback")
    data = write_qa(tmp_path / "qa.jsonl", 3)
    examples, _ = load_halueval(data, "qa")
    cfg = config(tmp_path, data)
    run_features(cfg, examples, loaded=tiny_llama(), progress=False)
    run = tmp_path / "run"
    old = {"model": cfg.model, "benchmark": cfg.benchmark, "data": cfg.data, "spectral": False, "lapeig_k": 10}
    (run / "run.json").write_text(json.dumps(old))
    for path in (run / "features").glob("*.npz"):  # files of that release: t_star_frac and path
        with np.load(path) as z:
            rec = {("t_star_frac" if k == "t_star_over_n" else "path" if k == "attention" else k): z[k] for k in z.files}
        np.savez(path, **rec)
    records, info = run_features(cfg, examples, loaded=None, progress=False)
    assert info["computed"] == 0 and info["resumed"] == 6
    assert all("t_star_over_n" in r and "t_star_frac" not in r and str(r["attention"]) == "eager" for r in records)


def test_a_new_attention_path_is_one_class(tmp_path):
    """A path registered by the user is selectable by name and recorded in the feature files."""
    from attention_transport.harness.paths import ATTENTION_CHOICES, PATHS, PerLayer, register_path

    @register_path
    class Hooked(PerLayer):
        name = "hooked"

    try:
        data = write_qa(tmp_path / "qa.jsonl", 2)
        examples, _ = load_halueval(data, "qa")
        records, info = run_features(config(tmp_path, data, attention="hooked"), examples, loaded=tiny_llama(),
                                     progress=False)
        assert info["paths"] == {"hooked": 4} and str(records[0]["attention"]) == "hooked"
        assert "hooked" not in ATTENTION_CHOICES  # the constant is a snapshot; the CLI reads PATHS itself
    finally:
        del PATHS["hooked"]


def _features_of(records):
    return [{k: np.asarray(r[k]) for k in FEATURES} for r in records]


def test_a_corrupted_feature_file_is_recomputed_and_the_resume_equals_a_fresh_run(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 4)
    examples, _ = load_halueval(data, "qa")
    lm = tiny_llama()
    fresh, _ = run_features(config(tmp_path, data, out=str(tmp_path / "fresh")), examples, loaded=lm, progress=False)
    cfg = config(tmp_path, data)
    run_features(cfg, examples, loaded=lm, progress=False)
    store = FeatureStore(cfg.out, cfg.manifest())
    broken = store.path(examples[2])
    broken.write_bytes(broken.read_bytes()[:100])  # a truncated file, as a full disk or a killed copy leaves
    records, info = run_features(cfg, examples, loaded=lm, progress=False)
    assert info["corrupt"] == [f"{examples[2].item_id}/{examples[2].label}"] and info["computed"] == 1
    assert broken.with_name(broken.name + ".corrupt").is_file() and broken.is_file()
    for a, b in zip(_features_of(records), _features_of(fresh)):
        for key in FEATURES:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_resume_after_the_data_file_changed_is_refused(tmp_path):
    """Regression: an edited record was read with the old features (the manifest held only the path)."""
    data = write_qa(tmp_path / "qa.jsonl", 3)
    examples, _ = load_halueval(data, "qa")
    run_features(config(tmp_path, data), examples, loaded=tiny_llama(), progress=False)
    lines = data.read_text().splitlines()
    lines[1] = lines[1].replace('"q1?"', '"q1, edited?"')
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(IncompatibleRun, match="holds a run with data_sha256 = "):
        run_features(config(tmp_path, data), load_halueval(data, "qa")[0], loaded=tiny_llama(), progress=False)


def test_resume_with_a_smaller_max_tokens_equals_a_fresh_run(tmp_path):
    """Regression: finished examples longer than the new limit were kept and too_long stayed empty."""
    data = write_qa(tmp_path / "qa.jsonl", 5)  # examples of 52 to 57 tokens
    examples, _ = load_halueval(data, "qa")
    lm = tiny_llama()
    _, first = run_features(config(tmp_path, data, max_tokens=120), examples, loaded=lm, progress=False)
    assert not first["too_long"]
    resumed, info = run_features(config(tmp_path, data, max_tokens=54), examples, loaded=None, progress=False)
    fresh, info_fresh = run_features(config(tmp_path, data, max_tokens=54, out=str(tmp_path / "f")), examples,
                                     loaded=lm, progress=False)
    assert info["computed"] == 0 and sorted(info["too_long"]) == sorted(info_fresh["too_long"]) != []
    assert [str(r["item_id"]) for r in resumed] == [str(r["item_id"]) for r in fresh]


def _scores(rep):
    return {k: (s.lc_auroc, s.n_pairs) for k, s in rep.features.items()}


def test_shards_in_one_folder_merge_to_the_unsharded_run(tmp_path):
    """Three shards write into one folder, each every third item; --merge evaluates exactly what one process does."""
    data = write_qa(tmp_path / "qa.jsonl", 12)
    lm = tiny_llama()
    whole = validate(config(tmp_path, data, out=str(tmp_path / "whole")), loaded=lm, progress=False, figures=False)
    shared = str(tmp_path / "shared")
    for i in range(3):
        info = validate(config(tmp_path, data, out=shared, shard=(i, 3)), loaded=lm, progress=False, figures=False)
        assert info["computed"] == 8  # 4 items × 2 answers
    assert not (tmp_path / "shared" / "report.json").exists()  # a shard does not evaluate
    # (a loaded model only stands for the model hash here: a merge runs no model)
    merged = validate(config(tmp_path, data, out=shared, merge=()), loaded=lm, progress=False, figures=False)
    assert merged.computed == 0 and merged.resumed == 24 and merged.not_computed == []
    assert _scores(merged) == _scores(whole)


def test_shards_in_several_folders_and_a_missing_shard(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 10)
    lm = tiny_llama()
    folders = [str(tmp_path / f"s{i}") for i in range(2)]
    for i, folder in enumerate(folders):
        validate(config(tmp_path, data, out=folder, shard=(i, 2)), loaded=lm, progress=False, figures=False)
    whole = validate(config(tmp_path, data, out=str(tmp_path / "whole")), loaded=lm, progress=False, figures=False)
    merged = validate(config(tmp_path, data, out=str(tmp_path / "m"), merge=tuple(folders)), loaded=lm,
                      progress=False, figures=False)
    assert _scores(merged) == _scores(whole) and len(list((tmp_path / "m" / "features").glob("*.npz"))) == 20
    # shard 1 alone: the report names the examples nobody computed instead of pretending they do not exist
    partial = validate(config(tmp_path, data, out=str(tmp_path / "p"), merge=(folders[1],), n_splits=2), loaded=lm,
                       progress=False, figures=False)
    assert partial.n_items == 5 and len(partial.not_computed) == 10
    assert "halueval-qa:1/0" in partial.not_computed  # item 0 (line 1) belongs to shard 0
    assert len(json.loads((tmp_path / "p" / "report.json").read_text())["not_computed"]) == 10
    # a shard of another run is refused, naming the difference
    other = str(tmp_path / "other")
    validate(config(tmp_path, data, out=other, shard=(0, 2), lapeig_k=5), loaded=lm, progress=False, figures=False)
    with pytest.raises(IncompatibleRun, match="holds a run with lapeig_k = 5, not 10"):
        validate(config(tmp_path, data, out=str(tmp_path / "m2"), merge=(other,)), loaded=lm, progress=False,
                 figures=False)
    with pytest.raises(FileNotFoundError, match="holds no validation run"):
        validate(config(tmp_path, data, out=str(tmp_path / "m3"), merge=(str(tmp_path),)), loaded=lm,
                 progress=False, figures=False)


@pytest.mark.parametrize("shard, message", [("2/2", "must be I/K with 0 <= I < K; got '2/2'"),
                                            ("a/2", "must be I/K, two integers; got 'a/2'")])
def test_shard_argument_errors(tmp_path, capsys, shard, message):
    data = write_qa(tmp_path / "qa.jsonl", 6)
    argv = ["validate", "--model", "smollm2-135m", "--benchmark", "halueval-qa", "--data", str(data), "--shard", shard]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    argv = ["validate", "--model", "smollm2-135m", "--benchmark", "halueval-qa", "--data", str(data), "--shard",
            "0/2", "--merge", "--offline", "--cache", str(tmp_path)]
    assert main(argv) == 2
    assert "give one of them" in capsys.readouterr().err


def test_dtype_fixes_the_feature_files(tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 3)
    examples, _ = load_halueval(data, "qa")
    run_features(config(tmp_path, data), examples, loaded=tiny_llama(), progress=False)
    with pytest.raises(IncompatibleRun, match="holds a run with dtype = 'float32', not 'bfloat16'"):
        run_features(config(tmp_path, data, dtype="bfloat16"), examples, loaded=tiny_llama(), progress=False)
    # a manifest from before the key ran in float32: it resumes as such
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    del manifest["dtype"]
    (tmp_path / "run" / "run.json").write_text(json.dumps(manifest))
    _, info = run_features(config(tmp_path, data), examples, loaded=None, progress=False)
    assert info["resumed"] == 6 and info["computed"] == 0
