"""The bipartite minimum of a pattern without a band, by an exact search over nested grids.

As in :mod:`~attention_transport.numerics.landscapes`, the cut (a, b) puts the first a keys
and the first b queries on one side:

.. math:: \\mathrm{cut}(a, b) = P(b, a) + Q(b, a),\\quad
          P(b, a) = \\sum_{i < b,\\, j \\ge a} A_{ij},\\quad Q(b, a) = \\sum_{i \\ge b,\\, j < a} A_{ij},

with ``vol = R(b) + C(a)`` and ``comp = R̄(b) + C̄(a)`` (prefix and suffix sums of the row and
column sums).  P grows with b and shrinks with a, Q the reverse; vol grows with both and comp
shrinks with both.  So on a cell ``[b_k, b_{k+1}] × [a_l, a_{l+1}]`` of a grid every (a, b) has

.. math:: \\varphi(a, b) \\ge \\frac{P(b_k, a_{l+1}) + Q(b_{k+1}, a_l)}
                                  {\\min(\\mathrm{vol}(a_{l+1}, b_{k+1}),\\ \\mathrm{comp}(a_l, b_k))},

a bound from the cell's corners alone, while every corner is a cut whose φ bounds φ_bip from
above.  A cell whose bound exceeds the best corner cannot hold the minimum.  The cells that
can are searched again, on a finer grid over the bounding box of each connected group of
them, until a box is small enough to evaluate every (a, b) in it from the block of A it
spans.  Nothing is sampled: every (a, b) is either evaluated or in a cell proven to lie
above a value attained, so the result is the exact minimum (up to rounding, below).

The corner values come from the pattern's products only.  Over a box ``[b_lo, b_hi] ×
[a_lo, a_hi]`` with grid lines ``b_k``, ``a_l``, row blocks ``I_k`` and column blocks ``J_l``:

.. math:: P(b_k, a_l) = \\sum_{j \\ge a_l} u_j + \\sum_{k' < k} \\Big(\\sum_{l' \\ge l} B_{k'l'} + h_{k'}\\Big),
          \\qquad Q(b_k, a_l) = \\sum_{j < a_l} v_j + \\sum_{k' \\ge k} \\Big(\\sum_{l' < l} B_{k'l'} + g_{k'}\\Big),

with ``u = Aᵀ 1[i < b_lo]``, ``v = Aᵀ 1[i ≥ b_hi]``, ``h_k`` and ``g_k`` the mass of rows
``I_k`` right of ``a_hi`` and left of ``a_lo`` (``A 1[j ≥ a_hi]``, ``A 1[j < a_lo]``), and
``B_kl`` the mass of ``I_k × J_l`` (products with column indicators, summed over row blocks,
or the block itself once the box is small).  Every term is a sum of nonnegative terms, so
no cut is a difference; the comparisons carry the relative margin of such sums
(:func:`~attention_transport.numerics.landscapes._gamma`), and products by FFT (long
Toeplitz kernels) are clipped at 0 like everywhere else.

A large box costs about :data:`GRID_LINES` product columns (in calls of 32), each at the
pattern's own cost (O(n) for the library's structured patterns); a box of at most
:data:`BLOCK_SUM_CELLS` cells takes its block sums from the block itself.  Near a smooth
minimum the live region stops shrinking at a few thousand tokens (the bound's slack is first
order in the cell size, the landscape's rise second order), and such a box is quartered.  The
cost is not bounded in general: a landscape with many separated near-minima, or one flat over
a wide region, keeps many cells alive.  :data:`MAX_WORK`, :data:`MAX_BOXES`, :data:`STALL_AREA`
and an optional time limit stop the search with :class:`~attention_transport.errors.WontFit`
instead of returning a value it has not proven.
"""
from __future__ import annotations

import time

import numpy as np
from scipy import ndimage

from attention_transport.errors import WontFit
from attention_transport.numerics.landscapes import BipartiteMinimum, _gamma

__all__ = ["bounded_bipartite_minimum", "cell_lower_bounds", "GRID_LINES", "DENSE_BOX_CELLS", "MAX_WORK", "MAX_BOXES"]

#: grid lines per side of a box on each level (the products cost one column per line)
GRID_LINES = 256
#: a box with at most this many cells (a, b) is evaluated whole, from the block of A it spans
DENSE_BOX_CELLS = 1 << 22
#: a box with at most this many cells gets its grid's block sums from the block of A itself, row block by row
#: block, instead of from products over all n rows (which cost the same for a small box as for the whole square)
BLOCK_SUM_CELLS = 1 << 28
#: a box whose live cells span more than this fraction of its area has a landscape too flat for the grid to
#: narrow (a valley along the diagonal, as beyond the balance point of sink and global-token patterns): give up
STALL_AREA = 0.25
#: work the whole search may spend before it gives up: product columns count n each, evaluated entries one each
MAX_WORK = 4_000_000_000
#: ... and boxes it may open (each costs a grid of corners and, for a large box, products)
MAX_BOXES = 400
#: indicator columns per product call (memory: n × this many float64)
_CHUNK = 32
#: the cost check's first, cheap timing: products with this many columns ...
_GATE_COLUMNS = 8
#: ... declined at once when that many times over the limit
_GATE_FACTOR = 2.5
#: a product timed above the cost ratio is timed up to this many times more (the fastest counts) before the
#: search declines: on a loaded machine one preempted product must not decide it
RETIMES = 3


