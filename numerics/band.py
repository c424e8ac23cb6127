"""The bipartite minimum of a banded pattern, searched only where it can lie (claim C5b).

A matrix has *bandwidth* w when ``A_ij = 0`` whenever ``|i − j| ≥ w`` (a causal window of
w keys has bandwidth w; a stack of layers with bandwidths ``w_k`` has at most
``1 + Σ (w_k − 1)``).  C5b proves, for such a matrix with row sums at least
``r_min > 0`` and total volume V, that every bipartite cut with ``|b − a| ≥ w`` has

.. math:: \\varphi(a, b) \\ge \\frac{2\\, r_{\\min} (|b - a| - w + 1)}{V},

because the ``|b − a| − w + 1`` queries between the two cut points that lie a whole band
away from the key cut send all of their mass across it, and ``min(vol, V − vol) ≤ V/2``.
Given any attained value φ̂ (the prefix capacity: the diagonal a = b), no cell with
``|b − a| > K = w − 1 + ⌊φ̂ V / (2 r_min)⌋`` can lie below φ̂, so the minimum over the
strip ``|b − a| ≤ K`` *is* φ_bip.  For a window at n = 10⁶ that strip is 47 diagonals
wide instead of 10⁶.

The strip is scanned exactly, cell by cell, with every cut a sum of nonnegative terms:
with ``b = a + δ`` and rows outside ``0..n−1`` counting 0,

.. math:: \\mathrm{cut}(a, a + \\delta) = \\sum_{m < \\delta} U_{a+m}(m) + \\sum_{m \\ge \\delta} P_{a+m}(m),
          \\quad U_i(m) = \\sum_{j \\ge i - m} A_{ij},\\quad P_i(m) = \\sum_{j < i - m} A_{ij}

(the first sum: queries left of the cut, keys right of it; the second: the reverse), both
accumulated over δ by additions only.  Time O(n · (K + w)), memory O(block · K).
"""
from __future__ import annotations

import math
import time

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.landscapes import BipartiteMinimum, _gamma, _suffix

__all__ = ["band_search_width", "banded_bipartite_minimum", "BAND_CELLS", "hub_banded_bipartite_minimum",
           "hub_cut_lower_bound", "HUB_BAND_MAX_HUBS", "STRIP_TILES", "STRIP_PRUNE_MIN_CELLS", "STRIP_LATTICE_MAX",
           "strip_declined", "translate_range", "TRANSLATES_MIN", "dense_band_rows"]

#: cells (δ, a) per chunk of the strip scan: chunks of BAND_CELLS / (2K + 1) cut points
BAND_CELLS = 1 << 21
#: relative margin on the pruning bound's inputs (rounded row sums and volume)
_MARGIN = 1e-6
#: sides of the tiles of cuts whose corners bound a wide strip's cells before the exact scan, coarse to fine
#: (docs/theory.md, "A wide strip, pruned by tiles"): each lattice is laid over what the coarser one left.  Strips
#: of fewer than :data:`STRIP_PRUNE_MIN_CELLS` cells are scanned whole.
STRIP_TILES = (32, 8, 2)
#: ... when the strip holds more cells than this and reaches at least twice the bandwidth from the diagonal (a
#: narrower strip is mostly band, whose rows the lattice would read again at every level: at n = 10⁶ the whole
#: scan is faster for ``window:w=128`` and ``repeat(window:w=16, 5)``)
STRIP_PRUNE_MIN_CELLS = 50_000_000
#: band rows per chunk of the tiles' lattice pass (each row 2w − 1 offsets wide)
_LATTICE_ROWS = 1 << 13
#: most band-row values, n · (2w − 1), the tiles' lattice pass reads (every band row once); the default
#: Longformer at n = 10⁶ reads 5.1·10⁸ (bandwidth 257 off its global token), Mistral's w = 4096 would read 8.2·10⁹
STRIP_LATTICE_MAX = 2_000_000_000


#: the tiles' lattice reads every band row once, so it runs only where a band row costs at most this many
#: cumulative sums of the same block (closed forms: 0.3–0.6; rows read from a mask or a sparse product cost more)
STRIP_ROWS_COST_RATIO = 2.0


def _band_rows_ratio(n, band_rows, w):
    """The cost of :data:`_LATTICE_ROWS` band rows from the middle of the matrix (the fastest of three, the first
    also a warm-up) over that of a cumulative sum along a block of the same shape (the fastest of three): two timings
    taken together, so the ratio does not depend on the machine."""
    rows = min(n, _LATTICE_ROWS)
    i0 = (n - rows) // 2
    took = np.inf
    for _ in range(3):  # the first also warms up (cached normalisers, fresh pages)
        t0 = time.perf_counter()
        Dm = band_rows(i0, i0 + rows)
        took = min(took, time.perf_counter() - t0)
    base = np.inf
    for _ in range(3):
        t1 = time.perf_counter()
        np.cumsum(Dm, axis=1)
        base = min(base, time.perf_counter() - t1)
    return took / max(base, 1e-9)


def _prunes(n, K, w):
    """Whether the strip |b − a| ≤ K at bandwidth w is pruned by tiles before its scan (:data:`STRIP_TILES`)."""
    return (2 * K + 1) * (n + 1) > STRIP_PRUNE_MIN_CELLS and K >= 2 * w


def strip_declined(n, K, w, max_cells, tile=None, translates=None):
    """Why the strip ``|b − a| ≤ K`` at bandwidth w is beyond the scan's limits, or None when it is within them.

    A strip of at most ``max_cells`` cells can always be scanned whole.  A wider one must be pruned by tiles
    (:data:`STRIP_TILES`), and then its lattice pass must read at most :data:`STRIP_LATTICE_MAX` band-row values;
    the cells its tiles leave are held to ``max_cells`` by :func:`banded_bipartite_minimum` itself.  With
    ``translates`` (the rows ``i0 … i1 − 1``), the key cuts of :func:`translate_range` are not scanned.
    """
    span = n + 1
    rng = None if translates is None else translate_range(n, K, w, translates[0], translates[1])
    if rng is not None:
        span -= rng[1] - rng[0] + 1
    cells = (2 * K + 1) * span
    if cells <= max_cells:  # a whole scan fits, whatever the tiles decide
        return None
    if tile is not None:
        pruned = bool(np.any(tile))
    else:
        pruned = cells > STRIP_PRUNE_MIN_CELLS if rng is not None else _prunes(n, K, w)
    if not pruned:
        return f"the strip |b − a| ≤ {K} (bandwidth {w}) holds {cells:.2e} cells, which exceeds {max_cells:.0e}"
    values = min(n, span + 2 * w) * (2 * w - 1)
    return None if values <= STRIP_LATTICE_MAX else (
        f"the tiles of the strip |b − a| ≤ {K} would read {values:.2e} band-row values (bandwidth {w}), which "
        f"exceeds {STRIP_LATTICE_MAX:.0e}")


