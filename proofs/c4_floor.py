"""C4 — the capacity floor of uniform causal attention, for every n ≥ 2.

Prefix capacity: ``min_t φ_n(t) ≥ 5/17`` for every n ≥ 2, with equality only at
n = 3.  Exact rationals for ``2 ≤ n < N0``; for ``n ≥ N0`` an analytic bound
``φ_n(t) ≥ c = 3/10 > 5/17`` for every t, from the harmonic-number bounds
``ln((n+1)/(t+1)) ≤ H_n − H_t ≤ ln(n/t)`` and two one-variable inequalities,
each checked.

Bipartite capacity: exact for ``n ≤ N_BIP`` (≥ 1/5 and > φ_bip*), the (a, b)
cuts checked against every vertex set by enumeration for ``n ≤ N_ENUM``; an
all-n certificate for the bipartite floor is open.
"""
from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp
from mpmath import iv

from attention_transport.numerics.constants import bipartite_star
from attention_transport.proofs.core import Claim, Step, infeasible, interval_dps, require, symbolic_zero

N0 = 100  #: the finite part is exact below N0, the analytic tail covers n ≥ N0
C = Fraction(3, 10)  #: tail constant, 5/17 < 3/10 < φ*
D_C = 2 * C / (1 - C)  #: φ = D/(2 + D) ≥ C  ⇔  D ≥ D_C = 6/7
X_LO = Fraction(3178, 10000)  #: a rational lower bound of x*
N_BIP = 120  #: exact bipartite capacities for n ≤ N_BIP
N_ENUM = 9  #: (a, b) cuts against every vertex set for n ≤ N_ENUM


def harmonic_table(m):
    """``[H_0, …, H_m]`` as Fractions."""
    out = [Fraction(0)]
    for q in range(1, m + 1):
        out.append(out[-1] + Fraction(1, q))
    return out


def exact_prefix_capacity(n, Hs):
    """``min_t φ_n(t)`` from C2 in exact rationals, and the minimising t."""
    best = None
    for t in range(1, n):
        d = Hs[n] - Hs[t]
        vol = t * (2 + d)
        phi = t * d / min(vol, 2 * n - vol)
        if best is None or phi < best[0]:
            best = (phi, t)
    return best


def _finite(ctx):
    Hs = harmonic_table(N0)
    floor = Fraction(5, 17)
    equal = []
    worst = (Fraction(10), 0)
    for n in range(2, N0):
        phi, _ = exact_prefix_capacity(n, Hs)
        require(phi >= floor, f"n = {n}: capacity {phi} < 5/17")
        if phi == floor:
            equal.append(n)
        elif phi < worst[0]:
            worst = (phi, n)
    require(equal == [3], f"equality with 5/17 at n = {equal}")
    return (f"exact rationals for 2 ≤ n < {N0}: minimum 5/17 attained only at n = 3; next smallest "
            f"{float(worst[0]):.6f} at n = {worst[1]}")


k, t, n = sp.symbols("k t n", integer=True, positive=True)
s, eps, D, xx = sp.symbols("s epsilon D x", positive=True)


def _harmonic_bounds(ctx):
    f = 1 / k - sp.log(1 + 1 / k)
    g = sp.log(k / (k - 1)) - 1 / k
    e = [symbolic_zero(sp.diff(f, k) + 1 / (k ** 2 * (k + 1)), "f' = −1/(k²(k+1)) for f = 1/k − ln(1 + 1/k)"),
         symbolic_zero(sp.diff(g, k) + 1 / (k ** 2 * (k - 1)), "g' = −1/(k²(k−1)) for g = ln(k/(k−1)) − 1/k")]
    require(sp.limit(f, k, sp.oo) == 0 and sp.limit(g, k, sp.oo) == 0, "limits at ∞ are not 0")
    lo = sp.summation(sp.log(k + 1) - sp.log(k), (k, t + 1, n))
    hi = sp.summation(sp.log(k) - sp.log(k - 1), (k, t + 1, n))
    e.append(symbolic_zero(lo - (sp.log(n + 1) - sp.log(t + 1)), "Σ ln((k+1)/k) telescopes to ln((n+1)/(t+1))"))
    e.append(symbolic_zero(hi - (sp.log(n) - sp.log(t)), "Σ ln(k/(k−1)) telescopes to ln(n/t)"))
    return "; ".join(e) + "; f, g decrease to 0, hence are positive for k ≥ 2"


