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
column sums plus the strictly-upper sums), O(n) afterwards; O(n²) time and
O(n · block) memory for the bipartite minimum.  For causal A the strictly-upper
sums vanish and the landscape is the in-degree identity C1:
``cut(t) = Σ_{k≤t} (c_k − r_k)``, ``vol(t) = Σ_{k≤t} (r_k + c_k)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.operators import validate_attention

__all__ = [
    "PrefixLandscape",
    "BipartiteMinimum",
    "prefix_landscape_from_sums",
    "prefix_landscape",
    "prefix_capacity",
    "bipartite_landscape",
    "bipartite_minimum",
    "bipartite_minimum_from_rows",
    "conductance",
]

#: Bytes of A processed per block by the streaming passes (about the L2 cache).
_BLOCK_BYTES = 2 << 20
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
        ``cut / min(vol, total − vol)``; ``nan`` where undefined.
    causal : bool
        Whether the in-degree identity (C1) produced it.
    """

    n: int
    cut: np.ndarray
    vol: np.ndarray
    total_volume: float
    phi: np.ndarray
    causal: bool

    @property
    def t(self):
        """Tokens left of each cut, ``1..n−1``."""
        return np.arange(1, self.n)

    @property
    def t_star(self):
        """Worst cut: the smallest t attaining the minimum of ``φ(t)``."""
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


def _phi_from_cut_vol(cut, vol, total):
    comp = total - vol
    denom = np.minimum(vol, comp)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.nan)
    # cut ≥ 0 mathematically; rounding of a cumulative sum can leave −1e-17.
    return np.maximum(phi, 0.0)


def prefix_landscape_from_sums(r, c, upper=None, lower=None):
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
    causal = upper is None and lower is None
    if not causal:
        s = np.zeros(n) if upper is None else np.asarray(upper, dtype=np.float64)
        u = np.zeros(n) if lower is None else np.asarray(lower, dtype=np.float64)
        flow = flow + 2.0 * (s - u)
    cut = np.cumsum(flow)[:-1]
    vol_all = np.cumsum(r + c)
    total = float(vol_all[-1])
    vol = vol_all[:-1]
    phi = _phi_from_cut_vol(cut, vol, total)
    if np.all(np.isnan(phi)):
        raise AttentionTransportError("no prefix cut has positive volume on both sides; got total volume "
                                      f"{total:g} concentrated at one end.")
    return PrefixLandscape(n=n, cut=np.maximum(cut, 0.0), vol=vol, total_volume=total,
                           phi=phi, causal=causal)


def _block_rows(A):
    n = A.shape[0]
    return max(1, min(n, _BLOCK_BYTES // max(1, n * A.itemsize)))


_BITS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _streamed_sums(A):
    """One blockwise pass: r, c, strictly-upper row sums s and column sums u.

    Each row block is validated (finite, nonnegative) and summed in float64 by
    matrix-vector products while it is in cache.  When the block's part right of
    its diagonal block is all +0.0 (one integer reduction over the bit patterns;
    NaN, negatives and −0.0 all fail it and take the general route), only the
    part left of it is converted and summed: for causal A, half the matrix.
    """
    n = A.shape[0]
    r = np.empty(n)
    c = np.zeros(n)
    s = np.zeros(n)
    u = np.zeros(n)
    ones = np.ones(n)
    bits = _BITS[A.itemsize]
    b = _block_rows(A)
    for i0 in range(0, n, b):
        i1 = min(n, i0 + b)
        blk = A[i0:i1]
        upper_zero = i1 == n or blk[:, i1:].view(bits).max() == 0
        part = blk[:, :i1] if upper_zero else blk
        if not part.min() >= 0:  # NaN or a negative entry
            validate_attention(A, dtype=None)  # raises naming the offending entry
        b64 = part.astype(np.float64, copy=False)
        rb = b64 @ ones[: part.shape[1]]
        if not np.isfinite(rb).all():
            validate_attention(A, dtype=None)
        r[i0:i1] = rb
        c[: part.shape[1]] += ones[: i1 - i0] @ b64
        if not upper_zero:
            s[i0:i1] += b64[:, i1:] @ ones[: n - i1]
            u[i1:] += ones[: i1 - i0] @ b64[:, i1:]
        tri = np.triu(blk[:, i0:i1], k=1)
        if tri.any():
            s[i0:i1] += tri.sum(axis=1, dtype=np.float64)
            u[i0:i1] += tri.sum(axis=0, dtype=np.float64)
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
    O(n) beyond A.  The landscape is identical for A and Aᵀ (C6).

    Examples
    --------
    >>> n = 3; A = [[1 / (i + 1) if j <= i else 0 for j in range(n)] for i in range(n)]
    >>> L = prefix_landscape(A); L.t_star, round(L.capacity * 17, 12)
    (1, 5.0)
    """
    A = _as_matrix(A)
    r, c, s, u = _streamed_sums(A)
    if not s.any():
        return prefix_landscape_from_sums(r, c)
    return prefix_landscape_from_sums(r, c, upper=s, lower=u)


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
    Materialises ``(n + 1)²`` values: for figures and small n.  Use
    :func:`bipartite_minimum` for the minimum at large n.  Each cut is taken from
    its smaller side (prefix sums, or suffix sums summed from the end), so a side
    of volume 1e-12 keeps its digits.
    """
    A = validate_attention(A)
    n = A.shape[0]
    M = np.zeros((n + 1, n + 1))
    M[1:, 1:] = A.cumsum(axis=0).cumsum(axis=1)
    r, c = A.sum(axis=1), A.sum(axis=0)
    R, C = np.concatenate([[0.0], np.cumsum(r)]), np.concatenate([[0.0], np.cumsum(c)])
    vol = R[:, None] + C[None, :]
    comp = _suffix(r)[:, None] + _suffix(c)[None, :]
    cut = _cut(vol, comp, M, _suffix_block(A))
    denom = np.minimum(vol, comp)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.nan)
    return np.maximum(phi, 0.0)


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
    O(n²) time; memory O(n · block) beyond A: the running row of 2-D prefix
    sums ``M_{b,·}`` is advanced a block of query rows at a time, never as an
    ``(n + 1)²`` temporary.  ``φ_bip ≤ φ`` since the diagonal ``a = b = t``
    is the prefix cut.

    Conditioning: the complement's volume is summed from the end, never formed
    as a difference.  The cut ``vol − 2M`` is exact to ``~n·ε·vol``; where the
    complement is the smaller side and tiny (an attention-sink head's last
    keys), that is not enough, so the rows ``b`` whose query suffix is below
    ``1e-3`` of the total volume (for row-stochastic A: the last ``~0.002 n``)
    take such cuts as ``comp − 2S`` from 2-D suffix sums ``S`` of their own.
    Every other cell has ``comp ≥ 1e-3 · total``.
    """
    A = _as_matrix(A)
    r, c, _, _ = _streamed_sums(A)

    def blocks():
        b = max(1, min(A.shape[0], (1 << 21) // (8 * (A.shape[0] + 1))))
        for i0 in range(0, A.shape[0], b):
            yield i0, min(A.shape[0], i0 + b), A[i0:i0 + b]

    return bipartite_minimum_from_rows(r, c, blocks(), lambda tail: A[tail:])


def bipartite_minimum_from_rows(r, c, row_blocks, tail_rows):
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

    Returns
    -------
    BipartiteMinimum
    """
    n = r.size
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs, Cs = _suffix(r), _suffix(c)
    tail = int(np.nonzero(Rs <= _COMPLEMENT_RHO * (R[-1] + C[-1]))[0][0])  # Rs[n] = 0: never empty
    S_tail = _suffix_block(tail_rows(tail))  # rows b = tail..n
    best = (np.inf, -1, -1)

    def scan(first_b, M):  # M: rows M_{b,·} for b = first_b, first_b + 1, ...
        nonlocal best
        bs = np.arange(first_b, first_b + M.shape[0])
        vol = R[bs][:, None] + C[None, :]
        comp = Rs[bs][:, None] + Cs[None, :]
        cut = vol - 2.0 * M
        if bs[-1] >= tail:
            k0 = max(0, tail - first_b)
            cut[k0:] = _cut(vol[k0:], comp[k0:], M[k0:], S_tail[bs[k0:] - tail])
        denom = np.minimum(vol, comp)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.inf)
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
            np.cumsum(blk, axis=0, out=blk)
            blk += m_prev
            m_prev = blk[-1].copy()
            scan(a0 + 1, blk)
    if not np.isfinite(best[0]):
        raise AttentionTransportError("no bipartite cut has positive volume on both sides; got an all-zero matrix.")
    return BipartiteMinimum(phi=best[0], a_star=best[1], b_star=best[2], n=n)


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
