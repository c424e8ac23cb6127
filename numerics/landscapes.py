"""Conductance landscapes of the transport graph: prefix cuts and bipartite cuts.

The transport graph of ``A`` is bipartite: queries ``q_1..q_n``, keys
``k_1..k_n``, an edge ``(q_i, k_j)`` of weight ``A[i, j]``.  For a vertex set X,

.. math:: \\varphi(X) = \\frac{\\mathrm{cut}(X)}{\\min(\\mathrm{vol}\\,X, \\mathrm{vol}\\,X^c)} .

* **prefix landscape** ``φ_A(t)``, t = 1..n−1: ``X = {q_1..q_t} ∪ {k_1..k_t}``;
  capacity ``φ(A) = min_t φ_A(t)`` at the worst cut ``t*`` (docs/theory.md §1).
* **bipartite landscape** ``φ_A(a, b)``: ``X = {k_1..k_a} ∪ {q_1..q_b}``,
  ``0 ≤ a, b ≤ n``; its minimum is ``φ_bip(A)`` at ``(a*, b*)``.

Undefined cuts (``vol X = 0`` or ``vol Xᶜ = 0``) are ``nan`` in a landscape and
are excluded from its minimum; a landscape with no defined cut raises.

Complexities (dense ``A``): one pass over A for the prefix landscape (row and
column sums plus the strictly-upper sums), O(n) afterwards; for the bipartite
minimum one pass, then the tiles of cuts whose corner bounds could hold the
minimum (O(n²) time and O(n · block) memory when the landscape is too flat to
prune).  For causal A the strictly-upper
sums vanish and the landscape is the in-degree identity C1:
``cut(t) = Σ_{k≤t} (c_k − r_k)``, ``vol(t) = Σ_{k≤t} (r_k + c_k)``.

Accuracy (docs/theory.md §1, "Accuracy of the landscapes").  The identity is a
difference of sums and loses every digit of a cut that is small against the
volume beside it (a capacity of 1e-92 beside a diagonal of ones comes out 0).
Each prefix cut is therefore taken from its smaller side (``Σ_{k≤t}`` or
``Σ_{k>t}``, the latter summed from the end) and carries an a-priori bound on
its rounding error, ``γ_{2n+8} · Σ_{k on that side} (r_k + c_k + 2 s_k + 2 u_k)``
with ``γ_m = m ε / (1 − m ε)`` (sums of nonnegative terms in any order, then one
difference and a cumulative sum).  Where that bound exceeds :data:`CUT_RTOL`
times the cut, the cut could still hold the minimum, and the matrix or pattern
is at hand, the cut is recomputed directly as the sum of the two off-diagonal
blocks, nonnegative terms only (relative error ≤ γ_n).  The
landscape keeps the bound of every cut, and ``capacity_rel_error`` bounds the
relative error of φ; a dense matrix is thus always accurate to ``CUT_RTOL``,
at every scale of φ down to the smallest normal float.  Bipartite cuts work the
same way (:data:`BIP_DIRECT_MAX_N`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import as_strided

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.operators import validate_attention

__all__ = [
    "PrefixLandscape",
    "BipartiteMinimum",
    "prefix_landscape_from_sums",
    "prefix_landscapes_from_sums",
    "landscape_minima",
    "prefix_landscape",
    "prefix_capacity",
    "bipartite_landscape",
    "bipartite_minimum",
    "bipartite_minimum_from_rows",
    "bip_tile",
    "tiled_bipartite_minimum",
    "sparse_tiled_bipartite_minimum",
    "conductance",
    "direct_prefix_cuts",
    "direct_bipartite_cut",
    "CUT_RTOL",
    "BIP_DIRECT_MAX_N",
]

#: Bytes of A processed per block by the streaming passes (about the L2 cache).
_BLOCK_BYTES = 2 << 20
#: A prefix or bipartite cut whose a-priori rounding bound exceeds this fraction of the cut is recomputed
#: directly (nonnegative terms only): the relative accuracy the landscapes guarantee where that is possible.
CUT_RTOL = 1e-6
#: The direct recomputation of uncertain bipartite cuts holds two (n + 1)² tables: up to this n.
BIP_DIRECT_MAX_N = 2048
#: rows b whose query suffix Σ_{i>b} r_i is below this fraction of the total volume take
#: their complement-side cuts from suffix sums (see :func:`bipartite_minimum`)
_COMPLEMENT_RHO = 1e-3


@dataclass(frozen=True)
class PrefixLandscape:
    """Prefix-cut landscape ``φ(t)`` for t = 1..n−1.

    Attributes
    ----------
    n : int
    cut, vol : numpy.ndarray, shape (n − 1,)
        ``cut(t)`` and ``vol({q_1..q_t} ∪ {k_1..k_t})`` in the bipartite graph.
    total_volume : float
        ``Σ r + Σ c = 2 ΣA``.
    phi : numpy.ndarray, shape (n − 1,)
        ``cut / min(vol, comp)``; ``nan`` where undefined.
    causal : bool
        Whether the in-degree identity (C1) produced it.
    cut_error : numpy.ndarray, shape (n − 1,)
        Bound on the absolute rounding error of each ``cut(t)`` (see the module
        notes): the identity's a-priori bound, or ``γ_n · cut`` where the cut was
        recomputed directly.
    """

    n: int
    cut: np.ndarray
    vol: np.ndarray
    total_volume: float
    phi: np.ndarray
    causal: bool
    cut_error: np.ndarray
    #: ``vol(Xᶜ)`` of each cut, summed from the end
    comp: np.ndarray

    @property
    def capacity_rel_error(self):
        """Bound on the relative error of :attr:`capacity` from the per-cut bounds
        (``inf`` when φ̂ = 0 but some cut may be positive; 0 when every cut is exact)."""
        g = _gamma(2 * self.n + 8)
        denom = np.minimum(self.vol, self.comp)
        ok = denom > 0
        lo = np.maximum(self.cut[ok] - self.cut_error[ok], 0.0) / (denom[ok] * (1 + g))
        hi = (self.cut[ok] + self.cut_error[ok]) / (denom[ok] * (1 - g))
        phi = self.capacity
        spread = max(phi - float(lo.min()), float(hi.min()) - phi)
        if phi == 0:
            return 0.0 if spread == 0 else float("inf")
        return spread / phi

    @property
    def t(self):
        """Tokens left of each cut, ``1..n−1``."""
        return np.arange(1, self.n)

    @cached_property
    def t_star(self):
        """Worst cut: the smallest t attaining the minimum of ``φ(t)`` (computed once: the landscape is immutable)."""
        return int(np.nanargmin(self.phi)) + 1

    @property
    def capacity(self):
        """Prefix capacity ``φ(A) = min_t φ(t)``."""
        return float(self.phi[self.t_star - 1])


@dataclass(frozen=True)
class BipartiteMinimum:
    """Minimum of the bipartite landscape: ``φ_bip`` attained at (a*, b*)."""

    phi: float
    a_star: int
    b_star: int
    n: int
    #: bound on the relative error of ``phi`` (module notes); 0 when the minimum is an exact zero
    rel_error: float = 0.0
    #: how the minimum was found: every cell, or the strip of a banded pattern (C5b)
    method: str = "scan of every (a, b)"


def _phi_from_cut_denom(cut, denom):
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.nan)
    # cut ≥ 0 mathematically; rounding of a cumulative sum can leave −1e-17.
    return np.maximum(phi, 0.0)


def _gamma(m):
    """``γ_m = m ε / (1 − m ε)``: relative error bound of a sum of m nonnegative float64 terms."""
    eps = np.finfo(np.float64).eps / 2
    return m * eps / (1 - m * eps)


def prefix_landscape_from_sums(r, c, upper=None, lower=None, direct=None):
    """Prefix landscape from degree sequences (the in-degree identity, C1).

    .. math::
        \\mathrm{cut}(t) = \\sum_{k\\le t} (c_k - r_k) + 2 \\sum_{k\\le t}(s_k - u_k),\\qquad
        \\mathrm{vol}(t) = \\sum_{k\\le t} (r_k + c_k)

    with ``s_k = Σ_{j>k} A[k, j]`` and ``u_k = Σ_{i<k} A[i, k]`` the strictly-upper
    row and column sums (both zero for causal A, leaving C1 exactly).

    Parameters
    ----------
    r, c : array_like, shape (n,)
        Row and column sums of A.
    upper, lower : array_like, shape (n,), optional
        ``s`` and ``u`` above; omit both for a causal matrix.
    direct : callable, optional
        ``direct(ts)`` returns the cuts at the given t (sorted int array) summed
        directly from the matrix; called once with the t whose identity value is
        not accurate to :data:`CUT_RTOL` (see the module notes).

    Returns
    -------
    PrefixLandscape

    Raises
    ------
    ValueError
        If the sums have different lengths, n < 2, entries are negative or not
        finite, or no prefix cut has positive volume on both sides.
    """
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if r.ndim != 1 or r.shape != c.shape:
        raise AttentionTransportError(f"row and column sums must be 1-D of equal length; got shapes {r.shape} "
                                      f"and {c.shape}.")
    n = r.size
    if n < 2:
        raise AttentionTransportError(f"a prefix cut needs n >= 2 tokens; got n = {n}.")
    for name, v in (("row sums", r), ("column sums", c)):
        if not np.all(np.isfinite(v)) or (v < 0).any():
            k = int(np.flatnonzero(~np.isfinite(v) | (v < 0))[0])
            raise AttentionTransportError(f"{name} must be finite and nonnegative; got entry {k} = {v[k]}.")
    flow = c - r
    weight = r + c
    causal = upper is None and lower is None
    if not causal:
        s = np.zeros(n) if upper is None else np.asarray(upper, dtype=np.float64)
        u = np.zeros(n) if lower is None else np.asarray(lower, dtype=np.float64)
        flow = flow + 2.0 * (s - u)
        weight = weight + 2.0 * (s + u)
    # Each cut from its smaller side: Σ_{k≤t} flow_k, or Σ_{k>t} −flow_k summed from the end, so the
    # rounding is relative to that side's weight; volumes likewise (the complement never as total − vol).
    left, right = np.cumsum(flow)[:-1], _suffix(-flow)[1:-1]
    vol_all = np.cumsum(r + c)
    total = float(vol_all[-1])
    vol, comp = vol_all[:-1], _suffix(r + c)[1:-1]
    use_left = vol <= comp
    cut = np.maximum(np.where(use_left, left, right), 0.0)
    g = _gamma(2 * n + 8)
    error = g * (1 + g) * np.where(use_left, np.cumsum(weight)[:-1], _suffix(weight)[1:-1])
    uncertain = np.flatnonzero(_could_be_minimum(cut, error, vol, comp, g))
    if uncertain.size and direct is not None:
        exact = np.asarray(direct(uncertain + 1), dtype=np.float64)
        cut[uncertain] = exact
        error[uncertain] = _gamma(n) * exact
    phi = _phi_from_cut_denom(cut, np.minimum(vol, comp))
    if np.all(np.isnan(phi)):
        raise AttentionTransportError("no prefix cut has positive volume on both sides; got total volume "
                                      f"{total:g} concentrated at one end.")
    return PrefixLandscape(n=n, cut=cut, vol=vol, total_volume=total, phi=phi, causal=causal, cut_error=error,
                           comp=comp)


def landscape_minima(landscapes):
    """``(capacity, t_star)`` of many landscapes at once: arrays equal to each one's ``capacity`` and ``t_star``.

    One ``nanargmin`` over the stacked landscapes of equal length instead of one call per head;
    a landscape with no defined cut (or landscapes of different lengths) goes through its own
    properties, which raise as they always did.

    >>> L = prefix_landscapes_from_sums([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [[2.0, 0.5, 0.5], [1.5, 1.0, 0.5]])
    >>> capacity, t_star = landscape_minima(L)
    >>> capacity.tolist() == [x.capacity for x in L], t_star.tolist() == [x.t_star for x in L]
    (True, True)
    """
    if not landscapes:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if len({L.phi.shape for L in landscapes}) != 1:
        return (np.array([L.capacity for L in landscapes]), np.array([L.t_star for L in landscapes]))
    phi = np.stack([L.phi for L in landscapes])
    defined = ~np.isnan(phi).all(axis=1)
    if not defined.all() or phi.shape[1] == 0:
        for L in landscapes:
            L.t_star  # noqa: B018 — raises for the landscape without a defined cut, as the per-head readout did
    t = np.nanargmin(phi, axis=1)
    return phi[np.arange(len(phi)), t].astype(np.float64), t + 1


def prefix_landscapes_from_sums(r, c, upper=None, lower=None, direct=None):
    """:func:`prefix_landscape_from_sums` of many heads at once, each equal to its own call.

    Parameters
    ----------
    r, c : array_like, shape (heads, n)
    upper, lower : array_like, shape (heads, n), optional
        As in :func:`prefix_landscape_from_sums`; omit both for causal maps.
    direct : callable, optional
        ``direct(h)`` returns head h's ``direct(ts)`` (or None).

    Returns
    -------
    list of PrefixLandscape

    Notes
    -----
    The cumulative sums run along each head's row in the same order as the per-head call, so
    the landscapes are identical.  A head with a cut below the identity's accuracy (which
    needs its direct sums), or with invalid sums or no defined cut, goes through
    :func:`prefix_landscape_from_sums` itself, which sums those cuts or raises.
    """
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    causal = upper is None and lower is None

    def alone(h):
        extra = {} if causal else {"upper": None if upper is None else upper[h], "lower": None if lower is None
                                   else lower[h]}
        return prefix_landscape_from_sums(r[h], c[h], direct=None if direct is None else direct(h), **extra)

    if r.ndim != 2 or r.shape != c.shape or r.shape[1] < 2 or not (
            np.isfinite(r).all() and np.isfinite(c).all() and r.min() >= 0 and c.min() >= 0):
        return [alone(h) for h in range(len(r))]  # each head's own checks name the problem
    H, n = r.shape
    flow = c - r
    weight = r + c
    if not causal:
        s = np.zeros((H, n)) if upper is None else np.asarray(upper, dtype=np.float64)
        u = np.zeros((H, n)) if lower is None else np.asarray(lower, dtype=np.float64)
        flow = flow + 2.0 * (s - u)
        weight = weight + 2.0 * (s + u)

    def suffix(x):
        return _suffix(x.T).T

    left, right = np.cumsum(flow, axis=1)[:, :-1], suffix(-flow)[:, 1:-1]
    vol_all = np.cumsum(r + c, axis=1)
    vol, comp = vol_all[:, :-1], suffix(r + c)[:, 1:-1]
    use_left = vol <= comp
    cut = np.maximum(np.where(use_left, left, right), 0.0)
    g = _gamma(2 * n + 8)
    error = g * (1 + g) * np.where(use_left, np.cumsum(weight, axis=1)[:, :-1], suffix(weight)[:, 1:-1])
    denom = np.minimum(vol, comp)
    phi = _phi_from_cut_denom(cut, denom)
    if direct is not None:  # _could_be_minimum, every head at once
        ok = denom > 0
        safe = np.where(ok, denom, 1.0)
        certain = ok & (error <= CUT_RTOL * cut)
        best = np.where(certain, cut / safe, np.inf).min(axis=1)
        uncertain = (ok & ~certain & (np.maximum(cut - error, 0.0) / (safe * (1 + g)) < best[:, None])).any(axis=1)
    else:
        uncertain = np.zeros(H, dtype=bool)
    out = []
    for h in range(H):
        if uncertain[h] or np.all(np.isnan(phi[h])):
            out.append(alone(h))
        else:
            out.append(PrefixLandscape(n=n, cut=cut[h], vol=vol[h], total_volume=float(vol_all[h, -1]), phi=phi[h],
                                       causal=causal, cut_error=error[h], comp=comp[h]))
    return out


def _could_be_minimum(cut, error, vol, comp, g):
    """Cuts not accurate to :data:`CUT_RTOL` whose lower bound lies below the smallest φ among the
    accurate ones (all of them when none is accurate): only these can change φ or t*."""
    denom = np.minimum(vol, comp)
    ok = denom > 0
    safe = np.where(ok, denom, 1.0)
    certain = ok & (error <= CUT_RTOL * cut)
    best = float((cut[certain] / safe[certain]).min()) if certain.any() else np.inf
    low = np.maximum(cut - error, 0.0) / (safe * (1 + g))
    return ok & ~certain & (low < best)


def direct_prefix_cuts(row_blocks, n, ts, causal):
    """Prefix cuts at the given t, each summed directly over the two off-diagonal blocks.

    ``cut(t) = Σ_{i≥t, j<t} A_ij + Σ_{i<t, j≥t} A_ij`` (0-based), from row
    prefix sums and row suffix sums (each summed from its own end), so every
    addition is of nonnegative terms: relative error ≤ γ_n at any scale.

    Parameters
    ----------
    row_blocks : iterable of (i0, i1, numpy.ndarray)
        ``A[i0:i1]`` over all rows.
    n : int
    ts : numpy.ndarray of int
        Cut positions, ``1 ≤ t ≤ n − 1``.
    causal : bool
        Skip the upper block (zero for a causal matrix).

    Returns
    -------
    numpy.ndarray, shape (len(ts),)
    """
    ts = np.asarray(ts, dtype=np.int64)
    out = np.zeros(ts.size)
    for i0, i1, rows in row_blocks:
        blk = np.asarray(rows, dtype=np.float64)
        idx = np.arange(i0, i1)[:, None]
        left = np.cumsum(blk, axis=1)[:, ts - 1]  # Σ_{j<t} A_ij
        out += np.where(idx >= ts[None, :], left, 0.0).sum(axis=0)
        if not causal:
            right = np.cumsum(blk[:, ::-1], axis=1)[:, ::-1][:, ts]  # Σ_{j≥t} A_ij, summed from the end
            out += np.where(idx < ts[None, :], right, 0.0).sum(axis=0)
    return out


def _matrix_row_blocks(A):
    b = _block_rows(A)
    for i0 in range(0, A.shape[0], b):
        yield i0, min(A.shape[0], i0 + b), A[i0:i0 + b]


def _block_rows(A):
    n = A.shape[0]
    return max(1, min(n, _BLOCK_BYTES // max(1, n * A.itemsize)))


_BITS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


#: Bytes of A per row block of the summing pass (its float64 copy stays in cache for the sums that follow).
_SUM_BLOCK_BYTES = 3 << 19
#: Threads of the summing pass: each takes every k-th row block (balanced for causal heads) with its own
#: column sums; numpy's loops release the GIL, so the pass reads memory on several cores.
_SUM_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
#: Below this many entries one thread sums the matrix (starting threads costs more than it saves).
_SUM_THREADED_MIN_ENTRIES = 1 << 22


_POOL = []


def _sum_pool():
    """The summing pass's thread pool, started once per process (starting threads per call costs a tenth of
    the pass at n = 4096).  A forked child gets its own: the parent's threads do not exist there."""
    if not _POOL or _POOL[0][0] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        _POOL[:] = [(os.getpid(), ThreadPoolExecutor(_SUM_THREADS, thread_name_prefix="attention-transport-sums"))]
    return _POOL[0][1]


