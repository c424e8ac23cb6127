"""C4b, exact parts: the bipartite landscape of uniform causal attention in rationals, cuts with more keys than
queries reduced to C4, the margins I and II, the case split of the (a, b) plane, the finite range, and the
comparison of the constants."""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp
from mpmath import iv

from attention_transport.proofs.c4_floor import harmonic_table
from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.root import bipartite_root, iv_rational
from attention_transport.proofs.c4b import expressions as ex
from attention_transport.proofs.core import Checked, infeasible, interval_dps, require, symbolic_zero
from attention_transport.proofs.formulas import exact_function, nonnegative
from attention_transport.proofs.scope import Region
from attention_transport.theory import uniform_causal as uc

__all__ = ["bipartite_exact", "exact_bipartite_table", "check_closed_form", "check_closed_form_table",
           "check_more_keys", "check_margin_identities", "check_case_split", "check_finite_part",
           "check_constants_order"]


def bipartite_exact(n, Hs):
    """``min_{a,b} φ_n(a, b)`` in exact rationals, with (a*, b*), from the closed forms of :mod:`.expressions`."""
    keys_first = exact_function(ex.BLOCK_KEYS_FIRST, (ex.a, ex.b), Hs)
    queries_first = exact_function(ex.BLOCK_QUERIES_FIRST, (ex.a, ex.b), Hs)
    rows = [exact_function(ex.ROW_PREFIX, (ex.b,), Hs)(b) for b in range(n + 1)]
    cols = [exact_function(ex.COLUMN_PREFIX, (ex.n, ex.a), Hs)(n, a) for a in range(n + 1)]
    total = 2 * n
    best = None
    for b in range(n + 1):
        for a in range(n + 1):
            if (a, b) in ((0, 0), (n, n)):
                continue
            M = keys_first(a, b) if a >= b else queries_first(a, b)
            vol = rows[b] + cols[a]
            cut = vol - 2 * M
            denom = min(vol, total - vol)
            if denom > 0:
                phi = cut / denom
                if best is None or phi < best[0]:
                    best = (phi, a, b)
    return best


@lru_cache(maxsize=None)
def exact_bipartite_table(n_max):
    """``{n: (φ_bip, a*, b*)}`` for ``2 ≤ n ≤ n_max`` in exact rationals (cached: two steps use it)."""
    Hs = harmonic_table(n_max)
    return {n: bipartite_exact(n, Hs) for n in range(2, n_max + 1)}


def check_closed_form(ctx):
    a, b, n, i, j = sp.symbols("a b n i j", integer=True, positive=True)
    H = sp.harmonic
    # rows i ≤ min(a, b) hold all their i entries (weight 1 each); rows a < i ≤ b hold a of them (a/i each)
    objects = {ex.a: a, ex.b: b, ex.n: n}
    e = [symbolic_zero(sp.summation(sp.summation(1 / i, (j, 1, i)), (i, 1, b)) - ex.BLOCK_KEYS_FIRST.subs(objects),
                       "a ≥ b: Σ_{i≤b} Σ_{j≤i} 1/i = b"),
         symbolic_zero(a + a * (sp.summation(1 / i, (i, 1, b)) - sp.summation(1 / i, (i, 1, a)))
                       - ex.BLOCK_QUERIES_FIRST.subs(objects),
                       "a < b: a + Σ_{i=a+1}^{b} a/i = a + a(Σ_{i≤b} − Σ_{i≤a}) 1/i = a + a(H_b − H_a)")]
    # Σ_{j≤a} c_j = Σ_{j≤a} (H_n − H_{j−1}) = a H_n − (a H_{a−1} − a + 1) by the C2 exchange, H_{a−1} = H_a − 1/a
    col = a * H(n) - uc.harmonic_prefix_sum().subs(uc.t, a)
    e.append(symbolic_zero(sp.expand(col.subs(H(a - 1), H(a) - 1 / a)) - ex.COLUMN_PREFIX.subs(objects),
                           "Σ_{j≤a} c_j = a(H_n − H_a) + a"))
    e.append(symbolic_zero(sp.summation(sp.summation(1 / i, (j, 1, i)), (i, 1, b)) - ex.ROW_PREFIX.subs(objects),
                           "Σ_{i≤b} r_i = b"))
    # the margins' cut and volume are these sums, divided by n
    D1s, D2s = sp.symbols("D_1 D_2")
    cut = (b - a) + a * (D1s - D2s)
    vol = a + b + a * (D1s + D2s)
    M = a + a * D2s  # a ≤ b, D2 = H_b − H_a
    e.append(symbolic_zero((b + (a * (D1s + D2s) + a)) - 2 * M - cut, "cut = Σr + Σc − 2M"))
    e.append(symbolic_zero((b + a * (D1s + D2s) + a) - vol, "vol = Σr + Σc"))
    point = {ex.x: a / n, ex.y: b / n, ex.D1: D1s, ex.XD2: a * D2s / n}
    e.append(symbolic_zero(ex.cut_n.subs(point) - cut / n, "expressions.cut_n = cut/n"))
    e.append(symbolic_zero(ex.vol_n.subs(point) - vol / n, "expressions.vol_n = vol/n"))
    return "; ".join(e)


