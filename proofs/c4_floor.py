"""C4 — the capacity floor of uniform causal attention, for every n ≥ 2.

Prefix capacity: ``min_t φ_n(t) ≥ 5/17`` for every n ≥ 2, with equality only at
n = 3.  Exact rationals for ``2 ≤ n < N0``; for ``n ≥ N0`` an analytic bound
``φ_n(t) ≥ c = 3/10 > 5/17`` for every t, from the harmonic-number bounds
``ln((n+1)/(t+1)) ≤ H_n − H_t ≤ ln(n/t)`` and two one-variable inequalities,
each checked.

Bipartite capacity: ``φ_bip(n) > φ_bip*`` for every n ≥ 2.  Exact for
``n ≤ N_BIP``; above it, cuts with b < a reduce to C4, and for a ≤ b two margins
(I for the larger side, II for the smaller) are positive on three regions by
analytic lemmas and interval boxes.  Near the continuum optimum (a*, b*) — a kink
of ``min(V, 2n − V)`` where neither margin is positive alone — an augmented
Lagrangian ``L_d`` bounds ``max(I, II)`` from below; its continuum part is zero with
zero gradient at the Krawczyk-certified root and positive definite Hessian on a box
U, and the discrete correction is positive (refined harmonic bounds).  The (a, b)
cuts are checked against every vertex set for ``n ≤ N_ENUM`` (the query lemma
reduces the enumeration to key sets); for general n that is open.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

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
N_BIP = 120  #: exact bipartite capacities for n ≤ N_BIP; the analytic part covers n > N_BIP
N_ENUM = 24  #: (a, b) cuts against every vertex set for n ≤ N_ENUM (through the query lemma)
N_ENUM_ALL = 9  #: … and by direct enumeration of all 2^(2n−1) vertex sets for n ≤ N_ENUM_ALL
ALPHA_SPLIT = Fraction(2, 5)  #: margin I is positive for a ≥ 2n/5, since φ_bip* < 1/4
BETA_CORNER = Fraction(1, 8)  #: margin II is positive for b ≤ n/8 (corner lemma)
#: the neighbourhood U of (a*, b*) where the augmented Lagrangian L_d certifies φ > φ_bip* (dyadic, float-exact)
U_BOX = ((Fraction(5, 32), Fraction(9, 32)), (Fraction(3, 8), Fraction(17, 32)))
TAU = Fraction(1)  #: weight of the quadratic penalty in L_d
LOCAL_GRID = 32  #: U is cut into LOCAL_GRID² boxes for the interval checks


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


@lru_cache(maxsize=None)
def exact_bipartite_table(n_max):
    """``{n: (φ_bip, a*, b*)}`` for ``2 ≤ n ≤ n_max`` in exact rationals (cached: two steps use it)."""
    Hs = harmonic_table(n_max)
    return {n: bipartite_exact(n, Hs) for n in range(2, n_max + 1)}


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


def _bip_margin_identities(ctx):
    a_, b_, n_, c, D1, D2 = sp.symbols("a b n c D1 D2", positive=True)
    cut = (b_ - a_) + a_ * (D1 - D2)  # a ≤ b, D1 = H_n − H_b, D2 = H_b − H_a
    vol = a_ + b_ + a_ * (D1 + D2)
    E = (b_ - a_) - a_ * D2
    e1 = symbolic_zero((cut - c * vol) - ((1 - c) * b_ - (1 + c) * a_ + (1 - c) * a_ * D1 - (1 + c) * a_ * D2),
                       "II = cut − c·vol = (1−c)b − (1+c)a + (1−c)aD1 − (1+c)aD2")
    e2 = symbolic_zero((cut - c * (2 * n_ - vol)) - ((1 - c) * E + (1 + c) * a_ * D1 - 2 * c * (n_ - b_)),
                       "I = cut − c(2n − vol) = (1−c)E + (1+c)aD1 − 2c(n − b), E = (b − a) − aD2")
    Hs = harmonic_table(60)
    for n in range(2, 61):
        for a in range(1, n + 1):
            for b in range(a, n + 1):
                E_val = (b - a) - a * (Hs[b] - Hs[a])
                require(E_val >= 0, f"E < 0 at n={n}, a={a}, b={b}")
    return f"{e1}; {e2}; E = (b − a) − a(H_b − H_a) ≥ 0 since H_b − H_a ≤ (b − a)/(a + 1) (exact for n ≤ 60)"


def _iv(q):
    """An exact rational as an mpmath interval (outward-rounded)."""
    return iv.mpf(q.numerator) / q.denominator


def _num(v, digits):
    """A point or interval endpoint (``iv`` degenerate interval) as a short decimal string."""
    return mpmath.nstr(mpmath.mpf(v), digits)


def _jacobian(a, b, log):
    """Jacobian of (balance, stationarity) in (a, b); ``log`` is sympy's, mpmath's or mpmath.iv's."""
    la = log(a)
    return [[-la, 1], [(1 - a / b) / a - la / b, a * la / b ** 2 - 1 / b]]