def _balance_bound(ctx):
    q = xx * (2 - sp.log(xx))
    e = symbolic_zero(sp.diff(q, xx) - (1 - sp.log(xx)), "q' = 1 − ln x (> 0 on (0, 1))")
    with interval_dps(30):
        val = iv.mpf(X_LO.numerator) / X_LO.denominator
        qv = val * (2 - iv.log(val))
        require(qv.b < 1, f"q(x_lo) = {qv} is not < 1")
    return f"{e}; q({X_LO}) < 1 by interval arithmetic, so x* > {X_LO}"


def _branch_volume(ctx):
    g = sp.exp(-D) * (2 + D)
    e = symbolic_zero(sp.diff(g, D) + sp.exp(-D) * (1 + D), "g' = −e^{−D}(1 + D) < 0 for g = e^{−D}(2 + D)")
    require(D_C / (2 + D_C) == C, "D_C/(2 + D_C) ≠ c")
    with interval_dps(30):
        dc = iv.mpf(D_C.numerator) / D_C.denominator
        gv = iv.exp(-dc) * (2 + dc)
        slack = (N0 + 1) * gv - (2 + dc) - N0
        require(gv.a > 1 and slack.a > 0, f"g(D_c) = {gv}, slack = {slack}")
    return (f"{e}; g(6/7) > 1 and (N0 + 1) g(6/7) − (2 + 6/7) − N0 > 0 at N0 = {N0} by interval arithmetic, "
            "and the left side grows with n")


def _branch_complement(ctx):
    c = sp.Rational(C.numerator, C.denominator)
    F = (1 + c) * (s - eps) * (-sp.log(s)) - 2 * c * (1 - s)
    e = [symbolic_zero(sp.diff(F, s, 2) + (1 + c) * (1 / s + eps / s ** 2), "∂²F/∂s² = −(1 + c)(1/s + ε/s²) < 0"),
         symbolic_zero(sp.diff(F, eps) - (1 + c) * sp.log(s), "∂F/∂ε = (1 + c) ln s < 0 for s < 1")]
    require(F.subs(s, 1) == 0, "F(1, ε) ≠ 0")
    # the rearrangement: (1+c) t D − 2c (n − t) with t = s(n+1) − 1, D = −ln s, ε = 1/(n+1)
    tt, nn, DD = sp.symbols("t n D", positive=True)
    e.append(symbolic_zero((tt * DD - c * (2 * nn - tt * (2 + DD))) - ((1 + c) * tt * DD - 2 * c * (nn - tt)),
                           "tD − c(2n − vol) = (1+c)tD − 2c(n − t)"))
    m = sp.Symbol("m", positive=True)  # m = n + 1
    lhs = (1 + c) * (s * m - 1) * (-sp.log(s)) - 2 * c * (m - 1 - (s * m - 1))
    e.append(symbolic_zero(lhs - m * F.subs(eps, 1 / m), "(1+c)tD − 2c(n−t) = (n+1) F(s, 1/(n+1))"))
    with interval_dps(30):
        sv = iv.mpf(X_LO.numerator) / X_LO.denominator
        cv = iv.mpf(C.numerator) / C.denominator
        Fv = (1 + cv) * (sv - iv.mpf(1) / (N0 + 1)) * (-iv.log(sv)) - 2 * cv * (1 - sv)
        require(Fv.a > 0, f"F(x_lo, 1/(N0+1)) = {Fv} is not > 0")
    return "; ".join(e) + f"; F({X_LO}, 1/{N0 + 1}) > 0 by interval arithmetic; concave F ≥ min(F(x_lo), F(1)) = 0"


def _combine(ctx):
    require(C > Fraction(5, 17), "c ≤ 5/17")
    return f"c = {C} > 5/17 = {float(Fraction(5, 17)):.6f}: for n ≥ {N0}, every φ_n(t) ≥ c > 5/17"


