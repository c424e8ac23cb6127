"""The accuracy the landscapes guarantee (docs/theory.md §1): every cut to ``CUT_RTOL`` relative,
on heads whose capacity spans 1e-300 … 1, against exact rational arithmetic.

The in-degree identity alone gives φ = 0 at a wrong t* on these heads (issue: power-law:p=300 at
n = 6, and the 3×3 matrix below); the oracle here is the cut summed exactly in ``Fraction``.
"""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings

from attention_strategies import tiny_capacity_matrices
from attention_transport.check import check_matrix, check_pattern
from attention_transport.numerics.landscapes import (
    CUT_RTOL,
    bipartite_landscape,
    bipartite_minimum,
    prefix_landscape,
    prefix_landscape_from_sums,
)


def _exact(A):
    return [[Fraction(float(x)) for x in row] for row in A]


def _cut(F, queries, keys):
    n = len(F)
    return sum(F[i][j] for i in range(n) for j in range(n) if (i in queries) != (j in keys))


def _vol(F, queries, keys):
    n = len(F)
    return sum(sum(F[i]) for i in queries) + sum(F[i][j] for i in range(n) for j in keys)


def exact_prefix(A):
    F, n = _exact(A), len(A)
    total = 2 * sum(sum(row) for row in F)
    phis = []
    for t in range(1, n):
        X = set(range(t))
        vol = _vol(F, X, X)
        phis.append(_cut(F, X, X) / min(vol, total - vol))
    best = min(phis)
    return best, phis.index(best) + 1


def exact_bipartite(A):
    F, n = _exact(A), len(A)
    total = 2 * sum(sum(row) for row in F)
    best = None
    for b in range(n + 1):
        for a in range(n + 1):
            Q, K = set(range(b)), set(range(a))
            vol = _vol(F, Q, K)
            if min(vol, total - vol) > 0:
                phi = _cut(F, Q, K) / min(vol, total - vol)
                best = phi if best is None else min(best, phi)
    return best


def _close(x, exact, rtol):
    if exact == 0:
        return x == 0
    return abs(Fraction(x) - exact) <= Fraction(rtol) * exact


@settings(max_examples=120, deadline=None)
@given(tiny_capacity_matrices())
def test_prefix_capacity_keeps_its_digits_at_every_scale(A):
    land = prefix_landscape(A)
    phi, t = exact_prefix(A)
    assert _close(land.capacity, phi, 4 * CUT_RTOL), (land.capacity, float(phi))
    assert land.capacity_rel_error <= 4 * CUT_RTOL
    if phi > 0:  # the worst cut itself, where it is unique to rounding
        assert land.phi[t - 1] == pytest.approx(float(phi), rel=4 * CUT_RTOL)


@settings(max_examples=60, deadline=None)
@given(tiny_capacity_matrices(max_n=7))
def test_bipartite_capacity_keeps_its_digits_at_every_scale(A):
    bm = bipartite_minimum(A)
    exact = exact_bipartite(A)
    assert _close(bm.phi, exact, 4 * CUT_RTOL), (bm.phi, float(exact))
    table = bipartite_landscape(A)
    assert _close(float(np.nanmin(table)), exact, 4 * CUT_RTOL)


def test_the_identity_alone_loses_the_cut_and_the_bound_says_so():
    """Without the direct sums the identity returns φ = 0 at t = 1; its own error bound flags it."""
    A = np.array([[1, 0, 0], [1e-20, 1, 0], [1e-30, 1e-30, 1]])
    bare = prefix_landscape_from_sums(A.sum(axis=1), A.sum(axis=0))
    assert bare.capacity == 0.0 and bare.capacity_rel_error == float("inf")
    land = prefix_landscape(A)
    assert (land.capacity, land.t_star) == (pytest.approx(1e-30, rel=1e-15), 2)


@pytest.mark.parametrize("A, phi, t", [
    (np.array([[1, 0, 0], [1e-20, 1, 0], [1e-30, 1e-30, 1]]), 1e-30, 2),
])
def test_check_matrix_reports_the_tiny_capacity(A, phi, t):
    A = A / A.sum(axis=1, keepdims=True)
    rec = check_matrix(A, row_tol=None)
    assert (rec["phi"], rec["t_star"]) == (pytest.approx(phi, rel=1e-12), t)
    assert rec["phi_bip"] == pytest.approx(float(exact_bipartite(A)), rel=1e-12)
    assert rec["cheeger_upper"] >= rec["cheeger_exact"] >= rec["cheeger_lower"]


def test_power_law_300_at_n_6():
    """φ = 8.18e-92 at t* = 3, not 0 at t* = 1; the Cheeger sandwich holds the exact h."""
    from attention_transport.numerics.patterns import parse_pattern

    A = parse_pattern("power-law:p=300").dense(6)
    phi, t = exact_prefix(A)
    rec = check_pattern("power-law:p=300", 6)
    assert (rec["phi"], rec["t_star"]) == (pytest.approx(float(phi), rel=1e-12), t)
    assert rec["phi"] == pytest.approx(8.18e-92, rel=1e-3) and t == 3
    assert rec["phi_bip"] == pytest.approx(float(exact_bipartite(A)), rel=1e-12)
    assert rec["cheeger_lower"] <= rec["cheeger_exact"] <= rec["cheeger_upper"]


def test_structured_route_certifies_a_zero_cut_and_skips_what_it_cannot_resolve():
    """A document boundary is an exact zero cut: the structured route sums it directly.  Past the
    direct limit a capacity below the identity's accuracy is skipped with its bound, never printed."""
    rec = check_pattern("document:L=7,bos=0", 40, dense_max=8)
    assert rec["phi"] == 0.0 and rec["phi_bip"] == 0.0
    rec = check_pattern("power-law:p=300", 20000)
    assert rec["phi"] is None and "relative error bound" in rec["skipped"]["phi"]
