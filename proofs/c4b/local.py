"""C4b, the local lemma near (a*, b*): refined harmonic bounds, the augmented Lagrangian L_d and its identities,
and the interval check of its Hessian and discrete remainder on the box U.

Every expression comes from :mod:`.expressions`: the symbolic steps check identities about those objects, the
interval step compiles the same objects.  The discrete parameter enters as ν = 1/n ∈ [0, 1/n_tail], an interval:
no monotonicity in ν is assumed.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from mpmath import iv

from attention_transport.proofs.c4b import expressions as ex
from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.root import bipartite_root, iv_rational, short
from attention_transport.proofs.core import interval_dps, require, symbolic_zero

__all__ = ["check_refined_harmonic", "check_local_identities", "check_local_interval", "local_box"]


def check_refined_harmonic(ctx):
    u, m = sp.symbols("u m", positive=True)
    g = sp.log(1 + u) - u / 2 - u / (2 * (1 + u))
    k = (u ** 2 - u ** 2 / (1 + u) ** 2) / 12 + g
    e = [symbolic_zero(sp.diff(g, u) + u ** 2 / (2 * (1 + u) ** 2), "g' = −u²/(2(1+u)²) < 0"),
         symbolic_zero(sp.diff(k, u) - u ** 4 / (6 * (1 + u) ** 3), "k' = u⁴/(6(1+u)³) > 0")]
    require(g.subs(u, 0) == 0 and k.subs(u, 0) == 0, "g(0) or k(0) is not 0")
    f_step = 1 / (m + 1) - (sp.log(m + 1) - sp.log(m)) - 1 / (2 * (m + 1)) + 1 / (2 * m)  # f(m+1) − f(m)
    e.append(symbolic_zero(sp.expand_log(f_step + g.subs(u, 1 / m), force=True), "f(m+1) − f(m) = −g(1/m)"))
    e.append(symbolic_zero((1 / (12 * m ** 2) - 1 / (12 * (m + 1) ** 2)) - (k - g).subs(u, 1 / m),
                           "1/(12m²) − 1/(12(m+1)²) = (k − g)(1/m)"))
    # the bounds the interval steps use (expressions.E1_BOUNDS, E2_BOUNDS) follow from
    # 0 < f(M) − f(m) < (1/m² − 1/M²)/12
    n, a, b = sp.symbols("n a b", positive=True)
    fn, fa, fb = sp.symbols("f_n f_a f_b", real=True)
    H = {q: fq + sp.log(q) + 1 / (2 * q) for q, fq in ((n, fn), (a, fa), (b, fb))}  # H_m = f(m) + ln m + 1/(2m)
    point = {ex.x: a / n, ex.y: b / n, ex.nu: 1 / n}
    e1 = (H[n] - H[b]) - sp.log(n / b)
    e2 = (H[b] - H[a]) - sp.log(b / a)
    e.append(symbolic_zero(sp.expand_log(e1 - ex.E1_BOUNDS[0].subs(point) - (fn - fb), force=True),
                           "e₁ − (ν/2 − ν/(2y)) = f(n) − f(b)"))
    e.append(symbolic_zero(sp.expand_log(e2 - ex.E2_BOUNDS[0].subs(point) - (fb - fa), force=True),
                           "e₂ − (ν/(2y) − ν/(2x)) = f(b) − f(a)"))
    e.append(symbolic_zero((ex.E1_BOUNDS[1] - ex.E1_BOUNDS[0]).subs(point) - (1 / b ** 2 - 1 / n ** 2) / 12
                           - 1 / (12 * n ** 2), "the width of E₁ is (1/b² − 1/n²)/12 + 1/(12n²)"))
    e.append(symbolic_zero((ex.E2_BOUNDS[1] - ex.E2_BOUNDS[0]).subs(point) - (1 / a ** 2 - 1 / b ** 2) / 12
                           - 1 / (12 * b ** 2), "the width of E₂ is (1/a² − 1/b²)/12 + 1/(12b²)"))
    return "; ".join(e) + ("; so 0 < f(M) − f(m) < (1/m² − 1/M²)/12 by telescoping, which puts e₁ and e₂ inside "
                           "E₁ and E₂ for every 1 ≤ a < b < n")


def check_local_identities(ctx):
    x, y, nu, kap, tau, phi, e1, e2 = ex.x, ex.y, ex.nu, ex.kappa, ex.tau, ex.c, ex.e1, ex.e2
    cut, vol, A = ex.cut_c, ex.vol_c, ex.A_c
    balance, stationarity = ex.ROOT_SYSTEM
    e = [symbolic_zero(sp.expand_log(cut - ex.PHI_AT_ROOT - balance, force=True), "cut − φ-formula = balance residual"),
         symbolic_zero(sp.diff(cut, x) - ex.KAPPA_AT_ROOT * sp.diff(vol, x) - 2 * stationarity,
                       "∂ₓcut − κ*∂ₓvol = 2·stationarity residual"),
         symbolic_zero(sp.diff(cut, y) - ex.KAPPA_AT_ROOT * sp.diff(vol, y), "∂ᵧcut − κ*∂ᵧvol = 0")]
    H = ex.hessian_c
    lam = sp.Symbol("lambda")
    e.append(symbolic_zero(((lam - H[0, 0]) * (lam - H[1, 1]) - H[0, 1] ** 2).subs(lam, ex.lambda_min),
                           "λ_min is a root of det(λI − Hess L_c)"))
    lam_max = H[0, 0] + H[1, 1] - ex.lambda_min  # the other root: the two sum to the trace
    gap = sp.sqrt((H[0, 0] - H[1, 1]) ** 2 + 4 * H[0, 1] ** 2)
    e.append(symbolic_zero(lam_max - ex.lambda_min - gap, "λ_max − λ_min = √((H₁₁ − H₂₂)² + 4H₁₂²) ≥ 0: λ_min is the "
                                                         "smaller root"))
    kp = ex.kappa_prime
    cut_d, W = cut + x * (e1 - e2), ex.W_local
    require(sp.expand(W - (A + x * (e1 + e2))) == 0, "W ≠ A + x(e₁ + e₂)")
    Ld = cut_d - phi - kap * W + tau * W ** 2
    e.append(symbolic_zero(Ld - (ex.L_c + x * ((1 - kp) * e1 - (1 + kp) * e2) + tau * (x * (e1 + e2)) ** 2),
                           "L_d/n = L_c + x((1 − κ')e₁ − (1 + κ')e₂) + τx²(e₁ + e₂)²"))
    e.append(symbolic_zero((cut_d - phi * (1 - W)) - Ld - W * (phi + kap - tau * W), "I/n − L_d/n = W(φ + κ − τW)"))
    e.append(symbolic_zero((cut_d - phi * (1 + W)) - Ld + W * (phi - kap + tau * W), "II/n − L_d/n = −W(φ − κ + τW)"))
    # with |κ'| < 1 the coefficient of e₁ is x(1 − κ') > 0 and that of e₂ is −x(1 + κ') < 0: the lower end of E₁ and
    # the upper end of E₂ bound the remainder from below, and that bound is ν q
    bound = x * ((1 - kp) * ex.E1_BOUNDS[0] - (1 + kp) * ex.E2_BOUNDS[1])
    e.append(symbolic_zero(bound - nu * ex.q_local, "x((1 − κ')·min E₁ − (1 + κ')·max E₂) = ν q"))
    return "; ".join(e)


def local_box(box, root, tau, nu):
    """Interval enclosures on one box of U: (λ_min of Hess L_c, q, τ|W| − (φ − |κ|), |κ'|), for ν in ``nu``."""
    _, _, phi, kappa = root
    X, Y = (iv.mpf(list(side)) for side in box)
    lam = ex.compiled("lambda_min")(X, Y, kappa, tau)
    q = ex.compiled("q")(X, Y, nu, kappa, tau)
    E1 = iv.mpf([ex.compiled("E1_lo")(Y, nu).a, ex.compiled("E1_hi")(Y, nu).b])
    E2 = iv.mpf([ex.compiled("E2_lo")(X, Y, nu).a, ex.compiled("E2_hi")(X, Y, nu).b])
    W = ex.compiled("W")(X, Y, E1, E2)
    slack = tau * abs(W) - (phi - abs(kappa))
    return lam, q, slack, abs(ex.compiled("kappa_prime")(X, Y, kappa, tau))


def _dist2(box, root):
    """A rigorous lower bound on the squared distance from the box to the enclosure of (a*, b*)."""
    def gap(lo, hi, E):
        for g in ((iv.mpf(lo) - E.b).a, (E.a - iv.mpf(hi)).a):
            if g > 0:
                return iv.mpf(g)
        return iv.mpf(0)

    return gap(*box[0], root[0]) ** 2 + gap(*box[1], root[1]) ** 2


def check_local_interval(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    root = bipartite_root(ctx.dps)
    with interval_dps(20):
        tau = iv_rational(cert.tau)
        nu = iv.mpf([0, iv_rational(Fraction(1, cert.n_tail)).b])  # every ν = 1/n, n ≥ n_tail
        require(all(float(e) == e for side in cert.u_box for e in side), f"U = {cert.u_box} is not float-exact")
        (ux0, ux1), (uy0, uy1) = [(float(lo), float(hi)) for lo, hi in cert.u_box]
        require(root[0].a > ux0 and root[0].b < ux1 and root[1].a > uy0 and root[1].b < uy1, "(a*, b*) is not in U")
        g = cert.local_grid
        boxes = [((ux0 + (ux1 - ux0) * i / g, ux0 + (ux1 - ux0) * (i + 1) / g),
                  (uy0 + (uy1 - uy0) * j / g, uy0 + (uy1 - uy0) * (j + 1) / g)) for i in range(g) for j in range(g)]
        require(boxes[0][0][0] == ux0 and boxes[-1][0][1] == ux1 and boxes[0][1][0] == uy0 and boxes[-1][1][1] == uy1,
                "the grid does not reach the corners of U")
        stats = [local_box(bx, root, tau, nu) for bx in boxes]
        m = min(st[0].a for st in stats)
        require(m > 0, f"Hess L_c is not positive definite on U (λ_min ≥ {m})")
        hard, q_root = 0, None
        for bx, (lam, q, slack, kp) in zip(boxes, stats):
            require(slack.b <= 0, f"τ|W| > φ − |κ| on the box {bx}")
            require(kp.b < 1, f"|κ'| ≥ 1 on the box {bx}")
            if bx[0][0] <= root[0].a and root[0].b <= bx[0][1] and bx[1][0] <= root[1].a and root[1].b <= bx[1][1]:
                q_root = q.a if q_root is None else min(q_root, q.a)
            if q.a > 0:
                continue
            hard += 1  # L_d/n ≥ L_c + νq ≥ (m/2)d² + νq, with ν ∈ [0, 1/n_tail] as an interval
            require((m / 2 * _dist2(bx, root) + nu * q).a > 0, f"box {bx}: q = {q} < 0 too close to (a*, b*)")
        require(q_root is not None and q_root > 0, f"q at (a*, b*) is {q_root}, not > 0")
    return (f"{g}×{g} boxes on U = [{ux0}, {ux1}] × [{uy0}, {uy1}], τ = {cert.tau}, ν ∈ [0, 1/{cert.n_tail}]: "
            f"λ_min(Hess L_c) ≥ {short(m, 4)}; τ|W| ≤ φ − |κ| and |κ'| < 1 everywhere; q > 0 on "
            f"{len(boxes) - hard} boxes (≥ {short(q_root, 3)} at (a*, b*)), and (m/2)d² + νq > 0 on the other {hard}")
