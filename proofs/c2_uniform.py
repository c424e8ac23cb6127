"""C2 — uniform causal attention: the landscape in harmonic numbers."""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

from attention_transport.numerics.exact import exact_block_sums
from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import uniform_causal as uc

N_EXACT = 60
EVERY_N = Scope(Region.box(n=(1, None)), "symbolic")

STATEMENT = (
    "For $A_{ij} = 1/i$ ($j \\le i$): $\\mathrm{cut}(t) = t(H_n - H_t)$, "
    "$\\mathrm{vol}(t) = t(2 + H_n - H_t)$, total volume $2n$, and "
    "$\\varphi_n(t) = t(H_n - H_t) / \\min(t(2 + H_n - H_t),\\ 2n - t(2 + H_n - H_t))$."
)
H = sp.harmonic


def _rows(ctx):
    require(uc.row_sum() == 1, f"row sum is {uc.row_sum()}")
    return "sympy summation: r_k = 1"


def _columns(ctx):
    ev = symbolic_zero(uc.column_sum() - (H(uc.n) - H(uc.k - 1)), "c_k = H_n − H_{k−1}")
    for nn in range(1, N_EXACT + 1):
        for kk in range(1, nn + 1):
            require(sum(Fraction(1, a) for a in range(kk, nn + 1)) == uc.column_sum().subs({uc.n: nn, uc.k: kk}),
                    f"c_k mismatch at n={nn}, k={kk}")
    return ev + f"; exact for every n ≤ {N_EXACT}, k ≤ n"


kk, ii, tt = sp.symbols("k i t", integer=True)


def _exchange(ctx):
    box = [tt >= 1]
    a = infeasible([ii, kk, tt], box + [ii >= 1, ii <= kk - 1, kk <= tt, ii >= tt], "1 ≤ i < k ≤ t ⇒ i ≤ t − 1")
    b = infeasible([ii, kk, tt], box + [ii >= 1, ii <= tt - 1, kk >= ii + 1, kk <= tt, kk <= 0],
                   "1 ≤ i < k ≤ t ⇒ k ≥ 1")
    ev = symbolic_zero(uc.harmonic_prefix_sum() - (uc.t * H(uc.t - 1) - uc.t + 1), "Σ_{i<t} (t−i)/i = t H_{t−1} − t + 1")
    closed = uc.harmonic_prefix_sum()
    for T in range(1, 121):
        double = sum(Fraction(1, a) for k_ in range(1, T + 1) for a in range(1, k_))
        require(sp.Rational(double.numerator, double.denominator) == closed.subs(uc.t, T),
                f"exchange fails at t={T}")
    return f"{a}; {b}; {ev}; exact for t ≤ 120"


def _closed_forms(ctx):
    e1 = symbolic_zero(uc.cut() - uc.t * (H(uc.n) - H(uc.t)), "cut(t) = t(H_n − H_t)")
    e2 = symbolic_zero(uc.volume() - uc.t * (2 + H(uc.n) - H(uc.t)), "vol(t) = t(2 + H_n − H_t)")
    e3 = symbolic_zero(uc.total_volume() - 2 * uc.n, "vol(n) = 2n")
    return "; ".join([e1, e2, e3])


def brute_force_landscape(n):
    """φ_n(t) from the matrix definition: crossing edges and left-side degrees, exact, 2-D prefix sums."""
    A = [[Fraction(1, a + 1) if b <= a else Fraction(0) for b in range(n)] for a in range(n)]
    P = exact_block_sums(A)  # P[a][b] = Σ_{i<a, j<b} A_ij
    total = 2 * P[n][n]
    out = []
    for T in range(1, n):
        inside = P[T][T]
        rows_left = P[T][n]
        cols_left = P[n][T]
        cut = (rows_left - inside) + (cols_left - inside)
        vol = rows_left + cols_left
        out.append(cut / min(vol, total - vol))
    return out


def _exact_table(ctx):
    phi = uc.landscape()
    visited = []
    for nn in range(2, N_EXACT + 1):
        closed = [phi.subs({uc.n: nn, uc.t: T}) for T in range(1, nn)]
        brute = brute_force_landscape(nn)
        require(all(isinstance(c, sp.Rational) and sp.Rational(b.numerator, b.denominator) == c
                    for b, c in zip(brute, closed)),
                f"closed form differs from brute force at n={nn}")
        visited.append(nn)
    return Checked(f"closed form = brute force, exact rationals, every n ≤ {N_EXACT} and t",
                   Region.points("n", visited))


def _n3(ctx):
    land = brute_force_landscape(3)
    require(min(land) == Fraction(5, 17) and land.index(min(land)) == 0, f"n = 3 landscape is {land}")
    return Checked("φ_3 = (5/17, 1/2): capacity 5/17 at t* = 1", Region.points("n", [3]))


CLAIM = Claim(
    id="C2",
    title="Uniform causal attention, exact",
    statement=STATEMENT,
    steps=(
        Step("Every row sums to one: $r_k = \\sum_{j\\le k} 1/k = 1$.", "symbolic",
             "sympy `summation`", _rows, scope=EVERY_N, key="rows"),
        Step("Column sums: $c_k = \\sum_{i=k}^{n} 1/i = H_n - H_{k-1}$.", "symbolic",
             "sympy `summation` from 1 minus the sum to $k-1$, then exact rationals for $n \\le 60$", _columns,
             scope=EVERY_N, key="columns"),
        Step("Exchanging the order over the triangle $\\{1\\le i<k\\le t\\}$: "
             "$\\sum_{k=1}^{t} H_{k-1} = \\sum_{i=1}^{t-1} (t-i)/i = t H_{t-1} - t + 1$.",
             "symbolic", "linear-arithmetic bounds of the triangle, sympy `summation` of the exchanged sum, "
             "exact check for $t \\le 120$", _exchange, scope=EVERY_N, key="exchange"),
        Step("By C1, $\\mathrm{cut}(t) = \\sum_{k\\le t}(c_k - r_k) = t(H_n - H_t)$ and "
             "$\\mathrm{vol}(t) = \\sum_{k\\le t}(r_k + c_k) = t(2 + H_n - H_t)$, with total $2n$.",
             "symbolic", "sympy `simplify` of the difference with $H_{t-1} = H_t - 1/t$", _closed_forms,
             scope=EVERY_N, key="closed-forms"),
        Step("The closed form equals the landscape computed from the matrix definition for every "
             "$n \\le 60$ and every $t$.", "exact", "exact rationals, 2-D prefix sums of $A$", _exact_table,
             scope=Scope(Region.box(n=(2, N_EXACT)), "each"), key="brute-force", role="check"),
        Step("At $n = 3$: $\\varphi_3 = (5/17, 1/2)$, so the capacity is $5/17$ at $t^* = 1$.", "exact",
             "exact rationals", _n3, scope=Scope(Region.box(n=3), "instances"), key="n3", role="check"),
    ),
    domain=Region.box(n=(1, None)),
)
