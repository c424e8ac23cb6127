"""C5b — where a banded pattern's bipartite minimum lies: a strip along the diagonal.

A matrix has bandwidth w when ``A_ij = 0`` for ``|i − j| ≥ w`` (a causal window of w keys,
a bidirectional window, a dilated window, and stacks of them).  Between the two cut points
of a bipartite cut ``X = {k_1..k_a} ∪ {q_1..q_b}``, every query a whole band away from the
key cut sends all of its mass across the cut, so a cut far from the diagonal is expensive.
That bounds the search: :func:`~attention_transport.numerics.band.banded_bipartite_minimum`
scans only the strip this claim proves holds the minimum, which is what makes φ_bip exact
at n = 10⁶ for windows and their stacks.
"""
from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import sympy as sp

from attention_transport.numerics.band import band_search_width, banded_bipartite_minimum
from attention_transport.numerics.exact import exact_bipartite_minimum, exact_prefix_capacity
from attention_transport.proofs.core import Case, Checked, Claim, Part, Step, infeasible, require
from attention_transport.proofs.scope import Region, Scope

TITLE = "Banded patterns: the bipartite minimum lies near the diagonal"
STATEMENT = (
    "Let $A \\ge 0$ have bandwidth $w$ ($A_{ij} = 0$ for $|i - j| \\ge w$), row sums $r_i \\ge r_{\\min} > 0$ and "
    "total volume $V = \\sum_i r_i + \\sum_j c_j$. Every bipartite cut satisfies $\\varphi(a, b) \\ge 2 r_{\\min} "
    "(|b - a| - w + 1)/V$. Hence, for any $\\hat\\varphi$ at least the value of some cell with $|b - a| \\le K$, "
    "where $K = w - 1 + \\lfloor \\hat\\varphi V / (2 r_{\\min}) \\rfloor + 1$, the bipartite minimum is attained "
    "in the strip $|b - a| \\le K$ and no cell outside it ties with it. A product of matrices of bandwidths "
    "$w_1, w_2$ has bandwidth at most $w_1 + w_2 - 1$, so a stack of $k$ layers has at most $1 + \\sum_k (w_k - 1)$."
)

a, b, i, j, m, w, w1, w2, f, x, d = sp.symbols("a b i j m w w1 w2 f x d", integer=True)

#: row i of a band: its nonzero keys j satisfy |i − j| ≤ w − 1
BAND = (i - j <= w - 1, j - i <= w - 1)
#: the search half-width as :func:`band_search_width` computes it, with f = ⌊φ̂ V / (2 r_min)⌋ ≥ x − 1
WIDTH_EXTRA = 1

EVERY = Region.box(n=(2, None), w=(1, None))
N_EXACT = 9
WIDTH_W = 600


def _right_rows(ctx):
    # a query q_i with a + w ≤ i ≤ b is in X (i ≤ b); its keys j ≥ i − w + 1 lie right of the key cut (j > a)
    return infeasible([a, i, j, w], [i >= a + w, BAND[0], j <= a], "i ≥ a + w ∧ i − j ≤ w − 1 ⇒ j ≥ a + 1")


def _left_rows(ctx):
    # a query q_i with b < i ≤ a − w + 1 is outside X; its keys j ≤ i + w − 1 lie left of the key cut (j ≤ a)
    return infeasible([a, i, j, w], [i <= a - w + 1, BAND[1], j >= a + 1], "i ≤ a − w + 1 ∧ j − i ≤ w − 1 ⇒ j ≤ a")