def _sum_blocks(A, blocks, r, s):
    """Sums of the row blocks ``blocks`` of A: writes ``r`` and ``s`` on their rows and returns ``(c, u, ok)``,
    this share's column sums and whether every entry was finite and nonnegative."""
    n = A.shape[0]
    c = np.zeros(n)
    u = np.zeros(n)
    ones = np.ones(n)
    bits = _BITS[A.itemsize]
    buf = np.empty(max(((i1 - i0) * n for i0, i1 in blocks), default=0))  # one copy buffer, reused: in cache
    for i0, i1 in blocks:
        blk = A[i0:i1]
        upper_zero = i1 == n or blk[:, i1:].view(bits).max() == 0
        part = blk[:, :i1] if upper_zero else blk
        b64 = buf[:part.size].reshape(part.shape)
        np.copyto(b64, part)  # the block, once, in cache: every sum below reads the copy
        if not b64.min() >= 0:  # NaN or a negative entry (an infinite one makes its row sum infinite)
            return c, u, False
        # both sums as BLAS products with ones (sums of nonnegative float64 terms: any order has the same bound)
        r[i0:i1] = b64 @ ones[:part.shape[1]]
        c[: part.shape[1]] += ones[:part.shape[0]] @ b64
        if not upper_zero:
            s[i0:i1] += b64[:, i1:].sum(axis=1)
            u[i1:] += b64[:, i1:].sum(axis=0)
        tri = np.triu(b64[:, i0:i1], k=1)
        if tri.any():
            s[i0:i1] += tri.sum(axis=1)
            u[i0:i1] += tri.sum(axis=0)
    return c, u, True


