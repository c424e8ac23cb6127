"""C4b, exact parts: the bipartite landscape of uniform causal attention in rationals, cuts with more keys than
queries reduced to C4, the margins I and II, the finite range, and the all-n conclusion."""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp
from mpmath import iv

from attention_transport.proofs.c4_floor import harmonic_table
from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.root import bipartite_root, iv_rational
from attention_transport.proofs.core import infeasible, interval_dps, require, symbolic_zero

__all__ = ["bipartite_exact", "exact_bipartite_table", "check_closed_form", "check_more_keys", "check_margin_identities",
           "check_finite_part", "check_all_n"]


def bipartite_exact(n, Hs):
    """``min_{a,b} φ_n(a, b)`` in exact rationals, with (a*, b*), from harmonic-number sums."""
    R = [Fraction(b) for b in range(n + 1)]  # Σ_{i ≤ b} r_i = b
    Cs = [a * (Hs[n] - Hs[a]) + a for a in range(n + 1)]  # Σ_{j ≤ a} c_j
    total = 2 * n
    best = None
    for b in range(n + 1):
        for a in range(n + 1):
            if (a, b) in ((0, 0), (n, n)):
                continue
            M = b if a >= b else a + a * (Hs[b] - Hs[a])  # Σ_{i ≤ b, j ≤ a} 1/i
            vol = R[b] + Cs[a]
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
    Hs = harmonic_table(12)
    for n in range(2, 13):
        A = [[Fraction(1, i + 1) if j <= i else Fraction(0) for j in range(n)] for i in range(n)]
        for a in range(n + 1):
            for b in range(n + 1):
                M = sum(A[i][j] for i in range(b) for j in range(a))
                formula = b if a >= b else a + a * (Hs[b] - Hs[a])
                require(M == formula, f"M({b},{a}) at n = {n}")
        require(all(sum(A[i][j] for i in range(n) for j in range(a)) == a * (Hs[n] - Hs[a]) + a for a in range(n + 1)),
                f"column prefix sums at n = {n}")
    return "M(b, a) = b for a ≥ b, a + a(H_b − H_a) for a < b, and C(a) = a(H_n − H_a) + a: exact for n ≤ 12"


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
    a_, b_, n_, c, D1, D2 = sp.symbols("a b n c D1 D2", positive=True)
    cut = (b_ - a_) + a_ * (D1 - D2)  # a ≤ b, D1 = H_n − H_b, D2 = H_b − H_a
    vol = a_ + b_ + a_ * (D1 + D2)
    E = (b_ - a_) - a_ * D2
    e1 = symbolic_zero((cut - c * vol) - ((1 - c) * b_ - (1 + c) * a_ + (1 - c) * a_ * D1 - (1 + c) * a_ * D2),
                       "II = cut − c·vol = (1−c)b − (1+c)a + (1−c)aD1 − (1+c)aD2")
    e2 = symbolic_zero((cut - c * (2 * n_ - vol)) - ((1 - c) * E + (1 + c) * a_ * D1 - 2 * c * (n_ - b_)),
                       "I = cut − c(2n − vol) = (1−c)E + (1+c)aD1 − 2c(n − b), E = (b − a) − aD2")
    Hs = harmonic_table(60)
    for n in range(2, 61):
        for a in range(1, n + 1):
            for b in range(a, n + 1):
                E_val = (b - a) - a * (Hs[b] - Hs[a])
                require(E_val >= 0, f"E < 0 at n={n}, a={a}, b={b}")
    return f"{e1}; {e2}; E = (b − a) − a(H_b − H_a) ≥ 0 since H_b − H_a ≤ (b − a)/(a + 1) (exact for n ≤ 60)"


def check_finite_part(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    phi_star = bipartite_root(ctx.dps)[2]
    worst = None
    for n, (phi, a, b) in exact_bipartite_table(cert.n_exact).items():
        require(phi >= Fraction(1, 5), f"n = {n}: φ_bip = {phi} < 1/5")
        with interval_dps(ctx.dps + 10):
            require(iv.mpf(phi.numerator) / phi.denominator > phi_star, f"n = {n}: φ_bip = {float(phi)} ≤ φ_bip*")
        if worst is None or phi < worst[0]:
            worst = (phi, n, a, b)
    return (f"exact for 2 ≤ n ≤ {cert.n_exact}: φ_bip(n) ≥ 1/5 and > φ_bip* (its interval enclosure); "
            f"smallest {float(worst[0]):.6f} at n = {worst[1]} (a*, b*) = ({worst[2]}, {worst[3]})")


def check_all_n(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    phi_star = bipartite_root(ctx.dps)[2]
    require(iv_rational(Fraction(5, 17)).a > phi_star.b and phi_star.a > iv_rational(Fraction(6, 25)).b, "5/17 > φ_bip* > 6/25 fails")
    return (f"n ≤ {cert.n_exact}: exact; n > {cert.n_exact}: a = 0 gives φ = 1, b < a gives ≥ 5/17 > φ_bip*, and for a ≤ b "
            f"I > 0 or II > 0 on a ≥ 2n/5, on b ≤ n/8, on the boxes and (through L_d > 0) on U; hence "
            "φ_bip(n) > φ_bip* > 6/25 > 1/5 for every n ≥ 2")
