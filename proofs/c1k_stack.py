"""C1k — the in-degree identity carried over to depth: stacks of causal layers.

A stack ``stack(P1, ..., Pk)`` transports by the product ``A_k ⋯ A_1``.  When
every layer is causal and row-stochastic, so is the product; C1 then gives its
whole prefix landscape from ``r = 1`` and the column sums
``c = A_1ᵀ (A_2ᵀ ( ⋯ A_kᵀ 1))`` — k transposed matrix–vector products, which
is how :class:`~attention_transport.numerics.patterns.Stack` computes it.
"""
from __future__ import annotations

import random
from fractions import Fraction

import sympy as sp

from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require
from attention_transport.proofs.scope import Region, Scope

TITLE = "In-degree identity at depth"
STATEMENT = (
    "If $A_1, \\dots, A_k$ are causal and row-stochastic, so is $P = A_k \\cdots A_1$; hence (C1) the prefix "
    "landscape of $P$ is a function of $r = \\mathbf 1$ and $c = P^\\top \\mathbf 1 = "
    "A_1^\\top (A_2^\\top (\\cdots A_k^\\top \\mathbf 1))$, computed by $k$ transposed matrix–vector products."
)

i, j, m = sp.symbols("i j m", integer=True)


#: (AB)_ij = Σ_m A_im B_mj: a nonzero term needs m ≤ i (A causal) and j ≤ m (B causal); with j ≥ i + 1 appended
#: the system must be infeasible
CAUSAL_PRODUCT = (j <= m, m <= i)


EVERY = Region.box(k=(1, None), n=(1, None))


def _check_triangular(ctx):
    return infeasible([i, j, m], [*CAUSAL_PRODUCT, j >= i + 1], "m ≤ i ∧ j ≤ m ⇒ j ≤ i")


def _generic(n, name):
    return sp.Matrix(n, n, lambda a, b: sp.Symbol(f"{name}_{a + 1}_{b + 1}") if b <= a else 0)


def _stochastic(n, name):
    M = _generic(n, name)
    for a in range(n):  # the diagonal entry closes the row: r = 1 identically
        M[a, a] = 1 - sum(M[a, b] for b in range(a))
    return M


def _check_closure(ctx):
    size = sp.Symbol("n", integer=True, positive=True)
    A, B = sp.MatrixSymbol("A", size, size), sp.MatrixSymbol("B", size, size)
    ones = sp.MatrixSymbol("1", size, 1)
    rows = ((B * A) * ones).subs(A * ones, ones).subs(B * ones, ones)  # A1 = 1, then B1 = 1
    require(rows == ones, f"(BA)1 reduces to {rows}, not 1")
    cols = sp.simplify((B * A).T * ones - A.T * (B.T * ones))
    require(cols == sp.ZeroMatrix(size, 1), f"(BA)ᵀ1 − Aᵀ(Bᵀ1) = {cols}")
    return ("n × n matrix symbols (n symbolic): (BA)1 = B(A1) = B1 = 1 by associativity and the hypotheses; "
            "(BA)ᵀ1 = Aᵀ(Bᵀ1); the induction P_k = A_k P_(k−1) carries both to every depth k")


def _check_symbolic(ctx):
    visited = []
    for n in range(2, 6):
        A, B = _stochastic(n, "a"), _stochastic(n, "b")
        P = B * A
        for a in range(n):
            for b in range(a + 1, n):
                require(sp.expand(P[a, b]) == 0, f"n={n}: (BA)[{a},{b}] = {P[a, b]} ≠ 0")
            require(sp.expand(sum(P.row(a)) - 1) == 0, f"n={n}: row {a} of BA does not sum to 1")
        ones = sp.Matrix([1] * n)
        require(sp.expand(P.T * ones - A.T * (B.T * ones)) == sp.zeros(n, 1),
                f"n={n}: Pᵀ1 ≠ Aᵀ(Bᵀ1)")
        visited.append(n)
    return Checked("generic causal row-stochastic symbolic pairs, n = 2..5: BA lower triangular, rows sum to 1 "
                   "and (BA)ᵀ1 = Aᵀ(Bᵀ1), by expand", Region.points("n", visited))