def _streamed_sums(A):
    """One blockwise pass: r, c, strictly-upper row sums s and column sums u.

    Each row block is converted to float64 once, validated (finite, nonnegative)
    and summed from that copy while it is in cache.  When the block's part right
    of its diagonal block is all +0.0 (one integer reduction over the bit
    patterns; NaN, negatives and −0.0 all fail it and take the general route),
    only the part left of it is converted and summed: for causal A, half the
    matrix.  The blocks are shared among :data:`_SUM_THREADS` threads, each with
    its own column sums, added at the end (float64 sums of nonnegative terms in
    any order: the same rounding bound).
    """
    n = A.shape[0]
    r = np.empty(n)
    s = np.zeros(n)
    b = max(1, min(n, _SUM_BLOCK_BYTES // max(1, n * A.itemsize)))
    blocks = [(i0, min(n, i0 + b)) for i0 in range(0, n, b)]
    k = _SUM_THREADS if n * n >= _SUM_THREADED_MIN_ENTRIES else 1
    if k == 1:
        shares = [_sum_blocks(A, blocks, r, s)]
    else:
        shares = list(_sum_pool().map(lambda part: _sum_blocks(A, part, r, s), [blocks[j::k] for j in range(k)]))
    if not all(ok for _, _, ok in shares) or not np.isfinite(r).all():
        validate_attention(A, dtype=None)  # raises naming the offending entry
    c = shares[0][0]
    u = shares[0][1]
    for cj, uj, _ in shares[1:]:
        c += cj
        u += uj
    return r, c, s, u


def _as_matrix(A):
    arr = np.asarray(A)
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1] and arr.shape[0] >= 2 and arr.dtype in (
            np.float16, np.float32, np.float64):
        return arr  # validated blockwise during the pass
    return validate_attention(arr, dtype=None)


def prefix_landscape(A):
    """Prefix landscape ``φ_A(t)`` of a dense attention matrix.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Nonnegative; float16/32/64 are read in place, sums accumulate in float64.

    Returns
    -------
    PrefixLandscape
        ``causal`` is True when the strictly-upper part is exactly zero; the
        landscape is then the in-degree identity C1 applied to ``(r, c)``.

    Raises
    ------
    ValueError
        Non-square, empty, n < 2, negative or non-finite entries, or no
        defined cut.

    Notes
    -----
    One pass over A in row blocks of about 2 MiB (validation included); memory
    O(n) beyond A.  A second pass only where some cut is below the identity's
    accuracy (module notes): those cuts are summed directly.  The landscape is
    identical for A and Aᵀ (C6).

    Examples
    --------
    >>> n = 3; A = [[1 / (i + 1) if j <= i else 0 for j in range(n)] for i in range(n)]
    >>> L = prefix_landscape(A); L.t_star, round(L.capacity * 17, 12)
    (1, 5.0)
    """
    A = _as_matrix(A)
    r, c, s, u = _streamed_sums(A)
    causal = not s.any()
    direct = lambda ts: direct_prefix_cuts(_matrix_row_blocks(A), A.shape[0], ts, causal)  # noqa: E731
    if causal:
        return prefix_landscape_from_sums(r, c, direct=direct)
    return prefix_landscape_from_sums(r, c, upper=s, lower=u, direct=direct)


def prefix_capacity(A):
    """Prefix capacity ``φ(A) = min_t φ_A(t)`` and worst cut ``t*``.

    Returns
    -------
    (float, int)
    """
    L = prefix_landscape(A)
    return L.capacity, L.t_star


def _suffix(v):
    """``[Σ_{k≥0} v_k, Σ_{k≥1} v_k, …, v_{-1}, 0]``: sums of the tail, summed from the tail."""
    return np.concatenate([np.cumsum(v[::-1], axis=0)[::-1], np.zeros((1,) + v.shape[1:])])


def _suffix_block(A):
    """``S[b, a] = Σ_{i>b, j>a} A_ij`` for ``b = 0..m`` (rows of ``A``), ``a = 0..n``; from the tail."""
    rows = _suffix(np.asarray(A, dtype=np.float64).T).T  # per row: Σ_{j>a} A_ij, a = 0..n
    return _suffix(rows)


def _cut(vol, comp, M, S):
    """The cut from the smaller side: ``vol − 2M`` where ``vol ≤ comp``, else ``comp − 2S``."""
    return np.where(vol <= comp, vol - 2.0 * M, comp - 2.0 * S)


def bipartite_landscape(A):
    """Full bipartite landscape ``φ_A(a, b)`` on the grid ``0 ≤ a, b ≤ n``.

    Parameters
    ----------
    A : array_like, shape (n, n)

    Returns
    -------
    numpy.ndarray, shape (n + 1, n + 1)
        Entry ``[b, a]``: b queries ``q_1..q_b`` and a keys ``k_1..k_a`` left of
        the cut; ``nan`` where undefined.

    Notes
    -----
    Materialises ``(n + 1)²`` values: for figures, small n and the direct
    recomputation in :func:`bipartite_minimum`.  Every cut is summed directly as
    its two off-diagonal blocks, ``Σ_{i≤b, j>a} A_ij + Σ_{i>b, j≤a} A_ij``, each a
    2-D cumulative sum of nonnegative terms taken from its own corner, so a cut
    of 1e-300 beside a diagonal of ones keeps its digits (relative error ≤ γ_{2n}).
    """
    A = np.asarray(validate_attention(A), dtype=np.float64)
    n = A.shape[0]
    right = np.zeros((n + 1, n + 1))  # [b, a]: Σ_{i<b, j≥a}, rows from the top, columns from the right
    right[1:, :n] = np.cumsum(np.cumsum(A[:, ::-1], axis=1)[:, ::-1], axis=0)
    left = np.zeros((n + 1, n + 1))  # [b, a]: Σ_{i≥b, j<a}, rows from the bottom, columns from the left
    left[:n, 1:] = np.cumsum(np.cumsum(A, axis=1)[::-1], axis=0)[::-1]
    r, c = A.sum(axis=1), A.sum(axis=0)
    R, C = np.concatenate([[0.0], np.cumsum(r)]), np.concatenate([[0.0], np.cumsum(c)])
    vol = R[:, None] + C[None, :]
    comp = _suffix(r)[:, None] + _suffix(c)[None, :]
    cut = right + left
    denom = np.minimum(vol, comp)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.nan)
    return phi