def _pruning(ctx):
    """The count of whole-band rows, the bound, and the width: |δ| ≥ K + 1 leaves δ − w + 1 > x."""
    lo, hi = sp.symbols("lo hi", integer=True)
    count = sp.summation(1, (i, lo, hi))
    require(sp.simplify(count.subs({lo: a + w, hi: b}) - (b - a - w + 1)) == 0, f"row count {count}")
    require(sp.simplify(count.subs({lo: b + 1, hi: a - w + 1}) - (a - b - w + 1)) == 0, f"row count {count}")
    # φ(a, b) ≥ r_min (|δ| − w + 1) / (V/2) > φ̂ ⇔ |δ| − w + 1 > x = φ̂ V / (2 r_min); with f ≥ x − 1 (f = ⌊x⌋)
    # and |δ| ≥ K + 1 = w + f + WIDTH_EXTRA, the negation |δ| − w + 1 ≤ x must be infeasible
    e = infeasible([d, w, f, x], [d >= w + f + WIDTH_EXTRA, f >= x - 1, d - w + 1 <= x],
                   f"|δ| ≥ w + ⌊x⌋ + {WIDTH_EXTRA} ⇒ |δ| − w + 1 > x")
    return (f"{count} queries between the cut points lie a whole band from the key cut (b − a − w + 1 of them when "
            f"b > a, a − b − w + 1 when a > b), each sending r_i ≥ r_min across; min(vol, V − vol) ≤ V/2; {e}")


def _width(ctx):
    """``band_search_width`` returns at least w + ⌊x⌋ with x = φ̂ V / (2 r_min): the formula the pruning step proves."""
    rng = random.Random(5)
    for ww in range(1, WIDTH_W + 1):
        for phi in (0.0, rng.random(), rng.random() * 1e-6, 10.0 ** -rng.randint(0, 300)):
            r_min = rng.uniform(1e-3, 2.0)
            total = rng.uniform(1.0, 1e7)
            K = band_search_width(ww, phi, r_min, total)
            xx = Fraction(phi) * Fraction(total) / (2 * Fraction(r_min))
            require(K >= ww + math.floor(xx), f"band_search_width({ww}, {phi!r}, {r_min!r}, {total!r}) = {K} < "
                    f"w + ⌊x⌋ = {ww + math.floor(xx)}: the cells at |δ| = K + 1 are not proven larger")
    return Checked(f"every w ≤ {WIDTH_W}, four random (φ̂, r_min, V) each, φ̂ down to 1e-300: K ≥ w + ⌊φ̂ V / "
                   "(2 r_min)⌋ (exact)", Region.points("w", range(1, WIDTH_W + 1)))


def _product(ctx):
    lhs = infeasible([i, m, j, w1, w2], [i - m <= w1 - 1, m - i <= w1 - 1, m - j <= w2 - 1, j - m <= w2 - 1,
                                         i - j >= w1 + w2 - 1], "(AB)_ij ≠ 0 ⇒ i − j ≤ w1 + w2 − 2")
    rhs = infeasible([i, m, j, w1, w2], [i - m <= w1 - 1, m - i <= w1 - 1, m - j <= w2 - 1, j - m <= w2 - 1,
                                         j - i >= w1 + w2 - 1], "(AB)_ij ≠ 0 ⇒ j − i ≤ w1 + w2 − 2")
    return f"a nonzero term A_im B_mj needs |i − m| ≤ w1 − 1 and |m − j| ≤ w2 − 1: {lhs}; {rhs}"


def _random_band(rng, n, width):
    """A nonnegative rational matrix of bandwidth ``width`` with positive rows (not row-stochastic)."""
    A = [[Fraction(0)] * n for _ in range(n)]
    for r in range(n):
        for c in range(max(0, r - width + 1), min(n, r + width)):
            if c == r or rng.random() < 0.7:
                A[r][c] = Fraction(rng.randint(1, 9), rng.randint(1, 4))
        if rng.random() < 0.5:
            for c in range(r + 1, n):  # causal in half the cases
                A[r][c] = Fraction(0)
            if all(v == 0 for v in A[r]):
                A[r][r] = Fraction(1)
    return A


