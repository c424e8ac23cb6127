"""Operators N, S, K and the asymmetry coefficient G: tables, oracles, properties, errors."""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from attention_strategies import attention_matrices, bidirectional_matrices, causal_matrices, nonnegative_matrices
from attention_transport.numerics.operators import (
    antisymmetric_part,
    asymmetry_coefficient,
    column_sums,
    is_causal,
    merged_degrees,
    normalised_operator,
    row_sums,
    symmetric_part,
    validate_attention,
)


def oracle_N(A):
    """N_ij = A_ij / sqrt(d_i d_j) by explicit loops."""
    n = len(A)
    d = [(sum(A[i]) + sum(A[k][i] for k in range(n))) / 2 for i in range(n)]
    return np.array([[A[i][j] / (d[i] * d[j]) ** 0.5 for j in range(n)] for i in range(n)])


# ---------------------------------------------------------------- exact tables
def test_two_token_table():
    A = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_array_equal(row_sums(A), [1.0, 1.0])
    np.testing.assert_array_equal(column_sums(A), [1.5, 0.5])
    np.testing.assert_array_equal(merged_degrees(A), [1.25, 0.75])
    N = normalised_operator(A)
    np.testing.assert_allclose(N, [[0.8, 0.0], [0.5 / np.sqrt(1.25 * 0.75), 0.5 / 0.75]], rtol=1e-15)
    # causal G² = (ΣN² − Σdiag²)/(ΣN² + Σdiag²) with ΣN² = .64 + 4/15 + 4/9, Σdiag² = .64 + 4/9
    off, diag = 4 / 15, 0.64 + 4 / 9
    assert asymmetry_coefficient(A) == pytest.approx(np.sqrt(off / (off + 2 * diag)), rel=1e-14)


def test_symmetric_matrix_has_zero_G_exactly():
    A = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
    assert asymmetry_coefficient(A) == 0.0
    np.testing.assert_array_equal(antisymmetric_part(A), 0.0)


# ---------------------------------------------------------------- oracles
@given(nonnegative_matrices())
def test_normalised_operator_matches_loops(A):
    np.testing.assert_allclose(normalised_operator(A), oracle_N(A.tolist()), rtol=1e-12, atol=1e-15)


