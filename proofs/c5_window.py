"""C5 — window attention pierces the floor: capacity O(w/n)."""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

from attention_transport.numerics.exact import exact_bipartite_minimum, exact_prefix_landscape
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.proofs.core import Case, Checked, Claim, Part, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import window as wd

H = sp.harmonic
W_MAX, N_MAX = 12, 64
#: symbolic in w and n (each step states where on the (w, n) plane its formula applies)
EVERY = Region.box(n=(2, None), w=(1, None))
SYMBOLIC = Scope(EVERY, "symbolic")


def _integer_region():
    """(w, n) with 2 ≤ w ≤ W_MAX and 5(w − 1)/2 ≤ n ≤ N_MAX: where the integer minimum is checked."""
    return Region.points(("w", "n"), [(w, n) for w in range(2, W_MAX + 1)
                                      for n in range(max(2, -(-5 * (w - 1) // 2)), N_MAX + 1)])


THRESHOLD_W = 24


BIP_W, BIP_N = 8, 40


def _bipartite_region():
    """(w, n) with 2 ≤ w ≤ 8 and N_b(w) ≤ n ≤ 40: where the bipartite formula is checked."""
    return Region.points(("w", "n"), [(w, n) for w in range(2, BIP_W + 1)
                                      for n in range(max(2, wd.bipartite_threshold(w)), BIP_N + 1)])


def _columns(ctx):
    e = [symbolic_zero(wd.column_sum_plateau() - 1, "plateau c_j = 1"),
         symbolic_zero(wd.column_sum_left() - (H(wd.w - 1) - H(wd.j - 1) + wd.j / wd.w), "left c_j"),
         symbolic_zero(wd.column_sum_right() - (wd.n - wd.j + 1) / wd.w, "right c_j")]
    for w in range(1, 9):
        for n in range(2, 30):
            A = parse_pattern(f"window:w={w}").exact_dense(n)
            for jj in range(1, n + 1):
                c = sum(A[a][jj - 1] for a in range(n))
                if jj < w:
                    f = wd.column_sum_left()
                elif jj <= n - w + 1:
                    f = wd.column_sum_plateau()
                else:
                    f = wd.column_sum_right()
                if jj < w and jj > n - w + 1:
                    continue  # short matrices (n < 2w − 1): both boundary pieces apply at once
                val = f.subs({wd.w: w, wd.j: jj, wd.n: n})
                require(Fraction(str(val)) == c, f"c_{jj} at n={n}, w={w}: {val} ≠ {c}")
    return "; ".join(e) + "; exact against the matrix for w ≤ 8, n < 30"


def _plateau(ctx):
    e1 = symbolic_zero(wd.plateau_cut() - (wd.w - 1) / 2, "cut = (w − 1)/2")
    e2 = symbolic_zero(wd.plateau_volume() - (2 * wd.t + (wd.w - 1) / 2), "vol = 2t + (w − 1)/2")
    return f"{e1}; {e2} (c_k = 1 on the plateau, so the cut stays at Σ_(k<w) (c_k − 1))"


def _real(ctx):
    tb, phi = wd.real_minimum()
    e1 = symbolic_zero(tb - (wd.n / 2 - (wd.w - 1) / 4), "balance t = n/2 − (w − 1)/4")
    e2 = symbolic_zero(phi - (wd.w - 1) / (2 * wd.n), "φ_min = (w − 1)/(2n)")
    return f"{e1}; {e2}; below the balance φ = cut/vol decreases, above it cut/(2n − vol) increases"


def _tails(ctx):
    m, w = wd.m, wd.w
    phi = wd.right_tail_landscape()
    e1 = symbolic_zero(phi - (2 * w - 1 - m) / (2 * w + 1 + m), "right tail φ(m)")
    e2 = symbolic_zero(sp.diff(phi, m) + 4 * w / (2 * w + 1 + m) ** 2, "dφ/dm = −4w/(2w + 1 + m)² < 0")
    require(sp.simplify(phi.subs(m, w - 1) - sp.Rational(1, 3)) == 0, "φ(w − 1) ≠ 1/3")
    k = sp.Symbol("k", integer=True, positive=True)
    ck = wd.column_sum_left().subs(wd.j, k)
    e3 = symbolic_zero(ck - ck.subs(k, k + 1) - (1 / k - 1 / w), "c_k − c_(k+1) = 1/k − 1/w ≥ 0 for k < w")
    total = sp.simplify(wd.plateau_cut() + (w - 1))
    e4 = symbolic_zero(total - sp.Rational(3, 2) * (w - 1), "Σ_(k<w) c_k = 3(w − 1)/2")
    return (f"{e1}; {e2}; φ(w − 1) = 1/3, so the right tail has φ ≥ 1/3; {e3}; {e4}: prefix averages of a "
            "decreasing sequence are ≥ 3/2, so 5 cut ≥ vol and φ ≥ 1/5 left of the plateau")


def _integer_proof(ctx):
    n, w, t, v = sp.symbols("n w t v", integer=True)
    vv = sp.Symbol("V", real=True)
    N = sp.Symbol("N", positive=True)
    # min(V, 2N − V) = N − |V − N| on both sides of the balance
    e = [symbolic_zero(sp.Min(vv, 2 * N - vv).subs(vv, N - sp.Symbol("d", nonnegative=True))
                       - (N - sp.Abs(-sp.Symbol("d", nonnegative=True))), "V ≤ N: min(V, 2N − V) = N − |V − N|"),
         symbolic_zero(sp.Min(vv, 2 * N - vv).subs(vv, N + sp.Symbol("d", nonnegative=True))
                       - (N - sp.Abs(sp.Symbol("d", nonnegative=True))), "V ≥ N: min(V, 2N − V) = N − |V − N|")]
    m = n - (w - 1) / sp.Integer(2)
    e.append(symbolic_zero((wd.plateau_volume() - wd.n).subs({wd.t: t, wd.n: n, wd.w: w}) - (2 * t - m),
                           "on the plateau vol − n = 2t − m, m = n − (w − 1)/2"))
    # the integer t* with |2t* − m| = δ ≤ 1 lies on the plateau w − 1 ≤ t* ≤ n − w + 1 whenever 2n ≥ 5(w − 1)
    # (4t* ≥ 2m − 2 = 2n − w − 1 and 4t* ≤ 2m + 2 = 2n − w + 3, in integers)
    hyp = [w >= 2, 2 * n >= 5 * w - 5, 4 * t >= 2 * n - w - 1, 4 * t <= 2 * n - w + 3]
    e.append(infeasible([n, w, t], hyp + [t <= w - 2], "t* ≥ w − 1"))
    e.append(infeasible([n, w, t], hyp + [t >= n - w + 2], "t* ≤ n − w + 1"))
    # so the plateau's minimum is (w − 1)/(2(n − δ)); it is ≤ 1/5 iff n − δ ≥ 5(w − 1)/2, and off the plateau φ ≥ 1/5
    d = sp.Symbol("delta", nonnegative=True)
    value = (w - 1) / (2 * (n - d))
    e.append(symbolic_zero(sp.factor(sp.Rational(1, 5) - value) - (2 * (n - d) - 5 * (w - 1)) / (10 * (n - d)),
                           "1/5 − (w − 1)/(2(n − δ)) = (2(n − δ) − 5(w − 1))/(10(n − δ))"))
    return "; ".join(e) + ("; with the tails (φ ≥ 1/5 left of the plateau, ≥ 1/3 right of it) the plateau's minimum "
                           "is the capacity whenever it is ≤ 1/5")


def _piercing_proof(ctx):
    n, k = sp.symbols("n k", integer=True)
    # w = 2k: δ = 1/2 (m is a half-integer); n − 1/2 > 5(w − 1)/2 iff n ≥ 5k − 1 = ⌊5(w − 1)/2⌋ + 2
    e = [infeasible([n, k], [k >= 1, n >= 5 * k - 1, 2 * n - 1 <= 5 * (2 * k - 1)], "w = 2k, n ≥ 5k − 1 ⇒ "
                    "n − 1/2 > 5(w − 1)/2"),
         infeasible([n, k], [k >= 1, n <= 5 * k - 2, 2 * n - 1 >= 5 * (2 * k - 1) + 1], "w = 2k, n ≤ 5k − 2 ⇒ "
                    "n − 1/2 ≤ 5(w − 1)/2")]
    # w = 2k + 1: δ ∈ {0, 1} as m = n − k is even or odd; n − δ ≥ n − 1 > 5k for n ≥ 5k + 2; at n = 5k + 1, m = 4k + 1
    # is odd, δ = 1 and n − δ = 5k: φ = 1/5 exactly
    e.append(infeasible([n, k], [k >= 1, n >= 5 * k + 2, n - 1 <= 5 * k], "w = 2k + 1, n ≥ 5k + 2 ⇒ n − δ > 5k"))
    e.append(symbolic_zero(sp.floor(sp.Rational(5, 2) * (2 * k - 1)) + 2 - (5 * k - 1),
                           "w = 2k: ⌊5(w − 1)/2⌋ + 2 = 5k − 1"))
    e.append(symbolic_zero(sp.floor(sp.Rational(5, 2) * (2 * k)) + 2 - (5 * k + 2),
                           "w = 2k + 1: ⌊5(w − 1)/2⌋ + 2 = 5k + 2"))
    for w_ in range(2, 200):  # theory.window.first_piercing_n, the function C5's numbers come from
        k_ = w_ // 2
        require(wd.first_piercing_n(w_) == (5 * k_ - 1 if w_ % 2 == 0 else 5 * k_ + 2), f"w = {w_}")
    return "; ".join(e) + ("; so with the integer minimum every n ≥ ⌊5(w − 1)/2⌋ + 2 has φ < 1/5, and for odd w the "
                           "n before it has φ = 1/5 exactly")


def _integer(ctx):
    count, visited = 0, []
    for w in range(2, W_MAX + 1):
        for n in range(-(-5 * (w - 1) // 2), N_MAX + 1):
            if n < 2:
                continue
            land = exact_prefix_landscape(parse_pattern(f"window:w={w}").exact_dense(n))
            got = min(v for v in land if v is not None)
            require(got == wd.integer_minimum(n, w), f"n={n}, w={w}: min {got} ≠ {wd.integer_minimum(n, w)}")
            count += 1
            visited.append((w, n))
    return Checked(f"(w − 1)/(2(n − δ)) equals the exact minimum over every t in {count} cases (w ≤ {W_MAX}, "
                   f"n ≤ {N_MAX})", Region.points(("w", "n"), visited))


def _threshold(ctx):
    visited = []
    for w in range(2, THRESHOLD_W + 1):
        first = wd.first_piercing_n(w)
        for n in range(2, first + 1):
            land = exact_prefix_landscape(parse_pattern(f"window:w={w}").exact_dense(n))
            below = min(v for v in land if v is not None) < Fraction(1, 5)
            require(below == (n == first), f"w={w}, n={n}: below = {below}, first = {first}")
        visited.append(w)
    # for n ≥ 5(w−1)/2 the integer minimum is < 1/5 iff n − δ > 5(w − 1)/2; the formula follows by parity
    return Checked(f"the first n with φ < 1/5 is ⌊5(w − 1)/2⌋ + 2, exact for every w ≤ {THRESHOLD_W} and every n "
                   "up to it; at n = 5(w − 1)/2 + 1/2 (w even) φ = 1/5 exactly", Region.points("w", visited))


def _bipartite_cut(ctx):
    w, m = wd.w, wd.m
    e1 = symbolic_zero(wd.bipartite_block_sum() - (sp.Symbol("a", integer=True, positive=True) + m
                                                  - m * (m + 1) / (2 * w)), "M(a + m, a) = a + m − m(m+1)/(2w)")
    cut = wd.bipartite_cut()
    e2 = symbolic_zero(cut - ((w - 1) / 2 - m + m * (m + 1) / w), "cut = (w − 1)/2 − m + m(m+1)/w")
    e3 = symbolic_zero(sp.diff(cut, m, 2) - 2 / w, "∂²cut/∂m² = 2/w > 0")
    e4 = symbolic_zero(sp.solve(sp.diff(cut, m), m)[0] - (w - 1) / 2, "vertex m = (w − 1)/2")
    for w_ in range(1, 40):
        want = Fraction(w_ * w_ - 1, 4 * w_) if w_ % 2 else Fraction(w_, 4)
        require(wd.bipartite_cut_minimum(w_) == want, f"w = {w_}: {wd.bipartite_cut_minimum(w_)} ≠ {want}")
    return "; ".join([e1, e2, e3, e4]) + "; integer minimum (w² − 1)/(4w) (w odd), w/4 (w even), w < 40"


def _bipartite_exact(ctx):
    count, visited = 0, []
    for w in range(2, BIP_W + 1):
        for n in range(max(2, wd.bipartite_threshold(w)), BIP_N + 1):
            got = exact_bipartite_minimum(parse_pattern(f"window:w={w}").exact_dense(n))[0]
            require(got == wd.bipartite_minimum(n, w), f"n={n}, w={w}: {got} ≠ {wd.bipartite_minimum(n, w)}")
            count += 1
            visited.append((w, n))
    return Checked(f"cut_b/(n − δ_b) equals the exact bipartite minimum over every (a, b) in {count} cases "
                   f"(w ≤ {BIP_W}, N_b(w) ≤ n ≤ {BIP_N})", Region.points(("w", "n"), visited))


def bipartite_scan(w_max=20, factor=8):
    """``{w: (N_b(w), [n where the formula fails])}`` over ``2w ≤ n ≤ factor·w``, every (a, b) in exact rationals.

    The scan behind the conjectured threshold :func:`theory.window.bipartite_threshold` (w ≤ 20 takes about
    eight minutes on one core): every failure lies below N_b(w), and N_b(w) − 1 fails.
    """
    table = {}
    for w in range(2, w_max + 1):
        exact = (exact_bipartite_minimum(parse_pattern(f"window:w={w}").exact_dense(n))[0]
                 for n in range(2 * w, factor * w + 1))
        bad = [n for n, value in zip(range(2 * w, factor * w + 1), exact) if value != wd.bipartite_minimum(n, w)]
        table[w] = (wd.bipartite_threshold(w), bad)
    return table


SHARP_W = 13
#: the audit's cases: w = 8, n = 19 (the optimal plateau cut does not fit) and w = 16, n = 38..43
AUDIT_CASES = ((8, 19), (16, 38), (16, 43))


def _sharpness_region():
    return Region.points(("w", "n"), [(w, wd.bipartite_threshold(w) - 1) for w in range(3, SHARP_W + 1)]
                         + list(AUDIT_CASES))


def _counterexamples(ctx):
    """The bipartite formula is false just below N_b(w), and at the audit's cases."""
    seen, visited = [], []
    cases = dict.fromkeys([(w, wd.bipartite_threshold(w) - 1) for w in range(3, SHARP_W + 1)] + list(AUDIT_CASES))
    for w, n in cases:
        got = exact_bipartite_minimum(parse_pattern(f"window:w={w}").exact_dense(n))
        formula = wd.bipartite_minimum(n, w)
        require(got[0] != formula, f"w = {w}, n = {n}: the formula holds ({formula}); N_b(w) is not sharp")
        visited.append((w, n))
        if (w, n) in AUDIT_CASES or w == SHARP_W:
            side = ">" if got[0] > formula else "<"
            seen.append(f"w = {w}, n = {n}: {got[0]} {side} {formula} at (a, b) = {got[1:]}")
    return Checked(f"the formula fails at n = N_b(w) − 1 for every 3 ≤ w ≤ {SHARP_W}; " + "; ".join(seen),
                   Region.points(("w", "n"), visited))


CLAIM = Claim(
    id="C5",
    title="Window attention pierces the floor",
    statement=("For $A_{ij} = 1/\\min(i, w)$, $i - w < j \\le i$: on the plateau $w - 1 \\le t \\le n - w + 1$ the cut "
               "is $(w-1)/2$ and $\\mathrm{vol}(t) = 2t + (w-1)/2$; the minimum over real $t$ is $(w-1)/(2n)$ at "
               "$t = n/2 - (w-1)/4$. Over integer $t$ the capacity is $(w-1)/(2(n - \\delta))$, $\\delta$ the distance "
               "from $n - (w-1)/2$ to the nearest even integer, for every $w \\ge 2$ and $n$ with $n - \\delta \\ge "
               f"5(w-1)/2$ (proven), and for $5(w-1)/2 \\le n \\le {N_MAX}$, $w \\le {W_MAX}$ (checked); every "
               "$n \\ge \\lfloor 5(w-1)/2 \\rfloor + 2$ has $\\varphi < 1/5$ (proven) — one past the real-$t$ "
               "threshold "
               f"$5(w-1)/2$ — and no smaller $n$ does (checked for $w \\le {THRESHOLD_W}$). On the plateau the best "
               "bipartite cut is $\\mathrm{cut}_b = (w^2-1)/(4w)$ or $w/4$, about half the prefix cut; the bipartite "
               "capacity is $\\mathrm{cut}_b/(n - \\delta_b)$, still $O(w/n)$, for $n \\ge N_b(w) = 3w - 4$ "
               "($w$ even), "
               "$\\max(3w - 4, (w^2 - 1)/4)$ ($w$ odd): checked for $w \\le 8$, $n \\le 40$ here (and for $w \\le 20$, "
               "$n \\le 8w$ by a recorded scan), and false at $n = N_b(w) - 1$ (checked for $w \\le 13$; e.g. $w = 8$, "
               "$n = 19$). That $N_b$ is the threshold for every $w$ is a conjecture."),
    steps=(
        Step("Column sums: $c_j = H_{w-1} - H_{j-1} + j/w$ for $j < w$, $c_j = 1$ for $w \\le j \\le n-w+1$, "
             "$c_j = (n-j+1)/w$ beyond.", "symbolic", "sympy `summation`; exact against the matrix", _columns,
             scope=SYMBOLIC, key="columns"),
        Step("On the plateau, by C1: $\\mathrm{cut}(t) = \\sum_{k<w}(c_k - 1) = (w-1)/2$ and "
             "$\\mathrm{vol}(t) = 2t + (w-1)/2$.", "symbolic", "sympy `summation` with the C2 exchange", _plateau,
             scope=SYMBOLIC, key="plateau"),
        Step("Minimum over real $t$: the balance $\\mathrm{vol} = n$ at $t = n/2 - (w-1)/4$ gives $(w-1)/(2n)$.",
             "symbolic", "sympy `solve`", _real, scope=SYMBOLIC, key="real-minimum"),
        Step("Off the plateau: the right tail ($m = n - t < w$) has $\\varphi = (2w-1-m)/(2w+1+m) \\ge 1/3$; left of "
             "it $c_k$ decreases with mean $3/2$ over $k < w$, so $\\varphi \\ge 1/5$ (equality at $t = w-1$).",
             "symbolic", "sympy `summation`, derivative and differences", _tails,
             scope=SYMBOLIC, key="tails"),
        Step("Integer minimum: on the plateau $\\min(\\mathrm{vol}, 2n - \\mathrm{vol}) = n - |2t - m|$, "
             "$m = n - (w-1)/2$, smallest at the integer $t^*$ with $|2t^* - m| = \\delta$, which lies on the plateau "
             "when $2n \\ge 5(w - 1)$; the value $(w-1)/(2(n - \\delta))$ is $\\le 1/5$ iff $n - \\delta \\ge "
             "5(w-1)/2$, and then it is the capacity, the tails being $\\ge 1/5$.", "linear-arithmetic",
             "sympy identities; exact Farkas certificates over the integers for $t^*$'s range",
             _integer_proof, scope=Scope(EVERY, "symbolic", "w ≥ 2, n − δ ≥ 5(w − 1)/2"), key="integer-proof"),
        Step(f"Integer minimum: $(w-1)/(2(n-\\delta))$ equals the exact minimum for all $w \\le {W_MAX}$, "
             f"$5(w-1)/2 \\le n \\le {N_MAX}$ (including the $n$ where it is just above $1/5$).", "exact",
             "exact rational landscapes", _integer,
             scope=lambda ctx: Scope(_integer_region(), "each", "2 ≤ w ≤ 12, 5(w − 1)/2 ≤ n ≤ 64"), key="integer"),
        Step("Piercing: $\\delta = 1/2$ for even $w = 2k$ and $\\delta \\in \\{0, 1\\}$ for odd $w = 2k + 1$, so "
             "$n - \\delta > 5(w-1)/2$ for every $n \\ge \\lfloor 5(w-1)/2 \\rfloor + 2$ ($= 5k - 1$, resp. $5k + 2$), "
             "and with the integer minimum $\\varphi < 1/5$ there.", "linear-arithmetic",
             "exact Farkas certificates in each parity; sympy `floor`", _piercing_proof,
             scope=Scope(EVERY, "symbolic", "w ≥ 2, n ≥ ⌊5(w − 1)/2⌋ + 2"), key="piercing-proof"),
        Step("Threshold: no $n < \\lfloor 5(w-1)/2 \\rfloor + 2$ has $\\varphi < 1/5$, checked exactly for every "
             f"$w \\le {THRESHOLD_W}$ and every smaller $n$.", "exact", "exact rational landscapes", _threshold,
             scope=Scope(Region.box(w=(2, THRESHOLD_W)), "each"), key="threshold"),
        Step("Bipartite cuts on the plateau, $m = b - a$ extra queries: $\\mathrm{cut} = (w-1)/2 - m + m(m+1)/w$, a "
             "convex parabola with vertex $m = (w-1)/2$; its integer minimum is $(w^2-1)/(4w)$ ($w$ odd) or $w/4$ "
             "($w$ even), about half the prefix cut.", "symbolic", "sympy `summation`, derivatives and `solve`",
             _bipartite_cut, scope=SYMBOLIC, key="bipartite-cut"),
        Step("Bipartite capacity: $\\varphi_{bip} = \\mathrm{cut}_b/(n - \\delta_b)$, $\\delta_b = 1/2$ ($w$ even), "
             "$0$ or $1$ by the parity of $n - w + 1$ ($w$ odd), equals the exact minimum over all $(a, b)$ for "
             f"$w \\le {BIP_W}$, $N_b(w) \\le n \\le {BIP_N}$.", "exact", "exact rational bipartite landscapes",
             _bipartite_exact, scope=lambda ctx: Scope(_bipartite_region(), "each",
                                                       f"2 ≤ w ≤ {BIP_W}, N_b(w) ≤ n ≤ {BIP_N}"), key="bipartite"),
        Step(f"Sharpness: the formula is not the bipartite capacity at $n = N_b(w) - 1$ for $3 \\le w \\le {SHARP_W}$ "
             "(at $w = 13$, $n = 41$ an off-plateau cut is *lower*), nor at the audit's $w = 8$, $n = 19$ and "
             "$w = 16$, "
             "$n = 38, 43$ (the optimal plateau cut does not fit).", "exact", "exact rational bipartite landscapes",
             _counterexamples, scope=Scope(_sharpness_region(), "instances",
                                           f"n = N_b(w) − 1 for 3 ≤ w ≤ {SHARP_W}; the audit's three (w, n)"),
             key="sharpness", role="check"),
    ),
    parts=lambda ctx: (
        Part("plateau and real-t minimum", EVERY, (Case(EVERY, ("columns", "plateau", "real-minimum", "tails")),)),
        Part("integer minimum (proven)", EVERY, (Case(EVERY, ("columns", "plateau", "tails", "integer-proof")),),
             "w ≥ 2, n − δ ≥ 5(w − 1)/2"),
        Part("integer minimum (checked)", _integer_region(), (Case(_integer_region(), ("integer",)),),
             f"2 ≤ w ≤ {W_MAX}, 5(w − 1)/2 ≤ n ≤ {N_MAX}"),
        Part("piercing", EVERY, (Case(EVERY, ("columns", "plateau", "tails", "integer-proof", "piercing-proof")),),
             "w ≥ 2, n ≥ ⌊5(w − 1)/2⌋ + 2"),
        Part("no earlier piercing", Region.box(w=(2, THRESHOLD_W)),
             (Case(Region.box(w=(2, THRESHOLD_W)), ("threshold",)),)),
        Part("bipartite cut on the plateau", EVERY, (Case(EVERY, ("bipartite-cut",)),)),
        Part("bipartite capacity", _bipartite_region(), (Case(_bipartite_region(), ("bipartite",)),),
             f"2 ≤ w ≤ {BIP_W}, N_b(w) ≤ n ≤ {BIP_N}"),
    ),
    notes=("The paper's 'below 1/5 as soon as $n > 5(w-1)/2$' is the real-$t$ statement; at integer $t$, "
           "$n = 5(w-1)/2 + 1/2$ (even $w$) gives $\\varphi = 1/5$ exactly, and the first $n$ below is one later. "
           "Where the bipartite formula holds: an exact scan of every $(a, b)$ for $w \\le 20$, $2w \\le n \\le 8w$ "
           "finds it exact from $N_b(w)$ on and false at $N_b(w) - 1$; below, the optimal plateau cut does not fit "
           "(even $w$) or, for odd $w \\ge 13$, an off-plateau cut is lower at odd $n$ up to $(w^2 - 5)/4$. "
           "A proof for every $w$ is open; `docs/theory.md` records the scan."),
)
