"""Capacity laws of causal kernel attention: ``φ_n ~ C · n^α · (ln n)^β`` from the kernel alone.

A causal kernel pattern has row i (0-based) equal to ``κ(d) / Z_i`` on the keys ``j = i − d``,
``0 ≤ d ≤ i``, with ``Z_i = Σ_{d ≤ i} κ(d)``.  Its prefix cut counts the attention that reaches
back across t; since every row sums to 1 and the pattern is causal, C1 gives
``vol(t) = 2t + cut(t)`` and ``comp(t) = 2(n − t) − cut(t)``, so the whole landscape follows from
the cut.  How fast the cut grows with n is set by the kernel's tail, and the law follows from
three regimes (docs/theory.md, "Capacity laws"):

* **summable first moment** (``Σ d κ(d) < ∞``): interior rows send ``E[D] = Σ d κ / Σ κ``
  across every cut, so ``cut(t) → E[D]`` and the balanced cut ``t ≈ n/2`` gives
  ``φ_n ~ E[D] / n``, with ``x* = 1/2``;
* **power tail** ``κ(d) ~ C d^{−p}`` with ``p ≤ 2``: the continuum cut
  ``∬_{v < x < u} (u − v)^{−p}`` (or, for ``p ≤ 1``, the same with each row normalised by its
  own ``Z_u``) gives, for the power-law family ``κ(d) = (d + 1)^{−p}``:

  ======================  ===============================================  ===========
  p                       φ_n                                              x*
  ======================  ===============================================  ===========
  0 ≤ p < 1               f(p) = 1 − 2 x_b(p), a floor                     x_b(p)
  1                       ln 2 / ln n                                      1/2
  1 < p < 2               (2^{p−1} − 1) / ((p − 1)(2 − p) ζ(p)) · n^{1−p}  1/2
  2                       (6/π²) · ln n / n                                1/2
  p > 2                   (ζ(p − 1) − ζ(p)) / ζ(p) · 1/n                   1/2
  ======================  ===============================================  ===========

  where ``x_b(p)`` solves the volume balance ``2x + cut_p(x) = 1`` of the continuum cut
  ``cut_p(x) = ∫_x^1 [1 − (1 − x/u)^{1−p}] du``.  ``f(0) = φ*`` (C3) and ``f`` falls below
  1/5 at the critical exponent ``p_c`` (:func:`critical_exponent`), where ``cut_p(2/5) = 1/5``.

Patterns that are not causal have no C1; for a symmetric band ``|i − j| ≤ h`` plus ``g`` global
tokens (Longformer) :func:`band_global_law` gives the floor ``ρ/(2 − ρ)``, ``ρ = g/(2h + 1 + g)``, and
for ``g = 0`` (the bidirectional band) ``h(h + 1)/((2h + 1) n)``, with the bounds of claim L6.

Every function derives its result with sympy (or evaluates a derived closed form with
mpmath at a requested precision); nothing here is typed in as a result.  The claims
L1–L6 of ``verify`` check the derivations and bounds; ``tests/theory/test_laws.py`` holds each law
against the structural capacity at n up to 10⁷.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import mpmath
import sympy as sp

from attention_transport.errors import AttentionTransportError

__all__ = [
    "d", "x", "p", "u", "n",
    "Bound", "KernelLaw", "bandwidth_ceiling", "sink_window_law", "stack_law", "exp_decay_law",
    "continuum_cut",
    "power_tail_cut", "balanced_power_tail_cut", "entropy_cut",
    "floor_balance", "power_floor", "critical_exponent", "kernel_law", "power_law_law",
    "log_offset", "square_offset", "reach_back_floor", "reach_back_ceiling", "rate_floor", "diagonal_floor",
    "support_bound",
    "sink_floor_start", "sink_share_start", "sink_share_floor", "sink_share_law", "global_share", "reach_floor",
    "global_floor_start", "band_global_ceiling", "pair_floor",
    "band_global_law", "power_reach_sum", "power_pair_sum", "power_law_bounds", "harmonic_ceiling_cut",
    "constant_floor", "band_constant_floor", "exp_constant_floor", "power_constant_floor",
    "structural_bounds",
]

#: the offset d = i − j ≥ 0, the continuum cut position x, the exponent p and the continuum row u
d = sp.Symbol("d", integer=True, nonnegative=True)
x = sp.Symbol("x", positive=True)
p = sp.Symbol("p", positive=True)
u = sp.Symbol("u", positive=True)
v = sp.Symbol("v", positive=True)
#: the length, in the bounds' expressions
n = sp.Symbol("n", integer=True, positive=True)
_GUARD = 10


def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 5:
        raise AttentionTransportError(f"dps must be an integer >= 5; got {dps!r}.")


# ----------------------------------------------------------------------------------------------------------------
# the continuum of a normalised power tail (p < 1): each row u spreads its mass ∝ (u − v)^{−p} over v < u
# ----------------------------------------------------------------------------------------------------------------
def continuum_cut():
    """``cut_p(x) = ∫_x^1 [1 − (1 − x/u)^{1−p}] du``: the mass rows ``u > x`` send to keys ``v < x``.

    Row u of the continuum limit of ``κ(d) = (d + 1)^{−p}``, ``p < 1``, is the density
    ``(1 − p)(u − v)^{−p} / u^{1−p}`` on ``0 < v < u`` (its normaliser ``Z_{un} ~ (un)^{1−p}/(1 − p)``);
    its mass on ``v < x`` is ``1 − (1 − x/u)^{1−p}``, and sympy integrates that over v here.
    """
    density = (1 - p) * (u - v) ** (-p) / u ** (1 - p)
    inner = sp.simplify(sp.integrate(density, (v, 0, x), conds="none"))
    return sp.Integral(inner, (u, x, 1))


def _cut_value(xv, pv):
    """``cut_p(x) = 1 − x − x (1 − x)^{2−p} ₂F₁(2 − p, 2; 3 − p; 1 − x)/(2 − p)`` by mpmath at the working precision.

    From ``∫_x^1 (1 − x/u)^q du = x ∫_0^{1−x} t^q (1 − t)^{−2} dt`` (``t = 1 − x/u``), an incomplete beta
    function ``z^{q+1} ₂F₁(q + 1, 2; q + 2; z)/(q + 1)``, ``q = 1 − p``; L3 and the tests hold it against the
    quadrature of the definition (:func:`continuum_cut`) to 30 digits.  The volume is ``2x + cut`` (C1).
    """
    q, z = 1 - pv, 1 - xv
    return 1 - xv - xv * z ** (q + 1) * mpmath.hyp2f1(q + 1, 2, q + 2, z) / (q + 1)


def floor_balance(pv, dps=30):
    """``x_b(p)``: the root in (0, 1/2) of the volume balance ``2x + cut_p(x) = 1``.

    Left of x_b the landscape ``cut/(2x + cut)`` decreases (``cut_p(x)/x`` does), right of it
    ``cut/(2 − 2x − cut)`` increases, so the continuum capacity is ``φ(x_b) = cut_p(x_b) = 1 − 2x_b``.
    """
    _check_dps(dps)
    pv = _exponent(pv, upper=1)
    with mpmath.workdps(dps + _GUARD):
        root = mpmath.findroot(lambda xv: 2 * xv + _cut_value(xv, pv) - 1, (mpmath.mpf("0.05"), mpmath.mpf("0.5")),
                               solver="anderson")
    with mpmath.workdps(dps):
        return +root


def power_floor(pv, dps=30):
    """``f(p) = 1 − 2 x_b(p)``: the limit capacity of ``power-law:p`` for ``0 ≤ p < 1`` (``f(0) = φ*``)."""
    _check_dps(dps)
    with mpmath.workdps(dps + _GUARD):
        value = 1 - 2 * floor_balance(pv, dps + _GUARD)
    with mpmath.workdps(dps):
        return +value


def critical_exponent(target="1/5", dps=30):
    """The exponent ``p_c`` in (0, 1) at which the power-law floor ``f(p)`` equals ``target``.

    ``f(p) = c`` means ``x_b = (1 − c)/2`` with ``cut_p(x_b) = c``: one equation in p, solved by
    bisection-safe root finding (f decreases from φ* at p = 0 to 0 at p = 1).
    """
    _check_dps(dps)
    with mpmath.workdps(dps + _GUARD):
        c = mpmath.mpf(sp.Rational(target).p) / sp.Rational(target).q if isinstance(target, str) else mpmath.mpf(target)
        phi0 = power_floor(0, dps)
        if not 0 < c < phi0:
            raise AttentionTransportError(f"the power-law floor takes the values (0, {mpmath.nstr(phi0, 8)}) for "
                                          f"0 ≤ p < 1; got target {target}.")
        xb = (1 - c) / 2
        root = mpmath.findroot(lambda pv: _cut_value(xb, pv) - c, (mpmath.mpf("1e-6"), 1 - mpmath.mpf("1e-6")),
                               solver="anderson")
    with mpmath.workdps(dps):
        return +root


def _exponent(pv, upper=None):
    pv = mpmath.mpf(pv)
    if pv < 0 or (upper is not None and pv >= upper):
        raise AttentionTransportError(f"the exponent p must lie in [0, {upper}); got {pv}.")
    return pv


# ----------------------------------------------------------------------------------------------------------------
# the power tail with a finite normaliser (1 < p ≤ 2) and the logarithmic one (p = 1)
# ----------------------------------------------------------------------------------------------------------------
def power_tail_cut():
    """``∫_0^x ∫_x^1 (u − v)^{−p} du dv = [1 − (1 − x)^{2−p} − x^{2−p}] / ((1 − p)(2 − p))``, by sympy.

    The pairs crossing the cut at distance ``d = (u − v) n`` carry ``κ(d)/Z ~ C d^{−p}/Z``; summed over
    the ``n²`` pairs this is ``C n^{2−p}/Z`` times the integral (finite for p < 2: the singular
    diagonal touches the square ``v < x < u`` at one corner only).
    """
    inner = sp.integrate((u - v) ** (-p), (u, x, 1), conds="none")
    return sp.simplify(sp.integrate(inner, (v, 0, x), conds="none"))


def balanced_power_tail_cut():
    """The power-tail cut at ``x = 1/2`` over the volume there (``n``): ``(2^{p−1} − 1) / ((p − 1)(2 − p))``.

    ``1 − 2·2^{p−2}`` over ``(1 − p)(2 − p)``; the landscape ``cut/(2 min(x, 1 − x))`` is smallest at
    ``x = 1/2`` since ``x^{2−p} + (1 − x)^{2−p} − 1`` is concave and 0 at 0.
    """
    return sp.simplify(power_tail_cut().subs(x, sp.Rational(1, 2)))


def entropy_cut():
    """``∫_x^1 ln(u/(u − x)) du = −x ln x − (1 − x) ln(1 − x)``: the p = 1 cut over ``n / ln n``.

    Row ``un`` of ``κ(d) = (d + 1)^{−1}`` has ``Z ~ ln n`` and sends ``ln(u/(u − x))/ln n`` of its mass
    to keys left of ``xn``; the integral is the binary entropy, largest (ln 2) at x = 1/2.
    """
    raw = sp.integrate(sp.log(u / (u - x)), (u, x, 1), conds="none")
    entropy = -x * sp.log(x) - (1 - x) * sp.log(1 - x)
    y = sp.Symbol("y", positive=True)  # sympy keeps log(−1/(x − 1)) unless told 0 < x < 1: x = 1/(1 + y)
    same = sp.expand_log(sp.simplify((raw - entropy).subs(x, 1 / (1 + y))), force=True)
    return entropy if sp.simplify(same) == 0 else raw


def log_offset(dps=30):
    """``c₁ = γ + J/ln 2``, ``J = ∫_{1/2}^1 ln(u/(u − 1/2)) ln u du``: ``φ_n = ln 2/(ln n + c₁) + O(1/ln³ n)``.

    Rows ``un`` normalise by ``H_{un} = ln n + γ + ln u + o(1)``; expanding ``1/(ln n + γ + ln u)`` to
    second order in ``1/ln n`` gives ``ln 2/(ln n + γ) − J/(ln n)² + …``.
    """
    _check_dps(dps)
    with mpmath.workdps(dps + _GUARD):
        half = mpmath.mpf(1) / 2
        J = mpmath.quad(lambda uv: mpmath.log(uv / (uv - half)) * mpmath.log(uv), [half, 1])
        value = mpmath.euler + J / mpmath.log(2)
    with mpmath.workdps(dps):
        return +value


def square_offset():
    """``c₂ = γ + 1 − π²/6 − 2 ln 2``: ``φ_n = (6/π²)(ln n + c₂)/n + O(ln n/n²)`` for ``κ = (d + 1)^{−2}``.

    At the balanced cut ``t = n/2`` the crossing pairs at distance ``d ≤ n/2`` number d, those at
    ``d > n/2`` number ``n − d``: ``Σ_{d ≤ n/2} d/(d + 1)² = ln(n/2) + γ − π²/6 + 1 + o(1)`` and
    ``Σ_{d > n/2} (n − d)/d² → 1 − ln 2``.
    """
    N = sp.Symbol("N", positive=True, integer=True)
    # Σ_{m=1}^{N} m/(m + 1)² = Σ 1/(m + 1) − Σ 1/(m + 1)² = (H_{N+1} − 1) − (H_{N+1}^{(2)} − 1)
    near = sp.limit(sp.harmonic(N + 1) - sp.harmonic(N + 1, 2) - sp.log(N), N, sp.oo)
    far = sp.integrate((1 - u) / u ** 2, (u, sp.Rational(1, 2), 1))
    return sp.simplify(near - sp.log(2) + far)


def reach_back_floor(a):
    """All-n floor of a causal row-stochastic pattern whose rows send at least ``a·t/n`` across every cut t.

    The reach-back theorem (claim L2) gives ``φ(t) ≥ μ(1 − x)/min(2x + μ(1 − x), (2 − μ)(1 − x))`` with
    ``μ = a x``; its left branch decreases and its right branch increases in x, so the infimum is at
    their crossing ``a x² − (a + 2) x + 1 = 0``: ``x = (a + 2 − √(a² + 4))/(2a)``, value ``a x/(2 − a x)``.
    Power law ``p < 1`` has ``a = 1 − p`` (``t`` terms of at least ``n^{−p}`` over ``Z ≤ n^{1−p}/(1 − p)``);
    uniform causal (``a = 1``) gets ``√5 − 2``.
    """
    a = sp.sympify(a)
    xc = (a + 2 - sp.sqrt(a ** 2 + 4)) / (2 * a)
    return sp.simplify(a * xc / (2 - a * xc)), sp.simplify(xc)


# ----------------------------------------------------------------------------------------------------------------
# the law of a kernel
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    """``φ_n ≤ expression`` (``side = "upper"``) or ``≥`` for every ``n ≥ n_min``.

    ``certified`` means a claim of ``verify`` proves it for every such n (``claim`` names it).
    """

    side: str
    expression: object
    n_min: int
    certified: bool
    claim: str

    def value(self, nv, dps=30):
        """The bound at ``n = nv``, evaluated numerically (no simplification of the substituted expression, which
        at n = 10²⁰⁰ would try to factor its surds)."""
        expr = sp.sympify(self.expression)
        parts = expr.args if isinstance(expr, sp.Min) else (expr,)  # a Min's arguments one by one (sympy cannot
        with mpmath.workdps(dps):  # compare an argument that evaluates to an exact 0 within evalf)
            return min(mpmath.mpf(a.evalf(dps + _GUARD, subs={n: sp.Integer(nv)})) for a in parts)

    def to_json(self, dps=30):
        return {"side": self.side, "expression": str(self.expression), "n_min": self.n_min,
                "certified": self.certified, "claim": self.claim}


@dataclass(frozen=True)
class KernelLaw:
    """``φ_n ~ coefficient · n^alpha · (ln n)^beta`` for a causal kernel, with how it was obtained.

    ``coefficient`` is a sympy expression (exact where a closed form exists) or an mpmath number;
    ``x_star`` the limit of ``t*/n`` (None where it does not exist); ``next_order`` says what the
    relative error of the leading term is; ``regime`` names the case of the module docstring;
    ``mean`` the reach-back ``E[D]`` of a summable kernel (stacks add them); ``band`` the band
    width w (``κ(d) = 0`` for ``d ≥ w``) where finite; ``bounds`` the certified bounds that apply.
    """

    regime: str
    alpha: object
    beta: int
    coefficient: object
    x_star: object
    law: str
    next_order: str
    corrected: object = None  # a function n -> mpf with the next-order term, where derived
    mean: object = None
    band: int | None = None
    bounds: tuple = ()
    claim: str = "L3"

    def value(self, nv, dps=30, corrected=False):
        """The law at ``n`` (with the next-order term when ``corrected`` and one is derived)."""
        with mpmath.workdps(dps):
            if corrected and self.corrected is not None:
                return self.corrected(mpmath.mpf(nv))
            c = mpmath.mpf(sp.N(self.coefficient, dps + _GUARD)) if isinstance(self.coefficient, sp.Basic) else \
                mpmath.mpf(self.coefficient)
            return c * mpmath.mpf(nv) ** mpmath.mpf(sp.N(self.alpha, dps)) * mpmath.log(nv) ** self.beta


def bandwidth_ceiling(w):
    """``(w − 1)/(n − w)`` for every ``n > w``: the bandwidth theorem (claim L1) for band width w."""
    return Bound("upper", sp.Integer(w - 1) / (n - w), int(w) + 1, True, "L1")


def _finite(expr):
    return isinstance(expr, sp.Basic) and not expr.has(sp.Sum, sp.oo, sp.zoo, sp.nan) and expr.is_finite is not False


def support_bound(kappa):
    """``w`` when κ is a Piecewise that vanishes for ``d ≥ w`` (a finite band); None otherwise."""
    if not isinstance(kappa, sp.Piecewise):
        return None
    *pieces, (last, cond) = kappa.args
    if last != 0 or cond != sp.true:
        return None
    bound = None
    for _, c in pieces:
        if isinstance(c, sp.StrictLessThan) and c.lhs == d and c.rhs.is_Integer:
            b = int(c.rhs)
        elif isinstance(c, sp.LessThan) and c.lhs == d and c.rhs.is_Integer:
            b = int(c.rhs) + 1
        elif isinstance(c, sp.Eq) and d in c.args and any(a.is_Integer for a in c.args):
            b = int(next(a for a in c.args if a.is_Integer)) + 1
        else:
            return None
        bound = b if bound is None else max(bound, b)
    return bound


def _tail(kappa):
    """``(p, C)`` with ``κ(d) ~ C d^{−p}`` (``p = oo`` for a tail faster than every power), or None."""
    y = sp.Symbol("y", positive=True)
    k = kappa.subs(d, y)
    # When sympy cannot take the limit, no theorem here applies: None, and the caller fits and says `fitted`.
    try:
        pv = sp.limit(sp.simplify(-y * sp.diff(k, y) / k), y, sp.oo)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if pv == sp.oo:
        return sp.oo, None
    if not (pv.is_real and pv.is_finite and pv >= 0):
        return None
    C = sp.limit(sp.simplify(k * y ** pv), y, sp.oo)
    if not (C.is_positive and C.is_finite):
        return None  # a power times a slowly varying factor (logarithms): no theorem here
    return (pv if pv.is_Rational else sp.nsimplify(pv)), C  # nsimplify(647/1000) is a product of surds


def _sum(term):
    """``Σ_{d ≥ 0} term`` by sympy (also as ``Σ (d + 1)·κ − Σ κ`` when the plain sum stays unevaluated)."""
    return sp.simplify(sp.summation(term, (d, 0, sp.oo)))


def kernel_law(kappa):
    """:func:`_kernel_law` with the diagonal floor of L5, ``κ(1)/((κ(0) + κ(1)) n)``, where it is not a floor law.

    With L4's ceiling this certifies the order ``1/n`` of every summable kernel for every n.
    """
    law = _kernel_law(kappa)
    if law is None or law.regime.startswith("floor"):
        return law
    if isinstance(kappa, dict):
        k0, k1 = (sp.sympify(kappa.get(k, 0)) for k in (0, 1))
    else:
        k0, k1 = (sp.sympify(kappa).subs(d, k) for k in (0, 1))
    if not (k1 > 0 and k0 >= 0):
        return law
    bounds = law.bounds + (diagonal_floor(k0, k1),)
    if law.band is not None:
        bounds += tuple(b for b in (band_constant_floor(law.mean, law.band, k0, k1),) if b is not None)
    return replace(law, bounds=bounds)


def diagonal_floor(k0, k1):
    """``κ(1)/((κ(0) + κ(1)) n)`` for every n ≥ 2: claim L5 for a causal kernel."""
    return Bound("lower", sp.together(k1 / (k0 + k1)) / n, 2, True, "L5")  # no simplify: e^m with a float's m


def _kernel_law(kappa):
    """The capacity law of the causal kernel ``κ(d)``, ``d ≥ 0`` (a sympy expression in :data:`d`).

    Parameters
    ----------
    kappa : sympy.Expr
        Nonnegative, with numeric parameters; a ``Piecewise`` that is 0 for ``d ≥ w`` is a band.

    Returns
    -------
    KernelLaw or None
        None when no theorem applies (a tail that is not a pure power, a sum sympy cannot take):
        the caller then says ``fitted``.
    """
    if isinstance(kappa, dict):  # exact values on a finite band
        if not kappa or min(kappa) < 0 or any(sp.sympify(c).is_negative for c in kappa.values()):
            raise AttentionTransportError(f"a band kernel needs offsets d >= 0 and weights >= 0; got {kappa!r}.")
        w = max(k for k, c in kappa.items() if c != 0) + 1
        Z = sp.nsimplify(sum(sp.sympify(c) for c in kappa.values()))
        M = sp.nsimplify(sum(k * sp.sympify(c) for k, c in kappa.items()))
        return _summable(sp.simplify(M / Z), f"finite band (w = {w})", band=w)
    kappa = sp.sympify(kappa)
    w = support_bound(kappa)
    if w is not None:
        Z = sp.simplify(sum(kappa.subs(d, k) for k in range(w)))
        M = sp.simplify(sum(k * kappa.subs(d, k) for k in range(w)))
        return _summable(M / Z, f"finite band (w = {w})", band=w)
    tail = _tail(kappa)
    if tail is None:
        return None
    pv, C = tail
    if pv == sp.oo or pv > 2:
        Z = _sum(kappa)
        M = _sum((d + 1) * kappa) - Z if pv != sp.oo else _sum(d * kappa)
        if not (_finite(Z) and _finite(M)):
            M = _sum(d * kappa)
        if not (_finite(Z) and _finite(M)):
            return None
        return _summable(sp.simplify(M / Z), "summable first moment" + (" (p = %s)" % pv if pv != sp.oo else ""),
                         pv)
    if pv < 1:
        return _floor_law(pv)
    if pv == 1:
        return KernelLaw("p = 1", 0, -1, sp.log(2), sp.Rational(1, 2), "ln 2 / ln n",
                         "relative error ≈ +c/ln n, c set by the normaliser's constant")
    Z = _sum(kappa)
    if not _finite(Z):
        return None
    if pv == 2:
        return KernelLaw("p = 2", -1, 1, sp.simplify(C / Z), sp.Rational(1, 2),
                         f"{sp.simplify(C / Z)} · ln n / n", "relative error O(1/ln n)")
    coeff = sp.simplify(C * balanced_power_tail_cut().subs(p, pv) / Z)
    return KernelLaw("1 < p < 2", 1 - pv, 0, coeff, sp.Rational(1, 2), f"{coeff} · n^({1 - pv})",
                     f"relative error O(n^-{min(pv - 1, 2 - pv)})")


def _tidy(expr):
    """One closed form: exponentials over hyperbolic functions, then the shortest of a few rewrites."""
    forms = [expr, sp.simplify(expr.rewrite(sp.exp)), sp.factor(sp.simplify(expr.rewrite(sp.exp)))]
    return min(forms, key=sp.count_ops)


def rate_floor(a):
    """``a x_c/(2 − a x_c)`` for every n ≥ 2: L2's floor for a pattern with reach-back rate a."""
    return Bound("lower", reach_back_floor(a)[0], 2, True, "L2")