@lru_cache(maxsize=None)
def bipartite_root(dps):
    """Rigorous enclosures ``(a*, b*, φ_bip*, κ*)``, with ``κ* = 1 − 2a*/b*``, by Krawczyk's test.

    The box of radius ``10^-(dps+2)`` around mpmath's ``findroot`` point holds exactly one root
    of the balance equation ``b = 1 − a + a ln a`` and the stationarity equation
    ``ln a (1 − a/b) = ln b``; ``φ_bip* = 1 − 2a* + 2a* ln(a*/b*)`` is the continuum cut there.

    Returns
    -------
    tuple of mpmath.iv intervals
        Cached per ``dps``: several steps use them.

    Raises
    ------
    CheckFailed
        If the Krawczyk image of the box is not inside the box.
    """
    work = dps + 10
    _, a, b = bipartite_star(work)
    with mpmath.workdps(work):
        r = mpmath.mpf(10) ** (-(dps + 2))
        J = _jacobian(a, b, mpmath.log)
        det = J[0][0] * J[1][1] - J[0][1] * J[1][0]
        Y = [[J[1][1] / det, -J[0][1] / det], [-J[1][0] / det, J[0][0] / det]]  # any point inverse will do
        ends = [(a - r, a + r), (b - r, b + r)]
    with interval_dps(work):
        X = [iv.mpf(list(e)) for e in ends]
        m = [iv.mpf(a), iv.mpf(b)]
        Y = [[iv.mpf(v) for v in row] for row in Y]
        F = [m[1] - (1 - m[0] + m[0] * iv.log(m[0])), iv.log(m[0]) * (1 - m[0] / m[1]) - iv.log(m[1])]
        JX = _jacobian(X[0], X[1], iv.log)
        K = []
        for i in range(2):
            k_i = m[i] - (Y[i][0] * F[0] + Y[i][1] * F[1])
            for j in range(2):
                k_i = k_i + ((1 if i == j else 0) - (Y[i][0] * JX[0][j] + Y[i][1] * JX[1][j])) * (X[j] - m[j])
            K.append(k_i)
        require(all(K[i].a > X[i].a and K[i].b < X[i].b for i in range(2)),
                f"the Krawczyk image {K} is not inside the box {X}")
        A, B = X
        phi = 1 - 2 * A + 2 * A * iv.log(A / B)
        kappa = 1 - 2 * A / B
    return A, B, phi, kappa


def _bip_root(ctx):
    a_, b_ = sp.symbols("a b", positive=True)
    F = sp.Matrix([b_ - (1 - a_ + a_ * sp.log(a_)), sp.log(a_) * (1 - a_ / b_) - sp.log(b_)])
    require(sp.simplify(F.jacobian([a_, b_]) - sp.Matrix(_jacobian(a_, b_, sp.log))) == sp.zeros(2, 2),
            "the Jacobian used by the Krawczyk test is not that of the system")
    A, B, phi, kappa = bipartite_root(ctx.dps)
    require(phi.a > _iv(Fraction(6, 25)).b and phi.b < _iv(Fraction(1, 4)).a, f"φ_bip* = {phi} not in (6/25, 1/4)")
    require(abs(kappa).b < phi.a, f"|κ*| = {abs(kappa)} is not < φ_bip* = {phi}")
    point = bipartite_star(ctx.dps)[0]  # the constant `verify` prints lies in the enclosure
    with interval_dps(ctx.dps + 10):
        require(abs(iv.mpf(point) - phi).b < iv.mpf(10) ** (1 - ctx.dps), f"printed φ_bip* {point} is outside {phi}")
    with mpmath.workdps(ctx.dps + 10):
        return (f"Jacobian checked by sympy; Krawczyk image strictly inside the box of radius 10^-{ctx.dps + 2}: "
                f"one root; φ_bip* ∈ [{_num(phi.a, 20)}, {_num(phi.b, 20)}], κ* = {_num(kappa.a, 12)}; "
                "6/25 < φ_bip* < 1/4 and |κ*| < φ_bip*")


def _bip_region_keys(ctx):
    c = sp.Symbol("c", positive=True)
    split = sp.Rational(ALPHA_SPLIT.numerator, ALPHA_SPLIT.denominator)
    e = symbolic_zero((1 + c) * split - 2 * c - (2 - 8 * c) / 5, "(1 + c)(2/5) − 2c = (2 − 8c)/5")
    Hs = harmonic_table(200)
    for n in range(2, 201):
        require(all(Hs[n] - Hs[b] >= Fraction(n - b, n) for b in range(n + 1)), f"H_n − H_b < (n − b)/n at n = {n}")
    _, _, phi, _ = bipartite_root(ctx.dps)
    require((2 - 8 * phi).a > 0, f"2 − 8φ_bip* = {2 - 8 * phi} is not > 0")
    return (f"{e}; 2 − 8φ_bip* > 0 from the enclosure (φ_bip* < 1/4); H_n − H_b ≥ (n − b)/n since each of its "
            "n − b terms is ≥ 1/n (exact for n ≤ 200)")


