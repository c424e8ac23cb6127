"""C4b, the one source of every formula the argument evaluates.

Each expression is built here once, in sympy; the symbolic steps check identities about these
objects, and the interval steps compile the *same* objects with
:func:`~attention_transport.proofs.formulas.interval_function`.  Nothing is re-typed.

Variables: ``x = a/n``, ``y = b/n``, ``ν = 1/n``; ``D1 = H_n − H_b``, ``XD2 = (a/n)(H_b − H_a)``; ``c`` the
constant the margins compare with (φ_bip*), ``κ`` (κ*), ``τ`` the penalty weight; ``e1``, ``e2`` the
discrete corrections of the local lemma.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from attention_transport.proofs.formulas import interval_function, with_xlogx

__all__ = ["a", "b", "n", "BLOCK_KEYS_FIRST", "BLOCK_QUERIES_FIRST", "ROW_PREFIX", "COLUMN_PREFIX",
           "x", "y", "nu", "c", "kappa", "tau", "D1", "XD2", "e1", "e2", "cut_n", "vol_n", "margin_I", "margin_II",
           "D1_BOUNDS", "XD2_BOUNDS", "E1_BOUNDS", "E2_BOUNDS", "cut_c", "vol_c", "A_c", "L_c", "hessian_c",
           "lambda_min", "kappa_prime", "q_local", "W_local", "ROOT_SYSTEM", "ROOT_JACOBIAN", "PHI_AT_ROOT",
           "KAPPA_AT_ROOT", "compiled"]

# ---------------------------------------------------------------- the exact landscape, per (n, a, b)
a, b, n = sp.symbols("a b n", integer=True, nonnegative=True)
#: M(b, a) = Σ_{i ≤ b, j ≤ a} A_ij for a ≥ b (every row i ≤ b complete) and for a < b
BLOCK_KEYS_FIRST = b
BLOCK_QUERIES_FIRST = a + a * (sp.harmonic(b) - sp.harmonic(a))
#: Σ_{i ≤ b} r_i and Σ_{j ≤ a} c_j
ROW_PREFIX = b
COLUMN_PREFIX = a * (sp.harmonic(n) - sp.harmonic(a)) + a

x, y, nu = sp.symbols("x y nu", positive=True)
c, kappa, tau = sp.symbols("c kappa tau", real=True)
D1, XD2, e1, e2 = sp.symbols("D1 XD2 e1 e2", real=True)

# ---------------------------------------------------------------- the discrete margins, per n (a ≤ b)
#: cut/n and vol/n of the (a, b) cut, a ≤ b: cut = (b − a) + a(D1 − D2), vol = a + b + a(D1 + D2)
cut_n = (y - x) + x * D1 - XD2
vol_n = x + y + x * D1 + XD2
#: I/n = cut/n − c(2 − vol/n) (the larger side), II/n = cut/n − c·vol/n (the smaller side)
margin_I = cut_n - c * (2 - vol_n)
margin_II = cut_n - c * vol_n

#: C4's harmonic bounds at n, b: ln((n+1)/(b+1)) ≤ H_n − H_b ≤ ln(n/b), in x, y, ν; the lower one written as
#: ln(1 + (1 − y)/(y + ν)) so that ν occurs once and its interval is not counted twice
D1_BOUNDS = (sp.log(1 + (1 - y) / (y + nu)), sp.log(1 / y))
#: 0 ≤ (a/n)(H_b − H_a) ≤ (a/n) ln(b/a) = x ln y − x ln x
XD2_BOUNDS = (sp.Integer(0), x * sp.log(y) - x * sp.log(x))

# ---------------------------------------------------------------- the local lemma near (a*, b*)
#: the refined harmonic bounds: e1 = D1 − ln(1/y), e2 = D2 − ln(y/x)
E1_BOUNDS = (nu / 2 - nu / (2 * y), nu / 2 - nu / (2 * y) + nu ** 2 / (12 * y ** 2))
E2_BOUNDS = (nu / (2 * y) - nu / (2 * x), nu / (2 * y) - nu / (2 * x) + nu ** 2 / (12 * x ** 2))

cut_c = y - x - 2 * x * sp.log(y) + x * sp.log(x)  #: the continuum cut
vol_c = x + y - x * sp.log(x)  #: the continuum volume
A_c = vol_c - 1
L_c = cut_c - c - kappa * A_c + tau * A_c ** 2  #: the continuum augmented Lagrangian
hessian_c = sp.hessian(L_c, (x, y))
_H11, _H12, _H22 = hessian_c[0, 0], hessian_c[0, 1], hessian_c[1, 1]
#: the smaller eigenvalue of a symmetric 2 × 2 matrix (a root of its characteristic polynomial)
lambda_min = ((_H11 + _H22) - sp.sqrt((_H11 - _H22) ** 2 + 4 * _H12 ** 2)) / 2
kappa_prime = kappa - 2 * tau * A_c
#: L_d/n ≥ L_c + ν q (the discrete remainder of the local lemma)
q_local = (1 + kappa_prime) / 2 + (1 - kappa_prime) * x / 2 - x / y - (1 + kappa_prime) * nu / (12 * x)
#: W = vol/n − 1 = A_c + x(e1 + e2)
W_local = A_c + x * (e1 + e2)


def collected(expr, *variables):
    """``expr`` with the terms of each of ``variables`` gathered, so that an interval argument occurs once (its
    lower and upper ends are then used where the coefficient's sign needs them); checked to be an identity."""
    out = sp.collect(sp.expand(expr), list(variables))
    if sp.expand(out - expr) != 0:
        raise ValueError(f"collecting {variables} changed {expr}")
    return out


# ---------------------------------------------------------------- the continuum optimum
#: the balance and stationarity equations in (x, y) = (a, b): their common root is (a*, b*)
ROOT_SYSTEM = sp.Matrix([y - (1 - x + x * sp.log(x)), sp.log(x) * (1 - x / y) - sp.log(y)])
ROOT_JACOBIAN = ROOT_SYSTEM.jacobian([x, y])
PHI_AT_ROOT = 1 - 2 * x + 2 * x * sp.log(x / y)  #: φ_bip* at the root
KAPPA_AT_ROOT = 1 - 2 * x / y  #: the multiplier κ* at the root


@lru_cache(maxsize=None)
def point_function(name):
    """A root-system object compiled for mpmath points (the Krawczyk test's midpoint and inverse)."""
    table = {"system": ROOT_SYSTEM, "jacobian": ROOT_JACOBIAN}
    return sp.lambdify((x, y), table[name], modules="mpmath")


@lru_cache(maxsize=None)
def compiled(name):
    """The interval function of one of the expressions above (``x ln x`` with its tight enclosure)."""
    table = {
        "margin_I": (collected(margin_I, D1, XD2), (x, y, c, D1, XD2)),
        "margin_II": (collected(margin_II, D1, XD2), (x, y, c, D1, XD2)),
        "D1_lo": (D1_BOUNDS[0], (y, nu)),
        "D1_hi": (D1_BOUNDS[1], (y,)),
        "XD2_hi": (with_xlogx(XD2_BOUNDS[1], x), (x, y)),
        "lambda_min": (with_xlogx(lambda_min, x), (x, y, kappa, tau)),
        "q": (with_xlogx(q_local, x), (x, y, nu, kappa, tau)),
        "kappa_prime": (with_xlogx(kappa_prime, x), (x, y, kappa, tau)),
        "W": (with_xlogx(W_local, x), (x, y, e1, e2)),
        "E1_lo": (E1_BOUNDS[0], (y, nu)), "E1_hi": (E1_BOUNDS[1], (y, nu)),
        "E2_lo": (E2_BOUNDS[0], (x, y, nu)), "E2_hi": (E2_BOUNDS[1], (x, y, nu)),
        "root_system": (ROOT_SYSTEM, (x, y)), "root_jacobian": (ROOT_JACOBIAN, (x, y)),
        "phi_at_root": (PHI_AT_ROOT, (x, y)), "kappa_at_root": (KAPPA_AT_ROOT, (x, y)),
        "vol_c": (vol_c, (x, y)), "cut_c": (cut_c, (x, y)),
    }
    expr, args = table[name]
    return interval_function(expr, args)
