"""Evaluation of a validation run's feature records: LC-AUROC per feature and layer, probes, baselines, polarity.

Given labels (1 = hallucinated), items and response lengths in tokens:

* per scalar feature, unsupervised: LC-AUROC and polarity of the all-heads
  mean, with an item-grouped bootstrap interval, and per layer (mean over that
  layer's heads);
* per probe group (:func:`~attention_transport.harness.features.probe_groups`):
  a cross-validated probe (median imputation, standardisation, logistic
  regression; folds grouped by item) with the LC-AUROC of its out-of-fold
  probabilities (pairs within one length stratum and one fold) and a bootstrap
  interval;
* the baselines on the same attention maps, and response length alone (which
  scores exactly 1/2 under LC-AUROC by construction; its plain AUROC shows how
  much length alone would give away);
* beside every all-heads and probe score, two sensitivity analyses of the length
  control: LC-AUROC on coarsened strata (lengths 1, 2–3, 4–7, …; its own
  interval) and the AUROC of scores residualised on a cubic spline of length
  fitted on the other folds (:func:`~.metrics.length_adjusted_auroc`).

Every score carries its support (pairs and items); below
:data:`~attention_transport.harness.report.MIN_PAIRS` pairs or
:data:`~attention_transport.harness.report.MIN_ITEMS` items it is reported as
insufficient, not as a number.
"""
from __future__ import annotations

import warnings

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.harness.features import FEATURES, feature_names, probe_groups
from attention_transport.harness.metrics import (
    bootstrap_ci,
    coarse_lengths,
    grouped_probe,
    item_folds,
    lc_auroc,
    length_adjusted_auroc,
    polarity,
    stratum_items,
)
from attention_transport.harness.report import MIN_ITEMS, Report, Score, Strata, support
from attention_transport.harness.signature import head_signature

__all__ = ["evaluate", "polarity_summary", "complete_items", "score_vector"]


def complete_items(records):
    """Keep the examples whose item has both answers (the unit of pairing and of the folds)."""
    by_item = {}
    for rec in records:
        by_item.setdefault(str(rec["item_id"]), set()).add(int(rec["label"]))
    return [rec for rec in records if by_item[str(rec["item_id"])] == {0, 1}]


def _lc_score(scores, y, key, groups, *, n_boot, seed, **extra):
    """LC-AUROC of ``scores`` over the strata ``key``, with its bootstrap interval where the support allows."""
    lc = lc_auroc(scores, y, key)
    items = stratum_items(y, key, groups)
    lo = hi = float("nan")
    if n_boot and support(lc.n_pairs, items) is None:
        lo, hi = bootstrap_ci(scores, y, key, groups, n_boot=n_boot, seed=seed)
    return Score(lc_auroc=lc.value, polarity=polarity(lc.value), ci_low=lo, ci_high=hi, n_pairs=lc.n_pairs,
                 n_items=items, **extra)


def _adjusted(scores, y, lengths, groups, fold_of):
    """The length-adjusted AUROC, or None below the support a score needs (:data:`~.report.MIN_ITEMS` items)."""
    value, used = length_adjusted_auroc(scores, y, lengths, fold_of)
    ok = np.isfinite(scores)
    return value if len(set(groups[ok].tolist())) >= MIN_ITEMS and used else None


def _score(scores, y, lengths, groups, *, n_boot, seed, fold_of=None, **extra):
    """Score of one unsupervised score vector; NaN (undefined feature) is dropped, ±inf ranks like any value.

    With ``fold_of`` (each example's item-grouped fold) the two sensitivity analyses are added:
    coarsened strata and the length-adjusted AUROC."""
    ok = ~np.isnan(scores)
    if fold_of is not None:
        extra["coarse"] = _lc_score(scores[ok], y[ok], coarse_lengths(lengths[ok]), groups[ok], n_boot=n_boot,
                                    seed=seed)
        extra["adjusted_auroc"] = _adjusted(scores, y, lengths, groups, fold_of)
    return _lc_score(scores[ok], y[ok], lengths[ok], groups[ok], n_boot=n_boot, seed=seed, n_used=int(ok.sum()),
                     **extra)


