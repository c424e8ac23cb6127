"""Uniform causal attention ``A[i, j] = 1/i`` (j ≤ i): the landscape in closed form (C2)
and its continuum limit (C3), derived by sympy from the definition of A.

Every function returns sympy expressions; nothing here is typed in as a
result.  The proof modules check each derivation step.

Derivation (C2), with ``H_m`` the harmonic numbers::

    r_k = Σ_{j ≤ k} 1/k = 1
    c_k = Σ_{i = k}^{n} 1/i = Σ_{i=1}^{n} 1/i − Σ_{i=1}^{k−1} 1/i = H_n − H_{k−1}
    Σ_{k=1}^{t} H_{k−1} = Σ_{1 ≤ i < k ≤ t} 1/i = Σ_{i=1}^{t−1} (t − i)/i   (exchange over the triangle)
    cut(t) = Σ_{k ≤ t} (c_k − r_k) = t (H_n − H_t)                          (C1)
    vol(t) = Σ_{k ≤ t} (r_k + c_k) = t (2 + H_n − H_t),   vol(n) = 2n

Continuum (C3), ``t = x n``, ``n → ∞``: ``H_n − H_{xn} → −ln x``, hence
``φ(x) = −x ln x / min(x(2 − ln x), 2 − x(2 − ln x))``; the volume-balance
equation ``x (2 − ln x) = 1`` has the root ``x* = exp(2 + W₋₁(−e^{−2}))`` in
(0, 1), and ``φ* = −x* ln x* = 1 − 2x*``.
"""
from __future__ import annotations

import sympy as sp

__all__ = [
    "n", "t", "k", "i", "x",
    "row_sum", "column_sum", "harmonic_prefix_sum", "cut", "volume", "total_volume",
    "landscape", "landscape_value", "continuum_increment", "continuum_landscape",
    "balance_roots", "x_star", "phi_star_forms",
]

n, t, k, i = sp.symbols("n t k i", integer=True, positive=True)
x = sp.symbols("x", positive=True)
H = sp.harmonic


def row_sum():
    """``r_k = Σ_{j=1}^{k} 1/k`` evaluated by sympy: 1."""
    j = sp.Dummy("j", integer=True, positive=True)
    return sp.summation(1 / k, (j, 1, k))


def column_sum():
    """``c_k = Σ_{i=k}^{n} 1/i`` as a difference of two sums from 1: ``H_n − H_{k−1}``."""
    return sp.summation(1 / i, (i, 1, n)) - sp.summation(1 / i, (i, 1, k - 1))


def harmonic_prefix_sum():
    """``Σ_{k=1}^{t} H_{k−1}`` after exchanging the order over ``{1 ≤ i < k ≤ t}``.

    The inner sum over k has ``t − i`` terms for each i, so the double sum is
    ``Σ_{i=1}^{t−1} (t − i)/i``, which sympy evaluates to ``t H_{t−1} − t + 1``.
    """
    return sp.expand(sp.summation((t - i) / i, (i, 1, t - 1)))


def cut():
    """``cut(t) = Σ_{k ≤ t} (c_k − r_k)`` (C1) in closed form, simplified to ``t (H_n − H_t)``."""
    expr = t * H(n) - harmonic_prefix_sum() - t * row_sum()
    return sp.simplify(sp.expand_func(expr.rewrite(sp.harmonic)).subs(H(t - 1), H(t) - 1 / t))


def volume():
    """``vol(t) = Σ_{k ≤ t} (r_k + c_k)`` in closed form, ``t (2 + H_n − H_t)``."""
    expr = t * row_sum() + t * H(n) - harmonic_prefix_sum()  # Σ r_k + Σ c_k
    return sp.expand(expr.subs(H(t - 1), H(t) - 1 / t))


def total_volume():
    """``vol(n) = Σ_k (r_k + c_k) = 2n``."""
    return sp.simplify(volume().subs(t, n))


def landscape():
    """``φ_n(t) = cut / min(vol, 2n − vol)`` as a sympy expression in n and t."""
    v = volume()
    return cut() / sp.Min(v, total_volume() - v)


def landscape_value(n_val, t_val):
    """``φ_n(t)`` for integers as an exact sympy Rational."""
    value = landscape().subs({n: n_val, t: t_val})
    if not isinstance(value, sp.Rational):
        raise ValueError(f"φ_n(t) needs integers 1 <= t < n; got n = {n_val}, t = {t_val}.")
    return value


def continuum_increment():
    """``lim_{n→∞} (H_n − H_{xn}) = −ln x`` (sympy ``limit``)."""
    return sp.limit(H(n) - H(x * n), n, sp.oo)


def continuum_landscape():
    """``φ(x)`` with ``t = xn``: cut/n → ``x·(−ln x)``, vol/n → ``x (2 − ln x)``, total/n = 2."""
    d = continuum_increment()
    v = x * (2 + d)
    return (x * d) / sp.Min(v, 2 - v), x * d, v


def balance_roots():
    """Roots of the volume-balance equation ``x (2 − ln x) = 1`` (sympy ``solve``)."""
    _, _, v = continuum_landscape()
    return sp.solve(sp.Eq(v, 1), x)


def x_star():
    """The balance root in (0, 1): the one on the ``W₋₁`` branch."""
    roots = [r for r in balance_roots() if 0 < sp.N(r) < 1]
    if len(roots) != 1:
        raise ValueError(f"expected exactly one balance root in (0, 1); got {roots}.")
    return roots[0]


def phi_star_forms():
    """The two forms of ``φ*``: ``−x* ln x*`` and ``1 − 2x*``."""
    xs = x_star()
    return -xs * sp.log(xs), 1 - 2 * xs