def check_closed_form_table(ctx):
    Hs = harmonic_table(12)
    visited = []
    for n in range(2, 13):
        A = [[Fraction(1, i + 1) if j <= i else Fraction(0) for j in range(n)] for i in range(n)]
        for a in range(n + 1):
            for b in range(n + 1):
                M = sum(A[i][j] for i in range(b) for j in range(a))
                formula = b if a >= b else a + a * (Hs[b] - Hs[a])
                require(M == formula, f"M({b},{a}) at n = {n}")
        require(all(sum(A[i][j] for i in range(n) for j in range(a)) == a * (Hs[n] - Hs[a]) + a for a in range(n + 1)),
                f"column prefix sums at n = {n}")
        visited.append(n)
    return Checked("M(b, a) = b for a ≥ b, a + a(H_b − H_a) for a < b, and C(a) = a(H_n − H_a) + a: exact for n ≤ 12",
                   Region.points("n", visited))


def check_more_keys(ctx):
    # b < a: queries b+1..a attend only to keys ≤ a (inside X); adding them gives the prefix set at t = a
    a_, b_, n_ = sp.symbols("a b n", integer=True, positive=True)
    Hn, Ha = sp.Symbol("H_n"), sp.Symbol("H_a")
    cut_bip, vol_bip = a_ * (Hn - Ha) + a_ - b_, a_ + b_ + a_ * (Hn - Ha)
    cut_pre, vol_pre = a_ * (Hn - Ha), 2 * a_ + a_ * (Hn - Ha)
    e1 = symbolic_zero(cut_bip - (cut_pre + (a_ - b_)), "cut(a, b) = cut_prefix(a) + (a − b)")
    e2 = symbolic_zero(vol_bip - (vol_pre - (a_ - b_)), "vol(a, b) = vol_prefix(a) − (a − b)")
    # with δ = a − b ≥ 0, V = vol_prefix, m = min(V, 2n − V), m' = min(V − δ, 2n − V + δ) ≤ m + δ:
    # cut_pre ≥ c·m and c ≤ 1 give cut_pre + δ ≥ c·m' (homogeneous, so a strict negation scales to "≤ −1")
    cut, V, d, N2, m1 = sp.symbols("cut V delta N2 m1")
    c = sp.Rational(5, 17)
    cases = [
        [cut >= c * V, V <= N2 - V, m1 <= V - d, m1 <= N2 - V + d, d >= 0, cut + d <= c * m1 - 1],
        [cut >= c * (N2 - V), N2 - V <= V, m1 <= V - d, m1 <= N2 - V + d, d >= 0, cut + d <= c * m1 - 1],
    ]
    e3 = "; ".join(infeasible([cut, V, d, N2, m1], cs, f"case m = {'V' if k == 0 else '2n − V'}: φ_pre ≥ 5/17 ⇒ φ(a, b) ≥ 5/17")
                   for k, cs in enumerate(cases))
    return f"{e1}; {e2}; {e3}"


