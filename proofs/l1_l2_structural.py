"""L1 and L2 — structural bounds for every n: what a pattern's support or its reach-back mass certifies.

These are the theorems that certify a pattern nobody wrote a proof for: their hypotheses are facts
about the matrix that can be checked exactly on the given pattern.  Both rest on C1 for causal
row-stochastic A: ``vol(t) = 2t + cut(t)`` and ``comp(t) = 2(n − t) − cut(t)``.

**L1 (band width ceiling).** If ``A_ij = 0`` whenever ``i − j ≥ w`` (0-based), then for every
``n > w``: ``φ_n ≤ (w − 1)/(n − w)``.  Only the rows ``t, …, t + w − 2`` can reach a key left of
t, so ``cut(t) ≤ w − 1``; at ``t = ⌊n/2⌋`` both sides have volume at least ``n − 1 − cut``.

**L2 (reach-back floor).** If every row ``i ≥ t`` sends at least ``μ_t`` of its mass to keys
``j < t``, then ``φ(t) ≥ B_t = max(c/(2t + c), μ_t/(2 − μ_t))``, ``c = μ_t (n − t)``; so
``φ_n ≥ min_t B_t``.  Corollaries proven here: ``μ_t ≥ a t/n`` for all t gives the all-n floor
``a x_c/(2 − a x_c)``, ``a x_c² − (a + 2) x_c + 1 = 0`` (uniform causal: ``a = 1``, ``√5 − 2``;
power law ``p < 1``: ``a = 1 − p``); ``s`` sinks beside a window ``w`` give ``s/(s + 2w)`` for every
``n ≥ s − 1 + s(s + w)/w`` (the lower half of C5s for every n).
"""
from __future__ import annotations

import random
from fractions import Fraction

import sympy as sp

from attention_transport.numerics.exact import exact_prefix_capacity, exact_prefix_landscape
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.structured import pattern_prefix_landscape
from attention_transport.proofs.core import Checked, Claim, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import laws
from attention_transport.theory import sink_window as sw

n, t, w, i, j = sp.symbols("n t w i j", integer=True)
c, mu, a, xs = sp.symbols("c mu a x", positive=True)
EVERY_N = Scope(Region.box(n=(2, None)), "symbolic")
#: the claimed ceiling of L1
CEILING = (w - 1) / (n - w)
SEED = 20261206


# -- L1 ---------------------------------------------------------------------------------------------------------------
def _volume(ctx):
    require(sw.causal_volume_identity() == 0, "vol ≠ 2t + cut")
    return ("C1 with r_k = 1: vol(t) = t + Σ_(k<t) c_k and Σ_(k<t) c_k = t + cut(t) (rows left of t send all their "
            "mass left of t, being causal), so vol = 2t + cut and comp = 2n − vol = 2(n − t) − cut")


def _band_rows(ctx):
    e = infeasible([i, j, t, w], [i >= t + w - 1, j <= t - 1, i - j <= w - 1, w >= 1],
                   "a row i ≥ t + w − 1 has no key j ≤ t − 1 inside the band i − j ≤ w − 1")
    return e + "; the rows t, …, t + w − 2 (w − 1 of them) send at most their row sum 1 each: cut(t) ≤ w − 1"


def _balanced(ctx):
    T, m = sp.symbols("T m", positive=True)  # T = ⌊n/2⌋: 2T ≤ n ≤ 2T + 1; m = n − 1
    e = infeasible([n, T], [2 * T <= n, n <= 2 * T + 1, 2 * T <= n - 2], "2⌊n/2⌋ ≥ n − 1")
    e2 = infeasible([n, T], [2 * T <= n, n <= 2 * T + 1, 2 * (n - T) <= n - 2], "2(n − ⌊n/2⌋) ≥ n − 1")
    f = c / (m - c)
    slope = sp.simplify(sp.diff(f, c) - m / (m - c) ** 2)
    require(slope == 0, f"d/dc c/(m − c) = {sp.diff(f, c)}")
    e3 = symbolic_zero(f.subs({c: w - 1, m: n - 1}) - CEILING, "(w − 1)/((n − 1) − (w − 1)) = (w − 1)/(n − w)")
    return (f"{e}; {e2}; so min(vol, comp) ≥ min(2t, 2(n − t)) − cut ≥ (n − 1) − cut at t = ⌊n/2⌋; φ_n ≤ φ(t) ≤ "
            f"cut/(n − 1 − cut), increasing in cut (d/dc c/(m − c) = m/(m − c)² > 0) for cut ≤ w − 1 < n − 1; {e3}")


def _random_banded(rng, size, width, causal=True):
    rows = []
    for r in range(size):
        keys = [k for k in range(size) if 0 <= r - k < width] if causal else range(size)
        weights = {k: Fraction(rng.randint(0, 6)) for k in keys}
        weights[r] += 1
        total = sum(weights.values())
        rows.append([weights.get(k, Fraction(0)) / total for k in range(size)])
    return rows


