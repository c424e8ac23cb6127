"""The quantities of docs/theory.md §1 for a *pattern* at n, without the n×n matrix.

Each function takes a :class:`~attention_transport.numerics.patterns.Pattern`
and n and uses only what the pattern owns — structural sums, matrix–vector
products, its sparse matrix, row blocks — so its cost is the pattern's:

=====================  =======================================================================
quantity               how
=====================  =======================================================================
φ, t*                  the prefix landscape from ``sums(n)`` (C1 when the strictly-upper sums
                       vanish, the general identity otherwise)
φ_bip, (a*, b*)        banded patterns: the strip |b − a| ≤ K that C5b proves holds the minimum
                       (:mod:`~.band`, O(n · K)), with hubs beside it (C5h); a sparse or dense
                       matrix in memory: corner-bounded tiles of cuts (one pass, then the tiles
                       that could hold the minimum); others: the exact O(n²) scan of
                       :func:`~.landscapes.bipartite_minimum_from_rows` over row blocks, and past
                       its limit the exact nested-grid search of :mod:`~.bipsearch` (products only)
G                      ``‖N − Nᵀ‖²`` and ``‖N + Nᵀ‖²`` from ``skew_norms``: the sparse matrix,
                       offset by offset or by convolutions (Toeplitz kernels), the factors of
                       ``A = Φ Ψ`` (BigBird and its stacks), row and column blocks
λ₂                     banded sparse matrices: shift-invert Lanczos through a banded Cholesky
                       factor of ``L + σ I`` (LAPACK, O(n w²)); a band with hub tokens: inertia
                       counts through the Schur complement on the hubs, and without a sparse form
                       one factor just below a coarse Rayleigh–Ritz bound; ``A = Φ Ψ`` through m
                       classes: Arnoldi on a problem of size 2m; strided patterns: inertia counts on
                       a band congruent to ``M − σ D`` (:mod:`~.strided`); otherwise LOBPCG on ``L = I − S``
                       orthogonal to the null vector ``D^{1/2} 1``, preconditioned by a sparse LU
                       when there is a sparse matrix, through the pattern's products otherwise
Cheeger sandwich       ``λ₂/2 ≤ h ≤ min(√(2 λ₂), φ(sweep))``; the sweep cut along
                       ``D^{-1/2} v₂`` (an actual vertex set, so a true upper bound) from the
                       sparse symmetrised graph, the factors ``Φ Ψ`` reordered, or from row blocks
                       up to n = 16384
=====================  =======================================================================

λ₂ is the Rayleigh quotient of the computed vector — an upper bound on λ₂ — with
its residual ``‖L v − λ v‖`` (v unit): an eigenvalue lies within the residual.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import contextlib
import ctypes
import os
import sys
import warnings
import weakref

import numpy as np
from scipy import linalg
from scipy.linalg import lapack
from scipy import sparse as sp
from scipy.sparse import linalg as spla

from attention_transport.errors import AttentionTransportError, WontFit
from attention_transport.memory import available_bytes
from attention_transport.numerics.band import (
    HUB_BAND_MAX_HUBS,
    band_search_width,
    banded_bipartite_minimum,
    hub_banded_bipartite_minimum,
    strip_declined,
)
from attention_transport.numerics.bipsearch import bounded_bipartite_minimum
from attention_transport.numerics.landscapes import (
    BipartiteMinimum,
    bipartite_minimum_from_rows,
    direct_prefix_cuts,
    prefix_landscape_from_sums,
)
from attention_transport.numerics.strided import strided_fiedler, strided_route_fits
from attention_transport.numerics.twogrid import two_grid_fiedler

__all__ = [
    "pattern_prefix_landscape",
    "pattern_bipartite_minimum",
    "pattern_asymmetry",
    "FiedlerPair",
    "pattern_fiedler",
    "pattern_cheeger_bounds",
    "exact_split",
    "LOBPCG_TOL",
    "LOBPCG_MAXITER",
    "LOBPCG_WORK",
    "SWEEP_BLOCKED_MAX_N",
    "SWEEP_BAND_MAX_VALUES",
    "SPARSIFY_PER_ROW",
    "SPARSIFY_MAX_NNZ",
    "DIRECT_CUT_MAX_N",
    "BAND_MAX_CELLS",
    "BAND_MAX_BYTES",
]


def _degrees(sums):
    d = 0.5 * (sums.r + sums.c)
    zero = np.flatnonzero(d == 0)
    if zero.size:
        raise AttentionTransportError("the degree-normalised operator is undefined at a zero-degree vertex "
                                      f"(row and column both zero); got d[{zero[0]}] = 0 ({zero.size} such vertices).")
    return d


#: Largest strip (cells (a, b) with |b − a| ≤ K) the band search of C5b scans: about half a minute on 2 cores
BAND_MAX_CELLS = 500_000_000
#: ... and at most this much memory for a chunk's band sums (rows a ± min(K, w), 2w − 1 offsets each: Mistral's
#: w = 4096 needs 1.7 GB)
BAND_MAX_BYTES = 2 << 30

#: The nested-grid search of φ_bip past the scan limit runs for patterns whose products cost at most this many
#: cumulative sums of the same block (library kernels, BigBird, document masks: 1–2; Longformer, deep stacks and
#: strided patterns: 5–7, where its ~256 product columns a level would take minutes at n = 10⁶)
BOUNDED_SEARCH_COST_RATIO = 3.0

#: Cuts the identity cannot resolve (docs/theory.md §1, accuracy) are summed directly from the pattern's
#: row blocks up to this n (an O(n²) pass); beyond, the landscape keeps their error bounds.
DIRECT_CUT_MAX_N = 16384


def pattern_prefix_landscape(pattern, n, sums=None):
    """Prefix landscape of ``pattern`` at n from its structural sums (C1 for causal patterns).

    A pattern not known to be causal whose strictly-upper sums are all zero is
    causal at this n; the landscape then comes from C1 as well.  Cuts below the
    identity's accuracy are summed directly from row blocks up to
    :data:`DIRECT_CUT_MAX_N` (see :mod:`~attention_transport.numerics.landscapes`);
    beyond, ``capacity_rel_error`` says how far φ can be trusted.
    """
    sums = sums or pattern.sums(n)
    causal = sums.s is None or (not np.any(sums.s) and not np.any(sums.u))
    direct = None
    if pattern.structural_cuts and causal:
        direct = lambda ts: pattern.prefix_cuts(n, ts)  # noqa: E731
    elif n <= min(DIRECT_CUT_MAX_N, pattern.blocked_max_n):
        direct = lambda ts: direct_prefix_cuts(pattern.row_blocks(n), n, ts, causal)  # noqa: E731
    if causal:
        return prefix_landscape_from_sums(sums.r, sums.c, direct=direct)
    return prefix_landscape_from_sums(sums.r, sums.c, sums.s, sums.u, direct=direct)


def exact_split(landscape):
    """The cut t at which ``landscape`` (a prefix landscape) certifies a zero cut, else None.

    A cut is certified zero when it was summed directly from nonnegative terms (its error bound is
    0 with it): no edge crosses t in either direction, so the transport graph falls apart into
    the first t tokens and the rest.  Then φ = φ_bip = h = λ₂ = 0 exactly, attained at t (the
    prefix cut is the bipartite cut a = b = t), whatever n; LongNet past its top segment and
    document masks are such patterns.
    """
    if landscape is None:
        return None
    t = landscape.t_star
    return t if landscape.cut[t - 1] == 0 and landscape.cut_error[t - 1] == 0 else None


def _hub_translates(pattern, n, h):
    """The pattern's translated rows ``(i0, i1, p)`` when it declares them with the same h hubs; else None."""
    found = pattern.translates(n)
    return tuple(found[1:]) if found is not None and found[0] == h else None


def _strip_bytes(K, w):
    """Memory of the strip scan's chunk: the band rows within w of 256 key cuts, their prefix and suffix sums."""
    return (2 * min(K, w) + 256) * (2 * w - 1) * 24