def exact_cells(A):
    """``(a, b, cut, vol, comp)`` of every cell of an exact matrix, by definition: keys j < a and queries i < b
    on one side (C5h reads them too)."""
    n = len(A)
    r = [sum(row) for row in A]
    c = [sum(A[p][q] for p in range(n)) for q in range(n)]
    total = sum(r) + sum(c)
    for bb in range(n + 1):
        for aa in range(n + 1):
            cut = sum(A[p][q] for p in range(n) for q in range(n) if (p < bb) != (q < aa))
            vol = sum(r[:bb]) + sum(c[:aa])
            yield aa, bb, cut, vol, total - vol


def _cells(A):
    for aa, bb, cut, vol, comp in exact_cells(A):
        if vol > 0 and comp > 0:
            yield aa, bb, cut / min(vol, comp)


def _exact(ctx):
    rng = random.Random(20261206)
    visited, cases = [], 0
    for n in range(2, N_EXACT + 1):
        for width in range(1, n + 1):
            A = _random_band(rng, n, width)
            r_min = min(sum(row) for row in A)
            total = 2 * sum(sum(row) for row in A)
            phi_hat = exact_prefix_capacity(A)[0]  # a cell on the diagonal: the strip always holds it
            x = phi_hat * total / (2 * r_min)
            K = width - 1 + math.floor(x) + WIDTH_EXTRA
            best, _, _ = exact_bipartite_minimum(A)
            inside = []
            for aa, bb, val in _cells(A):
                if abs(bb - aa) >= width:
                    bound = 2 * r_min * (abs(bb - aa) - width + 1) / total
                    require(val >= bound, f"n={n}, w={width}, (a, b)=({aa}, {bb}): φ = {val} < bound {bound}")
                if abs(bb - aa) > K:
                    require(val > best, f"n={n}, w={width}: the cell ({aa}, {bb}) outside the strip K={K} ties or "
                            f"beats the minimum {best}")
                else:
                    inside.append(val)
            require(min(inside) == best, f"n={n}, w={width}: strip minimum {min(inside)} ≠ φ_bip {best}")
            cases += 1
            visited.append((width, n))
    return Checked(f"{cases} random nonnegative rational band matrices (n = 2..{N_EXACT}, every w ≤ n, rows not "
                   "normalised, half of them causal): the bound holds at every cell, the strip's minimum is φ_bip, "
                   "every cell outside is larger (exact)", Region.points(("w", "n"), visited))


def _numerics(ctx):
    rng = random.Random(7)
    visited = []
    for n in range(2, N_EXACT + 1):
        for width in range(1, n + 1):
            A = _random_band(rng, n, width)
            best, a_star, b_star = exact_bipartite_minimum(A)
            F = np.array(A, dtype=float)
            r, c = F.sum(axis=1), F.sum(axis=0)
            t = np.arange(-(width - 1), width)

            def rows(i0, i1, F=F, width=width, t=t):
                D = np.zeros((i1 - i0, 2 * width - 1))
                for p in range(i0, i1):
                    ok = (p + t >= 0) & (p + t < F.shape[0])
                    D[p - i0, ok] = F[p, p + t[ok]]
                return D

            phi_hat = float(exact_prefix_capacity(A)[0])
            for chunk, tile in ((1, 0), (3, 0), (None, 0), (None, (2, 1))):
                bm, _ = banded_bipartite_minimum(r, c, rows, width, phi_hat, chunk=chunk, tile=tile)
                require(abs(bm.phi - float(best)) <= 1e-12 * float(best) + 1e-300,
                        f"n={n}, w={width}, chunk={chunk}, tiles {tile}: float {bm.phi} vs exact {float(best)}")
            visited.append((width, n))
    return Checked("banded_bipartite_minimum against the exact minimum on random band matrices (n = 2..9, every w, "
                   "chunks of 1, 3 and the default, and the strip pruned by tiles of 2 then 1): equal to 1e-12",
                   Region.points(("w", "n"), visited))


def _region(ctx=None):
    return Region.points(("w", "n"), [(ww, n) for n in range(2, N_EXACT + 1) for ww in range(1, n + 1)])


