"""Patterns without structure past the dense route: evaluated once into memory, BLAS products, a preconditioned λ₂.

A pattern file with a dense support (every key of the prefix, an ALiBi score) has no sparse form and no
structure; each product of its matrix evaluates the file's functions again.  Up to ``MATERIALISE_MAX_BYTES``
``check`` evaluates it once into a float64 matrix.  λ₂'s eigensolver is then preconditioned by the Laplacian
of the matrix's largest entries; λ₂ and its residual still come from the exact products.  Every value is
compared here with a dense computation by definition.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_transport import check as check_module
from attention_transport.check import check_pattern
from attention_transport.numerics import structured
from attention_transport.numerics.patterns import masked, parse_pattern
from attention_transport.numerics.patterns.matrix import dense_matrix_pattern, materialised_pattern
from attention_transport.numerics.landscapes import prefix_landscape
from attention_transport.numerics.spectral import laplacian_spectrum
from attention_transport.numerics.structured import _sparsified, pattern_fiedler
from attention_transport.theory import laws

from attention_strategies import attention_matrices


def _alibi(n, slope=1 / 16, bonus=2.0, causal=True):
    """Row-stochastic ALiBi with a sink bonus, by definition (a dense support: no sparse form)."""
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    logits = -slope * np.abs(i - j) + np.where(j == 0, bonus, 0.0)
    logits = np.where(j <= i, logits, -np.inf) if causal else logits
    W = np.exp(logits - logits.max(axis=1, keepdims=True))
    return W / W.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- products of a dense matrix
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(), (5,)])
def test_dense_matrix_products_equal_the_definition(causal, dtype, shape):
    """The causal float64 route uses one symmetric BLAS product on the lower triangle plus the diagonal; the
    others convert float32 chunks once.  All equal (A + Aᵀ) x, A x and Aᵀ x."""
    n = 300
    A = _alibi(n, slope=0.05, causal=causal).astype(dtype)
    P = dense_matrix_pattern(A)
    assert P.causal is causal
    x = np.random.default_rng(1).standard_normal((n,) + shape)
    A64 = A.astype(np.float64)
    np.testing.assert_allclose(P.symmetric_product(n, x), (A64 + A64.T) @ x, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(P.matvec(n, x), A64 @ x, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(P.rmatvec(n, x), A64.T @ x, rtol=1e-13, atol=1e-13)
    assert P.symmetric_product(n, x).shape == x.shape


# ---------------------------------------------------------------- the preconditioner's matrix
@given(attention_matrices(min_n=8, max_n=40, float16=False), st.integers(1, 400))
@settings(max_examples=40, deadline=None)
def test_sparsified_keeps_the_largest_entries_within_budget(A, budget):
    n = A.shape[0]
    As, tau, dropped = _sparsified(dense_matrix_pattern(A), n, budget)
    kept = A >= tau
    assert As.nnz == kept.sum() <= max(budget, 0) or tau == np.ldexp(1.0, 2047 - 1023)
    np.testing.assert_array_equal(As.toarray(), np.where(kept, A, 0.0))
    assert np.log2(tau) == int(np.log2(tau))  # a power of two
    if tau > np.ldexp(1.0, 1 - 1023):  # not already the smallest cut: halving it would keep too many
        assert (A >= tau / 2).sum() > budget
    assert dropped == pytest.approx(np.where(kept, 0.0, A).sum(axis=1).max(), abs=1e-15)


def test_a_wrong_preconditioner_cannot_change_lambda2(monkeypatch):
    """The sparsified Laplacian only preconditions: with its entries halved λ₂ is the same, because the
    eigensolver's operator and the residual are the exact products."""
    n = 700
    A = _alibi(n, slope=0.05)
    exact = float(laplacian_spectrum(A)[1])
    P = dense_matrix_pattern(A)
    good = pattern_fiedler(P, n)
    assert "preconditioned by" in good.method and good.converged
    assert good.lambda2 == pytest.approx(exact, rel=1e-8)
    real = structured._sparsified

    def halved(pattern, m, budget):
        As, tau, dropped = real(pattern, m, budget)
        return 0.5 * As, tau, dropped

    monkeypatch.setattr(structured, "_sparsified", halved)
    bad = pattern_fiedler(dense_matrix_pattern(A.copy()), n)
    assert bad.lambda2 == pytest.approx(exact, rel=1e-8) and bad.residual < 1e-9