def reach_back_ceiling(mean):
    """``E[D]/(n − 1 − E[D])`` for every ``n > E[D] + 1``: claim L4 for a causal kernel with ``Σ κ < ∞``."""
    start = int(sp.floor(sp.N(mean + 1, 30))) + 1
    return Bound("upper", mean / (n - 1 - mean), max(2, start), True, "L4")


def _summable(mean, regime, pv=None, band=None, kernel=True):
    mean = _tidy(mean)
    order = "O(1/n)" if pv is None or pv == sp.oo or pv >= 3 else f"O(n^-{pv - 2})"
    bounds = (reach_back_ceiling(mean),) if kernel else ()
    bounds += (bandwidth_ceiling(band),) if band is not None else ()
    return KernelLaw(regime, -1, 0, mean, sp.Rational(1, 2), f"E[D]/n, E[D] = {mean}", f"relative error {order}",
                     mean=mean, band=band, bounds=bounds)


def _floor_law(pv):
    """The floor of a normalised tail ``p < 1``, with the reach-back floor (L2) as its all-n lower bound.

    The bound needs ``κ`` nonincreasing with ``κ(d) ≥ κ(0)(d + 1)^{−p}``: true of ``(d + 1)^{−p}`` itself,
    which is the only kernel :func:`power_law_law` and the uniform family pass here.
    """
    low = rate_floor(1 - pv)
    if pv == 0:
        from attention_transport.numerics.constants import phi_star, x_star

        return KernelLaw("floor (p = 0)", 0, 0, phi_star(40), x_star(40), "φ* (C3)", "relative error O(1/n)",
                         bounds=(low,), claim="C3")
    return KernelLaw("floor (0 < p < 1)", 0, 0, power_floor(pv, 40), floor_balance(pv, 40),
                     f"f({pv}) = 1 − 2 x_b({pv})", f"relative error O(n^-{1 - pv})", bounds=(low,))