def _bip_region_corner(ctx):
    c, rho, K = sp.symbols("c rho K", positive=True)
    h = (1 - c) - (1 + c) * rho + K * rho + (1 + c) * rho * sp.log(rho)
    e1 = symbolic_zero(sp.diff(h, rho, 2) - (1 + c) / rho, "h'' = (1 + c)/ρ > 0")
    e2 = symbolic_zero(sp.diff(h, rho) - (K + (1 + c) * sp.log(rho)), "h' = K + (1 + c) ln ρ")
    rho_m = sp.exp(-K / (1 + c))
    e3 = symbolic_zero(h.subs(rho, rho_m) - ((1 - c) - (1 + c) * rho_m), "h(ρ_m) = (1 − c) − (1 + c)ρ_m")
    _, _, phi, _ = bipartite_root(ctx.dps)
    with interval_dps(30):
        Kv = (1 - phi) * iv.log(1 / (2 * _iv(BETA_CORNER)))
        hm = (1 - phi) - (1 + phi) * iv.exp(-Kv / (1 + phi))
        h1 = (1 - phi) - (1 + phi) + Kv
        require(hm.a > 0 and h1.a > 0, f"h(ρ_m) = {hm}, h(1) = {h1}")
        worst = min(hm.a, h1.a)
    return (f"{e1}; {e2}; {e3}; for b ≤ n/8: ln((n+1)/(b+1)) ≥ ln 4 (n ≥ 6), so II/b ≥ h(a/b) with "
            f"K = (1 − c) ln 4, c = φ_bip*; the convex h has min(h(ρ_m), h(1)) ≥ {_num(worst, 4)} > 0 "
            "(interval arithmetic)")


def _bip_harmonic_refined(ctx):
    u, m = sp.symbols("u m", positive=True)
    g = sp.log(1 + u) - u / 2 - u / (2 * (1 + u))
    k = (u ** 2 - u ** 2 / (1 + u) ** 2) / 12 + g
    e = [symbolic_zero(sp.diff(g, u) + u ** 2 / (2 * (1 + u) ** 2), "g' = −u²/(2(1+u)²) < 0"),
         symbolic_zero(sp.diff(k, u) - u ** 4 / (6 * (1 + u) ** 3), "k' = u⁴/(6(1+u)³) > 0")]
    require(g.subs(u, 0) == 0 and k.subs(u, 0) == 0, "g(0) or k(0) is not 0")
    f_step = 1 / (m + 1) - (sp.log(m + 1) - sp.log(m)) - 1 / (2 * (m + 1)) + 1 / (2 * m)  # f(m+1) − f(m)
    e.append(symbolic_zero(sp.expand_log(f_step + g.subs(u, 1 / m), force=True), "f(m+1) − f(m) = −g(1/m)"))
    e.append(symbolic_zero((1 / (12 * m ** 2) - 1 / (12 * (m + 1) ** 2)) - (k - g).subs(u, 1 / m),
                           "1/(12m²) − 1/(12(m+1)²) = (k − g)(1/m)"))
    with interval_dps(30):  # the telescoped bound, evaluated for small arguments as a guard
        Hs = [iv.mpf(0)]
        for q in range(1, 61):
            Hs.append(Hs[-1] + iv.mpf(1) / q)
        f = [None] + [Hs[q] - iv.log(q) - iv.mpf(1) / (2 * q) for q in range(1, 61)]
        for lo in range(1, 60):
            for hi in range(lo + 1, 61):
                d = f[hi] - f[lo]
                require(d.a > 0 and d.b < iv.mpf(1) / (12 * lo ** 2) - iv.mpf(1) / (12 * hi ** 2),
                        f"f({hi}) − f({lo}) = {d} outside its bounds")
    return "; ".join(e) + "; so 0 < f(M) − f(m) < (1/m² − 1/M²)/12 by telescoping (interval check for m < M ≤ 60)"


def _bip_local_identities(ctx):
    x, y, kap, tau, phi, e1, e2, nu = sp.symbols("x y kappa tau phi e1 e2 nu", real=True)
    cut = y - x - 2 * x * sp.log(y) + x * sp.log(x)
    vol = x + y - x * sp.log(x)
    A = vol - 1
    Lc = cut - phi - kap * A + tau * A ** 2
    e = [symbolic_zero(sp.expand_log(cut - (1 - 2 * x + 2 * x * sp.log(x / y)) - (y - (1 - x + x * sp.log(x))),
                                     force=True), "cut − φ-formula = balance residual"),
         symbolic_zero(sp.diff(cut, x) - (1 - 2 * x / y) * sp.diff(vol, x)
                       - 2 * (sp.log(x) * (1 - x / y) - sp.log(y)), "∂ₓcut − κ*∂ₓvol = 2·stationarity residual"),
         symbolic_zero(sp.diff(cut, y) - (1 - 2 * x / y) * sp.diff(vol, y), "∂ᵧcut − κ*∂ᵧvol = 0")]
    H = sp.hessian(Lc, (x, y))
    kp = kap - 2 * tau * A
    mine = sp.Matrix([[(1 + kap) / x + 2 * tau * (sp.log(x) ** 2 - A / x), -2 / y - 2 * tau * sp.log(x)],
                      [-2 / y - 2 * tau * sp.log(x), 2 * x / y ** 2 + 2 * tau]])
    require(all(sp.simplify(v) == 0 for v in H - mine), "Hessian of L_c differs from the entries used")
    e.append("Hessian entries of L_c checked")
    cut_d, W = cut + x * (e1 - e2), A + x * (e1 + e2)
    Ld = cut_d - phi - kap * W + tau * W ** 2
    e.append(symbolic_zero(Ld - (Lc + x * ((1 - kp) * e1 - (1 + kp) * e2) + tau * (x * (e1 + e2)) ** 2),
                           "L_d/n = L_c + x((1 − κ')e₁ − (1 + κ')e₂) + τx²(e₁ + e₂)²"))
    e.append(symbolic_zero((cut_d - phi * (1 - W)) - Ld - W * (phi + kap - tau * W), "I/n − L_d/n = W(φ + κ − τW)"))
    e.append(symbolic_zero((cut_d - phi * (1 + W)) - Ld + W * (phi - kap + tau * W), "II/n − L_d/n = −W(φ − κ + τW)"))
    q = (1 + kp) / 2 + (1 - kp) * x / 2 - x / y - (1 + kp) * nu / (12 * x)
    bound = x * ((1 - kp) * (nu / 2 - nu / (2 * y)) - (1 + kp) * (nu / (2 * y) - nu / (2 * x) + nu ** 2 / (12 * x ** 2)))
    e.append(symbolic_zero(bound - nu * q, "the bounds e₁ ≥ ν/2 − ν/(2y), e₂ ≤ ν/(2y) − ν/(2x) + ν²/(12x²) give νq"))
    return "; ".join(e)


