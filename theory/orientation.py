"""Orientation blindness (C6) and the direction bound (C7) on generic symbolic matrices.

A generic ``n × n`` attention matrix has independent positive symbols as entries.
Its merged degrees ``d = (A1 + Aᵀ1)/2`` are symmetric in A ↔ Aᵀ, so every
object built from ``D = diag(d)`` and ``W = (A + Aᵀ)/2`` is the same for A and
Aᵀ, while ``K = (N − Nᵀ)/2`` changes sign.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["generic_matrix", "degrees", "normalised", "symmetric", "antisymmetric", "gamma_family",
           "frobenius_inner", "frobenius_sq"]


def generic_matrix(n, name="a"):
    """``(n, n)`` matrix of independent positive symbols ``a_i_j``."""
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{name}_{i + 1}_{j + 1}", positive=True))


def degrees(A):
    """Merged degrees ``d_i = (r_i + c_i)/2``."""
    n = A.shape[0]
    return [(sum(A.row(i)) + sum(A.col(i))) / 2 for i in range(n)]


def normalised(A, d=None):
    """``N = D^{-1/2} A D^{-1/2}``; with ``d`` given, D is that diagonal (for generic-D identities)."""
    d = degrees(A) if d is None else d
    n = A.shape[0]
    return sp.Matrix(n, n, lambda i, j: A[i, j] / sp.sqrt(d[i] * d[j]))


def symmetric(N):
    """``S = (N + Nᵀ)/2``."""
    return (N + N.T) / 2


def antisymmetric(N):
    """``K = (N − Nᵀ)/2``."""
    return (N - N.T) / 2


def gamma_family(A, gamma):
    """``A_γ = ((1 + γ) A + (1 − γ) Aᵀ)/2``.

    Every member shares the symmetric part S of A (C6):

    >>> A = generic_matrix(2)
    >>> sp.simplify(symmetric(normalised(gamma_family(A, sp.Rational(1, 3)))) - symmetric(normalised(A)))
    Matrix([
    [0, 0],
    [0, 0]])
    """
    return ((1 + gamma) * A + (1 - gamma) * A.T) / 2


def frobenius_inner(X, Y):
    """``⟨X, Y⟩_F = Σ X_ij Y_ij``."""
    return sum(X[i, j] * Y[i, j] for i in range(X.shape[0]) for j in range(X.shape[1]))


def frobenius_sq(X):
    """``‖X‖_F²``."""
    return frobenius_inner(X, X)
