"""λ₂ of strided patterns through the banded congruence (numerics/strided.py) against dense matrices built by
definition: the congruence itself, the inertia counts, the certified bracket and the route inside pattern_fiedler."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from attention_transport.numerics import strided
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.patterns.base import StridedGraph
from attention_transport.numerics.structured import _degrees, _pattern_laplacian, pattern_fiedler

from test_longnet import batches_of, check_sweep_inside


def dense_symmetrised(n, l, w, near, far):
    """W of a :class:`StridedGraph` by its definition: the band from ``near``, every link of one residue class at
    distance ≥ w equal to ``far`` at its later token."""
    W = np.zeros((n, n))
    for t in range(min(w, n)):
        i = np.arange(n - t)
        W[i, i + t] = near[t]
        W[i + t, i] = near[t]
    for i in range(n):
        for j in range(i - w, -1, -1):
            if (i - j) % l == 0:
                W[i, j] = W[j, i] = far[i]
    return W


def band_dense(ab):
    return strided._band_dense(ab, 0, ab.shape[1])


def differences(n, l):
    """P: ``x_i = s_i − s_{i−l}``."""
    return np.eye(n) - np.eye(n, k=-l)


@st.composite
def strided_graphs(draw):
    """A StridedGraph with random positive weights — band wider or narrower than the stride, l = 1 included — and
    a positive diagonal D (the congruence holds for any)."""
    l = draw(st.integers(1, 6))
    w = draw(st.integers(1, 9))
    n = draw(st.integers(max(2, l + 1), 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    near = [rng.random(max(n - t, 0)) for t in range(w)]
    far = rng.random(n)
    d = rng.random(n) + 0.5
    return StridedGraph(l=l, w=w, near=lambda t, a, b: near[t][a:b], far=far), d, near


@given(strided_graphs(), st.floats(-1.0, 1.0), st.integers(1, 50))
@settings(max_examples=60)
def test_the_pencil_is_congruent_to_m_minus_sigma_d(case, sigma, chunk):
    """F(σ) = Pᵀ (M − σ D) P, assembled in chunks of any number of columns."""
    graph, d, near = case
    n, l = d.size, graph.l
    W = dense_symmetrised(n, l, graph.w, near, graph.far)
    M = np.diag(d) - W
    P = differences(n, l)
    F0, mass0, mass_l = strided.strided_pencil(graph, d)
    assert F0.shape == (graph.w + l, n)
    np.testing.assert_allclose(band_dense(F0), P.T @ M @ P, atol=1e-12)
    mass = np.diag(mass0) + np.diag(mass_l[l:], l) + np.diag(mass_l[l:], -l)
    np.testing.assert_allclose(mass, P.T @ np.diag(d) @ P, atol=1e-12)
    pencil = strided.StridedPencil(graph, d)
    old, strided.STRIDED_CHUNK = strided.STRIDED_CHUNK, chunk
    try:
        F = pencil.fill(np.zeros((graph.w + l, n)), 0, n, sigma)
    finally:
        strided.STRIDED_CHUNK = old
    np.testing.assert_allclose(band_dense(F), P.T @ (M - sigma * np.diag(d)) @ P, atol=1e-12)


@given(st.integers(2, 12), st.integers(30, 200))
@settings(max_examples=30)
def test_sparse_strided_graph_is_its_matrix(l, n):
    """The pattern's StridedGraph against (A + Aᵀ)/2 from its own entries."""
    P = parse_pattern(f"sparse-strided:l={l}")
    A = P.dense(n)
    g = P.strided_graph(n)
    assert (g.l, g.w) == (l, l)
    near = [g.near(t, 0, n - t) for t in range(g.w)]
    np.testing.assert_allclose(dense_symmetrised(n, l, g.w, near, g.far), 0.5 * (A + A.T), atol=1e-15)


def test_only_strided_kernels_have_a_strided_graph():
    for spec in ("uniform-causal", "window:w=8", "longformer:w=8,g=1", "dilated:w=8,k=2", "sparse-fixed:l=8,c=2",
                 "stack(sparse-strided:l=4, window:w=4)"):
        assert parse_pattern(spec).strided_graph(64) is None, spec


def dense_spectrum(P, n):
    A = P.dense(n)
    d = _degrees(P.sums(n))
    M = np.diag(d) - 0.5 * (A + A.T)
    return linalg.eigh(M, np.diag(d), eigvals_only=True), d