#: a dense bipartite search whose candidate tiles exceed this fraction of all tiles (a flat landscape: the
#: bounds prune little) scans every row instead (:func:`bipartite_minimum_from_rows`)
TILE_CROWDED = 0.25
#: candidate tiles are evaluated in chunks of about this many bytes of float64 temporaries each
_TILE_CHUNK_BYTES = 4 << 20


def bip_tile(n):
    """Side T of the tiles of cuts that :func:`bipartite_minimum` bounds and searches at n: smaller tiles bound
    tighter, larger ones have fewer corners.  Measured on SmolLM2-135M's 270 heads: at n = 231, tiles of 8
    took 0.21 s and of 32 0.51 s; at n = 767, tiles of 16 took 1.13 s and of 4 2.07 s; on a random causal
    head at n = 4096, tiles of 32 leave 97 of 16641 tiles to evaluate."""
    return 8 if n < 512 else 16 if n < 4096 else 32


def _tile_sums(A, T, blocks, r, blk):
    """One pass over the row blocks ``blocks`` of A (each starts at a multiple of T): validates them and
    writes the row sums ``r`` and ``blk[k, j] = Σ_{i ∈ group k} A_ij`` (row groups of T) on their rows.
    Returns whether every entry was finite and nonnegative."""
    n = A.shape[0]
    for i0, i1 in blocks:
        b64 = np.asarray(A[i0:i1], dtype=np.float64)  # float64 A is read in place, others once per block
        if not b64.min() >= 0:  # NaN or a negative entry
            return False
        r[i0:i1] = b64.sum(axis=1)
        k0, m = i0 // T, (i1 - i0) // T
        if m:
            blk[k0:k0 + m] = b64[:m * T].reshape(m, T, n).sum(axis=1)
        if i1 - i0 > m * T:
            blk[k0 + m] = b64[m * T:].sum(axis=0)
    return True


