"""Harness building blocks: LC-AUROC against a pair-count oracle, grouped folds, loaders, features."""
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from attention_strategies import causal_matrices  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy.stats import entropy  # noqa: E402

from attention_transport.errors import DatasetError  # noqa: E402
from attention_transport.harness.data import load_benchmark, load_halueval, load_medhallu  # noqa: E402
from attention_transport.harness.features import attention_features, head_features, lapeig_values  # noqa: E402
from attention_transport.harness.metrics import bootstrap_ci, grouped_probe, lc_auroc, polarity  # noqa: E402
from attention_transport.numerics.landscapes import conductance, prefix_capacity  # noqa: E402

FIX = Path(__file__).resolve().parents[1] / "fixtures"


# ---------------------------------------------------------------- LC-AUROC
def oracle_lc_auroc(scores, labels, lengths):
    """Count ordered pairs within equal-length strata by brute force (ties count 1/2)."""
    wins = pairs = 0.0
    for i, j in itertools.product(range(len(scores)), repeat=2):
        if labels[i] == 1 and labels[j] == 0 and lengths[i] == lengths[j]:
            pairs += 1
            wins += 1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0
    return wins / pairs if pairs else float("nan")


@st.composite
def scored_examples(draw):
    m = draw(st.integers(2, 40))
    labels = draw(st.lists(st.integers(0, 1), min_size=m, max_size=m))
    lengths = draw(st.lists(st.integers(1, 4), min_size=m, max_size=m))
    scores = draw(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 2.0, 3.0]) | st.floats(-5, 5), min_size=m, max_size=m))
    return np.array(scores), np.array(labels), np.array(lengths)


@given(scored_examples())
def test_lc_auroc_matches_pair_count_oracle(data):
    scores, labels, lengths = data
    got = lc_auroc(scores, labels, lengths)
    want = oracle_lc_auroc(scores, labels, lengths)
    if want != want:
        assert got.value != got.value and got.n_pairs == 0
    else:
        assert got.value == pytest.approx(want, abs=1e-12)
        assert got.n_pairs == sum(p * q for _, p, q in got.strata)
    both = {s[0] for s in got.strata}
    assert got.coverage == pytest.approx(np.isin(lengths, list(both)).mean())


@given(scored_examples())
def test_length_alone_scores_exactly_one_half(data):
    _, labels, lengths = data
    got = lc_auroc(lengths.astype(float), labels, lengths)
    assert got.value != got.value or got.value == 0.5


def test_lc_auroc_table():
    # stratum 1: pos {3}, neg {1, 3} → 1 + 0.5; stratum 2: pos {0}, neg {5} → 0; stratum 3: one class only
    got = lc_auroc([3, 1, 3, 0, 5, 9], [1, 0, 0, 1, 0, 1], [1, 1, 1, 2, 2, 3])
    assert got.value == pytest.approx(1.5 / 3) and got.n_pairs == 3
    assert got.coverage == pytest.approx(5 / 6)
    assert got.as_dict()["strata"] == [{"length": 1, "n_hallucinated": 1, "n_faithful": 2},
                                       {"length": 2, "n_hallucinated": 1, "n_faithful": 1}]


@pytest.mark.parametrize("args, message", [
    (([1, 2], [0, 2], [1, 1]), "labels must be 0 .* got 2"),
    (([1, 2], [0], [1, 1]), "equal length"),
    (([1, np.nan], [0, 1], [1, 1]), "must not be NaN"),
    (([1, 2], [0, 1], [1]), "lengths must match"),
])
def test_lc_auroc_errors(args, message):
    with pytest.raises(ValueError, match=message):
        lc_auroc(*args)


def test_polarity():
    assert (polarity(0.7), polarity(0.3), polarity(0.5), polarity(0.52, tol=0.05)) == (1, -1, 0, 0)
    assert polarity(float("nan")) != polarity(float("nan"))


