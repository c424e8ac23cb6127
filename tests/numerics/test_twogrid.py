"""λ₂ of wide bands by Rayleigh–Ritz on hats plus residual directions (numerics/twogrid.py), against dense
matrices built by definition: the hat space, its Galerkin matrix, the eigenvalue, and the route inside
pattern_fiedler."""
import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.sparse import linalg as spla

from attention_transport.numerics import structured
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.twogrid import HatSpace, two_grid_fiedler


def hub_band_matrix(n, h, w, seed):
    """A random row-stochastic A whose rows reach the first h tokens anywhere and otherwise a band of width w
    (causal or not), with every row's own token and previous token in its support."""
    rng = np.random.default_rng(seed)
    A = np.zeros((n, n))
    causal = bool(rng.integers(2))
    for i in range(n):
        lo, hi = max(0, i - w + 1), (i + 1 if causal else min(n, i + w))
        A[i, lo:hi] = rng.random(hi - lo) + 0.1
        A[i, :h] = rng.random(h) + 0.1 if i >= h else A[i, :h]
    return A / A.sum(axis=1, keepdims=True)


def laplacian(A):
    W = 0.5 * (A + A.T)
    d = W.sum(axis=1)
    return np.eye(A.shape[0]) - W / np.sqrt(np.outer(d, d)), d


def dense_hats(Z):
    """Z as a dense (n, h + K) matrix, from lifting the unit coarse vectors."""
    return Z.lift(np.eye(Z.size))


@given(st.integers(20, 200), st.integers(0, 4), st.integers(1, 30), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_the_hat_space(n, h, spacing, seed):
    """restrict is lift's transpose, the Gram matrix is ZᵀZ, the hats are unit vectors that sum (weighted by
    their norms) to D^{1/2} 1, and every gap between nodes is at least the spacing asked for."""
    rng = np.random.default_rng(seed)
    d = rng.random(n) + 0.2
    Z = HatSpace(d, h, spacing)
    M = dense_hats(Z)
    Y = rng.standard_normal((n, 3))
    np.testing.assert_allclose(Z.restrict(Y), M.T @ Y, atol=1e-12)
    np.testing.assert_allclose(Z.gram(), M.T @ M, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(M, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(Z.lift(Z.null)[:, 0], np.sqrt(d), atol=1e-12)
    assert Z.spacing >= min(spacing, n - h - 1)


@given(st.integers(40, 160), st.integers(0, 3), st.integers(1, 8), st.integers(0, 3), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_the_galerkin_matrix_is_zt_l_z(n, h, w, extra, seed):
    """Zᵀ L Z from 5 + h products equals the dense product, for hats at least w apart."""
    A = hub_band_matrix(n, h, w, seed)
    L, d = laplacian(A)
    Z = HatSpace(d, h, w + extra)
    M = dense_hats(Z)
    np.testing.assert_allclose(Z.galerkin(lambda X: L @ X, w), M.T @ L @ M, atol=1e-12)


def test_the_galerkin_matrix_refuses_hats_closer_than_the_band():
    A = hub_band_matrix(100, 2, 9, 0)
    L, d = laplacian(A)
    with pytest.raises(ValueError, match="under the bandwidth 9"):
        HatSpace(d, 2, 5).galerkin(lambda X: L @ X, 9)


@given(st.integers(0, 4), st.integers(4, 24), st.integers(8, 16), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_two_grids_find_lambda2(h, w, blocks, seed):
    """The Rayleigh–Ritz value agrees with dense eigvalsh to the residual's order, and is never below λ₂."""
    n = h + blocks * w
    A = hub_band_matrix(n, h, w, seed)
    L, d = laplacian(A)
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    u, lam, res, steps, what = two_grid_fiedler(lambda X: L @ X, d, v1, h, w, 1e-12)
    exact = linalg.eigvalsh(L, subset_by_index=[0, 2])
    assert res <= 1e-11
    assert lam >= exact[1] - 1e-12
    assert abs(lam - exact[1]) <= 1e-10
    assert abs(u @ v1) <= 1e-12 and abs(np.linalg.norm(u) - 1) <= 1e-12
    np.testing.assert_allclose(np.linalg.norm(L @ u - lam * u), res, rtol=1e-6, atol=1e-15)
    assert "residual direction" in what


def test_a_direction_budget_of_zero_returns_the_coarse_ritz_value():
    """With no residual directions the value is the coarse Rayleigh–Ritz value: an upper bound, with its residual."""
    A = hub_band_matrix(300, 2, 10, 3)
    L, d = laplacian(A)
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    u, lam, res, steps, _ = two_grid_fiedler(lambda X: L @ X, d, v1, 2, 10, 1e-12, max_steps=0)
    exact = linalg.eigvalsh(L, subset_by_index=[1, 1])[0]
    assert steps == 0 and lam >= exact - 1e-14 and res > 1e-8
    np.testing.assert_allclose(res, np.linalg.norm(L @ u - lam * u), rtol=1e-9)


@pytest.mark.parametrize("spec", ["streaming-llm:s=4,w=40", "mistral:w=40", "stack(sink-window:s=2,w=30, window:w=8)"])
@pytest.mark.parametrize("sparse", [True, False])
def test_pattern_fiedler_takes_the_two_grid_route(monkeypatch, spec, sparse):
    """With the banded factor's limit lowered below the band, λ₂ of sink and window presets comes from two grids,
    through the sparse Laplacian or the pattern's products, and agrees with the dense matrix."""
    n = 900
    monkeypatch.setattr(structured, "CHOLESKY_BAND_MAX_W", 16)
    pattern = parse_pattern(spec)
    if not sparse:
        monkeypatch.setattr(type(pattern), "sparse", lambda self, n: None)
    fp = structured.pattern_fiedler(pattern, n)
    L, _ = laplacian(pattern.dense(n))
    exact = linalg.eigvalsh(L, subset_by_index=[1, 1])[0]
    assert "two grids" in fp.method, fp.method
    assert ("sparse Laplacian" in fp.method) == sparse
    assert fp.converged and abs(fp.lambda2 - exact) <= 1e-10


def test_superlu_reports_go_to_stderr_not_into_json(capfd, monkeypatch):
    """A sparse LU that SuperLU cannot fit prints from C onto stdout; the preconditioner's attempt sends that to
    stderr (stdout carries `check --json`) and falls back to no preconditioner."""
    def failing_splu(*args, **kwargs):
        os.write(1, b"Not enough memory to perform factorization.\n")
        raise MemoryError("SuperLU")

    monkeypatch.setattr(spla, "splu", failing_splu)
    P = parse_pattern("longformer:w=16,g=1")
    A = P.sparse(700)
    L, d = laplacian(A.toarray())
    got = structured._sparse_preconditioner(sp.csc_matrix(L), A, 700, None)
    out, err = capfd.readouterr()
    assert got == (None, None, None)
    assert "Not enough memory" not in out and "Not enough memory" in err
    print("after")  # stdout itself is back
    assert capfd.readouterr().out == "after\n"