def _column_groups(x, T, G):
    """``out[i, m] = Σ_{j ∈ [mT, (m+1)T)} x_ij`` for m = 0..G − 1 (groups past the last column are zero)."""
    x = np.asarray(x, dtype=np.float64)
    rows, n = x.shape
    G0 = n // T
    out = np.zeros((rows, G))
    out[:, :G0] = as_strided(x, (rows, G0, T), (x.strides[0], T * x.strides[1], x.strides[1])).sum(axis=2)
    if n > G0 * T:
        out[:, G0] = x[:, G0 * T:].sum(axis=1)
    return out


def _head(x):
    """Exclusive prefix sums down axis 0: ``out[k] = Σ_{k' < k} x[k']`` for k = 0..len(x) (row by row: numpy's
    cumsum over axis 0 strides across rows, several times slower on a C-order array)."""
    out = np.empty((x.shape[0] + 1,) + x.shape[1:])
    out[0] = 0.0
    for k in range(x.shape[0]):
        np.add(out[k], x[k], out=out[k + 1])
    return out


def _rest(x):
    """Suffix sums down axis 0, summed from the end: ``out[k] = Σ_{k' ≥ k} x[k']`` for k = 0..len(x)."""
    out = np.empty((x.shape[0] + 1,) + x.shape[1:])
    out[-1] = 0.0
    for k in range(x.shape[0] - 1, -1, -1):
        np.add(out[k + 1], x[k], out=out[k])
    return out


def _left(x):
    """Exclusive prefix sums along the last axis: ``out[..., a] = Σ_{j < a} x[..., j]``, a = 0..len."""
    out = np.empty(x.shape[:-1] + (x.shape[-1] + 1,))
    out[..., 0] = 0.0
    np.cumsum(x, axis=-1, out=out[..., 1:])
    return out


def _right(x):
    """Suffix sums along the last axis, summed from the end: ``out[..., a] = Σ_{j ≥ a} x[..., j]``."""
    out = np.empty(x.shape[:-1] + (x.shape[-1] + 1,))
    out[..., -1] = 0.0
    np.cumsum(x[..., ::-1], axis=-1, out=out[..., -2::-1])
    return out