CLAIM = Claim(
    id="C4",
    title="Capacity floor of uniform causal attention, every n",
    statement=("For every $n \\ge 2$, the prefix capacity of uniform causal attention satisfies "
               "$\\min_t \\varphi_n(t) \\ge 5/17$, with equality only at $n = 3$; in particular the paper's floor "
               "$\\varphi \\ge 1/5$ holds for all $n$."),
    steps=(
        Step(f"Finite part: for $2 \\le n < {N0}$, $\\min_t \\varphi_n(t) \\ge 5/17$ with equality only at $n = 3$.",
             "exact", "the C2 closed form in exact rationals for every $t$", _finite),
        Step("Harmonic bounds: $\\ln\\frac{n+1}{t+1} \\le H_n - H_t \\le \\ln\\frac{n}{t}$, from "
             "$\\ln(1 + 1/k) < 1/k < \\ln\\frac{k}{k-1}$ ($k \\ge 2$) summed over $k = t+1..n$.",
             "symbolic", "sympy derivatives, limits and telescoping `summation`", _harmonic_bounds),
        Step(f"If $\\mathrm{{vol}}(t) > n$ then $t/n > x^* > {float(X_LO)}$: by the upper bound, "
             "$\\mathrm{vol}(t) = t(2 + D) \\le n\\,q(t/n)$ with $q(x) = x(2 - \\ln x)$ increasing and $q(x^*) = 1$.",
             "interval", "sympy derivative of $q$; interval value of $q$ at the rational bound", _balance_bound),
        Step(f"Branch $\\mathrm{{vol}}(t) \\le n$ (so $\\varphi = D/(2 + D)$, $D = H_n - H_t$): if $D < 6/7$ then by the "
             f"lower bound $t + 1 \\ge (n+1)e^{{-D}}$ and $\\mathrm{{vol}} \\ge (n+1)g(D) - (2 + D) > (n+1)g(6/7) - 20/7 > n$ "
             f"for $n \\ge {N0}$, $g(D) = e^{{-D}}(2 + D)$ decreasing — a contradiction; so $D \\ge 6/7$ and "
             "$\\varphi \\ge (6/7)/(20/7) = 3/10$.",
             "interval", "sympy derivative of $g$; interval arithmetic at $D = 6/7$", _branch_volume),
        Step("Branch $\\mathrm{vol}(t) > n$: $\\varphi \\ge c$ iff $(1+c)tD \\ge 2c(n - t)$; with "
             "$s = (t+1)/(n+1) > x^*$, $D \\ge -\\ln s$, this follows from "
             "$F(s, \\varepsilon) = (1+c)(s - \\varepsilon)(-\\ln s) - 2c(1 - s) \\ge 0$, $\\varepsilon = 1/(n+1)$; "
             "$F$ is concave in $s$, decreasing in $\\varepsilon$, $F(1, \\varepsilon) = 0$ and "
             f"$F({float(X_LO)}, 1/{N0 + 1}) > 0$.",
             "interval", "sympy derivatives and the rearrangement identity; interval value of $F$", _branch_complement),
        Step(f"Conclusion: for $n \\ge {N0}$ every $\\varphi_n(t) \\ge 3/10 > 5/17$; with the finite part, "
             "$\\min_t \\varphi_n(t) \\ge 5/17$ for all $n \\ge 2$, equality only at $n = 3$.",
             "exact", "rational comparison", _combine),
    ),
)


def bipartite_exact(n, Hs):
    """``min_{a,b} φ_n(a, b)`` in exact rationals, with (a*, b*), from harmonic-number sums."""
    R = [Fraction(b) for b in range(n + 1)]  # Σ_{i ≤ b} r_i = b
    Cs = [a * (Hs[n] - Hs[a]) + a for a in range(n + 1)]  # Σ_{j ≤ a} c_j
    total = 2 * n
    best = None
    for b in range(n + 1):
        for a in range(n + 1):
            if (a, b) in ((0, 0), (n, n)):
                continue
            M = b if a >= b else a + a * (Hs[b] - Hs[a])  # Σ_{i ≤ b, j ≤ a} 1/i
            vol = R[b] + Cs[a]
            cut = vol - 2 * M
            denom = min(vol, total - vol)
            if denom > 0:
                phi = cut / denom
                if best is None or phi < best[0]:
                    best = (phi, a, b)
    return best


def _bip_closed_form(ctx):
    Hs = harmonic_table(12)
    for n in range(2, 13):
        A = [[Fraction(1, i + 1) if j <= i else Fraction(0) for j in range(n)] for i in range(n)]
        for a in range(n + 1):
            for b in range(n + 1):
                M = sum(A[i][j] for i in range(b) for j in range(a))
                formula = b if a >= b else a + a * (Hs[b] - Hs[a])
                require(M == formula, f"M({b},{a}) at n = {n}")
        require(all(sum(A[i][j] for i in range(n) for j in range(a)) == a * (Hs[n] - Hs[a]) + a for a in range(n + 1)),
                f"column prefix sums at n = {n}")
    return "M(b, a) = b for a ≥ b, a + a(H_b − H_a) for a < b, and C(a) = a(H_n − H_a) + a: exact for n ≤ 12"