def pattern_bipartite_minimum(pattern, n, sums=None, *, landscape=None, scan_max=None):
    """``φ_bip`` and ``(a*, b*)`` of ``pattern`` at n, exactly.

    A pattern with a known bandwidth w is searched on the strip ``|b − a| ≤ K`` that C5b proves
    holds the minimum (:func:`~attention_transport.numerics.band.banded_bipartite_minimum`,
    O(n · K)), with the prefix capacity, widened by its error bound, as the attained value; a pattern
    holding a matrix in memory by its tiles of cuts
    (:meth:`~attention_transport.numerics.patterns.Pattern.tiled_bipartite_minimum`, at any n);
    every other pattern by the O(n²) scan over its row blocks up to ``scan_max``, and past it, when the pattern
    has products of its own (not "blocked"), by the exact nested-grid search of
    :func:`~attention_transport.numerics.bipsearch.bounded_bipartite_minimum`.

    Parameters
    ----------
    landscape : PrefixLandscape, optional
        The pattern's prefix landscape at n, when already computed.
    scan_max : int, optional
        Largest n for the O(n²) scan; beyond it :class:`WontFit` names the limit.

    Returns
    -------
    BipartiteMinimum
        ``method`` says which search gave it.
    """
    t = exact_split(landscape)
    if t is not None:  # no cut is below 0, and a = b = t is the prefix cut
        return BipartiteMinimum(phi=0.0, a_star=t, b_star=t, n=n,
                                method=f"the graph splits at t = {t}: the cut a = b = t is an exact zero")
    sums = sums or pattern.sums(n)
    w = pattern.bandwidth(n)
    why = "a pattern with a known bandwidth is searched near the diagonal instead (C5b)"
    if w is not None and float(sums.r.min()) > 0:
        landscape = landscape or pattern_prefix_landscape(pattern, n, sums)
        bound = landscape.capacity * (1 + landscape.capacity_rel_error)  # ≥ the true prefix capacity
        if np.isfinite(bound):
            K = band_search_width(w, bound, float(sums.r.min()), landscape.total_volume)
            memory = _strip_bytes(K, w)
            found = pattern.translates(n)
            translates = tuple(found[1:]) if found is not None and found[0] == 0 else None
            declined = strip_declined(n, K, w, BAND_MAX_CELLS, translates=translates)
            if 8 * (2 * K + 2 * w) <= n and not declined and memory <= BAND_MAX_BYTES:
                try:
                    bm, K = banded_bipartite_minimum(sums.r, sums.c, lambda i0, i1: pattern.band_rows(n, i0, i1, w),
                                                     w, bound, max_cells=BAND_MAX_CELLS, translates=translates)
                    return replace(bm, method=f"band search: |b − a| ≤ {K} holds the minimum (C5b, bandwidth {w}; "
                                              f"{bm.method})")
                except WontFit as exc:
                    declined = str(exc)
            why = (f"the strip of C5b (|b − a| ≤ {K}, bandwidth {w}: {memory / 2**30:.1f} GiB of band sums, limit "
                   f"{BAND_MAX_BYTES / 2**30:.0f} GiB) is beyond the scan's limits"
                   + (f": {declined}" if declined else ""))
    hub = pattern.hub_band(n)  # reached when the band of C5b, if any, was too wide: sinks and globals span n
    if hub is not None and 0 < hub[0] <= HUB_BAND_MAX_HUBS:
        h, hw = hub
        if 8 * (2 * (2 * hw + 32) + 2 * hw) <= n and _strip_bytes(2 * hw + 32, hw) <= BAND_MAX_BYTES:
            try:
                bm, K = hub_banded_bipartite_minimum(
                    sums.r, sums.c, h, hw, lambda i0, i1: pattern.hub_band_rows(n, i0, i1, h, hw),
                    lambda X: pattern.matvec(n, X), lambda Y: pattern.rmatvec(n, Y), pattern.rows(n, 0, h),
                    max_cells=BAND_MAX_CELLS, rows=lambda i0, i1: pattern.rows(n, i0, i1),
                    translates=_hub_translates(pattern, n, h))
                return replace(bm, method=f"hub strip: |b − a| ≤ {K} and {bm.method} hold the minimum (C5h, bandwidth "
                                          f"{hw} off the hubs)")
            except WontFit as exc:
                why = f"the hub strip of C5h declined: {exc}"
    tiled = pattern.tiled_bipartite_minimum(n)  # a matrix in memory: one pass, then the tiles that could hold it
    if tiled is not None:
        return tiled
    if scan_max is not None and n > scan_max:
        if pattern.structure(n) == "blocked":
            raise WontFit(f"n = {n} exceeds the bipartite scan limit {scan_max} (an exact O(n²) scan), and {why}")
        try:
            return bounded_bipartite_minimum(n, sums.r, sums.c, lambda X: pattern.matvec(n, X),
                                             lambda Y: pattern.rmatvec(n, Y),
                                             lambda i0, i1, j0, j1: pattern.block(n, i0, i1, j0, j1),
                                             max_cost_ratio=BOUNDED_SEARCH_COST_RATIO)
        except WontFit as exc:
            raise WontFit(f"n = {n} exceeds the bipartite scan limit {scan_max} (an exact O(n²) scan), {why}, and "
                          f"{exc}") from None
    return bipartite_minimum_from_rows(sums.r, sums.c, pattern.row_blocks(n),
                                       lambda tail: pattern.rows(n, tail, n), direct=lambda: pattern.row_blocks(n))


def pattern_asymmetry(pattern, n, sums=None):
    """Asymmetry coefficient ``G = ‖K‖_F / ‖S‖_F`` of ``pattern`` at n.

    .. math:: G^2 = \\frac{\\|N - N^\\top\\|_F^2}{\\|N + N^\\top\\|_F^2},
              \\qquad N_{ij} = \\frac{A_{ij}}{\\sqrt{d_i d_j}}
    """
    sums = sums or pattern.sums(n)
    skew, sym = pattern.skew_norms(n, _degrees(sums))
    return float(np.sqrt(skew / sym))


@dataclass(frozen=True)
class FiedlerPair:
    """``λ₂`` of ``L = I − S`` as the Rayleigh quotient of ``vector`` (unit, orthogonal to
    ``D^{1/2} 1``), the residual ``‖L v − λ₂ v‖``, whether it met the tolerance, and the method.

    The Rayleigh quotient of any unit vector orthogonal to the null vector is an
    upper bound on λ₂ (Courant–Fischer); the residual r says an eigenvalue of L
    lies within r of it.  When ``converged`` is False (a dense cluster of
    eigenvalues just above λ₂, as for sink heads at large n) the value is that
    upper bound and the residual says how far the iteration got.
    """

    lambda2: float
    vector: np.ndarray
    residual: float
    converged: bool
    iterations: int
    method: str
    #: a lower bound on λ₂ from an inertia count (Sylvester's law of inertia), when one was made
    lower: float | None = None


#: LOBPCG settings: absolute residual tolerance (‖L‖ ≤ 2), block size, and the iteration budget:
#: LOBPCG_MAXITER up to n = LOBPCG_WORK / LOBPCG_MAXITER, then LOBPCG_WORK / n (at least LOBPCG_MIN_ITER)
LOBPCG_TOL = 1e-12
LOBPCG_BLOCK = 8
LOBPCG_MAXITER = 200
LOBPCG_MIN_ITER = 30
LOBPCG_WORK = 30_000_000
#: up to this n a stalled block iteration is decided by the dense symmetric eigensolver
DENSE_FALLBACK_N = 4096


#: LU-precondition only when the links outside hub rows and columns stay within this band
LU_BAND = 4096


@contextlib.contextmanager
def _c_stdout_to_stderr():
    """SuperLU reports a factorization it cannot fit with C's ``printf`` on stdout, which would land inside
    ``check --json``'s output: while it runs, file descriptor 1 points at stderr, C's buffers flushed on both
    sides of the switch."""
    try:
        flush = ctypes.CDLL(None).fflush
    except (OSError, AttributeError):  # no C library to flush through: the switch alone
        flush = None
    sys.stdout.flush()
    if flush is not None:
        flush(None)
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        if flush is not None:
            flush(None)
        os.dup2(saved, 1)
        os.close(saved)


def _banded_but_hubs(A):
    """True when a sparse LU of the Laplacian stays sparse: every entry outside the hub rows and columns
    (degree above 16 × the median, e.g. global tokens and sinks, ordered last by COLAMD) lies within
    :data:`LU_BAND` of the diagonal.  Long-range links (random blocks, hashed links) fill an LU in."""
    C = A.tocoo()
    deg = np.bincount(C.row, minlength=A.shape[0]) + np.bincount(C.col, minlength=A.shape[0])
    hub = deg > 16 * max(1.0, float(np.median(deg)))
    keep = ~hub[C.row] & ~hub[C.col]
    return bool(keep.sum() == 0 or np.abs(C.row[keep] - C.col[keep]).max() <= LU_BAND)


#: a Laplacian of bandwidth up to this is factored in LAPACK's banded storage: O(n w²), no fill outside the band
CHOLESKY_BAND_MAX_W = 512
#: shifts tried for the banded Cholesky factor of L + σ I (L is singular): far below λ₂ ~ 1/n² at n = 10⁶
CHOLESKY_SHIFTS = (1e-13, 1e-11, 1e-9)


def _upper_banded(M, w):
    """LAPACK's upper banded storage of a symmetric sparse M of bandwidth w: ``ab[w − 1 + i − j, j] = M_ij``,
    i ≤ j.  An entry outside the band is an error, never a silently misplaced value."""
    C = sp.triu(M).tocoo()
    if C.nnz and int((C.col - C.row).max()) >= w:
        raise AttentionTransportError(f"the Laplacian has an entry {int((C.col - C.row).max())} off the diagonal, "
                                      f"outside the declared bandwidth {w}.")
    ab = np.zeros((w, M.shape[0]))
    ab[w - 1 + C.row - C.col, C.col] = C.data
    return ab


def _banded_cholesky(L, w):
    """A preconditioner ``(L + σ I)^{-1}`` from the banded Cholesky factor (LAPACK ``pbtrf`` through
    :func:`scipy.linalg.cholesky_banded`), with the smallest shift σ of :data:`CHOLESKY_SHIFTS` that
    factors: near-exact inverse iteration, so tiny λ₂ of long windows and their stacks converge in a
    few iterations."""
    n = L.shape[0]
    ab = _upper_banded(L, w)
    for shift in CHOLESKY_SHIFTS:
        shifted = ab.copy()
        shifted[w - 1] += shift
        try:
            cb = linalg.cholesky_banded(shifted, lower=False)
        except np.linalg.LinAlgError:
            continue

        def solve(X, cb=cb):
            return linalg.cho_solve_banded((cb, False), np.asarray(X, dtype=np.float64))

        return spla.LinearOperator((n, n), matvec=solve, matmat=solve, dtype=np.float64), shift
    raise AttentionTransportError(f"the banded Laplacian did not factor with any shift of {CHOLESKY_SHIFTS}")


#: hub vertices (sinks, global tokens) are at most this many for the Schur-complement route
HUB_MAX = 256
#: bisection on the inertia count stops at this relative width of the bracket on λ₂
INERTIA_RTOL = 1e-9
#: restarts of the shift-invert Lanczos iteration of the hub route (a cluster above the shift may not converge)
HUB_LANCZOS_MAXITER = 40
#: a λ₂ bracketed this tightly (relative) by an inertia count and a Rayleigh quotient counts as converged
BRACKET_RTOL = 1e-6
#: the sparse hub route's first shifts lie this far (relative) below the coarse Ritz bounds (on λ₂ and on the
#: bottom of the non-hub block's spectrum), each tried in turn before a bisection inside the bracket they leave
#: (decades: the bounds at n = 10⁶ lie 1e-7 to 1e-6 above, so the bracket starts under 1e-6 wide)
HUB_SHIFTS = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
#: the coarse bounds cost one product per hub: taken for at most this many hubs (more go straight to bisection)
HUB_COARSE_MAX = 32
#: the coarse space of those bounds has at most about this many blocks (blocks of at least the bandwidth w)
COARSE_BLOCKS = 2048


def _hub_split(A):
    """``(hubs, rest, w)`` when the symmetrised graph is a band of width ``w ≤ CHOLESKY_BAND_MAX_W`` once at most
    :data:`HUB_MAX` hub vertices (degree above 16 × the median: sinks, global tokens) are taken out; else None."""
    C = A.tocoo()
    n = A.shape[0]
    deg = np.bincount(C.row, minlength=n) + np.bincount(C.col, minlength=n)
    hub = deg > 16 * max(1.0, float(np.median(deg)))
    if not 0 < hub.sum() <= HUB_MAX:
        return None
    keep = ~hub[C.row] & ~hub[C.col]
    rest = np.flatnonzero(~hub)
    pos = np.cumsum(~hub) - 1  # index of a non-hub vertex inside ``rest``
    w = int(np.abs(pos[C.row[keep]] - pos[C.col[keep]]).max(initial=0)) + 1
    return (np.flatnonzero(hub), rest, w) if w <= CHOLESKY_BAND_MAX_W else None