def sink_floor_start():
    """``s − 1 + s(s + w)/w``: from this n on, the cuts ``t < s`` of sink-window lie above ``s/(s + 2w)`` (L2)."""
    s_, w_ = sp.symbols("s w", positive=True)
    return s_ - 1 + s_ * (s_ + w_) / w_


def sink_share_start(sv, eps):
    """``s − 1 + s/(1 − ε)``: from this n on, the cuts ``t < s`` of a pattern with sink share ``(s, ε)`` lie above
    ``ε/(2 − ε)`` (L2; ``ε = s/(s + w)`` gives :func:`sink_floor_start`)."""
    return max(2, int(sp.ceiling(sv - 1 + sv / (1 - sp.sympify(eps)))))


def sink_share_floor(sv, eps):
    """L2's floor ``ε/(2 − ε)`` of a pattern with sink share ``(s, ε)``, for every ``n ≥`` :func:`sink_share_start`."""
    return Bound("lower", reach_floor(eps), sink_share_start(sv, eps), True, "L2")


def sink_share_law(sv, eps):
    """A causal mixture of summable kernels with sink parts whose rows give the sinks ``ε`` in all: the floor
    ``ε/(2 − ε)`` at ``x_b = (1 − ε)/(2 − ε)`` (C5s generalised). Far rows send ``ε`` to the sinks, left of every cut
    ``t ≥ s``, and O(1) more across it from the summable parts, so ``cut = ε(n − t) + O(1)`` and C1's volumes give
    ``ε(1 − x)/(2x + ε(1 − x))`` left of the balance point and ``ε/(2 − ε)`` right of it. The floor is certified
    below for every large n (L2); the upper side is derived, not certified."""
    eps = sp.sympify(eps)
    floor = reach_floor(eps)
    return KernelLaw("sinks (summable parts)", 0, 0, floor, sp.simplify((1 - eps) / (2 - eps)),
                     f"ε/(2 − ε), ε = {eps} (the rows' share of the {sv} sinks)", "relative error O(1/n)",
                     bounds=(sink_share_floor(sv, eps),), claim="L2")


