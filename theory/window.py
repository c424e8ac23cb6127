"""Window attention ``A[i, j] = 1/min(i, w)`` for ``i − w < j ≤ i`` (C5), derived by sympy.

Column sums (1-based)::

    j < w:              c_j = Σ_{i=j}^{w−1} 1/i + Σ_{i=w}^{j+w−1} 1/w = H_{w−1} − H_{j−1} + j/w
    w ≤ j ≤ n − w + 1:  c_j = Σ_{i=j}^{j+w−1} 1/w = 1
    j > n − w + 1:      c_j = (n − j + 1)/w

By C1 the cut on the plateau ``w − 1 ≤ t ≤ n − w + 1`` is the constant
``Σ_{k<w} (c_k − 1) = (w − 1)/2`` and ``vol(t) = 2t + (w − 1)/2``.  The
minimum over real t is ``(w − 1)/(2n)`` at ``t = n/2 − (w − 1)/4``; over integer
t (for ``n ≥ 5(w − 1)/2``) it is ``(w − 1) / (2(n − δ))`` with ``δ`` the distance
from ``n − (w − 1)/2`` to the nearest even integer; and ``φ < 1/5`` first
happens at ``n = ⌊5(w − 1)/2⌋ + 2``.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

from attention_transport.theory import uniform_causal as uc

__all__ = ["n", "t", "w", "j", "i", "column_sum_left", "column_sum_plateau", "column_sum_right",
           "plateau_cut", "plateau_volume", "real_minimum", "right_tail_landscape",
           "integer_minimum", "first_piercing_n", "bipartite_block_sum", "bipartite_cut",
           "bipartite_cut_minimum", "bipartite_threshold", "bipartite_minimum"]

n, t, w, j, i, m = sp.symbols("n t w j i m", integer=True, positive=True)
T = sp.Symbol("T", positive=True)  # a real cut position
H = sp.harmonic


def column_sum_left():
    """``c_j`` for ``j < w``: rows ``j..w−1`` give ``1/i``, rows ``w..j+w−1`` give ``1/w``."""
    first = sp.summation(1 / i, (i, 1, w - 1)) - sp.summation(1 / i, (i, 1, j - 1))
    return first + sp.summation(1 / w, (i, w, j + w - 1))


def column_sum_plateau():
    """``c_j = Σ_{i=j}^{j+w−1} 1/w`` for ``w ≤ j ≤ n − w + 1``."""
    return sp.summation(1 / w, (i, j, j + w - 1))


def column_sum_right():
    """``c_j = Σ_{i=j}^{n} 1/w`` for ``j > n − w + 1``."""
    return sp.summation(1 / w, (i, j, n))


def plateau_cut():
    """``Σ_{k=1}^{w−1} (c_k − 1)``: the cut for every t on the plateau.

    >>> plateau_cut()
    w/2 - 1/2
    """
    k = sp.Symbol("k", integer=True, positive=True)
    c_left = column_sum_left().subs(j, k)
    # Σ_k H_{k−1} over k ≤ w − 1 is the C2 exchange with t → w − 1
    s_h = uc.harmonic_prefix_sum().subs(uc.t, w - 1)
    total = (w - 1) * H(w - 1) - s_h + sp.summation((c_left - H(w - 1) + H(k - 1)), (k, 1, w - 1)) - (w - 1)
    return sp.simplify(sp.expand(total).subs(H(w - 2), H(w - 1) - 1 / (w - 1)))


def plateau_volume():
    """``vol(t) = Σ_{k ≤ t} (1 + c_k) = t + (t + cut) = 2t + (w − 1)/2`` on the plateau."""
    return 2 * t + plateau_cut()


def real_minimum():
    """``(t_balance, φ_min)`` over real t on the plateau: where ``vol = n``.

    >>> real_minimum()  # capacity O(w/n) (C5)
    (n/2 - w/4 + 1/4, (w - 1)/(2*n))
    """
    vol = plateau_volume().subs(t, T)
    tb = sp.solve(sp.Eq(vol, n), T)[0]
    return sp.simplify(tb), sp.simplify(plateau_cut() / vol.subs(T, tb))


def right_tail_landscape():
    """``φ`` at ``m = n − t ≤ w − 1`` tokens right of the cut: ``(1 − (m+1)/(2w)) / (1 + (m+1)/(2w))``."""
    k = sp.Symbol("k", integer=True, positive=True)
    cut = sp.summation(1 - column_sum_right().subs(j, k), (k, n - m + 1, n))
    comp = sp.summation(1 + column_sum_right().subs(j, k), (k, n - m + 1, n))
    return sp.simplify(cut / comp)


def _delta(n_val, w_val):
    target = Fraction(n_val) - Fraction(w_val - 1, 2)
    below = 2 * (target // 2)
    return min(target - below, below + 2 - target)


def integer_minimum(n_val, w_val):
    """``(w − 1) / (2(n − δ))`` as a Fraction (valid for ``n ≥ 5(w − 1)/2``)."""
    return Fraction(w_val - 1, 2) / (n_val - _delta(n_val, w_val))


def first_piercing_n(w_val):
    """First n with ``φ < 1/5``: ``⌊5(w − 1)/2⌋ + 2``.

    >>> first_piercing_n(16), integer_minimum(1000, 16)
    (39, Fraction(15, 1999))
    """
    return (5 * (w_val - 1)) // 2 + 2


def bipartite_block_sum():
    """``Σ_{i ≤ a+m, j ≤ a} A_ij`` on the plateau for ``0 ≤ m < w``: rows ``≤ a`` give 1 each,
    row ``a + d`` gives ``(w − d)/w``."""
    a, d = sp.symbols("a d", integer=True, positive=True)
    return a + sp.summation((w - d) / w, (d, 1, m))


def bipartite_cut():
    """``cut(a, a + m) = R_b + C_a − 2M`` with ``R_b = a + m`` and ``C_a = a + (w − 1)/2`` (plateau)."""
    a = sp.Symbol("a", integer=True, positive=True)
    return sp.simplify((a + m) + (a + (w - 1) / 2) - 2 * bipartite_block_sum())


def bipartite_cut_minimum(w_val):
    """Minimum of the cut over integer ``0 ≤ m < w``, as a Fraction."""
    cut = bipartite_cut()
    return min(Fraction(str(cut.subs({w: w_val, m: mm}))) for mm in range(w_val))


def bipartite_threshold(w_val):
    """``N_b(w)``: from this n on the plateau formula :func:`bipartite_minimum` is the bipartite capacity — checked
    exactly (every (a, b)) for w ≤ 20 and n ≤ 8w, and sharp there: it fails at ``N_b(w) − 1``.  ``3w − 4`` for
    even w, ``max(3w − 4, (w² − 1)/4)`` for odd w (the odd-w term takes over from w = 13).  A conjecture beyond.

    >>> [bipartite_threshold(w) for w in (2, 8, 11, 13, 16)]
    [2, 20, 30, 42, 44]
    """
    base = 3 * w_val - 4
    return base if w_val % 2 == 0 else max(base, (w_val * w_val - 1) // 4)


def bipartite_minimum(n_val, w_val):
    """``φ_bip = cut_b / (n − δ_b)``: ``δ_b = 1/2`` for even w; for odd w, 0 when
    ``n ≡ w − 1 (mod 2)`` and 1 otherwise (valid for ``n`` large against ``w²/4``)."""
    if w_val % 2 == 0:
        delta = Fraction(1, 2)
    else:
        delta = Fraction(0) if (n_val - (w_val - 1)) % 2 == 0 else Fraction(1)
    return bipartite_cut_minimum(w_val) / (n_val - delta)