def _local_box(x0, x1, y0, y1, root, tau, nu0):
    """Interval bounds on one box of U: (λ_min of Hess L_c, q at ν₀, τ max|W| − (φ − |κ|), max|κ'|)."""
    A_, B_, phi, kappa = root
    X, Y = iv.mpf([x0, x1]), iv.mpf([y0, y1])
    lx = iv.log(X)
    A = X + Y - _xlogx(x0, x1) - 1
    H11 = (1 + kappa) / X + 2 * tau * (lx ** 2 - A / X)
    H12 = -2 / Y - 2 * tau * lx
    H22 = 2 * X / Y ** 2 + 2 * tau
    lam = ((H11 + H22) - iv.sqrt((H11 - H22) ** 2 + 4 * H12 ** 2)) / 2
    kp = kappa - 2 * tau * A
    q = (1 + kp) / 2 + (1 - kp) * X / 2 - X / Y - (1 + kp) * nu0 / (12 * X)
    nu = iv.mpf([0, 1]) * nu0
    W = A + nu * (X - 1) / 2 + iv.mpf([0, 1]) * nu ** 2 / (12 * X)
    slack = tau * abs(W) - (phi - abs(kappa))
    return lam.a, q.a, slack.b, abs(kp).b


def _dist2(x0, x1, y0, y1, root):
    """A rigorous lower bound on the squared distance from the box to the enclosure of (a*, b*)."""
    def gap(lo, hi, E):
        for g in ((iv.mpf(lo) - E.b).a, (E.a - iv.mpf(hi)).a):
            if g > 0:
                return g
        return iv.mpf(0)

    return (gap(x0, x1, root[0]) ** 2 + gap(y0, y1, root[1]) ** 2).a


def _bip_local_interval(ctx):
    root = bipartite_root(ctx.dps)
    with interval_dps(20):
        tau, nu0 = _iv(TAU), _iv(Fraction(1, N_BIP + 1))
        (ux0, ux1), (uy0, uy1) = [(float(lo), float(hi)) for lo, hi in U_BOX]
        require(all(float(e) == e for side in U_BOX for e in side), f"U = {U_BOX} is not float-exact")
        require(root[0].a > ux0 and root[0].b < ux1 and root[1].a > uy0 and root[1].b < uy1, "(a*, b*) is not in U")
        g = LOCAL_GRID
        boxes = [(ux0 + (ux1 - ux0) * i / g, ux0 + (ux1 - ux0) * (i + 1) / g,
                  uy0 + (uy1 - uy0) * j / g, uy0 + (uy1 - uy0) * (j + 1) / g) for i in range(g) for j in range(g)]
        stats = [_local_box(*bx, root, tau, nu0) for bx in boxes]
        m = min(s[0] for s in stats)
        require(m > 0, f"Hess L_c is not positive definite on U (λ_min ≥ {m})")
        q_at_root, hard = None, 0
        for bx, (lam, q, slack, kp) in zip(boxes, stats):
            require(slack <= 0, f"τ|W| > φ − |κ| on the box {bx}")
            require(kp < 1, f"|κ'| ≥ 1 on the box {bx}")
            if q > 0:
                continue
            hard += 1
            require(m / 2 * _dist2(*bx, root) + nu0.a * q > 0, f"box {bx}: q = {q} < 0 too close to (a*, b*)")
        for bx, s in zip(boxes, stats):
            if bx[0] <= root[0].a and root[0].b <= bx[1] and bx[2] <= root[1].a and root[1].b <= bx[3]:
                q_at_root = s[1] if q_at_root is None else min(q_at_root, s[1])
        require(q_at_root is not None and q_at_root > 0, f"q at (a*, b*) is {q_at_root}, not > 0")
    return (f"{g}×{g} boxes on U = [{ux0}, {ux1}] × [{uy0}, {uy1}], τ = {TAU}, ν ≤ 1/{N_BIP + 1}: "
            f"λ_min(Hess L_c) ≥ {_num(m, 4)}; τ|W| ≤ φ − |κ| and |κ'| < 1 everywhere; q > 0 on "
            f"{len(boxes) - hard} boxes (≥ {_num(q_at_root, 3)} at (a*, b*)), and (m/2)d² + ν₀q > 0 on the other {hard}")


def _xlogx(lo, hi):
    """Rigorous enclosure of x ln x on [lo, hi] ⊂ [0, 1] (0 ln 0 = 0)."""
    def f(v):
        return iv.mpf(0) if v == 0 else iv.mpf(v) * iv.log(iv.mpf(v))

    e = 1 / iv.e
    flo, fhi = f(lo), f(hi)
    if hi <= e.a:
        return iv.mpf([fhi.a, flo.b])
    if lo >= e.b:
        return iv.mpf([flo.a, fhi.b])
    return iv.mpf([-(1 / iv.e).b, max(flo.b, fhi.b)])