def _random_layer(rng, n):
    rows = []
    for a in range(n):
        support = [b for b in range(a + 1) if b == a or rng.random() < 0.6]
        weights = {b: Fraction(rng.randint(1, 9)) for b in support}
        total = sum(weights.values())
        rows.append([weights.get(b, Fraction(0)) / total for b in range(n)])
    return rows


def _matmul(X, Y):
    n = len(X)
    return [[sum(X[a][t] * Y[t][b] for t in range(n)) for b in range(n)] for a in range(n)]


def _check_exact(ctx):
    rng = random.Random(20261128)
    cases, visited = 0, []
    for n in range(2, 9):
        for depth in range(1, 5):
            layers = [_random_layer(rng, n) for _ in range(depth)]
            P = layers[0]
            for layer in layers[1:]:
                P = _matmul(layer, P)
            y = [Fraction(1)] * n
            for layer in reversed(layers):  # c = A_1ᵀ(A_2ᵀ(⋯ A_kᵀ 1))
                y = [sum(layer[a][b] * y[a] for a in range(n)) for b in range(n)]
            require(y == [sum(P[a][b] for a in range(n)) for b in range(n)], f"n={n}, k={depth}: column sums differ")
            require(all(sum(row) == 1 for row in P), f"n={n}, k={depth}: a row of P does not sum to 1")
            for t in range(1, n):  # the cut edge by edge: queries and keys on opposite sides of t
                by_edges = sum(P[a][b] for a in range(n) for b in range(n) if (a < t) != (b < t))
                cut = sum(y[q] - 1 for q in range(t))  # C1 from (r, c) = (1, y)
                require(by_edges == cut, f"n={n}, k={depth}, t={t}: cut {by_edges} ≠ {cut}")
            cases += 1
            visited.append((depth, n))
    return Checked(f"{cases} random exact causal row-stochastic stacks (n = 2..8, depth 1..4): C1 from the k "
                   "products equals the landscape from the definition", Region.points(("k", "n"), visited))


CLAIM = Claim(
    id="C1k",
    title=TITLE,
    statement=STATEMENT,
    steps=(
        Step("The product of two causal matrices is causal: a nonzero term $A_{im} B_{mj}$ of $(AB)_{ij}$ needs "
             "$m \\le i$ and $j \\le m$, so $j \\le i$.",
             "linear-arithmetic", "the negation $j \\le m \\wedge m \\le i \\wedge j \\ge i + 1$ is infeasible for "
             "all integers", _check_triangular, scope=Scope(EVERY, "symbolic"), key="causal-product"),
        Step("Row-stochasticity is closed under products, $(BA)\\mathbf 1 = B(A\\mathbf 1) = B\\mathbf 1 = "
             "\\mathbf 1$, nonnegativity trivially so, and $(BA)^\\top \\mathbf 1 = A^\\top (B^\\top \\mathbf 1)$; "
             "by induction on $k$ the product of $k$ layers is causal row-stochastic with column sums from $k$ "
             "transposed products.",
             "symbolic", "sympy matrix expressions of symbolic size $n$ (`MatrixSymbol`), the induction step "
             "$P_k = A_k P_{k-1}$", _check_closure, scope=Scope(EVERY, "induction"), key="closure"),
        Step("The same on generic causal row-stochastic matrices with symbolic entries.",
             "symbolic", "sympy `expand` on generic causal row-stochastic matrices (diagonal closing each row), "
             "$n \\le 5$", _check_symbolic, scope=Scope(Region.box(n=(2, 5)), "each"), key="generic",
             role="check"),
        Step("C1 applied to the product: the prefix landscape computed edge by edge from the product matrix "
             "equals $\\mathrm{cut}(t) = \\sum_{q \\le t} (c_q - 1)$ with $c$ from the $k$ products.",
             "exact", "exact rationals on random causal row-stochastic stacks", _check_exact,
             scope=Scope(Region.box(k=(1, 4), n=(2, 8)), "each"), key="random-stacks", role="check"),
    ),
    domain=EVERY,
    notes="Causality is sufficient, not necessary: a stack with a bidirectional layer may still be causal, and "
          "the package then detects it from vanishing strictly-upper sums.",
)