@pytest.mark.parametrize("l, n, h", [(8, 600, 8), (8, 600, 16), (16, 2000, 16), (5, 203, 5)])
def test_inertia_counts_eigenvalues_below_the_shift(l, n, h):
    """count(σ) = #{eigenvalues of L < σ} at shifts spread over the bottom of the spectrum, the cluster included;
    the leading block alone (no Schur complement) would count none of them."""
    P = parse_pattern(f"sparse-strided:l={l}")
    ev, d = dense_spectrum(P, n)
    solver = strided.StridedSolver(strided.StridedPencil(P.strided_graph(n), d), h)
    gaps = np.diff(ev[:l + 2])
    shifts = [0.5 * ev[1], *(0.5 * (ev[k] + ev[k + 1]) for k in range(1, l) if gaps[k] > 1e-9)]
    for sigma in shifts:
        f = solver.factor(sigma)
        assert f is not None
        assert f.count == int((ev < sigma).sum()), sigma
    assert solver.factor(ev[l + 1] + 1.0) is None  # far above: the leading block is indefinite


@pytest.mark.parametrize("l, n", [(8, 600), (16, 2000), (5, 203), (12, 1500)])
def test_strided_fiedler_brackets_lambda2(l, n):
    """The certified lower bound lies below λ₂, the Rayleigh quotient of the vector above it, within 1e-6; the
    vector is λ₂'s eigenvector to the tolerance, checked on the dense L."""
    P = parse_pattern(f"sparse-strided:l={l}")
    ev, d = dense_spectrum(P, n)
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    found = strided.strided_fiedler(P.strided_graph(n), d, v1, _pattern_laplacian(P, n, d), 1e-12)
    assert found is not None
    lower, u, _, how = found
    A = P.dense(n)
    L = np.eye(n) - 0.5 * (A + A.T) / np.sqrt(np.outer(d, d))
    lam = u @ L @ u
    assert lower <= ev[1] <= lam + 1e-13
    assert lam - lower <= 1e-6 * lam
    assert lam == pytest.approx(ev[1], rel=1e-11)
    assert np.linalg.norm(L @ u - lam * u) < 1e-11
    assert abs(u @ v1) < 1e-12
    assert "Sylvester" in how


def test_pattern_fiedler_takes_the_strided_route_and_agrees_with_dense():
    n, l = 1200, 8
    P = parse_pattern(f"sparse-strided:l={l}")
    ev, _ = dense_spectrum(P, n)
    fp = pattern_fiedler(P, n)
    assert "congruent" in fp.method and fp.converged
    assert fp.lower <= ev[1] <= fp.lambda2 + 1e-13
    assert fp.lambda2 == pytest.approx(ev[1], rel=1e-11)


def test_where_the_leading_block_fails_the_general_route_decides():
    """Few positions per class (n = 3000, l = 32): the leading block's bottom lies below λ₂ for every number of
    trailing partial sums tried, so the route declines and λ₂ still comes out right."""
    n, l = 3000, 32
    P = parse_pattern(f"sparse-strided:l={l}")
    ev, d = dense_spectrum(P, n)
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    assert strided.strided_fiedler(P.strided_graph(n), d, v1, _pattern_laplacian(P, n, d), 1e-12) is None
    fp = pattern_fiedler(P, n)
    assert "congruent" not in fp.method
    assert fp.lambda2 == pytest.approx(ev[1], rel=1e-9)


def test_a_wrong_count_is_caught():
    """The certificate is the count: a solver that forgets the Schur complement (counts only the leading block's
    negative pivots, always none) must not pass as one — it would certify a shift above λ₂."""
    n, l = 600, 8
    P = parse_pattern(f"sparse-strided:l={l}")
    ev, d = dense_spectrum(P, n)
    solver = strided.StridedSolver(strided.StridedPencil(P.strided_graph(n), d), l)
    above = 0.5 * (ev[1] + ev[2])
    f = solver.factor(above)
    assert f.count == 2
    assert int((linalg.eigvalsh(f.S) < 0).sum()) == 2  # the two eigenvalues below sit in the Schur complement