def cell_lower_bounds(P, Q, vol, comp):
    """Lower bounds on φ over the cells of a grid, from ``P``, ``Q``, ``vol``, ``comp`` at its corners (arrays indexed
    [k, l] for the grid lines b_k, a_l): cell [k, l] has ``cut ≥ P[k, l+1] + Q[k+1, l]`` and
    ``min(vol, comp) ≤ min(vol[k+1, l+1], comp[k, l])`` (the module's monotonicity); ``inf`` where that is 0."""
    cut_lb = P[:-1, 1:] + Q[1:, :-1]
    den_ub = np.minimum(vol[1:, 1:], comp[:-1, :-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den_ub > 0, cut_lb / np.where(den_ub > 0, den_ub, 1.0), np.inf)


def _product_ratio(n, matvec, k):
    """The cost of a product with k indicator columns (the faster of two, the first also a warm-up) over that of a
    cumulative sum of the same block (the fastest of three), and the block: two timings taken together, so the
    ratio does not depend on the machine or on what else runs there."""
    X = np.zeros((n, k))
    edges = np.linspace(0, n, k + 1).astype(np.int64)
    for m in range(k):
        X[edges[m]:edges[m + 1], m] = 1.0
    took = np.inf
    for _ in range(2):
        t0 = time.perf_counter()
        matvec(X)
        took = min(took, time.perf_counter() - t0)
    base = np.inf
    for _ in range(3):  # the fastest of three: a preempted baseline would excuse a slow product
        t1 = time.perf_counter()
        np.cumsum(X, axis=0)
        base = min(base, time.perf_counter() - t1)
    return took / max(base, 1e-9), took, base, X


def _check_cost(n, matvec, max_cost_ratio):
    """Decline (:class:`WontFit`) before any level when a product with :data:`_CHUNK` indicator columns costs more
    than ``max_cost_ratio`` cumulative sums of the same block (:func:`_product_ratio`).  A product within 1.5 times
    the limit is timed up to :data:`RETIMES` times more.  A gate on :data:`_GATE_COLUMNS` columns comes first: a
    product already :data:`_GATE_FACTOR` times over the limit there is declined without the dearer timing (a few
    columns cost more per column than many, so the gate is generous: BigBird's 8-column ratio is 4.2, its
    32-column ratio 1.2)."""
    ratio = _product_ratio(n, matvec, _GATE_COLUMNS)[0]
    if ratio > _GATE_FACTOR * max_cost_ratio:
        raise WontFit(f"the bounded bipartite search at n = {n} needs about {GRID_LINES} product columns a level, "
                      f"and this pattern's products cost {ratio:.1f} cumulative sums of the same block on "
                      f"{_GATE_COLUMNS} columns (more than {_GATE_FACTOR:g} × {max_cost_ratio:g})")
    ratio, took, base, X = _product_ratio(n, matvec, _CHUNK)
    for _ in range(RETIMES if ratio <= 1.5 * max_cost_ratio else 0):
        # timed again before declining, unless both products were half as dear again as the limit allows: one
        # preempted product must not decide, and re-timing a product that costs seconds costs seconds
        if ratio <= max_cost_ratio:
            return
        t1 = time.perf_counter()
        matvec(X)
        took = min(took, time.perf_counter() - t1)
        ratio = took / max(base, 1e-9)
    if ratio > max_cost_ratio:
        raise WontFit(f"the bounded bipartite search at n = {n} needs about {GRID_LINES} product columns a level, "
                      f"and this pattern's products cost {ratio:.1f} cumulative sums of the same block (more than "
                      f"{max_cost_ratio:g})")


def bounded_bipartite_minimum(n, r, c, matvec, rmatvec, block, *, max_seconds=None, max_cost_ratio=None):
    """``φ_bip`` and ``(a*, b*)`` by the exact nested-grid search of this module.

    Parameters
    ----------
    n : int
        Number of tokens.
    r, c : numpy.ndarray
        Row and column sums of A.
    matvec, rmatvec : callable
        ``A @ X`` and ``Aᵀ @ Y`` for X, Y of shape (n, k).
    block : callable
        ``block(i0, i1, j0, j1)`` returns ``A[i0:i1, j0:j1]`` as a dense array.
    max_seconds : float, optional
        Give up (:class:`WontFit`) when the time spent passes this, or when the first product says
        that one level of the grid would take more than a quarter of it (a deep stack's products).
        What is returned never depends on it: it only decides whether the search finishes.
    max_cost_ratio : float, optional
        Give up before any level when a product with 32 indicator columns (past a warm-up product) costs more
        than this many cumulative sums of the same block, timed right after it (:func:`_check_cost`).

    Raises
    ------
    WontFit
        When the search spends more than :data:`MAX_WORK` or opens more than :data:`MAX_BOXES` boxes, or a box stays
        too flat to narrow (:data:`STALL_AREA`).
    """
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    R = np.concatenate([[0.0], np.cumsum(r)])
    C = np.concatenate([[0.0], np.cumsum(c)])
    Rs = np.concatenate([np.cumsum(r[::-1])[::-1], [0.0]])
    Cs = np.concatenate([np.cumsum(c[::-1])[::-1], [0.0]])
    g = 3 * _gamma(2 * n + 4)  # every value below is a sum of nonnegative terms: this relative error at most
    state = {"best": (np.inf, -1, -1), "work": 0, "boxes": 0, "cells": 0}
    start = time.perf_counter()

    def in_time(extra=0.0):
        if max_seconds is not None and time.perf_counter() - start + extra > max_seconds:
            raise WontFit(f"the bounded bipartite search at n = {n} would take more than {max_seconds:g} s (its "
                          f"products cost {state.get('per_column', 0.0):.2g} s per column, {GRID_LINES} columns a level)")

    def spend(work):
        state["work"] += work
        if state["work"] > MAX_WORK or state["boxes"] > MAX_BOXES:
            raise WontFit(f"the bounded bipartite search at n = {n} kept too many cells alive ({state['boxes']} boxes, "
                          f"{state['work']:.1e} work against a budget of {MAX_WORK:.0e}); its landscape has no narrow "
                          "minimum to close on")

    def products(cols, rows_lo, rows_hi, bl):
        """Row-block sums over ``bl`` of ``A 1_J`` for each column range J in ``cols``."""
        out = np.empty((len(bl) - 1, len(cols)))
        for s in range(0, len(cols), _CHUNK):
            part = cols[s:s + _CHUNK]
            X = np.zeros((n, len(part)))
            for m, (j0, j1) in enumerate(part):
                X[j0:j1, m] = 1.0
            spend(len(part) * n)
            t0 = time.perf_counter()
            Y = np.maximum(matvec(X), 0.0)[rows_lo:rows_hi]
            if len(part) == _CHUNK:
                state["full"] = state.get("full", 0) + 1
            if state.get("full") == 2 and "per_column" not in state:  # past warm-up: what a level will cost
                state["per_column"] = (time.perf_counter() - t0) / _CHUNK
                in_time(4 * GRID_LINES * state["per_column"] - (time.perf_counter() - start))
            out[:, s:s + len(part)] = np.add.reduceat(Y, bl[:-1] - rows_lo, axis=0)
        return out

    def level(b_lo, b_hi, a_lo, a_hi):
        dense = (b_hi - b_lo + 1) * (a_hi - a_lo + 1) <= DENSE_BOX_CELLS
        if dense:
            bl, al = np.arange(b_lo, b_hi + 1), np.arange(a_lo, a_hi + 1)
        else:
            bl = np.unique(np.round(np.linspace(b_lo, b_hi, GRID_LINES + 1)).astype(np.int64))
            al = np.unique(np.round(np.linspace(a_lo, a_hi, GRID_LINES + 1)).astype(np.int64))
        state["boxes"] += 1
        # u, v: column sums of the rows before and after the box; h, g: the box rows' mass outside its columns
        Y = np.zeros((n, 2))
        Y[:b_lo, 0] = 1.0
        Y[b_hi:, 1] = 1.0
        spend(2 * n + len(bl) * len(al))
        uv = np.maximum(rmatvec(Y), 0.0)
        Us = np.concatenate([np.cumsum(uv[::-1, 0])[::-1], [0.0]])  # Σ_{j ≥ a} u_j
        Vp = np.concatenate([[0.0], np.cumsum(uv[:, 1])])  # Σ_{j < a} v_j
        if b_hi > b_lo:
            outside = products([(a_hi, n), (0, a_lo)], b_lo, b_hi, bl)
            if dense:
                B = block(b_lo, b_hi, a_lo, a_hi)
            elif (b_hi - b_lo) * (a_hi - a_lo) <= BLOCK_SUM_CELLS:
                spend((b_hi - b_lo) * (a_hi - a_lo))
                B = np.empty((len(bl) - 1, len(al) - 1))
                for k in range(len(bl) - 1):
                    rows = np.maximum(block(int(bl[k]), int(bl[k + 1]), a_lo, a_hi), 0.0).sum(axis=0)
                    B[k] = np.add.reduceat(rows, al[:-1] - a_lo)
            else:
                B = products(list(zip(al[:-1].tolist(), al[1:].tolist())), b_lo, b_hi, bl)
        else:
            outside, B = np.zeros((0, 2)), np.zeros((0, len(al) - 1))
        if dense and B.shape[0]:
            B = np.maximum(B, 0.0)
        Bsuf = np.concatenate([np.cumsum(B[:, ::-1], axis=1)[:, ::-1], np.zeros((B.shape[0], 1))], axis=1)
        Bpre = np.concatenate([np.zeros((B.shape[0], 1)), np.cumsum(B, axis=1)], axis=1)
        rowP = Bsuf + outside[:, :1]
        rowQ = Bpre + outside[:, 1:2]
        P = Us[al][None, :] + np.concatenate([np.zeros((1, len(al))), np.cumsum(rowP, axis=0)])
        Q = Vp[al][None, :] + np.concatenate([np.cumsum(rowQ[::-1], axis=0)[::-1], np.zeros((1, len(al)))])
        vol = R[bl][:, None] + C[al][None, :]
        comp = Rs[bl][:, None] + Cs[al][None, :]
        denom = np.minimum(vol, comp)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(denom > 0, (P + Q) / np.where(denom > 0, denom, 1.0), np.inf)
        # on the edges of the square (no queries or all of them, no keys or all of them) the cut is the volume of one
        # side, so φ = 1 exactly; computed, it would be a ratio of two tiny rounded numbers where that side is small
        edge = np.isin(bl, (0, n))[:, None] | np.isin(al, (0, n))[None, :]
        phi = np.where(edge & (denom > 0), 1.0, phi)
        state["cells"] += phi.size
        k = int(np.argmin(phi))
        if phi.flat[k] < state["best"][0]:
            state["best"] = (float(phi.flat[k]), int(al[k % len(al)]), int(bl[k // len(al)]))
        if dense or len(bl) < 2 or len(al) < 2:
            return []
        lb = cell_lower_bounds(P, Q, vol, comp)
        inner = (np.diff(bl)[:, None] > 1) | (np.diff(al)[None, :] > 1)  # a cell with points off the grid
        alive = inner & (lb * (1 - g) <= state["best"][0] * (1 + g))
        labels, _ = ndimage.label(alive, structure=np.ones((3, 3)))
        boxes = []
        for sl in ndimage.find_objects(labels):
            boxes.append((int(bl[sl[0].start]), int(bl[sl[0].stop]), int(al[sl[1].start]), int(al[sl[1].stop])))
        return boxes

    def area(box, parent):
        """Area in the box's unresolved sides (a side no longer than the grid is resolved cell by cell)."""
        b = box[1] - box[0] + 1 if parent[1] - parent[0] > GRID_LINES else 1
        a = box[3] - box[2] + 1 if parent[3] - parent[2] > GRID_LINES else 1
        return a * b

    if max_cost_ratio is not None:
        _check_cost(n, matvec, max_cost_ratio)
    queue = [(0, n, 0, n)]
    while queue:
        box = queue.pop()
        in_time()
        children = level(*box)
        if sum(area(b, box) for b in children) > STALL_AREA * area(box, box):
            b_lo, b_hi, a_lo, a_hi = box
            if (b_hi - b_lo) * (a_hi - a_lo) <= BLOCK_SUM_CELLS:
                # near the minimum the live region stops shrinking at a few thousand tokens (the bound's slack is
                # first order in the cell size, the landscape's rise second order): quarter the box instead; every
                # quarter is cheap here, and the quarters soon fit a whole evaluation
                bm, am = (b_lo + b_hi) // 2, (a_lo + a_hi) // 2
                queue.extend({(b0, b1, a0, a1) for b0, b1 in ((b_lo, bm), (bm, b_hi))
                              for a0, a1 in ((a_lo, am), (am, a_hi))})
                continue
            raise WontFit(f"the bounded bipartite search at n = {n} cannot narrow its box [{box[0]}, {box[1]}] × "
                          f"[{box[2]}, {box[3]}]: the landscape is flat there within the grid's resolution (a valley "
                          "along the diagonal, as past the balance point of sink and global-token patterns)")
        queue.extend(children)
    phi, a_star, b_star = state["best"]
    return BipartiteMinimum(phi=max(phi, 0.0), a_star=a_star, b_star=b_star, n=n, rel_error=g,
                            method=f"bounded search over nested grids: {state['boxes']} boxes, {state['cells']} "
                                   f"corners evaluated, every other (a, b) in a cell proven above the minimum")
