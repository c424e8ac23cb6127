"""L3 — the capacity laws of causal kernels, derived in the continuum (theory/laws.py).

Each step checks one derivation of ``theory/laws.py`` with sympy (an integral, a limit, a sign), or
evaluates a derived closed form against its definition at high precision.  What is derived is the
limit of the continuum landscape; that the discrete minimum converges to it is checked, not proven:
the last step compares every law with the structural capacity at n = 10⁵ (role ``check``), and
``tests/theory/test_laws.py`` follows the error to n = 10⁷.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from attention_transport.numerics.constants import phi_star
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.structured import pattern_prefix_landscape
from attention_transport.proofs.core import Checked, Claim, Step, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import laws

ANY = Scope(Region.everything(), "symbolic")
x, p, u, d = laws.x, laws.p, laws.u, laws.d


def _summable(ctx):
    m, w = sp.symbols("m w", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    window = sp.summation(k, (k, 0, w - 1)) / w
    e1 = symbolic_zero(window - (w - 1) / 2, "window: E[D] = Σ_(d<w) d / w = (w − 1)/2 (C5)")
    z = sp.Symbol("z", positive=True)
    geometric = 1 / (1 - sp.exp(-m) * z)  # Σ_d e^{−md} z^d, |z| < e^m
    e2 = symbolic_zero(sp.simplify((sp.diff(geometric, z) / geometric).subs(z, 1) - 1 / (sp.exp(m) - 1)),
                       "exp-decay: E[D] = K'(1)/K(1) = 1/(e^m − 1) with K(z) = Σ e^{−md} z^d = 1/(1 − e^{−m} z)")
    K1, K2 = sp.Function("K1")(z), sp.Function("K2")(z)  # generating functions Σ κ_l(d) z^d of two layers
    mean = lambda K: sp.diff(K, z) / K  # noqa: E731  E[D] = K'(1)/K(1)
    e3 = symbolic_zero(sp.simplify(mean(K1 * K2) - mean(K1) - mean(K2)), "(K₁K₂)'/(K₁K₂) = K₁'/K₁ + K₂'/K₂")
    return (f"{e1}; {e2}; stacks: a product of Toeplitz rows convolves the kernels, whose generating functions "
            f"multiply: {e3}, so the reach-back means add")


def _tail(ctx):
    cut = laws.power_tail_cut()
    e1 = symbolic_zero(cut - (1 - (1 - x) ** (2 - p) - x ** (2 - p)) / ((1 - p) * (2 - p)),
                       "∬_(v<x<u) (u − v)^{−p} = [1 − (1 − x)^{2−p} − x^{2−p}]/((1 − p)(2 − p))")
    s = sp.Symbol("s", positive=True)  # s = 2 − p ∈ (0, 1)
    e2 = symbolic_zero(sp.diff(x ** s, x, 2) - s * (s - 1) * x ** (s - 2),
                       "(x^s)'' = s(s − 1)x^{s−2} < 0 for 0 < s < 1 (and (1 − x)^s likewise, by x ↔ 1 − x)")
    half = laws.balanced_power_tail_cut()
    e3 = symbolic_zero(half - (2 ** (p - 1) - 1) / ((p - 1) * (2 - p)), "the value at x = 1/2")
    return (f"{e1}; {e2}: the numerator h = x^s + (1 − x)^s − 1 is concave with h(0) = 0, so h(x)/x decreases and "
            f"the landscape cut/(2 min(x, 1 − x)) is smallest at x = 1/2; {e3}")


def _entropy(ctx):
    H = -x * sp.log(x) - (1 - x) * sp.log(1 - x)
    y = sp.Symbol("y", positive=True)  # x = 1/(1 + y) ranges over (0, 1)
    e1 = symbolic_zero(sp.expand_log(sp.simplify((laws.entropy_cut() - H).subs(x, 1 / (1 + y))), force=True),
                       "∫_x^1 ln(u/(u − x)) du = −x ln x − (1 − x) ln(1 − x) on 0 < x < 1 (x = 1/(1 + y), y > 0)")
    ratio = sp.simplify(sp.diff(H / x, x))
    e2 = symbolic_zero(ratio - sp.log(1 - x) / x ** 2, "(H/x)' = ln(1 − x)/x² < 0")
    e3 = symbolic_zero(H.subs(x, sp.Rational(1, 2)) - sp.log(2), "H(1/2) = ln 2")
    c2 = laws.square_offset()
    e4 = symbolic_zero(c2 - (sp.EulerGamma + 1 - sp.pi ** 2 / 6 - 2 * sp.log(2)),
                       "p = 2: lim Σ_(m≤N) m/(m + 1)² − ln N − ln 2 + ∫_(1/2)^1 (1 − u)/u² du = γ + 1 − π²/6 − 2 ln 2")
    return (f"p = 1: {e1}; {e2}, and H is symmetric about 1/2, so H(x)/(2 min(x, 1 − x)) is smallest at 1/2; {e3}; "
            f"{e4}")


def _floor(ctx):
    q = 1 - p
    inner = sp.simplify(laws.continuum_cut().function)
    e1 = symbolic_zero(sp.simplify(inner - (1 - (1 - x / u) ** q)).subs({p: sp.Rational(1, 3), u: 2 * x + 1}),
                       "p = 1/3: the row's mass left of x is 1 − (1 − x/u)^{1−p}")
    sv = sp.Symbol("s", positive=True)  # s = x/u ∈ (x, 1): cut/x = ∫_x^1 (1 − (1 − s)^q)/s² ds
    over_x = sp.Integral((1 - (1 - sv) ** q) / sv ** 2, (sv, x, 1))
    slope = sp.diff(over_x, x)
    e2 = symbolic_zero(slope + (1 - (1 - x) ** q) / x ** 2, "(cut/x)' = −(1 − (1 − x)^{1−p})/x² < 0")
    return (f"{e1}; substituting s = x/u, cut(x)/x = ∫_x^1 (1 − (1 − s)^{{1−p}})/s² ds and {e2}: the left branch "
            "cut/(2x + cut) = 1/(1 + 2x/cut) decreases, so the floor is at or right of the balance 2x + cut = 1; "
            "C1 in the continuum gives vol = 2x + cut (the rows u < x give x, the rows u > x give cut)")


def _floor_values(ctx):
    worst = mpmath.mpf(0)
    with mpmath.workdps(40):
        for pv in ("0.1", "0.35", "0.6", "0.85"):
            for xv in ("0.05", "0.3", "0.55", "0.9"):
                P, X = mpmath.mpf(pv), mpmath.mpf(xv)
                quad = mpmath.quad(lambda uu: 1 - (1 - X / uu) ** (1 - P), [X, 1])
                worst = max(worst, abs(laws._cut_value(X, P) - quad))
        require(worst < mpmath.mpf(10) ** -30, f"closed form against quadrature: {worst}")
        checks = []
        for pv in ("0.25", "0.5", "0.75"):
            P = mpmath.mpf(pv)
            xb = laws.floor_balance(P, 30)
            value = laws._cut_value(xb, P)
            require(abs(2 * xb + value - 1) < mpmath.mpf(10) ** -25, f"p={pv}: not balanced")
            grid = [mpmath.mpf(k) / 200 for k in range(1, 200)]
            land = [laws._cut_value(g, P) / min(2 * g + laws._cut_value(g, P), 2 - 2 * g - laws._cut_value(g, P))
                    for g in grid]
            require(min(land) >= value * (1 - mpmath.mpf(10) ** -20), f"p={pv}: a grid point below the balance")
            checks.append(f"f({pv}) = {mpmath.nstr(value, 10)}")
    f0 = laws.power_floor(0, 30)
    require(abs(f0 - phi_star(30)) < mpmath.mpf(10) ** -25, f"f(0) = {f0} ≠ φ*")
    return (f"the ₂F₁ form equals the quadrature of the definition to {mpmath.nstr(worst, 3)} at 16 (p, x); the "
            f"balance 2x + cut = 1 holds and no point of a 199-point grid lies lower: {', '.join(checks)}; "
            "f(0) = φ* (C3) to 25 digits")


def _numerics(ctx):
    lines = []
    for spec, tol in (("window:w=8", 1e-3), ("exp-decay:m=0.5", 1e-3), ("power-law:p=3", 1e-3),
                      ("power-law:p=2", 2e-5), ("power-law:p=1.5", 1e-2), ("power-law:p=1", 2e-3),
                      ("power-law:p=0.5", 1e-2), ("sink-window:s=4,w=16", 1e-3), ("repeat(window:w=8, 3)", 1e-3)):
        P = parse_pattern(spec)
        law = P.capacity_law()
        got = pattern_prefix_landscape(P, 10 ** 5).capacity
        want = float(law.value(10 ** 5, corrected=law.corrected is not None))
        require(abs(want / got - 1) < tol, f"{spec}: law {want} against φ_n = {got} at n = 10⁵")
        lines.append(f"{spec} {abs(want / got - 1):.1e}")
    return Checked("the law (next order at p = 1, 2) against the structural capacity at n = 10⁵, relative: "
                   + ", ".join(lines), Region.everything())


CLAIM = Claim(
    id="L3",
    title="capacity laws of causal kernels",
    statement=("For a causal kernel pattern (row i is $\\kappa(i - j)/Z_i$): a summable first moment gives "
               "$\\varphi_n \\sim E[D]/n$; a power tail $(d + 1)^{-p}$ gives $\\ln 2/\\ln n$ at $p = 1$, "
               "$(2^{p-1} - 1)/((p-1)(2-p)\\zeta(p))\\, n^{1-p}$ for $1 < p < 2$, $(6/\\pi^2) \\ln n/n$ at $p = 2$, "
               "and a "
               "floor $f(p) = 1 - 2x_b(p)$ for $p < 1$ with $f(0) = \\varphi^*$; stacks of summable layers add their "
               "$E[D]$. Derived in the continuum limit (each derivation checked below); the convergence of the "
               "discrete minimum to the continuum one is checked numerically, not proven."),
    steps=(
        Step("Summable kernels: the window's and exp-decay's $E[D]$; the means of stacked layers add.", "symbolic",
             "sympy `summation`, `simplify`", _summable, scope=ANY, key="summable"),
        Step("Power tail $1 < p < 2$: the continuum cut, its worst cut at $1/2$, its value there.", "symbolic",
             "sympy `integrate`, `diff`", _tail, scope=ANY, key="tail"),
        Step("$p = 1$: the entropy cut, worst at $1/2$ with $\\ln 2$; $p = 2$: the offset $c_2$.", "symbolic",
             "sympy `integrate`, `diff`, `limit` of harmonic numbers", _entropy, scope=ANY, key="log"),
        Step("$p < 1$: the continuum row's mass left of $x$; the left branch decreases, so the floor lies at or "
             "right of the volume balance $2x + \\mathrm{cut}_p(x) = 1$.", "symbolic", "sympy `integrate`, `diff`",
             _floor, scope=ANY, key="floor"),
        Step("$p < 1$: the ${}_2F_1$ closed form against quadrature; the floor at the balance against a grid; "
             "$f(0) = \\varphi^*$.", "numeric", "mpmath quadrature and `findroot` at 40 digits", _floor_values,
             scope=ANY, key="floor-values", role="check"),
        Step("Every law against the structural capacity at $n = 10^5$.", "numeric",
             "float64 structural landscapes (`pattern_prefix_landscape`)", _numerics, scope=ANY, key="numerics",
             role="check"),
    ),
    domain=Region.everything(),
    notes="The continuum-to-discrete step is where a proof would still be needed: a uniform bound on the "
          "difference between the discrete landscape and its continuum limit near the worst cut.",
)