def _bip_more_keys(ctx):
    # b < a: queries b+1..a attend only to keys ≤ a (inside X); adding them gives the prefix set at t = a
    a_, b_, n_ = sp.symbols("a b n", integer=True, positive=True)
    Hn, Ha = sp.Symbol("H_n"), sp.Symbol("H_a")
    cut_bip, vol_bip = a_ * (Hn - Ha) + a_ - b_, a_ + b_ + a_ * (Hn - Ha)
    cut_pre, vol_pre = a_ * (Hn - Ha), 2 * a_ + a_ * (Hn - Ha)
    e1 = symbolic_zero(cut_bip - (cut_pre + (a_ - b_)), "cut(a, b) = cut_prefix(a) + (a − b)")
    e2 = symbolic_zero(vol_bip - (vol_pre - (a_ - b_)), "vol(a, b) = vol_prefix(a) − (a − b)")
    # with δ = a − b ≥ 0, V = vol_prefix, m = min(V, 2n − V), m' = min(V − δ, 2n − V + δ) ≤ m + δ:
    # cut_pre ≥ c·m and c ≤ 1 give cut_pre + δ ≥ c·m' (homogeneous, so a strict negation scales to "≤ −1")
    cut, V, d, N2, m1 = sp.symbols("cut V delta N2 m1")
    c = sp.Rational(5, 17)
    cases = [
        [cut >= c * V, V <= N2 - V, m1 <= V - d, m1 <= N2 - V + d, d >= 0, cut + d <= c * m1 - 1],
        [cut >= c * (N2 - V), N2 - V <= V, m1 <= V - d, m1 <= N2 - V + d, d >= 0, cut + d <= c * m1 - 1],
    ]
    e3 = "; ".join(infeasible([cut, V, d, N2, m1], cs, f"case m = {'V' if k == 0 else '2n − V'}: φ_pre ≥ 5/17 ⇒ φ(a, b) ≥ 5/17")
                   for k, cs in enumerate(cases))
    return f"{e1}; {e2}; {e3}"


def _bip_floor(ctx):
    Hs = harmonic_table(N_BIP)
    phi_star, _, _ = bipartite_star(ctx.dps)
    with mpmath.workdps(ctx.dps):
        upper = phi_star + mpmath.mpf(10) ** (-ctx.dps + 2)
    worst = None
    for n in range(2, N_BIP + 1):
        phi, a, b = bipartite_exact(n, Hs)
        require(phi >= Fraction(1, 5), f"n = {n}: φ_bip = {phi} < 1/5")
        with mpmath.workdps(ctx.dps):
            require(mpmath.mpf(phi.numerator) / phi.denominator > upper, f"n = {n}: φ_bip = {float(phi)} ≤ φ_bip*")
        if worst is None or phi < worst[0]:
            worst = (phi, n, a, b)
    return (f"exact for 2 ≤ n ≤ {N_BIP}: φ_bip(n) ≥ 1/5 and > φ_bip* = {mpmath.nstr(phi_star, 12)}; "
            f"smallest {float(worst[0]):.6f} at n = {worst[1]} (a*, b*) = ({worst[2]}, {worst[3]})")


def _bip_enumeration(ctx):
    Hs = harmonic_table(N_ENUM)
    for n in range(2, N_ENUM + 1):
        A = np.array([[1.0 / (i + 1) if j <= i else 0.0 for j in range(n)] for i in range(n)])
        # vertices: queries 0..n−1, keys n..2n−1; adjacency of the bipartite graph
        W = np.zeros((2 * n, 2 * n))
        W[:n, n:] = A
        W[n:, :n] = A.T
        deg = W.sum(axis=1)
        total = deg.sum()
        codes = np.arange(1, 1 << (2 * n - 1))  # the last vertex stays outside: φ(X) = φ(Xᶜ)
        X = ((codes[:, None] >> np.arange(2 * n)) & 1).astype(float)
        vol = X @ deg
        cut = np.einsum("si,ij,sj->s", X, W, 1 - X)
        denom = np.minimum(vol, total - vol)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1), np.inf)
        best_ab = bipartite_exact(n, Hs)[0]
        # float error here is below 1e-13; any set within 1e-9 of the (a, b) optimum is re-checked exactly
        require(phi.min() > float(best_ab) - 1e-9, f"n = {n}: a vertex set beats the (a, b) cuts")
        for code in codes[phi < float(best_ab) + 1e-9]:
            members = [v for v in range(2 * n) if code >> v & 1]
            q = [v for v in members if v < n]
            kk = [v - n for v in members if v >= n]
            Af = [[Fraction(1, i + 1) if j <= i else Fraction(0) for j in range(n)] for i in range(n)]
            cut_q = sum(Af[i][j] for i in range(n) for j in range(n) if (i in q) != (j in kk))
            vol_q = sum(sum(Af[i]) for i in q) + sum(Af[i][j] for i in range(n) for j in kk)
            exact = cut_q / min(vol_q, 2 * n - vol_q)
            require(exact >= best_ab, f"n = {n}: set {members} has φ = {exact} < {best_ab}")
    return (f"all 2^(2n−1) − 1 vertex sets for n ≤ {N_ENUM}: none beats the best (a, b) cut "
            "(near-ties re-checked in exact rationals)")


