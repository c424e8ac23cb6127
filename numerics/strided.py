"""λ₂ of a strided pattern through a congruence that makes its Laplacian banded (docs/theory.md, "Strided
patterns: a banded congruence").

The Sparse Transformer's strided head — key j of query i when ``i − j < l`` or ``l | i − j`` — has about
n²/2l entries (4·10⁹ at n = 10⁶, l = 128): no sparse form, and a cluster of l − 1 eigenvalues of
``L = D^{-1/2} M D^{-1/2}``, ``M = D − W``, just above λ₂ (vectors that vary over the residues mod l), which a
block eigensolver through products does not separate.  Its structure gives an exact route instead.

Beyond a band of width w every entry of ``W = (A + Aᵀ)/2`` joins two tokens of one residue class and equals
``f(max(i, j))`` (:class:`~.patterns.base.StridedGraph`).  Class by class, the matrix ``K_ij = f(max(i, j))`` is
``U Δ Uᵀ``, with ``U`` the upper triangle of ones along the class and ``Δ_i = f(i) − f(i + l)`` (0 past the
class's end).  So ``M = G − K`` with G a band of width w (D, the band of W, and K's entries inside the band), and
the change of variables ``x = P s``, ``P = U^{-T}`` the difference along each class (``x_i = s_i − s_{i−l}``),
turns the pencil into a band:

.. math::  F(σ) = Pᵀ (M − σ D) P = Pᵀ G P − Δ − σ Pᵀ D P,

of half-bandwidth ``w + l − 1``.  P is invertible, so (Sylvester's law of inertia) F(σ) has as many negative
eigenvalues as L has eigenvalues below σ.  The count comes from a banded Cholesky factor of F's leading block and
the Schur complement ``S(σ)`` on the last ``h = m l`` unknowns — each class's last partial sums, ``s`` at a class's
last token being the class's total: the directions of the cluster, so the leading block stays positive definite
well above it (:class:`StridedSolver`).

λ₂ is then bracketed without a bisection's thirty factors.  A Rayleigh–Ritz bound R ≥ λ₂ on indicators of
(class, block of positions); one shift just above R and one 10⁻³ below it.  S(σ) decreases, ``S' = −Zᵀ Pᵀ D P Z``,
and is nearly linear below the leading block's bottom (its poles): the pencil ``(S(σ_a), S(σ_a) − S(σ_b))`` places
every eigenvalue as a root, whether the two shifts bracket λ₂ or both lie above it, and the next shift goes 10⁻⁷
below the root that estimates λ₂.  A shift that counts a single eigenvalue (the zero) certifies λ₂ ≥ σ; the
shifts stop once that bound lies within 10⁻⁶ of the estimate (three factors at n = 10⁶, l = 128).  Shift-invert
iteration at the certified shift then converges on λ₂, the eigenvalue nearest above it, refined through the
pattern's own products; its Rayleigh quotient bounds λ₂ above.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from attention_transport.errors import AttentionTransportError

__all__ = [
    "strided_pencil",
    "StridedPencil",
    "StridedSolver",
    "strided_fiedler",
    "STRIDED_MAX_ROWS",
    "strided_route_fits",
    "STRIDED_MAX_CLASS_ROUNDS",
    "STRIDED_SHIFTS",
    "STRIDED_MARGIN",
    "STRIDED_STOP",
]

#: the route runs for bands of at most this many rows (w + l): a factor costs O(n (w + l)²), 2.6·10¹¹ multiply-adds
#: and 4 GB at n = 10⁶ here; wider strides go to the general route
STRIDED_MAX_ROWS = 512
#: the trailing unknowns of the Schur complement: the last m partial sums of every class, m = 1, 2, 4, … up to
#: this many rounds, until the leading block factors at the Rayleigh–Ritz bound
STRIDED_MAX_CLASS_ROUNDS = 4
#: the second shift lies this far (relative) below the Rayleigh–Ritz bound R; a step without a usable secant
#: estimate goes the second entry further down
STRIDED_SHIFTS = (1e-3, 1e-1)
#: the secant's next shift lies this far (relative) below its estimate of λ₂ ...
STRIDED_MARGIN = 1e-7
#: ... and the shifts stop once the last lower bound lies within this (relative) of the estimate: shift-invert
#: iteration there gains about three digits a step (λ₃ − λ₂ ≈ 4·10⁻⁷ at n = 10⁶, l = 128)
STRIDED_STOP = 1e-6
#: at most this many secant shifts
STRIDED_SECANT_MAX = 6
#: shift-invert iterations at the last lower bound, in the congruent coordinates (their partial sums along a
#: class cost about 1e-10 of accuracy at n = 10⁶) ...
STRIDED_INVERSE_ITERATIONS = 3
#: ... then at most this many steps refined through L's own products: Rayleigh–Ritz on the vector and the
#: shift-invert image of its residual
STRIDED_POLISH_MAX = 8


#: columns of F(σ) assembled at a time (a block of (w + l) × this many float64, written into the factor's buffer)
STRIDED_CHUNK = 8192


class StridedPencil:
    """``F(σ) = Pᵀ (M − σ D) P`` of a :class:`~.patterns.base.StridedGraph` with degrees d, column by column in
    LAPACK's upper banded storage: ``F[W − 1 + i − j, j] = F(σ)_ij`` for ``0 ≤ j − i < W = w + l``.

    ``F(σ)_{a,a+s} = G(a, a+s) − G(a+l, a+s) − G(a, a+s+l) + G(a+l, a+s+l) − Δ_a [s = 0] − σ (PᵀDP)_{a,a+s}``,
    each G term 0 outside the matrix or G's band, with ``PᵀDP`` on two diagonals: ``d_a + d_{a+l}`` and
    ``−d_{a+l}`` at offset l.  Assembled afresh for every shift, in chunks of :data:`STRIDED_CHUNK` columns: O(n (w +
    l)) work and nothing of size n × W beyond the factor's own buffer (fresh memory costs about 2 s a GB here)."""

    def __init__(self, graph, d):
        self.graph, self.d = graph, np.asarray(d, dtype=np.float64)
        self.n, self.l, self.w = self.d.size, graph.l, graph.w
        self.W = self.w + self.l
        f = np.array(graph.far, dtype=np.float64)
        f[:min(self.l, self.n)] = 0.0  # K's diagonal at a class's first token is free: 0 keeps K out of G there
        self.f = f

    def _g(self, t, a, b):
        """``G(i, i + t)`` for i in [a, b), ``0 ≤ a ≤ b ≤ n − t``: D and ``−W`` on the band, K's entries inside the
        band put back (``M = G − K``), and K's diagonal."""
        if t == 0:
            return self.d[a:b] - self.graph.near(0, a, b) + self.f[a:b]
        out = -np.asarray(self.graph.near(t, a, b), dtype=np.float64)
        if t % self.l == 0:
            out = out + self.f[a + t:b + t]
        return out

    def columns(self, c0, c1, sigma):
        """Columns ``c0 .. c1 − 1`` of F(σ) in upper banded storage, a (W, c1 − c0) array."""
        n, l, w, W = self.n, self.l, self.w, self.W
        C = c1 - c0
        lo = c0 - W  # every G term of these columns reads G(i, i + t) at i in [lo, c1 + l)
        span = C + W + l
        win = np.zeros((w, span))
        for t in range(w):
            a, b = max(lo, 0), min(lo + span, n - t)
            if b > a:
                win[t, a - lo:b - lo] = self._g(t, a, b)
        out = np.zeros((W, C))
        for s in range(W):
            k = W - s  # row a = c − s of column c sits at window index a − lo = k + (c − c0)
            row = out[W - 1 - s]
            if s < w:
                row += win[s, k:k + C]  # G(a, a + s)
                row += win[s, k + l:k + l + C]  # G(a + l, a + s + l)
                if s + l < w:
                    row -= win[s + l, k:k + C]  # G(a, a + s + l)
            if s < l and l - s < w:  # G(a + l, a + s) = G(a + s, a + l)
                row -= win[l - s, k + s:k + s + C]
            elif l <= s < l + w:  # G(a + l, a + s): offset s − l from row a + l
                row -= win[s - l, k + l:k + l + C]
            if s > c0:
                row[:s - c0] = 0.0  # rows a < 0
        f, d = self.f, self.d
        cols = np.arange(c0, c1)
        nxt = np.where(cols + l < n, cols + l, 0)
        has = cols + l < n
        out[W - 1] -= f[c0:c1] - np.where(has, f[nxt], 0.0)  # Δ_a = f_a − f_{a+l}
        out[W - 1] -= sigma * (d[c0:c1] + np.where(has, d[nxt], 0.0))
        if W - 1 - l >= 0:
            out[W - 1 - l] += sigma * np.where(cols >= l, d[c0:c1], 0.0)  # −σ (−d_c) at (c − l, c)
        return out

    def fill(self, out, c0, c1, sigma):
        """Write columns c0 .. c1 − 1 of F(σ) into ``out`` (shape (W, c1 − c0)), chunk by chunk."""
        for a in range(c0, c1, STRIDED_CHUNK):
            b = min(c1, a + STRIDED_CHUNK)
            out[:, a - c0:b - c0] = self.columns(a, b, sigma)
        return out


