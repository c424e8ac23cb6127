"""C3 — the continuum limit of the uniform causal landscape and its worst cut."""
from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy as sp

from attention_transport.numerics.constants import phi_star, x_star
from attention_transport.proofs.core import Claim, Step, interval_dps, require, symbolic_zero
from attention_transport.proofs.formulas import interval_value
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import uniform_causal as uc

x = uc.x
#: the continuum statement has no integer parameter
SYMBOLIC = Scope(Region.everything(), "symbolic")
MONOTONE = Scope(Region.everything(), "monotone")
STATEMENT = (
    "With $x = t/n \\to$ fixed, $\\varphi(x) = -x\\ln x / \\min(x(2-\\ln x),\\ 2 - x(2-\\ln x))$. Its minimum "
    "over $(0, 1)$ sits at the volume-balance point $x(2 - \\ln x) = 1$, "
    "$x^* = \\exp(2 + W_{-1}(-e^{-2})) = 0.31784443\\ldots$, where "
    "$\\varphi^* = -x^*\\ln x^* = 1 - 2x^* = 0.36431113\\ldots$"
)


def _limit(ctx):
    require(uc.continuum_increment() == -sp.log(x), f"limit is {uc.continuum_increment()}")
    phi, cut, vol = uc.continuum_landscape()
    require(sp.simplify(cut + x * sp.log(x)) == 0 and sp.simplify(vol - x * (2 - sp.log(x))) == 0,
            "continuum cut/volume forms")
    return "sympy limit: H_n − H_{xn} → −ln x; cut/n → −x ln x, vol/n → x(2 − ln x), total/n = 2"


def _q(value):
    """The continuum volume q(x) = x(2 − ln x) — theory.uniform_causal's object — at an exact rational."""
    return interval_value(uc.continuum_landscape()[2], {x: value})


def _roots(ctx):
    roots = uc.balance_roots()
    require(len(roots) == 2, f"solve returned {roots}")
    xs = uc.x_star()
    W = sp.LambertW(-sp.exp(-2), -1)
    require(sp.simplify(xs - sp.exp(2 + W)) == 0, f"root in (0, 1) is {xs}")
    other = [r for r in roots if r != xs][0]
    require(sp.N(other, 30) > 1, f"second root {other} is not > 1")
    # q(x) = x(2 − ln x), the continuum volume, is increasing on (0, 1): q'(x) = 1 − ln x > 0
    dq = sp.diff(uc.continuum_landscape()[2], x)
    require(sp.simplify(dq - (1 - sp.log(x))) == 0, f"q' = {dq}")
    with interval_dps(30):
        lo, hi = _q(Fraction(3178, 10000)), _q(Fraction(3179, 10000))
        require(lo.b < 1 < hi.a, f"q(0.3178) = {lo}, q(0.3179) = {hi}")
    return ("sympy solve: two roots; the W₋₁ root lies in (0.3178, 0.3179) by interval arithmetic and q' = 1 − ln x > 0 "
            "makes it the only root in (0, 1); the W₀ root exceeds 1")


def _balance_identity(ctx):
    W = sp.Symbol("W", negative=True)
    z = -sp.exp(-2)
    xs = sp.exp(2 + W)
    expr = sp.expand(xs * (2 - sp.expand_log(sp.log(xs), force=True)) - 1, power_exp=True)
    expr = sp.expand(expr.subs(sp.exp(W), z / W))  # defining relation of Lambert W: W e^W = z
    require(sp.simplify(expr) == 0, f"x*(2 − ln x*) − 1 reduces to {expr}")
    return "with W e^W = −e^{−2}: x*(2 − ln x*) − 1 = 0 identically in the branch value W"


def _phi_forms(ctx):
    return symbolic_zero((-x * sp.log(x) - (1 - 2 * x)) - (x * (2 - sp.log(x)) - 1),
                         "−x ln x − (1 − 2x) = x(2 − ln x) − 1, zero at x*")


def _minimum(ctx):
    c = sp.Symbol("c", positive=True)
    left = -sp.log(x) / (2 - sp.log(x))  # φ on vol ≤ 1 (x ≤ x*)
    e1 = symbolic_zero(sp.diff(left, x) + 2 / (x * (2 - sp.log(x)) ** 2), "dφ/dx = −2/(x(2 − ln x)²) < 0 for x ≤ x*")
    F = (1 + c) * (-x * sp.log(x)) - 2 * c * (1 - x)  # φ ≥ c ⇔ F ≥ 0 on vol ≥ 1
    e2 = symbolic_zero(sp.diff(F, x, 2) + (1 + c) / x, "F'' = −(1 + c)/x < 0: F concave")
    require(F.subs(x, 1) == 0, "F(1) ≠ 0")
    xs = sp.Symbol("xs", positive=True)
    at_star = F.subs(x, xs).subs(sp.log(xs), 2 - 1 / xs).subs(c, 1 - 2 * xs)  # ln x* = 2 − 1/x*, c = φ*
    e3 = symbolic_zero(at_star, "F(x*) = 0 at c = φ*")
    # φ ≥ c ⇔ F ≥ 0 where the complement volume 2 − x(2 − ln x) is positive
    den = 2 - x * (2 - sp.log(x))
    e4 = symbolic_zero((-x * sp.log(x) - c * den) - F, "−x ln x − c(2 − x(2 − ln x)) = F")
    return "; ".join([e1, e2, e3, e4]) + "; concave F with zeros at x*, 1 is ≥ 0 between them"


