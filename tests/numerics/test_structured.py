"""The structured route (no n×n matrix) against the dense route, and the λ₂ solver against dense eigensolvers."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.sparse import linalg as spla

from attention_transport.check import check_pattern
from attention_transport.numerics.landscapes import bipartite_landscape, prefix_landscape
from attention_transport.numerics.patterns import parse_pattern, sparse_matrix_pattern
from attention_transport.numerics.spectral import laplacian_spectrum
from attention_transport.numerics.structured import (
    pattern_asymmetry,
    pattern_bipartite_minimum,
    pattern_fiedler,
    pattern_prefix_landscape,
)

from attention_strategies import attention_matrices
from test_pattern_objects import ALL, IDS


@pytest.mark.parametrize("P", ALL, ids=IDS)
def test_structured_route_equals_dense_route(P):
    n = 64  # above 5 × (block + 1): the block iteration runs
    dense = check_pattern(P, n)
    structured = check_pattern(P, n, dense_max=2)
    assert dense["structure"] == "dense" and structured["structure"] != "dense"
    for key in ("phi", "phi_bip", "G", "lambda2", "cheeger_lower"):
        assert structured[key] == pytest.approx(dense[key], rel=1e-9, abs=1e-12), key
    # argmins: the same cut, or a cut of the same value (ties, e.g. disconnected documents at φ = 0)
    A = P.dense(n)
    assert prefix_landscape(A).phi[structured["t_star"] - 1] == pytest.approx(dense["phi"], rel=1e-9, abs=1e-12)
    landscape = bipartite_landscape(A)
    assert landscape[structured["b_star"], structured["a_star"]] == pytest.approx(dense["phi_bip"], rel=1e-9,
                                                                                 abs=1e-12)
    # the sweep cut is an actual vertex set: never below the exact-enough dense Cheeger lower bound
    if structured.get("cheeger_upper_sweep") is not None:
        assert structured["cheeger_upper_sweep"] >= dense["cheeger_lower"] - 1e-12
    assert structured["lambda2_residual"] < 1e-9


@pytest.mark.parametrize("form", ["sparse", "dense"])
def test_matrices_in_memory_take_phi_bip_from_tiles_past_the_scan_limit(form, monkeypatch):
    """A sparse or dense matrix pattern gets φ_bip from the tiles (one pass, then the candidate tiles), also past
    the O(n²) scan's limit, equal to the full landscape's minimum; a table too large for memory declines them."""
    from attention_transport.numerics.patterns import base
    from attention_transport.numerics.patterns.matrix import dense_matrix_pattern

    rng = np.random.default_rng(11)
    n = 700
    A = np.tril(rng.random((n, n)) ** 3 * (rng.random((n, n)) < 0.2)) + np.eye(n)
    A /= A.sum(axis=1, keepdims=True)
    P = sparse_matrix_pattern(sp.csr_matrix(A), row_tol=1e-9) if form == "sparse" else dense_matrix_pattern(A)
    bm = pattern_bipartite_minimum(P, n, scan_max=100)
    full = bipartite_landscape(A)
    assert bm.method.startswith("tiles") and bm.phi == pytest.approx(np.nanmin(full), rel=1e-12)
    assert full[bm.b_star, bm.a_star] == pytest.approx(bm.phi, rel=1e-12)
    if form == "sparse":
        monkeypatch.setattr(base, "TILE_TABLE_BYTES", 8 * n * 12)  # fits with tiles of 64: 11 groups of rows
        larger = P.tiled_bipartite_minimum(n)
        assert larger.method.startswith("tiles of 64 × 64") and larger.phi == pytest.approx(bm.phi, rel=1e-12)
        monkeypatch.setattr(base, "TILE_TABLE_BYTES", 1000)
        assert P.tiled_bipartite_minimum(n) is None
        assert pattern_bipartite_minimum(P, n).method == "scan of every (a, b)"


@given(attention_matrices(min_n=20, max_n=40, float16=False))
@settings(max_examples=30, deadline=None)
def test_sparse_matrix_pattern_matches_dense_quantities(A):
    P = sparse_matrix_pattern(sp.csr_matrix(A), row_tol=1e-9)
    n = A.shape[0]
    assert pattern_prefix_landscape(P, n).capacity == pytest.approx(check_pattern(P, n)["phi"], rel=1e-12)
    bm = pattern_bipartite_minimum(P, n)
    from attention_transport.numerics.landscapes import bipartite_minimum
    from attention_transport.numerics.landscapes import bipartite_landscape

    ref = bipartite_minimum(A)
    assert bm.phi == pytest.approx(ref.phi, rel=1e-12, abs=1e-14)
    # the cell: the dense route's, or a tie with it to rounding (a tie's order is rounding's to choose)
    assert bipartite_landscape(A)[bm.b_star, bm.a_star] == pytest.approx(ref.phi, rel=1e-12, abs=1e-14)
    from attention_transport.numerics.operators import asymmetry_coefficient
    assert pattern_asymmetry(P, n) == pytest.approx(asymmetry_coefficient(A), rel=1e-10, abs=1e-13)
    fp = pattern_fiedler(P, n)
    assert fp.lambda2 == pytest.approx(laplacian_spectrum(A)[1], rel=1e-8, abs=1e-12)


def test_lobpcg_lambda2_agrees_with_shift_invert_lanczos():
    spec, n = "window:w=8", 60000  # λ₂ ≈ 1e-8: an isolated eigenvalue far below the rest of the spectrum
    P = parse_pattern(spec)
    fp = pattern_fiedler(P, n)
    s = P.sums(n)
    d = 0.5 * (s.r + s.c)
    A = P.sparse(n)
    Dm = sp.diags(1 / np.sqrt(d))
    L = (sp.identity(n) - Dm @ (0.5 * (A + A.T)) @ Dm).tocsc()
    # ARPACK in shift-invert mode (an independent Krylov method), with a fill-reducing symmetric LU
    lu = spla.splu((L + 1e-6 * sp.identity(n)).tocsc(), permc_spec="COLAMD", diag_pivot_thresh=0.0,
                   options={"SymmetricMode": True})
    opinv = spla.LinearOperator((n, n), matvec=lu.solve, dtype=float)
    vals = spla.eigsh(L, k=2, sigma=-1e-6, which="LM", OPinv=opinv, return_eigenvectors=False, tol=1e-12)
    ref = np.sort(vals)[1]
    assert fp.converged and fp.lambda2 == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("route", ["inertia", "inertia-split", "lobpcg"])
@pytest.mark.parametrize("spec", ["longformer:w=8,g=2", "sink-window:s=2,w=8"])
def test_a_cluster_above_lambda2_is_resolved(spec, route, monkeypatch):
    """Hubs (global tokens, sinks) pack eigenvalues just above λ₂ (gap 1e-5 at n = 2500): the inertia route (its
    banded block from the band rows, or from the sparse Laplacian split by degree) and the block iteration must
    still find λ₂ itself, without the dense fallback."""
    from attention_transport.numerics import structured

    monkeypatch.setattr(structured, "DENSE_FALLBACK_N", 0)
    n = 2500
    P = parse_pattern(spec)
    if route != "inertia":  # no declared hubs: the sparse Laplacian split by degree, or not split at all
        monkeypatch.setattr(type(P), "hub_band", lambda self, n: None)
    if route == "lobpcg":
        monkeypatch.setattr(structured, "_hub_split", lambda A: None)
    ev = laplacian_spectrum(P.dense(n))
    assert ev[2] - ev[1] < 1e-4
    fp = pattern_fiedler(P, n)
    assert fp.converged and fp.lambda2 == pytest.approx(ev[1], rel=1e-10)
    assert "dense" not in fp.method


def test_window_at_a_million_tokens():
    P = parse_pattern("window:w=16")
    n = 10**6
    s = P.sums(n)
    land = pattern_prefix_landscape(P, n, s)
    assert land.capacity == pytest.approx(15 / (2 * n), rel=1e-6)  # C5: (w − 1)/(2n)
    G = pattern_asymmetry(P, n, s)
    # at the interior rows every d_i = 1 and N is the window matrix: G² = (w − 1)/(w + 1)
    assert G == pytest.approx(np.sqrt(15 / 17), rel=1e-4)
    fp = pattern_fiedler(P, n, s)
    assert fp.converged and 0 < fp.lambda2 < 1e-8
    # φ_bip by the band search of C5b; C5's bipartite form for even w: (w/4) / (n − 1/2)
    bm = pattern_bipartite_minimum(P, n, s, landscape=land)
    assert bm.method.startswith("band search") and bm.phi == pytest.approx(4 / (n - 0.5), rel=1e-9)


def test_dense_eigh_decides_when_the_block_iteration_stalls():
    P = parse_pattern("bidirectional-uniform")
    fp = pattern_fiedler(P, 60)
    assert fp.lambda2 == pytest.approx(1.0, abs=1e-12) and fp.residual < 1e-12
    B = parse_pattern("block-causal:b=5")
    assert pattern_fiedler(B, 40).lambda2 == pytest.approx(linalg.eigvalsh(
        np.eye(40) - _sym(B.dense(40)))[1], rel=1e-10)


def _sym(A):
    d = 0.5 * (A.sum(0) + A.sum(1))
    W = 0.5 * (A + A.T)
    return W / np.sqrt(np.outer(d, d))


@given(attention_matrices(min_n=20, max_n=40), st.sampled_from([np.float32, np.float64]))
@settings(max_examples=30, deadline=None)
def test_dense_matrices_beyond_the_dense_route_match_it(A, dtype):
    """A dense head past --dense-max takes the iterative route: same values, no O(n³) eigensolver."""
    from attention_transport.check import check_matrix

    A = A.astype(dtype)
    dense = check_matrix(A, row_tol=None)
    iterative = check_matrix(A, row_tol=None, dense_max=2)
    assert iterative["structure"] == "dense-matrix"
    for key in ("phi", "phi_bip", "G", "lambda2", "cheeger_lower"):
        assert iterative[key] == pytest.approx(dense[key], rel=1e-9, abs=1e-12), key
    from attention_transport.numerics.spectral import laplacian_spectrum

    A64 = A.astype(np.float64)
    lam = laplacian_spectrum(A64)
    d = 0.5 * (A64.sum(axis=0) + A64.sum(axis=1))
    f = np.sort(linalg.eigh(np.eye(A.shape[0]) - _sym(A64), subset_by_index=[1, 1])[1][:, 0] / np.sqrt(d))
    # a simple λ₂ has one Fiedler vector, so one sweep (a repeated λ₂ has many); and only distinct entries fix the
    # sweep's order (tokens with equal rows can share an entry, equal up to rounding, in any order)
    if lam[2] - lam[1] > 1e-6 and np.diff(f).min() > 1e-9 * np.abs(f).max():
        assert iterative["cheeger_upper_sweep"] == pytest.approx(dense["cheeger_upper_sweep"], rel=1e-9, abs=1e-12)


def test_default_longformer_is_structural_at_large_n():
    """w = 512 has 10⁸ nonzeros at n = 2·10⁵: sums, products and G come from the band-plus-globals structure."""
    rec = check_pattern("longformer", 200_000, spectral_max=1000)
    assert rec["structure"] == "structural" and rec["causal"] is False
    assert 0 < rec["phi"] < 0.2 and 0 < rec["G"] < 0.01
    assert "spectral limit" in rec["skipped"]["lambda2"]


def test_an_unconverged_lambda2_gives_no_cheeger_lower_bound(monkeypatch):
    from attention_transport.numerics import structured

    monkeypatch.setattr(structured, "LOBPCG_MAXITER", 2)
    monkeypatch.setattr(structured, "LOBPCG_WORK", 1)
    monkeypatch.setattr(structured, "LOBPCG_MIN_ITER", 2)
    monkeypatch.setattr(structured, "DENSE_FALLBACK_N", 0)
    monkeypatch.setattr(structured, "_hub_fiedler", lambda *a: None)  # the block iteration, not the inertia count
    P = parse_pattern("sink-window:s=2,w=8")
    n = 3000
    rec = check_pattern(P, n, dense_max=2, bip_max=2)
    assert rec["lambda2_converged"] is False and rec["cheeger_lower"] is None
    assert "not a certified lower bound" in rec["skipped"]["cheeger_lower"]
    # the Rayleigh quotient is still an upper bound, so the spectral upper bound on h stays valid
    true = laplacian_spectrum(P.dense(n))[1]
    assert rec["lambda2"] >= true - 1e-12 and rec["cheeger_upper_spectral"] >= np.sqrt(2 * true) - 1e-12


@pytest.mark.parametrize("spec", ["window:w=6", "repeat(window:w=4, 3)", "bidirectional-window:w=5",
                                  "stack(window:w=3, bidirectional-window:w=2)"])
def test_banded_laplacians_go_through_a_banded_cholesky_factor(spec):
    P = parse_pattern(spec)
    n = 1500  # above CHOLESKY_BAND_MAX_W: the banded route
    fp = pattern_fiedler(P, n)
    assert fp.method.startswith("shift-invert Lanczos") and "banded Cholesky" in fp.method
    assert fp.converged and fp.lambda2 == pytest.approx(laplacian_spectrum(P.dense(n))[1], rel=1e-7)


@pytest.mark.parametrize("spec", ["sink-window:s=4,w=16", "sink-window:s=1,w=3", "streaming-llm:s=2,w=30",
                                  "longformer:w=16,g=2", "union(window:w=8, sink-window:s=2,w=1)"])
def test_hub_patterns_bracket_lambda2_by_inertia_counts(spec):
    """Banded graphs with sinks or global tokens: λ₂ in a dense cluster, bracketed by Sylvester's law of inertia
    (lower) and a Rayleigh quotient (upper)."""
    P = parse_pattern(spec)
    n = 1500
    fp = pattern_fiedler(P, n)
    true = laplacian_spectrum(P.dense(n))[1]
    assert fp.method.startswith("inertia of L − σ I") and fp.lower is not None
    assert fp.lower <= true <= fp.lambda2 + 1e-13
    assert fp.lambda2 == pytest.approx(true, rel=1e-9) and fp.lower > 0.95 * true
    rec = check_pattern(P, n, dense_max=2)
    assert rec["lambda2_lower"] == fp.lower and rec["cheeger_lower"] == pytest.approx(fp.lower / 2)


def test_sparse_hub_route_claims_no_bound_when_every_count_finds_two(monkeypatch):
    """The sparse hub route certifies a shift only where the inertia count finds one eigenvalue below it: with two
    below at every shift (λ₂ under all of them), neither the coarse shifts nor the bisection claims a lower bound,
    and λ₂ goes to the block iteration."""
    from attention_transport.numerics import structured

    P = parse_pattern("sink-window:s=4,w=16")
    n = 1500
    monkeypatch.setattr(structured._HubSolver, "below", staticmethod(lambda factored: 2))
    fp = pattern_fiedler(P, n)
    assert fp.lower is None and "the hub inertia count did not settle" in fp.method
    assert fp.lambda2 >= laplacian_spectrum(P.dense(n))[1] - 1e-12


def _without_sparse_form(monkeypatch, P):
    """The pattern as it is at n = 10⁶: no sparse matrix, so λ₂ cannot take the sparse hub route."""
    monkeypatch.setattr(type(P), "sparse", lambda self, n: None)


@pytest.mark.parametrize("spec, n", [("longformer:w=16,g=2", 800), ("longformer:w=40,g=1", 1500),
                                     ("longformer:w=30,g=3", 700)])
def test_hub_band_route_without_a_sparse_form(spec, n, monkeypatch):
    """A band with global tokens and no sparse form (the default Longformer at n = 10⁶): the non-hub band from the
    pattern's band rows, one banded Cholesky factor below a coarse Rayleigh–Ritz bound, and shift-invert Lanczos.
    λ₂ against the dense spectrum; the inertia count's lower bound holds."""
    P = parse_pattern(spec)
    true = laplacian_spectrum(P.dense(n))[1]
    _without_sparse_form(monkeypatch, P)
    fp = pattern_fiedler(P, n)
    assert fp.method.startswith("shift-invert Lanczos through a banded Cholesky factor of the non-hub block")
    assert fp.converged and fp.lambda2 == pytest.approx(true, rel=1e-10)
    assert 0 < fp.lower <= true <= fp.lambda2 + 1e-13