def _bip_constants(ctx):
    phi, a, b = bipartite_star(ctx.dps)
    with mpmath.workdps(ctx.dps):
        tol = mpmath.mpf(10) ** (-ctx.dps + 3)
        require(abs(b - (1 - a + a * mpmath.log(a))) < tol, "balance residual")
        require(abs(mpmath.log(a) * (1 - a / b) - mpmath.log(b)) < tol, "stationarity residual")
        vol = b + a - a * mpmath.log(a)
        cut = b + a - a * mpmath.log(a) - 2 * (a + a * mpmath.log(b / a))
        require(abs(vol - 1) < tol and abs(cut - phi) < tol, "continuum cut at (a*, b*) ≠ φ_bip*")
    return (f"(a*, b*) = ({mpmath.nstr(a, 12)}, {mpmath.nstr(b, 12)}) solve both equations to 10^-{ctx.dps - 3}; "
            f"continuum volume 1 and cut φ_bip* = {mpmath.nstr(phi, 15)} there")


CLAIM_BIP = Claim(
    id="C4b",
    title="Bipartite capacity of uniform causal attention",
    statement=(f"For $2 \\le n \\le {N_BIP}$ the bipartite capacity satisfies $\\varphi_{{bip}}(n) \\ge 1/5$ and "
               "$\\varphi_{bip}(n) > \\varphi_{bip}^* = 0.24806\\ldots$, the continuum value at "
               "$(a^*, b^*) = (0.21684\\ldots, 0.45169\\ldots)$; the $(a, b)$ cuts lose nothing against arbitrary "
               f"vertex sets for $n \\le {N_ENUM}$; for **every** $n$, the cuts with $b < a$ are $\\ge 5/17$. "
               "**Open:** the region $a \\le b$ (where the optimum lies) for $n > " + str(N_BIP) + "$, and the general "
               "optimality of $(a, b)$ cuts."),
    steps=(
        Step("Closed forms: $\\sum_{i\\le b, j\\le a} A_{ij} = b$ for $a \\ge b$ and $a + a(H_b - H_a)$ for $a < b$; "
             "$\\sum_{j\\le a} c_j = a(H_n - H_a) + a$; $\\sum_{i \\le b} r_i = b$.",
             "exact", "exact rationals against the matrix for $n \\le 12$", _bip_closed_form),
        Step("For every $n$: a cut with more keys than queries on the left ($b < a$) is no better than the prefix "
             "cut at $t = a$. The queries $b+1..a$ attend only to keys $\\le a$, so adding them lowers the cut and raises "
             "the volume by $\\delta = a - b$; with $\\min(V-\\delta, 2n-V+\\delta) \\le \\min(V, 2n-V) + \\delta$ the "
             "bound $5/17$ of C4 carries over ($a = n$, where no prefix cut exists, has cut $n - b$ over the smaller side "
             "$n - b$: $\\varphi = 1$).", "linear-arithmetic",
             "sympy identities for cut and volume; infeasibility of the negated bound in both cases of the minimum",
             _bip_more_keys),
        Step(f"For $2 \\le n \\le {N_BIP}$: $\\varphi_{{bip}}(n) \\ge 1/5$ and $> \\varphi_{{bip}}^*$.", "exact",
             "every $(a, b)$ in exact rationals; $\\varphi_{bip}^*$ at the requested precision", _bip_floor),
        Step(f"For $n \\le {N_ENUM}$, no vertex set of the bipartite graph has lower conductance than the best "
             "$(a, b)$ cut.", "enumeration", "all bipartitions, float64 with near-ties re-checked exactly",
             _bip_enumeration),
        Step("$(a^*, b^*)$ solves the balance equation $b = 1 - a + a\\ln a$ and the stationarity equation "
             "$\\ln a\\,(1 - a/b) = \\ln b$; there the continuum volume is 1 and the cut is $\\varphi_{bip}^*$.",
             "symbolic", "mpmath `findroot` residuals at the requested precision", _bip_constants),
    ),
    notes=("Numerically (float64, `check`), $\\varphi_{bip}(n)$ stays above $\\varphi_{bip}^*$ far beyond the "
           "certified range (n = 100: 0.24961, n = 4000: 0.24811), approaching it from above and not "
           "monotonically. A certificate for every n needs a two-dimensional analogue of the prefix tail bound; "
           "that the continuum infimum is attained at $(a^*, b^*)$ is also not proven here."),
)
