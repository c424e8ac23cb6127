"""L6 — two-sided reach, global tokens and bidirectional bands: the structural bounds of patterns that are not causal.

L2 rests on C1, which needs a causal matrix. For any row-stochastic ``A`` (causal or not), split the mass at a
prefix cut t (0-based: ``X = {0, …, t − 1}``) into ``a`` (rows of X to keys of X), ``b`` (X to Xᶜ), ``e`` (Xᶜ to
X) and ``f`` (Xᶜ to Xᶜ). Row sums give ``a + b = t`` and ``e + f = n − t``; in the package's convention
(``vol = Σ (r + c)``, total ``2n``) ``cut = b + e``, ``vol = 2t − b + e`` and ``comp = 2(n − t) + b − e``.

**Two-sided reach floor.** If every row ``i ≥ t`` sends at least ``μ_t`` to keys ``j < t`` and every row
``i < t`` sends at least ``ν_t`` to keys ``j ≥ t``, then ``φ(t) ≥ max(μ_t/(2 − μ_t), ν_t/(2 − ν_t))``.

**Global tokens.** For a symmetric band ``|i − j| ≤ h`` plus the first ``g ≥ 1`` tokens global (they attend to
every key and every row attends to them), uniform on each row's support (Longformer), every row outside the
globals gives them at least ``ρ = g/(2h + 1 + g)``: ``φ_n ≥ ρ/(2 − ρ)`` for every
``n ≥ (g − 1)(2h + 1 + g)/(2h + 1)``, and ``φ_n ≤ (ρn/(2 − ρ) + 2g + 2h)/(n − g − h − 2)`` for every
``n ≥ max((g + h)(2 − ρ)/(1 − ρ), g + h + 3)``: the floor ``ρ/(2 − ρ)`` is the limit.

**Bidirectional band** (``g = 0``). The same ceiling is ``2h/(n − h − 2)``; every cut is crossed by at least h
pairs ``|i − j| ≤ h``, so ``A_ij + A_ji ≥ 2δ`` on the band gives ``φ_n ≥ 2hδ/n`` for every ``n ≥ h + 1``
(uniform band: ``δ = 1/(2h + 1)``). The order 1/n is certified for every n.
"""
from __future__ import annotations

import random
from fractions import Fraction

import sympy as sp

from attention_transport.numerics.exact import exact_prefix_landscape
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import laws

n, t, i, j, h, g = sp.symbols("n t i j h g", integer=True)
a, b, e, f, m, mu, nu = sp.symbols("a b e f m mu nu", nonnegative=True)
H, G = sp.symbols("h g", positive=True)
EVERY_N = Scope(Region.box(n=(2, None)), "symbolic")
SEED = 20261207
#: ρ, the share every non-global row gives the globals, and the balance point x_b
RHO = G / (2 * H + 1 + G)
XB = (1 - RHO) / (2 - RHO)
#: the claimed ceiling, in h and g
CEILING = (RHO * laws.n / (2 - RHO) + 2 * G + 2 * H) / (laws.n - G - H - 2)


def _split(ctx):
    T, M = sp.symbols("T M", positive=True)  # t and n − t
    vol, comp = T + a + e, M + b + f  # Σ_(X) r + Σ_(X) c, and the same for Xᶜ
    e1 = symbolic_zero(vol.subs(a, T - b) - (2 * T - b + e), "vol = t + a + e = 2t − b + e (a = t − b)")
    e2 = symbolic_zero(comp.subs(f, M - e) - (2 * M + b - e), "comp = (n − t) + b + f = 2(n − t) + b − e")
    e3 = symbolic_zero(vol.subs(a, T - b) + comp.subs(f, M - e) - 2 * (T + M), "vol + comp = 2n")
    return (f"rows of X send t in all (a + b = t), rows of Xᶜ send n − t (e + f = n − t); the cut counts both "
            f"directions: cut = b + e; {e1}; {e2}; {e3}. All four masses are ≥ 0, so b ≤ t and e ≤ n − t")


