"""C4b, the local lemma near (a*, b*): refined harmonic bounds, the augmented Lagrangian L_d and its identities,
and the interval check of its Hessian and discrete remainder on the box U."""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from mpmath import iv

from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.regions import xlogx
from attention_transport.proofs.c4b.root import bipartite_root, iv_rational, short
from attention_transport.proofs.core import interval_dps, require, symbolic_zero

__all__ = ["check_refined_harmonic", "check_local_identities", "check_local_interval"]


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
    with interval_dps(30):  # the telescoped bound, evaluated for small arguments as a guard
        Hs = [iv.mpf(0)]
        for q in range(1, 61):
            Hs.append(Hs[-1] + iv.mpf(1) / q)
        f = [None] + [Hs[q] - iv.log(q) - iv.mpf(1) / (2 * q) for q in range(1, 61)]
        for lo in range(1, 60):
            for hi in range(lo + 1, 61):
                d = f[hi] - f[lo]
                require(d.a > 0 and d.b < iv.mpf(1) / (12 * lo ** 2) - iv.mpf(1) / (12 * hi ** 2),
                        f"f({hi}) − f({lo}) = {d} outside its bounds")
    return "; ".join(e) + "; so 0 < f(M) − f(m) < (1/m² − 1/M²)/12 by telescoping (interval check for m < M ≤ 60)"


def check_local_identities(ctx):
    x, y, kap, tau, phi, e1, e2, nu = sp.symbols("x y kappa tau phi e1 e2 nu", real=True)
    cut = y - x - 2 * x * sp.log(y) + x * sp.log(x)
    vol = x + y - x * sp.log(x)
    A = vol - 1
    Lc = cut - phi - kap * A + tau * A ** 2
    e = [symbolic_zero(sp.expand_log(cut - (1 - 2 * x + 2 * x * sp.log(x / y)) - (y - (1 - x + x * sp.log(x))),
                                     force=True), "cut − φ-formula = balance residual"),
         symbolic_zero(sp.diff(cut, x) - (1 - 2 * x / y) * sp.diff(vol, x)
                       - 2 * (sp.log(x) * (1 - x / y) - sp.log(y)), "∂ₓcut − κ*∂ₓvol = 2·stationarity residual"),
         symbolic_zero(sp.diff(cut, y) - (1 - 2 * x / y) * sp.diff(vol, y), "∂ᵧcut − κ*∂ᵧvol = 0")]
    H = sp.hessian(Lc, (x, y))
    kp = kap - 2 * tau * A
    mine = sp.Matrix([[(1 + kap) / x + 2 * tau * (sp.log(x) ** 2 - A / x), -2 / y - 2 * tau * sp.log(x)],
                      [-2 / y - 2 * tau * sp.log(x), 2 * x / y ** 2 + 2 * tau]])
    require(all(sp.simplify(v) == 0 for v in H - mine), "Hessian of L_c differs from the entries used")
    e.append("Hessian entries of L_c checked")
    cut_d, W = cut + x * (e1 - e2), A + x * (e1 + e2)
    Ld = cut_d - phi - kap * W + tau * W ** 2
    e.append(symbolic_zero(Ld - (Lc + x * ((1 - kp) * e1 - (1 + kp) * e2) + tau * (x * (e1 + e2)) ** 2),
                           "L_d/n = L_c + x((1 − κ')e₁ − (1 + κ')e₂) + τx²(e₁ + e₂)²"))
    e.append(symbolic_zero((cut_d - phi * (1 - W)) - Ld - W * (phi + kap - tau * W), "I/n − L_d/n = W(φ + κ − τW)"))
    e.append(symbolic_zero((cut_d - phi * (1 + W)) - Ld + W * (phi - kap + tau * W), "II/n − L_d/n = −W(φ − κ + τW)"))
    q = (1 + kp) / 2 + (1 - kp) * x / 2 - x / y - (1 + kp) * nu / (12 * x)
    bound = x * ((1 - kp) * (nu / 2 - nu / (2 * y)) - (1 + kp) * (nu / (2 * y) - nu / (2 * x) + nu ** 2 / (12 * x ** 2)))
    e.append(symbolic_zero(bound - nu * q, "the bounds e₁ ≥ ν/2 − ν/(2y), e₂ ≤ ν/(2y) − ν/(2x) + ν²/(12x²) give νq"))
    return "; ".join(e)


