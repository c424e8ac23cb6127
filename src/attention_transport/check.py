"""The transport report behind ``attention-transport check``.

One record per (pattern or matrix, n), with the quantities of docs/theory.md §1:
prefix capacity φ and worst cut t*, bipartite capacity φ_bip and (a*, b*),
asymmetry coefficient G, Fiedler value λ₂ and the Cheeger sandwich.  Quantities
that need the dense n×n matrix or an O(n³) eigensolver are skipped beyond
stated size limits, and the record says which and why.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.exact import exact_prefix_capacity
from attention_transport.numerics.landscapes import (
    bipartite_minimum,
    prefix_landscape,
    prefix_landscape_from_sums,
)
from attention_transport.numerics.operators import asymmetry_coefficient, validate_attention
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.spectral import CHEEGER_EXACT_AUTO_N, cheeger_bounds

__all__ = [
    "FLOOR",
    "DENSE_MAX_N",
    "SPECTRAL_MAX_N",
    "EXACT_MAX_N",
    "check_pattern",
    "check_matrix",
    "load_matrix",
    "scaling_summary",
    "floor_decision",
]

#: The paper's capacity floor for uniform causal attention (C4).
FLOOR = 0.2
#: Largest n for which a pattern's dense matrix is built (bipartite landscape, G).
DENSE_MAX_N = 4096
#: Largest n for the O(n³) eigensolver (λ₂, Cheeger sandwich).
SPECTRAL_MAX_N = 2048
#: Largest n for the exact rational prefix capacity of mask-uniform patterns.
EXACT_MAX_N = 64
#: ``|φ − 1/5|`` below this is a tie that float64 cannot decide.
FLOOR_TIE = 1e-12
#: Ties with the floor are decided in exact arithmetic up to this n.
EXACT_DECIDE_MAX_N = 400
#: The floor-crossing scan visits every n up to this bound (random-softmax: less).
SCAN_MAX_N = 4096


def _prefix_fields(land, n):
    return {
        "phi": land.capacity,
        "t_star": land.t_star,
        "t_star_over_n": land.t_star / n,
        "causal": bool(land.causal),
    }


def floor_decision(pattern, n, phi):
    """Whether ``φ < 1/5``, decided in exact arithmetic when float64 is within rounding.

    Parameters
    ----------
    pattern : Pattern or None
        Exact arithmetic needs a mask-uniform pattern (``pattern.rational``).
    n : int
    phi : float
        The float64 prefix capacity.

    Returns
    -------
    bool or None
        ``None`` when ``|φ − 1/5| ≤ FLOOR_TIE`` and no exact decision is available.

    Examples
    --------
    >>> from attention_transport.numerics.patterns import parse_pattern
    >>> floor_decision(parse_pattern("window:w=16"), 38, 0.19999999999999998)  # φ₃₈ = 1/5 exactly
    False
    """
    if abs(phi - FLOOR) > FLOOR_TIE:
        return bool(phi < FLOOR)
    if pattern is not None and pattern.rational and n <= EXACT_DECIDE_MAX_N:
        return exact_prefix_capacity(pattern.exact_dense(n))[0] < Fraction(1, 5)
    return None


def _dense_fields(A, rec, skipped, spectral_max):
    n = A.shape[0]
    bm = bipartite_minimum(A)
    rec.update(phi_bip=bm.phi, a_star=bm.a_star, b_star=bm.b_star,
               a_star_over_n=bm.a_star / n, b_star_over_n=bm.b_star / n)
    try:
        rec["G"] = asymmetry_coefficient(A)
    except ValueError as exc:  # zero-degree vertex: N undefined
        skipped["G"] = str(exc)
    if n > spectral_max:
        reason = f"n = {n} exceeds the spectral limit {spectral_max} (dense O(n³) eigensolver)"
        for key in ("lambda2", "cheeger_lower", "cheeger_upper", "cheeger_exact"):
            skipped[key] = reason
        return
    try:
        cb = cheeger_bounds(A, exact_max_n=CHEEGER_EXACT_AUTO_N)
    except ValueError as exc:
        for key in ("lambda2", "cheeger_lower", "cheeger_upper", "cheeger_exact"):
            skipped[key] = str(exc)
        return
    rec.update(lambda2=cb.lambda2, cheeger_lower=cb.lower, cheeger_upper=cb.upper,
               cheeger_upper_spectral=cb.upper_spectral, cheeger_upper_sweep=cb.upper_sweep,
               cheeger_exact=cb.exact)
    if cb.exact is None:
        skipped["cheeger_exact"] = f"n = {n} exceeds the enumeration limit {CHEEGER_EXACT_AUTO_N}"


_DENSE_KEYS = ("phi_bip", "a_star", "b_star", "a_star_over_n", "b_star_over_n", "G", "lambda2",
               "cheeger_lower", "cheeger_upper", "cheeger_exact")


_KEY_ORDER = ("source", "n", "dtype", "causal", "phi", "phi_exact", "t_star", "t_star_exact",
              "t_star_over_n", "below_floor") + _DENSE_KEYS + (
              "cheeger_upper_spectral", "cheeger_upper_sweep", "skipped")


def _empty_record(source, n):
    rec = {"source": source, "n": n}
    rec.update({k: None for k in _DENSE_KEYS})
    return rec


def _ordered(rec):
    keys = [k for k in _KEY_ORDER if k in rec] + [k for k in rec if k not in _KEY_ORDER]
    return {k: rec[k] for k in keys}


def check_pattern(spec, n, *, dense_max=DENSE_MAX_N, spectral_max=SPECTRAL_MAX_N):
    """Transport report of a pattern at one n.

    Parameters
    ----------
    spec : str or Pattern
        Pattern spec such as ``"window:w=16"``.
    n : int
        Number of tokens, ``n ≥ 2``.
    dense_max, spectral_max : int
        Size limits for the dense and the eigensolver quantities.

    Returns
    -------
    dict
        JSON-ready record; ``skipped`` maps each omitted quantity to the reason.
    """
    pattern = parse_pattern(spec) if isinstance(spec, str) else spec
    sums = pattern.sums(n)
    land = prefix_landscape_from_sums(sums.r, sums.c, sums.s, sums.u)
    rec = _empty_record(pattern.spec, n)
    rec.update(_prefix_fields(land, n))
    skipped = {}
    if pattern.rational and n <= EXACT_MAX_N:
        phi_q, t_q = exact_prefix_capacity(pattern.exact_dense(n))
        rec["phi_exact"] = f"{phi_q.numerator}/{phi_q.denominator}"
        rec["t_star_exact"] = t_q
        rec["below_floor"] = phi_q < Fraction(1, 5)
    else:
        rec["below_floor"] = floor_decision(pattern, n, land.capacity)
    if n > dense_max:
        reason = f"n = {n} exceeds the dense limit {dense_max} (needs the n×n matrix)"
        for key in _DENSE_KEYS:
            skipped[key] = reason
    else:
        _dense_fields(pattern.dense(n), rec, skipped, spectral_max)
    rec["skipped"] = skipped
    return _ordered(rec)


def _unreadable(path, read):
    """``read()``, with numpy's errors on a corrupt file turned into the package's one-line error."""
    import zipfile

    try:
        return read()
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, AttentionTransportError):
            raise
        raise AttentionTransportError(f"{path} is not a readable {path.suffix} array file: "
                                      f"{' '.join(str(exc).split()) or type(exc).__name__}.") from None


def load_matrix(path, key=None):
    """Read an attention matrix from ``.npy`` or ``.npz`` (float16/32/64).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    AttentionTransportError
        Unknown extension, a corrupt file, a missing or ambiguous ``.npz`` key, or
        a dtype other than float16/32/64.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"matrix file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if key is not None:
            raise AttentionTransportError(f"--key applies to .npz archives; got --key {key!r} for {path}.")
        arr = _unreadable(path, lambda: np.load(path, allow_pickle=False))
    elif suffix == ".npz":
        with _unreadable(path, lambda: np.load(path, allow_pickle=False)) as archive:
            names = list(archive.files)
            if key is None:
                if len(names) != 1:
                    raise AttentionTransportError(f"{path} holds {len(names)} arrays ({', '.join(names) or 'none'}); "
                                                  "choose one with --key.")
                key = names[0]
            if key not in names:
                raise AttentionTransportError(f"{path} has no array {key!r}; it holds: {', '.join(names)}.")
            arr = _unreadable(path, lambda: archive[key])
    else:
        raise AttentionTransportError(f"matrix file must be .npy or .npz; got {path.name!r}.")
    if arr.dtype not in (np.float16, np.float32, np.float64):
        raise AttentionTransportError(f"matrix dtype must be float16, float32 or float64; got {arr.dtype} in {path}.")
    return arr