@given(attention_matrices())
def test_S_and_K_split_N(A):
    N, S, K = normalised_operator(A), symmetric_part(A), antisymmetric_part(A)
    np.testing.assert_allclose(S + K, N, atol=1e-14)
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_array_equal(K, -K.T)
    d = merged_degrees(A)
    W = (A + A.T) / 2
    np.testing.assert_allclose(S, W / np.sqrt(np.outer(d, d)), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- properties
@given(attention_matrices())
def test_transposition_commutes_with_normalisation(A):
    np.testing.assert_allclose(normalised_operator(A.T), normalised_operator(A).T, rtol=1e-14, atol=0)
    assert asymmetry_coefficient(A.T) == pytest.approx(asymmetry_coefficient(A), rel=1e-12, abs=1e-15)


@given(causal_matrices())
def test_causal_G_formula(A):
    N = normalised_operator(A)
    tot, dg = (N ** 2).sum(), (np.diag(N) ** 2).sum()
    assert asymmetry_coefficient(A) == pytest.approx(np.sqrt((tot - dg) / (tot + dg)), rel=1e-10, abs=1e-12)


@given(causal_matrices())
def test_causal_G_is_a_function_of_the_diagonal_share(A):
    """C7d: on a causal head ‖S‖² = D + O/2 and ‖K‖² = O/2, so G² = (1 − ρ)/(1 + ρ) with ρ the diagonal share."""
    N = normalised_operator(A)
    diag = (np.diag(N) ** 2).sum()
    off = (np.where(np.eye(len(N), dtype=bool), 0.0, N) ** 2).sum()  # summed directly: no cancellation
    S, K = symmetric_part(A), antisymmetric_part(A)
    assert (S ** 2).sum() == pytest.approx(diag + off / 2, rel=1e-12)
    assert (K ** 2).sum() == pytest.approx(off / 2, rel=1e-12, abs=1e-300)
    rho = diag / (diag + off)
    assert asymmetry_coefficient(A) ** 2 == pytest.approx((1 - rho) / (1 + rho), rel=1e-10, abs=1e-12)


@given(attention_matrices(), st.floats(-1.0, 1.0))
def test_gamma_family_keeps_S_and_scales_G(A, gamma):
    """C6: A_γ = ((1+γ)A + (1−γ)Aᵀ)/2 has the same S and G(A_γ) = |γ| G(A)."""
    Ag = ((1 + gamma) * A + (1 - gamma) * A.T) / 2
    np.testing.assert_allclose(symmetric_part(Ag), symmetric_part(A), atol=1e-13)
    assert asymmetry_coefficient(Ag) == pytest.approx(abs(gamma) * asymmetry_coefficient(A), abs=1e-12)


@given(attention_matrices())
@example(np.array([[0.5, 0.5], [0.5, 0.5]]))
def test_G_zero_iff_symmetric(A):
    G = asymmetry_coefficient(A)
    assert 0.0 <= G <= 1.0
    assert (G == 0.0) == bool(np.array_equal(A, A.T))


@given(bidirectional_matrices())
def test_is_causal_exact(A):
    assert is_causal(A) == (not np.triu(A, 1).any())
    B = np.tril(A)
    assert is_causal(B)
    B[0, 1] = 5e-324  # the smallest subnormal is still not causal
    assert not is_causal(B)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "A, kwargs, exc, message",
    [
        (np.ones((2, 3)) / 3, {}, ValueError, r"must be square; got shape \(2, 3\)"),
        (np.zeros((0, 0)), {}, ValueError, r"must be non-empty; got shape \(0, 0\)"),
        (np.ones((1, 1)), {}, ValueError, r"needs n >= 2 tokens .* got n = 1"),
        (np.ones(4), {}, ValueError, r"must be a 2-D \(n, n\) matrix; got shape \(4,\)"),
        (np.array([[0.5, 0.5], [-0.25, 1.25]]), {}, ValueError, r"nonnegative; got A\[1, 0\] = -0.25"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), {}, ValueError, r"finite; got A\[0, 0\] = nan"),
        (np.array([[np.inf, 1.0], [0.5, 0.5]]), {}, ValueError, r"finite; got A\[0, 0\] = inf"),
        (np.array([[0.5, 0.5], [0.5, 0.6]]), {"row_tol": 1e-6}, ValueError,
         r"rows of A must sum to 1 within 1e-06; got row 1 summing to 1.1"),
        (np.array([["a", "b"], ["c", "d"]]), {}, TypeError, r"real numeric matrix; got dtype <U1"),
    ],
)
def test_validation_errors(A, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        validate_attention(A, **kwargs)


@pytest.mark.parametrize("dtype, off, ok", [(np.float16, 1.5e-2, True), (np.float16, 3e-2, False),
                                            (np.float32, 5e-6, True), (np.float32, 5e-5, False),
                                            (np.float64, 1e-10, True), (np.float64, 1e-8, False)])
def test_auto_row_tolerance_by_dtype(dtype, off, ok):
    A = np.array([[1.0 + off, 0.0], [0.5, 0.5]]).astype(dtype)
    actual = float(A.astype(np.float64).sum(axis=1)[0]) - 1.0
    if ok:
        validate_attention(A, row_tol="auto")
    else:
        with pytest.raises(ValueError, match="rows of A must sum to 1 within"):
            validate_attention(A, row_tol="auto")
    assert abs(actual - off) < 1e-3  # the perturbation survived the dtype


def test_zero_degree_vertex_is_named():
    A = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.5]])
    with pytest.raises(ValueError, match=r"zero-degree vertex .* got d\[1\] = 0"):
        normalised_operator(A)
    with pytest.raises(ValueError, match="zero-degree"):
        asymmetry_coefficient(A)