@pytest.mark.parametrize("make", [
    lambda n: _alibi(n, slope=1 / 16),  # causal, local: a banded preconditioner
    lambda n: _alibi(n, slope=0.02, bonus=4.0, causal=False),  # bidirectional with a sink column
    lambda n: np.random.default_rng(3).dirichlet(np.ones(n), size=n),  # no locality: no preconditioner
], ids=["alibi-causal", "alibi-bidirectional", "random-dense"])
def test_lambda2_of_dense_matrices_past_the_dense_route(make):
    n = 800  # above CHOLESKY_BAND_MAX_W: the sparsified preconditioner is built
    A = make(n)
    fp = pattern_fiedler(dense_matrix_pattern(A), n)
    assert fp.converged and fp.residual < 1e-10
    assert fp.lambda2 == pytest.approx(float(laplacian_spectrum(A)[1]), rel=1e-8)


# ---------------------------------------------------------------- the reach masses of L2 and L6, streamed
def _reach_by_definition(A):
    n = A.shape[0]
    mu = np.array([min(A[i, :t].sum() for i in range(t, n)) for t in range(1, n)])
    nu = np.array([min(A[i, t:].sum() for i in range(t)) for t in range(1, n)])
    return mu, nu


@given(attention_matrices(min_n=2, max_n=30, float16=False), st.integers(1, 7))
@settings(max_examples=40, deadline=None)
def test_reach_masses_streamed_in_row_blocks_equal_the_definition(A, rows):
    n = A.shape[0]
    mu_ref, nu_ref = _reach_by_definition(A)
    old = laws.REACH_BLOCK_BYTES
    laws.REACH_BLOCK_BYTES = 8 * n * rows  # `rows` rows per block: every block boundary is crossed
    try:
        mu, nu, top = laws._reach_masses(A, n, causal=False)
        mu_causal, none, _ = laws._reach_masses(A, n, causal=True)
    finally:
        laws.REACH_BLOCK_BYTES = old
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nu, nu_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(mu_causal, mu)
    assert none is None and top == pytest.approx(A.sum(axis=1).max())


# ---------------------------------------------------------------- materialising a pattern
@pytest.mark.parametrize("spec", ["block-causal:b=7", "prefix-lm:p=9", "sparse-fixed:l=8,c=2",
                                  "union(block-causal:b=5, window:w=3)", "random-softmax:seed=3"])
def test_materialised_pattern_equals_the_dense_matrix(monkeypatch, spec):
    """One pass over small row blocks (each normalised where its mask admits keys) gives the pattern's matrix."""
    monkeypatch.setattr(masked, "row_ranges", lambda n, width: [(i, min(n, i + 7)) for i in range(0, n, 7)])
    P = parse_pattern(spec)
    n = 61
    M = materialised_pattern(P, n)
    np.testing.assert_allclose(M._A, P.dense(n), rtol=1e-14, atol=1e-16)
    assert M.source == P.spec and M.causal == bool(not np.triu(P.dense(n), 1).any())


ALIBI_FILE = """
import numpy as np


def mask_mod(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def score_mod(score, b, h, q_idx, kv_idx):
    return score - SLOPE * (q_idx - kv_idx) + np.where(kv_idx == 0, 2.0, 0.0)
"""


def _alibi_file(tmp_path, monkeypatch, slope=0.05):
    """A numpy pattern file (causal ALiBi, sink bonus 2) with no sparse form at any n, as a dense support has
    none at n = 16384: the blocked route."""
    path = tmp_path / "alibi.py"
    path.write_text(ALIBI_FILE.replace("SLOPE", repr(slope)))
    P = parse_pattern(f"file:{path}")
    monkeypatch.setattr(type(P), "sparse_from_blocks_max_n", 1)
    return P