def test_secant_estimates_lambda2_between_and_beyond_two_shifts():
    """S(σ) is nearly linear between shifts below the leading block's bottom: the pencil's second root lands on λ₂
    far closer than the shifts, whether they bracket it or both lie above."""
    n, l = 2000, 16
    P = parse_pattern(f"sparse-strided:l={l}")
    ev, d = dense_spectrum(P, n)
    solver = strided.StridedSolver(strided.StridedPencil(P.strided_graph(n), d), l)
    lam2 = ev[1]
    for a, b in [(0.9 * lam2, 1.01 * lam2), (1.001 * lam2, 1.01 * lam2)]:
        est, _ = strided._secant(solver.factor(a), solver.factor(b))
        assert abs(est - lam2) < 1e-3 * abs(b - a)


@given(st.integers(1, 20), st.integers(2, 150), st.integers(1, 3), st.integers(0, 2**32 - 1))
@settings(max_examples=60)
def test_sparse_strided_products_on_the_block_view(l, n, k, seed):
    """``A x``, ``Aᵀ y`` and the column sums from the (n/l, l) view against the matrix by definition, for n
    below, at and off multiples of l, vectors and blocks of columns."""
    P = parse_pattern(f"sparse-strided:l={l}")
    A = P.dense(n)
    rng = np.random.default_rng(seed)
    x, X = rng.standard_normal(n), rng.standard_normal((n, k))
    np.testing.assert_allclose(P.matvec(n, x), A @ x, atol=1e-13)
    np.testing.assert_allclose(P.matvec(n, X), A @ X, atol=1e-13)
    np.testing.assert_allclose(P.rmatvec(n, x), A.T @ x, atol=1e-13)
    np.testing.assert_allclose(P.rmatvec(n, X), A.T @ X, atol=1e-13)
    np.testing.assert_allclose(P.sums(n).c, A.sum(axis=0), atol=1e-13)
    assert P.matvec(n, X).shape == (n, k) and P.rmatvec(n, x).shape == (n,)


def test_wide_strides_and_short_memory_go_to_the_general_route(monkeypatch):
    """Past 512 band rows (l > 256 for sparse-strided) a factor's O(n (w + l)²) is declined, as is a buffer that
    does not fit the memory left; pattern_fiedler then takes LOBPCG, and check's estimate leaves the buffer out."""
    from attention_transport import check
    from attention_transport.numerics import structured

    n = 1200
    assert strided.strided_route_fits(parse_pattern("sparse-strided:l=256").strided_graph(10**6), 10**6)
    assert not strided.strided_route_fits(parse_pattern("sparse-strided:l=257").strided_graph(10**6), 10**6)
    graph = parse_pattern("sparse-strided:l=8").strided_graph(n)
    assert not strided.strided_route_fits(graph, n, have=8 * 16 * n - 1)
    monkeypatch.setattr(structured, "available_bytes", lambda: 1000)
    fp = pattern_fiedler(parse_pattern("sparse-strided:l=8"), n)
    assert "congruent" not in fp.method
    P = parse_pattern("sparse-strided:l=8")
    monkeypatch.setattr(check, "available_bytes", lambda: None)
    with_route = check.memory_needed(P, 10**6)
    monkeypatch.setattr(check, "available_bytes", lambda: 10**6)
    assert with_route - check.memory_needed(P, 10**6) == 8 * 16 * 10**6


@given(st.integers(1, 12), st.integers(2, 160), st.integers(0, 2**32 - 1))
@settings(max_examples=50)
def test_sparse_strided_sweep_bins_every_entry_at_its_later_rank(l, n, seed):
    """The sweep's ``inside`` from the window offset by offset and the stride links by a Fenwick tree over (class,
    rank in the class), batches of positions compared directly, equals A's entries binned one by one; the sweep
    cut equals the sparse route's."""
    check_sweep_inside(parse_pattern(f"sparse-strided:l={l}"), n, np.random.default_rng(seed),
                       lambda: batches_of(1 + seed % 5))


def test_a_secant_with_one_trailing_unknown_gives_no_estimate():
    """With h = 1 (l = 1) the pencil has a single root, λ₁'s: no estimate of λ₂, so the shifts halve instead of
    reading a root that is not there."""
    one = strided._Factored(0.1, None, None, None, np.array([[-1.0]]), 1)
    two = strided._Factored(0.2, None, None, None, np.array([[-2.0]]), 2)
    assert strided._secant(one, two) == (None, None)
