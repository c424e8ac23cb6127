"""C1 — the in-degree identity for causal attention."""
from __future__ import annotations

import sympy as sp

from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require
from attention_transport.proofs.scope import Region, Scope

TITLE = "In-degree identity"
STATEMENT = (
    "For causal $A$ ($A_{ij} = 0$ for $j > i$) and every prefix $t$: "
    "$\\mathrm{cut}(t) = \\sum_{k\\le t} (c_k - r_k)$ and "
    "$\\mathrm{vol}(\\{1..t\\}) = \\sum_{k\\le t} (r_k + c_k)$, so the whole prefix landscape "
    "is a function of the row and column sums $(r, c)$."
)


def _generic(n):
    return sp.Matrix(n, n, lambda a, b: sp.Symbol(f"a_{a + 1}_{b + 1}") if b <= a else 0)


def _check_generic(ctx):
    visited = []
    for n in range(2, 7):
        A = _generic(n)
        r = [sum(A.row(a)) for a in range(n)]
        c = [sum(A.col(b)) for b in range(n)]
        for t in range(1, n):
            cut = sum(A[a, b] for a in range(n) for b in range(n) if (a < t) != (b < t))
            vol = sum(r[:t]) + sum(c[:t])
            require(sp.expand(cut - sum(c[k] - r[k] for k in range(t))) == 0, f"cut identity fails at n={n}, t={t}")
            require(sp.expand(vol - sum(A[a, b] for a in range(t) for b in range(n))
                              - sum(A[a, b] for a in range(n) for b in range(t))) == 0,
                    f"volume identity fails at n={n}, t={t}")
        visited.append(n)
    return Checked("generic lower-triangular symbolic matrices, n = 2..6, every t: expand(lhs − rhs) = 0",
                   Region.points("n", visited))


i, j, t, n = sp.symbols("i j t n", integer=True)
_BOX = [i >= 1, j >= 1, i <= n, j <= n, t >= 1, t <= n - 1]
EVERY_N = Scope(Region.box(n=(2, None)), "symbolic")


def _check_rows_inside(ctx):
    # causal support j ≤ i; a row i ≤ t has no entry right of the cut: j ≥ t + 1 is impossible
    return infeasible([i, j, t, n], _BOX + [j <= i, i <= t, j >= t + 1],
                      "i ≤ t ∧ j ≤ i ⇒ j ≤ t")


def _check_split(ctx):
    # {(i, j): j ≤ t} is split by i ≤ t | i ≥ t + 1; both pieces are disjoint (i ≤ t ∧ i ≥ t+1 infeasible)
    return infeasible([i, j, t, n], _BOX + [i <= t, i >= t + 1], "i ≤ t and i ≥ t + 1 are disjoint")


CLAIM = Claim(
    id="C1",
    title=TITLE,
    statement=STATEMENT,
    steps=(
        Step("For a causal row $i \\le t$, every key it attends to lies left of the cut: "
             "$\\{i \\le t,\\ j \\le i\\} \\subseteq \\{j \\le t\\}$. Hence "
             "$\\sum_{k\\le t} r_k = \\sum_{i\\le t,\\, j\\le t} A_{ij}$ and no edge crosses from a left "
             "query to a right key.",
             "linear-arithmetic", "the negation $i\\le t \\wedge j\\le i \\wedge j\\ge t+1$ is infeasible "
             "for all integers $n, t$", _check_rows_inside, scope=EVERY_N, key="rows-inside"),
        Step("The column block $\\{j \\le t\\}$ splits disjointly into $\\{i \\le t\\}$ and $\\{i > t\\}$, so "
             "$\\sum_{k\\le t} c_k = \\sum_{i\\le t,\\, j\\le t} A_{ij} + \\sum_{i > t,\\, j\\le t} A_{ij}$; "
             "subtracting the previous step, $\\sum_{k\\le t}(c_k - r_k) = \\sum_{i>t,\\, j\\le t} A_{ij} = "
             "\\mathrm{cut}(t)$.",
             "linear-arithmetic", "disjointness of $i \\le t$ and $i \\ge t+1$ over the integers",
             _check_split, scope=EVERY_N, key="split"),
        Step("Check on generic symbolic causal matrices: cut and volume computed from their definitions "
             "(edges with exactly one end left of the cut; degrees of the left vertices) equal the "
             "in-degree forms.",
             "symbolic", "sympy `expand` of the difference for every $n \\le 6$ and every $t$",
             _check_generic, scope=Scope(Region.box(n=(2, 6)), "each"), key="generic", role="check"),
    ),
    domain=Region.box(n=(2, None)),
    notes="The volume identity holds for every $A$ (it is the definition of the volume of "
          "$\\{q_1..q_t\\} \\cup \\{k_1..k_t\\}$); causality is used only for the cut.",
)