def _l1_exact(ctx):
    rng = random.Random(SEED)
    visited, checked = [], 0
    for size in range(3, 26):
        for width in range(1, size):
            A = _random_banded(rng, size, width)
            phi = exact_prefix_capacity(A)[0]
            ceiling = Fraction(str(CEILING.subs({n: size, w: width})))
            require(phi <= ceiling, f"n={size}, w={width}: φ = {phi} > (w − 1)/(n − w) = {ceiling}")
            checked += 1
        visited.append(size)
    worst = []  # the bound's tightness: every row on its farthest key, the diagonal given a tiny share
    for size in (12, 40):
        for width in (2, 4):
            rows = [[Fraction(0)] * size for _ in range(size)]
            for r in range(size):
                far = max(0, r - width + 1)
                rows[r][far] += Fraction(999, 1000)
                rows[r][r] += Fraction(1, 1000)
            phi, ceiling = exact_prefix_capacity(rows)[0], Fraction(str(CEILING.subs({n: size, w: width})))
            require(phi <= ceiling, f"n={size}, w={width}, farthest keys: φ = {phi} > {ceiling}")
            worst.append(f"n={size}, w={width}: φ = {float(phi):.4f} ≤ {float(ceiling):.4f}")
    return Checked(f"{checked} random causal banded matrices (exact rationals), n = 3..25, every w < n: φ_n ≤ "
                   f"(w − 1)/(n − w); mass on the farthest key: {'; '.join(worst)}", Region.points("n", visited))