def sink_window_law(sv, wv):
    """``s`` sinks beside a window ``w``: the floor ``s/(s + 2w)`` (C5s), two-sided for every large n.

    Lower: the reach-back theorem (L2) with ``μ_t ≥ s/(s + w)`` for ``t ≥ s`` gives ``s/(s + 2w)``; for
    ``t < s`` the rows send at least ``t/(s + w)``, so ``φ(t) ≥ (n − t)/(n − t + 2(s + w))``, which is above
    the floor once ``n ≥ s − 1 + s(s + w)/w``.  Upper: C5s's ``s/(s + 2w) + R(n)`` for ``n ≥ N₁``.
    """
    from attention_transport.theory import sink_window as sw

    sub = {sw.s: sv, sw.w: wv}
    floor = sp.simplify(sw.limit_capacity().subs(sub))
    s_, w_ = sp.symbols("s w", positive=True)
    n0 = int(sp.ceiling(sink_floor_start().subs({s_: sv, w_: wv})))
    upper = sp.simplify((floor + sw.capacity_upper_bound()).subs(sub).subs(sw.n, n))
    n_a, n_b, n_c = (sp.sympify(b).subs(sub) for b in sw.upper_bound_start())  # C5s: the largest applies,
    n1 = int(max(sp.ceiling(n_a), sp.ceiling(n_b), sp.floor(n_c) + 1))  # and n(s + w) > s + 2w strictly
    bounds = (Bound("lower", floor, max(2, n0), True, "L2"), Bound("upper", upper, max(2, n1), True, "C5s"))
    return KernelLaw("sinks (C5s)", 0, 0, floor, sp.simplify(sw.balance_point().subs(sub)), f"s/(s + 2w) = {floor}",
                     "relative error O(1/n) (C5s)", bounds=bounds, claim="C5s")


