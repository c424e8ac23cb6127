"""L7 — the power law ``(d + 1)^{−p}`` with ``1 ≤ p ≤ 2``: certified bounds of the law's order for every n.

L4 needs a summable first moment and L5 gives only ``1/n`` below; between them the power law with
``1 < p ≤ 2`` had no certified bound of its own order. For the causal kernel ``κ(d) = (d + 1)^{−p}``
(row i normalised by ``Z_i = Σ_{d ≤ i} κ(d) ≤ ζ(p)``):

**Ceiling.** Row ``i ≥ t`` sends left of t its mass at distance ``≥ i − t + 1``, at most the kernel's tail
fraction ``τ(k) = Σ_{d ≥ k} κ(d)/ζ(p) ≤ k^{1−p}/((p − 1)ζ(p))`` (L4, step kernel-tail, and an integral
comparison). So ``cut(⌊n/2⌋) ≤ Σ_{k ≤ ⌈n/2⌉} τ(k) ≤ U((n + 1)/2)`` with
``U(m) = (1 + (m^{2−p} − 1)/(2 − p))/((p − 1)ζ(p))`` (``(1 + ln m)/ζ(2)`` at p = 2), and L4's balanced step gives
``φ_n ≤ U/(n − 1 − U)`` from the least n where ``n − 1 − U`` is positive and increasing (it is convex).

**Floor.** For ``t ≤ n/2`` the rows ``t, …, 2t − 1`` and keys ``0, …, t − 1`` form ``t²`` pairs at distances
``k + l + 2`` (k, l < t), each with ``A_ij ≥ (k + l + 2)^{−p}/ζ(p)``; the ``s + 1`` pairs with ``k + l = s < t``
give ``cut(t) ≥ σ(t)/ζ(p)``, ``σ(x) = ((x + 2)^{2−p} − 2^{2−p})/(2(2 − p))`` (``ln((x + 2)/2)/2`` at p = 2). The
same holds with ``m = n − t`` for ``t > n/2``. C1 gives ``φ(t) ≥ σ/(2xζ(p) + σ)`` at ``x = min(t, n − t)``, which
decreases in x (``σ(x)/x`` does), so ``φ_n ≥ σ(n/2)/(nζ(p) + σ(n/2))`` for every n ≥ 2.

Both bounds are of order ``n^{1−p}`` (``ln n/n`` at p = 2), the law's (L3).

**p = 1.** ``Z_i = H_{i+1} ≤ 1 + ln n``, so the same pairs give ``φ_n ≥ 1/(4 ln n + 5)``; the row
``t + k − 1`` sends ``(H_{k+t} − H_k)/H_{k+t} ≤ ln(1 + t/k)/ln((n + 3)/2)`` left of ``t = ⌊n/2⌋``, and
``Σ_k ln(1 + t/k) ≤ n ln 2`` (an entropy), so ``φ_n ≤ C/(n − 1 − C)``, ``C = n ln 2/ln((n + 3)/2)``, for every
``n ≥ 3``: the leading term ``ln 2/ln n`` is the law's.
"""
from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy as sp

from attention_transport.numerics.exact import exact_prefix_capacity
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.structured import pattern_prefix_landscape
from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import laws
from attention_transport.theory import sink_window as sw

p = sp.Symbol("p", positive=True)
q = sp.Symbol("q", positive=True)  # 2 − p
k, y, xs = sp.symbols("k y x", positive=True)
t, i, j, kk, ll, s = sp.symbols("t i j k l s", integer=True)
n = laws.n
m = laws.m_
EVERY_N = Scope(Region.box(n=(2, None)), "symbolic")
#: the exponents at which the closed forms of theory/laws.py are compared with the derivation
SAMPLES = (sp.Rational(5, 4), sp.Rational(3, 2), sp.Rational(7, 4), sp.Integer(2))


def _same(a, b):
    """Whether sympy proves ``a = b`` (logarithms of products and quotients expanded first)."""
    return sp.simplify(sp.expand_log(sp.sympify(a) - b, force=True)) == 0


def _reach(pv):
    """U(m) as derived here."""
    if pv == 2:
        return (1 + sp.log(m)) / sp.zeta(2)
    return (1 + (m ** (2 - pv) - 1) / (2 - pv)) / ((pv - 1) * sp.zeta(pv))


