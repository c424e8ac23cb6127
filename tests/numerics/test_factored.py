"""Patterns ``A = Φ Ψ`` through few classes of rows (``numerics/patterns/factored.py``): BigBird and its stacks
with sparse layers, their sums, G, λ₂ and sweep cut against the dense matrix built by definition."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from scipy import linalg

from attention_transport.check import check_pattern
from attention_transport.errors import WontFit
from attention_transport.numerics.patterns import base, parse_pattern
from attention_transport.numerics.patterns.compose import Stack, _product_flops
from attention_transport.numerics.patterns.factored import (
    SKEW_MIN_SHARE,
    factored_skew_norms,
    factored_sums,
    row_running_sums,
)
from attention_transport.numerics import structured
from attention_transport.numerics.patterns.presets import BigBird
from attention_transport.numerics.structured import (
    _factored_fiedler,
    _sweep_factored,
    _sweep_sparse,
    pattern_fiedler,
)

from test_pattern_objects import ALL

FACTORED = ["stack(bigbird:b=8,g=1,r=2, window:w=5)", "stack(window:w=5, bigbird:b=8,g=1,r=2)",
            "stack(bidirectional-window:w=3, bigbird:b=8,g=1,r=2, window:w=4)", "repeat(bigbird:b=8,g=1,r=2, 2)",
            "stack(bigbird:b=8,g=1,r=2, longformer:w=8,g=1)", "stack(window:w=3, repeat(bigbird:b=8,g=0,r=1, 2))"]


def _drop_sparse(monkeypatch):
    """BigBird and stacks without sparse forms, as at n = 10⁶ where theirs would pass 10⁸ nonzeros."""
    sparse = base.Pattern.sparse
    monkeypatch.setattr(base.Pattern, "sparse",
                        lambda self, n: None if isinstance(self, (Stack, BigBird)) else sparse(self, n))
    base._factors_cached.cache_clear()


@pytest.fixture
def no_sparse(monkeypatch):
    _drop_sparse(monkeypatch)
    yield
    base._factors_cached.cache_clear()


def _by_definition(P, n):
    """The matrix as the product of its layers' own blocks (never through factors)."""
    if isinstance(P, Stack):
        A = np.eye(n)
        for layer in P.layers:
            A = _by_definition(layer, n) @ A
        return A
    return P.block(n, 0, n, 0, n)


def _dense_sums(A):
    return A.sum(axis=1), A.sum(axis=0), np.triu(A, 1).sum(axis=1), np.triu(A, 1).sum(axis=0)


def _skew(A):
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    N = A / np.sqrt(np.outer(d, d))
    return ((N - N.T) ** 2).sum(), ((N + N.T) ** 2).sum(), 1 / np.sqrt(d)