def strided_route_fits(graph, n, have=None):
    """Whether the strided route runs for ``graph`` at n: a band of at most :data:`STRIDED_MAX_ROWS` rows whose
    factor's buffer (``8 (w + l) n`` bytes) fits in ``have`` bytes (None: not known)."""
    rows = graph.w + graph.l
    return rows <= STRIDED_MAX_ROWS and (have is None or 8 * rows * n <= have)


def strided_pencil(graph, d):
    """``(F0, mass0, mass_l)``: ``F(0) = Pᵀ M P`` in upper banded storage (:class:`StridedPencil`), and ``Pᵀ D P``'s
    two diagonals, ``mass0[i] = d_i + d_{i+l}`` and ``mass_l[j] = −d_j`` at ``(j − l, j)`` (``j ≥ l``; 0 below)."""
    pencil = StridedPencil(graph, d)
    n, l = pencil.n, pencil.l
    F0 = pencil.fill(np.zeros((pencil.W, n)), 0, n, 0.0)
    mass0 = pencil.d + np.concatenate([pencil.d[l:], np.zeros(min(l, n))])
    mass_l = np.zeros(n)
    mass_l[l:] = -pencil.d[l:]
    return F0, mass0, mass_l


def _class_difference(s, l):
    """``P s``: ``x_i = s_i − s_{i−l}``."""
    x = np.array(s, dtype=np.float64)
    x[l:] -= s[:-l]
    return x