def _pairs_sum(pv):
    """σ(x) as derived here, in m."""
    if pv == 2:
        return (sp.log(m + 2) - sp.log(2)) / 2  # ln((x + 2)/2)/2
    return ((m + 2) ** (2 - pv) - 2 ** (2 - pv)) / (2 * (2 - pv))


def _tail(ctx):
    integral = sp.integrate(y ** (-p), (y, k, sp.oo), conds="none")
    e1 = symbolic_zero(sp.simplify(integral.subs(p, 1 + q) - k ** (-q) / q), "∫_k^∞ y^{−p} dy = k^{1−p}/(p − 1)")
    total = 1 + sp.integrate(y ** (1 - p), (y, 1, m), conds="none")
    found = []
    for pv in SAMPLES:
        got = laws.power_reach_sum(pv)
        require(_same(got, _reach(pv)), f"laws.power_reach_sum({pv}) = {got}, not {_reach(pv)}")
        if pv != 2:
            require(sp.simplify(total.subs(p, pv) / ((pv - 1) * sp.zeta(pv)) - got) == 0, f"p = {pv}: Σ bound")
        found.append(str(pv))
    return (f"(d + 1)^{{−p}} ≤ ∫_d^(d+1) y^{{−p}} dy (decreasing), summed over d ≥ k: {e1}; with L4's kernel-tail "
            "step (a truncated row sends at most the kernel's tail fraction; Z_i ≤ ζ(p)): "
            "τ(k) ≤ k^{1−p}/((p − 1)ζ(p)). "
            "k^{1−p} ≤ ∫_(k−1)^k y^{1−p} dy for k ≥ 2, so Σ_(k≤m) τ(k) ≤ U(m) = (1 + ∫_1^m y^{1−p} dy)/((p − 1)ζ(p)); "
            f"laws.power_reach_sum returns it at p = {', '.join(found)}")


def _ceiling(ctx):
    U = (1 + (m ** q - 1) / q) / ((1 - q) * sp.zeta(2 - q))
    curv = sp.simplify(sp.diff(U, m, 2) - (q - 1) * m ** (q - 2) / ((1 - q) * sp.zeta(2 - q)))
    require(curv == 0, f"U'' = {sp.diff(U, m, 2)}")
    e1 = symbolic_zero(sp.diff((1 + sp.log(m)) / sp.zeta(2), m, 2) + 1 / (m ** 2 * sp.zeta(2)),
                       "p = 2: U'' = −1/(m² ζ(2))")
    T = sp.Symbol("T", integer=True)
    e2 = infeasible([n, T], [2 * T <= n, n <= 2 * T + 1, 2 * (n - T) >= n + 2], "n − ⌊n/2⌋ ≤ (n + 1)/2")
    starts = []
    for pv in SAMPLES:
        bounds = laws.power_law_bounds(pv)
        upper = [b for b in bounds if b.side == "upper"][0]
        Un = _reach(pv).subs(m, (n + 1) / 2)
        require(_same(upper.expression, Un / (n - 1 - Un)), f"p = {pv}: the ceiling is {upper.expression}")
        f = n - 1 - Un
        df = sp.diff(f, n)
        at = [(sp.N(f.subs(n, v), 30), sp.N(df.subs(n, v), 30)) for v in (upper.n_min, upper.n_min - 1)]
        require(at[0][0] > 0 and at[0][1] > 0, f"p = {pv}: n − 1 − U = {at[0][0]}, slope {at[0][1]} at its start")
        require(upper.n_min == 2 or not (at[1][0] > 0 and at[1][1] > 0), f"p = {pv}: the start is not the least")
        starts.append(f"p = {pv}: from n = {upper.n_min}")
    return (f"U'' = (q − 1) m^{{q−2}}/((1 − q)ζ(2 − q)) < 0 for q = 2 − p ∈ (0, 1); {e1}: U is concave and "
            f"increasing, so n − 1 − U((n + 1)/2) is convex; {e2}, so cut(⌊n/2⌋) ≤ U((n + 1)/2). Once n − 1 − U is "
            "positive with a positive slope it stays so, and L4's balanced step (C1 at t = ⌊n/2⌋, "
            "φ ≤ cut/(n − 1 − cut), increasing in the cut) gives φ_n ≤ U/(n − 1 − U). laws.power_law_bounds: this "
            f"ceiling, {'; '.join(starts)}"
            " (the least such n)")


