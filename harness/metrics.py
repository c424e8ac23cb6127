"""Evaluation: length-controlled AUROC (docs/theory.md §3), polarity, bootstrap intervals, grouped probes.

Label convention: 1 = hallucinated, 0 = faithful.  A score "separates" the
classes when its AUROC differs from 1/2; its *polarity* is the sign of
``AUROC − 1/2`` (+1: hallucinated responses score higher).

Length control.  LC-AUROC compares (hallucinated, faithful) pairs only within
a stratum of equal response token length, so that length alone scores exactly
1/2: inside a stratum every length is the same and ties count one half.  The
strata and the *coverage* (fraction of examples in strata that hold both
classes) are reported with every value.

Sensitivity analyses, reported beside the exact-length LC-AUROC: the same
statistic on *coarsened* strata (:func:`coarse_lengths`: lengths 1, 2–3, 4–7,
8–15, …), which compares more pairs at the price of letting length differ
within a stratum; and a *regression-adjusted* AUROC (:func:`length_adjusted_auroc`),
the plain AUROC of scores residualised on a cubic spline of length, the spline
fitted on the training folds only.

Requires the optional ``harness`` extra (scikit-learn).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attention_transport.errors import AttentionTransportError

__all__ = ["LCAUROC", "lc_auroc", "stratum_items", "polarity", "bootstrap_ci", "grouped_probe", "coarse_lengths",
           "length_adjusted_auroc", "item_folds"]


@dataclass(frozen=True)
class LCAUROC:
    """Length-controlled AUROC with its strata.

    Attributes
    ----------
    value : float
        Pair-weighted AUROC over within-stratum pairs; ``nan`` when no stratum
        holds both classes.
    n_pairs : int
        Number of (hallucinated, faithful) pairs compared.
    coverage : float
        Fraction of examples in strata that hold both classes.
    strata : list of (length, n_hallucinated, n_faithful)
        Every stratum with both classes, sorted by length.
    """

    value: float
    n_pairs: int
    coverage: float
    strata: list

    def as_dict(self):
        return {"lc_auroc": self.value, "n_pairs": self.n_pairs, "coverage": self.coverage,
                "strata": [{"length": int(s[0]), "n_hallucinated": int(s[1]), "n_faithful": int(s[2])}
                           for s in self.strata]}


def _check(scores, labels, lengths=None):
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels)
    if scores.ndim != 1 or labels.shape != scores.shape:
        raise AttentionTransportError(f"scores and labels must be 1-D of equal length; got shapes {scores.shape} "
                                      f"and {labels.shape}.")
    if not np.isin(labels, (0, 1)).all():
        bad = labels[~np.isin(labels, (0, 1))][0]
        raise AttentionTransportError(f"labels must be 0 (faithful) or 1 (hallucinated); got {bad.item()!r}.")
    if np.isnan(scores).any():
        raise AttentionTransportError(f"scores must not be NaN; got {int(np.isnan(scores).sum())} NaN values.")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != scores.shape:
            raise AttentionTransportError(f"lengths must match scores; got shapes {lengths.shape} and {scores.shape}.")
    return scores, labels.astype(int), lengths


def lc_auroc(scores, labels, lengths):
    """Length-controlled AUROC: pairs compared only within equal-length strata.

    .. math::
        \\mathrm{LC\\text{-}AUROC} = \\frac{\\sum_s \\sum_{i \\in P_s, j \\in N_s}
        [\\,\\mathbb 1(x_i > x_j) + \\tfrac12 \\mathbb 1(x_i = x_j)\\,]}{\\sum_s |P_s|\\,|N_s|}

    Parameters
    ----------
    scores : array_like, shape (m,)
    labels : array_like of {0, 1}, shape (m,)
        1 = hallucinated.
    lengths : array_like of int, shape (m,)
        Response length in tokens (the stratum key).

    Returns
    -------
    LCAUROC

    Raises
    ------
    ValueError
        Mismatched shapes, labels outside {0, 1}, NaN scores.

    Notes
    -----
    Per stratum the win count is the Mann–Whitney statistic from mid-ranks
    (``scipy.stats.rankdata``; ties count one half), equal to scikit-learn's
    ``roc_auc_score`` times ``|P_s| |N_s|``, so the value is the pair-weighted
    mean of the per-stratum AUROCs.  ``±inf`` scores are ranked like any
    other value.
    """
    from scipy.stats import rankdata

    scores, labels, lengths = _check(scores, labels, lengths)
    wins = 0.0
    pairs = 0
    covered = 0
    strata = []
    order = np.argsort(lengths, kind="stable")
    keys, starts, counts = np.unique(lengths[order], return_index=True, return_counts=True)
    for length, start, count in zip(keys, starts, counts):
        idx = order[start:start + count]
        lab = labels[idx]
        n_pos = int(lab.sum())
        n_neg = int(count) - n_pos
        if n_pos == 0 or n_neg == 0:
            continue
        ranks = rankdata(scores[idx])
        wins += float(ranks[lab == 1].sum()) - n_pos * (n_pos + 1) / 2
        pairs += n_pos * n_neg
        covered += int(count)
        strata.append((length, n_pos, n_neg))
    value = wins / pairs if pairs else float("nan")
    coverage = covered / len(scores) if len(scores) else float("nan")
    return LCAUROC(value=float(value), n_pairs=int(pairs), coverage=coverage, strata=strata)


def stratum_items(labels, lengths, groups):
    """Distinct items (groups) with an example in a stratum that holds both classes: the items behind the pairs.

    >>> stratum_items([0, 1, 0, 1, 0], [3, 3, 4, 5, 5], ["a", "b", "c", "d", "d"])
    3
    """
    labels, lengths, groups = np.asarray(labels), np.asarray(lengths), np.asarray(groups)
    items = set()
    for length in np.unique(lengths):
        idx = lengths == length
        if len(np.unique(labels[idx])) == 2:
            items.update(groups[idx].tolist())
    return len(items)


def polarity(auroc, tol=0.0):
    """Sign of ``AUROC − 1/2``: +1, −1, or 0 within ``tol`` (nan stays nan)."""
    if auroc != auroc:  # nan
        return float("nan")
    d = auroc - 0.5
    return 0 if abs(d) <= tol else (1 if d > 0 else -1)


def bootstrap_ci(scores, labels, lengths, groups, *, n_boot=1000, level=0.95, seed=0):
    """Percentile bootstrap interval of LC-AUROC, resampling *items* (groups) with replacement.

    Both answers of an item stay together, as in the grouped folds.

    Returns
    -------
    (low, high) : floats; ``nan`` if fewer than 2 resamples had a defined value.
    """
    scores, labels, lengths = _check(scores, labels, lengths)
    groups = np.asarray(groups)
    uniq, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(uniq))]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = np.concatenate([members[g] for g in rng.integers(0, len(uniq), len(uniq))])
        v = lc_auroc(scores[pick], labels[pick], lengths[pick]).value
        if v == v:
            values.append(v)
    if len(values) < 2:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))


def coarse_lengths(lengths):
    """Coarsened length strata: ``⌊log₂ length⌋`` (1 | 2–3 | 4–7 | 8–15 | …).

    >>> coarse_lengths([1, 2, 3, 4, 7, 8, 100]).tolist()
    [0, 1, 1, 2, 2, 3, 6]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if np.any(lengths < 1):
        raise AttentionTransportError(f"response lengths must be >= 1 token; got {int(lengths.min())}.")
    return np.floor(np.log2(lengths)).astype(np.int64)


