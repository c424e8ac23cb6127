"""The architectural signature (C8's last sentence): how many of a model's heads pierce the uniform floor.

The paper calls the floor "an idealized-architecture benchmark, not an empirical attractor: the
fraction of real attention heads that pierce it is itself an architectural signature". This
module measures that fraction on a run's *faithful* answers, so the hallucination effect does not
mix in. Every threshold is computed by the package, never typed in:

* ``floor``: prefix capacity φ below 1/5, the floor the paper states (C4);
* ``sharp``: φ below 5/17, the sharp all-n minimum of uniform causal attention (C4);
* ``bip``: bipartite capacity φ_bip below φ_bip* (C4b), computed by :func:`~attention_transport.numerics.constants.
  bipartite_star`.

For each threshold it reports the per-answer fraction of heads below it (heads with an undefined
value are left out) and the spread of that fraction over answers: mean, standard deviation and
quartiles, and per layer. The per-answer fractions for ``floor`` are kept too, so that two models
can be compared beyond the item-to-item spread (:func:`separation`).

Heads are also sorted by the shape of their landscape. A head is *window-like* on an answer when
its worst cut t*/n lies within :data:`BAND` of 1/2: a band pattern's minimum sits mid-sequence
(C5). It is *uniform-like* when t*/n lies within :data:`BAND` of x* (C3). It is neither
otherwise; sinks put t* near the start, for instance. Each class gets its share of heads and its
own piercing fraction.
"""
from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np

__all__ = ["BAND", "THRESHOLDS", "thresholds", "head_signature", "separation", "SEPARATED"]

#: half-width of the t*/n bands around 1/2 (window-like) and x* (uniform-like)
BAND = 0.05
#: which feature each threshold applies to
THRESHOLDS = {"floor": "phi", "sharp": "phi", "bip": "phi_bip"}
#: an AUROC between two models' per-answer fractions this far from 1/2 (≥ 0.9 or ≤ 0.1) separates them
SEPARATED = 0.4


def thresholds():
    """``{"floor": 1/5, "sharp": 5/17, "bip": φ_bip*}`` and ``x*`` as floats, from the package's own computations."""
    from attention_transport.numerics.constants import bipartite_star, x_star

    return {"floor": float(Fraction(1, 5)), "sharp": float(Fraction(5, 17)), "bip": float(bipartite_star(20)[0]),
            "x_star": float(x_star(20))}


def _fraction(below, defined, axes):
    with np.errstate(invalid="ignore", divide="ignore"):
        return below.sum(axis=axes) / defined.sum(axis=axes)


def _spread(values):
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"mean": None, "sd": None, "q25": None, "median": None, "q75": None, "n": 0}
    q25, med, q75 = np.percentile(values, [25, 50, 75])
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else None,
            "q25": float(q25), "median": float(med), "q75": float(q75), "n": int(values.size)}


def head_signature(features, labels):
    """The signature of one run from its per-head features.

    Parameters
    ----------
    features : dict of str → array (examples, layers, heads)
        At least ``phi``, ``phi_bip`` and ``t_star_over_n``.
    labels : array (examples,)
        1 = hallucinated; only the faithful answers (0) are used.

    Returns
    -------
    dict
        ``answers`` (faithful answers used), ``thresholds``, ``band``, per threshold name its
        ``overall`` spread, ``per_layer`` (mean and sd per layer) and, for ``floor``,
        ``per_answer`` (the fractions, 4 decimals); ``shape`` with the window- and uniform-like
        shares and their piercing fractions.
    """
    keep = np.asarray(labels) == 0
    t = thresholds()
    out = {"answers": int(keep.sum()), "thresholds": t, "band": BAND}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, feature in THRESHOLDS.items():
            values = np.asarray(features[feature], dtype=np.float64)[keep]
            defined = np.isfinite(values)
            below = defined & (values < t[name])
            per_answer = _fraction(below, defined, (1, 2))
            per_layer = _fraction(below, defined, 2)  # (answers, layers)
            entry = {"overall": _spread(per_answer),
                     "per_layer": {"mean": np.nanmean(per_layer, axis=0).tolist(),
                                   "sd": np.nanstd(per_layer, axis=0, ddof=1).tolist()}}
            if name == "floor":
                entry["per_answer"] = [round(float(v), 4) for v in per_answer[np.isfinite(per_answer)]]
            out[name] = entry
        phi = np.asarray(features["phi"], dtype=np.float64)[keep]
        where = np.asarray(features["t_star_over_n"], dtype=np.float64)[keep]
        defined = np.isfinite(phi) & np.isfinite(where)
        shape = {}
        for cls, centre in (("window_like", 0.5), ("uniform_like", t["x_star"])):
            member = defined & (np.abs(where - centre) <= BAND)
            pierced = member & (phi < t["floor"])
            shape[cls] = {"share": _spread(_fraction(member, defined, (1, 2))),
                          "heads": int(member.sum()),
                          "below_floor": float(pierced.sum() / member.sum()) if member.any() else None}
        out["shape"] = shape
    return out


def separation(a, b):
    """How well the per-answer floor fractions of two signatures separate: ``(auroc, separated)``.

    ``auroc`` is the probability that a random answer of ``a`` has more heads below the floor than
    one of ``b`` (ties count half); ``separated`` when it is at least 0.9 or at most 0.1, i.e. the
    two distributions overlap little beyond the item-to-item spread. None when either has no answers.

    >>> separation({"floor": {"per_answer": [0.5, 0.6, 0.7]}}, {"floor": {"per_answer": [0.1, 0.2]}})
    (1.0, True)
    """
    x = np.asarray(a["floor"].get("per_answer", []), dtype=np.float64)
    y = np.asarray(b["floor"].get("per_answer", []), dtype=np.float64)
    if x.size == 0 or y.size == 0:
        return None, False
    ys = np.sort(y)
    greater = np.searchsorted(ys, x, side="left").sum()
    ties = (np.searchsorted(ys, x, side="right") - np.searchsorted(ys, x, side="left")).sum()
    auroc = float((greater + 0.5 * ties) / (x.size * y.size))
    return auroc, abs(auroc - 0.5) >= SEPARATED