def check_margin_identities(ctx):
    a_, b_, n_, D1, D2 = sp.symbols("a b n D1 D2", positive=True)
    c = ex.c
    cut = (b_ - a_) + a_ * (D1 - D2)  # a ≤ b, D1 = H_n − H_b, D2 = H_b − H_a
    vol = a_ + b_ + a_ * (D1 + D2)
    E = (b_ - a_) - a_ * D2
    point = {ex.x: a_ / n_, ex.y: b_ / n_, ex.D1: D1, ex.XD2: a_ * D2 / n_}
    e = [symbolic_zero(ex.margin_II.subs(point) * n_ - (cut - c * vol), "n·margin_II = cut − c·vol"),
         symbolic_zero(ex.margin_I.subs(point) * n_ - (cut - c * (2 * n_ - vol)), "n·margin_I = cut − c(2n − vol)"),
         symbolic_zero((cut - c * vol) - ((1 - c) * b_ - (1 + c) * a_ + (1 - c) * a_ * D1 - (1 + c) * a_ * D2),
                       "II = (1−c)b − (1+c)a + (1−c)aD1 − (1+c)aD2"),
         symbolic_zero((cut - c * (2 * n_ - vol)) - ((1 - c) * E + (1 + c) * a_ * D1 - 2 * c * (n_ - b_)),
                       "I = (1−c)E + (1+c)aD1 − 2c(n − b), E = (b − a) − aD2")]
    # the enclosures the interval steps give D1 and (a/n)D2 are C4's harmonic bounds, at x = a/n, y = b/n, ν = 1/n
    at = {ex.x: a_ / n_, ex.y: b_ / n_, ex.nu: 1 / n_}
    e.append(symbolic_zero(sp.exp(ex.D1_BOUNDS[0].subs(at)) - (n_ + 1) / (b_ + 1), "min D1 = ln((n + 1)/(b + 1))"))
    e.append(symbolic_zero(sp.exp(ex.D1_BOUNDS[1].subs(at)) - n_ / b_, "max D1 = ln(n/b)"))
    e.append(symbolic_zero(sp.expand_log(ex.XD2_BOUNDS[1].subs(at) - a_ / n_ * sp.log(b_ / a_), force=True),
                           "max (a/n)D2 = (a/n) ln(b/a)"))
    # E ≥ 0 for every 0 ≤ a ≤ b: D2 = Σ_{k=a+1}^{b} 1/k ≤ (b − a)/(a + 1), each term ≤ 1/(a + 1), and
    # (b − a) − a(b − a)/(a + 1) = (b − a)/(a + 1) ≥ 0
    a, b, k = sp.symbols("a b k", integer=True)
    e.append(nonnegative(1 / (a + 1) - 1 / k, [a >= 0, k >= a + 1], [a, k]))
    e.append(symbolic_zero(sp.summation(1 / (a + 1), (k, a + 1, b)) - (b - a) / (a + 1),
                           "Σ_{k=a+1}^{b} 1/(a + 1) = (b − a)/(a + 1)"))
    e.append(nonnegative((b - a) - a * (b - a) / (a + 1), [a >= 0, b >= a], [a, b]))
    return "; ".join(e)


def check_case_split(ctx):
    """Every (a, b) with 0 ≤ a, b ≤ n falls into one case: b < a (reduction to C4, including a = n), or a ≤ b with
    a ≥ αn (margin I), b ≤ βn (corner), or (a/n, b/n) in the middle rectangle [0, α] × [β, 1] (boxes and U)."""
    cert = ctx.certificate("C4b", CERTIFICATE)
    n, a, b = sp.symbols("n a b", integer=True)
    al, be = cert.alpha_split, cert.beta_corner
    base = [n >= cert.n_tail, a >= 0, b >= 0, a <= n, b <= n,
            b >= a,  # not the reduction
            al.denominator * a <= al.numerator * n - 1,  # not a ≥ αn
            be.denominator * b >= be.numerator * n + 1]  # not b ≤ βn
    outside = [a <= -1, al.denominator * a >= al.numerator * n + 1, be.denominator * b <= be.numerator * n - 1,
               b >= n + 1]  # each way out of the middle rectangle
    e = [infeasible([n, a, b], base + [o], f"no (a, b) escapes all four cases through {o}") for o in outside]
    return "; ".join(e) + "; a = 0 lies in the middle rectangle (its margin II = (1 − c)b/n > 0 on the boxes)"


def check_finite_part(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    phi_star = bipartite_root(ctx.dps)[2]
    lo, hi = cert.exact_range
    table = exact_bipartite_table(hi)
    worst, visited = None, []
    for n in range(lo, hi + 1):
        phi, a, b = table[n]
        require(phi >= Fraction(1, 5), f"n = {n}: φ_bip = {phi} < 1/5")
        with interval_dps(ctx.dps + 10):
            require(iv.mpf(phi.numerator) / phi.denominator > phi_star, f"n = {n}: φ_bip = {float(phi)} ≤ φ_bip*")
        if worst is None or phi < worst[0]:
            worst = (phi, n, a, b)
        visited.append(n)
    return Checked(f"exact for {lo} ≤ n ≤ {hi}: φ_bip(n) ≥ 1/5 and > φ_bip* (its interval enclosure); smallest "
                   f"{float(worst[0]):.6f} at n = {worst[1]} (a*, b*) = ({worst[2]}, {worst[3]})",
                   Region.points("n", visited))


def check_constants_order(ctx):
    phi_star = bipartite_root(ctx.dps)[2]
    require(iv_rational(Fraction(5, 17)).a > phi_star.b, "5/17 > φ_bip* fails")
    require(phi_star.a > iv_rational(Fraction(6, 25)).b, "φ_bip* > 6/25 fails")
    return ("5/17 > φ_bip* > 6/25 > 1/5 against the interval enclosure of φ_bip*: the reduction's bound 5/17 (C4) "
            "exceeds φ_bip*, and the statement's rational bounds follow")