def _synthetic(n_items=60, effect=1.5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1], n_items)
    groups = np.repeat(np.arange(n_items), 2)
    lengths = rng.integers(3, 6, size=2 * n_items)
    x = rng.standard_normal((2 * n_items, 3))
    x[:, 0] += effect * labels
    return x, labels, groups, lengths


def test_grouped_probe_never_splits_an_item():
    x, y, g, lengths = _synthetic()
    res = grouped_probe(x, y, g, lengths, n_splits=5)
    seen = [set(f) for f in res["folds"]]
    assert sum(len(f) for f in seen) == len(set(g))  # every item in exactly one test fold
    assert all(a.isdisjoint(b) for a, b in itertools.combinations(seen, 2))
    assert res["auroc"] > 0.7  # a real effect is found
    null = grouped_probe(_synthetic(effect=0.0, seed=3)[0], y, g, lengths)
    assert abs(null["auroc"] - 0.5) < 0.2


def test_grouped_probe_needs_enough_items():
    x, y, g, lengths = _synthetic(n_items=3)
    with pytest.raises(ValueError, match="at least n_splits = 5 items; got 3"):
        grouped_probe(x, y, g, lengths)


def test_bootstrap_interval_contains_estimate():
    x, y, g, lengths = _synthetic(n_items=80)
    est = lc_auroc(x[:, 0], y, lengths).value
    lo, hi = bootstrap_ci(x[:, 0], y, lengths, g, n_boot=200, seed=1)
    assert lo <= est <= hi and 0.5 < lo


# ---------------------------------------------------------------- loaders
def test_medhallu_jsonl_and_csv_agree():
    a, ra = load_medhallu(FIX / "medhallu_small.jsonl")
    b, rb = load_medhallu(FIX / "medhallu_small.csv")
    assert ra.n_items == rb.n_items == 3 and len(a) == 6
    assert [(e.label, e.prompt, e.response) for e in a] == [(e.label, e.prompt, e.response) for e in b]
    assert a[0].label == 0 and a[1].label == 1 and a[0].item_id == a[1].item_id
    assert a[0].prompt.startswith("#Knowledge#: Thiazide") and a[0].prompt.endswith("#Answer#: ")
    assert a[2].meta["difficulty"] == "medium"


def test_halueval_bad_lines_raise_with_file_and_line():
    with pytest.raises(DatasetError, match=r"halueval_qa_bad.jsonl:2: missing field\(s\) hallucinated_answer"):
        load_halueval(FIX / "halueval_qa_bad.jsonl", "qa")


def test_halueval_skip_bad_counts():
    ex, rep = load_halueval(FIX / "halueval_qa_bad.jsonl", "qa", skip_bad=True)
    assert rep.n_items == 2 and rep.n_skipped == 2 and rep.skipped_lines == [2, 3]
    assert [e.label for e in ex] == [0, 1, 0, 1]
    assert ex[0].prompt == ("#Knowledge#: Paris is the capital of France.\n#Question#: What is the capital of "
                            "France?\n#Answer#: ") and ex[1].response == "Lyon is the capital of France."


def test_loader_limit_and_errors(tmp_path):
    ex, rep = load_halueval(FIX / "halueval_qa_bad.jsonl", "qa", limit=1)
    assert rep.n_items == 1 and len(ex) == 2
    with pytest.raises(FileNotFoundError, match="dataset file not found"):
        load_medhallu(tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match="unknown benchmark 'halueval-xyz'; known benchmarks: halueval-qa"):
        load_benchmark("halueval-xyz", FIX / "medhallu_small.jsonl")
    bad = tmp_path / "m.jsonl"
    rec = json.loads((FIX / "medhallu_small.jsonl").read_text().splitlines()[0])
    bad.write_text(json.dumps(dict(rec, Knowledge=[])) + "\n" + json.dumps(dict(rec, **{"Difficulty Level": "x"})))
    with pytest.raises(DatasetError, match=r"m.jsonl:1: field 'Knowledge' must be a non-empty list"):
        load_medhallu(bad)
    _, rep = load_medhallu(bad, skip_bad=True)
    assert rep.n_skipped == 2 and rep.n_items == 0