CLAIM = Claim(
    id="C5b",
    title=TITLE,
    statement=STATEMENT,
    steps=(
        Step("If $b \\ge a + w$, the queries $q_i$ with $a + w \\le i \\le b$ are in $X$ and every key they reach, "
             "$j \\ge i - w + 1$, lies right of the key cut: their whole row mass is cut.",
             "linear-arithmetic", "the negation $i \\ge a + w \\wedge i - j \\le w - 1 \\wedge j \\le a$ is infeasible",
             _right_rows, scope=Scope(EVERY, "symbolic"), key="right-rows"),
        Step("If $a \\ge b + w$, the queries $q_i$ with $b < i \\le a - w + 1$ are outside $X$ and every key they "
             "reach, $j \\le i + w - 1$, lies in $X$: their whole row mass is cut.",
             "linear-arithmetic", "the negation $i \\le a - w + 1 \\wedge j - i \\le w - 1 \\wedge j \\ge a + 1$ is "
             "infeasible", _left_rows, scope=Scope(EVERY, "symbolic"), key="left-rows"),
        Step("There are $|b - a| - w + 1$ such queries, so $\\mathrm{cut} \\ge r_{\\min}(|b - a| - w + 1)$; with "
             "$\\min(\\mathrm{vol}, V - \\mathrm{vol}) \\le V/2$ the bound follows, and $|b - a| \\ge K + 1$ gives "
             "$|b - a| - w + 1 > \\hat\\varphi V/(2 r_{\\min})$, i.e. $\\varphi(a, b) > \\hat\\varphi$.",
             "linear-arithmetic", "sympy `summation` for the count; an exact Farkas certificate for the width, "
             "with $f = \\lfloor x \\rfloor \\ge x - 1$", _pruning, scope=Scope(EVERY, "symbolic"), key="pruning"),
        Step("A nonzero term $A_{im} B_{mj}$ of $(AB)_{ij}$ needs $|i - m| \\le w_1 - 1$ and $|m - j| \\le w_2 - 1$, "
             "so $|i - j| \\le w_1 + w_2 - 2$.", "linear-arithmetic", "both negations infeasible (exact Farkas "
             "certificates)", _product, scope=Scope(EVERY, "symbolic"), key="product"),
        Step("The code's half-width (`band_search_width`) is at least the proven one, $K \\ge w + \\lfloor "
             "\\hat\\varphi V/(2 r_{\\min}) \\rfloor$, on random inputs.", "exact",
             "random inputs for every $w \\le 600$, the inequality in exact rationals",
             _width, scope=Scope(Region.box(w=(1, WIDTH_W)), "each"), key="width", role="check"),
        Step(f"The bound, the strip and strictness outside it, by exhaustive exact enumeration of every $(a, b)$ on "
             f"random rational band matrices, $n \\le {N_EXACT}$.", "exact", "exact rationals, every cell",
             _exact, scope=lambda ctx: Scope(_region(), "each", f"every w ≤ n ≤ {N_EXACT}"), key="exact",
             role="check"),
        Step("The float strip scan of `numerics.band` equals the exact minimum on such matrices, in chunks of every "
             "size.", "exact", "float64 scan against exact rationals", _numerics,
             scope=lambda ctx: Scope(_region(), "each", f"every w ≤ n ≤ {N_EXACT}"), key="numerics", role="check"),
    ),
    parts=lambda ctx: (
        Part("the strip holds the minimum", EVERY, (Case(EVERY, ("right-rows", "left-rows", "pruning")),)),
        Part("bandwidth of a product", EVERY, (Case(EVERY, ("product",)),)),
    ),
    notes=("The bound counts only the queries a whole band away from the key cut; those closer send part of their "
           "mass across too, so the true minimum lies well inside the strip (for a window, $|b - a| \\le w/2$). The "
           "strip is what makes the search provably exact, at a cost O(n K). A pattern with sinks or global tokens "
           "has no band: a row reaches back to the sinks from anywhere, and the bound gives nothing."),
)
