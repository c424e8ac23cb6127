"""Attention matrices as transport graphs: validation, degrees and the operators N, S, K.

Definitions follow docs/theory.md §1.  For a nonnegative ``(n, n)`` matrix ``A``
(rows = queries, columns = keys):

* row sums ``r = A 1`` (query degrees), column sums ``c = Aᵀ 1`` (key degrees);
* merged degree ``d = (r + c) / 2`` of the symmetrised graph ``W = (A + Aᵀ) / 2``;
* ``N = D^{-1/2} A D^{-1/2}``, ``S = (N + Nᵀ) / 2``, ``K = (N − Nᵀ) / 2``;
* asymmetry coefficient ``G = ‖K‖_F / ‖S‖_F``.

Conventions
-----------
Every public function validates its input once with :func:`validate_attention`.
A vertex with ``d_i = 0`` (row *and* column ``i`` both zero) has no
normalisation; functions that need ``D^{-1/2}`` raise ``ValueError`` for it
rather than silently restricting to the support.
"""
from __future__ import annotations

import numpy as np

from attention_transport.errors import AttentionTransportError, BadType

__all__ = [
    "ROW_SUM_TOLERANCE",
    "validate_attention",
    "row_sums",
    "column_sums",
    "merged_degrees",
    "is_causal",
    "normalised_operator",
    "symmetric_part",
    "antisymmetric_part",
    "asymmetry_coefficient",
]

#: Default tolerance on ``|r_i − 1|`` when row-stochasticity is checked, per
#: input dtype.  Half precision rows of real attention sum to 1 only to about
#: 1e-2 (softmax in float16), single precision to about 1e-6.
ROW_SUM_TOLERANCE = {
    np.dtype(np.float16): 2e-2,
    np.dtype(np.float32): 1e-5,
    np.dtype(np.float64): 1e-9,
}


def validate_attention(A, *, row_tol=None, name="A", min_n=2, dtype=np.float64):
    """Check that ``A`` is a usable attention matrix and return it as an array.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Nonnegative matrix, rows = queries, columns = keys.
    row_tol : float, "auto" or None
        ``None`` (default): row sums are not checked.  A float: every row sum
        must lie within ``row_tol`` of 1.  ``"auto"``: the tolerance of
        :data:`ROW_SUM_TOLERANCE` for the input's floating dtype.
    name : str
        Name used in error messages.
    min_n : int
        Smallest admissible n (cuts need at least two tokens).
    dtype : numpy dtype or None
        Dtype of the returned array; ``None`` keeps the input's floating dtype.

    Returns
    -------
    numpy.ndarray, shape (n, n)

    Raises
    ------
    TypeError
        If ``A`` is not numeric.
    ValueError
        If ``A`` is not a square 2-D matrix, has ``n < min_n``, contains
        negative, NaN or infinite entries, or (with ``row_tol``) a row whose sum
        is off 1 by more than the tolerance.

    Examples
    --------
    >>> validate_attention([[1.0, 0.0], [0.5, 0.5]]).shape
    (2, 2)
    >>> validate_attention([[1.0, -0.1], [0.5, 0.5]])
    Traceback (most recent call last):
    ...
    attention_transport.errors.AttentionTransportError: A must be nonnegative; got A[0, 1] = -0.1.
    """
    arr = np.asarray(A)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise BadType(f"{name} must be a real numeric matrix; got dtype {arr.dtype}.")
    if arr.ndim != 2:
        raise AttentionTransportError(f"{name} must be a 2-D (n, n) matrix; got shape {arr.shape}.")
    if arr.shape[0] != arr.shape[1]:
        raise AttentionTransportError(f"{name} must be square; got shape {arr.shape}.")
    n = arr.shape[0]
    if n == 0:
        raise AttentionTransportError(f"{name} must be non-empty; got shape {arr.shape}.")
    if n < min_n:
        raise AttentionTransportError(f"{name} needs n >= {min_n} tokens for a cut to exist; got n = {n}.")
    in_dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float64)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise AttentionTransportError(f"{name} must be finite; got {name}[{i}, {j}] = {arr[i, j]}.")
    if (arr < 0).any():
        i, j = np.argwhere(arr < 0)[0]
        raise AttentionTransportError(f"{name} must be nonnegative; got {name}[{i}, {j}] = {arr[i, j]:g}.")
    if row_tol is not None:
        tol = ROW_SUM_TOLERANCE.get(in_dtype, 1e-9) if row_tol == "auto" else float(row_tol)
        r = arr.sum(axis=1, dtype=np.float64)
        dev = np.abs(r - 1.0)
        worst = int(np.argmax(dev))
        if dev[worst] > tol:
            raise AttentionTransportError(
                f"rows of {name} must sum to 1 within {tol:g}; got row {worst} summing to "
                f"{r[worst]:.10g}."
            )
    return arr