def _tile_bounds(U, L, vol, comp):
    """Lower bounds on φ over each tile from the lattice tables ``[k, m]`` (cut rows and columns lat_k, lat_m).

    Tile (k, m) holds the cells b ∈ [lat_k, lat_{k+1}], a ∈ [lat_m, lat_{m+1}].  U rises with b and falls
    with a, L the reverse, the volume rises with both and the complement falls, so the tile's corners
    bound every cell: ``φ ≥ (U(b_0, a_1) + L(b_1, a_0)) / min(vol(b_1, a_1), comp(b_0, a_0))``.  A tile
    with no volume on one side in every cell gets nan or inf (never a candidate).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return (U[:-1, 1:] + L[1:, :-1]) / np.minimum(vol[1:, 1:], comp[:-1, :-1])


def _tiled_bipartite_minimum(A, T):
    """:func:`bipartite_minimum` of a dense A by bounding tiles of cuts (:func:`tiled_bipartite_minimum`); None
    when the bounds prune too little.  One pass over A, on :data:`_SUM_THREADS` threads, validates it and sums
    its rows and its groups of T rows."""
    n = A.shape[0]
    G = -(-(n + 1) // T)  # tiles of T query rows (and T key columns) cover b, a = 0..n
    r, blk = np.empty(n), np.zeros((G, n))
    rows = T * max(1, _SUM_BLOCK_BYTES // max(1, T * n * A.itemsize))
    blocks = [(i0, min(n, i0 + rows)) for i0 in range(0, n, rows)]
    k = _SUM_THREADS if n * n >= _SUM_THREADED_MIN_ENTRIES else 1
    if k == 1:
        ok = _tile_sums(A, T, blocks, r, blk)
    else:
        ok = all(_sum_pool().map(lambda part: _tile_sums(A, T, part, r, blk), [blocks[j::k] for j in range(k)]))
    if not ok or not np.isfinite(r).all():
        validate_attention(A, dtype=None)  # raises naming the offending entry

    def group_rows(need):
        out = np.empty((need.size, G))  # a few MiB of rows at a time
        step = max(1, _SUM_BLOCK_BYTES // (8 * n))
        for s0 in range(0, need.size, step):
            out[s0:s0 + step] = _column_groups(A[need[s0:s0 + step]], T, G)
        return out

    def entries(bi, ai):
        return A[bi[:, :, None], ai[:, None, :]].astype(np.float64)

    return tiled_bipartite_minimum(T, r, blk, group_rows, entries)


def sparse_tiled_bipartite_minimum(A, T=None):
    """:func:`tiled_bipartite_minimum` of a validated scipy sparse matrix: the group sums are sparse products
    with the T-row indicator, the candidate tiles' entries come from CSR slices.  None when the bounds prune
    too little."""
    import scipy.sparse as sp

    A = sp.csr_matrix(A, dtype=np.float64)
    n = A.shape[0]
    T = int(T or bip_tile(n))
    G = -(-(n + 1) // T)
    E = sp.csr_matrix((np.ones(n), (np.arange(n) // T, np.arange(n))), shape=(G, n))  # row i in group i // T
    r = np.asarray(A.sum(axis=1), dtype=np.float64).ravel()
    blk = (E @ A).toarray()

    def group_rows(need):
        return (A[need] @ E.T).toarray()

    def entries(bi, ai):  # a tile's rows and columns are contiguous (clipped at n − 1): CSR slices
        out = np.zeros(bi.shape + (ai.shape[1],))
        for q in range(bi.shape[0]):
            b0, b1, a0, a1 = bi[q, 0], bi[q, -1] + 1, ai[q, 0], ai[q, -1] + 1
            out[q, :b1 - b0, :a1 - a0] = A[b0:b1, a0:a1].toarray()
        return out

    return tiled_bipartite_minimum(T, r, blk, group_rows, entries)


def tiled_bipartite_minimum(T, r, blk, group_rows, entries):
    """``φ_bip`` and (a*, b*) by bounding tiles of cuts; None when the bounds prune too little.

    ``U(b, a) = Σ_{i<b, j≥a} A_ij`` and ``L(b, a) = Σ_{i≥b, j<a} A_ij`` (cut = U + L) are taken on the
    lattice of every T-th row and column from the T × T block sums; inside a candidate tile they are the
    lattice value plus partial sums of the tile's rows and columns.  Every quantity is a sum of nonnegative
    terms, so every cell's φ carries a relative rounding error of at most ``3 γ_{2n+4}``.

    Parameters
    ----------
    T : int
        Side of the tiles.
    r : numpy.ndarray, shape (n,)
        Row sums of A (float64).
    blk : numpy.ndarray, shape (G, n)
        ``blk[k, j] = Σ_{kT ≤ i < (k+1)T} A_ij`` with ``G = ⌈(n + 1)/T⌉`` (groups past n are zero).
    group_rows : callable
        ``group_rows(rows)`` returns ``out[q, m] = Σ_{mT ≤ j < (m+1)T} A[rows[q], j]``, shape (len(rows), G).
    entries : callable
        ``entries(bi, ai)`` with bi, ai of shape (K, T) returns ``A[bi[q, s], ai[q, t]]``, shape (K, T, T).
    """
    n = r.size
    G = blk.shape[0]
    c = blk.sum(axis=0)
    R, C, Rs, Cs = _left(r), _left(c), _right(r), _right(c)
    lat = np.minimum(np.arange(G + 1) * T, n)  # lattice lines: the tiles' first rows and columns, then n
    B = _column_groups(blk, T, G)  # T × T block sums
    U = _head(_right(B))  # [k, m] = U(lat_k, lat_m)
    L = _rest(_left(B))  # [k, m] = L(lat_k, lat_m)
    vol = R[lat][:, None] + C[lat][None, :]
    comp = Rs[lat][:, None] + Cs[lat][None, :]
    den = np.minimum(vol, comp)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(den > 0, (U + L) / np.where(den > 0, den, 1.0), np.inf)
    bound = _tile_bounds(U, L, vol, comp)
    g = 3 * _gamma(2 * n + 4)
    kb, ka = divmod(int(np.argmin(phi)), G + 1)
    best = (float(phi[kb, ka]), int(lat[kb]), int(lat[ka]))  # (φ, b, a): ties go to the smallest b, then a
    with np.errstate(invalid="ignore"):
        # a tile whose bound, less its rounding, exceeds the best lattice cell, plus its rounding, holds no minimum
        cand = np.argwhere(bound * (1 - 4 * g) <= best[0] * (1 + 4 * g))
    if cand.shape[0] > TILE_CROWDED * G * G and cand.shape[0] > 64:
        return None
    if cand.shape[0]:
        PB, SB = _head(blk), _rest(blk)  # [k, j]: Σ_{i < lat_k} A_ij and Σ_{i ≥ lat_k} A_ij
        need = np.unique(np.minimum(cand[:, 0][:, None] * T + np.arange(T), n - 1))
        seg = group_rows(need)  # the candidate rows' column-group sums
        segP, segS = _left(seg), _right(seg)  # [row, m]: Σ over the groups before m, and from m on
    t = np.arange(T)
    chunk = max(1, _TILE_CHUNK_BYTES // (8 * T * T * 8))
    for c0 in range(0, cand.shape[0], chunk):
        kk, mm = cand[c0:c0 + chunk, 0], cand[c0:c0 + chunk, 1]
        b = kk[:, None] * T + t  # (K, T): the tile's cut rows b, up to n
        a = mm[:, None] * T + t  # (K, T): its cut columns a, up to n
        bi, ai = np.minimum(b, n - 1), np.minimum(a, n - 1)  # rows i = b and columns j = a, clipped
        row_in, col_in = b < n, a < n  # rows and columns past n are zeros
        X = entries(bi, ai)
        X *= row_in[:, :, None] & col_in[:, None, :]
        at = np.searchsorted(need, bi)
        # S_i(a) = Σ_{j ≥ a} A_ij and P_i(a) = Σ_{j < a} A_ij for the tile's rows i and columns a: inside the
        # tile from its entries, outside from the column groups
        S = _right(X)[:, :, :-1] + segS[at, mm[:, None] + 1][:, :, None]
        P = _left(X)[:, :, :-1] + segP[at, mm[:, None]][:, :, None]
        S *= row_in[:, :, None]
        P *= row_in[:, :, None]
        # U(b, a) = U(kT, a) + Σ_{kT ≤ i < b} S_i(a), with U(kT, a) = U(kT, lat_{m+1}) + Σ_{a ≤ j < lat_{m+1}}
        # Σ_{i < kT} A_ij; L(b, a) = L(lat_{k+1}, a) + Σ_{b ≤ i < lat_{k+1}} P_i(a), likewise
        pb = PB[kk[:, None], ai] * col_in
        sb = SB[kk[:, None] + 1, ai] * col_in
        Ut = (U[kk, mm + 1][:, None] + _right(pb)[:, :-1])[:, None, :] + _head(S.transpose(1, 0, 2))[:-1].transpose(
            1, 0, 2)
        Lt = (L[kk + 1, mm][:, None] + _left(sb)[:, :-1])[:, None, :] + _rest(P.transpose(1, 0, 2))[:-1].transpose(
            1, 0, 2)
        bc, ac = np.minimum(b, n), np.minimum(a, n)
        vol_t = R[bc][:, :, None] + C[ac][:, None, :]
        comp_t = Rs[bc][:, :, None] + Cs[ac][:, None, :]
        den_t = np.minimum(vol_t, comp_t)
        valid = (den_t > 0) & (b <= n)[:, :, None] & (a <= n)[:, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            phi_t = np.where(valid, (Ut + Lt) / np.where(valid, den_t, 1.0), np.inf).reshape(len(kk), -1)
        j = np.argmin(phi_t, axis=1)
        v = phi_t[np.arange(len(kk)), j]
        for q in np.flatnonzero(v <= best[0]):
            cell = (float(v[q]), int(b[q, j[q] // T]), int(a[q, j[q] % T]))
            best = min(best, cell)
    phi, b, a = best
    if not np.isfinite(phi):
        raise AttentionTransportError("no bipartite cut has positive volume on both sides; got an all-zero matrix.")
    rel = 0.0 if phi == 0 else (1 + g) / (1 - g) - 1 + g  # every cell carries at most g of rounding
    return BipartiteMinimum(phi=phi, a_star=a, b_star=b, n=n, rel_error=rel, method=f"tiles of {T} × {T} cuts "
                            "bounded by their corners; candidates evaluated cell by cell")


def bipartite_minimum(A):
    """Minimum of the bipartite landscape, ``φ_bip(A)``, and its argmin (a*, b*).

    .. math::
        \\mathrm{cut}(a, b) = R_b + C_a - 2 M_{b,a},\\qquad
        \\mathrm{vol}(a, b) = R_b + C_a,\\qquad M_{b,a} = \\sum_{i\\le b,\\, j\\le a} A_{ij}

    Parameters
    ----------
    A : array_like, shape (n, n)

    Returns
    -------
    BipartiteMinimum
        ``a_star`` keys and ``b_star`` queries left of the worst cut; ties go to
        the smallest ``b`` then the smallest ``a``.

    Notes
    -----
    First by tiles (:func:`bip_tile`): one pass over A gives the row sums and the
    column sums of every group of T rows, hence ``U(b, a) = Σ_{i<b, j≥a} A_ij`` and
    ``L(b, a) = Σ_{i≥b, j<a} A_ij`` on the lattice of every T-th cut row and
    column.  The corners of each T × T tile of cuts bound every cell of it
    (:func:`_tile_bounds`); only the tiles whose bound is not above the best
    lattice cell are evaluated cell by cell, from their own entries and the
    lattice.  Every quantity is a sum of nonnegative terms, so every cell's φ is
    accurate to ``3 γ_{2n+4}`` whatever the scale of the cut, and ``rel_error``
    says so.  On a random causal head at n = 4096 with T = 32, 97 of 16641
    tiles remain.  ``φ_bip ≤ φ`` since the diagonal ``a = b = t`` is the
    prefix cut.

    A flat landscape leaves most tiles as candidates (more than
    :data:`TILE_CROWDED` of them: a head with all its mass on one key has every
    cut at 1).  Then every cell is scanned, O(n²) time and memory O(n · block)
    beyond A: the running row of 2-D prefix sums ``M_{b,·}`` is advanced a block
    of query rows at a time, never as an ``(n + 1)²`` temporary.

    Conditioning of the scan: the complement's volume is summed from the end, never formed
    as a difference.  The cut ``vol − 2M`` is exact to ``~n·ε·vol``; where the
    complement is the smaller side and tiny (an attention-sink head's last
    keys), that is not enough, so the rows ``b`` whose query suffix is below
    ``1e-3`` of the total volume (for row-stochastic A: the last ``~0.002 n``)
    take such cuts as ``comp − 2S`` from 2-D suffix sums ``S`` of their own.
    Every other cell has ``comp ≥ 1e-3 · total``.

    A cut still below that accuracy (``3 γ_{2n+4}`` of its side's volume against
    :data:`CUT_RTOL` of the cut) that could hold the minimum sends the whole
    landscape to the direct sums of :func:`bipartite_landscape` up to
    :data:`BIP_DIRECT_MAX_N`; beyond, ``rel_error`` bounds the result.
    """
    A = _as_matrix(A)
    bm = _tiled_bipartite_minimum(A, bip_tile(A.shape[0]))
    if bm is not None:
        return bm
    r, c, _, _ = _streamed_sums(A)

    def blocks():
        b = max(1, min(A.shape[0], (1 << 21) // (8 * (A.shape[0] + 1))))
        for i0 in range(0, A.shape[0], b):
            yield i0, min(A.shape[0], i0 + b), A[i0:i0 + b]

    bm = bipartite_minimum_from_rows(r, c, blocks(), lambda tail: A[tail:])
    n = A.shape[0]
    if bm.rel_error > CUT_RTOL and n <= BIP_DIRECT_MAX_N:
        phi = bipartite_landscape(A)
        k = int(np.nanargmin(phi))  # row-major over [b, a]: smallest b, then smallest a
        b, a = divmod(k, n + 1)
        return BipartiteMinimum(phi=float(phi[b, a]), a_star=a, b_star=b, n=n, rel_error=3 * _gamma(2 * n + 4))
    return bm


def direct_bipartite_cut(row_blocks, n, a, b):
    """``cut(a, b) = Σ_{i<b, j≥a} A_ij + Σ_{i≥b, j<a} A_ij`` summed directly (nonnegative terms only)."""
    total = 0.0
    for i0, i1, rows in row_blocks:
        blk = np.asarray(rows, dtype=np.float64)
        k = min(max(b - i0, 0), i1 - i0)  # rows of this block above the cut
        total += float(blk[:k, a:].sum()) + float(blk[k:, :a].sum())
    return total


def bipartite_minimum_from_rows(r, c, row_blocks, tail_rows, direct=None):
    """:func:`bipartite_minimum` from a stream of row blocks: the matrix is never held whole.

    Parameters
    ----------
    r, c : numpy.ndarray, shape (n,)
        Row and column sums of A (float64).
    row_blocks : iterable of (i0, i1, numpy.ndarray)
        ``A[i0:i1]`` for consecutive row ranges covering ``0..n`` in order.
    tail_rows : callable
        ``tail_rows(t)`` returns ``A[t:]`` (the last rows, a fraction of about
        ``0.002`` of them for row-stochastic A; see the conditioning note above).
    direct : callable, optional
        ``direct()`` returns a fresh iterator of the row blocks: when the minimum
        is below the scan's accuracy, its cell is summed directly
        (:func:`direct_bipartite_cut`), so a zero cut is certified as zero.

    Returns
    -------
    BipartiteMinimum
        ``rel_error`` bounds the relative error from every cell's rounding bound.
    """
    n = r.size
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs, Cs = _suffix(r), _suffix(c)
    tail = int(np.nonzero(Rs <= _COMPLEMENT_RHO * (R[-1] + C[-1]))[0][0])  # Rs[n] = 0: never empty
    S_tail = _suffix_block(tail_rows(tail))  # rows b = tail..n
    best = (np.inf, -1, -1)
    lowest = np.inf  # smallest lower bound of φ over all cells, from each cut's rounding bound
    g = 3 * _gamma(2 * n + 4)

    def scan(first_b, M):  # M: rows M_{b,·} for b = first_b, first_b + 1, ...
        nonlocal best, lowest
        bs = np.arange(first_b, first_b + M.shape[0])
        vol = R[bs][:, None] + C[None, :]
        denom = Rs[bs][:, None] + Cs[None, :]  # comp, then min(vol, comp) in place
        cut = M * -2.0
        cut += vol
        side = vol
        if bs[-1] >= tail:
            k0 = max(0, tail - first_b)
            cut[k0:] = _cut(vol[k0:], denom[k0:], M[k0:], S_tail[bs[k0:] - tail])
            side = vol.copy()
            side[k0:] = np.minimum(vol[k0:], denom[k0:])
        np.minimum(vol, denom, out=denom)
        ok = denom > 0
        # low = max(cut − g·side, 0)/(denom (1 + g)) and φ = cut/denom, in place: inf where a side is empty
        low = side * -g
        low += cut
        np.maximum(low, 0.0, out=low)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(low, denom, out=low, where=ok)
            np.divide(cut, denom, out=cut, where=ok)
        low[~ok] = np.inf
        cut[~ok] = np.inf
        phi = cut
        lowest = min(lowest, float(low.min()) / (1 + g))
        k = int(np.argmin(phi))
        if phi.flat[k] < best[0]:
            best = (float(max(phi.flat[k], 0.0)), k % (n + 1), int(bs[k // (n + 1)]))

    m_prev = np.zeros(n + 1)  # M_{0,·}: no queries left of the cut
    scan(0, m_prev[None, :])
    sub = max(1, min(n, (1 << 21) // (8 * (n + 1))))
    for i0, i1, rows in row_blocks:
        for a0 in range(i0, i1, sub):  # sub-blocks of about 2 MiB, whatever the source's blocking
            a1 = min(i1, a0 + sub)
            blk = np.zeros((a1 - a0, n + 1))
            np.cumsum(rows[a0 - i0: a1 - i0], axis=1, dtype=np.float64, out=blk[:, 1:])
            blk[0] += m_prev
            for k in range(1, a1 - a0):  # down the rows one row at a time: numpy's cumsum over axis 0 strides
                np.add(blk[k], blk[k - 1], out=blk[k])  # across rows, about ten times slower on a C-order block
            m_prev = blk[-1].copy()
            scan(a0 + 1, blk)
    if not np.isfinite(best[0]):
        raise AttentionTransportError("no bipartite cut has positive volume on both sides; got an all-zero matrix.")
    phi, a, b = best
    spread = phi - lowest + g * phi
    rel = spread / phi if phi > 0 else float("inf")
    if rel > CUT_RTOL and direct is not None:
        cut = direct_bipartite_cut(direct(), n, a, b)
        phi = cut / min(R[b] + C[a], Rs[b] + Cs[a])
        if phi == 0:  # a zero cut summed from nonnegative terms: no cell lies below it
            return BipartiteMinimum(phi=0.0, a_star=a, b_star=b, n=n, rel_error=0.0)
        rel = (max(phi - lowest, 0.0) + g * phi) / phi
    return BipartiteMinimum(phi=phi, a_star=a, b_star=b, n=n, rel_error=rel)


def conductance(A, queries, keys):
    """Conductance of the vertex set ``X = {q_i : i ∈ queries} ∪ {k_j : j ∈ keys}``.

    Parameters
    ----------
    A : array_like, shape (n, n)
    queries, keys : iterable of int
        Zero-based indices of the queries and keys in X.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``vol X = 0`` or ``vol Xᶜ = 0``: conductance is undefined there.
    """
    A = validate_attention(A)
    n = A.shape[0]
    xq = np.zeros(n, dtype=bool)
    xk = np.zeros(n, dtype=bool)
    xq[list(queries)] = True
    xk[list(keys)] = True
    cut = A[xq][:, ~xk].sum() + A[~xq][:, xk].sum()
    vol = A[xq].sum() + A[:, xk].sum()
    comp = A[~xq].sum() + A[:, ~xk].sum()
    if min(vol, comp) <= 0:
        raise AttentionTransportError(f"conductance is undefined when vol(X) or vol(Xᶜ) is 0; got vol(X) = {vol:g}, "
                                      f"vol(Xᶜ) = {comp:g}.")
    return float(cut / min(vol, comp))