def bipartite_margins(a0, a1, b0, b1, c, nu):
    """Interval lower bounds of I/n and II/n over the box a/n ∈ [a0, a1], b/n ∈ [b0, b1]."""
    A, B = iv.mpf([a0, a1]), iv.mpf([b0, b1])
    l1 = iv.log((1 + nu) / (B + nu))  # H_n − H_b ≥ ln((n+1)/(b+1)), decreasing in ν
    alog = A * iv.log(B) - _xlogx(a0, a1)  # (a/n) ln(b/a) ≥ a(H_b − H_a)/n
    m2 = (1 - c) * B - (1 + c) * A + (1 - c) * A * l1 - (1 + c) * alog
    m1 = (1 + c) * B - (1 - c) * A + (1 + c) * A * l1 - (1 - c) * alog - 2 * c
    return m1.a, m2.a


def _bip_region_middle(ctx):
    root = bipartite_root(ctx.dps)
    (ux0, ux1), (uy0, uy1) = [(float(lo), float(hi)) for lo, hi in U_BOX]
    with interval_dps(20):
        c = root[2]
        nu = _iv(Fraction(1, N_BIP + 1))
        stack = [(0.0, float(ALPHA_SPLIT), float(BETA_CORNER), 1.0, 0)]
        boxes, worst = 0, None
        while stack:
            a0, a1, b0, b1, depth = stack.pop()
            if a0 > b1:  # entirely a > b: not in this region
                continue
            if ux0 <= a0 and a1 <= ux1 and uy0 <= b0 and b1 <= uy1:  # inside U: the local lemma covers it
                continue
            boxes += 1
            m1, m2 = bipartite_margins(a0, a1, b0, b1, c, nu)
            if m1 > 0 or m2 > 0:
                best = max(m1, m2)
                worst = best if worst is None else min(worst, best)
                continue
            require(depth < 18, f"box a/n ∈ [{a0}, {a1}], b/n ∈ [{b0}, {b1}] not certified at depth 18")
            am, bm = (a0 + a1) / 2, (b0 + b1) / 2
            stack += [(a0, am, b0, bm, depth + 1), (am, a1, b0, bm, depth + 1),
                      (a0, am, bm, b1, depth + 1), (am, a1, bm, b1, depth + 1)]
    require(float(ALPHA_SPLIT) >= ALPHA_SPLIT and float(BETA_CORNER) == BETA_CORNER,
            "the boxes do not cover the region between the analytic lemmas")
    return (f"{boxes} boxes cover a/n ∈ [0, {float(ALPHA_SPLIT)}], b/n ∈ [{float(BETA_CORNER)}, 1] outside U at "
            f"ν = 1/{N_BIP + 1}, c = φ_bip*; on each, I > 0 or II > 0 (smallest certified margin {_num(worst, 3)})")


def _bip_floor(ctx):
    phi_star = bipartite_root(ctx.dps)[2]
    worst = None
    for n, (phi, a, b) in exact_bipartite_table(N_BIP).items():
        require(phi >= Fraction(1, 5), f"n = {n}: φ_bip = {phi} < 1/5")
        with interval_dps(ctx.dps + 10):
            require(iv.mpf(phi.numerator) / phi.denominator > phi_star, f"n = {n}: φ_bip = {float(phi)} ≤ φ_bip*")
        if worst is None or phi < worst[0]:
            worst = (phi, n, a, b)
    return (f"exact for 2 ≤ n ≤ {N_BIP}: φ_bip(n) ≥ 1/5 and > φ_bip* (its interval enclosure); "
            f"smallest {float(worst[0]):.6f} at n = {worst[1]} (a*, b*) = ({worst[2]}, {worst[3]})")


def _bip_query_lemma(ctx):
    n = 3
    rows = [sp.symbols(f"p{i}_0:{n - 1}") for i in range(n)]
    A = sp.Matrix([list(r) + [1 - sum(r)] for r in rows])  # a generic row-stochastic matrix
    for qcode in range(1 << n):
        Q = [i for i in range(n) if qcode >> i & 1]
        for kcode in range(1 << n):
            K = [j for j in range(n) if kcode >> j & 1]
            cut = sum(A[i, j] for i in range(n) for j in range(n) if (i in Q) != (j in K))
            f = [sum(A[i, j] for j in K) for i in range(n)]
            require(sp.expand(cut - (sum(f) + len(Q) - 2 * sum(f[i] for i in Q))) == 0,
                    f"cut identity fails for Q = {Q}, K = {K}")
    return (f"cut(Q, K) = Σᵢ fᵢ + |Q| − 2 Σ_{{i∈Q}} fᵢ on a generic {n}×{n} row-stochastic matrix, all "
            f"{4 ** n} pairs (Q, K) (sympy expand); the volume |Q| + Σ_{{j∈K}} c_j depends on Q only through |Q|")


