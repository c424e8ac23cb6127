"""Numerics on attention operators: float64 at scale, exact rationals for small n.

Modules
-------
operators
    validation, degrees, ``N``, ``S``, ``K``, asymmetry coefficient ``G``.
landscapes
    prefix and bipartite conductance landscapes, capacity, worst cuts (C1).
spectral
    normalised-Laplacian spectrum, ``λ₂``, Cheeger sandwich and exact Cheeger.
patterns
    synthetic attention patterns with structural (O(n)) sums.
exact
    the prefix landscape in exact rational arithmetic.
"""