def _direction(stack, y, lengths, groups, *, n_splits, seed, n_boot):
    """How much of G's signal the diagonal carries (C7d: on a causal head G is a function of the diagonal share).

    The rank correlation over answers of G with the attention-score baseline (mean log a_ii),
    all heads pooled and per head (median over heads), and the probe on the attention score
    with and without G added: the gain is what G tells beyond the diagonal."""
    from scipy.stats import spearmanr

    G, diag = stack["G"], stack["attn_score"]
    flat_g, flat_d = G.reshape(len(y), -1), diag.reshape(len(y), -1)

    def rho(a, b):
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
            return float("nan")
        return float(spearmanr(a[ok], b[ok]).statistic)

    pooled = rho(np.nanmean(flat_g, axis=1), np.nanmean(np.where(np.isfinite(flat_d), flat_d, np.nan), axis=1))
    per_head = [rho(flat_g[:, h], flat_d[:, h]) for h in range(flat_g.shape[1])]
    res = grouped_probe(np.concatenate([flat_d, flat_g], axis=1), y, groups, lengths, n_splits=n_splits, seed=seed)
    both = _lc_score(res["oof"], y, res["strata_key"], groups, n_boot=n_boot, seed=seed, auroc=res["auroc"],
                     n_features=int(flat_d.shape[1] + flat_g.shape[1]), n_splits=n_splits)
    return {"spearman_all_heads": pooled, "spearman_per_head_median": float(np.nanmedian(per_head))
            if np.isfinite(per_head).any() else None, "attn_score_plus_G": both.to_json()}


def score_vector(scores, labels, lengths, groups, *, n_boot=500, seed=0):
    """LC-AUROC of one score per example, with its item-grouped interval and support (NaN dropped)."""
    return _score(np.asarray(scores, dtype=np.float64), np.asarray(labels), np.asarray(lengths), np.asarray(groups),
                  n_boot=n_boot, seed=seed)


