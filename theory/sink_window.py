"""Sink-window attention (s sinks, window w): an n-independent floor ``s/(s + 2w)``.

Row i attends to the sinks ``1..min(s, i)`` and its window ``i − w < j ≤ i``,
uniformly.  For ``i ≥ s + w`` the two are disjoint and every weight is
``1/(s + w)``.  For a causal row-stochastic matrix, ``vol(t) = 2t + cut(t)``
(C1: ``vol = t + Σ_{k≤t} c_k`` and ``cut = Σ_{k≤t} c_k − t``), so the landscape is
a function of the cut alone.  In the steady state ``s + w − 1 ≤ t ≤ n − w + 1``::

    cut(t) = [s (n − t) + w (w − 1)/2] / (s + w)

(each later row sends ``s/(s + w)`` to the sinks; the first ``w − 1`` rows right of
the cut also reach back into the prefix).  With ``α = s/(s + w)`` and ``x = t/n``,
``cut/n → α(1 − x)``, the volume balances at ``x_b = w/(s + 2w)`` and the
capacity tends to ``α/(2 − α) = s/(s + 2w)``: the continuum landscape is flat at
that value for every ``x ≥ x_b``.

At finite n the steady cut with ``m = n − t`` keys right of the cut, on the side
where ``vol ≥ n``, exceeds the floor by ``2K(s + w)/((s + 2w)(m(s + 2w) − K))``,
``K = w(w − 1)/2``, decreasing in m; the largest admissible m gives the upper bound
:func:`capacity_upper_bound`, of order ``w(w − 1)/((s + 2w) n)``.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["n", "t", "s", "w", "x", "m", "causal_volume_identity", "steady_cut", "continuum_landscape",
           "balance_point", "limit_capacity", "reach_back", "excess_at", "capacity_upper_bound", "upper_bound_start"]

n, t, s, w, i, m = sp.symbols("n t s w i m", integer=True, positive=True)
x = sp.symbols("x", positive=True)


def causal_volume_identity():
    """``vol(t) − (2t + cut(t))`` for causal row-stochastic A, from C1 with ``Σ_{k≤t} r_k = t``."""
    sum_c = sp.Symbol("C_t")  # Σ_{k ≤ t} c_k
    vol = t + sum_c
    cut = sum_c - t
    return sp.simplify(vol - (2 * t + cut))


def steady_cut():
    """``cut(t) = Σ_{i>t} [s + (t − i + w)⁺] / (s + w)`` summed by sympy (steady state)."""
    sinks = sp.summation(s / (s + w), (i, t + 1, n))
    reach_back = sp.summation((t - i + w) / (s + w), (i, t + 1, t + w - 1))
    return sp.simplify(sinks + reach_back)


def continuum_landscape():
    """``(φ_left(x), φ_right(x))``: cut/vol left of the balance, cut/(2 − vol) right of it."""
    cut = sp.limit(steady_cut().subs(t, x * n) / n, n, sp.oo)
    vol = 2 * x + cut
    return sp.simplify(cut / vol), sp.simplify(cut / (2 - vol)), cut


def balance_point():
    """``x_b`` solving ``2x + cut/n = 1`` in the continuum."""
    _, _, cut = continuum_landscape()
    return sp.simplify(sp.solve(sp.Eq(2 * x + cut, 1), x)[0])


def limit_capacity():
    """``lim_{n→∞} min_t φ_n(t)`` in the continuum: the right branch's constant value.

    >>> limit_capacity(), balance_point()  # a floor, at the worst cut t/n → w/(s + 2w) (C5s)
    (s/(s + 2*w), w/(s + 2*w))
    """
    _, right, _ = continuum_landscape()
    return sp.simplify(right)


def reach_back():
    """``K = w(w − 1)/2``: the window's reach back across a steady-state cut, times ``s + w``."""
    return w * (w - 1) / 2


def excess_at():
    """``φ(t) − s/(s + 2w)`` at a steady-state cut with ``vol(t) ≥ n``, ``m = n − t`` (simplified).

    >>> sp.factor(excess_at())
    2*w*(s + w)*(w - 1)/((s + 2*w)*(2*m*s + 4*m*w - w**2 + w))
    """
    cut = steady_cut().subs(t, n - m)
    vol = 2 * (n - m) + cut
    return sp.simplify(cut / (2 * n - vol) - s / (s + 2 * w))


def capacity_upper_bound():
    """``R(n)``: ``min_t φ_n(t) ≤ s/(s + 2w) + R(n)`` for every ``n ≥`` :func:`upper_bound_start`.

    The largest m with ``vol(n − m) ≥ n`` is ``m* = ⌊(n(s + w) + K)/(s + 2w)⌋``, so
    ``m*(s + 2w) − K ≥ n(s + w) − (s + 2w)``, and the excess decreases in m.
    """
    K = reach_back()
    return 2 * K * (s + w) / ((s + 2 * w) * (n * (s + w) - (s + 2 * w)))


def upper_bound_start():
    """The n from which the cut at ``m*`` lies in the steady state: ``(n − m*) ≥ s + w − 1`` and ``m* ≥ w − 1``,
    and ``n(s + w) > s + 2w`` (three lower bounds on n; the largest applies)."""
    K = reach_back()
    return ((s + w - 1) * (s + 2 * w) + K) / w, (w * (s + 2 * w) - K) / (s + w), (s + 2 * w) / (s + w)
