"""C4 — the capacity floor of uniform causal attention, for every n ≥ 2.

Prefix capacity: ``min_t φ_n(t) ≥ 5/17`` for every n ≥ 2, with equality only at
n = 3.  Exact rationals for ``2 ≤ n < n0``; for ``n ≥ n0`` an analytic bound
``φ_n(t) ≥ c = 3/10 > 5/17`` for every t, from the harmonic-number bounds
``ln((n+1)/(t+1)) ≤ H_n − H_t ≤ ln(n/t)`` and two one-variable inequalities,
each checked.  The constants of the argument (``n0``, ``c``, the rational lower
bound of ``x*``) are one :class:`PrefixFloorCertificate`, read from the context:
a test builds a weaker certificate and shows the checkers reject it.  The finite
part evaluates the C2 closed form (``theory.uniform_causal.landscape``, checked
symbolically in C2) in exact rationals — the same expression, never re-typed — and
reports the n it visited; the coverage step checks that they meet the tail at n0.

The bipartite capacity (C4b) is in :mod:`attention_transport.proofs.c4b`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from attention_transport.proofs.core import Case, Checked, Claim, Part, Step, interval_dps, require, symbolic_zero
from attention_transport.proofs.formulas import exact_function, interval_value
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import uniform_causal as uc

__all__ = ["PrefixFloorCertificate", "CERTIFICATE", "CLAIM", "harmonic_table", "exact_prefix_capacity"]


@dataclass(frozen=True)
class PrefixFloorCertificate:
    """The constants of the all-n prefix floor argument."""

    exact_range: tuple = (2, 99)  #: the finite part: every n in this range, in exact rationals
    n0: int = 100  #: the analytic tail covers n ≥ n0
    tail: Fraction = Fraction(3, 10)  #: tail constant c, 5/17 < c < φ*
    x_lo: Fraction = Fraction(3178, 10000)  #: a rational lower bound of x*

    @property
    def d_c(self):
        """φ = D/(2 + D) ≥ c  ⇔  D ≥ d_c = 2c/(1 − c) (6/7 for c = 3/10)."""
        return 2 * self.tail / (1 - self.tail)


#: the certificate `verify` checks
CERTIFICATE = PrefixFloorCertificate()


def harmonic_table(m):
    """``[H_0, …, H_m]`` as Fractions."""
    out = [Fraction(0)]
    for q in range(1, m + 1):
        out.append(out[-1] + Fraction(1, q))
    return out


def exact_prefix_capacity(n, Hs):
    """``min_t φ_n(t)`` from the C2 closed form in exact rationals, and the minimising t."""
    phi_at = exact_function(uc.landscape(), (uc.n, uc.t), harmonic=Hs)
    return min((phi_at(n, t), t) for t in range(1, n))


def _finite(ctx):
    cert = ctx.certificate("C4", CERTIFICATE)
    lo, hi = cert.exact_range
    Hs = harmonic_table(hi)
    floor = Fraction(5, 17)
    equal, visited = [], []
    worst = (Fraction(10), 0)
    for n in range(lo, hi + 1):
        phi, _ = exact_prefix_capacity(n, Hs)
        require(phi >= floor, f"n = {n}: capacity {phi} < 5/17")
        if phi == floor:
            equal.append(n)
        elif phi < worst[0]:
            worst = (phi, n)
        visited.append(n)
    require(equal == [3], f"equality with 5/17 at n = {equal}")
    return Checked(f"the C2 closed form in exact rationals for {lo} ≤ n ≤ {hi}: minimum 5/17 attained only at "
                   f"n = 3; next smallest {float(worst[0]):.6f} at n = {worst[1]}", Region.points("n", visited))


k, t, n = sp.symbols("k t n", integer=True, positive=True)
s, eps, D, xx, N = sp.symbols("s epsilon D x N", positive=True)
#: the objects the interval steps evaluate: the balance function, the volume branch's g and slack, the tail's F
Q_BALANCE = xx * (2 - sp.log(xx))
G_VOLUME = sp.exp(-D) * (2 + D)
SLACK_VOLUME = (N + 1) * G_VOLUME - (2 + D) - N
C_TAIL = sp.Symbol("c", positive=True)
F_TAIL = (1 + C_TAIL) * (s - eps) * (-sp.log(s)) - 2 * C_TAIL * (1 - s)


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
    cert = ctx.certificate("C4", CERTIFICATE)
    e = symbolic_zero(sp.diff(Q_BALANCE, xx) - (1 - sp.log(xx)), "q' = 1 − ln x (> 0 on (0, 1))")
    with interval_dps(30):
        qv = interval_value(Q_BALANCE, {xx: cert.x_lo})
        require(qv.b < 1, f"q(x_lo) = {qv} is not < 1")
    return f"{e}; q({cert.x_lo}) < 1 by interval arithmetic, so x* > {cert.x_lo}"


def _branch_volume(ctx):
    cert = ctx.certificate("C4", CERTIFICATE)
    C, D_C, N0 = cert.tail, cert.d_c, cert.n0
    e = symbolic_zero(sp.diff(G_VOLUME, D) + sp.exp(-D) * (1 + D), "g' = −e^{−D}(1 + D) < 0 for g = e^{−D}(2 + D)")
    e += "; " + symbolic_zero(sp.diff(SLACK_VOLUME, N) - (G_VOLUME - 1), "∂(slack)/∂n = g − 1")
    require(D_C / (2 + D_C) == C, "D_C/(2 + D_C) ≠ c")
    with interval_dps(30):
        gv = interval_value(G_VOLUME, {D: D_C})
        slack = interval_value(SLACK_VOLUME, {D: D_C, N: N0})
        require(gv.a > 1 and slack.a > 0, f"g(D_c) = {gv}, slack = {slack}")
    return (f"{e}; g({D_C}) > 1 and (N0 + 1) g({D_C}) − (2 + {D_C}) − N0 > 0 at N0 = {N0} by interval arithmetic, "
            "and the left side grows with n")


def _branch_complement(ctx):
    cert = ctx.certificate("C4", CERTIFICATE)
    C, X_LO, N0 = cert.tail, cert.x_lo, cert.n0
    c = sp.Rational(C.numerator, C.denominator)
    F = F_TAIL.subs(C_TAIL, c)
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
        Fv = interval_value(F_TAIL, {C_TAIL: C, s: X_LO, eps: Fraction(1, N0 + 1)})
        require(Fv.a > 0, f"F(x_lo, 1/(N0+1)) = {Fv} is not > 0")
    return "; ".join(e) + f"; F({X_LO}, 1/{N0 + 1}) > 0 by interval arithmetic; concave F ≥ min(F(x_lo), F(1)) = 0"


def _combine(ctx):
    cert = ctx.certificate("C4", CERTIFICATE)
    C, N0 = cert.tail, cert.n0
    require(C > Fraction(5, 17), "c ≤ 5/17")
    return f"c = {C} > 5/17 = {float(Fraction(5, 17)):.6f}: for n ≥ {N0}, every φ_n(t) ≥ c > 5/17"


def _cert(ctx):
    return ctx.certificate("C4", CERTIFICATE)


def _tail(basis):
    return lambda ctx: Scope(Region.box(n=(_cert(ctx).n0, None)), basis)


def _parts(ctx):
    cert = _cert(ctx)
    return (Part("the floor", Region.box(n=(2, None)),
                 (Case(Region.box(n=cert.exact_range), ("finite",)),
                  Case(Region.box(n=(cert.n0, None)), ("harmonic", "balance", "volume", "complement", "combine")))),)


CLAIM = Claim(
    id="C4",
    title="Capacity floor of uniform causal attention, every n",
    statement=("For every $n \\ge 2$, the prefix capacity of uniform causal attention satisfies "
               "$\\min_t \\varphi_n(t) \\ge 5/17$, with equality only at $n = 3$; in particular the paper's floor "
               "$\\varphi \\ge 1/5$ holds for all $n$."),
    steps=(
        Step(f"Finite part: for $2 \\le n < {CERTIFICATE.n0}$, $\\min_t \\varphi_n(t) \\ge 5/17$ with equality only at $n = 3$.",
             "exact", "the C2 closed form in exact rationals for every $t$", _finite,
             scope=lambda ctx: Scope(Region.box(n=_cert(ctx).exact_range), "each"), key="finite"),
        Step("Harmonic bounds: $\\ln\\frac{n+1}{t+1} \\le H_n - H_t \\le \\ln\\frac{n}{t}$, from "
             "$\\ln(1 + 1/k) < 1/k < \\ln\\frac{k}{k-1}$ ($k \\ge 2$) summed over $k = t+1..n$.",
             "symbolic", "sympy derivatives, limits and telescoping `summation`", _harmonic_bounds,
             scope=Scope(Region.box(n=(1, None)), "symbolic"), key="harmonic"),
        Step(f"If $\\mathrm{{vol}}(t) > n$ then $t/n > x^* > {float(CERTIFICATE.x_lo)}$: by the upper bound, "
             "$\\mathrm{vol}(t) = t(2 + D) \\le n\\,q(t/n)$ with $q(x) = x(2 - \\ln x)$ increasing and $q(x^*) = 1$.",
             "interval", "sympy derivative of $q$; interval value of $q$ at the rational bound", _balance_bound,
             scope=Scope(Region.box(n=(1, None)), "monotone"), key="balance"),
        Step(f"Branch $\\mathrm{{vol}}(t) \\le n$ (so $\\varphi = D/(2 + D)$, $D = H_n - H_t$): if $D < 6/7$ then by the "
             f"lower bound $t + 1 \\ge (n+1)e^{{-D}}$ and $\\mathrm{{vol}} \\ge (n+1)g(D) - (2 + D) > (n+1)g(6/7) - 20/7 > n$ "
             f"for $n \\ge {CERTIFICATE.n0}$, $g(D) = e^{{-D}}(2 + D)$ decreasing — a contradiction; so $D \\ge 6/7$ and "
             "$\\varphi \\ge (6/7)/(20/7) = 3/10$.",
             "interval", "sympy derivative of $g$; interval arithmetic at $D = 6/7$ and $n = n_0$", _branch_volume,
             scope=_tail("monotone"), key="volume"),
        Step("Branch $\\mathrm{vol}(t) > n$: $\\varphi \\ge c$ iff $(1+c)tD \\ge 2c(n - t)$; with "
             "$s = (t+1)/(n+1) > x^*$, $D \\ge -\\ln s$, this follows from "
             "$F(s, \\varepsilon) = (1+c)(s - \\varepsilon)(-\\ln s) - 2c(1 - s) \\ge 0$, $\\varepsilon = 1/(n+1)$; "
             "$F$ is concave in $s$, decreasing in $\\varepsilon$, $F(1, \\varepsilon) = 0$ and "
             f"$F({float(CERTIFICATE.x_lo)}, 1/{CERTIFICATE.n0 + 1}) > 0$.",
             "interval", "sympy derivatives and the rearrangement identity; interval value of $F$", _branch_complement,
             scope=_tail("monotone"), key="complement"),
        Step(f"Conclusion: for $n \\ge {CERTIFICATE.n0}$ every $\\varphi_n(t) \\ge 3/10 > 5/17$; with the finite part, "
             "$\\min_t \\varphi_n(t) \\ge 5/17$ for all $n \\ge 2$, equality only at $n = 3$.",
             "exact", "rational comparison", _combine, scope=_tail("symbolic"), key="combine"),
    ),
    parts=_parts,
)