def keyset_minimum(n, threshold, chunk=1 << 14):
    """Minimum conductance over **all** vertex sets of the uniform-causal bipartite graph, by the query lemma.

    For each key set K (key n left out, since ``φ(X) = φ(Xᶜ)``) and each size s, the best query set
    is the s queries with the largest ``fᵢ = Σ_{j∈K} A_ij``.  Float64.

    Returns
    -------
    tuple
        ``(φ_min, near)``: the minimum and the ``(K bit code, s)`` pairs with φ below ``threshold + 1e-9``.
    """
    A = np.array([[1.0 / (i + 1) if j <= i else 0.0 for j in range(n)] for i in range(n)])
    col = A.sum(axis=0)
    best, near = np.inf, []
    sizes = np.arange(n + 1)
    for start in range(0, 1 << (n - 1), chunk):
        codes = np.arange(start, min(start + chunk, 1 << (n - 1)))
        K = ((codes[:, None] >> np.arange(n)) & 1).astype(float)
        f = K @ A.T
        top = np.concatenate([np.zeros((len(codes), 1)), np.cumsum(-np.sort(-f, axis=1), axis=1)], axis=1)
        cut = f.sum(axis=1)[:, None] + sizes - 2 * top
        vol = (K @ col)[:, None] + sizes
        denom = np.minimum(vol, 2 * n - vol)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1), np.inf)
        best = min(best, float(phi.min()))
        near += [(int(codes[r]), int(k)) for r, k in zip(*np.nonzero(phi < threshold + 1e-9))]
    return best, near


def _exact_keyset_phi(n, code, s):
    """φ of the best query set of size s for key set ``code``, in exact rationals."""
    K = [j for j in range(n) if code >> j & 1]
    f = sorted((Fraction(len([j for j in K if j <= i]), i + 1) for i in range(n)), reverse=True)
    cut = sum(f) + s - 2 * sum(f[:s])
    Hs = harmonic_table(n)
    vol = s + sum(Hs[n] - Hs[j] for j in K)  # c_j = Σ_{i ≥ j} 1/i (keys 1-based: j + 1)
    return cut / min(vol, 2 * n - vol)


def _all_sets_minimum(n):
    """Float64 minimum of φ over all 2^(2n−1) − 1 vertex sets, independent of the query lemma."""
    A = np.array([[1.0 / (i + 1) if j <= i else 0.0 for j in range(n)] for i in range(n)])
    W = np.zeros((2 * n, 2 * n))
    W[:n, n:] = A
    W[n:, :n] = A.T
    deg = W.sum(axis=1)
    codes = np.arange(1, 1 << (2 * n - 1))  # the last vertex stays outside: φ(X) = φ(Xᶜ)
    X = ((codes[:, None] >> np.arange(2 * n)) & 1).astype(float)
    vol = X @ deg
    cut = np.einsum("si,ij,sj->s", X, W, 1 - X)
    denom = np.minimum(vol, deg.sum() - vol)
    return float(np.min(cut[denom > 0] / denom[denom > 0]))


def _bip_enumeration(ctx):
    n_max = ctx.enum_max or N_ENUM
    Hs = harmonic_table(n_max)
    rechecked = 0
    for n in range(2, n_max + 1):
        best_ab = bipartite_exact(n, Hs)[0]
        best, near = keyset_minimum(n, float(best_ab))
        # float error here is below 1e-13; every (K, s) within 1e-9 of the (a, b) optimum is re-checked exactly
        require(best > float(best_ab) - 1e-9, f"n = {n}: a vertex set beats the (a, b) cuts ({best} < {float(best_ab)})")
        for code, size in near:
            rechecked += 1
            exact = _exact_keyset_phi(n, code, size)
            require(exact >= best_ab, f"n = {n}: key set {code:b}, {size} queries: φ = {exact} < {best_ab}")
        if n <= N_ENUM_ALL:
            direct = _all_sets_minimum(n)
            require(abs(direct - best) < 1e-12, f"n = {n}: all vertex sets give {direct}, the query lemma {best}")
    return (f"every key set and query count for n ≤ {n_max} (2^(n−1)(n+1) candidates per n): none beats the "
            f"best (a, b) cut; {rechecked} near-ties re-checked in exact rationals; for n ≤ {N_ENUM_ALL} all "
            "2^(2n−1) − 1 vertex sets enumerated directly give the same minimum")