L1 = Claim(
    id="L1",
    title="band width ceiling",
    statement=("For every causal row-stochastic $A$ with $A_{ij} = 0$ whenever $i - j \\ge w$ and every $n > w$: "
               "$\\varphi_n \\le (w - 1)/(n - w)$. A hypothesis checked exactly on any pattern's support "
               "(`Pattern.bandwidth`); the window (C5) meets it with $(w-1)/(2n)$, half the bound, and a row that "
               "puts its mass on its farthest key comes close to it."),
    steps=(
        Step("C1 for causal row-stochastic $A$: $\\mathrm{vol}(t) = 2t + \\mathrm{cut}(t)$, "
             "$\\mathrm{comp}(t) = 2(n - t) - \\mathrm{cut}(t)$.", "symbolic", "sympy `simplify` (C5s's identity)",
             _volume, scope=EVERY_N, key="volume"),
        Step("Only the rows $t, \\dots, t + w - 2$ reach a key left of $t$: $\\mathrm{cut}(t) \\le w - 1$.",
             "linear-arithmetic", "Farkas certificate of the negation, verified in Fractions", _band_rows,
             scope=EVERY_N, key="band-rows"),
        Step("At $t = \\lfloor n/2 \\rfloor$: $\\min(\\mathrm{vol}, \\mathrm{comp}) \\ge n - 1 - \\mathrm{cut}$, so "
             "$\\varphi_n \\le \\mathrm{cut}/(n - 1 - \\mathrm{cut}) \\le (w - 1)/(n - w)$.", "linear-arithmetic",
             "Farkas certificates for the floor; sympy `diff` for the monotonicity in the cut", _balanced,
             scope=EVERY_N, key="balanced"),
        Step("Exact rationals on random causal banded matrices, and the nearly tight case.", "exact",
             "`fractions.Fraction`, `numerics.exact.exact_prefix_landscape`", _l1_exact,
             scope=Scope(Region.box(n=(3, 25)), "each"), key="random-banded", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)


# -- L2 ---------------------------------------------------------------------------------------------------------------
def _reach_back(ctx):
    A_, B_ = sp.symbols("A B", positive=True)  # 2t and 2(n − t): c ↦ c/(A + c) and c ↦ c/(B − c) increase
    e1 = symbolic_zero(sp.diff(c / (A_ + c), c) - A_ / (A_ + c) ** 2, "d/dc c/(2t + c) = 2t/(2t + c)² > 0")
    e2 = symbolic_zero(sp.diff(c / (B_ - c), c) - B_ / (B_ - c) ** 2, "d/dc c/(2(n − t) − c) = 2(n − t)/(…)² > 0")
    m = sp.Symbol("m", positive=True)  # m = n − t
    e3 = symbolic_zero((mu * m) / (2 * m - mu * m) - mu / (2 - mu), "c₀/(2(n − t) − c₀) = μ/(2 − μ) at c₀ = μ(n − t)")
    return (f"cut(t) ≥ c₀ = μ_t(n − t) (the n − t rows at or after t send at least μ_t each), and cut(t) ≤ n − t, so "
            f"comp ≥ n − t > 0; φ(t) = cut/min(vol, comp) = max(cut/(2t + cut), cut/(2(n − t) − cut)), each "
            f"increasing in the cut: {e1}; {e2}; hence φ(t) ≥ B_t = max(c₀/(2t + c₀), μ/(2 − μ)); {e3}")


def _rate(ctx):
    left = a * (1 - xs) / (2 + a * (1 - xs))  # c₀/(2t + c₀) with μ = a x, divided through by x
    right = a * xs / (2 - a * xs)
    dl = sp.simplify(sp.diff(left, xs) + 2 * a / (2 + a * (1 - xs)) ** 2)
    dr = sp.simplify(sp.diff(right, xs) - 2 * a / (2 - a * xs) ** 2)
    require(dl == 0 and dr == 0, f"the branches' slopes: {dl}, {dr}")
    value, xc = laws.reach_back_floor(a)
    e1 = symbolic_zero(sp.expand(a * xc ** 2 - (a + 2) * xc + 1), "x_c is a root of a x² − (a + 2) x + 1")
    e2 = symbolic_zero(sp.simplify(left.subs(xs, xc) - right.subs(xs, xc)), "the branches cross at x_c")
    e3 = symbolic_zero(sp.simplify(value - right.subs(xs, xc)), "the floor is a x_c/(2 − a x_c)")
    inside = [sp.N(xc.subs(a, av)) for av in (sp.Rational(1, 100), sp.Rational(1, 2), 1)]
    require(all(0 < v < 1 for v in inside), f"x_c outside (0, 1): {inside}")
    e4 = symbolic_zero(value.subs(a, 1) - (sp.sqrt(5) - 2), "a = 1 (uniform causal): √5 − 2")
    return (f"with μ_t ≥ a t/n, x = t/n: B ≥ max(L(x), R(x)), L = a(1 − x)/(2 + a(1 − x)) strictly decreasing "
            f"(L' = −2a/(2 + a(1 − x))²), R = a x/(2 − a x) strictly increasing (R' = 2a/(2 − a x)²), so "
            f"min_x max(L, R) is at their crossing; {e1}; {e2}; {e3}; {e4}; x_c ∈ (0, 1) at a = 1/100, 1/2, 1 "
            "(x_c is continuous and decreasing in a: the same root for all a in (0, 1])")


def _power(ctx):
    q, N, y = sp.symbols("q N y", positive=True)  # q = 1 − p ∈ (0, 1]
    integral = 1 + sp.integrate(y ** (q - 1), (y, 1, N), conds="none")
    e1 = symbolic_zero(N ** q / q - integral - (1 - q) / q, "n^{1−p}/(1 − p) − (1 + ∫_1^n y^{−p} dy) = p/(1 − p) ≥ 0")
    return (f"Z_i = Σ_(k ≤ i+1) k^{{−p}} ≤ Σ_(k ≤ n) k^{{−p}} ≤ 1 + ∫_1^n y^{{−p}} dy (decreasing terms) and {e1}; "
            "row i ≥ t sends to keys j < t the t terms (d + 1)^{−p}, d = i − j ≤ i ≤ n − 1, each ≥ n^{−p}: "
            "μ_t ≥ t n^{−p} (1 − p)/n^{1−p} = (1 − p) t/n, the rate hypothesis with a = 1 − p")


def _sinks(ctx):
    s_, w_, m = sp.symbols("s w m", positive=True)
    eps = s_ / (s_ + w_)
    e1 = symbolic_zero(eps / (2 - eps) - s_ / (s_ + 2 * w_), "μ = s/(s + w) gives μ/(2 − μ) = s/(s + 2w)")
    c0 = t * m / (s_ + w_)  # t < s: the t sink keys left of the cut, each ≥ 1/(s + w); m = n − t
    ratio = sp.simplify(c0 / (2 * t + c0))
    e2 = symbolic_zero(ratio - m / (m + 2 * (s_ + w_)), "c₀/(2t + c₀) = (n − t)/(n − t + 2(s + w))")
    gap = sp.simplify((m / (m + 2 * (s_ + w_)) - s_ / (s_ + 2 * w_)) * (m + 2 * (s_ + w_)) * (s_ + 2 * w_))
    e3 = symbolic_zero(gap - 2 * (w_ * m - s_ * (s_ + w_)),
                       "the excess over s/(s + 2w) has the sign of w(n − t) − s(s + w)")
    start = laws.sink_floor_start()  # in n; the worst cut t = s − 1 leaves m = n − s + 1
    at_start = sp.simplify(gap.subs(m, start - (s_ - 1)))
    require(at_start.is_nonnegative is True or sp.simplify(at_start) == 0,
            f"at n = {start} the excess is {at_start}, not ≥ 0")
    return (f"a row i of sink-window attends to at most s + w keys, uniformly, and to every sink j < min(s, i + 1): "
            f"for t ≥ s it sends ≥ s/(s + w) left of t, for t < s at least t/(s + w). {e1}; for t < s, {e2}; {e3}: "
            "≥ 0 once n − t ≥ s(s + w)/w, i.e. for every t ≤ s − 1 once n ≥ s − 1 + s(s + w)/w")


def _sink_share(ctx):
    s_, m = sp.symbols("s m", positive=True)
    eps = sp.Symbol("epsilon", positive=True)
    c0 = eps * t * m / s_  # t < s: every row i ≥ t gives each of the t sinks left of t at least ε/s; m = n − t
    ratio = sp.simplify(c0 / (2 * t + c0))
    e1 = symbolic_zero(ratio - eps * m / (2 * s_ + eps * m), "c₀/(2t + c₀) = ε(n − t)/(2s + ε(n − t))")
    gap = sp.simplify((ratio - eps / (2 - eps)) * (2 * s_ + eps * m) * (2 - eps) / eps)
    e2 = symbolic_zero(gap - 2 * ((1 - eps) * m - s_), "the excess over ε/(2 − ε) has the sign of (1 − ε)(n − t) − s")
    starts = []
    for sv, wv in ((1, 2), (2, 3), (4, 16), (3, 1)):
        want = int(sp.ceiling(laws.sink_floor_start().subs({sp.Symbol("s", positive=True): sv,
                                                            sp.Symbol("w", positive=True): wv})))
        got = laws.sink_share_start(sv, sp.Rational(sv, sv + wv))
        require(got == max(2, want), f"sink_share_start({sv}, {sv}/{sv + wv}) = {got}, not {max(2, want)}")
        starts.append(f"({sv}, {wv})")
    for sv, ev in ((1, sp.Rational(1, 3)), (4, sp.Rational(2, 25)), (2, sp.Rational(9, 10))):
        got = laws.sink_share_start(sv, ev)
        require(got == max(2, int(sp.ceiling(sv - 1 + sv / (1 - ev)))), f"sink_share_start({sv}, {ev}) = {got}")
    return (f"a sink share (s, ε): for t ≥ s every row i ≥ t sends at least ε left of t, so φ(t) ≥ ε/(2 − ε) (step "
            f"reach-back with μ_t = ε); for t < s at least εt/s: {e1}; {e2}: ≥ 0 for every t ≤ s − 1 once "
            f"n ≥ s − 1 + s/(1 − ε) (laws.sink_share_start; with ε = s/(s + w) it is the sink-window start, checked at "
            f"(s, w) = {', '.join(starts)}). A mixture sends the mixed masses: Σ_k w_k ε_k min(t, s_k)/s_k ≥ "
            "(Σ_k w_k ε_k) min(t, s)/s for s = max s_k; a causal stack keeps every layer's share (the argument of the "
            "step stack-rate with α = ε min(t, s)/s)")


def _stack_rate(ctx):
    k, N = sp.symbols("k N", integer=True, nonnegative=True)
    b, xm = sp.IndexedBase("b", nonnegative=True), sp.IndexedBase("x")
    alpha = sp.Symbol("alpha", positive=True)
    lhs = sp.Sum(b[k] * xm[k], (k, 0, N)) - alpha * sp.Sum(b[k], (k, 0, N))
    rhs = sp.Sum(sp.expand(b[k] * (xm[k] - alpha)), (k, 0, N))
    require(sp.simplify(rhs.expand() - lhs.expand()) == 0, "Σ b_k x_k − α Σ b_k ≠ Σ b_k (x_k − α)")
    return ("the mass a product row sends left of t is linear in the rows it mixes: (B X)_i(<t) = Σ_k B_ik X_k(<t), "
            "and "
            "Σ_k b_k x_k − α = Σ_k b_k (x_k − α) when Σ b_k = 1 (sympy, for every number of rows), ≥ 0 when every "
            "x_k ≥ α: a later layer B keeps μ_t ≥ α. An earlier causal row-stochastic product C sends rows r < t "
            "wholly left of t, so (L C)_m(<t) = Σ_r L_mr C_r(<t) ≥ Σ_(r<t) L_mr: the layer L keeps its own rate. "
            "Hence a causal stack has every layer's reach-back rate; one uniform-causal layer anywhere gives √5 − 2. "
            "A mixture Σ w_k A_k sends Σ w_k of its parts' masses: rate Σ w_k a_k (the same identity with b = w)")


def _exact_mu(A, size):
    """μ_t = min_{i ≥ t} Σ_{j < t} A_ij for t = 1..n−1 (exact)."""
    prefix = [[Fraction(0)] * (size + 1) for _ in range(size)]
    for r in range(size):
        for k in range(size):
            prefix[r][k + 1] = prefix[r][k] + A[r][k]
    return [min(prefix[r][tt] for r in range(tt, size)) for tt in range(1, size)]


def _l2_exact(ctx):
    rng = random.Random(SEED + 1)
    visited, checked = [], 0
    for size in range(2, 23):
        for _ in range(3):
            A = _random_banded(rng, size, size)
            land = exact_prefix_landscape(A)
            for tt, m_ in enumerate(_exact_mu(A, size), start=1):
                c0 = m_ * (size - tt)
                bound = max(c0 / (2 * tt + c0), m_ / (2 - m_))
                require(land[tt - 1] >= bound, f"n={size}, t={tt}: φ(t) = {land[tt - 1]} < B_t = {bound}")
                checked += 1
        visited.append(size)
    floors = []
    for spec, floor in (("uniform-causal", sp.sqrt(5) - 2), ("power-law:p=0.5", laws.reach_back_floor(
            sp.Rational(1, 2))[0])):
        P = parse_pattern(spec)
        low = min(pattern_prefix_landscape(P, m_).capacity for m_ in range(2, 400))
        require(low >= float(floor), f"{spec}: φ_n = {low} < {float(floor)}")
        floors.append(f"{spec}: min over n = 2..399 of φ_n = {low:.4f} ≥ {float(floor):.4f}")
    stacks = []
    for spec in ("stack(window:w=3, uniform-causal)", "stack(uniform-causal, window:w=2, window:w=3)",
                 "stack(window:w=2, uniform-causal, window:w=4)", "mix(window:w=3@1/2, uniform-causal@1/2)"):
        P = parse_pattern(spec)
        a = Fraction(str(P.reach_back_rate()))
        require(a == (Fraction(1, 2) if spec.startswith("mix") else 1), f"{spec}: rate {a}")
        for m_ in range(2, 26):
            for tt, m_t in enumerate(_exact_mu(P.exact_dense(m_), m_), start=1):
                require(m_t >= a * Fraction(tt, m_), f"{spec}, n={m_}, t={tt}: μ_t = {m_t} < a t/n")
        stacks.append(spec)
    sinks = []
    for s_, w_ in ((1, 2), (2, 3), (4, 16), (3, 1)):
        n0 = int(sp.ceiling(laws.sink_floor_start().subs({sp.Symbol("s", positive=True): s_,
                                                          sp.Symbol("w", positive=True): w_})))
        P = parse_pattern(f"sink-window:s={s_},w={w_}")
        for m_ in range(max(2, n0), 70):
            phi = exact_prefix_capacity(P.exact_dense(m_))[0]
            require(phi >= Fraction(s_, s_ + 2 * w_), f"sink-window s={s_}, w={w_}, n={m_}: φ = {phi} < s/(s + 2w)")
        sinks.append(f"(s, w) = ({s_}, {w_}) from n = {max(2, n0)}")
    shared = []
    for spec in ("mix(window:w=3@1/2, sink-window:s=2,w=2@1/2)", "stack(window:w=2, sink-window:s=1,w=3)",
                 "mix(window:w=4@3/4, sink-window:s=3,w=1@1/4)", "stack(sink-window:s=2,w=4, window:w=3)"):
        P = parse_pattern(spec)
        floor = laws.sink_share_floor(*P.sink_share())
        for m_ in range(floor.n_min, 60):
            phi = exact_prefix_capacity(P.exact_dense(m_))[0]
            require(phi >= Fraction(str(floor.expression)), f"{spec}, n={m_}: φ = {phi} < {floor.expression}")
        shared.append(f"{spec} from n = {floor.n_min}")
    return Checked(f"{checked} cuts of random causal row-stochastic matrices (exact rationals, n = 2..22): φ(t) ≥ B_t; "
                   f"{'; '.join(floors)} (float64); sink-window φ_n ≥ s/(s + 2w) exactly for n < 70, "
                   f"{', '.join(sinks)}; stacks keep the rate, n = 2..25: {', '.join(stacks)}; sink shares of "
                   f"mixtures and stacks, exactly to n = 59: {'; '.join(shared)}",
                   Region.points("n", visited))


L2 = Claim(
    id="L2",
    title="reach-back floor",
    statement=("For every causal row-stochastic $A$ and every cut $t$: if each row $i \\ge t$ sends at least $\\mu_t$ "
               "of its mass to keys $j < t$, then $\\varphi(t) \\ge \\max(c_0/(2t + c_0), \\mu_t/(2 - \\mu_t))$ with "
               "$c_0 = \\mu_t (n - t)$. Hence: $\\mu_t \\ge a t/n$ for all $t$ gives "
               "$\\varphi_n \\ge a x_c/(2 - a x_c)$ "
               "for every $n$, $a x_c^2 - (a + 2)x_c + 1 = 0$ (uniform causal $\\sqrt 5 - 2$; power law $p < 1$ "
               "with $a = 1 - p$); a causal stack keeps every layer's rate, so one uniform-causal layer anywhere in a "
               "stack "
               "gives $\\varphi_n \\ge \\sqrt 5 - 2$ for every $n$; $s$ sinks beside a window $w$ give "
               "$\\varphi_n \\ge s/(s + 2w)$ for every $n \\ge s - 1 + s(s + w)/w$; more generally, if every row "
               "$i \\ge t$ gives each of $s$ sink keys at least $\\varepsilon/s$ (a sink share), "
               "$\\varphi_n \\ge \\varepsilon/(2 - \\varepsilon)$ for every $n \\ge s - 1 + s/(1 - \\varepsilon)$, "
               "and mixtures (weighted shares) and causal stacks (a layer's share) keep it."),
    steps=(
        Step("$\\varphi(t) \\ge B_t$: the cut is at least $c_0$, and $\\varphi(t)$ increases in the cut on both "
             "branches.", "symbolic", "sympy `diff` and `simplify`", _reach_back, scope=EVERY_N, key="reach-back"),
        Step("A rate $\\mu_t \\ge a t/n$ gives the floor $a x_c/(2 - a x_c)$ at the crossing of the two branches.",
             "symbolic", "sympy `diff`, `simplify`; the root located at three values of a", _rate, scope=EVERY_N,
             key="rate"),
        Step("Power law $p < 1$: $\\mu_t \\ge (1 - p) t/n$.", "symbolic", "sympy `integrate` (integral comparison)",
             _power, scope=EVERY_N, key="power"),
        Step("Stacks and mixtures: a causal product of row-stochastic layers keeps every layer's reach-back rate; a "
             "mixture has the weighted rate.", "symbolic",
             "sympy `Sum` identity for any number of rows", _stack_rate, scope=EVERY_N, key="stack-rate"),
        Step("Sink-window: $\\mu_t \\ge \\min(t, s)/(s + w)$, and the floor $s/(s + 2w)$ from "
             "$n \\ge s - 1 + s(s + w)/w$.", "symbolic", "sympy `simplify`", _sinks, scope=EVERY_N, key="sinks"),
        Step("Any sink share $(s, \\varepsilon)$: the floor $\\varepsilon/(2 - \\varepsilon)$ from "
             "$n \\ge s - 1 + s/(1 - \\varepsilon)$; mixtures and stacks keep shares.", "symbolic",
             "sympy `simplify`", _sink_share, scope=EVERY_N, key="sink-share"),
        Step("Exact rationals: $\\varphi(t) \\ge B_t$ on random causal matrices; the floors against computed "
             "$\\varphi_n$.",
             "exact", "`fractions.Fraction`, `exact_prefix_landscape`; float64 structural capacities", _l2_exact,
             scope=Scope(Region.box(n=(2, 22)), "each"), key="exact-check", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)


# -- L4 ---------------------------------------------------------------------------------------------------------------
#: the claimed ceiling of L4, in the reach-back sum R = Σ_(D ≥ 1) τ(D)
R = sp.Symbol("R", positive=True)
TAIL_CEILING = R / (n - 1 - R)


def _tail_rows(ctx):
    e = infeasible([i, j, t], [i >= t, j <= t - 1, i - j <= i - t], "a key j ≤ t − 1 of row i ≥ t is at distance "
                   "i − j ≥ i − t + 1")
    e2 = infeasible([i, j, t], [i >= t, i - j >= i - t + 1, j >= t], "a key at distance ≥ i − t + 1 from row i lies "
                    "left of t")
    return (f"{e}; {e2}: row i ≥ t sends left of t exactly its mass at distance ≥ i − t + 1 ≤ τ(i − t + 1), so "
            "cut(t) ≤ Σ_(k=1)^(n−t) τ(k) ≤ R")


def _tail_balanced(ctx):
    m = sp.Symbol("m", positive=True)
    require(sp.simplify(sp.diff(c / (m - c), c) - m / (m - c) ** 2) == 0, "c/(m − c) is not increasing")
    e = symbolic_zero((c / (m - c)).subs({c: R, m: n - 1}) - TAIL_CEILING, "R/((n − 1) − R)")
    return (f"as in L1 (step balanced): at t = ⌊n/2⌋, φ_n ≤ cut/(n − 1 − cut), increasing in the cut, and cut ≤ R "
            f"< n − 1: {e}")


def _kernel_tail(ctx):
    K, Ki, Z = sp.symbols("K K_i Z", positive=True)  # K = K_{D−1} ≤ K_i ≤ Z
    gap = sp.simplify((Z - K) / Z - (Ki - K) / Ki)
    e1 = symbolic_zero(gap - K * (Z - Ki) / (Z * Ki), "(Z − K)/Z − (K_i − K)/K_i = K(Z − K_i)/(Z K_i) ≥ 0")
    D_, dd = sp.symbols("D d", integer=True, positive=True)
    e2 = symbolic_zero(sp.summation(1, (D_, 1, dd)) - dd, "Σ_(D=1)^(d) 1 = d")
    return (f"a Toeplitz row i sends the fraction (K_i − K_(D−1))/K_i of its mass at distance ≥ D, K_m = Σ_(d≤m) κ(d); "
            f"{e1}, so τ(D) = Σ_(d≥D) κ(d)/Z with Z = Σ κ < ∞; exchanging the sums over 1 ≤ D ≤ d (nonnegative "
            f"terms), {e2}: R = Σ_(D≥1) τ(D) = Σ_d d κ(d)/Z = E[D]")


def _l4_exact(ctx):
    rng = random.Random(SEED + 2)
    visited, checked = [], 0
    for size in range(3, 30):
        for _ in range(2):
            kappa = [Fraction(rng.randint(1, 9), rng.randint(1, 3) ** k) for k in range(size)]
            rows = [[kappa[r - k] / sum(kappa[: r + 1]) if k <= r else Fraction(0) for k in range(size)]
                    for r in range(size)]
            Z = sum(kappa)  # the kernel is zero beyond size − 1: Σ κ is finite
            mean = sum(k * v for k, v in enumerate(kappa)) / Z
            if size - 1 - mean <= 0:
                continue
            bound = Fraction(str(TAIL_CEILING.subs({R: sp.Rational(mean.numerator, mean.denominator), n: size})))
            phi = exact_prefix_capacity(rows)[0]
            require(phi <= bound, f"n={size}: φ = {phi} > E[D]/(n − 1 − E[D]) = {bound}")
            checked += 1
        visited.append(size)
    law = parse_pattern("exp-decay:m=0.5").capacity_law()
    bound = law.bounds[0]
    for m_ in (10, 100, 10 ** 4, 10 ** 6):
        got = pattern_prefix_landscape(parse_pattern("exp-decay:m=0.5"), m_).capacity
        require(got <= float(bound.value(m_)), f"exp-decay:m=0.5, n={m_}: φ = {got} > {bound.expression}")
    return Checked(f"{checked} random decreasing-weight Toeplitz kernels (exact rationals, n = 3..29): φ_n ≤ "
                   "E[D]/(n − 1 − E[D]); exp-decay:m=0.5 below its ceiling at n = 10, 10², 10⁴, 10⁶ (float64)",
                   Region.points("n", visited))


L4 = Claim(
    id="L4",
    title="reach-back ceiling",
    statement=("For every causal row-stochastic $A$ whose rows send at most $\\tau(D)$ of their mass at distance "
               "$i - j \\ge D$: $\\varphi_n \\le R/(n - 1 - R)$ with $R = \\sum_{D \\ge 1} \\tau(D)$, for every "
               "$n > R + 1$. For a causal kernel with $\\sum \\kappa < \\infty$, $\\tau(D)$ is the kernel's tail "
               "fraction and $R = E[D]$: $\\varphi_n \\le E[D]/(n - 1 - E[D])$, which has the law's leading term "
               "(exp-decay, the power law $p > 2$, every band). L1 is the case $\\tau = 1$ below $w$."),
    steps=(
        Step("C1 for causal row-stochastic $A$.", "symbolic", "sympy `simplify` (C5s's identity)", _volume,
             scope=EVERY_N, key="volume"),
        Step("Row $i \\ge t$ sends left of $t$ exactly its mass at distance $\\ge i - t + 1$: "
             "$\\mathrm{cut}(t) \\le R$.", "linear-arithmetic", "Farkas certificates, both inclusions",
             _tail_rows, scope=EVERY_N, key="tail-rows"),
        Step("At $t = \\lfloor n/2 \\rfloor$: $\\varphi_n \\le R/(n - 1 - R)$.", "symbolic",
             "sympy `diff`, `simplify` (the floor of n/2 as in L1)", _tail_balanced, scope=EVERY_N,
             key="tail-balanced"),
        Step("A Toeplitz kernel's truncated rows send at most its tail fraction far, and the tail fractions sum "
             "to $E[D]$.", "symbolic", "sympy `simplify`, `summation`", _kernel_tail, scope=EVERY_N,
             key="kernel-tail"),
        Step("Exact rationals on random kernels; exp-decay against its ceiling.", "exact",
             "`fractions.Fraction`; float64 structural capacities", _l4_exact,
             scope=Scope(Region.box(n=(3, 29)), "each"), key="kernels", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)


# -- L5 ---------------------------------------------------------------------------------------------------------------
#: the claimed floor of L5, in δ = max_(1 ≤ t ≤ n−1) A_tt
delta = sp.Symbol("delta", nonnegative=True)
DIAGONAL_FLOOR = (1 - delta) / n


def _diag_cut(ctx):
    e = infeasible([j, t], [j <= t - 1, j >= t], "a key j ≤ t − 1 is not t")
    return (f"row t (0-based, 1 ≤ t ≤ n − 1) lies right of the cut and, being causal, puts its mass on j ≤ t; {e}: "
            "all but A_tt of it crosses, so cut(t) ≥ 1 − A_tt ≥ 1 − δ")


def _diag_volume(ctx):
    v = sp.Symbol("v", positive=True)
    e = symbolic_zero(sp.Min(v, 2 * n - v).subs(v, n) - n, "min(vol, 2n − vol) at vol = n is n")
    e2 = infeasible([v, n], [v >= n + 1, 2 * n - v >= n + 1], "min(vol, comp) ≤ n when vol + comp = 2n")
    e3 = symbolic_zero(((1 - delta) / n) - DIAGONAL_FLOOR, "cut/n ≥ (1 − δ)/n")
    return (f"the total volume of a row-stochastic A is 2n, so {e2} ({e}); φ(t) = cut/min(vol, comp) ≥ cut/n; "
            f"{e3}")


def _diag_kernel(ctx):
    k0, k1, Kt = sp.symbols("kappa0 kappa1 K_t", positive=True)
    gap = sp.simplify((1 - k0 / Kt) - (1 - k0 / (k0 + k1)))
    e = symbolic_zero(gap - k0 * (Kt - k0 - k1) / (Kt * (k0 + k1)), "(1 − κ₀/K_t) − (1 − κ₀/(κ₀ + κ₁)) = "
                      "κ₀(K_t − κ₀ − κ₁)/(K_t(κ₀ + κ₁)) ≥ 0")
    return (f"a causal Toeplitz row t ≥ 1 has A_tt = κ(0)/K_t with K_t = Σ_(d≤t) κ(d) ≥ κ(0) + κ(1); {e}: "
            "1 − δ ≥ κ(1)/(κ(0) + κ(1))")


def _l5_exact(ctx):
    rng = random.Random(SEED + 3)
    visited, checked = [], 0
    for size in range(2, 30):
        for _ in range(3):
            A = _random_banded(rng, size, rng.randint(1, size))
            top = max(A[r][r] for r in range(1, size))
            floor = Fraction(str(DIAGONAL_FLOOR.subs({delta: sp.Rational(top.numerator, top.denominator), n: size})))
            phi = exact_prefix_capacity(A)[0]
            require(phi >= floor, f"n={size}: φ = {phi} < (1 − δ)/n = {floor}")
            checked += 1
        visited.append(size)
    return Checked(f"{checked} random causal row-stochastic matrices (exact rationals, n = 2..29): φ_n ≥ (1 − δ)/n",
                   Region.points("n", visited))


L5 = Claim(
    id="L5",
    title="diagonal floor",
    statement=("For every causal row-stochastic $A$ and every $n \\ge 2$: $\\varphi_n \\ge (1 - \\delta)/n$ with "
               "$\\delta = \\max_{1 \\le t \\le n-1} A_{tt}$. For a causal kernel, "
               "$1 - \\delta \\ge \\kappa(1)/(\\kappa(0) "
               "+ \\kappa(1))$: with L4 this pins $\\varphi_n = \\Theta(1/n)$ for every summable kernel, for every $n$ "
               "(exp-decay: $1/((e^m + 1)n) \\le \\varphi_n \\le E[D]/(n - 1 - E[D])$)."),
    steps=(
        Step("Row $t$ sends all but $A_{tt}$ of its mass left of $t$: $\\mathrm{cut}(t) \\ge 1 - \\delta$.",
             "linear-arithmetic", "Farkas certificate", _diag_cut, scope=EVERY_N, key="diagonal-cut"),
        Step("$\\min(\\mathrm{vol}, \\mathrm{comp}) \\le n$, so $\\varphi(t) \\ge \\mathrm{cut}(t)/n$.",
             "linear-arithmetic", "Farkas certificate; sympy `simplify`", _diag_volume, scope=EVERY_N,
             key="half-volume"),
        Step("A causal kernel's diagonal: $1 - \\delta \\ge \\kappa(1)/(\\kappa(0) + \\kappa(1))$.", "symbolic",
             "sympy `simplify`", _diag_kernel, scope=EVERY_N, key="kernel-diagonal"),
        Step("Exact rationals on random causal matrices.", "exact", "`fractions.Fraction`", _l5_exact,
             scope=Scope(Region.box(n=(2, 29)), "each"), key="random", role="check"),
    ),
    domain=Region.box(n=(2, None)),
)
