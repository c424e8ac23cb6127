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

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.landscapes import BipartiteMinimum, _gamma, _suffix

__all__ = ["band_search_width", "banded_bipartite_minimum", "BAND_CELLS"]

#: cells (δ, a) per chunk of the strip scan: chunks of BAND_CELLS / (2K + 1) cut points
BAND_CELLS = 1 << 21
#: relative margin on the pruning bound's inputs (rounded row sums and volume)
_MARGIN = 1e-6


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


def banded_bipartite_minimum(r, c, band_rows, w, phi_hat, chunk=None):
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

    Returns
    -------
    tuple of (BipartiteMinimum, int)
        The minimum (ties: smallest b, then smallest a, as :func:`~.landscapes.bipartite_minimum`)
        and the strip's half-width K.  ``rel_error`` is the a-priori bound of the cells' rounding
        (sums of nonnegative terms only).
    """
    n = int(r.size)
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs, Cs = _suffix(r), _suffix(c)
    K = min(band_search_width(w, phi_hat, float(r.min()), float(R[-1] + C[-1])), n)
    width = 2 * w - 1
    deltas = np.arange(-K, K + 1)
    # U_i(m) and P_i(m) read column k(m) = clip(w − 1 − m, 0, 2w − 1) of the row's suffix / prefix sums
    cols = np.clip(w - 1 - deltas, 0, width)
    best = (np.inf, -1, -1)
    chunk = chunk or max(256, 2 * K, BAND_CELLS // (2 * K + 1))  # the halo of 2K rows costs at most half
    for a0 in range(0, n + 1, chunk):
        a1 = min(n + 1, a0 + chunk)
        lo, hi = a0 - K, a1 + K  # rows a + m for a in [a0, a1), |m| ≤ K
        D = np.zeros((hi - lo, width))
        r0, r1 = max(lo, 0), min(hi, n)
        if r1 > r0:
            D[r0 - lo: r1 - lo] = band_rows(r0, r1)
        # prefix and suffix sums of every band row, transposed so that each δ reads contiguous slices
        preT = np.zeros((width + 1, D.shape[0]))
        np.cumsum(D.T, axis=0, out=preT[1:])
        sufT = np.zeros((width + 1, D.shape[0]))
        sufT[:width] = np.cumsum(D.T[::-1], axis=0)[::-1]
        span = a1 - a0
        a = np.arange(a0, a1)
        # T2[q] = Σ_{m ≥ δ_q} P_{a+m}(m): P vanishes for m ≥ w − 1 ≤ K, so summed from δ = K down;
        # T1[q] = Σ_{m < δ_q} U_{a+m}(m): U vanishes for m ≤ −w and −K ≤ −(w − 1), so summed from δ = −K up
        T2 = np.empty((2 * K + 1, span))
        run = np.zeros(span)
        for q in range(2 * K, -1, -1):
            run += preT[cols[q], q: q + span]  # the rows a + δ_q, δ_q = q − K
            T2[q] = run
        cut = T2
        run = np.zeros(span)
        for q in range(1, 2 * K + 1):
            run += sufT[cols[q - 1], q - 1: q - 1 + span]
            cut[q] += run
        # volumes from padded prefix and suffix sums: b = a + δ_q reads R[a0 + q − K : …], again a slice
        pad = np.full(K, np.nan)
        Rp, Rsp = np.concatenate([pad, R, pad]), np.concatenate([pad, Rs, pad])
        vol = np.lib.stride_tricks.sliding_window_view(Rp[a0: a0 + span + 2 * K], span)[: 2 * K + 1] + C[a]
        comp = np.lib.stride_tricks.sliding_window_view(Rsp[a0: a0 + span + 2 * K], span)[: 2 * K + 1] + Cs[a]
        denom = np.minimum(vol, comp)  # nan where b is outside 0..n
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = cut / denom
        phi[~(denom > 0)] = np.inf  # b outside the matrix (nan) or an empty side
        b = a[None, :] + deltas[:, None]
        low = phi.min()
        if not np.isfinite(low):
            continue
        qs, cs = np.nonzero(phi == low)  # ties: smallest b, then smallest a
        k = int(np.lexsort((a[cs], b[qs, cs]))[0])
        cand = (float(max(low, 0.0)), int(a[cs[k]]), int(b[qs[k], cs[k]]))
        if cand[0] < best[0] or (cand[0] == best[0] and (cand[2], cand[1]) < (best[2], best[1])):
            best = cand
    if not np.isfinite(best[0]):
        raise AttentionTransportError("no bipartite cut has positive volume on both sides; got an all-zero matrix.")
    phi, a_star, b_star = best
    rel = 3 * _gamma(n + 2 * K + 2 * w + 8)  # cut: ≤ 2K + 2w nonnegative terms; volumes: ≤ n + 1
    return BipartiteMinimum(phi=phi, a_star=a_star, b_star=b_star, n=n, rel_error=rel), K