def dense_band_rows(F, w, h=0):
    """``band_rows(i0, i1)`` of a dense matrix F (the searches' input format) with its first h rows and columns set
    to 0 (the hubs): ``D[i − i0, t + w − 1] = F[i, i + t]`` for ``|t| < w``, 0 outside the matrix.  For checks and
    tests on matrices held in memory; the patterns read their own band rows."""
    F = np.asarray(F, dtype=np.float64)
    n = F.shape[0]
    B = F.copy()
    B[:h] = 0.0
    B[:, :h] = 0.0
    idx = np.arange(n)[:, None] + np.arange(-(w - 1), w)[None, :]
    D = np.where((idx >= 0) & (idx < n), B[np.arange(n)[:, None], np.clip(idx, 0, n - 1)], 0.0)
    return lambda i0, i1: D[i0:i1]


def band_search_width(w, phi_hat, r_min, total):
    """Half-width K of the strip ``|b − a| ≤ K`` that holds the bipartite minimum (C5b).

    Parameters
    ----------
    w : int
        Bandwidth: ``A_ij = 0`` for ``|i − j| ≥ w``.
    phi_hat : float
        A value attained by some cell of the strip (the prefix capacity, on a = b).
    r_min : float
        Smallest row sum, ``> 0``.
    total : float
        Total volume ``V = Σ r + Σ c``.

    Returns
    -------
    int
        ``w − 1 + ⌊φ̂ V / (2 r_min)⌋ + 1``: one diagonal beyond the bound, and the inputs
        widened by a relative :data:`_MARGIN`, so rounding in φ̂, r_min or V cannot narrow the strip.
    """
    if not (r_min > 0 and total > 0 and phi_hat >= 0 and math.isfinite(phi_hat)):
        raise AttentionTransportError(f"the band search needs positive row sums and a finite capacity; got "
                                      f"r_min = {r_min}, V = {total}, φ̂ = {phi_hat}.")
    reach = phi_hat * (1 + _MARGIN) * total * (1 + _MARGIN) / (2 * r_min * (1 - _MARGIN))
    return int(w) - 1 + int(math.floor(reach)) + 1


def _lattice(n, first, T):
    """The cut points ``first, first + T, …`` and n."""
    lat = np.arange(first, n + 1, T)
    return lat if lat[-1] == n else np.append(lat, n)


