"""C4b, the root: Krawczyk's interval test encloses (a*, b*), φ_bip* and κ* = 1 − 2a*/b*."""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import mpmath
from mpmath import iv

from attention_transport.numerics.constants import bipartite_star
from attention_transport.proofs.c4b import expressions as ex
from attention_transport.proofs.core import interval_dps, require, symbolic_zero

__all__ = ["iv_rational", "short", "bipartite_root", "check_root", "check_constants"]


def iv_rational(q):
    """An exact rational as an mpmath interval (outward-rounded)."""
    return iv.mpf(q.numerator) / q.denominator


def short(v, digits):
    """A point or interval endpoint (``iv`` degenerate interval) as a short decimal string."""
    return mpmath.nstr(mpmath.mpf(v), digits)


@lru_cache(maxsize=None)
def bipartite_root(dps):
    """Rigorous enclosures ``(a*, b*, φ_bip*, κ*)``, with ``κ* = 1 − 2a*/b*``, by Krawczyk's test.

    The box of radius ``10^-(dps+2)`` around mpmath's ``findroot`` point holds exactly one root
    of the balance equation ``b = 1 − a + a ln a`` and the stationarity equation
    ``ln a (1 − a/b) = ln b``; ``φ_bip* = 1 − 2a* + 2a* ln(a*/b*)`` is the continuum cut there.

    Returns
    -------
    tuple of mpmath.iv intervals
        Cached per ``dps``: several steps use them.

    Raises
    ------
    CheckFailed
        If the Krawczyk image of the box is not inside the box.
    """
    work = dps + 10
    _, a, b = bipartite_star(work)
    with mpmath.workdps(work):
        r = mpmath.mpf(10) ** (-(dps + 2))
        J = ex.point_function("jacobian")(a, b)
        Y = (J ** -1).tolist()  # any point inverse will do
        ends = [(a - r, a + r), (b - r, b + r)]
    with interval_dps(work):
        X = [iv.mpf(list(e)) for e in ends]
        m = [iv.mpf(a), iv.mpf(b)]
        Y = [[iv.mpf(v) for v in row] for row in Y]
        F = [row[0] for row in ex.compiled("root_system")(m[0], m[1])]  # the balance and stationarity residuals
        JX = ex.compiled("root_jacobian")(X[0], X[1])
        K = []
        for i in range(2):
            k_i = m[i] - (Y[i][0] * F[0] + Y[i][1] * F[1])
            for j in range(2):
                k_i = k_i + ((1 if i == j else 0) - (Y[i][0] * JX[0][j] + Y[i][1] * JX[1][j])) * (X[j] - m[j])
            K.append(k_i)
        require(all(K[i].a > X[i].a and K[i].b < X[i].b for i in range(2)),
                f"the Krawczyk image {K} is not inside the box {X}")
        A, B = X
        phi = ex.compiled("phi_at_root")(A, B)
        kappa = ex.compiled("kappa_at_root")(A, B)
    return A, B, phi, kappa


def check_root(ctx):
    e = symbolic_zero(ex.ROOT_SYSTEM[0] - (ex.vol_c - 1), "balance residual = continuum volume − 1")
    A, B, phi, kappa = bipartite_root(ctx.dps)
    require(phi.a > iv_rational(Fraction(6, 25)).b and phi.b < iv_rational(Fraction(1, 4)).a,
            f"φ_bip* = {phi} not in (6/25, 1/4)")
    require(abs(kappa).b < phi.a, f"|κ*| = {abs(kappa)} is not < φ_bip* = {phi}")
    point = bipartite_star(ctx.dps)[0]  # the constant `verify` prints lies in the enclosure
    with interval_dps(ctx.dps + 10):
        require(abs(iv.mpf(point) - phi).b < iv.mpf(10) ** (1 - ctx.dps), f"printed φ_bip* {point} is outside {phi}")
    with mpmath.workdps(ctx.dps + 10):
        return (f"{e}; the Jacobian is sympy's of the same system; Krawczyk image strictly inside the box of radius "
                f"10^-{ctx.dps + 2}: "
                f"one root; φ_bip* ∈ [{short(phi.a, 20)}, {short(phi.b, 20)}], κ* = {short(kappa.a, 12)}; "
                "6/25 < φ_bip* < 1/4 and |κ*| < φ_bip*")


def check_constants(ctx):
    A, B, phi, _ = bipartite_root(ctx.dps)
    with interval_dps(ctx.dps + 10):
        (balance,), (stationarity,) = ex.compiled("root_system")(A, B)
        vol = ex.compiled("vol_c")(A, B)
        cut = ex.compiled("cut_c")(A, B)
        require(0 in balance and 0 in stationarity, f"residuals {balance}, {stationarity} exclude 0 on the box")
        require(1 in vol, f"the continuum volume {vol} excludes 1 on the box")
        require(cut.a <= phi.b and phi.a <= cut.b, f"the continuum cut {cut} misses φ_bip* {phi}")
        point, a, b = bipartite_star(ctx.dps)  # the printed constants lie in the enclosures
        for name, value, box in (("φ_bip*", point, phi), ("a*", a, A), ("b*", b, B)):
            require(abs(iv.mpf(value) - box).b < iv.mpf(10) ** (1 - ctx.dps),
                    f"printed {name} {value} is outside {box}")
    return (f"on the Krawczyk box both residuals contain 0, the continuum volume contains 1 and the cut meets the "
            f"enclosure of φ_bip*; the printed φ_bip*, a*, b* lie within 10^-{ctx.dps - 1} of their enclosures")