@pytest.mark.parametrize("spec, n", [("longformer:w=16,g=2", 300), ("longformer:w=40,g=1", 120)])
def test_hub_band_blocks_apply_the_laplacian(spec, n):
    """The assembled non-hub band, hub columns and hub block apply L exactly as the dense matrix does (the
    route's Rayleigh quotient and residual come from them)."""
    from attention_transport.numerics import structured

    P = parse_pattern(spec)
    A = P.dense(n)
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    root = np.sqrt(d)
    L = np.eye(n) - 0.5 * (A + A.T) / np.outer(root, root)
    h, w = P.hub_band(n)
    hubs, rest = np.arange(h), np.arange(h, n)
    band = structured._hub_band_laplacian(P, n, d, h, w)
    hs = structured._HubSolver.from_parts(band, L[h:, :h], L[:h, :h], hubs, rest)
    X = np.random.default_rng(0).standard_normal((n, 3))
    for x in X.T:
        np.testing.assert_allclose(hs.apply(x), L @ x, rtol=0, atol=1e-14)


@pytest.mark.parametrize("how", ["shifts above the bound", "two eigenvalues below"])
def test_hub_band_route_claims_no_bound_it_cannot_certify(how, monkeypatch):
    """No lower bound without a certificate: shifts above the coarse bound (the non-hub block does not factor
    there), or an inertia count of two eigenvalues below σ (λ₂ under the shift; possible once two hubs are taken
    out, where the block's bottom may lie above λ₂).  λ₂ then goes to the block iteration instead."""
    from attention_transport.numerics import structured

    P = parse_pattern("longformer:w=16,g=2")
    n = 800
    true = laplacian_spectrum(P.dense(n))[1]
    _without_sparse_form(monkeypatch, P)
    if how == "shifts above the bound":
        monkeypatch.setattr(structured, "HUB_BAND_SHIFTS", (-0.5, -0.2))  # σ = 1.5 and 1.2 × the coarse bound
    else:
        monkeypatch.setattr(structured._HubSolver, "below", staticmethod(lambda factored: 2))
    fp = pattern_fiedler(P, n)
    assert "no shift below the coarse bound certified" in fp.method
    assert fp.lower is None and fp.lambda2 >= true - 1e-12


