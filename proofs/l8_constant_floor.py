"""L8 — summable kernels: the law's constant ``E[D]/n`` from below, for every n.

L4 bounds a summable causal kernel from above with the law's own leading term, ``E[D]/(n − 1 − E[D])``; L5
bounds it from below only with ``κ(1)/((κ(0) + κ(1)) n)``. L8 closes the gap. For a causal kernel with
``Z = Σ κ < ∞``, tail ``T(k) = Σ_{d ≥ k} κ(d)``, mean ``E[D] = Σ_{k ≥ 1} T(k)/Z``, and ``R(j) = Σ_{k > j} T(k)/Z``:

* a middle cut ``T₀ < t < n − T₀`` is crossed by row ``t + k − 1`` with at least ``(T(k) − T(k + t))/Z``
  (its normaliser is at most Z), so ``cut(t) ≥ E[D] − R(t) − R(n − t) ≥ E[D] − 2R(T₀)``, and
  ``min(vol, comp) ≤ n``;
* an edge cut (``t ≤ T₀`` or ``t ≥ n − T₀``) has a side of volume at most ``2T₀ + cut``, and every cut is at least
  ``1 − δ`` (L5);

hence ``φ_n ≥ min((E[D] − 2R(T₀))/n, (1 − δ)/(2T₀ + 1))`` for every ``T₀ ≥ 1``. Choosing ``T₀`` with n:
``T₀ = w − 1`` for a band of width w (``R = 0``: ``φ_n ≥ E[D]/n`` from ``n ≥ E[D](2w − 1)/(1 − δ)``),
``T₀ = ⌈ln n/m⌉`` for ``e^{−md}`` (``R(T₀) ≤ E[D]/n``) and ``T₀ = ⌈√n⌉`` for ``(d + 1)^{−p}``, ``p > 2``.
With L4 this pins ``φ_n ~ E[D]/n`` from both sides for every n, so ``law`` says ``certified`` for these families.
"""
from __future__ import annotations

import random
from fractions import Fraction

import mpmath
import sympy as sp

from attention_transport.numerics.exact import exact_prefix_capacity
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.structured import pattern_prefix_landscape
from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import laws

n = laws.n
t, kk, T0 = sp.symbols("t k T_0", integer=True)
c, x, mrate, p = sp.symbols("c x m p", positive=True)
EVERY_N = Scope(Region.box(n=(2, None)), "symbolic")
SEED = 20261208


def _ranges(ctx):
    e1 = symbolic_zero(sp.diff(c / (2 * x + c), c) - 2 * x / (2 * x + c) ** 2, "d/dc c/(2x + c) = 2x/(2x + c)² > 0")
    e2 = symbolic_zero(sp.diff(c / (2 * x + c), x) + 2 * c / (2 * x + c) ** 2, "d/dx c/(2x + c) = −2c/(2x + c)² < 0")
    v = sp.Symbol("v", positive=True)
    e3 = infeasible([v, n], [v >= n + 1, 2 * n - v >= n + 1], "min(vol, comp) ≤ n when vol + comp = 2n")
    e4 = infeasible([t, n, T0], [t >= n - T0, 2 * (n - t) >= 2 * T0 + 1], "t ≥ n − T₀ leaves 2(n − t) ≤ 2T₀")
    return ("C1: vol = 2t + cut and comp = 2(n − t) − cut ≤ 2(n − t) + cut. For t ≤ T₀, φ(t) ≥ cut/(2t + cut) "
            f"≥ (1 − δ)/(2T₀ + 1 − δ), since cut ≥ 1 − δ (L5) and {e1}; {e2}. For t ≥ n − T₀: {e4}, so "
            f"φ(t) ≥ cut/(2(n − t) + cut) ≥ (1 − δ)/(2T₀ + 1) likewise. In between: {e3}, so φ(t) ≥ cut/n")


def _middle(ctx):
    j = sp.Symbol("j", integer=True, nonnegative=True)
    M = sp.Symbol("M", integer=True, positive=True)
    Tb = sp.IndexedBase("T")
    shifted = sp.Sum(Tb[kk + t], (kk, 1, M)).change_index(kk, kk + t)
    require(shifted == sp.Sum(Tb[kk], (kk, t + 1, M + t)), f"the shift gives {shifted}")
    e2 = infeasible([kk, t, j], [j >= kk, j <= kk + t - 1, j >= t + kk], "a key at distance d ∈ [k, k + t − 1] "
                    "of row t + k − 1 lies left of t")
    return (f"row i = t + k − 1 (k = 1 … n − t) sends left of t its mass at distances k … i ({e2}): "
            "Σ_(d=k)^(t+k−1) κ(d)/Z_i ≥ (T(k) − T(k + t))/Z, as Z_i ≤ Z. Summing over k ≤ M = n − t, the shift "
            "Σ_(k=1)^M T(k + t) = Σ_(k=t+1)^(M+t) T(k) (sympy `change_index`) ≤ Σ_(k>t) T(k), and Σ_(k=1)^M T(k) = "
            "Σ_(k≥1) T(k) − Σ_(k>M) T(k): cut(t) ≥ E[D] − R(n − t) − R(t) with E[D] = Σ_(k≥1) T(k)/Z (L4, "
            "kernel-tail) (all terms ≥ 0); R decreases, so for T₀ < t < n − T₀ the cut is at least E[D] − 2R(T₀)")