# ----------------------------------------------------------------------------------------------------------------
# bidirectional bands and global tokens (claim L6)
# ----------------------------------------------------------------------------------------------------------------
def global_share(h, g):
    """``ρ = g/(2h + 1 + g)``: the least share a non-global row of a band ``|i − j| ≤ h`` plus ``g`` global keys,
    uniform on its support, gives the global keys (its support has at most ``2h + 1 + g`` keys)."""
    return sp.Rational(g, 2 * h + 1 + g)


def reach_floor(share):
    """``ε/(2 − ε)``: L6's floor for a cut every row of one side of which sends at least ``ε`` across."""
    share = sp.sympify(share)
    return sp.simplify(share / (2 - share))


def global_floor_start(h, g):
    """From this n on, the cuts ``t < g`` of a band plus ``g`` global tokens (the global rows uniform on all n keys)
    lie above the floor ``ρ/(2 − ρ)``: ``(n − g + 1)/n ≥ ρ``, i.e. ``n ≥ (g − 1)(2h + 1 + g)/(2h + 1)``."""
    return max(2, int(sp.ceiling(sp.Rational((g - 1) * (2 * h + 1 + g), 2 * h + 1))))


def band_global_ceiling(h, g):
    """L6's ceiling for a band ``|i − j| ≤ h`` plus ``g`` global tokens, uniform on each row's support.

    At ``t = ⌈x_b n⌉``, ``x_b = (1 − ρ)/(2 − ρ)``, the cut is at most ``(2g + 2h + ρ(n − t))/2`` and both volumes at
    least ``(n − g − h − 2)/2``, so ``φ_n ≤ (ρn/(2 − ρ) + 2g + 2h)/(n − g − h − 2)`` for every
    ``n ≥ max((g + h)/x_b, g + h + 3)`` (``g = 0``: the bidirectional band, ``2h/(n − h − 2)``).
    """
    rho = global_share(h, g)
    xb = (1 - rho) / (2 - rho)
    expr = (rho * n / (2 - rho) + 2 * g + 2 * h) / (n - g - h - 2)
    start = max(int(sp.ceiling((g + h) / xb)), g + h + 3)
    return Bound("upper", sp.simplify(expr), start, True, "L6")