def test_coarse_bound_is_an_upper_bound_on_lambda2():
    """The Ritz value on hub and block vectors bounds λ₂ from above, close to it for a long band."""
    from attention_transport.numerics import structured

    P = parse_pattern("longformer:w=20,g=2")
    n = 900
    A = P.dense(n)
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    root = np.sqrt(d)
    L = np.eye(n) - 0.5 * (A + A.T) / np.outer(root, root)
    true = laplacian_spectrum(A)[1]
    h, w = P.hub_band(n)
    bound = structured._coarse_upper_bound(lambda X: L @ X, n, d, h, w)
    assert true <= bound + 1e-13 and bound < 1.05 * true


@pytest.mark.parametrize("spec, n", [("longformer:w=8,g=2", 40), ("longformer:w=6,g=1", 25),
                                     ("longformer:w=64,g=3", 50), ("longformer:w=512,g=1", 700)])
def test_longformer_band_rows_in_closed_form(spec, n):
    """Longformer's closed-form hub band rows equal the generic ones read from its blocks."""
    from attention_transport.numerics.patterns.base import Pattern

    P = parse_pattern(spec)
    h, w = P.hub_band(n)
    for i0, i1 in [(0, n), (3, min(n, 17)), (h, n)]:
        np.testing.assert_array_equal(P.hub_band_rows(n, i0, i1, h, w), Pattern.hub_band_rows(P, n, i0, i1, h, w))


