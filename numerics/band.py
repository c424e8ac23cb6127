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

__all__ = ["band_search_width", "banded_bipartite_minimum", "BAND_CELLS", "hub_banded_bipartite_minimum",
           "hub_cut_lower_bound", "HUB_BAND_MAX_HUBS"]

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


def banded_bipartite_minimum(r, c, band_rows, w, phi_hat, chunk=None, *, K=None, extra=None, first=0):
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
    if K is None:
        K = band_search_width(w, phi_hat, float(r.min()), float(R[-1] + C[-1]))
    K = min(K, n)
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
                                 rows=None):
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
    if (2 * K + 1) * (n + 1) > max_cells:  # before any product: the first strip alone is too large
        raise WontFit(f"the hub strip |b − a| ≤ {K} (bandwidth {w} off the hubs) exceeds {max_cells:.0e} cells")
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
        if (2 * K + 1) * (n + 1) > max_cells:
            raise WontFit(f"the hub strip |b − a| ≤ {K} (bandwidth {w} off the hubs) exceeds {max_cells:.0e} cells")
        bm, K = banded_bipartite_minimum(r, c, band_rows, w, None, K=K, extra=(Sb, Ha), first=h)
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
                                    method=edge_text), K
        if far and not rho > top:
            raise WontFit(f"the hub strip cannot exclude the far cells: a row's least mass off the hubs over a "
                          f"column's largest sum, {rho:.3g}, is not above the strip's minimum {best[0]:.6g}")
        if (4 * K + 1) * (n + 1) > max_cells or 2 * K >= n:
            raise WontFit(f"the hub strip |b − a| ≤ {K} does not yet exclude every far cell, and doubling it "
                          f"exceeds {max_cells:.0e} cells")
        K *= 2