def pair_floor(h, delta):
    """``2hδ/n`` for every ``n ≥ h + 1``: L6's floor when every pair ``|i − j| ≤ h`` has ``W_ij ≥ δ``."""
    return Bound("lower", sp.simplify(2 * h * sp.sympify(delta) / n), h + 1, True, "L6")


def band_global_law(h, g):
    """A symmetric band ``|i − j| ≤ h`` plus ``g`` global tokens (the first g; they attend to and are attended by
    every token), each row uniform on its support: Longformer, and for ``g = 0`` the bidirectional window.

    ``g ≥ 1``: a floor ``ρ/(2 − ρ)``, ``ρ = g/(2h + 1 + g)``. In the continuum, with ``x = t/n``, the cut is
    ``ρ(1 − x)/2`` (the later rows' share of the global keys) and the prefix volume ``(ρ + (2 − ρ)x)/2``, so
    ``φ(x) = ρ(1 − x)/(ρ + (2 − ρ)x)`` up to the balance point ``x_b = (1 − ρ)/(2 − ρ)`` and ``ρ/(2 − ρ)``
    beyond it; the finite-n corrections (band crossings and the global rows, O(h + g) against volumes O(n))
    put the worst cut at ``x_b``. Lower bound for every ``n ≥`` :func:`global_floor_start` and upper bound
    :func:`band_global_ceiling`, both claim L6: the floor is certified.

    ``g = 0``: ``φ_n ~ h(h + 1)/((2h + 1) n)``: a bulk cut is crossed by ``h(h + 1)/2`` pairs, each of weight
    ``1/(2h + 1)`` in ``W``, and the balanced cut has volume ``n/2`` on each side. Certified order ``1/n`` for
    every n (L6's pair floor ``2h/((2h + 1)n)`` and the band ceiling), not the constant.
    """
    if h < 0 or g < 0:
        raise AttentionTransportError(f"a band plus globals needs h >= 0 and g >= 0; got h={h}, g={g}.")
    if g == 0:
        if h == 0:
            return None  # the identity: every cut is empty
        coeff = sp.Rational(h * (h + 1), 2 * h + 1)
        return KernelLaw("bidirectional band", -1, 0, coeff, sp.Rational(1, 2),
                         f"h(h + 1)/((2h + 1) n), h = {h}", "relative error O(h/n)",
                         bounds=(pair_floor(h, sp.Rational(1, 2 * h + 1)), band_global_ceiling(h, 0)), claim="L6")
    rho = global_share(h, g)
    floor = reach_floor(rho)
    bounds = (Bound("lower", floor, global_floor_start(h, g), True, "L6"), band_global_ceiling(h, g))
    return KernelLaw("global tokens", 0, 0, floor, sp.simplify((1 - rho) / (2 - rho)),
                     f"ρ/(2 − ρ), ρ = g/(2h + 1 + g) = {rho}", "relative error O((h + g)/n)", bounds=bounds,
                     claim="L6")


def stack_law(laws):
    """``L`` causal layers with summable reach-back: the distances add, ``φ_n ~ (Σ E[D_l]) / n``.

    Row i of the product is, away from the first rows, the convolution of the layers' normalised
    kernels, whose mean is the sum of the means (claim L3); the band widths add as in C5b.
    None unless every layer has a summable law (a floor layer's effect on a stack is not derived here).
    """
    if not laws or any(law is None or law.mean is None for law in laws):
        return None
    mean = _tidy(sp.simplify(sum(law.mean for law in laws)))
    band = None if any(law.band is None for law in laws) else 1 + sum(law.band - 1 for law in laws)
    law = _summable(mean, f"stack of {len(laws)} summable layers", band=band, kernel=False)
    return law


# ----------------------------------------------------------------------------------------------------------------
# summable kernels: the law's constant from below (claim L8)
# ----------------------------------------------------------------------------------------------------------------
def constant_floor(mean, tail, edge):
    """Claim L8's floor ``min((E[D] − 2R(T₀))/n, (1 − δ)/(2T₀ + 1))``, given ``tail`` = an upper bound on
    ``R(T₀) = Σ_{k > T₀} τ(k)`` at the chosen ``T₀(n)`` (an expression in n) and ``edge`` = a lower bound on
    ``(1 − δ)/(2T₀ + 1)`` (an expression in n); valid for every n ≥ 2."""
    return Bound("lower", sp.Min((mean - 2 * tail) / n, edge), 2, True, "L8")


def band_constant_floor(mean, w, k0, k1):
    """A causal band kernel (``κ(d) = 0`` for ``d ≥ w``, ``κ(1) > 0``): ``φ_n ≥ E[D]/n`` for every
    ``n ≥ E[D](2w − 1)(κ(0) + κ(1))/κ(1)`` (L8 with ``T₀ = w − 1``, where ``R(T₀) = 0``); None for ``w < 2``."""
    if w < 2 or not sp.sympify(k1) > 0:
        return None
    start = sp.ceiling(sp.N(mean * (2 * w - 1) * (k0 + k1) / k1, 40) - sp.Rational(1, 10 ** 30))
    return Bound("lower", mean / n, max(2, int(start)), True, "L8")


def exp_constant_floor(mv):
    """``e^{−md}``: L8 with ``T₀ = ⌈ln n/m⌉``, where ``R(T₀) ≤ E[D]/n``, and ``1 − δ ≥ 1/(e^m + 1)`` (L5):
    ``φ_n ≥ min(E[D](n − 2)/n², 1/((e^m + 1)(2 ln n/m + 3)))`` for every n ≥ 2."""
    mean = 1 / (sp.exp(mv) - 1)
    return constant_floor(mean, mean / n, 1 / ((sp.exp(mv) + 1) * (2 * sp.log(n) / mv + 3)))


def power_constant_floor(pv):
    """``(d + 1)^{−p}``, ``p > 2``: L8 with ``T₀ = ⌈√n⌉``, where ``R(T₀) ≤ n^{1−p/2}/((p − 1)(p − 2)ζ(p))``, and
    ``1 − δ ≥ 1/(2^p + 1)`` (L5): for every n ≥ 2."""
    pv = sp.nsimplify(pv)
    mean = (sp.zeta(pv - 1) - sp.zeta(pv)) / sp.zeta(pv)
    tail = n ** (1 - pv / 2) / ((pv - 1) * (pv - 2) * sp.zeta(pv))
    return constant_floor(mean, tail, 1 / ((2 ** pv + 1) * (2 * sp.sqrt(n) + 3)))