def row_sums(A):
    """Query degrees ``r = A 1``, shape (n,), accumulated in float64."""
    A = validate_attention(A, dtype=None)
    return A.sum(axis=1, dtype=np.float64)


def column_sums(A):
    """Key degrees ``c = Aᵀ 1`` (attention received per key), shape (n,), float64."""
    A = validate_attention(A, dtype=None)
    return A.sum(axis=0, dtype=np.float64)


def merged_degrees(A):
    """Degrees ``d = (r + c) / 2`` of the symmetrised graph ``W = (A + Aᵀ)/2``."""
    A = validate_attention(A, dtype=None)
    return 0.5 * (A.sum(axis=1, dtype=np.float64) + A.sum(axis=0, dtype=np.float64))


def is_causal(A):
    """True when ``A[i, j] == 0`` exactly for every ``j > i`` (no tolerance).

    Examples
    --------
    >>> is_causal([[1.0, 0.0], [0.5, 0.5]]), is_causal([[0.9, 1e-300], [0.5, 0.5]])
    (True, False)
    """
    A = validate_attention(A, dtype=None)
    return not np.triu(A, k=1).any()


def _inverse_sqrt_degrees(A):
    d = 0.5 * (A.sum(axis=1) + A.sum(axis=0))
    zero = np.flatnonzero(d == 0)
    if zero.size:
        raise AttentionTransportError(
            "the degree-normalised operator is undefined at a zero-degree vertex "
            f"(row and column both zero); got d[{zero[0]}] = 0 ({zero.size} such vertices)."
        )
    return 1.0 / np.sqrt(d)


def normalised_operator(A):
    """Degree-normalised operator ``N = D^{-1/2} A D^{-1/2}``.

    .. math:: N_{ij} = A_{ij} / \\sqrt{d_i d_j},\\qquad d = (A\\mathbf 1 + A^\\top \\mathbf 1)/2

    Parameters
    ----------
    A : array_like, shape (n, n)

    Returns
    -------
    numpy.ndarray, shape (n, n), float64

    Raises
    ------
    ValueError
        For invalid ``A`` or a zero-degree vertex.

    Notes
    -----
    ``d`` is symmetric in ``r`` and ``c``, so ``N(Aᵀ) = N(A)ᵀ`` (C6); in floating
    point up to the rounding of the row and column sums (≈ 1e-16 relative).
    """
    A = validate_attention(A)
    s = _inverse_sqrt_degrees(A)
    return s[:, None] * A * s[None, :]


def symmetric_part(A):
    """``S = (N + Nᵀ)/2 = D^{-1/2} W D^{-1/2}``; the normalised Laplacian is ``I − S``."""
    N = normalised_operator(A)
    return 0.5 * (N + N.T)


def antisymmetric_part(A):
    """``K = (N − Nᵀ)/2``: the part of N that carries direction (C6, C7)."""
    N = normalised_operator(A)
    return 0.5 * (N - N.T)


def asymmetry_coefficient(A):
    """Asymmetry coefficient ``G = ‖K‖_F / ‖S‖_F``.

    Parameters
    ----------
    A : array_like, shape (n, n)

    Returns
    -------
    float
        In ``[0, 1]``; exactly 0 iff ``A = Aᵀ``.  For causal A,
        ``G² = (ΣN² − Σ diag(N)²) / (ΣN² + Σ diag(N)²)`` (docs/theory.md §1).

    Examples
    --------
    >>> round(asymmetry_coefficient([[1.0, 0.0], [0.5, 0.5]]), 12)
    0.330891298004
    """
    N = normalised_operator(A)
    num = np.linalg.norm(N - N.T)
    den = np.linalg.norm(N + N.T)
    return float(num / den)