def _two_sided(ctx):
    right = (b + e) / (2 * m + b - e)  # cut/comp, m = n − t
    db = sp.simplify(sp.diff(right, b) - 2 * (m - e) / (2 * m + b - e) ** 2)
    de = sp.simplify(sp.diff(right, e) - 2 * (m + b) / (2 * m + b - e) ** 2)
    require(db == 0 and de == 0, f"the slopes of cut/comp: {db}, {de}")
    e1 = symbolic_zero(right.subs({b: 0, e: mu * m}) - mu / (2 - mu), "at b = 0, e = μ(n − t): μ/(2 − μ)")
    left = (b + e) / (2 * t + e - b)  # cut/vol
    db2 = sp.simplify(sp.diff(left, b) - 2 * (t + e) / (2 * t + e - b) ** 2)
    de2 = sp.simplify(sp.diff(left, e) - 2 * (t - b) / (2 * t + e - b) ** 2)
    require(db2 == 0 and de2 == 0, f"the slopes of cut/vol: {db2}, {de2}")
    e2 = symbolic_zero(left.subs({e: 0, b: nu * t}) - nu / (2 - nu), "at e = 0, b = ν t: ν/(2 − ν)")
    return ("φ(t) = cut/min(vol, comp) ≥ cut/comp and ≥ cut/vol. cut/comp = (b + e)/(2(n − t) + b − e) has slope "
            "2(n − t − e)/(…)² ≥ 0 in b and 2(n − t + b)/(…)² > 0 in e; with e ≥ μ_t (n − t) its least value is at "
            f"b = 0: {e1}. cut/vol = (b + e)/(2t + e − b) has slope 2(t + e)/(…)² > 0 in b and 2(t − b)/(…)² ≥ 0 "
            f"in e; with b ≥ ν_t t: {e2}. Hence φ(t) ≥ max(μ_t/(2 − μ_t), ν_t/(2 − ν_t))")


def _globals(ctx):
    eps = sp.Symbol("epsilon", positive=True)
    e1 = symbolic_zero(sp.diff(eps / (2 - eps), eps) - 2 / (2 - eps) ** 2, "d/dε ε/(2 − ε) = 2/(2 − ε)² > 0")
    e2 = infeasible([i, j, t, g], [i >= t, t >= g, j <= g - 1, j >= t], "a global key j < g lies left of a cut "
                    "t ≥ g")
    start = sp.solve(sp.Eq((n - g + 1) / n, RHO.subs(G, g)), n)
    require(len(start) == 1, f"the start of the floor: {start}")
    e3 = symbolic_zero(start[0] - (g - 1) * (2 * H + 1 + g) / (2 * H + 1), "(n − g + 1)/n = ρ at "
                       "n = (g − 1)(2h + 1 + g)/(2h + 1)")
    e4 = symbolic_zero(sp.diff((n - g + 1) / n, n) - (g - 1) / n ** 2, "d/dn (n − g + 1)/n = (g − 1)/n² ≥ 0")
    return ("a non-global row's support is its band (at most 2h + 1 keys) and the g globals, uniform: it gives the "
            f"globals g/|support| ≥ ρ = g/(2h + 1 + g). For t ≥ g: {e2}, so every row i ≥ t sends at least ρ left "
            f"of t: μ_t ≥ ρ and φ(t) ≥ ρ/(2 − ρ) ({e1}). For t < g the rows left of t are global, uniform on n "
            f"keys: ν_t = (n − t)/n ≥ (n − g + 1)/n; {e4}; {e3}: from that n on, ν_t ≥ ρ and φ(t) ≥ ρ/(2 − ρ) "
            "too. (g ≥ n: every row is global and the same bound applies.)")


