"""Normalised-Laplacian spectrum, λ₂ and the Cheeger sandwich."""
import itertools

import numpy as np
import pytest
from hypothesis import given

from attention_strategies import attention_matrices
from attention_transport.numerics.spectral import (
    cheeger_bounds,
    cheeger_exact,
    fiedler_sweep_cut,
    laplacian_spectrum,
    spectral_gap,
)


def oracle_cheeger(A):
    """Exact Cheeger constant of W = (A + Aᵀ)/2 over all proper subsets, by itertools."""
    W = (A + A.T) / 2
    d = W.sum(axis=1)
    n = len(A)
    best = np.inf
    for k in range(1, n):
        for X in itertools.combinations(range(n), k):
            x = np.zeros(n, dtype=bool)
            x[list(X)] = True
            denom = min(d[x].sum(), d[~x].sum())
            if denom > 0:
                best = min(best, W[x][:, ~x].sum() / denom)
    return best


def oracle_phi_W(A, X):
    W = (A + A.T) / 2
    x = np.zeros(len(A), dtype=bool)
    x[list(X)] = True
    d = W.sum(axis=1)
    return W[x][:, ~x].sum() / min(d[x].sum(), d[~x].sum())


@given(attention_matrices(max_n=8))
def test_sandwich_contains_exact_cheeger(A):
    cb = cheeger_bounds(A)
    h = oracle_cheeger(A)
    assert cb.exact == pytest.approx(h, rel=1e-10, abs=1e-13)
    assert cb.lower <= h + 1e-10
    assert h <= cb.upper_sweep + 1e-10
    assert h <= cb.upper_spectral + 1e-10


@given(attention_matrices(max_n=9))
def test_spectrum_range_and_transpose_invariance(A):
    lam = laplacian_spectrum(A)
    assert abs(lam[0]) < 1e-10
    assert lam.min() > -1e-10 and lam.max() < 2 + 1e-10
    np.testing.assert_allclose(laplacian_spectrum(A.T), lam, atol=1e-10)


@given(attention_matrices(min_n=3, max_n=9))
def test_sweep_cut_is_a_real_vertex_set(A):
    sc = fiedler_sweep_cut(A)
    assert 0 < len(sc.vertices) < len(A)
    assert sc.conductance == pytest.approx(oracle_phi_W(A, sc.vertices), rel=1e-10, abs=1e-13)


def test_disconnected_graph_has_zero_gap():
    A = np.zeros((4, 4))
    A[:2, :2] = 0.5
    A[2:, 2:] = 0.5
    assert spectral_gap(A) == pytest.approx(0.0, abs=1e-12)
    assert cheeger_exact(A) == 0.0
    assert fiedler_sweep_cut(A).conductance == pytest.approx(0.0, abs=1e-12)


def test_path_graph_table():
    # W of the 3-vertex path with unit weights: L eigenvalues 0, 1, 2; degrees (1, 2, 1), and
    # every proper cut has cut 1 and smaller side volume 1, so h = 1.
    A = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(laplacian_spectrum(A), [0.0, 1.0, 2.0], atol=1e-14)
    assert cheeger_exact(A) == pytest.approx(1.0, rel=1e-15)
    # the 4-cycle: h = 2/4 at the cut into two paths
    C = np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), -1, axis=1)
    assert cheeger_exact(C) == pytest.approx(0.5, rel=1e-15)


def test_enumeration_limit():
    with pytest.raises(ValueError, match=r"limited to n <= 5; got n = 6"):
        cheeger_exact(np.ones((6, 6)) / 6, max_n=5)