def check_matrix(A, *, source="matrix", row_tol="auto", spectral_max=SPECTRAL_MAX_N):
    """Transport report of a given attention matrix.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Row-stochastic within ``row_tol`` (``"auto"``: by dtype, see
        :data:`~attention_transport.numerics.operators.ROW_SUM_TOLERANCE`;
        ``None``: unchecked).
    """
    A = validate_attention(A, row_tol=row_tol, dtype=None)
    n = A.shape[0]
    rec = _empty_record(source, n)
    rec["dtype"] = str(A.dtype)
    rec.update(_prefix_fields(prefix_landscape(A), n))
    skipped = {}
    rec["below_floor"] = floor_decision(None, n, rec["phi"])
    if rec["below_floor"] is None:
        skipped["below_floor"] = f"φ is within {FLOOR_TIE:g} of 1/5; float64 cannot decide"
    _dense_fields(A.astype(np.float64), rec, skipped, spectral_max)
    rec["skipped"] = skipped
    return _ordered(rec)


def scaling_summary(spec, records, *, scan_max=SCAN_MAX_N):
    """Scaling of φ(n) over several records of one pattern.

    Returns
    -------
    dict
        ``exponent``: least-squares slope of log φ against log n over the given
        n (``None`` with fewer than two distinct n or a zero φ);
        ``first_n_below_floor``: the first n with φ(n) < 1/5 in an exhaustive
        scan of ``n = 2..scanned_up_to`` (``None`` if none there), where
        ``scanned_up_to = min(max n, scan_max)``, ties with 1/5 decided by
        :func:`floor_decision` (``undecided_n`` lists those it could not);
        ``given_n_below_floor``: the given n with φ < 1/5.
    """
    pattern = parse_pattern(spec) if isinstance(spec, str) else spec
    ns = np.array([r["n"] for r in records], dtype=float)
    phis = np.array([r["phi"] for r in records], dtype=float)
    exponent = None
    if len(set(ns)) >= 2 and np.all(phis > 0):
        exponent = float(np.polyfit(np.log(ns), np.log(phis), 1)[0])
    limit = scan_max if pattern.name != "random-softmax" else min(scan_max, 256)
    top = int(min(ns.max(), limit))
    first = None
    undecided = []
    for m in range(2, top + 1):
        s = pattern.sums(m)
        below = floor_decision(pattern, m, prefix_landscape_from_sums(s.r, s.c, s.s, s.u).capacity)
        if below is None:
            undecided.append(m)
        elif below:
            first = m
            break
    return {
        "exponent": exponent,
        "first_n_below_floor": first,
        "scanned_up_to": top,
        "undecided_n": undecided,
        "given_n_below_floor": [int(r["n"]) for r in records if r["below_floor"]],
    }