def _class_difference_t(y, l):
    """``Pᵀ y``: ``y_i − y_{i+l}``."""
    x = np.array(y, dtype=np.float64)
    x[:-l] -= y[l:]
    return x


def _band_dense(ab, lo, hi):
    """The dense symmetric block ``F[lo:hi, lo:hi]`` of a matrix in upper banded storage."""
    W = ab.shape[0]
    m = hi - lo
    out = np.zeros((m, m))
    for s in range(min(W, m)):
        v = ab[W - 1 - s, lo + s:hi]
        idx = np.arange(m - s)
        out[idx, idx + s] = v
        out[idx + s, idx] = v
    return out


@dataclass
class _Factored:
    """The factors of F(σ) at one shift: the leading block's banded Cholesky factor ``cb`` (``B = Uᵀ U``), the
    coupling ``C`` of B's last rows to the trailing unknowns, ``Y = U^{-T} C`` there, the Schur complement
    ``S = H − Yᵀ Y`` and the count of L's eigenvalues below σ."""

    sigma: float
    cb: np.ndarray
    C: np.ndarray
    Y: np.ndarray
    S: np.ndarray
    count: int


class StridedSolver:
    """Inertia counts and solves with ``F(σ)`` (:class:`StridedPencil`), split into its leading block B (unknowns
    ``0 .. n − h − 1``, banded Cholesky) and its last h unknowns (a dense Schur complement).

    ``count`` at σ = the negative eigenvalues of S(σ) when B(σ) is positive definite (Haynsworth): the number of
    eigenvalues of L below σ.  ``factor`` returns None when B(σ) is not positive definite (σ above B's bottom).
    One buffer holds the factor: a shift factored later overwrites an earlier one's (``current``)."""

    def __init__(self, pencil, h):
        self.pencil, self.h, self.l, self.W, self.n = pencil, h, pencil.l, pencil.W, pencil.n
        self.r0 = max(0, self.n - h - (self.W - 1))  # the first row of B that meets the trailing unknowns
        self._buffer = None
        self.current = None  # the shift whose factor the buffer holds

    def factor(self, sigma):
        """The :class:`_Factored` at σ, or None when the leading block is not positive definite there."""
        m, W = self.n - self.h, self.W
        if self._buffer is None:
            self._buffer = np.empty((W, m), order="F")  # LAPACK factors it in place
        ab = self.pencil.fill(self._buffer, 0, m, sigma)
        self.current = None
        try:
            cb = linalg.cholesky_banded(ab, lower=False, overwrite_ab=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        if not np.shares_memory(cb, self._buffer):  # LAPACK copied after all: keep its copy as the buffer
            self._buffer = cb
        T = _band_dense(self.pencil.columns(self.r0, self.n, sigma), 0, self.n - self.r0)
        k = m - self.r0
        C, H = T[:k, k:], T[k:, k:]
        Y, info = lapack.dtbtrs(cb[:, self.r0:], np.asfortranarray(C), uplo="U", trans="T")
        if info != 0:
            raise AttentionTransportError(f"the banded triangular solve failed (LAPACK tbtrs info {info})")
        S = H - Y.T @ Y
        S = 0.5 * (S + S.T)
        self.current = sigma
        return _Factored(sigma, cb, C, Y, S, int((linalg.eigvalsh(S) < 0).sum()))

    def factors_of(self, f):
        """f itself when the buffer still holds its factor, else f factored again (the same σ, the same count)."""
        return f if self.current == f.sigma else self.factor(f.sigma)

    def solve(self, f, y):
        """``F(σ)^{-1} y`` by block elimination on the trailing unknowns: one banded solve, one triangular sweep."""
        m = self.n - self.h
        z = linalg.cho_solve_banded((f.cb, False), y[:m], check_finite=False)
        xh = linalg.solve(f.S, y[m:] - f.C.T @ z[self.r0:], assume_a="sym")
        corr = np.zeros(m)
        corr[self.r0:] = f.Y @ xh  # U^{-T} C xh: nonzero on B's last rows only
        back, info = lapack.dtbtrs(f.cb, corr[:, None], uplo="U", trans="N")
        if info != 0:
            raise AttentionTransportError(f"the banded triangular solve failed (LAPACK tbtrs info {info})")
        out = np.empty(self.n)
        out[:m] = z - back[:, 0]
        out[m:] = xh
        return out


def _ritz_bound(graph, d):
    """A Rayleigh–Ritz value R ≥ λ₂ on the coarse space of indicators of (residue class, block of positions along
    it): the span holds 1, so its second Ritz value bounds λ₂ above (Courant–Fischer).  λ₂'s vector is nearly
    ``g(i mod l) h(i div l)`` with h flat but for the first positions, so the blocks are finer there.  The coarse
    matrix ``Xᵀ W X`` is summed from the band (offset by offset) and the far links (per block, the count of
    earlier tokens of the class at distance ≥ w): O(n (w + blocks))."""
    n, l, w = d.size, graph.l, graph.w
    Q = -(-n // l)
    edges = np.unique(np.array([0, Q // 64, Q // 32, Q // 16, Q // 8, Q // 4, Q // 2, 3 * Q // 4, Q]))
    B = edges.size - 1
    i = np.arange(n)
    q, r = i // l, i % l
    block = np.searchsorted(edges, q, side="right") - 1
    lab = r * B + block
    m = l * B
    Wc = np.bincount(lab * (m + 1), weights=graph.near(0, 0, n), minlength=m * m)
    for t in range(1, min(w, n)):
        v = graph.near(t, 0, n - t)
        Wc += np.bincount(lab[:n - t] * m + lab[t:], weights=v, minlength=m * m)
        Wc += np.bincount(lab[t:] * m + lab[:n - t], weights=v, minlength=m * m)
    reach = q - (-(-w // l))  # the class's earlier positions 0..reach lie at distance ≥ w
    f = np.asarray(graph.far, dtype=np.float64)
    for b in range(B):
        count = np.clip(reach + 1 - edges[b], 0, edges[b + 1] - edges[b])
        other = r * B + b
        Wc += np.bincount(lab * m + other, weights=f * count, minlength=m * m)
        Wc += np.bincount(other * m + lab, weights=f * count, minlength=m * m)
    Wc = Wc.reshape(m, m)
    vol = np.bincount(lab, weights=d, minlength=m)
    keep = vol > 0
    Mc = (np.diag(vol) - Wc)[keep][:, keep]
    return float(linalg.eigh(0.5 * (Mc + Mc.T), np.diag(vol[keep]), eigvals_only=True, subset_by_index=[1, 1])[0])


def _secant(a, b):
    """L's second eigenvalue as S(σ) taken linear through the shifts ``a.σ < b.σ`` — inside them or beyond — and
    the trailing part of its null vector: the pencil ``(S_a, S_a − S_b)`` (positive definite: S decreases) has
    its roots ``t`` in L's order, ``σ = a.σ + t (b.σ − a.σ)``; the second is λ₂'s.  ``(None, None)`` when the
    pencil is not numerically definite, or too small to hold λ₂'s root (one trailing unknown: l = 1)."""
    if a.S.shape[0] < 2:
        return None, None
    N = a.S - b.S
    try:
        t, V = linalg.eigh(a.S, 0.5 * (N + N.T))
    except np.linalg.LinAlgError:
        return None, None
    return a.sigma + float(t[1]) * (b.sigma - a.sigma), V[:, 1]


def strided_fiedler(graph, d, v1, apply_l, tol):
    """λ₂'s certified lower bound and its eigenvector for a :class:`~.patterns.base.StridedGraph` with degrees d:
    ``(lower, u, steps, description)``, u of unit norm in L's coordinates, orthogonal to ``v1`` (the unit
    ``D^{1/2} 1``); or None when the leading block does not factor at the Rayleigh–Ritz bound or no shift below
    it counts a single eigenvalue.  ``apply_l`` is L's product through the pattern's own products: the vector is
    refined through it to the residual ``tol``.

    ``lower`` is a shift σ at which the inertia of ``F(σ)`` counts exactly one eigenvalue of L below σ (the zero):
    λ₂ ≥ σ.  The shifts: just above R, 10⁻³ below it, then each just below the secant's estimate from the two
    shifts that bracket λ₂ (or, before one counts a single eigenvalue, the two lowest), falling back to halving
    (or a tenth lower) when the estimate leaves the bracket.  u comes from shift-invert iteration at the last lower bound,
    which converges on the eigenvalue nearest above it."""
    n, l = d.size, graph.l
    pencil = StridedPencil(graph, d)
    R = _ritz_bound(graph, d)
    solver = top = None
    for rounds in range(STRIDED_MAX_CLASS_ROUNDS):
        h = l << rounds
        if h > n // 4:
            return None
        solver = StridedSolver(pencil, h)
        top = solver.factor(R * (1.0 + 1e-9))  # λ₂ ≤ R: counts at least two unless rounding says otherwise
        if top is not None:
            break
    if top is None:
        return None
    lo, his = (top, []) if top.count <= 1 else (None, [top])
    factors, null = 1, None
    sigma = R * (1.0 - STRIDED_SHIFTS[0])
    for _ in range(STRIDED_SECANT_MAX + len(STRIDED_SHIFTS)):
        if lo is None or his:
            f = solver.factor(sigma)
            factors += 1
            if f is None:  # above B's bottom (cannot happen below a shift that factored): give up
                return None
            if f.count <= 1:
                lo = f if lo is None or f.sigma > lo.sigma else lo
            else:
                his = sorted(his + [f], key=lambda g: g.sigma)
        if not his:
            break
        a, b = (lo, his[0]) if lo is not None else (his[0], his[1] if len(his) > 1 else his[0])
        est, null = _secant(a, b) if a is not b else (None, None)
        floor = lo.sigma if lo is not None else 0.0
        if est is None or not floor < est < his[0].sigma:  # no usable estimate: halve, or a decade lower
            null = None
            est = 0.5 * (lo.sigma + his[0].sigma) if lo is not None else his[0].sigma * (1.0 - STRIDED_SHIFTS[1])
        sigma = est * (1.0 - STRIDED_MARGIN)
        if lo is not None and (est - lo.sigma <= STRIDED_STOP * est or sigma <= lo.sigma):
            break
    if lo is None:
        return None
    factors += solver.current != lo.sigma
    lo = solver.factors_of(lo)  # the buffer holds the last shift's factor: usually lo's own
    op = _shift_invert(solver, lo, d, v1)
    u = _start(solver, lo, d, v1, null)
    for _ in range(STRIDED_INVERSE_ITERATIONS):
        u = op(u)
        u /= np.linalg.norm(u)
    u, its = _polish(apply_l, op, u, v1, tol)
    return lo.sigma, u, its, (f"inertia of a band of half-width {solver.W - 1} congruent to M − σ D (the strided "
                         f"classes' differences, Sylvester) through a banded Cholesky factor and the Schur "
                         f"complement on the last {solver.h} partial sums: {factors} factors, λ₂ ≥ {lo.sigma:.10g}; "
                         f"the vector from {STRIDED_INVERSE_ITERATIONS} shift-invert iterations there, refined "
                         f"through the pattern's products in {its} steps")


def _shift_invert(solver, f, d, v1):
    """``u ↦ P (L − σ I)^{-1} P`` at f.σ, P the projection orthogonal to v1: ``(L − σ I)^{-1} = D^{1/2} P_c F(σ)^{-1}
    P_cᵀ D^{1/2}`` with P_c the class differences."""
    root, l = np.sqrt(d), solver.l

    def op(u):
        u = u - v1 * (v1 @ u)
        x = _class_difference(solver.solve(f, _class_difference_t(root * u, l)), l) * root
        return x - v1 * (v1 @ x)

    return op


def _start(solver, f, d, v1, null):
    """The start of shift-invert iteration: the secant pencil's null vector lifted, ``s = [−B^{-1} C v; v]`` (then
    ``F(σ) s`` is small on B's rows and on the trailing ones), or a fixed random vector; unit, orthogonal to v1."""
    if null is not None:
        corr = np.zeros(solver.n - solver.h)
        corr[solver.r0:] = f.Y @ null
        back, info = lapack.dtbtrs(f.cb, corr[:, None], uplo="U", trans="N")
        if info != 0:
            raise AttentionTransportError(f"the banded triangular solve failed (LAPACK tbtrs info {info})")
        u = np.sqrt(d) * _class_difference(np.concatenate([-back[:, 0], null]), solver.l)
    else:
        u = np.random.default_rng(0).standard_normal(solver.n)
    u = u - v1 * (v1 @ u)
    return u / np.linalg.norm(u)


def _polish(apply_l, op, u, v1, tol):
    """Rayleigh–Ritz on ``span{u, op(L u − θ u)}`` through L's own products until ``‖L u − θ u‖ ≤ tol``: the
    shift-invert's rounding then limits only the correction, not the residual.  ``(u, steps)``."""
    Lu = apply_l(u)
    steps = 0
    for steps in range(1, STRIDED_POLISH_MAX + 1):
        theta = float(u @ Lu)
        r = Lu - theta * u
        if np.linalg.norm(r) <= tol:
            return u, steps - 1
        t = op(r)
        t -= u * (u @ t)
        t -= v1 * (v1 @ t)
        t /= np.linalg.norm(t)
        Lt = apply_l(t)
        H = np.array([[theta, u @ Lt], [t @ Lu, t @ Lt]])
        c = linalg.eigh(0.5 * (H + H.T))[1][:, 0]
        u, Lu = c[0] * u + c[1] * t, c[0] * Lu + c[1] * Lt
        scale = np.linalg.norm(u)
        u, Lu = u / scale, Lu / scale
    return u, steps
