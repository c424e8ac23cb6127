"""C5s — attention sinks restore an n-independent floor: sink-window capacity → s/(s + 2w).

A worked example of extending the theory: a new pattern is derived in
``theory/sink_window.py`` (sympy) and certified here, step by step.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

from attention_transport.numerics.exact import exact_prefix_landscape
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.proofs.core import Case, Checked, Claim, Part, Step, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import sink_window as sw

CASES = ((1, 2), (1, 4), (2, 3), (4, 16), (8, 8))
N_MAX = 90
EVERY = Region.box(n=(2, None), s=(1, None), w=(1, None))
SYMBOLIC = Scope(EVERY, "symbolic")


def _finite_region():
    return Region.points(("s", "w", "n"), [(s_, w_, n_) for s_, w_ in CASES for n_ in range(s_ + w_ + 1, N_MAX + 1)])


def _volume(ctx):
    require(sw.causal_volume_identity() == 0, "vol ≠ 2t + cut")
    return "vol(t) = t + Σ_(k≤t) c_k and cut(t) = Σ_(k≤t) c_k − t give vol = 2t + cut"


def _steady(ctx):
    e = symbolic_zero(sw.steady_cut() - (sw.s * (sw.n - sw.t) + sw.w * (sw.w - 1) / 2) / (sw.s + sw.w),
                      "cut(t) = [s(n − t) + w(w − 1)/2]/(s + w)")
    expr = sw.steady_cut()
    checked = 0
    for s_, w_ in CASES:
        for n_ in range(2 * (s_ + w_) + 2, 44):
            A = parse_pattern(f"sink-window:s={s_},w={w_}").exact_dense(n_)
            cut = Fraction(0)
            for t_ in range(1, n_ - w_ + 2):
                cut += sum(A[a][t_ - 1] for a in range(t_, n_)) - sum(A[t_ - 1][b] for b in range(t_ - 1))
                # cut(t) = cut(t − 1) + (flow into key t from later rows) − (flow from query t to earlier keys)
                if t_ >= s_ + w_ - 1:
                    formula = expr.subs({sw.s: s_, sw.w: w_, sw.n: n_, sw.t: t_})
                    require(Fraction(str(formula)) == cut, f"s={s_}, w={w_}, n={n_}, t={t_}")
                    checked += 1
    return f"{e}; exact against the matrix at {checked} steady-state cuts"


def _continuum(ctx):
    left, right, cut = sw.continuum_landscape()
    a = sw.s / (sw.s + sw.w)
    e1 = symbolic_zero(cut - a * (1 - sw.x), "cut/n → α(1 − x), α = s/(s + w)")
    e2 = symbolic_zero(sw.balance_point() - sw.w / (sw.s + 2 * sw.w), "balance x_b = w/(s + 2w)")
    e3 = symbolic_zero(right - sw.s / (sw.s + 2 * sw.w), "right branch φ ≡ s/(s + 2w)")
    e4 = symbolic_zero(sp.diff(left, sw.x) + 2 * a / (2 * sw.x + a * (1 - sw.x)) ** 2,
                       "left branch dφ/dx = −2α/vol² < 0")
    return "; ".join([e1, e2, e3, e4]) + "; so the continuum minimum is s/(s + 2w), attained for every x ≥ x_b"


def _finite(ctx):
    visited = []
    for s_, w_ in CASES:
        floor = Fraction(s_, s_ + 2 * w_)
        prev = None
        for n_ in range(s_ + w_ + 1, N_MAX + 1):
            land = exact_prefix_landscape(parse_pattern(f"sink-window:s={s_},w={w_}").exact_dense(n_))
            phi = min(v for v in land if v is not None)
            require(phi > floor, f"s={s_}, w={w_}, n={n_}: φ = {phi} ≤ s/(s + 2w)")
            prev = phi
            visited.append((s_, w_, n_))
        require(prev - floor < Fraction(w_ * w_, n_), f"s={s_}, w={w_}: no approach to the floor")
    return Checked(f"exact, every n ≤ {N_MAX} for (s, w) ∈ {CASES}: φ_n > s/(s + 2w), and within w²/n of it "
                   f"at n = {N_MAX}", Region.points(("s", "w", "n"), visited))


CLAIM = Claim(
    id="C5s",
    title="Attention sinks restore a floor",
    statement=("For sink-window attention ($s$ sinks, window $w$), the prefix capacity tends to $s/(s + 2w)$ as "
               "$n \\to \\infty$, with worst cut $t/n \\to w/(s + 2w)$: unlike the plain window ($O(w/n)$), it does not "
               "vanish, but it lies below the paper's $1/5$ whenever $w > 2s$. Finite $n$ stay above the limit "
               f"(checked exactly for $n \\le {N_MAX}$ on several $(s, w)$)."),
    steps=(
        Step("For causal row-stochastic $A$: $\\mathrm{vol}(t) = 2t + \\mathrm{cut}(t)$ (from C1 and $r_k = 1$).",
             "symbolic", "sympy `simplify`", _volume, scope=SYMBOLIC, key="volume"),
        Step("Steady state $s + w - 1 \\le t \\le n - w + 1$: $\\mathrm{cut}(t) = [s(n-t) + w(w-1)/2]/(s+w)$.",
             "symbolic", "sympy `summation` of each row's flow into the prefix; exact against the matrix",
             _steady, scope=SYMBOLIC, key="steady"),
        Step("Continuum: $\\mathrm{cut}/n \\to \\alpha(1-x)$, $\\alpha = s/(s+w)$; the volume balances at "
             "$x_b = w/(s + 2w)$; left of it $\\varphi$ decreases, right of it $\\varphi \\equiv s/(s + 2w)$.",
             "symbolic", "sympy `limit`, `solve`, derivative", _continuum,
             scope=SYMBOLIC, key="continuum"),
        Step("Finite $n$: the exact capacity stays above $s/(s + 2w)$ and approaches it.", "exact",
             "exact rational landscapes", _finite,
             scope=lambda ctx: Scope(_finite_region(), "each", f"(s, w) ∈ {CASES}, s + w < n ≤ {N_MAX}"), key="finite"),
    ),
    parts=lambda ctx: (
        Part("the limit", EVERY, (Case(EVERY, ("volume", "steady", "continuum")),)),
        Part("finite n", _finite_region(), (Case(_finite_region(), ("finite",)),),
             f"(s, w) ∈ {{{', '.join(map(str, CASES))}}}, s + w < n ≤ {N_MAX}"),
    ),
    notes=("How this claim was added (the workflow for a new pattern): the pattern exists in "
           "`numerics/patterns.py` with structural sums (tests compare them with the dense matrix); "
           "`theory/sink_window.py` derives the landscape with sympy; this module certifies each step; it is "
           "registered in `proofs/__init__.py`, and `attention-transport verify --write-docs docs/proofs` "
           "regenerates this document. An all-n certificate (as C4 gives for uniform causal) is not attempted."),
)