def _enclosure(ctx):
    dps = ctx.dps
    xs = x_star(dps)
    with mpmath.workdps(dps + 5):
        step = mpmath.mpf(10) ** (-dps)
        lo_s, hi_s = mpmath.nstr(xs - step, dps + 2), mpmath.nstr(xs + step, dps + 2)
    with interval_dps(dps + 10):
        lo, hi = _q(Fraction(lo_s)), _q(Fraction(hi_s))
        require(lo.b < 1 < hi.a, f"q does not bracket 1 at ±10^-{dps}")
    with mpmath.workdps(dps + 5):
        sym = sp.N(uc.x_star(), dps + 5)
        require(abs(mpmath.mpf(str(sym)) - xs) < 10 * step, "sympy and mpmath x* disagree")
        require(abs((1 - 2 * xs) - phi_star(dps)) < 10 * step, "φ* ≠ 1 − 2x*")
    return f"x* ∈ [{lo_s}, {hi_s}] by interval arithmetic at {dps} digits; sympy N(x*) and mpmath agree"


def _correction(ctx):
    e1 = symbolic_zero(uc.finite_n_expansion() - (x - 1) / (2 * x), "H_n − H_(xn) = −ln x + (x − 1)/(2x n) + O(n⁻²)")
    xs = sp.Symbol("xs", positive=True)
    want = {"xi": xs / 2, "kappa": -xs, "slope_left": -2 * xs, "slope_right": 2 / xs - 6 + 2 * xs}
    got = uc.finite_n_correction()
    for key, val in want.items():
        require(sp.simplify(got[key] - val) == 0, f"{key} = {got[key]}, expected {val}")
    return (f"{e1}; ξ = x*/2, κ = −x*, s_L = −2x*, s_R = 2/x* − 6 + 2x* after ln x* = 2 − 1/x*")


CLAIM = Claim(
    id="C3",
    title="Continuum limit and worst cut",
    statement=STATEMENT,
    steps=(
        Step("$\\lim_{n\\to\\infty}(H_n - H_{xn}) = -\\ln x$, so $\\mathrm{cut}/n \\to -x\\ln x$, "
             "$\\mathrm{vol}/n \\to x(2 - \\ln x)$ and total volume $/n = 2$.", "symbolic", "sympy `limit`", _limit,
             scope=SYMBOLIC, key="limit"),
        Step("The balance equation $x(2-\\ln x) = 1$ has exactly one root in $(0,1)$, "
             "$x^* = \\exp(2 + W_{-1}(-e^{-2}))$; the other root, on $W_0$, exceeds 1.",
             "interval", "sympy `solve`; $q'(x) = 1 - \\ln x > 0$; interval values of $q$ at 0.3178 and 0.3179",
             _roots, scope=MONOTONE, key="roots"),
        Step("$x^*$ satisfies the balance equation identically, from $W e^{W} = -e^{-2}$.", "symbolic",
             "sympy substitution of the defining relation of Lambert W", _balance_identity,
             scope=SYMBOLIC, key="lambert"),
        Step("At the balance point $-x^*\\ln x^* = 1 - 2x^*$, so $\\varphi^* = 1 - 2x^*$.", "symbolic",
             "sympy `simplify`", _phi_forms, scope=SYMBOLIC, key="phi-forms"),
        Step("$x^*$ is the minimiser: for $x \\le x^*$, $\\varphi = -\\ln x/(2-\\ln x)$ decreases in $x$; "
             "for $x \\ge x^*$, $\\varphi \\ge \\varphi^*$ iff $F(x) = (1+\\varphi^*)(-x\\ln x) - 2\\varphi^*(1-x) \\ge 0$, "
             "and $F$ is concave with $F(x^*) = F(1) = 0$.", "symbolic",
             "sympy derivatives and substitutions ($\\ln x^* = 2 - 1/x^*$)", _minimum, scope=SYMBOLIC,
             key="minimiser"),
        Step("High precision: $x^*$ is enclosed to the requested digits, and sympy's $N(x^*)$, mpmath's "
             "`lambertw` and $\\varphi^* = 1 - 2x^*$ agree.", "interval",
             "interval values of $q$ at $x^* \\pm 10^{-\\mathrm{dps}}$", _enclosure, scope=MONOTONE,
             key="enclosure"),
        Step("Leading $1/n$ correction: $H_n - H_{xn} = -\\ln x + (x-1)/(2xn) + O(n^{-2})$ moves the balance point to "
             "$t_b = x^* n + x^*/2$ and the kink value by $-x^*/n$; the landscape leaves the kink with slopes "
             "$-2x^*$ and $2/x^* - 6 + 2x^*$, so $\\min_t \\varphi_n(t) = \\varphi^* + [-x^* + \\min(2x^* f, "
             "(2/x^* - 6 + 2x^*)(1 - f))]/n + O(n^{-2})$ with $f = \\mathrm{frac}(x^* n + x^*/2)$ — the source of the "
             "non-monotone approach.", "symbolic",
             "sympy `series` of digamma at infinity, first-order perturbation, derivatives", _correction,
             scope=SYMBOLIC, key="correction", role="check"),
    ),
    domain=Region.everything(),
    notes="The correction term lies in $[-x^*, -x^* + 0.377]/n$: the sign of $\\min_t \\varphi_n(t) - \\varphi^*$ "
          "flips with the fractional part $f$. `tests/test_theory.py` compares the formula with the float64 "
          "capacities for n from 100 to $10^6$; the residual stays below $0.5/n^2$.",
)