def exp_decay_law(mv):
    """``κ(d) = e^{−md}``: ``E[D] = K'(1)/K(1) = 1/(e^m − 1)`` from ``K(z) = Σ e^{−md} z^d = 1/(1 − e^{−m} z)``.

    Derived once with a symbolic m and evaluated at the given rate (sympy's sums and simplification of
    ``exp(−m d)`` with a float's 17-digit rational are slow); ``m = 0`` is uniform causal (a floor).
    """
    mv = sp.Rational(repr(mv)) if isinstance(mv, float) else sp.nsimplify(mv)
    if mv < 0:
        raise AttentionTransportError(f"the decay rate m must be >= 0; got {mv}.")
    if mv == 0:
        return _floor_law(0)
    m, z = sp.Symbol("m", positive=True), sp.Symbol("z", positive=True)
    K = 1 / (1 - sp.exp(-m) * z)
    mean = sp.simplify((sp.diff(K, z) / K).subs(z, 1))
    law = _summable(mean, "summable first moment (exp-decay)", kernel=False)
    value = mean.subs(m, mv)
    return KernelLaw(law.regime, law.alpha, law.beta, value, law.x_star, f"E[D]/n, E[D] = {mean} at m = {mv}",
                     law.next_order, mean=value,
                     bounds=(reach_back_ceiling(value), Bound("lower", 1 / ((sp.exp(mv) + 1) * n), 2, True, "L5"),
                             exp_constant_floor(mv)))


# ----------------------------------------------------------------------------------------------------------------
# the power law 1 < p ≤ 2: bounds of the law's order for every n (claim L7)
# ----------------------------------------------------------------------------------------------------------------
m_ = sp.Symbol("m", positive=True)


def power_reach_sum(pv):
    """``U(m) ≥ Σ_{k=1}^{m} τ(k)`` for ``(d + 1)^{−p}``, ``1 < p ≤ 2``: ``τ(k) ≤ k^{1−p}/((p − 1)ζ(p))`` (integral
    comparison of the tail) and ``Σ_{k≤m} k^{1−p} ≤ 1 + ∫_1^m y^{1−p} dy``; an expression in :data:`m_`."""
    pv = sp.nsimplify(pv)
    y = sp.Symbol("y", positive=True)
    total = 1 + sp.integrate(y ** (1 - pv), (y, 1, m_))
    return sp.simplify(total / ((pv - 1) * sp.zeta(pv)))


def power_pair_sum(pv):
    """``σ(x) ≤ Σ_{s<x} (s + 1)(s + 2)^{−p}``: ``(s + 1) ≥ (s + 2)/2`` and ``Σ_{s<x} (s + 2)^{1−p} ≥ ∫_2^{x+2} y^{1−p}
    dy``; in :data:`m_` (the x of the text), ``1 < p ≤ 2``."""
    pv = sp.nsimplify(pv)
    y = sp.Symbol("y", positive=True)
    return sp.simplify(sp.integrate(y ** (1 - pv), (y, 2, m_ + 2)) / 2)