def test_longformer_column_sums_at_a_million_tokens_lose_no_digits():
    """Longformer's band sums are local to blocks of 2h + 1 tokens: its column sums at n = 10⁶ (no sparse form)
    agree with exactly rounded sums of their entries to 2e-14 (a sum over two blocks: 9e-15 at most here).  Prefix
    sums over the whole sequence lost 2e-13 of them, which left ``L D^{1/2} 1`` at 1.6e-11 and λ₂'s residual above
    its tolerance."""
    import math

    P = parse_pattern("longformer:w=512,g=4")
    n = 10**6
    h, g = P._hg(n)
    inv = 1.0 / P.row_normalisers(n)[1]
    c = P.sums(n).c
    for j in np.random.default_rng(3).choice(np.arange(g, n), 200, replace=False):
        window = [inv[i] for i in range(max(g, j - h), min(n, j + h + 1))]
        exact = math.fsum(window + [1.0 / n] * g)  # the band's rows, and the g global rows (weight 1/n each)
        assert abs(c[j] - exact) <= 2e-14 * exact


def test_three_documents_joined_by_a_shared_token_bracket_lambda2_tightly():
    """Three banded documents that meet only through a weakly attended first token: λ₂ (the document split) sits
    at the bottom of the non-hub block's spectrum, so the inertia bisection brackets it to ~1e-9 relative."""
    n, size = 900, 300
    A = sp.lil_matrix((n, n))
    for i in range(n):
        for j in range(max((i // size) * size, i - 3), i + 1):
            A[i, j] = 1.0
        A[i, 0] += 0.0002
    A = sp.diags(1 / np.asarray(A.sum(axis=1)).ravel()) @ sp.csr_matrix(A)
    P = sparse_matrix_pattern(A.tocsr(), row_tol=1e-9)
    fp = pattern_fiedler(P, n)
    true = laplacian_spectrum(A.toarray())[1]
    assert fp.lower <= true <= fp.lambda2 + 1e-15
    assert fp.lambda2 - fp.lower < 1e-6 * true and fp.converged


@pytest.mark.parametrize("sparse_solver", [False, True])
@pytest.mark.parametrize("spec", ["bigbird:b=16,g=1,r=2", "bigbird:b=8,g=2,r=3,seed=4", "bigbird:b=7,g=0,r=1",
                                  "bigbird:b=10,g=1,r=0", "bigbird:b=1500,g=0,r=0"])
def test_block_constant_patterns_take_lambda2_from_their_quotient(spec, sparse_solver, monkeypatch):
    """BigBird is constant on (query block, key block) pairs: spec(L) = spec(quotient) ∪ {1}."""
    from attention_transport.numerics import structured

    if sparse_solver:
        monkeypatch.setattr(structured, "DENSE_FALLBACK_N", 50)  # the quotient by shift-invert Lanczos
    P = parse_pattern(spec)
    n = 1500
    fp = pattern_fiedler(P, n)
    assert "quotient" in fp.method or "inside a block" in fp.method
    assert fp.converged and fp.lambda2 == pytest.approx(laplacian_spectrum(P.dense(n))[1], rel=1e-10)


def test_a_bigbird_block_reads_only_its_own_key_blocks():
    """A tall, thin block of BigBird at n = 10⁶ (a box of the nested-grid search) stays within its own size: the
    mask comes from the blocks of its rows and columns, not from a (rows, n/b) table (3.8 GB before)."""
    import tracemalloc

    P = parse_pattern("bigbird")
    n = 10**6
    P.row_normalisers(n)  # cached: not the block's own memory
    tracemalloc.start()
    try:
        B = P.block(n, 0, 15869, 0, 15)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20 and B.shape == (15869, 15)
    small = parse_pattern("bigbird:b=4,g=1,r=2")
    np.testing.assert_array_equal(small.block(90, 0, 90, 0, 90) > 0, small.sparse(90).toarray() > 0)


def test_the_memory_estimate_counts_the_hub_band_route_of_lambda2():
    from attention_transport.check import memory_needed

    P = parse_pattern("longformer")  # no sparse form at 10⁶: λ₂ from the band in LAPACK's storage
    assert memory_needed(P, 10**6) >= 4 * 8 * 257 * 10**6
    assert memory_needed(parse_pattern("longformer:w=32,g=2"), 10**6) < 4 * 8 * 257 * 10**6  # a sparse form instead


@given(st.integers(1, 400), st.integers(1, 300), st.integers(0, 2**31 - 1), st.booleans())
@settings(max_examples=60, deadline=None)
def test_local_range_sums_are_the_sums_of_their_ranges(n, span, seed, matrix):
    from attention_transport.numerics.patterns.base import local_range_sums

    rng = np.random.default_rng(seed)
    v = rng.random((n, 3)) if matrix else rng.random(n)
    lo = rng.integers(0, n, n)
    hi = np.minimum(n - 1, lo + rng.integers(-3, span, n))  # some empty (hi < lo), every range at most span long
    out = local_range_sums(v, lo, hi, span)
    ref = np.array([v[a:b + 1].sum(axis=0) if b >= a else np.zeros(v.shape[1:]) for a, b in zip(lo, hi)])
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", ["sink-window:s=4,w=16", "sink-window:s=1,w=3", "sink-window:s=6,w=2",
                                  "sink-window:s=3,w=40", "sink-window:s=50,w=5"])
@pytest.mark.parametrize("n", [2, 5, 17, 60, 300])
def test_sink_window_closed_forms_without_a_sparse_form(spec, n, monkeypatch):
    """StreamingLLM's window of 1020 keys has no sparse form at n = 10⁶ (10⁹ entries): its products, hub band rows
    and G come from closed forms, each against the dense matrix."""
    from attention_transport.numerics.patterns.base import Pattern
    from attention_transport.numerics.patterns.library import SinkWindow

    monkeypatch.setattr(SinkWindow, "sparse", lambda self, n: None)
    P = parse_pattern(spec)
    A = P.dense(n)
    rng = np.random.default_rng(n)
    for x in (rng.random(n), rng.random((n, 3))):
        np.testing.assert_allclose(P.matvec(n, x), A @ x, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(P.rmatvec(n, x), A.T @ x, rtol=1e-13, atol=1e-14)
    d = (A.sum(axis=0) + A.sum(axis=1)) / 2
    x = 1 / np.sqrt(d)
    N = x[:, None] * A * x[None, :]
    skew, sym = P.skew_norms(n, d)
    assert skew == pytest.approx(((N - N.T) ** 2).sum(), rel=1e-12)
    assert sym == pytest.approx(((N + N.T) ** 2).sum(), rel=1e-12)
    h, w = P.hub_band(n)
    if h < n:
        for i0, i1 in [(0, n), (h, n), (min(3, n - 1), n)]:
            np.testing.assert_array_equal(P.hub_band_rows(n, i0, i1, h, w), Pattern.hub_band_rows(P, n, i0, i1, h, w))


@pytest.mark.parametrize("spec, n", [("window:w=8", 600), ("bidirectional-window:w=5", 500), ("mistral:w=40", 900)])
def test_a_band_without_a_sparse_form_takes_the_two_level_preconditioner(spec, n, monkeypatch):
    """A structural band with no sparse form (Mistral's w = 4096 at n = 10⁶) runs LOBPCG preconditioned by a coarse
    solve on blocks of at least w tokens: λ₂ as the dense spectrum's, and a preconditioner with its coarse
    correction halved changes only the speed, never λ₂."""
    from attention_transport.numerics import structured as sm

    P = parse_pattern(spec)
    ref = np.sort(laplacian_spectrum(P.dense(n)))[1]
    monkeypatch.setattr(type(P), "sparse", lambda self, n: None)
    fp = sm.pattern_fiedler(P, n)
    assert "a coarse solve on" in fp.method and fp.converged
    assert fp.lambda2 == pytest.approx(ref, rel=1e-9)
    real = sm._coarse_block_preconditioner

    def halved(*args):
        M, starts, what = real(*args)
        return spla.LinearOperator(M.shape, matvec=lambda r: 0.5 * (M @ r + r), matmat=lambda R: 0.5 * (M @ R + R),
                                   dtype=np.float64), starts, what

    monkeypatch.setattr(sm, "_coarse_block_preconditioner", halved)
    assert sm.pattern_fiedler(P, n).lambda2 == pytest.approx(ref, rel=1e-9)