def _families(ctx):
    j, M = sp.symbols("j M", positive=True)
    z = sp.exp(-mrate)  # T(k)/Z = e^{−mk} = z^k; a geometric tail telescopes
    partial = (z ** (j + 1) - z ** (M + 1)) / (1 - z)  # Σ_(k=j+1)^M z^k
    e0 = symbolic_zero(sp.simplify(partial - z * partial - (z ** (j + 1) - z ** (M + 1))),
                       "(1 − z) Σ_(k=j+1)^M z^k = z^(j+1) − z^(M+1)")
    R = sp.limit(partial, M, sp.oo)
    e1 = symbolic_zero(sp.simplify(R - sp.exp(-mrate * (j + 1)) / (1 - sp.exp(-mrate))),
                       "R(j) = e^{−m(j+1)}/(1 − e^{−m}) (M → ∞, z < 1)")
    mean = 1 / (sp.exp(mrate) - 1)
    e2 = symbolic_zero(sp.simplify(R.subs(j, sp.log(n) / mrate) - mean / n), "R(ln n/m) = E[D]/n")
    e3 = symbolic_zero(sp.exp(-mrate) / (1 + sp.exp(-mrate)) - 1 / (sp.exp(mrate) + 1), "κ(1)/(κ(0) + κ(1)) = "
                       "1/(e^m + 1)")
    integral = sp.integrate(x ** (1 - p), (x, sp.Symbol("J", positive=True), sp.oo), conds="none")
    e4 = symbolic_zero(sp.simplify(integral.subs(p, 2 + sp.Symbol("r", positive=True))
                                   - sp.Symbol("J", positive=True) ** (-sp.Symbol("r", positive=True))
                                   / sp.Symbol("r", positive=True)), "∫_J^∞ x^{1−p} dx = J^{2−p}/(p − 2)")
    checked = []
    for mv in (sp.Rational(1, 20), sp.Rational(1, 2), sp.Integer(2)):
        got = laws.exp_constant_floor(mv).expression
        want = sp.Min((1 / (sp.exp(mv) - 1) - 2 / (n * (sp.exp(mv) - 1))) / n,
                      1 / ((sp.exp(mv) + 1) * (2 * sp.log(n) / mv + 3)))
        require(sp.simplify(got - want) == 0 or got == want, f"laws.exp_constant_floor({mv}) = {got}")
        checked.append(f"m = {mv}")
    for pv in (sp.Rational(11, 5), sp.Rational(5, 2), sp.Integer(3)):
        got = laws.power_constant_floor(pv).expression
        E = (sp.zeta(pv - 1) - sp.zeta(pv)) / sp.zeta(pv)
        want = sp.Min((E - 2 * n ** (1 - pv / 2) / ((pv - 1) * (pv - 2) * sp.zeta(pv))) / n,
                      1 / ((2 ** pv + 1) * (2 * sp.sqrt(n) + 3)))
        require(sp.simplify(got - want) == 0 or got == want, f"laws.power_constant_floor({pv}) = {got}")
        checked.append(f"p = {pv}")
    for w_ in (2, 5, 8):
        law = parse_pattern(f"window:w={w_}").capacity_law()
        (b,) = [b for b in law.bounds if b.claim == "L8"]
        E = sp.Rational(w_ - 1, 2)
        start = max(2, int(sp.ceiling(E * (2 * w_ - 1) * 2)))  # uniform band: (κ(0) + κ(1))/κ(1) = 2
        require(b.expression == E / n and b.n_min == start, f"window:w={w_}: {b.expression} from {b.n_min}")
        checked.append(f"window w = {w_}")
    return (f"exp-decay: {e0}; {e1}; {e2}, and T₀ = ⌈ln n/m⌉ ≤ ln n/m + 1, so R(T₀) ≤ E[D]/n and "
            "2T₀ + 1 ≤ 2 ln n/m + 3; "
            f"1 − δ ≥ {e3} (L5). Power law p > 2: T(k)/Z ≤ k^{{1−p}}/((p − 1)ζ(p)) (L7, tail), Σ_(k>J) k^{{1−p}} ≤ "
            f"∫_J^∞ (decreasing terms), {e4}; T₀ = ⌈√n⌉ gives R(T₀) ≤ n^{{1−p/2}}/((p − 1)(p − 2)ζ(p)) and "
            "2T₀ + 1 ≤ 2√n + 3; 1 − δ ≥ 2^{−p}/(1 + 2^{−p}) = 1/(2^p + 1). A band of width w: T(k) = 0 for k ≥ w, so "
            "T₀ = w − 1 gives R = 0 and φ_n ≥ E[D]/n once E[D]/n ≤ (1 − δ)/(2w − 1), i.e. "
            f"n ≥ E[D](2w − 1)(κ(0) + κ(1))/κ(1). theory/laws.py returns these at {', '.join(checked)}")