def test_check_materialises_a_pattern_without_structure_and_agrees_with_streaming(tmp_path, monkeypatch):
    P = _alibi_file(tmp_path, monkeypatch)
    n = 700
    assert P.structure(n) == "blocked"
    kept = check_pattern(P, n, dense_max=100)
    assert kept["structure"] == "materialised"
    assert "preconditioned by" in kept["lambda2_method"] and kept["lambda2_converged"]
    monkeypatch.setattr(check_module, "MATERIALISE_MAX_BYTES", 0)
    streamed = check_pattern(P, n, dense_max=100)
    assert streamed["structure"] == "blocked"
    A = _alibi(n, slope=0.05)  # by definition
    assert kept["lambda2"] == pytest.approx(float(laplacian_spectrum(A)[1]), rel=1e-9)
    assert kept["phi"] == pytest.approx(prefix_landscape(A).capacity, rel=1e-9)
    for key in ("phi", "phi_bip", "a_star", "b_star", "G", "lambda2", "cheeger_upper_sweep"):
        assert kept[key] == pytest.approx(streamed[key], rel=1e-9, abs=1e-12), key


def test_materialising_needs_the_memory_or_streams(tmp_path, monkeypatch):
    """Without room for the 8n² bytes beside the route's own need, the passes stream row blocks instead."""
    P = _alibi_file(tmp_path, monkeypatch)
    n = 600
    need = check_module.memory_needed(P, n, dense_max=100)
    monkeypatch.setattr(check_module, "available_bytes", lambda: need + 8 * n * n - 1)
    assert check_pattern(P, n, dense_max=100)["structure"] == "blocked"
    monkeypatch.setattr(check_module, "available_bytes", lambda: need + 8 * n * n)
    assert check_pattern(P, n, dense_max=100)["structure"] == "materialised"


def test_a_materialised_causal_pattern_gets_the_certified_bounds(tmp_path, monkeypatch):
    """L2 reads the reach-back masses from the materialised matrix, streamed; its bound holds (φ is above it)."""
    P = _alibi_file(tmp_path, monkeypatch, slope=0.001)  # slow decay: every row reaches back, μ_t > 0
    n = 600
    rec = check_pattern(P, n, dense_max=100)
    assert rec["structure"] == "materialised"
    lower = [b for b in rec["certified_bounds"] if b["side"] == "lower"]
    assert [b["claim"] for b in lower] == ["L2"]  # the matrix at n is causal, though a file promises nothing
    reference = laws.structural_bounds(_alibi(n, slope=0.001), causal=True)
    assert [b["value"] for b in lower] == [b["value"] for b in reference if b["side"] == "lower"]
    assert all(b["value"] <= rec["phi"] for b in lower)


def test_a_dense_support_is_abandoned_before_any_score(tmp_path, monkeypatch):
    """Deciding that a support is too large for a sparse form reads the mask alone: a dense ALiBi file is not
    scored twice at n = 16384 before it is materialised."""
    path = tmp_path / "alibi.py"
    path.write_text(ALIBI_FILE.replace("SLOPE", "0.05"))
    P = parse_pattern(f"file:{path}")
    monkeypatch.setattr(masked, "BLOCKS_TO_SPARSE_MAX_NNZ", 100)
    calls = []
    monkeypatch.setattr(type(P), "score", lambda self, *a: calls.append(a))
    monkeypatch.setattr(type(P), "row_normalisers", lambda self, n: calls.append(n))
    assert P.sparse(300) is None and P.structure(300) == "blocked"
    assert calls == []


@given(attention_matrices(min_n=2, max_n=30, float16=False), st.integers(1, 6))
@settings(max_examples=40, deadline=None)
def test_support_shape_in_row_blocks_equals_the_nonzeros(A, rows):
    """``check_matrix`` reads causality and L1's band width in row blocks (no index arrays of 10⁸ nonzeros)."""
    from attention_transport.check import _support_shape

    i, j = np.nonzero(A)
    causal, width = _support_shape(A, block_bytes=8 * A.shape[0] * rows)
    assert causal == (not (j > i).any())
    if causal:
        assert width == int((i - j).max()) + 1