def _local_box(x0, x1, y0, y1, root, tau, nu0):
    """Interval bounds on one box of U: (λ_min of Hess L_c, q at ν₀, τ max|W| − (φ − |κ|), max|κ'|)."""
    A_, B_, phi, kappa = root
    X, Y = iv.mpf([x0, x1]), iv.mpf([y0, y1])
    lx = iv.log(X)
    A = X + Y - xlogx(x0, x1) - 1
    H11 = (1 + kappa) / X + 2 * tau * (lx ** 2 - A / X)
    H12 = -2 / Y - 2 * tau * lx
    H22 = 2 * X / Y ** 2 + 2 * tau
    lam = ((H11 + H22) - iv.sqrt((H11 - H22) ** 2 + 4 * H12 ** 2)) / 2
    kp = kappa - 2 * tau * A
    q = (1 + kp) / 2 + (1 - kp) * X / 2 - X / Y - (1 + kp) * nu0 / (12 * X)
    nu = iv.mpf([0, 1]) * nu0
    W = A + nu * (X - 1) / 2 + iv.mpf([0, 1]) * nu ** 2 / (12 * X)
    slack = tau * abs(W) - (phi - abs(kappa))
    return lam.a, q.a, slack.b, abs(kp).b


def _dist2(x0, x1, y0, y1, root):
    """A rigorous lower bound on the squared distance from the box to the enclosure of (a*, b*)."""
    def gap(lo, hi, E):
        for g in ((iv.mpf(lo) - E.b).a, (E.a - iv.mpf(hi)).a):
            if g > 0:
                return g
        return iv.mpf(0)

    return (gap(x0, x1, root[0]) ** 2 + gap(y0, y1, root[1]) ** 2).a


def check_local_interval(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    root = bipartite_root(ctx.dps)
    with interval_dps(20):
        tau, nu0 = iv_rational(cert.tau), iv_rational(Fraction(1, cert.n_exact + 1))
        (ux0, ux1), (uy0, uy1) = [(float(lo), float(hi)) for lo, hi in cert.u_box]
        require(all(float(e) == e for side in cert.u_box for e in side), f"U = {cert.u_box} is not float-exact")
        require(root[0].a > ux0 and root[0].b < ux1 and root[1].a > uy0 and root[1].b < uy1, "(a*, b*) is not in U")
        g = cert.local_grid
        boxes = [(ux0 + (ux1 - ux0) * i / g, ux0 + (ux1 - ux0) * (i + 1) / g,
                  uy0 + (uy1 - uy0) * j / g, uy0 + (uy1 - uy0) * (j + 1) / g) for i in range(g) for j in range(g)]
        stats = [_local_box(*bx, root, tau, nu0) for bx in boxes]
        m = min(s[0] for s in stats)
        require(m > 0, f"Hess L_c is not positive definite on U (λ_min ≥ {m})")
        q_at_root, hard = None, 0
        for bx, (lam, q, slack, kp) in zip(boxes, stats):
            require(slack <= 0, f"τ|W| > φ − |κ| on the box {bx}")
            require(kp < 1, f"|κ'| ≥ 1 on the box {bx}")
            if q > 0:
                continue
            hard += 1
            require(m / 2 * _dist2(*bx, root) + nu0.a * q > 0, f"box {bx}: q = {q} < 0 too close to (a*, b*)")
        for bx, s in zip(boxes, stats):
            if bx[0] <= root[0].a and root[0].b <= bx[1] and bx[2] <= root[1].a and root[1].b <= bx[3]:
                q_at_root = s[1] if q_at_root is None else min(q_at_root, s[1])
        require(q_at_root is not None and q_at_root > 0, f"q at (a*, b*) is {q_at_root}, not > 0")
    return (f"{g}×{g} boxes on U = [{ux0}, {ux1}] × [{uy0}, {uy1}], τ = {cert.tau}, ν ≤ 1/{cert.n_exact + 1}: "
            f"λ_min(Hess L_c) ≥ {short(m, 4)}; τ|W| ≤ φ − |κ| and |κ'| < 1 everywhere; q > 0 on "
            f"{len(boxes) - hard} boxes (≥ {short(q_at_root, 3)} at (a*, b*)), and (m/2)d² + ν₀q > 0 on the other {hard}")