def _ceiling(ctx):
    e1 = infeasible([i, j, t, h, g], [i >= g, i <= t - h - 1, j >= t, j - i <= h],
                    "a non-global row i ≤ t − h − 1 has no key j ≥ t in its band")
    e2 = infeasible([i, j, t, h, g], [i >= t + h, j <= t - 1, j >= g, i - j <= h],
                    "a row i ≥ t + h reaches left of t only at the globals")
    E, Elo, Ehi = sp.symbols("E E_lo E_hi", nonnegative=True)
    bound = (g + 2 * h + E) / sp.Min(2 * t - g - h + E, 2 * (n - t) - E - h)
    e3 = ("so b ≤ g + h (the g global rows and the h rows t − h, …, t − 1 send at most 1 each across) and "
          "E ≤ e ≤ E + h, E the mass rows i ≥ t give the globals: cut ≤ g + 2h + E, vol ≥ 2t − g − h + E, "
          f"comp ≥ 2(n − t) − E − h, φ(t) ≤ {bound}")
    share = sp.simplify(G - H * (G / (H + 1 + G) - RHO) - G * (1 + G) / (H + 1 + G) - H * RHO)
    e4 = symbolic_zero(share, "g − h(g/(h + 1 + g) − ρ) = g(1 + g)/(h + 1 + g) + hρ > 0")
    e5 = symbolic_zero(RHO + (2 - RHO) * XB - 1, "ρ + (2 − ρ) x_b = 1")
    e6 = symbolic_zero((2 - RHO) * (1 - XB) - 1, "(2 − ρ)(1 − x_b) = 1")
    e7 = symbolic_zero(RHO * (1 - XB) - RHO / (2 - RHO), "ρ(1 − x_b) = ρ/(2 − ρ)")
    for hv, gv in ((8, 2), (32, 1), (4, 4), (255, 1), (7, 0)):
        got = laws.band_global_ceiling(hv, gv)
        require(sp.simplify(got.expression - CEILING.subs({H: hv, G: gv})) == 0,
                f"laws.band_global_ceiling({hv}, {gv}) = {got.expression}, not the derived bound")
        start = max(int(sp.ceiling((gv + hv) / XB.subs({H: hv, G: gv}))), gv + hv + 3)
        require(got.n_min == start, f"laws.band_global_ceiling({hv}, {gv}) starts at {got.n_min}, not {start}")
    return (f"{e1}; {e2}; {e3}. Uniform rows: a row i ≥ t ≥ g + h gives the globals g/(k + g) with k ∈ [h + 1, 2h + 1] "
            f"band keys, exactly ρ unless it is one of the last h rows, so ρ(n − t) ≤ E ≤ ρ(n − t) + g ({e4}). At "
            f"t = ⌈x_b n⌉ (≥ g + h once n ≥ (g + h)/x_b): {e5}, so vol ≥ n − g − h; {e6}, so comp ≥ n − 2 − g − h; "
            f"{e7}, so cut ≤ ρn/(2 − ρ) + 2g + 2h. laws.band_global_ceiling returns this bound and start for "
            "(h, g) = (8, 2), (32, 1), (4, 4), (255, 1), (7, 0)")


def _pairs(ctx):
    d = sp.Symbol("d", integer=True)
    near = [t >= d, i <= t - d, i >= t - d, j <= i + d, j >= i + d]  # d ≤ t: the pair (t − d, t)
    e1 = infeasible([d, t, i, j], near + [j <= t - 1], "for d ≤ t the pair (t − d, t) ends right of the cut")
    e2 = infeasible([d, t, n, i, j], near + [t <= n - 1, j >= n], "and inside, j = t ≤ n − 1")
    e3 = infeasible([d, t, j], [t <= d - 1, j >= d, j <= d, j <= t - 1], "for d > t the pair (0, d) crosses")
    v = sp.Symbol("v", positive=True)
    e4 = infeasible([v, n], [v >= n + 1, 2 * n - v >= n + 1], "min(vol, comp) ≤ n when vol + comp = 2n")
    return (f"for each distance d = 1, …, h (≤ n − 1 when n ≥ h + 1) one pair at distance d crosses the cut: {e1}; "
            f"{e2}; {e3} (d ≤ n − 1 keeps it inside). Distinct distances give distinct pairs, so at least h pairs "
            f"with |i − j| ≤ h cross, each adding A_ij + A_ji ≥ 2δ to the cut; {e4}: φ(t) ≥ cut/n ≥ 2hδ/n. A "
            "uniform band row has at most 2h + 1 keys: δ ≥ 1/(2h + 1)")


def _random_rows(rng, size):
    rows = []
    for _ in range(size):
        weights = [Fraction(rng.choice((0, 0, 1, 2, 5))) for _ in range(size)]
        if not any(weights):
            weights[rng.randrange(size)] = Fraction(1)
        total = sum(weights)
        rows.append([x / total for x in weights])
    return rows