@st.composite
def factor_pairs(draw, max_n=30):
    """Nonnegative ``(Φ, Ψ)``, (n, m) and (m, n): a few classes a row, rows of Ψ sparse or dense, explicit zeros."""
    n = draw(st.integers(2, max_n))
    m = draw(st.integers(1, min(n, 8)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    per_row = draw(st.integers(1, m))
    Phi = np.zeros((n, m))
    for i in range(n):
        Phi[i, rng.choice(m, size=per_row, replace=False)] = rng.random(per_row)
    for i in rng.choice(n, size=draw(st.integers(0, min(3, n))), replace=False):
        Phi[i] = rng.random(m)  # rows meeting every class: global rows after BigBird
    density = draw(st.sampled_from([0.1, 0.5, 1.0]))
    Psi = rng.random((m, n)) * (rng.random((m, n)) < density)
    if draw(st.booleans()):
        Psi[0] = rng.random(n)  # a dense row: a global query
    return sp.csr_matrix(Phi), sp.csr_matrix(Psi)


@given(factor_pairs())
@settings(max_examples=80, deadline=None)
def test_factored_sums_are_the_products_sums(pair):
    Phi, Psi = pair
    A = (Phi @ Psi).toarray()
    got = factored_sums(Phi, Psi)
    for x, y in zip((got.r, got.c, got.s, got.u), _dense_sums(A)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


@given(factor_pairs(), st.booleans())
@settings(max_examples=60, deadline=None)
def test_running_sums_restart_on_every_row(pair, reverse):
    M = pair[1]
    M.sum_duplicates()
    T = row_running_sums(M, reverse=reverse)
    for a in range(M.shape[0]):
        data = M.data[M.indptr[a]:M.indptr[a + 1]]
        want = np.cumsum(data[::-1])[::-1] if reverse else np.cumsum(data)
        np.testing.assert_allclose(T[M.indptr[a]:M.indptr[a + 1]], want, rtol=1e-14, atol=0)


def test_running_sums_of_rows_longer_than_a_chunk(monkeypatch):
    from attention_transport.numerics.patterns import factored

    monkeypatch.setattr(factored, "_CHUNK_CELLS", 16)  # every row alone, some of them past the chunk
    M = sp.csr_matrix(np.random.default_rng(3).random((5, 40)) * (np.arange(40) % 3 != 0))
    T = row_running_sums(M, reverse=True)
    for a in range(5):
        data = M.data[M.indptr[a]:M.indptr[a + 1]]
        np.testing.assert_allclose(T[M.indptr[a]:M.indptr[a + 1]], np.cumsum(data[::-1])[::-1], rtol=1e-14)


@given(factor_pairs(), st.booleans())
@settings(max_examples=80, deadline=None)
def test_factored_skew_norms_are_g_or_refused(pair, split):
    from unittest import mock

    from attention_transport.numerics.patterns import factored

    # split: rows above the mean count as heavy, so the dense rows of Φ and Ψ take their own terms
    heavy = (lambda M, floor: np.diff(M.indptr) > np.diff(M.indptr).mean()) if split else factored._heavy
    with mock.patch.object(factored, "_heavy", heavy):
        _check_skew_norms(*pair)


def _check_skew_norms(Phi, Psi):
    A = (Phi @ Psi).toarray()
    if not (A.sum(axis=0) + A.sum(axis=1) > 0).all():
        return  # a zero-degree vertex: G is undefined (the check refuses it before)
    skew, sym, x = _skew(A)
    if skew < 0.99 * SKEW_MIN_SHARE * sym:
        with pytest.raises(WontFit, match="cancel"):
            factored_skew_norms(Phi, Psi, x)
        return
    if skew < 1.01 * SKEW_MIN_SHARE * sym:
        return  # at the threshold: either answer
    got = factored_skew_norms(Phi, Psi, x)
    np.testing.assert_allclose(got, (skew, sym), rtol=1e-10)


def test_a_symmetric_product_is_refused_not_rounded():
    Phi = sp.csr_matrix(np.random.default_rng(0).random((12, 3)))
    A = (Phi @ Phi.T).toarray()  # symmetric: G = 0, the skew norm would be rounding alone
    with pytest.raises(WontFit, match="cancel"):
        factored_skew_norms(Phi, Phi.T, _skew(A)[2])


@given(factor_pairs(), factor_pairs())
@settings(max_examples=40, deadline=None)
def test_product_flops_count_every_multiply_add(p, q):
    M, X = p[1].T.tocsr(), q[1]  # (n, m) @ (m', n')
    if M.shape[1] != X.shape[0]:
        X = sp.csr_matrix(np.ones((M.shape[1], 3)))
    want = sum(int((M[:, k] != 0).sum()) * int((X[k] != 0).sum()) for k in range(M.shape[1]))
    assert _product_flops(M, X) == want


def test_a_global_row_no_longer_blocks_the_sparse_product():
    # the old bound (densest row × nnz) was n² w for a layer with a global row: 3.2·10⁹ here, refused
    P = parse_pattern("stack(window:w=8, longformer:w=8,g=1)")
    A = P.sparse(20000)
    assert A is not None and P.structure(20000) == "sparse"
    rows = P.layers[1].rows(20000, 9000, 9040) @ P.layers[0].sparse(20000)  # longformer after window
    np.testing.assert_allclose(A[9000:9040].toarray(), rows, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("P", [p for p in ALL if p.factors(40) is not None], ids=lambda p: p.spec)
def test_every_pattern_with_factors_is_their_product(P):
    for n in (2, 9, 40):
        Phi, Psi = P.factors(n)
        assert Phi.shape == (n, Psi.shape[0]) and Psi.shape[1] == n
        np.testing.assert_allclose((Phi @ Psi).toarray(), P.dense(n), rtol=1e-14, atol=1e-300)


def _factored_matches_its_product(P, n):
    """The factors, sums and G of P at n against the product of its layers' own blocks; returns that matrix."""
    Phi, Psi = P.factors(n)
    A = _by_definition(P, n)
    np.testing.assert_allclose((Phi @ Psi).toarray(), A, rtol=1e-12, atol=1e-15)
    s = P.sums(n)
    for x, y in zip((s.r, s.c, s.s, s.u), _dense_sums(A)):
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-14)
    skew, sym, _ = _skew(A)
    np.testing.assert_allclose(P.skew_norms(n, 0.5 * (s.r + s.c)), (skew, sym), rtol=1e-10)
    return A


@pytest.mark.parametrize("spec", FACTORED)
def test_stacks_with_bigbird_are_factored_where_no_sparse_form_holds_them(spec, no_sparse):
    P, n = parse_pattern(spec), 150
    assert P.structure(n) == "factored"
    A = _factored_matches_its_product(P, n)
    np.testing.assert_allclose(P.block(n, 17, 60, 5, 130), A[17:60, 5:130], rtol=1e-12, atol=1e-15)


def test_a_stack_with_a_layer_of_neither_form_has_no_factors(no_sparse, monkeypatch):
    P = parse_pattern("stack(bigbird:b=8,g=1,r=2, uniform-causal)")
    monkeypatch.setattr(type(P.layers[1]), "sparse", lambda self, n: None)
    assert P.factors(64) is None and P.structure(64) != "factored"
    assert parse_pattern("repeat(window:w=3, 2)").factors(64) is None  # no factored layer: the sparse form


def _dense_lambda2(A):
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    W = 0.5 * (A + A.T) / np.sqrt(np.outer(d, d))
    return linalg.eigvalsh(np.eye(len(d)) - W)[1]


@pytest.mark.parametrize("spec,n", [("stack(bigbird:b=8,g=1,r=2, window:w=5)", 200),
                                    ("repeat(bigbird:b=8,g=1,r=2, 2)", 200),
                                    ("stack(bigbird:b=5,g=1,r=2, window:w=3)", 3000)])  # 2m = 1200: Arnoldi
def test_lambda2_from_the_problem_of_size_2m(spec, n, no_sparse):
    P = parse_pattern(spec)
    A = _by_definition(P, n)
    fp = pattern_fiedler(P, n)
    assert "classes of rows" in fp.method and fp.converged
    assert fp.lambda2 == pytest.approx(_dense_lambda2(A), abs=1e-10)
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    assert abs(fp.vector @ v1) < 1e-12


def test_lambda2_of_2m_declines_when_its_vector_fails_the_check(no_sparse):
    P, n = parse_pattern("stack(bigbird:b=8,g=1,r=2, window:w=5)"), 120
    Phi, Psi = P.factors(n)
    A = _by_definition(P, n)
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    assert _factored_fiedler(P, n, d, v1, Phi, Psi) is not None
    other = Psi.copy()
    other.data *= np.random.default_rng(0).uniform(0.5, 1.5, other.nnz)
    assert _factored_fiedler(P, n, d, v1, Phi, other) is None  # factors of another matrix: the residual fails


@given(factor_pairs(max_n=25), st.integers(0, 2**31 - 1))
@settings(max_examples=50, deadline=None)
def test_factored_sweep_is_the_sparse_sweep(pair, seed):
    Phi, Psi = pair
    A = (Phi @ Psi).tocsr()
    d = 0.5 * (np.asarray(A.sum(axis=0)).ravel() + np.asarray(A.sum(axis=1)).ravel())
    if not (d > 0).all():
        return
    v = np.random.default_rng(seed).standard_normal(d.size)
    assert _sweep_factored(Phi, Psi, d, v) == pytest.approx(_sweep_sparse(A, d, v), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("spec", FACTORED[:2])
def test_check_on_the_factored_route_agrees_with_the_dense_route(spec, monkeypatch):
    n = 160
    dense = check_pattern(spec, n)
    _drop_sparse(monkeypatch)
    monkeypatch.setattr(structured, "BOUNDED_SEARCH_COST_RATIO", None)  # at n = 160 a product is mostly overhead
    factored = check_pattern(spec, n, dense_max=16, bip_max=16)
    base._factors_cached.cache_clear()
    assert factored["structure"] == "factored" and dense["structure"] == "dense"
    for key in ("phi", "t_star", "G", "lambda2", "phi_bip", "a_star", "b_star", "cheeger_upper_sweep"):
        assert factored[key] == pytest.approx(dense[key], rel=1e-9, abs=1e-12), key


def test_g_of_factors_with_dense_rows_declines_before_forming_their_gram(monkeypatch):
    from attention_transport.numerics.patterns import factored

    Phi = sp.csr_matrix(np.ones((40, 30)))  # every row meets every class: Φᵀ X² Φ would cost 40 · 30² work
    Psi = sp.csr_matrix(np.random.default_rng(0).random((30, 40)))
    monkeypatch.setattr(factored, "PAIR_WORK_MAX", 40 * 30 ** 2 - 1)
    monkeypatch.setattr(factored.sp, "diags", None)  # declined before any product is formed
    with pytest.raises(WontFit, match="m×m products"):
        factored_skew_norms(Phi, Psi, np.ones(40))


@pytest.mark.parametrize("spec", ["repeat(bigbird:b=16,g=2,r=3, 2)", "stack(bigbird:b=16,g=2,r=3, longformer:w=8,g=2)"])
def test_g_of_factors_with_global_rows_takes_them_apart(spec, no_sparse):
    """Global queries after BigBird meet every block: their rows of Φ are formed as rows of Φ Ψ, the global
    queries' rows of Ψ pair through one product each, and their tokens' part of Ψ X² Φ is of low rank."""
    from attention_transport.numerics.patterns.factored import _heavy

    P, n = parse_pattern(spec), 3000
    Phi, Psi = P.factors(n)
    assert _heavy(Phi, 64).sum() >= 2 and _heavy(Psi @ sp.identity(n, format="csr"), 1024).sum() >= 2
    A = _by_definition(P, n)
    skew, sym, x = _skew(A)
    np.testing.assert_allclose(factored_skew_norms(Phi, Psi, x), (skew, sym), rtol=1e-11)


def test_global_rows_before_bigbird_join_the_factors_as_classes(no_sparse):
    """Longformer before BigBird: its dense global rows would meet BigBird's global keys in Ψ A (3·10¹⁰
    multiply-adds at n = 10⁶), so each becomes a class of its own, ``[Φ, Φ Ψ[:, H]] [Ψ A_L; A[H]]``."""
    P, n = parse_pattern("stack(longformer:w=8,g=2, bigbird:b=8,g=1,r=2)"), 3000
    Phi, Psi = P.factors(n)
    m = -(-n // 8)
    assert Phi.shape == (n, m + 2) and Psi.shape == (m + 2, n)  # the 2 global rows of Longformer: 2 classes more
    A = _factored_matches_its_product(P, n)
    fp = pattern_fiedler(P, n)
    assert "classes of rows" in fp.method and fp.lambda2 == pytest.approx(_dense_lambda2(A), abs=1e-10)