def _floor(ctx):
    e1 = infeasible([kk, ll, s, t], [kk >= 0, ll >= 0, kk + ll <= s, s <= t - 1, kk >= t],
                    "k + l = s ≤ t − 1 with k, l ≥ 0 keeps k ≤ t − 1 (and l)")
    e2 = symbolic_zero(((t + kk) - (t - 1 - ll) + 1) - (kk + ll + 2), "row t + k, key t − 1 − l: i − j + 1 = k + l + 2")
    e3 = infeasible([n, t, kk], [2 * t <= n, kk <= t - 1, t + kk >= n], "the rows t + k ≤ 2t − 1 exist for t ≤ n/2")
    N = q * xs * (xs + 2) ** (q - 1) - (xs + 2) ** q + 2 ** q  # x² d/dx [((x + 2)^q − 2^q)/x]
    e4 = symbolic_zero(N.subs(xs, 0), "the numerator of (σ/x)' vanishes at x = 0")
    e5 = symbolic_zero(sp.diff(N, xs) - q * (q - 1) * xs * (xs + 2) ** (q - 2),
                       "its slope is q(q − 1)x(x + 2)^{q−2} ≤ 0")
    N2 = xs / (xs + 2) - sp.log((xs + 2) / 2)
    e6 = symbolic_zero(sp.diff(N2, xs) + xs / (xs + 2) ** 2, "p = 2: the numerator's slope is −x/(x + 2)² ≤ 0")
    y_ = sp.Symbol("y", positive=True)
    forms = []
    for pv in SAMPLES:
        got = laws.power_pair_sum(pv)
        derived = sp.integrate(y_ ** (1 - pv), (y_, 2, m + 2)) / 2
        require(_same(got, derived) and _same(got, _pairs_sum(pv)),
                f"laws.power_pair_sum({pv}) = {got}")
        lower = [b for b in laws.power_law_bounds(pv) if b.side == "lower"][0]
        sig = _pairs_sum(pv).subs(m, n / 2)
        require(_same(lower.expression, sig / (n * sp.zeta(pv) + sig)) and lower.n_min == 2,
                f"p = {pv}: the floor is {lower.expression} from {lower.n_min}")
        forms.append(str(pv))
    require(sw.causal_volume_identity() == 0, "vol ≠ 2t + cut")
    return (f"{e2}; {e3}; with Z_i ≤ ζ(p), each of these t² entries is at least (k + l + 2)^{{−p}}/ζ(p). {e1}: the "
            "s + 1 pairs with k + l = s < t are among them, so cut(t) ≥ Σ_(s<t) (s + 1)(s + 2)^{−p}/ζ(p) ≥ "
            "Σ_(s<t) (s + 2)^{1−p}/(2ζ(p)) ≥ ∫_2^(t+2) y^{1−p} dy/(2ζ(p)) = σ(t)/ζ(p) (decreasing terms). For t > n/2 "
            "the rows t, …, n − 1 and the keys 2t − n, …, t − 1 give σ(n − t) the same way. C1: vol = 2t + cut, comp = "
            "2(n − t) − cut ≤ 2(n − t) + cut, and cut/(2x + cut) increases in the cut, so φ(t) ≥ σ(x)/(2xζ(p) + σ(x)) "
            f"at x = min(t, n − t) ≤ n/2. σ(x)/x decreases: {e4}; {e5}; {e6}. Hence φ_n ≥ σ(n/2)/(nζ(p) + σ(n/2)); "
            f"laws.power_pair_sum and laws.power_law_bounds return these at p = {', '.join(forms)}")


