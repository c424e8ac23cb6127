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

from attention_transport.errors import AttentionTransportError

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
    """``r_k = Σ_{j=1}^{k} 1/k`` evaluated by sympy: 1.

    >>> row_sum()
    1
    """
    j = sp.Dummy("j", integer=True, positive=True)
    return sp.summation(1 / k, (j, 1, k))


def column_sum():
    """``c_k = Σ_{i=k}^{n} 1/i`` as a difference of two sums from 1: ``H_n − H_{k−1}``.

    >>> column_sum()
    harmonic(n) - harmonic(k - 1)
    """
    return sp.summation(1 / i, (i, 1, n)) - sp.summation(1 / i, (i, 1, k - 1))


def harmonic_prefix_sum():
    """``Σ_{k=1}^{t} H_{k−1}`` after exchanging the order over ``{1 ≤ i < k ≤ t}``.

    The inner sum over k has ``t − i`` terms for each i, so the double sum is
    ``Σ_{i=1}^{t−1} (t − i)/i``, which sympy evaluates to ``t H_{t−1} − t + 1``.
    """
    return sp.expand(sp.summation((t - i) / i, (i, 1, t - 1)))


def cut():
    """``cut(t) = Σ_{k ≤ t} (c_k − r_k)`` (C1) in closed form, simplified to ``t (H_n − H_t)``.

    >>> cut()
    t*(harmonic(n) - harmonic(t))
    >>> cut().subs({n: 3, t: 1})  # the cut of the first token of three: H_3 − H_1
    5/6
    """
    expr = t * H(n) - harmonic_prefix_sum() - t * row_sum()
    return sp.simplify(sp.expand_func(expr.rewrite(sp.harmonic)).subs(H(t - 1), H(t) - 1 / t))


def volume():
    """``vol(t) = Σ_{k ≤ t} (r_k + c_k)`` in closed form, ``t (2 + H_n − H_t)``.

    >>> volume()
    t*harmonic(n) - t*harmonic(t) + 2*t
    """
    expr = t * row_sum() + t * H(n) - harmonic_prefix_sum()  # Σ r_k + Σ c_k
    return sp.expand(expr.subs(H(t - 1), H(t) - 1 / t))


def total_volume():
    """``vol(n) = Σ_k (r_k + c_k) = 2n``.

    >>> total_volume()
    2*n
    """
    return sp.simplify(volume().subs(t, n))


def landscape():
    """``φ_n(t) = cut / min(vol, 2n − vol)`` as a sympy expression in n and t."""
    v = volume()
    return cut() / sp.Min(v, total_volume() - v)


def landscape_value(n_val, t_val):
    """``φ_n(t)`` for integers as an exact sympy Rational.

    >>> landscape_value(3, 1)  # the smallest prefix capacity of all n (C4)
    5/17
    >>> landscape_value(10, 3)
    2761/7801
    """
    value = landscape().subs({n: n_val, t: t_val})
    if not isinstance(value, sp.Rational):
        raise AttentionTransportError(f"φ_n(t) needs integers 1 <= t < n; got n = {n_val}, t = {t_val}.")
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
    """The balance root in (0, 1): the one on the ``W₋₁`` branch.

    >>> x_star()
    exp(LambertW(-exp(-2), -1) + 2)
    >>> sp.N(x_star(), 20)
    0.31784443289937268383
    """
    roots = [r for r in balance_roots() if 0 < sp.N(r) < 1]
    if len(roots) != 1:
        raise AttentionTransportError(f"expected exactly one balance root in (0, 1); got {roots}.")
    return roots[0]


def phi_star_forms():
    """The two forms of ``φ*``: ``−x* ln x*`` and ``1 − 2x*``.

    >>> a, b = phi_star_forms()
    >>> b
    1 - 2*exp(LambertW(-exp(-2), -1) + 2)
    >>> abs(sp.N(a - b, 50)) < 1e-45, sp.N(b, 20)  # the two forms agree: φ* = 1 − 2x*
    (True, 0.36431113420125463233)
    """
    xs = x_star()
    return -xs * sp.log(xs), 1 - 2 * xs


def finite_n_expansion():
    """``H_n − H_{xn} = −ln x + ε(x)/n + O(n⁻²)``: returns ``ε(x)`` (sympy series of digamma at ∞)."""
    nn = sp.Symbol("nn", positive=True)
    series = sp.series(sp.digamma(nn + 1) - sp.digamma(x * nn + 1), nn, sp.oo, 3).removeO()
    return sp.simplify(sp.expand(series + sp.log(x)).coeff(nn, -1))


def finite_n_correction():
    """Leading 1/n correction of the prefix capacity ``min_t φ_n(t)`` (C3).

    With ``u = 1/n``: the balance point moves to ``x_b = x* + ξ u``, the kink value to
    ``φ* + κ u``, and the landscape leaves the kink with slopes ``s_L`` (left, per unit
    x) and ``s_R`` (right).  Integer t sits a fraction ``f = frac(t_b)`` right of
    ``⌊t_b⌋``, ``t_b = x* n + ξ``, so

    ``min_t φ_n(t) = φ* + [κ + min(−s_L f, s_R (1 − f))]/n + O(n⁻²)``.

    Returns
    -------
    dict
        ``xi, kappa, slope_left, slope_right`` as expressions in ``x*`` (symbol ``xs``),
        simplified with the balance relation ``ln x* = 2 − 1/x*``.
    """
    xs = sp.Symbol("xs", positive=True)
    u = sp.Symbol("u", positive=True)
    eps = finite_n_expansion()
    on_balance = {sp.log(xs): 2 - 1 / xs}
    q = x * (2 - sp.log(x))
    xi = sp.simplify((-(x * eps) / sp.diff(q, x)).subs(x, xs).subs(on_balance))
    xb = xs + xi * u
    phi_b = (xb * (-sp.log(xb) + eps.subs(x, xb) * u))
    kappa = sp.simplify(sp.diff(phi_b, u).subs(u, 0).subs(on_balance))
    left = -sp.log(x) / (2 - sp.log(x))
    right = -x * sp.log(x) / (2 - x * (2 - sp.log(x)))
    s_l = sp.simplify(sp.diff(left, x).subs(x, xs).subs(on_balance))
    s_r = sp.simplify(sp.expand(sp.diff(right, x).subs(x, xs).subs(on_balance)))
    return {"xi": xi, "kappa": kappa, "slope_left": s_l, "slope_right": s_r}


def asymptotic_capacity(n_val, dps=30):
    """``φ* + [κ + min(−s_L f, s_R (1 − f))]/n`` evaluated with mpmath at ``dps`` digits."""
    import mpmath

    from attention_transport.numerics.constants import x_star

    terms = finite_n_correction()
    xs_sym = sp.Symbol("xs", positive=True)
    with mpmath.workdps(dps + 10):
        xs = x_star(dps + 10)
        val = {k: mpmath.mpf(str(sp.N(v.subs(xs_sym, sp.Float(str(xs), dps + 10)), dps + 10)))
               for k, v in terms.items()}
        tb = xs * n_val + val["xi"]
        f = tb - mpmath.floor(tb)
        bump = min(-val["slope_left"] * f, val["slope_right"] * (1 - f))
        return (1 - 2 * xs) + (val["kappa"] + bump) / n_val