def _exact(ctx):
    rng = random.Random(SEED)
    visited, checked = [], 0
    for size in range(2, 19):
        for _ in range(4):
            A = _random_rows(rng, size)
            land = exact_prefix_landscape(A)
            for tt in range(1, size):
                mu_t = min(sum(A[r][:tt]) for r in range(tt, size))
                nu_t = min(sum(A[r][tt:]) for r in range(tt))
                bound = max(mu_t / (2 - mu_t), nu_t / (2 - nu_t))
                require(land[tt - 1] is not None and land[tt - 1] >= bound,
                        f"n={size}, t={tt}: φ(t) = {land[tt - 1]} < {bound}")
                checked += 1
        visited.append(size)
    families = []
    for w_, g_ in ((2, 1), (4, 2), (6, 3), (8, 1), (2, 8), (3, 0), (8, 0)):
        P = parse_pattern(f"longformer:w={w_},g={g_}")
        law = P.capacity_law()
        for size in range(2, 48):
            phi = min(x for x in exact_prefix_landscape(P.exact_dense(size)) if x is not None)
            for bnd in law.bounds:
                if size < bnd.n_min:
                    continue
                value = sp.Rational(bnd.expression.subs(laws.n, size))
                ok = phi >= Fraction(value.p, value.q) if bnd.side == "lower" else phi <= Fraction(value.p, value.q)
                require(ok, f"longformer:w={w_},g={g_}, n={size}: φ = {phi} breaks {bnd.side} {bnd.expression}")
        families.append(f"(w, g) = ({w_}, {g_})")
    visited += list(range(19, 48))
    return Checked(f"{checked} cuts of random row-stochastic matrices, not causal (exact rationals, n = 2..18): "
                   f"φ(t) ≥ max(μ_t/(2 − μ_t), ν_t/(2 − ν_t)); Longformer's L6 bounds against exact φ_n for "
                   f"n = 2..47 from each bound's start, {', '.join(families)}", Region.points("n", visited))


CLAIM = Claim(
    id="L6",
    title="two-sided reach, global tokens and bidirectional bands",
    statement=("For every row-stochastic $A$, causal or not, and every cut $t$: if every row $i \\ge t$ sends at "
               "least $\\mu_t$ to keys $j < t$ and every row $i < t$ at least $\\nu_t$ to keys $j \\ge t$, then "
               "$\\varphi(t) \\ge \\max(\\mu_t/(2 - \\mu_t), \\nu_t/(2 - \\nu_t))$. For a symmetric band "
               "$|i - j| \\le h$ plus $g \\ge 1$ global tokens, uniform on each row's support (Longformer), with "
               "$\\rho = g/(2h + 1 + g)$: $\\varphi_n \\ge \\rho/(2 - \\rho)$ for every "
               "$n \\ge (g - 1)(2h + 1 + g)/(2h + 1)$ and $\\varphi_n \\le (\\rho n/(2 - \\rho) + 2g + 2h)/"
               "(n - g - h - 2)$ for every $n \\ge \\max((g + h)(2 - \\rho)/(1 - \\rho), g + h + 3)$, so "
               "$\\varphi_n \\to \\rho/(2 - \\rho)$. With $g = 0$ (bidirectional band): "
               "$2h\\delta/n \\le \\varphi_n \\le 2h/(n - h - 2)$, $\\delta$ the least $(A_{ij} + A_{ji})/2$ on the "
               "band ($1/(2h + 1)$ when uniform)."),
    steps=(
        Step("The four masses of a cut: $\\mathrm{cut} = b + e$, $\\mathrm{vol} = 2t - b + e$, "
             "$\\mathrm{comp} = 2(n - t) + b - e$.", "symbolic", "sympy `simplify`", _split,
             scope=EVERY_N, key="split"),
        Step("$\\varphi(t) \\ge \\max(\\mu_t/(2 - \\mu_t), \\nu_t/(2 - \\nu_t))$: each ratio is monotone in $b$ and "
             "$e$.", "symbolic", "sympy `diff` and `simplify`", _two_sided, scope=EVERY_N, key="two-sided"),
        Step("Global tokens give $\\mu_t \\ge \\rho$ for $t \\ge g$ and $\\nu_t \\ge \\rho$ for $t < g$ from the "
             "stated n.", "symbolic", "sympy `solve`, `diff`; Farkas certificate", _globals, scope=EVERY_N,
             key="globals"),
        Step("Band plus globals: the ceiling at $t = \\lceil x_b n \\rceil$, $x_b = (1 - \\rho)/(2 - \\rho)$.",
             "linear-arithmetic", "Farkas certificates for the crossing rows; sympy `simplify` for the balance "
             "point", _ceiling, scope=EVERY_N, key="ceiling"),
        Step("Bidirectional band: at least $h$ crossing pairs, $\\varphi_n \\ge 2h\\delta/n$.", "linear-arithmetic",
             "Farkas certificates", _pairs, scope=EVERY_N, key="pairs"),
        Step("Exact rationals: random matrices that are not causal, and Longformer's bounds against exact "
             "$\\varphi_n$.", "exact", "`fractions.Fraction`, `exact_prefix_landscape`", _exact,
             scope=Scope(Region.box(n=(2, 47)), "each"), key="exact-check", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)