# ---------------------------------------------------------------- features
@given(causal_matrices(min_n=3, max_n=9), st.data())
def test_head_features_against_direct_computations(A, data):
    A = A / A.sum(axis=1, keepdims=True)
    n = len(A)
    p = data.draw(st.integers(1, n - 1))
    f = head_features(A, p)
    assert f["phi_boundary"] == pytest.approx(conductance(A, range(p), range(p)), rel=1e-10)
    assert f["prompt_mass"] == pytest.approx(A[p:, :p].sum() / (n - p), rel=1e-10, abs=1e-15)
    kl = [np.log(i + 1) - entropy(A[i, : i + 1]) for i in range(p, n)]
    assert f["kl_uniform"] == pytest.approx(np.mean(kl), rel=1e-9, abs=1e-12)
    with np.errstate(divide="ignore"):
        assert f["attn_score"] == pytest.approx(np.mean([np.log(A[i, i]) for i in range(p, n)]), rel=1e-12)
    d = [sum(A[u, i] for u in range(i, n)) / (n - i) for i in range(n)]
    assert np.allclose(f["lapeig"][:n], sorted((d[i] - A[i, i] for i in range(n)), reverse=True)[:10])


def test_lapeig_padding_and_uniform_case():
    U = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]
    vals = lapeig_values(U, 6)
    assert vals.shape == (6,) and np.all(vals[4:] == 0)
    assert np.all(np.diff(vals[:4]) <= 0)


def test_attention_features_shapes_and_errors():
    U = np.tril(np.ones((5, 5))) / np.arange(1, 6)[:, None]
    attn = np.broadcast_to(U, (2, 3, 5, 5))
    out = attention_features(attn, 2, lambda2=False)
    assert out["phi"].shape == (2, 3) and out["lapeig"].shape == (2, 3, 100)  # the default k
    assert np.all(np.isnan(out["lambda2"]))
    assert out["phi"][0, 0] == pytest.approx(prefix_capacity(U)[0], rel=1e-14)
    assert out["phi_boundary"][1, 2] == pytest.approx(conductance(U, range(2), range(2)), rel=1e-12)
    with pytest.raises(ValueError, match=r"shape \(layers, heads, n, n\)"):
        attention_features(U, 2)
    with pytest.raises(ValueError, match=r"prompt_len must be in \[1, n = 5\]; got 0"):
        head_features(U, 0)


