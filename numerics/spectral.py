"""Spectra of the symmetrised transport graph and the Cheeger constant.

``L = I − S`` is the normalised Laplacian of ``W = (A + Aᵀ)/2``
(``S = D^{-1/2} W D^{-1/2}``).  Every quantity here is a function of S, hence
identical for A and Aᵀ (C6).

The Cheeger constant of W, ``h = min_X cut_W(X) / min(vol_W X, vol_W Xᶜ)``,
is bracketed three ways:

* spectrally, ``λ₂/2 ≤ h ≤ √(2 λ₂)`` (Cheeger's inequality), with λ₂ widened by
  the eigensolver's error bound :func:`eigh_error` on each side, so a λ₂ that
  rounds to 0 (capacities near 1e-90) bounds nothing it should not;
* from above by the best *Fiedler sweep cut*: an actual vertex set, so its
  conductance is a true upper bound;
* exactly, by enumerating all ``2^{n−1} − 1`` bipartitions for small n.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.landscapes import prefix_landscape
from attention_transport.numerics.operators import symmetric_part, validate_attention

__all__ = [
    "CheegerBounds",
    "laplacian_spectrum",
    "spectral_gap",
    "fiedler_sweep_cut",
    "cheeger_exact",
    "cheeger_bounds",
    "eigh_error",
    "CHEEGER_EXACT_MAX_N",
    "CHEEGER_EXACT_AUTO_N",
]

#: Largest n for which :func:`cheeger_exact` enumerates at all (2^(n−1) bipartitions).
CHEEGER_EXACT_MAX_N = 18
#: Largest n for which :func:`cheeger_bounds` (and ``check``) enumerates the exact value without being asked.
CHEEGER_EXACT_AUTO_N = 14


def laplacian_spectrum(A):
    """Eigenvalues of the normalised Laplacian ``L = I − S``, ascending.

    Parameters
    ----------
    A : array_like, shape (n, n)

    Returns
    -------
    numpy.ndarray, shape (n,)
        In ``[0, 2]`` up to rounding; ``λ₁ = 0``.

    Raises
    ------
    ValueError
        For invalid A or a zero-degree vertex.
    """
    S = symmetric_part(A)
    return linalg.eigvalsh(np.eye(S.shape[0]) - S)


def eigh_error(n):
    """Bound on the absolute error of an eigenvalue of ``L`` (``‖L‖₂ ≤ 2``) from the dense symmetric
    eigensolver: ``4 n ε``, the backward-stability bound ``p(n) ε ‖L‖₂`` with ``p(n) = 2n``."""
    return 4 * n * float(np.finfo(np.float64).eps)


def _fiedler_pair(A):
    """``(λ₂, v₂)`` of ``L = I − S`` for a validated A (one partial eigensolve)."""
    S = symmetric_part(A)
    vals, vecs = linalg.eigh(np.eye(S.shape[0]) - S, subset_by_index=[1, 1])
    return float(vals[0]), vecs[:, 0]


def spectral_gap(A):
    """Fiedler value ``λ₂(L)``: zero iff W is disconnected."""
    return _fiedler_pair(validate_attention(A))[0]


@dataclass(frozen=True)
class SweepCut:
    """Best sweep cut along the Fiedler vector: vertex set and its conductance."""

    conductance: float
    vertices: np.ndarray


def fiedler_sweep_cut(A):
    """Best prefix cut of the vertices ordered by the Fiedler vector ``D^{-1/2} v₂``.

    Parameters
    ----------
    A : array_like, shape (n, n)

    Returns
    -------
    SweepCut
        ``vertices`` (zero-based) is a set X of W with
        ``φ_W(X) = conductance``, hence ``h ≤ conductance``.

    Notes
    -----
    The sweep is the prefix landscape of the permuted matrix ``P W Pᵀ``: the
    prefix conductance of W equals that of the transport graph (docs/theory.md §1).
    """
    A = validate_attention(A)
    return _sweep(A, _fiedler_pair(A)[1])


def _sweep(A, v2):
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    order = np.argsort(v2 / np.sqrt(d), kind="stable")
    W = 0.5 * (A + A.T)
    land = prefix_landscape(W[np.ix_(order, order)])
    return SweepCut(conductance=land.capacity, vertices=np.sort(order[: land.t_star]))


def cheeger_exact(A, max_n=CHEEGER_EXACT_MAX_N):
    """Exact Cheeger constant of W by enumerating every bipartition.

    Parameters
    ----------
    A : array_like, shape (n, n)
    max_n : int
        Refuse larger n (the cost is ``2^{n−1} · n²``).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``n > max_n``.
    """
    A = validate_attention(A)
    n = A.shape[0]
    if n > max_n:
        raise AttentionTransportError(f"exact Cheeger enumeration is limited to n <= {max_n}; got n = {n}.")
    W = 0.5 * (A + A.T)
    d = W.sum(axis=1)
    total = d.sum()
    best = np.inf
    # Vertex n−1 is always outside X (φ(X) = φ(Xᶜ)); X ranges over nonempty subsets of the rest.
    count = 1 << (n - 1)
    bits = np.arange(n - 1)
    chunk = 1 << 14
    for start in range(1, count, chunk):
        codes = np.arange(start, min(count, start + chunk))
        X = np.zeros((codes.size, n))
        X[:, : n - 1] = (codes[:, None] >> bits) & 1
        vol = X @ d
        cut = np.einsum("si,ij,sj->s", X, W, 1.0 - X)
        denom = np.minimum(vol, total - vol)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.inf)
        best = min(best, float(phi.min()))
    return best


@dataclass(frozen=True)
class CheegerBounds:
    """``lower ≤ h ≤ upper``; ``exact`` when enumeration was affordable."""

    lambda2: float
    lower: float
    upper_spectral: float
    upper_sweep: float
    exact: float | None

    @property
    def upper(self):
        """Tighter of the two upper bounds."""
        return min(self.upper_spectral, self.upper_sweep)


def cheeger_bounds(A, exact_max_n=CHEEGER_EXACT_AUTO_N):
    """Cheeger sandwich ``λ₂/2 ≤ h ≤ min(√(2λ₂), φ(sweep))`` and, for small n, exact h.

    Parameters
    ----------
    A : array_like, shape (n, n)
    exact_max_n : int
        Enumerate the exact h when ``n ≤ exact_max_n``.

    Returns
    -------
    CheegerBounds
    """
    A = validate_attention(A)
    lam2, v2 = _fiedler_pair(A)
    lam2 = max(lam2, 0.0)  # λ₂ ≥ 0; rounding can leave −1e-17
    err = eigh_error(A.shape[0])
    sweep = _sweep(A, v2)
    exact = cheeger_exact(A) if A.shape[0] <= exact_max_n else None
    return CheegerBounds(lambda2=lam2, lower=max(lam2 - err, 0.0) / 2, upper_spectral=float(np.sqrt(2 * (lam2 + err))),
                         upper_sweep=sweep.conductance, exact=exact)