def _harmonic(ctx):
    x_, u = sp.symbols("x u", positive=True)
    e1 = symbolic_zero(sp.integrate(1 / x_, (x_, 1, n)) - sp.log(n), "∫_1^n dx/x = ln n")
    e2 = symbolic_zero((s + 1) / (s + 2) - sp.Rational(1, 2) - s / (2 * (s + 2)),
                       "(s + 1)/(s + 2) − 1/2 = s/(2(s + 2)) ≥ 0")
    c = x_ / (2 * (1 + sp.log(n)))
    e3 = symbolic_zero(c / (2 * x_ + c) - 1 / (4 * sp.log(n) + 5), "(x/(2(1 + ln n)))/(2x + x/(2(1 + ln n))) = "
                       "1/(4 ln n + 5)")
    tt, mm = sp.symbols("t m", positive=True)
    integral = sp.integrate(sp.log(1 + tt / x_), (x_, 0, mm))
    entropy = (mm + tt) * sp.log(mm + tt) - mm * sp.log(mm) - tt * sp.log(tt)
    e4 = symbolic_zero(sp.expand_log(integral - entropy, force=True), "∫_0^m ln(1 + t/x) dx = (m + t) ln(m + t) − "
                       "m ln m − t ln t")
    h = -u * sp.log(u) - (1 - u) * sp.log(1 - u)  # the entropy over n, u = t/n
    e5 = symbolic_zero(sp.diff(h, u).subs(u, sp.Rational(1, 2)), "h'(1/2) = 0")
    e6 = symbolic_zero(sp.diff(h, u, 2) + 1 / (u * (1 - u)), "h'' = −1/(u(1 − u)) < 0")
    e7 = symbolic_zero(h.subs(u, sp.Rational(1, 2)) - sp.log(2), "h(1/2) = ln 2")
    lower, upper = laws.power_law_bounds(1)
    C = n * sp.log(2) / sp.log((n + 3) / 2)
    require(_same(lower.expression, 1 / (4 * sp.log(n) + 5)) and lower.n_min == 2, f"p = 1 floor {lower}")
    require(_same(upper.expression, C / (n - 1 - C)), f"p = 1 ceiling {upper.expression}")
    ratio = (n - 1) / n * sp.log((n + 3) / 2)
    e8 = symbolic_zero(sp.diff(ratio, n) - (sp.log((n + 3) / 2) / n ** 2 + (n - 1) / (n * (n + 3))),
                       "d/dn ((n − 1)/n) ln((n + 3)/2) = ln((n + 3)/2)/n² + (n − 1)/(n(n + 3)) > 0")
    at = [sp.N(ratio.subs(n, v) - sp.log(2), 30) for v in (upper.n_min, upper.n_min - 1)]
    require(at[0] > 0 and (upper.n_min == 2 or at[1] <= 0), f"p = 1: the start {upper.n_min} ({at})")
    return (f"Z_i = H_(i+1) ≤ 1 + ∫_1^n dx/x = 1 + ln n ({e1}); the pairs of the floor step give "
            f"cut ≥ Σ_(s<x) (s + 1)/((s + 2)(1 + ln n)) ≥ x/(2(1 + ln n)) ({e2}); {e3}, for every cut. "
            "Ceiling at t = ⌊n/2⌋: row t + k − 1 sends (H_(k+t) − H_k)/H_(k+t) left of t; H_(k+t) − H_k ≤ "
            "∫_k^(k+t) dx/x = ln(1 + t/k), decreasing in k, and H_(k+t) ≥ ln(k + t + 1) ≥ ln((n + 3)/2). "
            f"{e4} = n h(t/n) with h the entropy in nats: {e5}; {e6}; {e7}. So cut ≤ n ln 2/ln((n + 3)/2) = C, and L4's "
            f"balanced step gives φ_n ≤ C/(n − 1 − C) once C < n − 1, i.e. ((n − 1)/n) ln((n + 3)/2) > ln 2: {e8}, "
            f"so from n = {upper.n_min} on (the least). laws.power_law_bounds(1) returns both bounds")