def _numbers(ctx):
    rng = random.Random(SEED)
    visited, checked = set(), 0
    for size in range(3, 40):
        width = rng.randint(2, 5)
        kappa = [Fraction(rng.randint(1, 6)) for _ in range(width)]
        Z = sum(kappa)
        mean = sum(k * v for k, v in enumerate(kappa)) / Z
        bound = laws.band_constant_floor(sp.Rational(mean.numerator, mean.denominator), width,
                                         sp.Rational(kappa[0].numerator), sp.Rational(kappa[1].numerator))
        for m_ in range(max(2, bound.n_min), bound.n_min + 25):
            rows = [[kappa[r - k] / sum(kappa[: min(r, width - 1) + 1]) if 0 <= r - k < width else Fraction(0)
                     for k in range(m_)] for r in range(m_)]
            phi = exact_prefix_capacity(rows)[0]
            require(phi >= mean / m_, f"band kernel {kappa}, n={m_}: φ = {phi} < E[D]/n = {mean / m_}")
            checked += 1
            visited.add(m_)
    lines = []
    for spec in ("exp-decay:m=0.5", "exp-decay:m=2", "power-law:p=3", "power-law:p=2.5"):
        P = parse_pattern(spec)
        (b,) = [b for b in P.capacity_law().bounds if b.claim == "L8"]
        worst = mpmath.inf
        for m_ in list(range(2, 400)) + [10 ** 3, 10 ** 4, 10 ** 5]:
            land = pattern_prefix_landscape(P, m_)
            got = mpmath.mpf(land.capacity)
            v = b.value(m_)
            require(got * (1 + mpmath.mpf(max(land.capacity_rel_error, 1e-13))) >= v,
                    f"{spec}, n={m_}: φ = {land.capacity} < {mpmath.nstr(v, 12)}")
            if v > 0:
                worst = min(worst, got / v)
            visited.add(m_)
        lines.append(f"{spec}: φ_n/bound ≥ {mpmath.nstr(worst, 5)}")
    return Checked(f"{checked} capacities of random band kernels (exact rationals, n from each start, 25 each): "
                   f"φ_n ≥ E[D]/n; float64 structural capacities n = 2..399, 10³, 10⁴, 10⁵: {'; '.join(lines)}",
                   Region.points("n", sorted(visited)))


CLAIM = Claim(
    id="L8",
    title="summable kernels: the law's constant from below",
    statement=("For a causal kernel with $Z = \\sum \\kappa < \\infty$, tail $T(k) = \\sum_{d \\ge k} \\kappa(d)$, "
               "$E[D] = \\sum_{k \\ge 1} T(k)/Z$, $R(j) = \\sum_{k > j} T(k)/Z$ and every $T_0 \\ge 1$: "
               "$\\varphi_n \\ge \\min((E[D] - 2R(T_0))/n, (1 - \\delta)/(2T_0 + 1))$, $\\delta = \\max_{t \\ge 1} "
               "A_{tt}$. Hence $\\varphi_n \\ge E[D]/n$ for a band of width $w$ from "
               "$n \\ge E[D](2w - 1)(\\kappa(0) + \\kappa(1))/\\kappa(1)$, and for every $n \\ge 2$: "
               "$\\varphi_n \\ge \\min(E[D](n - 2)/n^2, 1/((e^m + 1)(2\\ln n/m + 3)))$ for $e^{-md}$ and "
               "$\\varphi_n \\ge \\min((E[D] - 2n^{1-p/2}/((p - 1)(p - 2)\\zeta(p)))/n, 1/((2^p + 1)(2\\sqrt n + 3)))$ "
               "for $(d + 1)^{-p}$, $p > 2$. With L4 these pin $\\varphi_n \\sim E[D]/n$ from both sides."),
    steps=(
        Step("Edge cuts have a small side; middle cuts have $\\min(\\mathrm{vol}, \\mathrm{comp}) \\le n$.",
             "linear-arithmetic", "Farkas certificates; sympy `diff`", _ranges, scope=EVERY_N, key="ranges"),
        Step("A middle cut carries $E[D] - R(t) - R(n - t)$.", "symbolic", "sympy `summation`; Farkas certificate",
             _middle, scope=EVERY_N, key="middle"),
        Step("The choice of $T_0$ for bands, exp-decay and the power law $p > 2$.", "symbolic",
             "sympy `summation`, `integrate`, `simplify`", _families, scope=EVERY_N, key="families"),
        Step("Exact rationals on random band kernels; float64 capacities of exp-decay and the power law.", "exact",
             "`fractions.Fraction`; float64 structural capacities within their error bound", _numbers,
             scope=Scope(Region.box(n=(2, 399)), "each"), key="numbers", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)
