"""C4b, the regions away from (a*, b*): many keys (margin I), the corner b ≤ n/8 (margin II), and interval boxes
on the rest, outside the box U that the local lemma covers."""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from mpmath import iv

from attention_transport.proofs.c4_floor import harmonic_table
from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.root import bipartite_root, iv_rational, short
from attention_transport.proofs.core import interval_dps, require, symbolic_zero

__all__ = ["check_region_keys", "check_region_corner", "xlogx", "bipartite_margins", "check_region_middle"]


def check_region_keys(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    c = sp.Symbol("c", positive=True)
    split = sp.Rational(cert.alpha_split.numerator, cert.alpha_split.denominator)
    e = symbolic_zero((1 + c) * split - 2 * c - (2 - 8 * c) / 5, "(1 + c)(2/5) − 2c = (2 − 8c)/5")
    Hs = harmonic_table(200)
    for n in range(2, 201):
        require(all(Hs[n] - Hs[b] >= Fraction(n - b, n) for b in range(n + 1)), f"H_n − H_b < (n − b)/n at n = {n}")
    _, _, phi, _ = bipartite_root(ctx.dps)
    require((2 - 8 * phi).a > 0, f"2 − 8φ_bip* = {2 - 8 * phi} is not > 0")
    return (f"{e}; 2 − 8φ_bip* > 0 from the enclosure (φ_bip* < 1/4); H_n − H_b ≥ (n − b)/n since each of its "
            "n − b terms is ≥ 1/n (exact for n ≤ 200)")


def check_region_corner(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    c, rho, K = sp.symbols("c rho K", positive=True)
    h = (1 - c) - (1 + c) * rho + K * rho + (1 + c) * rho * sp.log(rho)
    e1 = symbolic_zero(sp.diff(h, rho, 2) - (1 + c) / rho, "h'' = (1 + c)/ρ > 0")
    e2 = symbolic_zero(sp.diff(h, rho) - (K + (1 + c) * sp.log(rho)), "h' = K + (1 + c) ln ρ")
    rho_m = sp.exp(-K / (1 + c))
    e3 = symbolic_zero(h.subs(rho, rho_m) - ((1 - c) - (1 + c) * rho_m), "h(ρ_m) = (1 − c) − (1 + c)ρ_m")
    _, _, phi, _ = bipartite_root(ctx.dps)
    with interval_dps(30):
        Kv = (1 - phi) * iv.log(1 / (2 * iv_rational(cert.beta_corner)))
        hm = (1 - phi) - (1 + phi) * iv.exp(-Kv / (1 + phi))
        h1 = (1 - phi) - (1 + phi) + Kv
        require(hm.a > 0 and h1.a > 0, f"h(ρ_m) = {hm}, h(1) = {h1}")
        worst = min(hm.a, h1.a)
    return (f"{e1}; {e2}; {e3}; for b ≤ n/8: ln((n+1)/(b+1)) ≥ ln 4 (n ≥ 6), so II/b ≥ h(a/b) with "
            f"K = (1 − c) ln 4, c = φ_bip*; the convex h has min(h(ρ_m), h(1)) ≥ {short(worst, 4)} > 0 "
            "(interval arithmetic)")


def xlogx(lo, hi):
    """Rigorous enclosure of x ln x on [lo, hi] ⊂ [0, 1] (0 ln 0 = 0)."""
    def f(v):
        return iv.mpf(0) if v == 0 else iv.mpf(v) * iv.log(iv.mpf(v))

    e = 1 / iv.e
    flo, fhi = f(lo), f(hi)
    if hi <= e.a:
        return iv.mpf([fhi.a, flo.b])
    if lo >= e.b:
        return iv.mpf([flo.a, fhi.b])
    return iv.mpf([-(1 / iv.e).b, max(flo.b, fhi.b)])


def bipartite_margins(a0, a1, b0, b1, c, nu):
    """Interval lower bounds of I/n and II/n over the box a/n ∈ [a0, a1], b/n ∈ [b0, b1]."""
    A, B = iv.mpf([a0, a1]), iv.mpf([b0, b1])
    l1 = iv.log((1 + nu) / (B + nu))  # H_n − H_b ≥ ln((n+1)/(b+1)), decreasing in ν
    alog = A * iv.log(B) - xlogx(a0, a1)  # (a/n) ln(b/a) ≥ a(H_b − H_a)/n
    m2 = (1 - c) * B - (1 + c) * A + (1 - c) * A * l1 - (1 + c) * alog
    m1 = (1 + c) * B - (1 - c) * A + (1 + c) * A * l1 - (1 - c) * alog - 2 * c
    return m1.a, m2.a


def check_region_middle(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    root = bipartite_root(ctx.dps)
    (ux0, ux1), (uy0, uy1) = [(float(lo), float(hi)) for lo, hi in cert.u_box]
    with interval_dps(20):
        c = root[2]
        nu = iv_rational(Fraction(1, cert.n_exact + 1))
        stack = [(0.0, float(cert.alpha_split), float(cert.beta_corner), 1.0, 0)]
        boxes, worst = 0, None
        while stack:
            a0, a1, b0, b1, depth = stack.pop()
            if a0 > b1:  # entirely a > b: not in this region
                continue
            if ux0 <= a0 and a1 <= ux1 and uy0 <= b0 and b1 <= uy1:  # inside U: the local lemma covers it
                continue
            boxes += 1
            m1, m2 = bipartite_margins(a0, a1, b0, b1, c, nu)
            if m1 > 0 or m2 > 0:
                best = max(m1, m2)
                worst = best if worst is None else min(worst, best)
                continue
            require(depth < 18, f"box a/n ∈ [{a0}, {a1}], b/n ∈ [{b0}, {b1}] not certified at depth 18")
            am, bm = (a0 + a1) / 2, (b0 + b1) / 2
            stack += [(a0, am, b0, bm, depth + 1), (am, a1, b0, bm, depth + 1),
                      (a0, am, bm, b1, depth + 1), (am, a1, bm, b1, depth + 1)]
    require(float(cert.alpha_split) >= cert.alpha_split and float(cert.beta_corner) == cert.beta_corner,
            "the boxes do not cover the region between the analytic lemmas")
    return (f"{boxes} boxes cover a/n ∈ [0, {float(cert.alpha_split)}], b/n ∈ [{float(cert.beta_corner)}, 1] outside U at "
            f"ν = 1/{cert.n_exact + 1}, c = φ_bip*; on each, I > 0 or II > 0 (smallest certified margin {short(worst, 3)})")