def _numbers(ctx):
    visited, lines = set(), []
    for pv in (sp.Integer(1),) + SAMPLES:
        spec = f"power-law:p={float(pv):g}"
        P = parse_pattern(spec)
        bounds = laws.power_law_bounds(pv)
        worst = {"lower": mpmath.inf, "upper": mpmath.inf}
        for size in list(range(2, 400)) + [10 ** 3, 10 ** 4, 10 ** 5]:
            land = pattern_prefix_landscape(P, size)
            got = mpmath.mpf(land.capacity)
            err = got * mpmath.mpf(max(land.capacity_rel_error, 1e-13))
            for b in bounds:
                if size < b.n_min:
                    continue
                v = b.value(size)
                gap = (got + err - v) if b.side == "lower" else (v - got + err)
                require(gap >= 0, f"{spec}, n={size}: φ = {land.capacity} breaks the {b.side} bound "
                        f"{mpmath.nstr(v, 12)}")
                worst[b.side] = min(worst[b.side], (got / v) if b.side == "lower" else (v / got))
            visited.add(size)
        lines.append(f"p = {pv}: φ_n/floor ≥ {mpmath.nstr(worst['lower'], 4)}, ceiling/φ_n ≥ "
                     f"{mpmath.nstr(worst['upper'], 4)}")
    for power in (1, 2):
        bounds = laws.power_law_bounds(power)
        for size in range(2, 31):
            rows = []
            for r in range(size):
                weights = [Fraction(1, (r - c + 1) ** power) if c <= r else Fraction(0) for c in range(size)]
                rows.append([x / sum(weights) for x in weights])
            phi = exact_prefix_capacity(rows)[0]
            for b in bounds:
                if size >= b.n_min:
                    v = b.value(size, dps=40)
                    value = mpmath.mpf(phi.numerator) / phi.denominator
                    require(value >= v if b.side == "lower" else value <= v, f"p = {power}, n={size}: exact "
                            f"φ = {phi} breaks the {b.side} bound")
    return Checked(f"float64 structural capacities, n = 2..399, 10³, 10⁴, 10⁵ (within their reported error): "
                   f"{'; '.join(lines)}; exact rationals at p = 1 and 2, n = 2..30", Region.points("n", sorted(visited)))


CLAIM = Claim(
    id="L7",
    title="power law 1 ≤ p ≤ 2: bounds of the law's order",
    statement=("For the causal power law $\\kappa(d) = (d + 1)^{-p}$ with $1 < p \\le 2$ and every $n \\ge 2$: "
               "$\\varphi_n \\ge \\sigma(n/2)/(n\\zeta(p) + \\sigma(n/2))$ with "
               "$\\sigma(x) = ((x + 2)^{2-p} - 2^{2-p})/(2(2 - p))$ ($\\tfrac12 \\ln((x + 2)/2)$ at $p = 2$); and "
               "$\\varphi_n \\le U/(n - 1 - U)$, $U = U((n + 1)/2)$, "
               "$U(m) = (1 + (m^{2-p} - 1)/(2 - p))/((p - 1)\\zeta(p))$ ($(1 + \\ln m)/\\zeta(2)$ at $p = 2$), "
               "for every "
               "n from the least one at which $n - 1 - U$ is positive and increasing. Both are of order $n^{1-p}$ "
               "($\\ln n/n$ at $p = 2$), the order of the law (L3). At $p = 1$: $1/(4\\ln n + 5) \\le \\varphi_n "
               "\\le C/(n - 1 - C)$, $C = n\\ln 2/\\ln((n + 3)/2)$, for every $n \\ge 3$: order $1/\\ln n$, the "
               "ceiling with the law's leading term $\\ln 2/\\ln n$."),
    steps=(
        Step("The tail fractions: $\\tau(k) \\le k^{1-p}/((p - 1)\\zeta(p))$, and "
             "$\\sum_{k \\le m} \\tau(k) \\le U(m)$.",
             "symbolic", "sympy `integrate` (integral comparison); L4's kernel-tail step", _tail, scope=EVERY_N,
             key="tail"),
        Step("The ceiling at $t = \\lfloor n/2 \\rfloor$, from the least n where it applies.", "symbolic",
             "sympy `diff` (concavity), Farkas certificate, 30-digit evaluation of the start", _ceiling,
             scope=EVERY_N, key="ceiling"),
        Step("The floor: $t^2$ pairs across every cut at distances below $2\\min(t, n - t)$.", "linear-arithmetic",
             "Farkas certificates; sympy `diff`, `integrate`", _floor, scope=EVERY_N, key="floor"),
        Step("p = 1: $1/(4\\ln n + 5) \\le \\varphi_n \\le C/(n - 1 - C)$, $C = n \\ln 2/\\ln((n + 3)/2)$.",
             "symbolic", "sympy `integrate`, `diff`; 30-digit evaluation of the start", _harmonic, scope=EVERY_N,
             key="harmonic"),
        Step("Both bounds against the structural capacity (float64, within its error bound) and exact rationals.",
             "numeric", "float64 structural capacities; `fractions.Fraction` at p = 2", _numbers,
             scope=Scope(Region.box(n=(2, 399)), "each"), key="numbers", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)