def _bip_all_n(ctx):
    phi_star = bipartite_root(ctx.dps)[2]
    require(_iv(Fraction(5, 17)).a > phi_star.b and phi_star.a > _iv(Fraction(6, 25)).b, "5/17 > φ_bip* > 6/25 fails")
    return (f"n ≤ {N_BIP}: exact; n > {N_BIP}: a = 0 gives φ = 1, b < a gives ≥ 5/17 > φ_bip*, and for a ≤ b "
            f"I > 0 or II > 0 on a ≥ 2n/5, on b ≤ n/8, on the boxes and (through L_d > 0) on U; hence "
            "φ_bip(n) > φ_bip* > 6/25 > 1/5 for every n ≥ 2")


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
    statement=("For every $n \\ge 2$ the bipartite capacity of uniform causal attention satisfies "
               "$\\varphi_{bip}(n) > \\varphi_{bip}^* = 0.24806\\ldots$ (so $\\varphi_{bip}(n) > 6/25 > 1/5$), where "
               "$\\varphi_{bip}^* = 1 - 2a^* + 2a^*\\ln(a^*/b^*)$ at the root $(a^*, b^*) = (0.21684\\ldots, 0.45169\\ldots)$ "
               "of the balance equation $b = 1 - a + a\\ln a$ and the stationarity equation $\\ln a\\,(1 - a/b) = \\ln b$. "
               f"The $(a, b)$ cuts lose nothing against arbitrary vertex sets for $n \\le {N_ENUM}$. **Open:** the "
               "optimality of $(a, b)$ cuts for general $n$."),
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
        Step("For $a \\le b$, with $D_1 = H_n - H_b$, $D_2 = H_b - H_a$: "
             "$\\mathrm{II} = \\mathrm{cut} - c\\,\\mathrm{vol} = (1-c)b - (1+c)a + (1-c)aD_1 - (1+c)aD_2$ and "
             "$\\mathrm{I} = \\mathrm{cut} - c(2n - \\mathrm{vol}) = (1-c)E + (1+c)aD_1 - 2c(n-b)$, "
             "$E = (b-a) - aD_2 \\ge 0$; $\\varphi > c$ if and only if $\\mathrm{I} > 0$ or $\\mathrm{II} > 0$.",
             "symbolic", "sympy identities; $E \\ge 0$ from $D_2 \\le (b-a)/(a+1)$, exact for $n \\le 60$",
             _bip_margin_identities),
        Step("The system has exactly one root $(a^*, b^*)$ in a box of radius $10^{-(dps+2)}$ around the numerical "
             "solution; it encloses $\\varphi_{bip}^*$ and $\\kappa^* = 1 - 2a^*/b^*$, with "
             "$6/25 < \\varphi_{bip}^* < 1/4$ and $|\\kappa^*| < \\varphi_{bip}^*$. From here on $c = \\varphi_{bip}^*$.",
             "interval", "Krawczyk's test in mpmath interval arithmetic; the Jacobian checked by sympy", _bip_root),
        Step("Region $a \\ge (2/5)\\,n$: with $D_1 \\ge (n-b)/n$, "
             "$\\mathrm{I} \\ge (1-c)E + (n-b)\\big((1+c)a/n - 2c\\big)$ and $(1+c)\\tfrac25 - 2c = (2 - 8c)/5 > 0$; "
             "so $\\mathrm{I} > 0$ when $b < n$, and when $b = n > a$ because then $E > 0$.",
             "symbolic", "sympy identity; exact rationals; the enclosure of $c$", _bip_region_keys),
        Step("Region $b \\le n/8$ (corner): with $\\rho = a/b$ and $\\ln\\frac{n+1}{b+1} \\ge \\ln 4$, "
             "$\\mathrm{II}/b \\ge h(\\rho) = (1-c) - (1+c)\\rho + K\\rho + (1+c)\\rho\\ln\\rho$, $K = (1-c)\\ln 4$: "
             "convex, with $\\min(h(\\rho_m), h(1)) > 0$.", "interval",
             "sympy derivatives; interval arithmetic at the minimiser", _bip_region_corner),
        Step("Refined harmonic bounds: $f(m) = H_m - \\ln m - \\frac{1}{2m}$ satisfies "
             "$0 < f(M) - f(m) < \\frac{1}{12}\\big(\\frac{1}{m^2} - \\frac{1}{M^2}\\big)$ for $1 \\le m < M$, since "
             "$f(m+1) - f(m) = -g(1/m)$ and $\\frac{1}{12m^2} - \\frac{1}{12(m+1)^2} = (k - g)(1/m)$ with "
             "$g(u) = \\ln(1+u) - \\frac u2 - \\frac{u}{2(1+u)}$, $g' = -\\frac{u^2}{2(1+u)^2}$, "
             "$k' = \\frac{u^4}{6(1+u)^3}$, $g(0) = k(0) = 0$. Hence, with $x = a/n$, $y = b/n$, $\\nu = 1/n$: "
             "$e_1 = D_1 - \\ln\\frac1y \\ge \\frac\\nu2 - \\frac{\\nu}{2y}$ and "
             "$e_2 = D_2 - \\ln\\frac yx \\le \\frac{\\nu}{2y} - \\frac{\\nu}{2x} + \\frac{\\nu^2}{12x^2}$.",
             "symbolic", "sympy derivatives and identities; interval check of the bound for $m < M \\le 60$",
             _bip_harmonic_refined),
        Step("Local identities near $(a^*, b^*)$. With $\\mathrm{cut}_c = y - x - 2x\\ln y + x\\ln x$, "
             "$\\mathrm{vol}_c = x + y - x\\ln x$, $A = \\mathrm{vol}_c - 1$ and "
             "$L_c = \\mathrm{cut}_c - c - \\kappa^* A + \\tau A^2$: $L_c(a^*, b^*) = 0$ and $\\nabla L_c(a^*, b^*) = 0$ "
             "(the cut minus the $\\varphi$ formula is the balance residual; the gradient of "
             "$\\mathrm{cut}_c - \\kappa^*\\mathrm{vol}_c$ is twice the stationarity residual and 0). The discrete "
             "$L_d = \\mathrm{cut} - cn - \\kappa^*(V - n) + \\tau(V - n)^2/n$, $W = V/n - 1$, satisfies "
             "$L_d/n \\ge L_c + x\\big((1-\\kappa')e_1 - (1+\\kappa')e_2\\big) \\ge L_c + \\nu q$ with "
             "$\\kappa' = \\kappa^* - 2\\tau A$ and $q = \\frac{1+\\kappa'}{2} + \\frac{(1-\\kappa')x}{2} - \\frac xy "
             "- \\frac{(1+\\kappa')\\nu}{12x}$ (if $|\\kappa'| < 1$), and "
             "$\\mathrm{I}/n - L_d/n = W(c + \\kappa^* - \\tau W)$, $\\mathrm{II}/n - L_d/n = -W(c - \\kappa^* + \\tau W)$: "
             "so if $\\tau|W| \\le c - |\\kappa^*|$, then $\\max(\\mathrm{I}, \\mathrm{II}) \\ge L_d$.",
             "symbolic", "sympy: residual identities, the Hessian entries of $L_c$, the expansion of $L_d$, "
             "the two S-procedure identities and $\\nu q$", _bip_local_identities),
        Step(f"On $U = [5/32, 9/32] \\times [3/8, 17/32] \\ni (a^*, b^*)$ with $\\tau = {TAU}$ and $n > {N_BIP}$: "
             "the Hessian of $L_c$ has $\\lambda_{\\min} \\ge m > 0$, so $L_c \\ge \\frac m2 |p - p^*|^2$ by Taylor's "
             "theorem on the convex $U$; $\\tau|W| \\le c - |\\kappa^*|$ and $|\\kappa'| < 1$; and on every box "
             "$q > 0$, or $\\frac m2 d^2 + \\nu_0 q > 0$ with $d$ the distance to $(a^*, b^*)$ and "
             f"$\\nu_0 = 1/{N_BIP + 1}$ ($q$ decreases in $\\nu$). Hence $L_d > 0$ and $\\varphi > c$ on $U$.",
             "interval", "mpmath interval arithmetic on a grid of boxes, with the enclosures of $a^*, b^*, c, \\kappa^*$",
             _bip_local_interval),
        Step(f"Remaining region $a/n \\le 2/5$, $b/n \\ge 1/8$ outside $U$, $n > {N_BIP}$: with "
             "$D_1 \\ge \\ln\\frac{1+\\nu}{b/n+\\nu}$ (decreasing in $\\nu = 1/n$) and $D_2 \\le \\ln(b/a)$, an adaptive "
             f"subdivision into boxes shows $\\mathrm{{I}} > 0$ or $\\mathrm{{II}} > 0$ on every box at $\\nu = 1/{N_BIP + 1}$.",
             "interval", "mpmath interval arithmetic on each box, with a rigorous enclosure of $x\\ln x$",
             _bip_region_middle),
        Step(f"For $2 \\le n \\le {N_BIP}$: $\\varphi_{{bip}}(n) \\ge 1/5$ and $> \\varphi_{{bip}}^*$.", "exact",
             "every $(a, b)$ in exact rationals, compared with the enclosure of $\\varphi_{bip}^*$", _bip_floor),
        Step("Query lemma: for any row-stochastic $A$, a vertex set with queries $Q$ and keys $K$ has "
             "$\\mathrm{cut} = \\sum_i f_i + |Q| - 2\\sum_{i \\in Q} f_i$, $f_i = \\sum_{j \\in K} A_{ij}$, and volume "
             "$|Q| + \\sum_{j \\in K} c_j$; so for fixed $K$ and $|Q| = s$ the best $Q$ is the $s$ queries with the "
             "largest $f_i$.", "symbolic", "sympy on a generic $3 \\times 3$ row-stochastic matrix, every $(Q, K)$",
             _bip_query_lemma),
        Step(f"For $n \\le {N_ENUM}$, no vertex set of the bipartite graph has lower conductance than the best "
             "$(a, b)$ cut.", "enumeration",
             f"every key set and query count through the query lemma (float64, near-ties re-checked exactly); for "
             f"$n \\le {N_ENUM_ALL}$ every vertex set directly", _bip_enumeration),
        Step("Every $n \\ge 2$: $\\varphi_{bip}(n) > \\varphi_{bip}^* > 6/25 > 1/5$ — exact up to the cutoff; above it "
             "$\\varphi = 1$ at $a = 0$, the reduction of $b < a$ to C4, and for $a \\le b$ the regions "
             "$a \\ge 2n/5$, $b \\le n/8$, the boxes and $U$.", "exact",
             "rational comparisons with the enclosure of $\\varphi_{bip}^*$", _bip_all_n),
        Step("$(a^*, b^*)$ solves the balance equation $b = 1 - a + a\\ln a$ and the stationarity equation "
             "$\\ln a\\,(1 - a/b) = \\ln b$; there the continuum volume is 1 and the cut is $\\varphi_{bip}^*$.",
             "symbolic", "mpmath `findroot` residuals at the requested precision", _bip_constants),
    ),
    notes=("The margin $\\varphi_{bip}(n) - \\varphi_{bip}^*$ is of order $1/n$: at the optimum "
           "$q \\approx \\frac{1+\\kappa^*}{2} + \\frac{(1-\\kappa^*)a^*}{2} - \\frac{a^*}{b^*} \\approx 0.14$, and the "
           "lattice adds a non-negative, oscillating part (float64 `check`: n = 100: 0.24961, n = 4000: 0.24811). "
           "A consequence: the continuum landscape $\\varphi(x, y)$ is the limit of $\\varphi_n(xn, yn)$ along "
           "lattice points, so it is $\\ge \\varphi_{bip}^*$ everywhere, and $(a^*, b^*)$ is its minimiser. "
           "The symmetric part of the proof — $\\min(V, 2n - V)$ has a kink exactly at the continuum optimum — is "
           "what the augmented Lagrangian handles: neither margin alone is positive near $(a^*, b^*)$."),
)