def _strip_lattice(n, band_rows, w, K, lat, T, k_lo, k_hi, first, Bc, extra):
    """The two halves of the cut on the lattice ``lat`` (:func:`_lattice`) around the strip, for the key cuts
    ``lat[k_lo..k_hi]``.

    Returns ``(D, U, L)``: ``U[k − k_lo, D + o]`` is ``Σ_{i<b, j≥a} A_ij`` and ``L[k − k_lo, D + o]`` is
    ``Σ_{i≥b, j<a} A_ij`` at ``a = lat[k]``, ``b = lat[k + o]`` for ``|o| ≤ D`` (nan past the lattice), from the band
    rows of the rows within w of each lattice a and the prefix sums ``Bc`` of the band rows' sums beyond them
    (module notes: ``T1`` and ``T2``).  ``extra = (Sb, Ha)`` adds the hub terms.  Cost: each band row once.
    """
    m = lat.size
    D = K // T + 3
    offs = np.arange(-D, D + 1)
    U = np.full((k_hi - k_lo + 1, 2 * D + 1), np.nan)
    L = np.full_like(U, np.nan)
    width = 2 * w - 1
    ms = np.arange(-w + 1, w - 1)  # rows a + m whose band rows are cut partly by the key cut a
    cols = w - 1 - ms  # U_{a+m}(m) = Σ of the band row from column w − 1 − m on, P_{a+m}(m) the rest
    step = max(1, _LATTICE_ROWS // T)
    clip = lambda v: np.clip(v, 0, n)  # noqa: E731
    for k0 in range(k_lo, k_hi + 1, step):
        k1 = min(k_hi + 1, k0 + step)
        a = lat[k0:k1]
        lo, hi = int(a[0]) - w + 1, int(a[-1]) + w - 1
        Dm = np.zeros((hi - lo, width))
        r0, r1 = max(lo, 0), min(hi, n)
        if r1 > r0:
            Dm[r0 - lo: r1 - lo] = band_rows(r0, r1)
        pre, phase = _lattice_prefix(Dm, (first - lo + w - 1) % T, T)
        ri = a[:, None] + ms[None, :] - lo
        P = pre[ri, (cols[None, :] - phase[ri]) // T]  # P_{a+m}(m): the row's mass left of a
        Uv = Dm.sum(axis=1)[ri] - P  # U_{a+m}(m): right of it (a difference; the bound's margin covers it)
        c1 = np.zeros((a.size, width))
        np.cumsum(Uv, axis=1, out=c1[:, 1:])  # [δ + w − 1]: Σ_{m=−w+1}^{δ−1} U_{a+m}(m)
        c2 = np.zeros((a.size, width))
        c2[:, :-1] = np.cumsum(P[:, ::-1], axis=1)[:, ::-1]  # [δ + w − 1]: Σ_{m=δ}^{w−2} P_{a+m}(m)
        kb = np.arange(k0, k1)[:, None] + offs[None, :]
        valid = (kb >= 0) & (kb < m)
        b = lat[np.clip(kb, 0, m - 1)]
        delta = b - a[:, None]
        idx = np.clip(delta + w - 1, 0, width - 1)
        t1 = np.take_along_axis(c1, idx, axis=1)
        t2 = np.take_along_axis(c2, idx, axis=1)
        A_ = np.broadcast_to(a[:, None], b.shape)
        t1 = t1 + np.where(delta > w - 1, Bc[clip(b)] - Bc[clip(A_ + w - 1)], 0.0)  # whole rows a + w − 1 … b − 1
        t2 = t2 + np.where(delta < -w + 1, Bc[clip(A_ - w + 1)] - Bc[clip(b)], 0.0)  # whole rows b … a − w
        last = a == n  # every key is left of a = n (off the lattice's phase when T does not divide n − first)
        t1[last] = 0.0
        t2[last] = Bc[n] - Bc[b[last]]
        if extra is not None:
            Sb, Ha = extra
            t1 = t1 + Ha[A_]
            t2 = t2 + Sb[b]
        U[k0 - k_lo:k1 - k_lo] = np.where(valid, t1, np.nan)
        L[k0 - k_lo:k1 - k_lo] = np.where(valid, t2, np.nan)
    return D, U, L


def _lattice_prefix(Dm, phase0, T):
    """Prefix sums of the band rows ``Dm`` at the only columns the lattice reads: row ρ's columns
    ``phase_ρ + u T`` with ``phase_ρ = (phase0 − ρ) mod T``.  Rows T apart share a phase, so each of the T groups
    is summed in blocks of T columns by one reshape (a read of Dm, where a full cumulative sum would also write
    it: 4× faster).  Returns ``(pre, phase)`` with ``pre[ρ, u] = Σ_{t < phase_ρ + u T} Dm[ρ, t]``."""
    rows, width = Dm.shape
    phase = (phase0 - np.arange(rows)) % T
    pre = np.zeros((rows, width // T + 2))
    for g in range(min(T, rows)):
        Dg, f = Dm[g::T], int(phase[g])
        nb = (width - f) // T
        head = Dg[:, :f].sum(axis=1)
        pre[g::T, 0] = head
        if nb:
            blocks = Dg[:, f:f + nb * T].reshape(Dg.shape[0], nb, T).sum(axis=2)
            pre[g::T, 1:nb + 1] = head[:, None] + np.cumsum(blocks, axis=1)
    return pre, phase


def _strip_candidates(n, K, lat, k_lo, D, U, L, R, C, Rs, Cs, g, E):
    """The runs of key cuts a whose tiles could hold the strip's minimum, and the lattice's best φ (widened).

    Tile ``(k, o)`` holds the cells ``a ∈ [lat_k, lat_{k+1}]``, ``b ∈ [lat_{k+o}, lat_{k+o+1}]``; its corners bound
    every cell (:func:`~attention_transport.numerics.landscapes._tile_bounds`), less the tables' rounding ``E``
    (absolute) and ``g`` (relative, on the volumes).  Every lattice cell inside the strip is a cut, so the smallest
    of their φ, widened by the same rounding, bounds φ_bip above; a tile whose bound is above it is left out.
    The tables hold the key cuts ``lat[k_lo..k_lo + len(U) − 1]`` (:func:`_strip_lattice`).
    """
    m = lat.size
    k = k_lo + np.arange(U.shape[0])[:, None]
    kb = k + np.arange(-D, D + 1)[None, :]
    ok = (kb >= 0) & (kb < m)
    b = lat[np.clip(kb, 0, m - 1)]
    a = np.broadcast_to(lat[k], b.shape)
    denom = np.minimum(R[b] + C[a], Rs[b] + Cs[a])
    cell = ok & (np.abs(b - a) <= K) & (denom > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(cell, (U + L + 2 * E) / (denom * (1 - g)), np.inf)
    top = float(phi.min())
    # tile (k, j − D) for the rows k but the last, 1 ≤ j ≤ 2D − 1: U at (k + 1, j − 1), L at (k, j + 1)
    kb0 = kb[:-1, 1:-1]
    tile_ok = (kb0 >= 0) & (kb0 + 1 < m)
    b0, b1 = lat[np.clip(kb0, 0, m - 1)], lat[np.clip(kb0 + 1, 0, m - 1)]
    a0, a1 = a[:-1, :1], a[1:, :1]
    near = np.maximum(0, np.maximum(b0 - a1, a0 - b1)) <= K  # the tile meets the strip
    cut = U[1:, :-2] + L[:-1, 2:] - 2 * E
    den = np.minimum(R[b1] + C[a1], Rs[b0] + Cs[a0]) * (1 + g)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(den > 0, cut / np.where(den > 0, den, 1.0), np.inf)
    reach = np.maximum(b1 - a0, a1 - b0)  # the tile's largest |b − a|
    return lower, tile_ok & near, a0[:, 0], a1[:, 0], top, reach


def _runs(a0, a1, live):
    """The merged key-cut ranges ``[a0_k, a1_k]`` of the live tile rows, half-open."""
    runs = []
    for kk in np.flatnonzero(live):
        s, e = int(a0[kk]), int(a1[kk]) + 1
        if runs and s <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], e)
        else:
            runs.append([s, e])
    return [tuple(x) for x in runs]


def _pruned_runs(n, band_rows, w, K, first, Bc, extra, R, C, Rs, Cs, tiles, gate=True, runs=None, top=np.inf):
    """The key-cut runs left after the tiles of each side in ``tiles`` (coarse to fine), and the largest
    ``|b − a|`` of a tile left.  Each finer lattice is laid over the runs the coarser one left, out to the
    largest ``|b − a|`` it left (every cell beyond lies in a tile already excluded), and each bound is compared
    with the best lattice cell of every level.  A landscape flat enough that a lattice leaves more than half of
    its key cuts is not refined further: the next lattice would cost more than it saves.  With ``gate``, band rows
    dearer than :data:`STRIP_ROWS_COST_RATIO` cumulative sums are declined first
    (:class:`~attention_transport.errors.WontFit`).  ``runs``: the key-cut runs to start from (default every key
    cut from ``first`` on); ``top``: a value some cell attains (bounds above it exclude their tiles)."""
    from attention_transport.errors import WontFit

    ratio = _band_rows_ratio(n, band_rows, w) if gate else 0.0
    if ratio > STRIP_ROWS_COST_RATIO:
        raise WontFit(f"the tiles of the strip |b − a| ≤ {K} read every band row, and this pattern's band rows cost "
                      f"{ratio:.1f} cumulative sums of the same block (more than {STRIP_ROWS_COST_RATIO:g})")
    g = 3 * _gamma(n + 4 * w + 8)
    E = g * float(R[-1] + C[-1] + (0.0 if extra is None else extra[0][0] + extra[1][0]))
    runs, reach = [(first, n + 1)] if runs is None else list(runs), K
    left = 2 * sum(e - s for s, e in runs)  # the first lattice covers every key cut it is given
    for T in tiles:
        if sum(e - s for s, e in runs) > left / 2:  # the last lattice left more than half of what it was given
            break
        left = sum(e - s for s, e in runs)
        lat = _lattice(n, first, T)
        levels = []
        for s, e in runs:
            k_lo = (s - first) // T
            k_hi = min(lat.size - 1, -(-(e - 1 - first) // T))  # tiles k_lo..k_hi − 1 cover [s, e − 1]
            if k_hi == k_lo:  # one key cut: a tile needs two
                k_hi = min(lat.size - 1, k_hi + 1)
                k_lo = min(k_lo, k_hi - 1)
            D, U, L = _strip_lattice(n, band_rows, w, reach, lat, T, k_lo, k_hi, first, Bc, extra)
            lower, ok, a0, a1, level_top, far = _strip_candidates(n, reach, lat, k_lo, D, U, L, R, C, Rs, Cs, g, E)
            top = min(top, level_top)
            levels.append((lower, ok, a0, a1, far))
        runs, reach = [], 0
        for lower, ok, a0, a1, far in levels:
            live = ok & ~(lower > top)
            runs += _runs(a0, a1, live.any(axis=1))
            reach = max(reach, int(far[live].max(initial=0)))
        reach = min(K, reach)
    return runs, reach


#: the translates' key cuts are left out of the scan when they number at least this many
TRANSLATES_MIN = 64
#: the steps around the estimated balance cut evaluated along each diagonal and phase of the translates (C5t:
#: the last step whose volume is at most its complement and the first after it; the estimate may be one off)
BALANCE_STEPS = (-2, -1, 0, 1)


def translate_range(n, K, w, i0, i1, least=TRANSLATES_MIN):
    """The key cuts ``[A0, A1]`` whose cells ``(a, a + δ)``, ``|δ| ≤ K`` (K ≥ 1), read only the band rows
    ``i0 … i1 − 1``: the rows ``a + min(δ, 0) − w + 1 … a + max(δ, 0) + w − 2`` (claim C5t), so
    ``A0 = i0 + w − 1 + K`` and ``A1 = i1 − w + 1 − K``; None when that leaves fewer than ``least``
    (:data:`TRANSLATES_MIN`)."""
    A0, A1 = i0 + w - 1 + K, min(i1 - w + 1 - K, n)
    return (A0, A1) if K >= 1 and A1 - A0 + 1 >= max(1, least) else None


#: the arrays a translate range rests on may vary this much (relative) over it: rounding of closed forms only
TRANSLATES_RTOL = 1e-12


def periodic_over(x, lo, hi, p=1):
    """Whether ``x[k] = x[k − p]`` over ``lo ≤ k − p < k < hi`` up to :data:`TRANSLATES_RTOL` (relative to the
    largest magnitude there): constant for p = 1."""
    seg = np.asarray(x)[max(lo, 0):hi]
    if seg.size <= p:
        return True
    return float(np.abs(seg[p:] - seg[:-p]).max()) <= TRANSLATES_RTOL * max(float(np.abs(seg).max()), 1e-300)


def _interior(n, K, w, first, i0, i1, p, r, c, band_rows, least):
    """:func:`translate_range` when the arrays the cells there rest on are p-periodic over it — the row sums of the
    rows they read, the column sums of their key cuts — and band rows p apart across ``i0 … i1 − 1`` agree, at
    three phases (a check of the pattern's declaration, not a proof of it); else None."""
    i0 = max(i0, first)
    rng = translate_range(n, K, w, i0, i1, least)
    if rng is None:
        return None
    A0, A1 = rng
    if not (periodic_over(r, A0 - K, A1 + K + 1, p) and periodic_over(c, A0, A1 + 1, p)):
        return None
    last = (i1 - 1 - i0) // p  # rows i0 + phase + k p, k = 0 … last (− 1 for the late phases)
    for phase in sorted({0, min(1, p - 1), p - 1}):
        ref = band_rows(i0 + phase, i0 + phase + 1)[0]
        for k in sorted({1, last // 2, last - 1}):
            i = i0 + phase + k * p
            if k <= 0 or i >= i1:
                continue
            row = band_rows(i, i + 1)[0]
            if float(np.abs(row - ref).max()) > TRANSLATES_RTOL * max(float(np.abs(ref).max()), 1e-300):
                return None
    return rng


def _interior_minimum(cband, A0, A1, K, R, C, Rs, Cs, extra):
    """``(φ, a, b)`` of the smallest cell ``(a, a + δ)`` with ``A0 ≤ a ≤ A1``, ``|δ| ≤ K``, when the rows there are
    translates with period p (``cband`` of shape (2K + 1, p): the band's cut at ``(A0 + ρ, A0 + ρ + δ)``) and every
    other term (hub terms, volumes) moves by a constant from a to a + p: along each diagonal and phase ρ the cut is
    then affine in ``k`` (``a = A0 + ρ + k p``) and ``min(vol, comp)`` affine on each side of the balance cut, so φ
    is monotone on each side (a ratio of affine functions) and its minimum lies at the first or last a, or beside
    the balance cut (claim C5t).  The balance cut is located from the affine volumes; the two cells on each side
    of it are evaluated."""
    p = cband.shape[1]
    n = R.size - 1
    deltas = np.arange(-K, K + 1)[:, None]
    a0 = A0 + np.arange(p)[None, :]  # each phase's first key cut
    last = np.where(a0 <= A1, (A1 - a0) // p, -1)  # its last step (−1: the phase has no key cut in the range)
    a0c = np.minimum(a0, n)  # a phase with no key cut in the range may start past the matrix: never evaluated
    b0 = np.clip(a0c + deltas, 0, n)
    step = np.minimum(p, np.maximum(last, 0) * p)  # one period, inside the range (0 when it holds one key cut)
    slope = (R[np.minimum(b0 + step, n)] - R[b0]) + (C[np.minimum(a0c + step, n)] - C[a0c])  # vol gains it
    gap = (Rs[b0] + Cs[a0c]) - (R[b0] + C[a0c])  # comp − vol at the phase's first key cut
    with np.errstate(divide="ignore", invalid="ignore"):
        ks = np.where(slope > 0, np.ceil(gap / (2 * np.where(slope > 0, slope, 1.0))), 0.0)
    ks = np.clip(ks, -2, np.maximum(last, 0) + 2).astype(np.int64)
    cand = np.stack([np.zeros_like(ks), np.broadcast_to(last, ks.shape)] + [ks + k for k in BALANCE_STEPS], axis=-1)
    cand = a0[..., None] + p * np.clip(cand, 0, np.maximum(last, 0)[..., None])
    b = cand + deltas[..., None]
    ok = (b >= 0) & (b <= n) & (last >= 0)[..., None]
    bc, ac = np.clip(b, 0, n), np.clip(cand, 0, n)
    cut = cband[..., None] + (0.0 if extra is None else extra[0][bc] + extra[1][ac])
    denom = np.minimum(R[bc] + C[ac], Rs[bc] + Cs[ac])
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(ok & (denom > 0), cut / np.where(denom > 0, denom, 1.0), np.inf)
    low = float(phi.min())
    if not np.isfinite(low):
        return (np.inf, -1, -1)
    hit = np.nonzero(phi == low)
    k = int(np.lexsort((cand[hit], b[hit]))[0])
    return (max(low, 0.0), int(cand[hit][k]), int(b[hit][k]))


def banded_bipartite_minimum(r, c, band_rows, w, phi_hat, chunk=None, *, K=None, extra=None, first=0, beta=None,
                             tile=None, max_cells=None, translates=None, translates_min=TRANSLATES_MIN):
    """``φ_bip`` and ``(a*, b*)`` of a matrix of bandwidth w, from the strip of C5b.

    Parameters
    ----------
    r, c : numpy.ndarray, shape (n,)
        Row and column sums (float64).
    band_rows : callable
        ``band_rows(i0, i1)`` returns ``D`` of shape ``(i1 − i0, 2w − 1)`` with
        ``D[i − i0, t + w − 1] = A[i, i + t]`` for ``|t| < w`` (0 outside the matrix).
    w : int
        Bandwidth.
    phi_hat : float
        A value attained on the strip (the prefix capacity).
    chunk : int, optional
        Cut points per block (default: blocks of about :data:`BAND_CELLS` cells).
    K : int, optional
        The strip's half-width, when the caller has its own reason for it (the hub strip of
        :func:`hub_banded_bipartite_minimum`); default: C5b's, from φ̂.
    extra : tuple of two arrays, optional
        ``(Sb, Ha)``, each of length n + 1: ``Sb[b] + Ha[a]`` is added to every cell's cut (the hub
        terms); the band part is then what ``band_rows`` gives.
    first : int
        Cells with ``a < first`` or ``b < first`` are left out (another search covers them).
    beta : numpy.ndarray, shape (n,), optional
        The band rows' sums (default ``r``: the band is all of A); the tiles' lattice needs them.
    tile : int or sequence of int, optional
        Sides of the tiles that bound the strip's cells before the scan, coarse to fine (0: scan every cell).
        Default :data:`STRIP_TILES` for strips of more than :data:`STRIP_PRUNE_MIN_CELLS` cells, else 0.
    max_cells : int, optional
        Most cells to scan after pruning; more raise :class:`~attention_transport.errors.WontFit`.
    translates : tuple of two or three ints, optional
        ``(i0, i1)`` or ``(i0, i1, p)`` when the band rows ``i0 … i1 − 1`` are translates of one another with period
        p (default 1: every row the next one shifted; row i + p is row i shifted by p) and the hub terms ``Sb``,
        ``Ha`` move by constants over a period (:func:`translate_range`): the key cuts a whose cells read only those
        rows are not scanned; along each diagonal and phase their minimum lies at an end of the range or at its
        balance cut (claim C5t), so four cells per diagonal and phase stand for them.
    translates_min : int
        Fewest such key cuts worth leaving out (default :data:`TRANSLATES_MIN`; 1 in the claim's checks).

    Returns
    -------
    tuple of (BipartiteMinimum, int)
        The minimum (ties: smallest b, then smallest a, as :func:`~.landscapes.bipartite_minimum`)
        and the strip's half-width K.  ``rel_error`` is the a-priori bound of the cells' rounding
        (sums of nonnegative terms only); ``method`` says how much of the strip was scanned.
    """
    from attention_transport.errors import WontFit

    n = int(r.size)
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs, Cs = _suffix(r), _suffix(c)
    if K is None:
        K = band_search_width(w, phi_hat, float(r.min()), float(R[-1] + C[-1]))
    K = min(K, n)
    rel = 3 * _gamma(n + 2 * K + 2 * w + 8)  # cut: ≤ 2K + 2w nonnegative terms; volumes: ≤ n + 1
    rowsum = r if beta is None else beta
    cols_all = np.clip(w - 1 - np.arange(-K, K + 1), 0, 2 * w - 1)
    runs, method, K_scan, best = [(first, n + 1)], "every cell of the strip scanned", K, (np.inf, -1, -1)
    if translates is not None and len(translates) == 2:
        translates = (*translates, 1)
    middle = None if translates is None else _interior(n, K, w, first, *translates, r, c, band_rows, translates_min)
    if translates is not None and middle is None and (why := strip_declined(n, K, w, max_cells or np.inf, tile)):
        raise WontFit(f"the rows {translates[0]}…{translates[1] - 1} did not check out as translates, and {why}")
    if middle is not None:  # the translates' cells: four per diagonal (C5t), the rest of the strip scanned
        A0, A1 = middle
        period = translates[2]
        cband = _band_cuts(A0, A0 + period, n, K, w, band_rows, cols_all, rowsum)
        best = _interior_minimum(cband, A0, A1, K, R, C, Rs, Cs, extra)
        runs = [(first, A0), (A1 + 1, n + 1)]
    if tile is not None:
        tiles = tuple(int(t) for t in np.atleast_1d(tile) if t)
    elif middle is not None:  # the lattice reads only the rows near the key cuts left: as the scan would
        tiles = STRIP_TILES if (2 * K + 1) * sum(e - s for s, e in runs) > STRIP_PRUNE_MIN_CELLS else ()
    else:
        tiles = STRIP_TILES if _prunes(n, K, w) else ()
    tiles = tuple(t for t in tiles if t <= 2 * K)
    cells = (2 * K + 1) * sum(e - s for s, e in runs)
    if tiles:
        Bc = np.concatenate([[0.0], np.cumsum(rowsum)])
        try:
            runs, reach = _pruned_runs(n, band_rows, w, K, first, Bc, extra, R, C, Rs, Cs, tiles,
                                       gate=tile is None and middle is None, runs=runs,
                                       top=best[0] * (1 + rel) * (1 + 1e-9))
        except WontFit as exc:  # band rows too dear for the lattice: the whole strip, where it fits
            if max_cells is not None and cells > max_cells:
                raise
            tiles, method = (), f"every cell of the strip scanned ({exc})"
    if tiles:
        # every cell farther from the diagonal lies in an excluded tile; the scan's sums start at |δ| ≥ w − 1
        K_scan = min(K, max(w - 1, reach))
        share = (2 * K_scan + 1) * sum(e - s for s, e in runs) / ((2 * K + 1) * (n + 1))
        method = (f"the strip's tiles of cuts ({' then '.join(f'{t} × {t}' for t in tiles)}) bounded by their "
                  f"corners, {100 * share:.2g}% of its cells scanned")
    if middle is not None:
        method += (f"; the key cuts {A0}…{A1} read only rows that are translates of one another"
                   + (f" with period {period}" if period > 1 else "")
                   + ", so each diagonal's minimum there lies at an end or at the balance cut (C5t): 4 cells per "
                   + ("diagonal" if period == 1 else "diagonal and phase"))
    scanned = (2 * K_scan + 1) * sum(e - s for s, e in runs)
    if max_cells is not None and scanned > max_cells:
        raise WontFit(f"the tiles of the strip |b − a| ≤ {K} leave {scanned:.2e} cells to scan, which exceeds "
                      f"{max_cells:.0e}")
    deltas = np.arange(-K_scan, K_scan + 1)
    # U_i(m) and P_i(m) read column k(m) = clip(w − 1 − m, 0, 2w − 1) of the row's suffix / prefix sums
    cols = np.clip(w - 1 - deltas, 0, 2 * w - 1)
    # the halo of 2 min(K, w) band rows costs at most half
    chunk = chunk or max(256, 2 * min(K_scan, w), BAND_CELLS // (2 * K_scan + 1))
    for s, e in runs:
        for a0 in range(s, e, chunk):
            cand = _scan_strip(a0, min(e, a0 + chunk), n, K_scan, w, band_rows, cols, deltas, R, C, Rs, Cs, extra,
                               first, rowsum)
            if cand[0] < best[0] or (cand[0] == best[0] and (cand[2], cand[1]) < (best[2], best[1])):
                best = cand
    if not np.isfinite(best[0]):
        raise AttentionTransportError("no bipartite cut has positive volume on both sides; got an all-zero matrix.")
    phi, a_star, b_star = best
    return BipartiteMinimum(phi=phi, a_star=a_star, b_star=b_star, n=n, rel_error=rel, method=method), K


def _band_cuts(a0, a1, n, K, w, band_rows, cols, rowsum):
    """``cut[q, a − a0]``: the band's cut at ``(a, a + δ_q)``, ``δ_q = q − K``, for ``a0 ≤ a < a1``, every cut a sum of
    nonnegative terms.  Only the rows within w of the key cuts are read as band rows; a row farther from the key
    cut lies on one side of it, so it adds its whole sum (``rowsum``, the band rows' sums) or nothing."""
    width = 2 * w - 1
    near = min(K, w)  # rows a + m, |m| ≤ near, are read; beyond, m ≥ w − 1 or m ≤ −w: a whole row or nothing
    lo, hi = a0 - near, a1 + near
    D = np.zeros((hi - lo, width))
    r0, r1 = max(lo, 0), min(hi, n)
    if r1 > r0:
        D[r0 - lo: r1 - lo] = band_rows(r0, r1)
    # prefix and suffix sums of every band row, transposed so that each δ reads contiguous slices
    preT = np.zeros((width + 1, D.shape[0]))
    np.cumsum(D.T, axis=0, out=preT[1:])
    sufT = np.zeros((width + 1, D.shape[0]))
    sufT[:width] = np.cumsum(D.T[::-1], axis=0)[::-1]
    del D
    span = a1 - a0
    sums = np.zeros(span + 2 * K)  # rowsum at the rows a0 − K … a1 + K − 1, 0 outside the matrix
    s0, s1 = max(a0 - K, 0), min(a1 + K, n)
    if s1 > s0:
        sums[s0 - (a0 - K): s1 - (a0 - K)] = rowsum[s0:s1]

    def whole(q):  # the sums of the rows a + δ_q, a in [a0, a1)
        return sums[q: q + span]

    # T2[q] = Σ_{m ≥ δ_q} P_{a+m}(m): P vanishes for m ≥ w − 1 ≤ K, so summed from δ = K down;
    # T1[q] = Σ_{m < δ_q} U_{a+m}(m): U vanishes for m ≤ −w and −K ≤ −(w − 1), so summed from δ = −K up
    T2 = np.empty((2 * K + 1, span))
    run = np.zeros(span)
    for q in range(2 * K, -1, -1):
        delta = q - K
        if abs(delta) <= near:
            run += preT[cols[q], delta + near: delta + near + span]  # the rows a + δ_q
        elif delta < 0:  # P_{a+δ}(δ) for δ ≤ −w: the whole row lies left of a
            run += whole(q)
        T2[q] = run
    cut = T2
    run = np.zeros(span)
    for q in range(1, 2 * K + 1):
        delta = q - 1 - K
        if abs(delta) <= near:
            run += sufT[cols[q - 1], delta + near: delta + near + span]
        elif delta > 0:  # U_{a+δ}(δ) for δ ≥ w: the whole row lies right of a
            run += whole(q - 1)
        cut[q] += run
    return cut


def _scan_strip(a0, a1, n, K, w, band_rows, cols, deltas, R, C, Rs, Cs, extra, first, rowsum):
    """``(φ, a, b)`` of the smallest cell with ``a0 ≤ a < a1`` and ``|b − a| ≤ K``, every cut summed exactly."""
    span = a1 - a0
    a = np.arange(a0, a1)
    cut = _band_cuts(a0, a1, n, K, w, band_rows, cols, rowsum)
    # volumes from padded prefix and suffix sums: b = a + δ_q reads R[a0 + q − K : …], again a slice
    pad = np.full(K, np.nan)
    Rp, Rsp = np.concatenate([pad, R, pad]), np.concatenate([pad, Rs, pad])
    vol = np.lib.stride_tricks.sliding_window_view(Rp[a0: a0 + span + 2 * K], span)[: 2 * K + 1] + C[a]
    comp = np.lib.stride_tricks.sliding_window_view(Rsp[a0: a0 + span + 2 * K], span)[: 2 * K + 1] + Cs[a]
    denom = np.minimum(vol, comp)  # nan where b is outside 0..n
    b = a[None, :] + deltas[:, None]
    if extra is not None:
        Sb, Ha = extra
        cut = cut + Sb[np.clip(b, 0, n)] + Ha[a][None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = cut / denom
    phi[~(denom > 0)] = np.inf  # b outside the matrix (nan) or an empty side
    if first:
        phi[(b < first) | (a[None, :] < first)] = np.inf
    low = phi.min()
    if not np.isfinite(low):
        return (np.inf, -1, -1)
    qs, cs = np.nonzero(phi == low)  # ties: smallest b, then smallest a
    k = int(np.lexsort((a[cs], b[qs, cs]))[0])
    return (float(max(low, 0.0)), int(a[cs[k]]), int(b[qs[k], cs[k]]))


#: most hubs the hub strip takes: its edge regions cost 3h products and a few (h, n + 1) tables
HUB_BAND_MAX_HUBS = 32


def _argmin_cell(phi, bs, as_):
    """``(φ, a, b)`` of the smallest entry of ``phi`` (rows ``bs``, columns ``as_``); ties: smallest b, then a."""
    low = float(phi.min()) if phi.size else np.inf
    if not np.isfinite(low):
        return np.inf, -1, -1
    qs, ps = np.nonzero(phi == low)
    k = int(np.lexsort((as_[ps], bs[qs]))[0])
    return max(low, 0.0), int(as_[ps[k]]), int(bs[qs[k]])


def _better(x, y):
    return x if (x[0], x[2], x[1]) <= (y[0], y[2], y[1]) else y


#: the exact edge of C5h may widen past the hubs by at most this many tokens (3 product columns each)
HUB_EDGE_MAX = 64


def _edge_cells(r, c, h, matvec, rmatvec, hub_rows):
    """The exact minimum over the cells with a < h or b < h (the hubs on both sides of a cut), every cut a
    sum of nonnegative terms from 3h products: ``O(n · h)``."""
    n = r.size
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs, Cs = _suffix(r), _suffix(c)
    X = np.zeros((n, 2 * h))
    for a in range(h):
        X[:a, a] = 1.0
        X[a:, h + a] = 1.0
    Y = np.maximum(matvec(X), 0.0)  # [i, a]: row i's mass left of a; [i, h + a]: right of it
    # a < h: cut(a, b) = Σ_{i<b} (mass right of a) + Σ_{i≥b} (mass left of a), for b = 0..n
    cut = np.concatenate([np.zeros((1, h)), np.cumsum(Y[:, h:], axis=0)]) + _suffix(Y[:, :h])
    vol, comp = R[:, None] + C[None, :h], Rs[:, None] + Cs[None, :h]
    best = _phi_min(cut, vol, comp, np.arange(n + 1), np.arange(h))
    # b < h: cut(a, b) = Σ_{i<b} Σ_{j≥a} A_ij + Σ_{j<a} Σ_{i≥b} A_ij, for a = 0..n
    Xb = np.zeros((n, h))
    for b in range(h):
        Xb[b:, b] = 1.0
    Z = np.maximum(rmatvec(Xb), 0.0)  # [j, b]: column j's mass from the rows i ≥ b
    H = np.concatenate([np.zeros((1, n)), np.cumsum(np.asarray(hub_rows, dtype=np.float64), axis=0)])[:h]
    cut = _suffix(H.T).T + np.concatenate([np.zeros((1, h)), np.cumsum(Z, axis=0)]).T  # [b, a]
    vol, comp = R[:h, None] + C[None, :], Rs[:h, None] + Cs[None, :]
    return _better(best, _phi_min(cut, vol, comp, np.arange(h), np.arange(n + 1)))


def _phi_min(cut, vol, comp, bs, as_):
    denom = np.minimum(vol, comp)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.inf)
    return _argmin_cell(phi, bs, as_)


def hub_cut_lower_bound(a, b, Sb, Bc, w):
    """The lower bound of C5h on ``cut(a, b)`` for cells with ``a, b ≥ h`` and ``|b − a| ≥ w``: ``S(b)``, the
    hub mass of the queries right of the cut, plus the off-hub mass β of the band's queries between the cuts
    that lie a whole band away from the key cut (``Bc[k] = Σ_{i<k} β_i``).  For ``b > a`` those are the rows
    ``a + w − 1 ≤ i < b`` (in X, every off-hub key right of a); for ``a > b`` the rows ``b ≤ i ≤ a − w`` (not in
    X, every off-hub key left of a)."""
    a, b = np.asarray(a), np.asarray(b)
    lo = np.where(b > a, a + w - 1, b)
    hi = np.where(b > a, b, a - w + 1)
    return Sb[b] + Bc[hi] - Bc[lo]


def hub_banded_bipartite_minimum(r, c, h, w, band_rows, matvec, rmatvec, hub_rows, *, max_cells=None, K0=None,
                                 rows=None, tile=None, translates=None, translates_min=TRANSLATES_MIN):
    """``φ_bip`` and ``(a*, b*)`` of a matrix that is a band of width w once its first h tokens (the hubs:
    attention sinks, global tokens) are taken out: claim C5h of docs/theory.md.

    With the hubs on the key side of the cut (a, b ≥ h) the cut splits exactly into the band's cut, the hub
    mass of the queries right of the cut, ``S(b) = Σ_{i≥b} σ_i``, and the hub rows' mass right of the key
    cut.  Past the strip ``|b − a| ≤ K`` the band's queries between the cuts are cut whole, so
    ``φ(a, b) ≥ (S(b) + Σ β_i)/min(vol, comp)`` over those rows (β: a row's mass off the hubs).  Moving a
    further from b adds at least ``β_min`` to that numerator and at most ``c_max`` to the denominator, so by
    the mediant inequality the bound never falls below ``min(its value at the strip's edge, β_min/c_max)``.
    The strip is scanned exactly (:func:`banded_bipartite_minimum` with the hub terms added), the cells with
    a or b below h exactly from 3h products, and the edge of the strip is checked for every b; K doubles until
    every far cell is excluded, within ``max_cells`` (default :data:`~.structured.BAND_MAX_CELLS`).

    Parameters
    ----------
    r, c : numpy.ndarray, shape (n,)
        Row and column sums.
    h, w : int
        Hubs (the first h tokens) and the bandwidth of the rest.
    band_rows : callable
        ``band_rows(i0, i1)``: the band of rows i0..i1 − 1 with hub rows and columns zero (``Pattern.hub_band_rows``).
    matvec, rmatvec : callable
        ``A @ X`` and ``Aᵀ @ Y`` for (n, k) blocks.
    hub_rows : numpy.ndarray, shape (h, n)
        The first h rows.
    K0 : int, optional
        The first strip's half-width, at least w (default ``2w + 32``; small n and tests take ``w``).
    rows : callable, optional
        ``rows(i0, i1)``: rows i0..i1 − 1 of A, dense.  With it, the first tokens past the hubs whose rows carry
        little mass off the hubs (a stack's early queries, whose keys are mostly hubs or hub rows) join the
        exactly evaluated edge, up to :data:`HUB_EDGE_MAX` tokens and n/8: β_min is then taken over the rows
        past that edge only (every far cell with a and b past it adds only those rows).
    tile : int or sequence of int, optional
        Sides of the tiles that prune the strip (:func:`banded_bipartite_minimum`; 0: scan every cell).
    translates : tuple of two or three ints, optional
        ``(i0, i1)`` or ``(i0, i1, p)``: the rows ``i0 … i1 − 1`` are translates of one another off the hubs with
        period p (default 1), with the same hub entries, and the hub rows are p-periodic on their columns
        (``Pattern.translates``); their key cuts are then not scanned (C5t), when each row's hub mass and the hub
        rows' column sums are indeed p-periodic there.

    Raises
    ------
    WontFit
        When ``β_min/c_max`` is not above the strip's minimum (the mediant bound cannot exclude the far
        cells), or the strip that would exclude them exceeds ``max_cells``.
    """
    from attention_transport.errors import WontFit

    n = int(r.size)
    if max_cells is None:
        max_cells = 500_000_000
    K = max(2 * w + 32 if K0 is None else K0, w)
    why = strip_declined(n, K, w, max_cells, tile, translates)
    if why:  # before any product: the first strip alone is too large
        raise WontFit(f"the hub strip: {why}")
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs, Cs = _suffix(r), _suffix(c)
    X = np.zeros((n, 2))
    X[:h, 0] = 1.0
    X[h:, 1] = 1.0
    Y = np.maximum(matvec(X), 0.0)
    sigma, beta = Y[:, 0], Y[:, 1]  # each row's mass on the hubs and off them
    Sb = _suffix(sigma)  # Sb[b] = Σ_{i ≥ b} σ_i
    hub_rows = np.asarray(hub_rows, dtype=np.float64).reshape(h, n)
    Ha = _suffix(hub_rows.sum(axis=0))  # Ha[a] = Σ_{i < h} Σ_{j ≥ a} A_ij
    if translates is not None:  # the hub terms must be affine over the translates: Sb in b, Ha in a
        i0, i1, period = (*translates, 1)[:3]
        if not (periodic_over(sigma, i0, i1, period) and periodic_over(hub_rows.sum(axis=0), i0, i1, period)):
            translates = None
    g = 3 * _gamma(n * (h + 1) + 8 * n)
    edge = _edge_cells(r, c, h, matvec, rmatvec, hub_rows) if h else (np.inf, -1, -1)
    Bc = np.concatenate([[0.0], np.cumsum(beta)])  # Bc[k] = Σ_{i<k} β_i
    def ratio(e):
        """β_min/c_max over the rows and columns from e on, less the sums' rounding."""
        rows_in, cols_in = beta[e:], c[e:]
        return float(rows_in.min()) * (1 - g) / (float(cols_in.max()) * (1 + g)) \
            if rows_in.size and cols_in.max() > 0 else np.inf

    e = h  # cells with a or b below e are evaluated exactly; the mediant bound covers the far cells past them
    rho = ratio(e)
    while True:
        bs = np.arange(e, n + 1)
        why = strip_declined(n, K, w, max_cells, tile, translates)
        if why:
            raise WontFit(f"the hub strip: {why}")
        bm, K = banded_bipartite_minimum(r, c, band_rows, w, None, K=K, extra=(Sb, Ha), first=h, beta=beta, tile=tile,
                                         max_cells=max_cells, translates=translates,
                                         translates_min=translates_min)
        best = _better(edge, (bm.phi, bm.a_star, bm.b_star))
        rel = 3 * _gamma(n * (h + 1) + 2 * K + 2 * w + 8)
        top = best[0] * (1 + rel) * (1 + 1e-9)
        far = n - e > K  # some cell with a, b ≥ e lies past the strip: the mediant bound must exclude it
        if far and not rho > top and rows is not None:
            # the rows of least mass off the hubs sit just past them: move the exact edge past those rows
            tail = np.minimum.accumulate(beta[::-1])[::-1]  # tail[i] = min β over the rows i..n − 1
            cmax = np.maximum.accumulate(c[::-1])[::-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                good = np.flatnonzero(tail * (1 - g) > top * cmax * (1 + g))
            e_new = int(good[0]) if good.size else n
            if h < e_new <= min(h + HUB_EDGE_MAX, n // 8) and e_new > e:
                e = e_new
                edge = _better(edge, _edge_cells(r, c, e, matvec, rmatvec, rows(0, e)))
                best = _better(edge, (bm.phi, bm.a_star, bm.b_star))
                top = best[0] * (1 + rel) * (1 + 1e-9)
                rho = ratio(e)
                bs = np.arange(e, n + 1)
                far = n - e > K
        ok = rho > top or not far
        for side in (-1, 1):  # the first excluded a on each side of every b ≥ e, a ≥ e, and the mediant bound there
            a_e = bs + side * (K + 1)
            inside = (a_e >= e) & (a_e <= n)
            b_, a_ = bs[inside], a_e[inside]
            lower = hub_cut_lower_bound(a_, b_, Sb, Bc, w) - g * (Sb[b_] + Bc[-1])  # less the sums' rounding
            denom = np.minimum(R[b_] + C[a_], Rs[b_] + Cs[a_]) * (1 + g)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(denom > 0, lower / np.where(denom > 0, denom, 1.0), np.inf)
            ok = ok and bool((f > top).all())
        if ok:
            edge_text = (f"the cells with a or b below the {h} hub token(s)" if e == h else
                         f"the cells with a or b below {e} (the {h} hubs and the {e - h} tokens after them of least "
                         "mass off the hubs)")
            return BipartiteMinimum(phi=best[0], a_star=best[1], b_star=best[2], n=n, rel_error=rel,
                                    method=f"{edge_text} ({bm.method})"), K
        if far and not rho > top:
            raise WontFit(f"the hub strip cannot exclude the far cells: a row's least mass off the hubs over a "
                          f"column's largest sum, {rho:.3g}, is not above the strip's minimum {best[0]:.6g}")
        why = strip_declined(n, 2 * K, w, max_cells, tile, translates)
        if why or 2 * K >= n:
            raise WontFit(f"the hub strip |b − a| ≤ {K} does not yet exclude every far cell, and doubling it "
                          f"exceeds its limits{': ' + why if why else ''}")
        K *= 2