def _triangular_banded(cb, B, trans):
    """``U^{-1} B`` (trans "N") or ``U^{-T} B`` (trans "T") for the upper banded factor U of
    :func:`scipy.linalg.cholesky_banded` (LAPACK ``tbtrs``)."""
    X, info = lapack.dtbtrs(cb, np.asfortranarray(B, dtype=np.float64), uplo="U", trans=trans)
    if info != 0:
        raise AttentionTransportError(f"the banded triangular solve failed (LAPACK tbtrs info {info})")
    return X


class _HubSolver:
    """``L − σ I`` split into a banded block ``B`` (non-hub vertices), the hub columns ``C`` and the hub block
    ``Hm``: for σ below the spectrum of B, a banded Cholesky factor of ``B − σ I`` and the h×h Schur complement
    ``S(σ) = Hm − σ I − Cᵀ (B − σ I)^{-1} C`` give the inertia of ``L − σ I`` (Haynsworth: that of B − σ I,
    all positive, plus that of S) and solves with ``L − σ I`` by block elimination."""

    def __init__(self, L, hubs, rest, w):
        if L.format == "csc":  # L is exactly symmetric: its CSC arrays are its CSR arrays
            L = sp.csr_matrix((L.data, L.indices, L.indptr), shape=L.shape)
        L = L.tocsr()
        h = hubs.size
        if np.array_equal(hubs, np.arange(h)):  # hubs first (sinks, global tokens): slices, not fancy indexing
            R, top = L[h:], L[:h]
            self._set(_upper_banded(R[:, h:], w), R[:, :h].toarray(), top[:, :h].toarray(), hubs, rest)
            return
        self._set(_upper_banded(L[rest][:, rest], w), L[rest][:, hubs].toarray(), L[hubs][:, hubs].toarray(), hubs,
                  rest)

    @classmethod
    def from_parts(cls, band, C, Hm, hubs, rest):
        """The solver from the non-hub block in LAPACK's upper banded storage, the hub columns and the hub block."""
        self = cls.__new__(cls)
        self._set(band, C, Hm, hubs, rest)
        return self

    def _set(self, band, C, Hm, hubs, rest):
        self.n, self.hubs, self.rest, self.w = hubs.size + rest.size, hubs, rest, band.shape[0]
        self.band, self.C, self.Hm = band, np.asfortranarray(C), Hm  # Fortran order: LAPACK's solves take it as is

    def factor(self, sigma):
        """``[cb, S, Y, X]`` at σ — the banded factor U of ``B − σ I = Uᵀ U``, the Schur complement
        ``S = Hm − σ I − Yᵀ Y`` with ``Y = U^{-T} C`` (one triangular solve: the inertia count needs no more), and
        ``X = (B − σ I)^{-1} C = U^{-1} Y``, left None until a solve needs it — or None when ``B − σ I`` is not
        positive definite (σ too high)."""
        shifted = self.band.copy()
        shifted[self.w - 1] -= sigma
        try:  # the band holds finite entries by construction: no O(n w) finiteness pass per call
            cb = linalg.cholesky_banded(shifted, lower=False, overwrite_ab=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        Y = _triangular_banded(cb, self.C, "T")
        S = self.Hm - sigma * np.eye(self.hubs.size) - Y.T @ Y
        return [cb, 0.5 * (S + S.T), Y, None]

    @staticmethod
    def below(factored):
        """Eigenvalues of L below σ: the negative eigenvalues of S (B − σ I contributes none)."""
        return int((linalg.eigvalsh(factored[1]) < 0).sum())

    def apply(self, x):
        """``L x`` from the stored blocks: the banded non-hub block offset by offset (each entry was computed
        directly, so no prefix sums cancel), the hub columns and the hub block.  BLAS ``dsbmv`` does the banded
        part too, but took 4.8 s against 0.53 s for these slices at n = 10⁶, bandwidth 257."""
        x = np.asarray(x, dtype=np.float64)
        xk, xh = x[self.rest], x[self.hubs]
        y = np.zeros_like(xk)
        m, w = xk.size, self.w
        for s in range(min(w, m)):  # ab[w − 1 − s, j] = B[j − s, j]: the upper diagonal at offset s
            diag = self.band[w - 1 - s, s:]
            y[:m - s] += diag * xk[s:]
            if s:
                y[s:] += diag * xk[:m - s]
        out = np.empty_like(x)
        out[self.rest] = y + self.C @ xh
        out[self.hubs] = self.C.T @ xk + self.Hm @ xh
        return out

    def solve(self, factored, y):
        """``(L − σ I)^{-1} y`` by block elimination on the hubs."""
        if factored[3] is None:
            factored[3] = _triangular_banded(factored[0], factored[2], "N")
        cb, S, _, X = factored
        yk, yh = y[self.rest], y[self.hubs]
        z = linalg.cho_solve_banded((cb, False), yk, check_finite=False)
        xh = linalg.solve(S, yh - self.C.T @ z, assume_a="sym")
        out = np.empty(self.n)
        out[self.rest] = z - X @ xh
        out[self.hubs] = xh
        return out


def _hub_lanczos(hs, factored, v1):
    """Shift-invert Lanczos with the factors of :meth:`_HubSolver.factor` at σ, orthogonal to the null vector:
    ``(x, op)``, the Ritz vector of the largest eigenvalue of ``P (L − σ I)^{-1} P`` (the eigenvalue of L nearest
    above σ) and that operator.  A dense cluster above the shift may keep ARPACK from converging: then the best
    Ritz vector so far."""
    def op(x):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        x = x - v1 * (v1 @ x)
        y = hs.solve(factored, x)
        return y - v1 * (v1 @ y)

    x0 = np.random.default_rng(0).standard_normal(hs.n)
    try:
        _, V = spla.eigsh(spla.LinearOperator((hs.n,) * 2, matvec=op, dtype=np.float64), k=1, which="LA", v0=x0,
                          tol=1e-13, ncv=24, maxiter=HUB_LANCZOS_MAXITER)
        return V[:, 0], op
    except spla.ArpackNoConvergence as exc:
        return (exc.eigenvectors[:, 0] if exc.eigenvectors.shape[1] else op(op(x0))), op


def _hub_fiedler(hs, apply_l, hubs, w, v1, d):
    """λ₂ of a banded Laplacian with hub vertices, bracketed by inertia counts (Sylvester's law of inertia).

    ``count(σ)`` = the number of eigenvalues of L below σ, from the Schur complement on the hubs,
    for every σ below the smallest eigenvalue μ of the banded block (where its Cholesky factor exists);
    a σ where the block factors and ``count(σ) ≤ 1`` is a lower bound on λ₂.  The first shifts tried lie just
    below the coarse Rayleigh–Ritz bounds on λ₂ and on μ (:func:`_coarse_ritz_bounds`): a handful of factors
    instead of a bisection's thirty.  Where none certifies, bisection on σ ∈ [0, 2] closes on min(μ, λ₂) from
    below to :data:`INERTIA_RTOL`.  Shift-invert Lanczos with the factors at the certified shift (solves by block
    elimination) gives a vector whose Rayleigh quotient bounds λ₂ above (for sink heads λ₂ sits in a dense
    cluster just above μ, and the quotient lands in it).  The lower end lies within :data:`INERTIA_RTOL` of
    min(μ, λ₂) after a bisection, or within 1e-7 when the first shift certifies at once (the ceiling is at least
    min(μ, λ₂)): no count above min(μ, λ₂) can certify, so no later count could raise it further.  Returns None
    when the banded block does not factor at all.  ``hs`` is the :class:`_HubSolver` of L, ``apply_l`` L's product.
    """
    lower = factored = None
    if hubs.size <= HUB_COARSE_MAX:
        ceiling = min(_coarse_ritz_bounds(apply_l, hs.n, d, hubs, w))  # ≥ min(λ₂, μ)
        failed, two_below = None, False
        for rel in HUB_SHIFTS:
            f = hs.factor(ceiling * (1.0 - rel))
            if f is not None and hs.below(f) <= 1:
                lower, factored = ceiling * (1.0 - rel), f
                how = f"the inertia count {rel:g} below the coarse Ritz bounds on λ₂ and on the block's bottom"
                break
            failed = ceiling * (1.0 - rel)  # B does not factor (σ ≥ μ) or two eigenvalues lie below: ≥ min(μ, λ₂)
            two_below = two_below or f is not None
        if factored is not None and failed is not None:
            # a bracket [σ, failed] on min(μ, λ₂), a decade wide: bisection closes it to INERTIA_RTOL in about
            # ten factors.  For sink heads λ₂ sits in a dense cluster just above μ, and
            # Lanczos separates it only from a shift that close
            lower, factored, how = _inertia_bisection(hs, lower, factored, failed, two_below)
    if factored is None:
        # bisection on σ ∈ [0, 2] (‖L‖ ≤ 2): a σ at which B − σ I factors and one eigenvalue of L lies below is a
        # certified lower bound on λ₂; a σ where B does not factor (σ above μ, the bottom of B's spectrum) or two
        # eigenvalues lie below is an upper bound on min(μ, λ₂).  The bracket closes on min(μ, λ₂) from below.
        found = _inertia_bisection(hs, 0.0, None, 2.0)
        if found is None:
            return None
        lower, factored, how = found

    # shift-invert Lanczos with the factors at the lower end: the Ritz vector's Rayleigh quotient bounds λ₂ above
    x, op = _hub_lanczos(hs, factored, v1)
    v, lam, res = _rayleigh(apply_l, x, v1)
    if res > 10 * LOBPCG_TOL:  # polish: LOBPCG with the exact shift-invert as its preconditioner
        X0 = np.column_stack([v, np.random.default_rng(1).standard_normal((hs.n, 3))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            M = spla.LinearOperator((hs.n,) * 2, matvec=op, dtype=np.float64,
                                    matmat=lambda X: np.column_stack([op(c) for c in X.T]))
            L = spla.LinearOperator((hs.n,) * 2, matvec=apply_l, matmat=apply_l, dtype=np.float64)
            w_, V, _ = spla.lobpcg(L, X0, M=M, Y=v1[:, None], largest=False, tol=LOBPCG_TOL, maxiter=20,
                                   retResidualNormsHistory=True)
        polished = _rayleigh(apply_l, V[:, int(np.argmin(w_))], v1)
        if polished[2] < res:
            v, lam, res = polished
    upper = max(lam, lower)
    converged = res <= 10 * LOBPCG_TOL or upper - lower <= BRACKET_RTOL * upper
    return FiedlerPair(lambda2=upper, vector=v, residual=res, converged=converged, iterations=0,
                       method=(f"inertia of L − σ I (Sylvester) through a banded Cholesky factor of the non-hub block "
                               f"(bandwidth {w}) and the Schur complement on {hubs.size} hub vertices: "
                               f"λ₂ ≥ {lower:.6g} by {how}; the upper bound is the Rayleigh quotient of "
                               "shift-invert Lanczos"),
                       lower=lower)


def _inertia_bisection(hs, lo, f_lo, hi, two_below=False):
    """Bisection on σ ∈ [lo, hi] for the largest shift where the non-hub block factors and at most one eigenvalue
    of L lies below (``f_lo``: the factors at lo, already certified; None when lo is not; ``two_below``: whether a
    count above the bracket already found two): ``(lower, factors, how)``, or None when no shift in the bracket
    certified.  It closes on min(μ, λ₂) to :data:`INERTIA_RTOL`."""
    while hi - lo > INERTIA_RTOL * hi:
        mid = 0.5 * (lo + hi)
        f = hs.factor(mid)
        if f is not None and hs.below(f) <= 1:
            lo, f_lo = mid, f
        else:
            hi, two_below = mid, two_below or f is not None
    if f_lo is None:
        return None
    return lo, f_lo, ("bisection on inertia counts: λ₂ lies in the bracket" if two_below else
                      "bisection: λ₂ lies above the bottom of the non-hub block's spectrum")


#: rows of the hub-band route's band assembled at a time (:func:`_hub_band_fiedler`)
HUB_BAND_ROWS = 1 << 16
#: the hub-band route's first shift lies this far (relative) below the coarse upper bound on λ₂, then ten times
#: further at each retry: close enough to λ₂ that shift-invert Lanczos separates it from a cluster above it
HUB_BAND_SHIFTS = (1e-3, 1e-2, 1e-1)


def _hub_band_laplacian(pattern, n, d, h, w):
    """LAPACK's upper banded storage (w, n − h) of the normalised Laplacian's non-hub block, from the
    pattern's band rows (:meth:`~.patterns.Pattern.hub_band_rows`) in chunks of :data:`HUB_BAND_ROWS` rows:
    ``L_ij = δ_ij − (a_ij + a_ji) / (2 √(d_i d_j))``."""
    root = np.sqrt(d)
    ab = np.zeros((w, n - h))
    for i0 in range(h, n, HUB_BAND_ROWS):
        i1 = min(n, i0 + HUB_BAND_ROWS)
        D = pattern.hub_band_rows(n, i0, min(n, i1 + w - 1), h, w)  # rows i0.. and the w − 1 after: a_ji
        for s in range(min(w, n - i0)):  # entries (i, i + s), i in [i0, i1), i + s < n
            top = min(i1, n - s)
            a_ij = D[:top - i0, s + w - 1]
            a_ji = D[s:top - i0 + s, w - 1 - s]
            val = -0.5 * (a_ij + a_ji) / (root[i0:top] * root[i0 + s:top + s])
            if s == 0:
                val += 1.0
            ab[w - 1 - s, i0 - h + s:top - h + s] = val
    return ab


def _hub_band_solver(pattern, n, d, h, w, apply_l):
    """The :class:`_HubSolver` of L for a band of width w off the first h tokens: the banded block from the band
    rows (:func:`_hub_band_laplacian`), the hub columns and the hub block from h products ``L e_k``."""
    E = np.zeros((n, h))
    E[np.arange(h), np.arange(h)] = 1.0
    LH = apply_l(E)
    return _HubSolver.from_parts(_hub_band_laplacian(pattern, n, d, h, w), LH[h:], 0.5 * (LH[:h] + LH[:h].T),
                                 np.arange(h), np.arange(h, n))


def _two_grid_band(pattern, n, hub=None, band=None):
    """``(h, w)`` when λ₂ should be taken by the two-grid route of :mod:`~.twogrid`: a band of width w off its
    first h ≤ :data:`HUB_COARSE_MAX` tokens, wider than a banded factor takes (:data:`CHOLESKY_BAND_MAX_W`) and
    at least 8 bandwidths long; else None.  ``hub`` and ``band``: the pattern's own, when already taken."""
    hub = pattern.hub_band(n) if hub is None else hub
    if hub is None:
        band = pattern.bandwidth(n) if band is None else band
        hub = None if band is None or pattern.structure(n) != "structural" else (0, band)
    if hub is None:
        return None
    h, w = int(hub[0]), int(hub[1])
    return (h, w) if h <= HUB_COARSE_MAX and w > CHOLESKY_BAND_MAX_W and n - h >= 8 * w else None


def _two_grid(apply_l, d, v1, h, w, tol, through):
    """The :class:`FiedlerPair` of :func:`~.twogrid.two_grid_fiedler` (converged when its residual is within
    10 tol) and its vector, a start for LOBPCG when it is not."""
    u, lam, res, steps, what = two_grid_fiedler(apply_l, d, v1, h, w, tol)
    fp = FiedlerPair(lambda2=max(lam, 0.0), vector=u, residual=res, converged=res <= 10 * tol, iterations=steps,
                     method=f"{what}, through {through}; a Rayleigh–Ritz value: an upper bound on λ₂")
    return fp, u


def _coarse_block_preconditioner(apply_l, n, d, w):
    """A two-level preconditioner for L of a band of width w: ``M r = r + Z L_c^{-1} Zᵀ r`` on the complement of the
    null vector, with Z the unit ``D^{1/2}``-weighted indicators of blocks of ``B ≥ w`` consecutive tokens and
    ``L_c = Zᵀ L Z``, tridiagonal (:func:`_coarse_matrix`, no hubs).  The smooth eigenvectors of a band are nearly
    constant on such blocks, which the coarse solve handles; the identity (L's diagonal is about 1) handles the
    rest.
    Returns ``(M, starts, description)``: starts are the coarse Fiedler vectors 2–5, lifted.  For ``mistral``
    (w = 4096) at n = 10⁶, LOBPCG converges in 49 iterations to a residual of 8e-14, where without it it stopped at
    1e-3 after 64 s.  Only a preconditioner: λ₂ and its residual still come from L's exact products."""
    Lc, label, pv, norms, _ = _coarse_matrix(apply_l, n, d, (), w)
    nb = Lc.shape[0]
    zc = norms / np.linalg.norm(norms)  # Zᵀ of the null vector: L_c's own null vector, shifted to 1
    factor = linalg.cho_factor(Lc + np.outer(zc, zc))

    def apply(R):
        R = np.asarray(R, dtype=np.float64)
        flat = R.reshape(n, -1)
        coarse = np.stack([np.bincount(label, weights=pv * flat[:, j], minlength=nb) for j in range(flat.shape[1])],
                          axis=1)
        return (flat + pv[:, None] * linalg.cho_solve(factor, coarse)[label]).reshape(R.shape)

    _, U = linalg.eigh(Lc, subset_by_index=[1, min(4, nb - 1)])
    M = spla.LinearOperator((n, n), matvec=apply, matmat=apply, dtype=np.float64)
    size = max(w, -(-n // COARSE_BLOCKS))
    return M, pv[:, None] * U[label], f"a coarse solve on {nb} blocks of {size} tokens (two levels)"


def _coarse_upper_bound(apply_l, n, d, h, w):
    """The first of :func:`_coarse_ritz_bounds`, with the first h tokens as hubs: an upper bound on λ₂."""
    return _coarse_ritz_bounds(apply_l, n, d, np.arange(h), w)[0]


def _coarse_matrix(apply_l, n, d, hubs, w):
    """``(L_c, label, pv, norms, h)``: L restricted to the unit ``D^{1/2}``-weighted indicators of the hub vertices
    and of blocks of B ≥ w consecutive non-hub tokens (B = w, or larger so that there are at most
    :data:`COARSE_BLOCKS` blocks).  ``label`` maps each token to its coarse vector (hubs first), ``pv`` holds the
    vectors' entries and ``norms`` their weights.  Blocks of at least w only meet their neighbours, so three
    products (one per block modulo 3) and one per hub give the whole matrix; its block part is tridiagonal."""
    hubs = np.asarray(hubs, dtype=np.int64)
    h = hubs.size
    root = np.sqrt(d)
    rest = np.setdiff1d(np.arange(n), hubs, assume_unique=True)
    size = max(w, -(-rest.size // COARSE_BLOCKS))
    label = np.empty(n, dtype=np.int64)
    label[hubs] = np.arange(h)
    label[rest] = h + np.arange(rest.size) // size
    nb = -(-rest.size // size)
    m = h + nb
    norms = np.sqrt(np.bincount(label, weights=d, minlength=m))
    pv = root / norms[label]  # the unit coarse vectors' entries
    Z = np.zeros((n, 3 + h))
    for c in range(3):
        on = (label >= h) & ((label - h) % 3 == c)
        Z[on, c] = pv[on]
    Z[hubs, 3 + np.arange(h)] = 1.0
    Y = apply_l(Z)
    Lc = np.zeros((m, m))
    r = np.arange(nb)
    for c in range(3):  # block r meets one block of colour c among r − 1, r, r + 1
        dot = np.bincount(label, weights=pv * Y[:, c], minlength=m)[h:]
        k = r - 1 + (c - (r - 1)) % 3
        ok = (k >= 0) & (k < nb)
        Lc[h + r[ok], h + k[ok]] = dot[ok]
    for g in range(h):
        Lc[:, g] = Lc[g, :] = np.bincount(label, weights=pv * Y[:, 3 + g], minlength=m)
    return 0.5 * (Lc + Lc.T), label, pv, norms, h


def _coarse_ritz_bounds(apply_l, n, d, hubs, w):
    """``(λ_c, μ_c)``: Rayleigh–Ritz values of L on the coarse space of :func:`_coarse_matrix`.  The span holds
    the null vector ``D^{1/2} 1``, so its second Ritz value λ_c bounds λ₂ above; the block vectors alone lie in
    the non-hub block B of L, so their lowest Ritz value μ_c bounds B's lowest eigenvalue above (Courant–Fischer,
    twice)."""
    Lc, _, _, _, h = _coarse_matrix(apply_l, n, d, hubs, w)
    lam_c = float(linalg.eigh(Lc, subset_by_index=[1, 1], eigvals_only=True)[0])
    B = Lc[h:, h:]  # tridiagonal: blocks meet only their neighbours
    mu_c = float(linalg.eigh_tridiagonal(np.diag(B).copy(), np.diag(B, 1).copy(), eigvals_only=True, select="i",
                                         select_range=(0, 0))[0]) if B.size else np.inf
    return lam_c, mu_c


def _hub_band_fiedler(pattern, n, d, v1, h, w, apply_l, tol):
    """λ₂ of a pattern whose graph is a band of width w once h hub tokens are taken out, without a sparse form:
    the non-hub block in LAPACK's banded storage (from the pattern's band rows, O(n w) memory), the hub
    columns from h products.  A coarse Rayleigh–Ritz bound λ_c ≥ λ₂ (:func:`_coarse_upper_bound`) places the
    shift σ just below λ₂; one banded Cholesky factor at σ and the Schur complement on the hubs give the
    inertia of ``L − σ I`` (:class:`_HubSolver`): exactly one eigenvalue (the zero) below σ certifies
    λ₂ ≥ σ.  Shift-invert Lanczos with the same factor then converges on λ₂, the eigenvalue nearest above σ,
    even inside a dense cluster; its Rayleigh quotient bounds λ₂ above.  None when no shift certifies."""
    hs = _hub_band_solver(pattern, n, d, h, w, apply_l)
    upper_c = _coarse_upper_bound(apply_l, n, d, h, w)
    for rel in HUB_BAND_SHIFTS:
        sigma = upper_c * (1.0 - rel)
        factored = hs.factor(sigma)
        if factored is not None and hs.below(factored) == 1:
            break
    else:
        return None

    x, _ = _hub_lanczos(hs, factored, v1)
    # the Rayleigh quotient and residual from the assembled blocks: the pattern's products take band sums as
    # differences of prefix sums, whose rounding (~1e-11 at n = 10⁶) would set the residual's floor
    v, lam, res = _rayleigh(hs.apply, x, v1)
    upper = max(lam, sigma)
    return FiedlerPair(lambda2=upper, vector=v, residual=res,
                       converged=res <= 10 * tol or upper - sigma <= BRACKET_RTOL * upper, iterations=0,
                       method=(f"shift-invert Lanczos through a banded Cholesky factor of the non-hub block (bandwidth "
                               f"{w}, from the pattern's band rows) and the Schur complement on {h} hub vertices, "
                               f"shifted below a coarse Rayleigh–Ritz bound {upper_c:.6g}; λ₂ ≥ {sigma:.6g} by the "
                               "inertia count there"),
                       lower=sigma)


def _quotient_fiedler(pattern, n, d, v1, labels, Q):
    """λ₂ of a matrix constant on blocks of tokens, from its m×m quotient.

    With ``e_I = 1_I / √s_I`` (s_I tokens in block I), block-constant vectors are invariant under S and
    ``S_Q[I, J] = √(s_I s_J) W_IJ / √(d_I d_J)``; vectors summing to 0 on every block are killed by W, so L is
    the identity there.  Hence spec(L) = spec(I − S_Q) ∪ {1} (the 1 only when some block has two tokens),
    and λ₂ = min(λ₂(I − S_Q), 1).  The lifted vector's Rayleigh quotient and residual are then taken
    through the pattern's own products, so the value is checked against L itself.
    """
    m = Q.shape[0]
    size = np.bincount(labels, minlength=m).astype(float)
    first = np.searchsorted(labels, np.arange(m)) if np.all(np.diff(labels) >= 0) else None
    if first is None or np.any(size == 0):
        return None
    dq = d[first]
    if not np.allclose(d, dq[labels], rtol=1e-12, atol=0):
        return None  # degrees not constant on blocks: not an equitable partition of W
    W = 0.5 * (Q + Q.T)
    scale = np.sqrt(size / dq)
    LQ = (sp.identity(m, format="csr") - sp.diags(scale) @ W @ sp.diags(scale)).tocsr()
    if m < 2:
        vals, vecs = np.array([0.0, np.inf]), None
    elif m <= DENSE_FALLBACK_N:
        vals, vecs = linalg.eigh(LQ.toarray(), subset_by_index=[0, 1])
    elif _banded_but_hubs(W):  # a sparse LU stays sparse: shift-invert Lanczos
        with _c_stdout_to_stderr():
            lu = spla.splu((LQ + 1e-9 * sp.identity(m, format="csc")).tocsc(), permc_spec="COLAMD")
        op = spla.LinearOperator((m, m), matvec=lu.solve, dtype=np.float64)
        vals, vecs = spla.eigsh(LQ, k=2, sigma=-1e-9, which="LM", OPinv=op, tol=1e-13)
        order = np.argsort(vals)
        vals, vecs = vals[order], vecs[:, order]
    else:  # long-range (random) block links fill an LU in: Lanczos on the quotient with its null vector moved to 3
        q0 = np.sqrt(size * dq)  # the quotient's null vector, D_Q^{1/2} 1 in the e_I basis
        q0 /= np.linalg.norm(q0)

        def deflated(x):
            y = x - q0 * (q0 @ x)
            y = LQ @ y
            return y - q0 * (q0 @ y) + 3.0 * q0 * (q0 @ x)

        try:
            w_, V = spla.eigsh(spla.LinearOperator((m, m), matvec=deflated, dtype=np.float64), k=1, which="SA",
                               tol=1e-14, ncv=40, v0=np.random.default_rng(0).standard_normal(m))
        except spla.ArpackNoConvergence:
            return None
        vals, vecs = np.array([0.0, w_[0]]), np.column_stack([q0, V[:, 0]])
    if vecs is not None and (vals[1] <= 1.0 or size.max() < 2):
        x = vecs[:, 1][labels] / np.sqrt(size[labels])  # lift: y_I / √s_I on every token of block I
        how = f"the {m}×{m} block quotient"
    else:  # λ₂ = 1: a vector summing to 0 inside one block of at least two tokens
        big = int(np.flatnonzero(size >= 2)[0])
        x = np.zeros(n)
        toks = np.flatnonzero(labels == big)[:2]
        x[toks] = (1.0, -1.0)
        how = "a vector summing to 0 inside a block (the quotient's λ₂ exceeds 1)"
    return _lifted(pattern, n, d, x, v1, f"λ₂ of L from {how} (L is constant on blocks of tokens)")


#: a row of B = [XΦ, XΨᵀ] with more stored entries than this (and than 16 times the mean) joins the dense
#: low-rank part of G = BᵀB (keys that every class reaches: BigBird's global tokens), so G's sparse part stays sparse
FACTORED_HEAVY_ROW = 256
#: the reduced 2m×2m problem is solved densely up to this size (tests, small n)
FACTORED_DENSE_MAX = 1024


def _factored_fiedler(pattern, n, d, v1, Phi, Psi):
    """λ₂ of L when ``A = Φ Ψ`` through m ≪ n classes (:meth:`~attention_transport.numerics.patterns.Pattern.
    factors`), from a problem of size 2m.

    With ``X = D^{-1/2}`` and ``B = [XΦ, XΨᵀ]`` (n × 2m), ``S = ½ X (ΦΨ + ΨᵀΦᵀ) X = ½ B J Bᵀ``,
    ``J = [[0, I], [I, 0]]``.  The nonzero eigenvalues of ``B (½ J Bᵀ)`` are those of ``(½ J Bᵀ) B = ½ J G``,
    ``G = BᵀB``, with eigenvectors ``v = B z`` (``S B z = B (½ J G z)``); S vanishes on the rest of ℝⁿ, where
    L is the identity.  So λ₂ = min(1 − μ₂, 1), μ₂ the second largest eigenvalue of ``½ J G`` (the largest
    is 1, on ``D^{1/2} 1``).  G is a sparse product plus a low-rank term for the rows of B with many entries
    (keys every class reaches); Arnoldi (ARPACK) runs on ``z ↦ ½ J G z`` at 2m instead of Lanczos at n.  The
    lifted vector's Rayleigh quotient and residual are taken through the pattern's own products, so the value
    is checked against L itself.  ``None`` when that check fails (the general route then decides).
    """
    root = np.sqrt(d)
    x = 1.0 / root
    m = Phi.shape[1]
    B = sp.hstack([sp.diags(x) @ Phi, sp.diags(x) @ Psi.T], format="csr")
    lens = np.diff(B.indptr)
    heavy = lens > max(FACTORED_HEAVY_ROW, 16.0 * lens.mean())
    Bl = B[~heavy]
    Gl = (Bl.T @ Bl).tocsr()
    Bh = B[heavy].toarray()  # h × 2m, dense: G = Gl + Bhᵀ Bh

    def g(z):
        return Gl @ z + Bh.T @ (Bh @ z)

    def op(z):
        y = 0.5 * g(z)
        return np.concatenate([y[m:], y[:m]])  # ½ J G z

    if 2 * m <= FACTORED_DENSE_MAX:
        G = Gl.toarray() + Bh.T @ Bh
        H = 0.5 * np.vstack([G[m:], G[:m]])
        mu, Z = linalg.eig(H)
    else:
        try:
            mu, Z = spla.eigs(spla.LinearOperator((2 * m, 2 * m), matvec=op, dtype=np.float64), k=3, which="LR",
                              tol=1e-14, ncv=48, v0=np.random.default_rng(0).standard_normal(2 * m), maxiter=20000)
        except spla.ArpackNoConvergence:
            return None
    order = np.argsort(-mu.real)
    mu, Z = mu.real[order], Z[:, order]
    if mu.size < 2 or 1.0 - mu[1] > 1.0:  # λ₂ = 1: a vector orthogonal to B's range
        return None
    z = Z[:, 1] * np.exp(-1j * np.angle(Z[np.argmax(np.abs(Z[:, 1])), 1]))  # a real eigenvalue's vector, up to phase
    return _lifted(pattern, n, d, B @ z.real, v1, f"the {2 * m}×{2 * m} problem of A = Φ Ψ through {m} classes of "
                                                  f"rows (S = ½ B J Bᵀ has rank ≤ {2 * m}; Arnoldi on ½ J BᵀB)")


#: largest reduced matrix (hubs plus one copy of every group of components) the symmetry route diagonalises densely
SYMMETRY_MAX_SIZE = 4096
#: degrees of the copies of a component must agree to this: they come from the structural sums, whose suffix-sum
#: differences carry ~1e-11 relative rounding at n = 10⁶ (the entries of the blocks are compared to 1e-12)
SYMMETRY_DEGREE_RTOL = 1e-9


def _symmetry_fiedler(pattern, n, d, v1, hubs, groups):
    """λ₂ of L when the graph without ``hubs`` falls apart into groups of identical components
    (:meth:`~attention_transport.numerics.patterns.Pattern.hub_components`).

    Let a group have m copies of a block of ℓ tokens, ``N_g`` the normalised block of one copy and ``N_hg`` its
    links to the hubs (the same for every copy).  A vector equal to u on one copy, −u on another and 0
    elsewhere is mapped by L to the same combination of ``(I − N_g) u`` — the hubs see the two copies
    cancel — so every eigenvalue of ``I − N_g`` is one of L's, m − 1 times over.  What is orthogonal to
    all of those is equal on the copies of each group; on it, in the orthonormal basis (hub tokens, and
    the sum of a group's copies over √m), L acts as the reduced matrix

        R = I − [[N_hh, √m_g N_hg], [√m_g N_gh, N_g]]    (one row block per group).

    Counting dimensions, spec(L) = spec(R) ∪ ⋃_g spec(I − N_g)^(m_g − 1), so λ₂ is the second smallest of
    that union, from dense eigensolvers of size ``#hubs + Σ ℓ`` and ℓ.  The claimed structure is checked
    where it is cheap (the cover is exact, degrees agree on every copy, the first and last copies' blocks
    agree) and the value is checked against L itself: the lifted vector's residual through the pattern's
    products.  Returns None when a check fails (the general route then decides).
    """
    hubs = np.asarray(hubs, dtype=np.int64)
    groups = [(np.asarray(starts, dtype=np.int64), int(length)) for starts, length in groups]
    size = hubs.size + sum(length for _, length in groups)
    if size > SYMMETRY_MAX_SIZE or not groups:
        return None
    cover = np.bincount(hubs, minlength=n)
    for starts, length in groups:
        cover += np.bincount((starts[:, None] + np.arange(length)).ravel(), minlength=n)
    if cover.size != n or not np.all(cover == 1):
        return None  # hubs and components must cover every token exactly once
    root = np.sqrt(d)

    def copy_blocks(s, length):
        """A[s:s+ℓ, s:s+ℓ] and the copy's links to and from every hub."""
        inside = pattern.block(n, s, s + length, s, s + length)
        out = np.column_stack([pattern.block(n, s, s + length, h, h + 1)[:, 0] for h in hubs])
        into = np.column_stack([pattern.block(n, h, h + 1, s, s + length)[0] for h in hubs])
        return inside, out, into

    R = np.eye(size)
    Ahh = np.array([[pattern.block(n, a, a + 1, b, b + 1)[0, 0] for b in hubs] for a in hubs])
    rh = root[hubs]
    R[:hubs.size, :hubs.size] -= 0.5 * (Ahh + Ahh.T) / np.outer(rh, rh)
    antisymmetric, at = [], hubs.size
    for starts, length in groups:
        tokens = starts[:, None] + np.arange(length)
        if not np.allclose(d[tokens], d[tokens[0]], rtol=SYMMETRY_DEGREE_RTOL, atol=0):
            return None
        first = copy_blocks(int(starts[0]), length)
        if starts.size > 1 and not all(np.allclose(x, y, rtol=1e-12, atol=0)
                                       for x, y in zip(first, copy_blocks(int(starts[-1]), length))):
            return None
        inside, out, into = first
        rg = root[tokens[0]]
        Ng = 0.5 * (inside + inside.T) / np.outer(rg, rg)
        Ngh = 0.5 * (out + into) / np.outer(rg, rh)
        block = slice(at, at + length)
        R[block, block] -= Ng
        R[block, :hubs.size] -= np.sqrt(starts.size) * Ngh
        R[:hubs.size, block] -= np.sqrt(starts.size) * Ngh.T
        if starts.size > 1:
            mu, u = linalg.eigh(np.eye(length) - Ng, subset_by_index=[0, 0])
            antisymmetric.append((float(mu[0]), starts, length, u[:, 0]))
        at += length
    vals, vecs = linalg.eigh(R, subset_by_index=[0, min(1, size - 1)])
    x = np.zeros(n)
    best = min(antisymmetric, key=lambda a: a[0], default=None)
    if vals.size > 1 and (best is None or vals[1] <= best[0]):
        y = vecs[:, 1]
        x[hubs] = y[:hubs.size]
        at = hubs.size
        for starts, length in groups:
            x[starts[:, None] + np.arange(length)] = y[at:at + length] / np.sqrt(starts.size)
            at += length
        how = f"the {size}×{size} matrix symmetric under permuting identical components"
    elif best is not None:
        _, starts, length, u = best
        x[starts[0]:starts[0] + length], x[starts[1]:starts[1] + length] = u, -u
        how = (f"a block of {length} tokens ({starts.size} identical components: u on one, −u on another, "
               "an eigenvector of L)")
    else:
        return None

    return _lifted(pattern, n, d, x, v1, f"symmetry reduction (without its {hubs.size} hub token(s) the graph falls "
                                         f"into identical components): {how}")


_SYMMETRISED = {}


def _symmetrised(A):
    """``W = (A + Aᵀ)/2``, kept while A lives: λ₂ and the sweep cut both need it (at n = 10⁶ with 10⁸
    nonzeros one symmetrisation costs seconds)."""
    key = id(A)
    if key not in _SYMMETRISED:
        _SYMMETRISED[key] = (0.5 * (A + A.T)).tocsr()
        weakref.finalize(A, _SYMMETRISED.pop, key, None)  # freed with A, never served to a new object at its id
    return _SYMMETRISED[key]


def _sparse_laplacian_product(A, d):
    """``X ↦ L X`` through A's own products, ``L = I − ½ D^{-1/2} (A + Aᵀ) D^{-1/2}``: no symmetrised copy."""
    root = np.sqrt(d)

    def apply_l(X):
        X = np.asarray(X, dtype=np.float64)
        scale = root.reshape((-1,) + (1,) * (X.ndim - 1))
        Y = X / scale
        return X - 0.5 * (A @ Y + A.T @ Y) / scale

    return apply_l


def _symmetric_sparse(A, d):
    """``D^{-1/2} W D^{-1/2}`` (CSR): W's entries scaled in place on one copy, not by two sparse products."""
    s = 1.0 / np.sqrt(d)
    W = _symmetrised(A)
    S = W.copy()
    S.data *= s[np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))] * s[S.indices]  # s_i s_j: exactly symmetric
    return S


#: a pattern without a sparse form (a dense matrix past the dense route, a pattern file) preconditions λ₂'s
#: eigensolver with the Laplacian of its largest entries: at most this many per row on average
SPARSIFY_PER_ROW = 256
#: ... and at most this many in all
SPARSIFY_MAX_NNZ = 20_000_000


def _sparsified(pattern, n, budget):
    """``(As, tau, dropped)``: the entries ``A_ij ≥ τ`` as a CSR matrix, τ the smallest power of two that keeps
    at most ``budget`` of them, and the largest row mass left out.  Two passes over the row blocks: a
    histogram of the entries' binary exponents, then the entries at or above the cut.

    ``D − Ws`` (Ws the symmetrised kept entries, D the true degrees) is diagonally dominant, so the
    Laplacian ``I − D^{-1/2} Ws D^{-1/2}`` is positive semidefinite and close to L when little mass is
    left out: a preconditioner only — λ₂ and its residual always come from the exact products."""
    hist = np.zeros(2048, dtype=np.int64)
    for _, _, R in pattern.row_blocks(n):
        exponent = np.ascontiguousarray(R).view(np.int64) >> 52  # nonnegative entries: no sign bit
        hist += np.bincount(exponent.ravel(), minlength=2048)[:2048]
    above = np.cumsum(hist[::-1])[::-1]  # above[e]: entries with biased exponent >= e
    cut = max(1, int(np.argmax(above <= budget)) if above[-1] <= budget else 2047)
    tau = float(np.ldexp(1.0, cut - 1023))
    parts, dropped = [], 0.0
    for i0, i1, R in pattern.row_blocks(n):
        keep = R >= tau
        ii, jj = np.nonzero(keep)
        parts.append((ii + i0, jj, R[ii, jj]))
        dropped = max(dropped, float(np.where(keep, 0.0, R).sum(axis=1).max()))
    ii, jj, vv = (np.concatenate(x) for x in zip(*parts))
    return sp.csr_matrix((vv, (ii, jj)), shape=(n, n)), tau, dropped


def _sparse_preconditioner(L, A, n, band):
    """``(precond, shift_invert, what)`` for the sparse Laplacian L of the sparse matrix A of bandwidth ``band``
    (None: unknown): a banded Cholesky factor when the band is narrow, a sparse LU when the links outside the
    hubs stay near the diagonal, else nothing."""
    if band is not None and band <= CHOLESKY_BAND_MAX_W and n > CHOLESKY_BAND_MAX_W:
        precond, shift = _banded_cholesky(L, band)
        return precond, precond.matvec, f"a banded Cholesky factor of L + {shift:g} I (bandwidth {band})"
    if not _banded_but_hubs(A):
        return None, None, None
    try:
        # L + εI is symmetric positive definite: no pivoting, a fill-reducing column order
        with _c_stdout_to_stderr():
            lu = spla.splu((L + 1e-9 * sp.identity(n, format="csc")).tocsc(), permc_spec="COLAMD",
                           diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    except (RuntimeError, MemoryError):
        return None, None, None
    precond = spla.LinearOperator((n, n), matvec=lambda x: lu.solve(np.asarray(x, dtype=np.float64)),
                                  matmat=lambda X: lu.solve(np.asarray(X, dtype=np.float64)), dtype=np.float64)
    return precond, None, "a sparse LU"


def pattern_fiedler(pattern, n, sums=None, *, tol=LOBPCG_TOL, maxiter=None):
    """``λ₂`` of the normalised Laplacian of the symmetrised transport graph of ``pattern`` at n.

    LOBPCG on ``L = I − S`` constrained orthogonal to the null vector ``D^{1/2} 1``;
    with a sparse matrix, preconditioned by a sparse LU of ``L + 10⁻⁹ I``
    (a near-exact inverse: tiny λ₂, as for windows at n = 10⁶, converge in a few
    iterations); without one, through the pattern's products.

    Raises
    ------
    AttentionTransportError
        For a zero-degree vertex; :class:`WontFit` when n is too small for a block
        iteration (use the dense route).
    """
    sums = sums or pattern.sums(n)
    d = _degrees(sums)
    k = LOBPCG_BLOCK
    if maxiter is None:
        maxiter = int(min(LOBPCG_MAXITER, max(LOBPCG_MIN_ITER, LOBPCG_WORK // n)))
    v1 = np.sqrt(d)
    v1 /= np.linalg.norm(v1)
    blocks = pattern.constant_blocks(n)
    if blocks is not None:
        fp = _quotient_fiedler(pattern, n, d, v1, *blocks)
        if fp is not None:
            return fp
    components = pattern.hub_components(n)
    if components is not None:
        fp = _symmetry_fiedler(pattern, n, d, v1, *components)
        if fp is not None:
            return fp
    graph = pattern.strided_graph(n)
    if graph is not None and strided_route_fits(graph, n, available_bytes()):
        # before the sparse form: its classes are cliques, which fill a sparse LU in
        fp = _strided_fiedler(pattern, n, d, v1, graph, tol)
        if fp is not None:
            return fp
    A = pattern.sparse(n)
    factors = pattern.factors(n) if A is None else None
    if factors is not None and factors[0].shape[1] < n // 4:
        fp = _factored_fiedler(pattern, n, d, v1, *factors)
        if fp is not None:
            return fp
    precond = shift_invert = starts = None
    if A is not None:
        band = pattern.bandwidth(n)
        wide = (band is None or band > CHOLESKY_BAND_MAX_W) and n > CHOLESKY_BAND_MAX_W
        hb = pattern.hub_band(n) if wide else None
        if hb is not None and hb[0] <= HUB_MAX and hb[1] <= CHOLESKY_BAND_MAX_W:
            # hubs first: the banded block straight from the band rows, L only through A's products
            h, hw = hb
            apply_a = _sparse_laplacian_product(A, d)
            fp = _hub_fiedler(_hub_band_solver(pattern, n, d, h, hw, apply_a), apply_a, np.arange(h), hw, v1, d)
            if fp is not None:
                return fp
        L = (sp.identity(n, format="csr") - _symmetric_sparse(A, d)).tocsr()
        L = sp.csc_matrix((L.data, L.indices, L.indptr), shape=L.shape)  # exactly symmetric: CSR arrays are CSC's
        apply_l = L.__matmul__
        if wide and (hub := _hub_split(A)):
            fp = _hub_fiedler(_HubSolver(L, *hub), apply_l, hub[0], hub[2], v1, d)
            if fp is not None:
                return fp
            method = "LOBPCG on the sparse Laplacian (the hub inertia count did not settle)"
        elif wide and (grid := _two_grid_band(pattern, n)) is not None:
            # a band (or a band off a few hubs) too wide for a banded factor, whose sparse LU would fill it in
            fp, start = _two_grid(apply_l, d, v1, *grid, tol, "the sparse Laplacian")
            if fp.converged:
                return fp
            starts = start[:, None]
            method = f"LOBPCG on the sparse Laplacian, from {fp.method} (residual {fp.residual:.1e})"
        else:
            precond, shift_invert, what = _sparse_preconditioner(L, A, n, band)
            method = "LOBPCG on the sparse Laplacian" + (f", preconditioned by {what}" if what else
                                                         " (no LU preconditioner: long-range links, or the "
                                                         "factorization failed)")
            solved = f"the sparse Laplacian through {what}"
    else:
        apply_l = _pattern_laplacian(pattern, n, d)
        L = spla.LinearOperator((n, n), matvec=apply_l, matmat=apply_l, dtype=np.float64)
        method = "LOBPCG through the pattern's products"
        hub = pattern.hub_band(n)
        have = available_bytes()
        if hub is not None and 0 < hub[0] <= HUB_MAX and hub[1] <= CHOLESKY_BAND_MAX_W < n \
                and (have is None or 4 * 8 * hub[1] * n <= have):  # the band, the shifted copy, its factor
            fp = _hub_band_fiedler(pattern, n, d, v1, *hub, apply_l, tol)
            if fp is not None:
                return fp
            method += " (no shift below the coarse bound certified λ₂ on the hub-band route)"
        band = pattern.bandwidth(n)
        grid = _two_grid_band(pattern, n, hub, band)
        if grid is not None:
            fp, start = _two_grid(apply_l, d, v1, *grid, tol, "the pattern's products")
            if fp.converged:
                return fp
            method += f", from {fp.method} (residual {fp.residual:.1e})"
        if pattern.structure(n) == "structural" and band is not None and 8 * band <= n:
            # a band with no sparse form (wider than a banded factor fits, or too many entries): two levels
            precond, starts, what = _coarse_block_preconditioner(apply_l, n, d, band)
            method += f", preconditioned by {what}"
            if grid is not None:
                starts[:, 0] = start
        elif grid is not None:
            starts = start[:, None]
        elif pattern.structure(n) in ("blocked", "dense-matrix") and n > CHOLESKY_BAND_MAX_W:
            # no structure of its own: precondition with the Laplacian of the largest entries
            As, tau, dropped = _sparsified(pattern, n, min(SPARSIFY_MAX_NNZ, SPARSIFY_PER_ROW * n))
            Ls = (sp.identity(n, format="csc") - _symmetric_sparse(As, d)).tocsc()
            rows = np.repeat(np.arange(n), np.diff(As.indptr))
            band = int(np.abs(rows - As.indices).max(initial=0)) + 1
            precond, shift_invert, what = _sparse_preconditioner(Ls, As, n, band)
            kept = f"its {As.nnz} entries >= 2^{int(np.log2(tau))} (largest row mass left out {dropped:.1e})"
            if what:
                method += f", preconditioned by {what} of the Laplacian of {kept}"
                solved = f"the Laplacian of {kept} through {what}, refined through the pattern's products"
            else:
                method += f" (the Laplacian of {kept} has long-range links: no preconditioner)"
    X0 = np.random.default_rng(0).standard_normal((n, k))
    if starts is not None:
        X0[:, :starts.shape[1]] = starts
    v, iterations = None, 0
    if shift_invert is not None:
        # Lanczos on P (L + σ I)^{-1} P (P: orthogonal to the null vector): its largest eigenvalue is 1/(λ₂ + σ)
        def op(x):
            x = x - v1 * (v1 @ x)
            y = shift_invert(x)
            return y - v1 * (v1 @ y)

        try:
            _, V = spla.eigsh(spla.LinearOperator((n, n), matvec=op, dtype=np.float64), k=1, which="LA",
                              tol=1e-13, v0=X0[:, 0], ncv=24)
            pair = _rayleigh(apply_l, V[:, 0], v1)
            if pair[2] <= 10 * tol:
                v, lam, res = pair
                return FiedlerPair(lambda2=max(lam, 0.0), vector=v, residual=res, converged=True, iterations=0,
                                   method=f"shift-invert Lanczos on {solved}")
            X0[:, 0] = pair[0]  # the block iteration below starts from it, with the same factor as preconditioner
        except spla.ArpackNoConvergence:
            pass  # the block iteration below, with the same factor as its preconditioner
    if n >= 5 * (k + 1):  # smaller n: too small for a block iteration, the dense eigensolver below decides
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # non-convergence is reported through the residual instead
                w, V, hist = spla.lobpcg(L, X0, M=precond, Y=v1[:, None], largest=False, tol=tol, maxiter=maxiter,
                                         retResidualNormsHistory=True)
            v, iterations = V[:, int(np.argmin(w))], len(hist)
        except (np.linalg.LinAlgError, ValueError) as exc:  # the block lost rank: eigenvalues of high multiplicity
            if isinstance(exc, AttentionTransportError):
                raise
    pair = None if v is None else _rayleigh(apply_l, v, v1)
    if (pair is None or pair[2] > 10 * tol) and n <= DENSE_FALLBACK_N:
        # the block iteration stalled (repeated eigenvalues): the dense symmetric eigensolver decides
        Lm = apply_l(np.eye(n))
        Lm = 0.5 * (Lm + Lm.T)
        P = np.eye(n) - np.outer(v1, v1)
        vals, vecs = linalg.eigh(P @ Lm @ P + 4.0 * np.outer(v1, v1), subset_by_index=[0, 0])
        pair = _rayleigh(apply_l, vecs[:, 0], v1)
        method += "; the block iteration stalled, dense eigh decided" if n >= 5 * (k + 1) else \
            "; n too small for a block iteration, dense eigh decided"
    if pair is None:
        raise WontFit(f"the block eigensolver broke down at n = {n} (eigenvalues of high multiplicity) and n exceeds "
                      f"the dense fallback limit {DENSE_FALLBACK_N}")
    v, lam, res = pair
    return FiedlerPair(lambda2=max(lam, 0.0), vector=v, residual=res, converged=res <= 10 * tol,
                       iterations=iterations, method=method)


def _lifted(pattern, n, d, x, v1, method):
    """The :class:`FiedlerPair` of a vector x lifted from a reduced problem, checked against L itself: its Rayleigh
    quotient and residual through the pattern's own products.  ``None`` when x is not an eigenvector of L after
    all (residual above ``1e3 · LOBPCG_TOL``): the general route then decides."""
    v, lam, res = _rayleigh(_pattern_laplacian(pattern, n, d), x, v1)
    if res > 1e3 * LOBPCG_TOL:
        return None
    return FiedlerPair(lambda2=max(lam, 0.0), vector=v, residual=res, converged=res <= 10 * LOBPCG_TOL,
                       iterations=0, method=method + "; residual taken through the pattern's products")


def _pattern_laplacian(pattern, n, d):
    """``X ↦ L X = X − D^{-1/2} (A + Aᵀ)/2 D^{-1/2} X`` through the pattern's own products; X of shape (n,) or
    (n, k)."""
    root = np.sqrt(d)

    def apply_l(X):
        X = np.asarray(X, dtype=np.float64)
        scale = root.reshape((-1,) + (1,) * (X.ndim - 1))
        return X - 0.5 * pattern.symmetric_product(n, X / scale) / scale

    return apply_l


def _strided_fiedler(pattern, n, d, v1, graph, tol):
    """λ₂ of a strided pattern (:mod:`~.strided`): certified below by an inertia count of the congruent band,
    bounded above by the Rayleigh quotient of its vector, whose residual is taken through the pattern's products.
    None when the route does not apply at n (the leading block does not factor, or no shift certifies)."""
    apply_l = _pattern_laplacian(pattern, n, d)
    found = strided_fiedler(graph, d, v1, apply_l, tol)
    if found is None:
        return None
    lower, u, steps, how = found
    v, lam, res = _rayleigh(apply_l, u, v1)
    upper = max(lam, lower)
    return FiedlerPair(lambda2=upper, vector=v, residual=res,
                       converged=res <= 10 * tol or upper - lower <= BRACKET_RTOL * upper, iterations=steps,
                       method=how, lower=lower)


def _rayleigh(apply_l, v, v1):
    """``(v, vᵀ L v, ‖L v − λ v‖)`` for v projected orthogonal to ``v1`` and normalised."""
    v = v - v1 * (v1 @ v)
    v = v / np.linalg.norm(v)
    Lv = apply_l(v)
    lam = float(v @ Lv)  # Rayleigh quotient: an upper bound on λ₂
    return v, lam, float(np.linalg.norm(Lv - lam * v))


def _sweep_order(d, v):
    """The sweep's order of the vertices (by ``D^{-1/2} v``) and each vertex's rank in it."""
    order = np.argsort(v / np.sqrt(d), kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return order, rank


def _sweep_minimum(inside, d, order):
    """The best prefix cut of the sweep, from ``inside[k]``: the mass of A's entries whose later end has rank k.
    ``w(X, X)`` over ordered pairs for X = the first t vertices counts an entry once its later end is in; the
    ordered pairs of W = (A + Aᵀ)/2 inside X sum to those of A, and ``cut_W(X) = vol_W(X) − w(X, X)``."""
    inside = inside.cumsum()
    vol = np.cumsum(d[order])  # W 1 = (r + c)/2 = d
    cut = (vol - inside)[:-1]
    denom = np.minimum(vol, vol[-1] - vol)[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.inf)
    return float(max(phi.min(), 0.0))


def _sweep_blocked(pattern, n, d, v):
    """The sweep of :func:`_sweep_sparse` from the pattern's row blocks: O(n²), memory O(n · block)."""
    order, rank = _sweep_order(d, v)
    inside = np.zeros(n)
    for i0, i1, R in pattern.row_blocks(n):
        # ordered pairs of W inside X sum to the ordered pairs of A inside X: bin A_ij at max(rank_i, rank_j)
        later = np.maximum(rank[i0:i1, None], rank[None, :])
        inside += np.bincount(later.ravel(), weights=R.ravel(), minlength=n)
    return _sweep_minimum(inside, d, order)


#: the sweep cut of a pattern without a sparse matrix costs O(n²); done up to this n
SWEEP_BLOCKED_MAX_N = 16384
#: ... or, for a (hub) band with no sparse form, O(n w) from its band rows: up to this many band-row values
SWEEP_BAND_MAX_VALUES = 1_000_000_000
#: band rows per chunk of that sweep
SWEEP_BAND_ROWS = 1 << 14


def _sweep_band(pattern, n, d, v, h, w):
    """The sweep of :func:`_sweep_sparse` for a band of width w off the first h tokens (h = 0: a plain band),
    from its band rows in chunks (:meth:`~.patterns.Pattern.hub_band_rows`), the h hub rows and the hub columns of
    the other rows: each of A's entries binned once at the later rank of its two ends, O(n w)."""
    order, rank = _sweep_order(d, v)
    inside = np.zeros(n)
    if h:
        R = pattern.rows(n, 0, h)  # every entry of the hub rows
        inside += np.bincount(np.maximum(rank[:h, None], rank[None, :]).ravel(), weights=R.ravel(), minlength=n)
        Cc = pattern.columns(n, 0, h)[h:]  # the other rows' entries on the hub keys
        inside += np.bincount(np.maximum(rank[h:, None], rank[None, :h]).ravel(), weights=Cc.ravel(), minlength=n)
    t = np.arange(-(w - 1), w)
    rows = (lambda i0, i1: pattern.hub_band_rows(n, i0, i1, h, w)) if h else (
        lambda i0, i1: pattern.band_rows(n, i0, i1, w))
    for i0 in range(h, n, SWEEP_BAND_ROWS):
        i1 = min(n, i0 + SWEEP_BAND_ROWS)
        D = rows(i0, i1)
        j = np.arange(i0, i1)[:, None] + t[None, :]
        keep = (j >= h) & (j < n) & (D != 0)
        ii = np.broadcast_to(np.arange(i0, i1)[:, None], j.shape)[keep]
        inside += np.bincount(np.maximum(rank[ii], rank[j[keep]]), weights=D[keep], minlength=n)
    return _sweep_minimum(inside, d, order)


def _sweep_band_shape(pattern, n):
    """``(h, w)`` when the sweep can bin a structural pattern's entries from its band rows
    (:func:`_sweep_band`): a band of width w off h ≤ :data:`HUB_BAND_MAX_HUBS` hubs (h = 0: a plain band) with
    at most :data:`SWEEP_BAND_MAX_VALUES` band-row values, else None."""
    if pattern.structure(n) != "structural":
        return None
    hub = pattern.hub_band(n)
    if hub is not None and 0 < hub[0] <= HUB_BAND_MAX_HUBS:
        h, w = hub
    else:
        h, w = 0, pattern.bandwidth(n)
    if w is None or 4 * w >= n or n * (2 * w - 1) > SWEEP_BAND_MAX_VALUES:
        return None
    return h, w


def _sweep_sparse(A, d, v):
    """Best prefix cut of the vertices ordered by ``D^{-1/2} v`` in the symmetrised graph (O(nnz log n))."""
    n = d.size
    order, rank = _sweep_order(d, v)
    C = A.tocoo()  # A's entries binned at the later rank of their ends (:func:`_sweep_minimum`): no symmetrised copy
    return _sweep_minimum(np.bincount(np.maximum(rank[C.row], rank[C.col]), weights=C.data, minlength=n), d, order)


def _sweep_factored(Phi, Psi, d, v):
    """The sweep of :func:`_sweep_sparse` for ``A = Φ Ψ``: ordering the vertices permutes the rows of Φ and the
    columns of Ψ, and the prefix cuts of the ordered matrix come from its strictly-upper sums
    (:func:`~attention_transport.numerics.patterns.factored.factored_sums`), O((nnz(Φ) + nnz(Ψ)) log n).

    With r, c, s, u the ordered matrix's sums, the first t vertices send ``f_t = Σ_{i<t} s_i − Σ_{j<t} u_j``
    forward and receive ``f_t + Σ_{j<t} c_j − Σ_{i<t} r_i``; the symmetrised cut is the mean of the two."""
    from attention_transport.numerics.patterns.factored import factored_sums

    order = np.argsort(v / np.sqrt(d), kind="stable")
    sums = factored_sums(sp.csr_matrix(Phi)[order], sp.csc_matrix(Psi)[:, order].tocsr())
    fwd = np.cumsum(sums.s) - np.cumsum(sums.u)
    cut = (fwd + 0.5 * (np.cumsum(sums.c) - np.cumsum(sums.r)))[:-1]
    vol = np.cumsum(d[order])
    denom = np.minimum(vol, vol[-1] - vol)[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1.0), np.inf)
    return float(max(phi.min(), 0.0))


@dataclass(frozen=True)
class ScaledCheeger:
    lambda2: float
    lower: float | None
    upper_spectral: float
    upper_sweep: float | None
    residual: float
    converged: bool
    method: str
    #: certified lower bound on λ₂ (an inertia count), when there is one
    lambda2_lower: float | None = None

    @property
    def upper(self):
        return self.upper_spectral if self.upper_sweep is None else min(self.upper_spectral, self.upper_sweep)


#: largest residual ‖L v‖ of the two-sided indicator vector accepted as the exact eigenvector of λ₂ = 0
SPLIT_RESIDUAL_MAX = 1e-8


def _split_cheeger(pattern, n, sums, t):
    """The sandwich of a graph that splits at t: λ₂ = h = 0, with the eigenvector ``D^{1/2}(1_S / vol S − 1_S̄ /
    vol S̄)``, S the first t tokens, whose residual is computed through the pattern's products (None when it is
    not below :data:`SPLIT_RESIDUAL_MAX`: then the zero cut was not what it claimed)."""
    d = _degrees(sums)
    root = np.sqrt(d)
    inside = np.arange(n) < t
    v = root * np.where(inside, 1.0 / d[inside].sum(), -1.0 / d[~inside].sum())
    v /= np.linalg.norm(v)
    y = v / root
    res = float(np.linalg.norm(v - 0.5 * pattern.symmetric_product(n, y) / root))
    if not res <= SPLIT_RESIDUAL_MAX:
        return None
    return ScaledCheeger(lambda2=0.0, lower=0.0, upper_spectral=0.0, upper_sweep=0.0, residual=res, converged=True,
                         method=f"an exact split at t = {t} (a zero cut): λ₂ = 0, with the two-sided indicator as "
                                f"eigenvector", lambda2_lower=0.0)


def pattern_cheeger_bounds(pattern, n, sums=None, *, landscape=None):
    """Cheeger sandwich of ``pattern`` at n: ``λ₂/2 ≤ h ≤ min(√(2λ₂), φ(sweep))``; 0 ≤ h ≤ 0 when ``landscape``
    certifies that the graph splits (:func:`exact_split`)."""
    sums = sums or pattern.sums(n)
    t = exact_split(landscape)
    if t is not None and (split := _split_cheeger(pattern, n, sums, t)) is not None:
        return split
    fp = pattern_fiedler(pattern, n, sums)
    A = pattern.sparse(n)
    factors = pattern.factors(n) if A is None else None
    d = _degrees(sums)
    sweep = None
    if A is not None:
        sweep = _sweep_sparse(A, d, fp.vector)
    elif factors is not None:
        sweep = _sweep_factored(*factors, d, fp.vector)
    else:
        order, rank = _sweep_order(d, fp.vector)
        inside = pattern.sweep_inside(n, rank)  # binned from the pattern's own structure, where it has one
        if inside is not None:
            sweep = _sweep_minimum(inside, d, order)
        elif n <= SWEEP_BLOCKED_MAX_N and pattern.structure(n) != "structural":
            sweep = _sweep_blocked(pattern, n, d, fp.vector)
        elif (band := _sweep_band_shape(pattern, n)) is not None:
            sweep = _sweep_band(pattern, n, d, fp.vector, *band)
    lam = fp.lambda2
    # λ₂/2 ≤ h needs a lower bound on λ₂: the inertia count's, or λ₂ itself once it converged
    lower = fp.lower / 2 if fp.lower is not None else lam / 2 if fp.converged else None
    return ScaledCheeger(lambda2=lam, lower=lower, upper_spectral=float(np.sqrt(2 * lam)), upper_sweep=sweep,
                         residual=fp.residual, converged=fp.converged, method=fp.method, lambda2_lower=fp.lower)