def item_folds(groups, n_splits, seed):
    """Fold index of every example, folds grouped by item (the split :func:`grouped_probe` uses)."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    fold_of = np.empty(len(groups), dtype=np.int64)
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(groups)), groups=groups)):
        fold_of[test] = k
    return fold_of


#: knots of the length spline in :func:`length_adjusted_auroc`
SPLINE_KNOTS = 5


def length_adjusted_auroc(scores, labels, lengths, fold_of):
    """Plain AUROC of the scores residualised on a cubic spline of response length, cross-fitted.

    For each fold, a cubic spline of the length in tokens (:data:`SPLINE_KNOTS`
    uniform knots, least squares) is fitted to the *other* folds' scores (labels
    are not used), and the fold's scores minus the fitted values are its
    residuals; the AUROC is taken over all residuals.  A cubic spline reproduces
    every cubic in length, so length itself, or any affine function of it, leaves
    zero residuals and scores exactly 1/2 (residuals within 1e-9 of the score
    scale count as zero).  A fold whose training lengths are all equal is centred
    on their mean instead.  NaN scores are dropped.

    Returns
    -------
    (float, int) : the AUROC (NaN when one class is missing) and the examples used.
    """
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    scores, y = np.asarray(scores, dtype=float), np.asarray(labels)
    x = np.asarray(lengths, dtype=float)[:, None]
    ok = np.isfinite(scores)
    resid = np.full(len(scores), np.nan)
    for k in np.unique(fold_of):
        test, train = ok & (fold_of == k), ok & (fold_of != k)
        if not test.any() or not train.any():
            continue
        if np.ptp(x[train]) == 0:
            resid[test] = scores[test] - scores[train].mean()
            continue
        model = make_pipeline(SplineTransformer(n_knots=SPLINE_KNOTS, degree=3, extrapolation="linear"),
                              LinearRegression())
        model.fit(x[train], scores[train])
        resid[test] = scores[test] - model.predict(x[test])
    used = np.isfinite(resid)
    # a residual within rounding of zero is zero: a score that is a cubic in length (length itself) ties
    scale = np.abs(scores[ok]).max() if ok.any() else 1.0
    resid[used & (np.abs(resid) <= 1e-9 * max(scale, 1.0))] = 0.0
    if len(set(y[used].tolist())) < 2:
        return float("nan"), int(used.sum())
    return float(roc_auc_score(y[used], resid[used])), int(used.sum())


def grouped_probe(features, labels, groups, lengths, *, n_splits=5, seed=0):
    """Cross-validated probe: standardise + logistic regression, folds grouped by item.

    Parameters
    ----------
    features : array_like, shape (m, k)
    labels, groups, lengths : array_like, shape (m,)
        ``groups`` identifies the item; an item's two answers never straddle
        train and test.

    Returns
    -------
    dict
        ``auroc`` (pooled) and ``lc_auroc`` of the out-of-fold probabilities,
        ``n_splits``, ``folds`` (the test-set item ids per fold, for auditing),
        ``oof`` (the out-of-fold probabilities, an array aligned with
        ``labels``), ``strata_key`` (the (fold, length) stratum of each
        example, for :func:`bootstrap_ci`), ``coarse_key`` (the (fold, coarse
        length) stratum) and ``fold_of`` (each example's fold).

    Notes
    -----
    Non-finite feature values (e.g. φ of a one-token response) are imputed with
    the training folds' median inside the pipeline, so no test value leaks.

    LC-AUROC of a probe compares pairs within the same length stratum *and the
    same fold*: probabilities of different fold models are not on one scale,
    and only within a fold does a length-only probe score exactly 1/2.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.array(features, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    X[~np.isfinite(X)] = np.nan
    _, y, lengths = _check(np.zeros(len(X)), labels, lengths)
    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise AttentionTransportError(f"grouped probe needs at least n_splits = {n_splits} items; got {n_groups}.")
    oof = np.empty(len(y))
    fold_of = item_folds(groups, n_splits, seed)
    folds = []
    for k in range(n_splits):
        test, train = fold_of == k, fold_of != k
        model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                              LogisticRegression(max_iter=2000, class_weight="balanced"))
        model.fit(X[train], y[train])
        oof[test] = model.predict_proba(X[test])[:, 1]
        folds.append(sorted(set(groups[test].tolist())))
    key = fold_of * (int(np.max(lengths)) + 1) + np.asarray(lengths, dtype=np.int64)
    coarse = coarse_lengths(lengths)
    coarse_key = fold_of * (int(np.max(coarse)) + 1) + coarse
    lc = lc_auroc(oof, y, key)
    return {"auroc": float(roc_auc_score(y, oof)),
            "lc_auroc": {"lc_auroc": lc.value, "n_pairs": lc.n_pairs, "coverage": lc.coverage},
            "n_splits": n_splits, "folds": folds, "oof": oof, "strata_key": key, "coarse_key": coarse_key,
            "fold_of": fold_of}