# ------------------------------------------------------------------- sensitivity analyses of the length control
def _length_confounded(n_items=80, effect=0.0, seed=3):
    """Hallucinated answers are longer; the score is length plus noise plus ``effect`` × label."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n_items)
    groups = np.repeat(np.arange(n_items), 2).astype(str)
    lengths = rng.integers(2, 12, size=2 * n_items) + 6 * y
    scores = lengths + rng.normal(scale=0.5, size=2 * n_items) + effect * y
    return scores, y, lengths, groups


def test_length_adjusted_auroc_removes_length_and_keeps_an_effect():
    from sklearn.metrics import roc_auc_score

    from attention_transport.harness.metrics import item_folds, length_adjusted_auroc

    scores, y, lengths, groups = _length_confounded()
    folds = item_folds(groups, 5, 0)
    assert roc_auc_score(y, scores) > 0.9  # length alone gives the classes away
    null, used = length_adjusted_auroc(scores, y, lengths, folds)
    assert used == len(y) and abs(null - 0.5) < 0.15
    planted, _ = length_adjusted_auroc(scores + 2.0 * y, y, lengths, folds)
    assert planted > 0.75  # an effect survives; the part of it that length predicts is absorbed
    assert roc_auc_score(y, scores + 2.0 * y) > planted
    # length itself, and any cubic in it, leaves zero residuals: exactly 1/2
    for f in (lambda n: n, lambda n: 3 - 2 * n + 0.01 * n**3):
        assert length_adjusted_auroc(f(lengths.astype(float)), y, lengths, folds) == (0.5, len(y))
    # NaN scores are dropped; one class left: undefined
    with_nan = scores.copy()
    with_nan[::7] = np.nan
    assert length_adjusted_auroc(with_nan, y, lengths, folds)[1] == np.isfinite(with_nan).sum()
    value, _ = length_adjusted_auroc(scores[y == 1], y[y == 1], lengths[y == 1], folds[y == 1])
    assert np.isnan(value)


def test_adjusted_auroc_fits_the_spline_on_other_folds_only():
    """Changing one fold's scores changes no other fold's residuals' fit on itself: the held-out fold's
    residuals depend on the other folds (cross-fitting), checked by an oracle that fits fold by fold."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    from attention_transport.harness.metrics import SPLINE_KNOTS, item_folds, length_adjusted_auroc

    scores, y, lengths, groups = _length_confounded(effect=0.7)
    folds = item_folds(groups, 4, 1)
    resid = np.empty(len(y))
    for k in range(4):
        tr, te = folds != k, folds == k
        m = make_pipeline(SplineTransformer(n_knots=SPLINE_KNOTS, degree=3, extrapolation="linear"),
                          LinearRegression()).fit(lengths[tr, None].astype(float), scores[tr])
        resid[te] = scores[te] - m.predict(lengths[te, None].astype(float))
    assert length_adjusted_auroc(scores, y, lengths, folds)[0] == pytest.approx(roc_auc_score(y, resid), abs=1e-12)


def test_coarse_strata_compare_more_pairs():
    from attention_transport.harness.metrics import coarse_lengths

    scores, y, lengths, groups = _length_confounded(effect=1.0)
    exact, coarse = lc_auroc(scores, y, lengths), lc_auroc(scores, y, coarse_lengths(lengths))
    assert coarse.n_pairs > exact.n_pairs and coarse.coverage >= exact.coverage
    with pytest.raises(ValueError, match="response lengths must be >= 1 token; got 0"):
        coarse_lengths([0, 3])


def test_reports_carry_the_sensitivity_analyses(tmp_path):
    from synthetic import synthetic_records

    from attention_transport.harness.evaluate import evaluate
    from attention_transport.harness.report import Report, write_markdown

    rep = evaluate(synthetic_records(n_items=60), n_boot=30, n_splits=4)
    phi = rep.features["phi"]
    assert phi.coarse is not None and phi.coarse.n_pairs >= phi.n_pairs and phi.coarse.lc_auroc > 0.6
    assert phi.adjusted_auroc > 0.6 and phi.coarse.ci_low is not None
    assert all(layer.coarse is None for layer in phi.per_layer)  # per-layer rows stay descriptive
    probe = rep.probes["phi"]
    assert probe.coarse is not None and probe.adjusted_auroc is not None
    assert probe.coarse.n_pairs > probe.n_pairs  # the probe's coarse strata (fold × ⌊log₂ length⌋) are coarser
    # length alone: exactly 1/2 under both length controls; coarse strata let some length through
    ln = rep.baselines["length_unsupervised"]
    assert ln.lc_auroc == 0.5 and ln.adjusted_auroc == 0.5 and ln.coarse.n_pairs > ln.n_pairs
    path = tmp_path / "report.json"
    path.write_text(json.dumps(rep.to_json()))
    back = Report.from_json(json.loads(path.read_text()))
    assert back.features["phi"].coarse.lc_auroc == phi.coarse.lc_auroc
    assert back.features["phi"].adjusted_auroc == phi.adjusted_auroc
    assert "length-adjusted AUROC" in write_markdown(back)
