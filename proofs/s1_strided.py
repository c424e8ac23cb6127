"""S1 — λ₂ of a strided pattern by a banded congruence (docs/theory.md, "Strided patterns: a banded congruence").

Beyond a band of width w, the symmetrised graph of a strided pattern links only tokens of one residue class mod
l, with the weight ``f(max(i, j))`` of the later token (the Sparse Transformer's strided head).  On one class of
m tokens that far part is ``K = U Δ Uᵀ``, U the upper triangle of ones and ``Δ_k = f_k − f_{k+1}`` (``f_m = 0``),
by a telescoping sum; with ``P = U^{-T}``, the difference along the class, ``Pᵀ K P = Δ``.  So ``M = D − W = G −
K`` (G: D, the band of W and K's entries inside it) gives

    F(σ) = Pᵀ (M − σ D) P = Pᵀ (G − σ D) P − Δ,

a band of half-width ``w + l − 1``: a nonzero entry ``(a, b)`` of ``Pᵀ X P`` for X of half-width h needs rows
``i ∈ {a, a + l}`` and ``j ∈ {b, b + l}`` with ``|i − j| ≤ h``.  P is invertible, so by Sylvester's law of inertia
F(σ) has as many negative eigenvalues as ``L = D^{-1/2} M D^{-1/2}`` has eigenvalues below σ: the count that
:mod:`~attention_transport.numerics.strided` certifies λ₂ with.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from attention_transport.numerics import strided
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.structured import _degrees
from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope

k, M, m = sp.symbols("k M m", integer=True)
a, b, i, j, l, w = sp.symbols("a b i j l w", integer=True)
f = sp.Function("f")

#: the far part's factor: Δ_k = f(k) − f(k + 1), with f vanishing past the class's last token
DELTA = f(k) - f(k + 1)
#: the half-width the congruence is claimed to keep: w + l − 1 for a band of half-width w − 1
HALF_WIDTH = w + l - 1
#: exact cases of the congruence: (l, n) for sparse-strided:l
EXACT_CASES = ((1, 6), (2, 7), (3, 11), (4, 13), (3, 20), (5, 17))
#: high-precision cases of the count: (l, n, trailing unknowns h)
COUNT_CASES = ((2, 40, 2), (3, 60, 3), (4, 64, 8))

EVERY = Region.box(n=(2, None), l=(1, None), w=(1, None))


def _far_part(ctx):
    entry = sp.Sum(DELTA, (k, M, m - 1)).doit()  # (U Δ Uᵀ)_ij: the k ≥ max(i, j) = M of the class
    symbolic_zero(sp.expand(entry.subs(f(m), 0) - f(M)),
                  "Σ_{k=M}^{m−1} (f(k) − f(k+1)) = f(M) when f(m) = 0")
    visited = []
    for size in range(1, 8):  # the same identity and Pᵀ K P = Δ on matrices of symbols
        fs = [sp.Symbol(f"f{t}") for t in range(size)] + [0]
        U = sp.Matrix(size, size, lambda r, c: 1 if r <= c else 0)
        D = sp.diag(*[fs[t] - fs[t + 1] for t in range(size)])
        K = sp.Matrix(size, size, lambda r, c: fs[max(r, c)])
        P = sp.Matrix(size, size, lambda r, c: 1 if r == c else (-1 if r == c + 1 else 0))
        require(U.T * P == sp.eye(size), f"m={size}: the class differences are not U^(-T)")
        require((U * D * U.T - K).expand() == sp.zeros(size), f"m={size}: U Δ Uᵀ ≠ K")
        require((P.T * K * P - D).expand() == sp.zeros(size), f"m={size}: Pᵀ K P ≠ Δ")
        visited.append(size)
    return ("(U Δ Uᵀ)_ij = Σ_{k ≥ max(i,j)} Δ_k telescopes to f(max(i, j)) (sympy `Sum.doit`, every class length "
            "m); and on symbols for m = 1..7: Uᵀ P = I for the differences x_i = s_i − s_(i−1), U Δ Uᵀ = K, "
            "Pᵀ K P = Δ")


def _band(ctx):
    # a nonzero (Pᵀ X P)_ab needs X_ij ≠ 0 with i − a, j − b ∈ {0, l} and |i − j| ≤ w − 1; beyond w + l − 1: none
    return infeasible([a, b, i, j, l, w],
                      [i >= a, i <= a + l, j >= b, j <= b + l, j - i <= w - 1, i - j <= w - 1, l >= 1, w >= 1,
                       b - a >= HALF_WIDTH + 1],
                      "a ≤ i ≤ a + l ∧ b ≤ j ≤ b + l ∧ |i − j| ≤ w − 1 ⇒ b − a ≤ w + l − 1")


def _exact_matrices(spec, n):
    """(M, D, W-band width w, stride l) of a strided preset at n in exact rationals, from its mask."""
    P = parse_pattern(spec)
    support = P.support_block(n, 0, n, 0, n)
    rows = [[sp.Integer(1) if support[r, c] else sp.Integer(0) for c in range(n)] for r in range(n)]
    A = sp.Matrix([[x / sum(row) for x in row] for row in rows])
    W = (A + A.T) / 2
    d = [sum(W.row(r)) for r in range(n)]
    return sp.diag(*d) - W, sp.diag(*d), P.strided_graph(n)


def _congruence(ctx):
    visited = []
    sigma = sp.Rational(1, 7)
    for stride, n in EXACT_CASES:
        Mx, Dx, graph = _exact_matrices(f"sparse-strided:l={stride}", n)
        Px = sp.Matrix(n, n, lambda r, c: 1 if r == c else (-1 if r == c + stride else 0))
        F = (Px.T * (Mx - sigma * Dx) * Px).expand()
        half = graph.w + graph.l - 1
        outside = [(r, c) for r in range(n) for c in range(n) if abs(r - c) > half and F[r, c] != 0]
        require(not outside, f"l={stride}, n={n}: entries outside the half-width {half}: {outside[:3]}")
        ab = strided.StridedPencil(graph, np.array([float(Dx[t, t]) for t in range(n)])).columns(0, n, float(sigma))
        W_ = ab.shape[0]
        worst = max(abs(float(F[c - s, c]) - ab[W_ - 1 - s, c]) for s in range(W_) for c in range(s, n))
        require(worst < 1e-13, f"l={stride}, n={n}: the package's band differs from Pᵀ(M − σD)P by {worst:.2e}")
        visited.append((stride, n))
    return Checked(f"exact rationals, σ = 1/7: Pᵀ(M − σD)P of sparse-strided has no entry past half-width w + l − 1, "
                   f"and the package's float64 assembly (StridedPencil) equals it within 1e-13, for (l, n) in "
                   f"{list(EXACT_CASES)}", Region.points(("l", "n"), visited))


def _count(ctx):
    visited = []
    with mpmath.workdps(ctx.dps):
        for stride, n, h in COUNT_CASES:
            P = parse_pattern(f"sparse-strided:l={stride}")
            A = P.dense(n)
            d = _degrees(P.sums(n))
            Lm = mpmath.matrix(n, n)
            for r in range(n):
                for c in range(n):
                    Lm[r, c] = (1 if r == c else 0) - mpmath.mpf(0.5 * (A[r, c] + A[c, r])) / mpmath.sqrt(
                        mpmath.mpf(d[r]) * mpmath.mpf(d[c]))
            ev = sorted(mpmath.eigsy(Lm, eigvals_only=True))
            solver = strided.StridedSolver(strided.StridedPencil(P.strided_graph(n), d), h)
            shifts = [ev[1] / 2] + [(ev[t] + ev[t + 1]) / 2 for t in range(1, stride) if ev[t + 1] - ev[t] > 1e-9]
            counted = 0
            for sigma in shifts:  # the count is claimed where the leading block factors (σ below its bottom)
                found = solver.factor(float(sigma))
                if found is None:
                    continue
                below = sum(1 for e in ev if e < sigma)
                require(found.count == below, f"l={stride}, n={n}, σ = {mpmath.nstr(sigma, 8)}: count "
                                              f"{found.count}, {below} eigenvalues below")
                counted += 1
            require(counted >= 2, f"l={stride}, n={n}: the leading block factored at {counted} of the shifts")
            visited.append((stride, n))
    return Checked(f"the package's count (banded Cholesky of the leading block, negative eigenvalues of the Schur "
                   f"complement on the last h unknowns) against the eigenvalues of L at {ctx.dps} digits (mpmath "
                   f"`eigsy`), at shifts below λ₂ and between the cluster's eigenvalues, for (l, n, h) in "
                   f"{list(COUNT_CASES)}", Region.points(("l", "n"), visited))


CLAIM = Claim(
    id="S1",
    title="λ₂ of strided patterns by a banded congruence",
    statement=("If, beyond a band of half-width $w - 1$, $W = (A + A^\\top)/2$ links only tokens of one residue class "
               "mod $l$ with $W_{ij} = f(\\max(i, j))$, then with $P$ the differences along each class "
               "($x_i = s_i - s_{i-l}$), $F(\\sigma) = P^\\top (D - W - \\sigma D) P$ is a band of half-width "
               "$w + l - 1$ and, by Sylvester's law of inertia, has as many negative eigenvalues as "
               "$L = D^{-1/2}(D - W)D^{-1/2}$ has eigenvalues below $\\sigma$."),
    steps=(
        Step("On one class the far part is $K = U \\Delta U^\\top$: $\\sum_{k \\ge \\max(i,j)} (f_k - f_{k+1}) = "
             "f_{\\max(i,j)}$ telescopes, and $P = U^{-\\top}$ gives $P^\\top K P = \\Delta$, diagonal.",
             "symbolic", "sympy `Sum.doit` for every class length; matrices of symbols for $m \\le 7$", _far_part,
             scope=Scope(EVERY, "symbolic"), key="far-part"),
        Step("$P^\\top X P$ keeps a band: its entry $(a, b)$ needs $X_{ij} \\ne 0$ with $i - a, j - b \\in [0, l]$, so "
             "$|a - b| \\le w + l - 1$ when $X$ has half-width $w - 1$.", "linear-arithmetic",
             "the negation is infeasible over the integers (Farkas)", _band, scope=Scope(EVERY, "symbolic"),
             key="band"),
        Step("Exact: $P^\\top(M - \\sigma D)P$ of `sparse-strided` has no entry past $w + l - 1$, and the package's "
             "assembly equals it.", "exact", "sympy rationals; float64 within $10^{-13}$", _congruence,
             scope=Scope(Region.points(("l", "n"), EXACT_CASES), "instances"), key="exact", role="check"),
        Step("The package's inertia count equals the number of eigenvalues of $L$ below $\\sigma$, inside the "
             "cluster above $\\lambda_2$ too.", "numeric", "mpmath `eigsy` at the run's precision", _count,
             scope=Scope(Region.points(("l", "n"), [c[:2] for c in COUNT_CASES]), "instances"), key="count",
             role="check"),
    ),
    domain=EVERY,
    notes="Sylvester's law of inertia (congruence by the invertible P) and Haynsworth's inertia additivity (the "
          "count through the Schur complement) are cited theorems; the steps check the structure they are applied "
          "to.",
)