def evaluate(records, *, n_boot=500, n_splits=5, seed=0, lambda2=False, model="", benchmark=""):
    """Unsupervised per-feature LC-AUROC (all heads and per layer), probes per group, baselines.

    Parameters
    ----------
    records : list of dict
        Feature records as written by :func:`~attention_transport.harness.validate.run_features`.
    lambda2 : bool
        Whether ``lambda2`` was computed (else it is left out).

    Returns
    -------
    Report
        With ``n_items``, ``n_examples``, ``strata``, ``features`` (unsupervised, with
        ``per_layer``), ``probes`` (transport groups), ``baselines`` (baseline groups and
        the ``<feature>_unsupervised`` scores of the baseline features), ``heads``
        (per-head class means of φ and G, for the two-axis figure).

    Raises
    ------
    AttentionTransportError
        Fewer than ``n_splits`` complete items.
    """
    records = complete_items(records)
    y = np.array([int(r["label"]) for r in records])
    groups = np.array([str(r["item_id"]) for r in records])
    lengths = np.array([int(r["response_len"]) for r in records])
    n_items = len(set(groups.tolist()))
    if n_items < max(n_splits, 2):
        raise AttentionTransportError(f"evaluation needs at least {max(n_splits, 2)} items with both answers; "
                                      f"got {n_items}.")
    names = [f for f in feature_names(scalar=True) if lambda2 or f != "lambda2"]
    stack = {name: np.stack([r[name] for r in records]).astype(np.float64) for name in names}
    vectors = {name: np.stack([r[name] for r in records]).astype(np.float64)
               for name in FEATURES if name not in stack and name != "lambda2"}
    n_layers = stack["phi"].shape[1]

    strata = lc_auroc(lengths.astype(float), y, lengths)
    fold_of = item_folds(groups, n_splits, seed)  # the probes' folds; the length spline is fitted across them
    features, probes, baselines = {}, {}, {}
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (undefined feature) give NaN, dropped
        for name in names:
            per_head = stack[name]
            overall = np.nanmean(per_head.reshape(len(records), -1), axis=1)
            layers = [_score(np.nanmean(per_head[:, layer], axis=1), y, lengths, groups, n_boot=0, seed=seed,
                             layer=layer) for layer in range(n_layers)]
            features[name] = _score(overall, y, lengths, groups, n_boot=n_boot, seed=seed, per_layer=layers,
                                    fold_of=fold_of)

    length_scores = lengths.astype(float)
    from sklearn.metrics import roc_auc_score

    # with the sensitivity analyses: 1/2 adjusted by construction, and its coarse-strata value shows how much
    # length leaks inside a coarse stratum
    baselines["length_unsupervised"] = _score(length_scores, y, lengths, groups, n_boot=0, seed=seed,
                                              auroc=float(roc_auc_score(y, length_scores)), fold_of=fold_of)
    for group, (kind, members) in probe_groups().items():
        used = [f for f in members if f in stack or f in vectors]
        if group == "length":
            X = length_scores[:, None]
        else:
            X = np.concatenate([(stack[f] if f in stack else vectors[f]).reshape(len(records), -1) for f in used],
                               axis=1)
        res = grouped_probe(X, y, groups, lengths, n_splits=n_splits, seed=seed)
        coarse = _lc_score(res["oof"], y, res["coarse_key"], groups, n_boot=n_boot, seed=seed)
        score = _lc_score(res["oof"], y, res["strata_key"], groups, n_boot=n_boot, seed=seed, auroc=res["auroc"],
                          n_features=int(X.shape[1]), n_splits=n_splits, coarse=coarse,
                          adjusted_auroc=_adjusted(res["oof"], y, lengths, groups, res["fold_of"]))
        (probes if kind == "transport" else baselines)[group] = score
    direction = _direction(stack, y, lengths, groups, n_splits=n_splits, seed=seed, n_boot=n_boot)
    for name in names:
        if FEATURES[name].family == "baseline":
            s = features[name]
            baselines[f"{name}_unsupervised"] = Score(**{**vars(s), "per_layer": []})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        heads = {f: {"faithful": np.nanmean(stack[f][y == 0], axis=0).tolist(),
                     "hallucinated": np.nanmean(stack[f][y == 1], axis=0).tolist()} for f in ("phi", "G")}
    return Report(model=model, benchmark=benchmark, data="", seed=seed, limit=None, n_items=n_items,
                  n_examples=len(records),
                  strata=Strata(coverage=strata.coverage, n_pairs=strata.n_pairs, n_strata=len(strata.strata),
                                strata=strata.as_dict()["strata"]),
                  features=features, probes=probes, baselines=baselines, heads=heads,
                  signature=head_signature(stack, y), direction=direction)


def polarity_summary(reports, feature="phi"):
    """C8's polarity test across benchmarks: the sign of ``feature``'s effect per benchmark.

    Parameters
    ----------
    reports : list of Report

    Returns
    -------
    dict
        ``feature``, ``per_benchmark`` (benchmark → LC-AUROC, CI, polarity, whether
        the CI excludes 1/2, and why a score is missing), ``signs`` (the distinct
        non-zero signs among benchmarks whose CI excludes 1/2) and ``reversal``
        (True when both signs occur with intervals excluding 1/2; False otherwise —
        "no reversal seen", which includes effects too small to sign or too thinly
        supported to report).
    """
    per = {}
    for rep in reports:
        s = rep.features[feature]
        per[rep.benchmark] = {"model": rep.model, "lc_auroc": s.lc_auroc, "ci_low": s.ci_low, "ci_high": s.ci_high,
                              "polarity": s.polarity, "ci_excludes_half": s.ci_excludes_half,
                              "insufficient": s.insufficient}
    signs = sorted({v["polarity"] for v in per.values() if v["ci_excludes_half"] and v["polarity"] in (1, -1)})
    return {"feature": feature, "per_benchmark": per, "signs": signs, "reversal": signs == [-1, 1]}
