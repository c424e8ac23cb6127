"""The prefix landscape in exact rational arithmetic.

For a matrix of exact rationals (``fractions.Fraction``, ``int`` or sympy
``Rational``) the prefix landscape is computed with no rounding at all, through
the same sums as the float path (the in-degree identity C1 with the
strictly-upper correction for non-causal A): the exact tier against which the
float64 and high-precision tiers are checked.  The tests check it against a
brute-force enumeration of the cut edges.
"""
from __future__ import annotations

from fractions import Fraction

from attention_transport.errors import AttentionTransportError, BadType

__all__ = ["exact_prefix_landscape", "exact_prefix_capacity", "exact_block_sums", "exact_bipartite_minimum"]


def _as_fraction(x):
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    p, q = getattr(x, "p", None), getattr(x, "q", None)  # sympy Rational
    if isinstance(p, int) and isinstance(q, int):
        return Fraction(p, q)
    raise BadType(f"exact landscapes need rational entries; got {x!r} of type {type(x).__name__}.")


def exact_prefix_landscape(A):
    """Exact ``φ_A(t)`` for t = 1..n−1 as ``Fraction`` (``None`` where undefined).

    Parameters
    ----------
    A : sequence of sequences of rationals, shape (n, n)
        Nonnegative.

    Returns
    -------
    list of Fraction or None, length n − 1

    Raises
    ------
    ValueError
        Non-square, n < 2, or a negative entry.

    Examples
    --------
    >>> A = [[Fraction(1, i + 1) if j <= i else 0 for j in range(3)] for i in range(3)]
    >>> exact_prefix_landscape(A)
    [Fraction(5, 17), Fraction(1, 2)]
    """
    rows = [[_as_fraction(x) for x in row] for row in A]
    n = len(rows)
    if n < 2 or any(len(row) != n for row in rows):
        raise AttentionTransportError(f"A must be a square matrix with n >= 2; got {n} rows of lengths "
                                      f"{sorted({len(row) for row in rows})}.")
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            if x < 0:
                raise AttentionTransportError(f"A must be nonnegative; got A[{i}, {j}] = {x}.")
    # cut(t) = Σ_{k≤t} (c_k − r_k) + 2 Σ_{k≤t} (s_k − u_k), vol(t) = Σ_{k≤t} (r_k + c_k), with s, u the
    # strictly-upper row and column sums (the identity of C1, exact): O(n²) rational operations.
    r = [sum(row) for row in rows]
    c = [sum(rows[i][j] for i in range(n)) for j in range(n)]
    s = [sum(rows[i][i + 1:]) for i in range(n)]
    u = [sum(rows[i][j] for i in range(j)) for j in range(n)]
    total = sum(r) + sum(c)
    out = []
    cut = vol = Fraction(0)
    for t in range(1, n):
        k = t - 1
        cut += c[k] - r[k] + 2 * (s[k] - u[k])
        vol += r[k] + c[k]
        denom = min(vol, total - vol)
        out.append(cut / denom if denom > 0 else None)
    return out


def exact_prefix_capacity(A):
    """Exact prefix capacity and the smallest worst cut ``t*``: ``(Fraction, int)``."""
    land = exact_prefix_landscape(A)
    defined = [(v, t) for t, v in enumerate(land, start=1) if v is not None]
    if not defined:
        raise AttentionTransportError("no prefix cut has positive volume on both sides.")
    return min(defined)


def exact_block_sums(A):
    """2-D prefix sums ``P[b][a] = Σ_{i<b, j<a} A_ij`` in exact rationals, shape (n + 1, n + 1).

    Raises
    ------
    ValueError
        If A is not square with n >= 2.
    """
    rows = [[_as_fraction(x) for x in row] for row in A]
    n = len(rows)
    if n < 2 or any(len(row) != n for row in rows):
        raise AttentionTransportError(f"A must be a square matrix with n >= 2; got {n} rows.")
    P = [[Fraction(0)] * (n + 1) for _ in range(n + 1)]
    for b in range(n):
        run = Fraction(0)
        for a in range(n):
            run += rows[b][a]
            P[b + 1][a + 1] = P[b][a + 1] + run
    return P


def exact_bipartite_minimum(A):
    """Exact bipartite capacity ``min_{a,b} φ_A(a, b)`` and its argmin ``(φ, a*, b*)``.

    Every cut ``X = {k_1..k_a} ∪ {q_1..q_b}``, ``0 ≤ a, b ≤ n``, in exact rationals
    through 2-D prefix sums of A (O(n²) operations); ties go to the smallest b,
    then the smallest a, as in the float path.

    Examples
    --------
    >>> A = [[Fraction(1, i + 1) if j <= i else 0 for j in range(4)] for i in range(4)]
    >>> exact_bipartite_minimum(A)
    (Fraction(13, 47), 1, 2)
    """
    P = exact_block_sums(A)
    n = len(P) - 1
    total = 2 * P[n][n]
    best = None
    for b in range(n + 1):
        for a in range(n + 1):
            vol = P[b][n] + P[n][a]
            denom = min(vol, total - vol)
            if denom > 0:
                phi = (vol - 2 * P[b][a]) / denom
                if best is None or phi < best[0]:
                    best = (phi, a, b)
    if best is None:
        raise AttentionTransportError("no bipartite cut has positive volume on both sides.")
    return best
