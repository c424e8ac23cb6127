"""C4b, the regions away from (a*, b*): many keys (margin I), the corner b ≤ n/8 (margin II), and interval boxes
on the rest, outside the box U that the local lemma covers.

The margins evaluated on the boxes are :data:`.expressions.margin_I` and :data:`.expressions.margin_II`, compiled;
the harmonic sums enter as intervals (D1 between C4's bounds, (a/n)D2 between 0 and x ln(y/x)), so interval
arithmetic picks the end each coefficient needs.  ν = 1/n ranges over [0, 1/n_tail] as an interval.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from mpmath import iv

from attention_transport.proofs.c4b import expressions as ex
from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.root import bipartite_root, iv_rational, short
from attention_transport.proofs.core import infeasible, interval_dps, require, symbolic_zero
from attention_transport.proofs.formulas import interval_function, nonnegative

__all__ = ["check_region_keys", "check_region_corner", "bipartite_margins", "check_region_middle", "subdivide"]


def check_region_keys(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    c = sp.Symbol("c", positive=True)
    split = sp.Rational(cert.alpha_split.numerator, cert.alpha_split.denominator)
    slope = (1 + c) * split - 2 * c  # the coefficient of (n − b) when D1 ≥ (n − b)/n and a ≥ αn
    e = [f"(1 + c)α − 2c = {sp.simplify(slope)} at α = {split}"]
    _, _, phi, _ = bipartite_root(ctx.dps)
    with interval_dps(30):
        value = interval_function(slope, (c,))(phi)
        require(value.a > 0, f"(1 + φ_bip*)α − 2φ_bip* = {value} is not > 0 at α = {cert.alpha_split}")
    # D1 = H_n − H_b = Σ_{k=b+1}^{n} 1/k ≥ (n − b)/n: every term is ≥ 1/n
    n, k, b = sp.symbols("n k b", integer=True)
    e.append(nonnegative(1 / k - 1 / n, [k >= 1, k <= n], [n, k]))
    e.append(symbolic_zero(sp.summation(1 / n, (k, b + 1, n)) - (n - b) / n, "Σ_{k=b+1}^{n} 1/n = (n − b)/n"))
    a = sp.Symbol("a", integer=True)
    # with D1 ≥ (n − b)/n: I ≥ (1−c)E + (n − b)((1 + c)a/n − 2c), and (1 + c)a/n − 2c ≥ (1 + c)α − 2c for a ≥ αn
    e.append(symbolic_zero(((1 + c) * a * (n - b) / n - 2 * c * (n - b)) - (n - b) * ((1 + c) * a / n - 2 * c),
                           "(1 + c)a(n − b)/n − 2c(n − b) = (n − b)((1 + c)a/n − 2c)"))
    return "; ".join(e) + f"; (1 + φ_bip*)·{cert.alpha_split} − 2φ_bip* ≥ {short(value.a, 4)} > 0 (interval)"


def check_region_corner(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    c, rho, K = sp.symbols("c rho K", positive=True)
    h = (1 - c) - (1 + c) * rho + K * rho + (1 + c) * rho * sp.log(rho)
    e = [symbolic_zero(sp.diff(h, rho, 2) - (1 + c) / rho, "h'' = (1 + c)/ρ > 0"),
         symbolic_zero(sp.diff(h, rho) - (K + (1 + c) * sp.log(rho)), "h' = K + (1 + c) ln ρ")]
    rho_m = sp.exp(-K / (1 + c))
    e.append(symbolic_zero(h.subs(rho, rho_m) - ((1 - c) - (1 + c) * rho_m), "h(ρ_m) = (1 − c) − (1 + c)ρ_m"))
    # the constant K: ln((n+1)/(b+1)) ≥ ln r for every b ≤ βn, n ≥ n_tail, proven over the integers
    n, b = sp.symbols("n b", integer=True)
    beta, r = cert.beta_corner, cert.corner_ratio
    e.append(infeasible([n, b], [n >= cert.n_tail, b >= 0, beta.denominator * b <= beta.numerator * n,
                                 r.denominator * (n + 1) - r.numerator * (b + 1) <= -1],
                        f"b ≤ {beta}·n, n ≥ {cert.n_tail} ⇒ (n + 1)/(b + 1) ≥ {r}"))
    # II/b ≥ h(a/b) with K = (1 − c)·ln r: II = (1−c)b − (1+c)a + (1−c)aD1 − (1+c)aD2, D1 ≥ ln r, D2 ≤ ln(b/a)
    a_, b_, D1s = sp.symbols("a b D1", positive=True)
    II = (1 - c) * b_ - (1 + c) * a_ + (1 - c) * a_ * D1s - (1 + c) * a_ * sp.log(b_ / a_)
    e.append(symbolic_zero(sp.expand_log((II / b_).subs(D1s, K / (1 - c)) - h.subs(rho, a_ / b_), force=True),
                           "II/b at D1 = K/(1 − c), D2 = ln(b/a) is h(a/b)"))
    _, _, phi, _ = bipartite_root(ctx.dps)
    ratio = sp.Symbol("r", positive=True)
    K_of = (1 - c) * sp.log(ratio)  # K = (1 − c) ln r
    with interval_dps(30):
        hm = interval_function(h.subs(rho, rho_m).subs(K, K_of), (c, ratio))(phi, iv_rational(r))
        h1 = interval_function(h.subs(rho, 1).subs(K, K_of), (c, ratio))(phi, iv_rational(r))
        require(hm.a > 0 and h1.a > 0, f"h(ρ_m) = {hm}, h(1) = {h1}")
        worst = min(hm.a, h1.a)
    return ("; ".join(e) + f"; so II/b ≥ h(a/b) with K = (1 − c) ln {r}, c = φ_bip*; the convex h has "
            f"min(h(ρ_m), h(1)) ≥ {short(worst, 4)} > 0 (interval arithmetic)")


def bipartite_margins(box, c, nu):
    """Interval lower bounds of I/n and II/n over the box ``((x0, x1), (y0, y1))`` for ν in ``nu``."""
    (a0, a1), (b0, b1) = box
    X, Y = iv.mpf([a0, a1]), iv.mpf([b0, b1])
    D1 = iv.mpf([ex.compiled("D1_lo")(Y, nu).a, ex.compiled("D1_hi")(Y).b])
    XD2 = iv.mpf([0, ex.compiled("XD2_hi")(X, Y).b])
    return ex.compiled("margin_I")(X, Y, c, D1, XD2).a, ex.compiled("margin_II")(X, Y, c, D1, XD2).a


def subdivide(region, skip, certify, max_depth=18):
    """Cover ``region = ((x0, x1), (y0, y1))`` by boxes on which ``certify(box)`` returns a margin > 0, halving
    uncertified boxes; ``skip(box)`` drops boxes another lemma covers.  Returns (boxes certified, the smallest
    margin, the total area certified or skipped)."""
    stack = [(region, 0)]
    count, worst, area = 0, None, Fraction(0)
    while stack:
        box, depth = stack.pop()
        size = Fraction(box[0][1] - box[0][0]) * Fraction(box[1][1] - box[1][0])
        if skip(box):
            area += size
            continue
        count += 1
        margin = certify(box)
        if margin > 0:
            worst = margin if worst is None else min(worst, margin)
            area += size
            continue
        require(depth < max_depth, f"box a/n ∈ {box[0]}, b/n ∈ {box[1]} not certified at depth {max_depth}")
        (a0, a1), (b0, b1) = box
        am, bm = (a0 + a1) / 2, (b0 + b1) / 2
        stack += [(((a0, am), (b0, bm)), depth + 1), (((am, a1), (b0, bm)), depth + 1),
                  (((a0, am), (bm, b1)), depth + 1), (((am, a1), (bm, b1)), depth + 1)]
    return count, worst, area


def check_region_middle(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    root = bipartite_root(ctx.dps)
    (ux0, ux1), (uy0, uy1) = [(float(lo), float(hi)) for lo, hi in cert.u_box]
    alpha, beta = float(cert.alpha_split), float(cert.beta_corner)
    require(alpha >= cert.alpha_split and beta <= cert.beta_corner,
            f"the float rectangle [0, {alpha}] × [{beta}, 1] does not contain [0, α] × [β, 1]")
    region = ((0.0, alpha), (beta, 1.0))

    def skip(box):
        (a0, a1), (b0, b1) = box
        return a0 > b1 or (ux0 <= a0 and a1 <= ux1 and uy0 <= b0 and b1 <= uy1)  # a > b, or inside U

    with interval_dps(20):
        c = root[2]
        nu = iv.mpf([0, iv_rational(Fraction(1, cert.n_tail)).b])
        count, worst, area = subdivide(region, skip, lambda box: max(bipartite_margins(box, c, nu)))
    full = Fraction(alpha) * Fraction(1 - beta)
    require(area == full, f"the boxes cover area {area} of the region's {full}")
    return (f"{count} boxes cover a/n ∈ [0, {alpha}], b/n ∈ [{beta}, 1] outside U and a > b (their areas add up to "
            f"the rectangle's, {float(full):g}, exactly), ν ∈ [0, 1/{cert.n_tail}], c = φ_bip*; on each, I > 0 or "
            f"II > 0 (smallest certified margin {short(worst, 3)})")