def _ceiling_start(U):
    """The least n ≥ 2 with ``n − 1 − U((n + 1)/2) > 0`` and a positive slope there; the function is convex (U is
    concave), so both hold for every larger n."""
    f = n - 1 - U.subs(m_, (n + 1) / 2)
    slope = sp.diff(f, n)

    def ok(k):
        return bool(sp.N(f.subs(n, k), 30) > 0 and sp.N(slope.subs(n, k), 30) > 0)

    lo, hi = 2, 4
    while not ok(hi):
        lo, hi = hi, hi * 2
    if ok(lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def harmonic_ceiling_cut():
    """p = 1: ``cut(⌊n/2⌋) ≤ n ln 2/ln((n + 3)/2)``, an expression in :data:`n` (claim L7)."""
    return n * sp.log(2) / sp.log((n + 3) / 2)


def power_law_bounds(pv):
    """Claim L7 for ``(d + 1)^{−p}``, ``1 ≤ p ≤ 2``: ``σ(n/2)/(nζ(p) + σ(n/2)) ≤ φ_n ≤ U/(n − 1 − U)``,
    ``U = U((n + 1)/2)``; both of order ``n^{1−p}`` (``ln n/n`` at p = 2). At p = 1:
    ``1/(4 ln n + 5) ≤ φ_n ≤ C/(n − 1 − C)``, ``C =`` :func:`harmonic_ceiling_cut`, whose leading term
    ``ln 2/ln n`` is the law's. None outside ``1 ≤ p ≤ 2``."""
    pv = sp.nsimplify(pv)
    if pv == 1:
        C = harmonic_ceiling_cut()
        ratio = (n - 1) / n * sp.log((n + 3) / 2)  # C < n − 1 ⟺ ratio > ln 2; the ratio increases in n
        start = next(k for k in range(2, 100) if sp.N(ratio.subs(n, k), 30) > sp.log(2))
        return (Bound("lower", 1 / (4 * sp.log(n) + 5), 2, True, "L7"),
                Bound("upper", C / (n - 1 - C), start, True, "L7"))
    if not (1 < pv <= 2):
        return None
    U = power_reach_sum(pv)
    upper = sp.simplify(U.subs(m_, (n + 1) / 2) / (n - 1 - U.subs(m_, (n + 1) / 2)))
    sigma = power_pair_sum(pv).subs(m_, n / 2)
    lower = sigma / (n * sp.zeta(pv) + sigma)
    return (Bound("lower", lower, 2, True, "L7"), Bound("upper", upper, _ceiling_start(U), True, "L7"))


def power_law_law(pv):
    """:func:`kernel_law` of ``(d + 1)^{−p}`` with the next-order terms derived for this family.

    p = 1: ``ln 2/(ln n + c₁)`` (:func:`log_offset`); p = 2: ``(6/π²)(ln n + c₂)/n`` (:func:`square_offset`).
    """
    pv = sp.Rational(repr(pv)) if isinstance(pv, float) else sp.nsimplify(pv)  # 2.2 is 11/5, never a surd
    if pv < 0:
        raise AttentionTransportError(f"the exponent p must be >= 0; got {pv}.")
    law = kernel_law((d + 1) ** (-pv))
    extra = power_law_bounds(pv) if pv <= 2 else (power_constant_floor(pv),)
    if extra is not None:
        law = replace(law, bounds=law.bounds + extra)
    if pv == 1:
        c1 = log_offset(40)
        return replace(law, next_order=
                         f"ln 2/(ln n + c₁), c₁ = γ + J/ln 2 = {mpmath.nstr(c1, 12)}; relative error of ln 2/ln n "
                         "≈ +c₁/ln n", corrected=lambda n: mpmath.log(2) / (mpmath.log(n) + c1))
    if pv == 2:
        c2 = square_offset()
        return replace(law, next_order=
                         f"(6/π²)(ln n + c₂)/n, c₂ = γ + 1 − π²/6 − 2 ln 2 = {sp.N(c2, 12)}; relative error of the "
                         "leading term ≈ −c₂/ln n",
                         corrected=lambda n: 6 / mpmath.pi ** 2 * (mpmath.log(n) + mpmath.mpf(sp.N(c2, 40))) / n)
    return law


# ----------------------------------------------------------------------------------------------------------------
# the structural theorems applied to one matrix: the hypotheses checked on the matrix itself
# ----------------------------------------------------------------------------------------------------------------
#: rows of the matrix :func:`structural_bounds` reads at once (its partial sums: O(n · block) memory)
REACH_BLOCK_BYTES = 8 << 20


def _reach_masses(A, n, causal):
    """``(μ, ν, top)``: ``μ[t − 1] = min_{i ≥ t} Σ_{j<t} A_ij`` and (not causal) ``ν[t − 1] = min_{i < t} Σ_{j≥t} A_ij``
    for t = 1..n−1, as float64 partial sums, and the largest row sum.  Streamed over row blocks, μ from the last
    rows up and ν from the first rows down, so memory is O(n · block) and a materialised n = 16384 matrix needs
    no n×n temporaries; the sums are the same as over the whole matrix (each row's cumulative sum is its own)."""
    import numpy as np

    rows = max(1, REACH_BLOCK_BYTES // (8 * n))
    ranges = [(i0, min(n, i0 + rows)) for i0 in range(0, n, rows)]
    block = (lambda i0, i1: np.asarray(A[i0:i1], dtype=np.float64))
    mu, low, top = np.empty(n - 1), np.full(n, np.inf), 0.0
    for i0, i1 in reversed(ranges):
        R = block(i0, i1)
        top = max(top, float(R.sum(axis=1).max()))
        lowest = np.minimum(np.minimum.accumulate(np.cumsum(R, axis=1)[::-1], axis=0)[::-1], low)
        low = lowest[0]  # [k]: min over rows ≥ i0 of Σ_{j≤k} A_ij
        t = np.arange(max(i0, 1), i1)
        mu[t - 1] = lowest[t - i0, t - 1]
    if causal:
        return mu, None, top
    nu, high = np.empty(n - 1), np.full(n, np.inf)
    for i0, i1 in ranges:
        suffix = np.cumsum(block(i0, i1)[:, ::-1], axis=1)[:, ::-1]  # [i, k] = Σ_{j ≥ k} A_ij, from the right
        highest = np.minimum(np.minimum.accumulate(suffix, axis=0), high)
        high = highest[-1]  # [k]: min over rows < i1 of Σ_{j≥k} A_ij
        i = np.arange(i0, min(i1, n - 1))
        nu[i] = highest[i - i0, i + 1]
    return mu, nu, top


def structural_bounds(A=None, *, bandwidth=None, n=None, causal=True):
    """The bounds L1, L2 and L6 certify for one row-stochastic matrix, from facts read off the matrix.

    Parameters
    ----------
    A : array_like, shape (n, n), optional
        The matrix (float or exact); L2 and L6 need it (its reach masses ``μ_t`` and ``ν_t``).
    bandwidth : int, optional
        The smallest w with ``A_ij = 0`` for ``i − j ≥ w`` (a fact of the support); L1 needs it.
    n : int, optional
        The size, when A is not given (L1 alone).
    causal : bool
        L1 and L2 are theorems about causal matrices; a matrix that is not causal gets L6's two-sided floor.

    Returns
    -------
    list of dict
        ``{"side", "value", "claim", "hypothesis"}``. The reach masses ``μ_t = min_{i ≥ t} Σ_{j<t} A_ij`` and
        ``ν_t = min_{i < t} Σ_{j≥t} A_ij`` are taken from float64 partial sums less their rounding bound ``γ_n``
        (sums of at most n nonnegative terms of a row summing to 1), so the bound holds for the matrix as given;
        the final value is rounded down.
    """
    import numpy as np

    out = []
    n = len(A) if A is not None else n
    if causal and bandwidth is not None and n is not None and n >= 2 * bandwidth:  # else (w − 1)/(n − w) ≥ 1: vacuous
        out.append({"side": "upper", "value": (bandwidth - 1) / (n - bandwidth) * (1 + 1e-15), "claim": "L1",
                    "hypothesis": f"band width w = {bandwidth}: φ_n ≤ (w − 1)/(n − w)"})
    if A is None or n < 2:
        return out
    t = np.arange(1, n)
    mu, nu, top = _reach_masses(A, n, causal)
    margin = n * np.finfo(float).eps / (1 - n * np.finfo(float).eps) * top
    mu = np.clip(mu - margin, 0.0, 1.0)
    if causal:
        c0 = mu * (n - t)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(c0 > 0, c0 / (2 * t + c0), 0.0)
        bound = float(np.min(np.maximum(left, mu / (2 - mu))))
        claim, hypothesis = "L2", ("reach-back masses μ_t = min_{i≥t} Σ_{j<t} A_ij of this matrix: "
                                   "φ_n ≥ min_t max(c₀/(2t + c₀), μ_t/(2 − μ_t)), c₀ = μ_t(n − t)")
    else:
        nu = np.clip(nu - margin, 0.0, 1.0)
        bound = float(np.min(np.maximum(mu / (2 - mu), nu / (2 - nu))))
        claim, hypothesis = "L6", ("reach masses of this matrix, μ_t = min_{i≥t} Σ_{j<t} A_ij and "
                                   "ν_t = min_{i<t} Σ_{j≥t} A_ij: φ_n ≥ min_t max(μ_t/(2 − μ_t), ν_t/(2 − ν_t))")
    if bound > 0:
        out.append({"side": "lower", "value": bound * (1 - 1e-12), "claim": claim, "hypothesis": hypothesis})
    return out