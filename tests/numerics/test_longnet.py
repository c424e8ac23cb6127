"""LongNet's structure (O(n · levels) counts, sums, products, G's norms and cuts) against its mask, the closed
forms of the document and Sparse Transformer fixed masks (the latter's sweep too), and the exact split: a graph
with a certified zero cut has φ = φ_bip = h = λ₂ = 0, and a claimed split that is not one is refused."""
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_transport.check import check_pattern
from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.spectral import laplacian_spectrum
from attention_transport.numerics.structured import (
    _degrees,
    _symmetry_fiedler,
    exact_split,
    pattern_bipartite_minimum,
    pattern_cheeger_bounds,
    pattern_fiedler,
    pattern_prefix_landscape,
)


def from_definition(w, levels, n):
    """The support straight from the paper's definition (level k: segments of w·2^k, residues modulo 2^k)."""
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    M = np.zeros((n, n), dtype=bool)
    for k in range(levels):
        M |= (j <= i) & (i // (w << k) == j // (w << k)) & ((i - j) % (1 << k) == 0)
    return M / M.sum(axis=1, keepdims=True)


def assert_norms_and_cuts(P, A, d):
    """G's two norms entry by entry, and every prefix cut (atol 0: a zero cut is exactly zero)."""
    n = A.shape[0]
    N = A / np.sqrt(np.outer(d, d))
    skew, sym = P.skew_norms(n, d)
    assert skew == pytest.approx(((N - N.T) ** 2).sum(), rel=1e-11, abs=1e-300)
    assert sym == pytest.approx(((N + N.T) ** 2).sum(), rel=1e-11)
    ts = np.arange(1, n)
    cuts = P.prefix_cuts(n, ts)
    expected = np.array([A[t:, :t].sum() for t in ts])
    np.testing.assert_allclose(cuts, expected, rtol=1e-12, atol=0)
    assert ((cuts == 0) == (expected == 0)).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(2, 130), st.integers(0, 2**32 - 1))
def test_structure_equals_the_definition(w, levels, n, seed):
    P = parse_pattern(f"longnet:w={w},levels={levels}")
    A = from_definition(w, levels, n)
    np.testing.assert_array_equal(P.row_normalisers(n)[1], (A > 0).sum(axis=1))  # the O(n · levels) counts
    x = np.random.default_rng(seed).standard_normal((n, 3))
    np.testing.assert_allclose(P.matvec(n, x), A @ x, atol=1e-12)
    np.testing.assert_allclose(P.rmatvec(n, x), A.T @ x, atol=1e-12)
    np.testing.assert_allclose(P.matvec(n, x[:, 0]), A @ x[:, 0], atol=1e-12)
    sums = P.sums(n)
    np.testing.assert_allclose(sums.r, 1.0, rtol=1e-15)
    np.testing.assert_allclose(sums.c, A.sum(axis=0), rtol=1e-12, atol=1e-14)
    assert_norms_and_cuts(P, A, 0.5 * (sums.r + sums.c))


def test_past_the_top_segment_the_graph_splits_exactly():
    """w = 4, 3 levels: the top segment has 16 tokens, and no query sees across a multiple of 16."""
    P, n = parse_pattern("longnet:w=4,levels=3"), 100
    A = P.dense(n)
    landscape = pattern_prefix_landscape(P, n)
    assert exact_split(landscape) == landscape.t_star == 16 and landscape.capacity == 0.0
    bm = pattern_bipartite_minimum(P, n, landscape=landscape)
    assert (bm.phi, bm.a_star, bm.b_star) == (0.0, 16, 16)
    assert bipartite_minimum(A).phi == 0.0  # the scan of every (a, b) agrees
    cb = pattern_cheeger_bounds(P, n, landscape=landscape)
    assert cb.lambda2 == cb.lower == cb.upper == 0.0 and cb.residual < 1e-12 and "split" in cb.method
    assert laplacian_spectrum(A)[1] == pytest.approx(0.0, abs=1e-12)  # dense: a second zero eigenvalue


def test_a_claimed_split_that_is_not_one_is_refused():
    """The shortcut trusts a zero only with a zero error bound (a cut summed directly), and even then checks the
    indicator vector's residual: a doctored landscape of a connected graph falls back to the eigensolver."""
    P, n = parse_pattern("uniform-causal"), 64
    landscape = pattern_prefix_landscape(P, n)
    t = landscape.t_star
    zero_cut = landscape.cut.copy()
    zero_cut[t - 1] = 0.0
    from_identity = replace(landscape, cut=zero_cut)  # a zero with the identity's positive error bound
    assert landscape.cut_error[t - 1] > 0 and exact_split(from_identity) is None
    errors = landscape.cut_error.copy()
    errors[t - 1] = 0.0
    doctored = replace(landscape, cut=zero_cut, cut_error=errors)
    assert exact_split(doctored) == t
    cb = pattern_cheeger_bounds(P, n, landscape=doctored)
    assert cb.lambda2 > 0.01 and "split" not in cb.method
    assert cb.lambda2 == pytest.approx(laplacian_spectrum(P.dense(n))[1], rel=1e-8)


def test_check_at_n_beyond_the_sparse_form():
    """n = 20000 > 8192: no sparse matrix, every quantity from the structure, φ_bip and λ₂ from the split."""
    rec = check_pattern("longnet:w=64,levels=3", 20000)
    assert rec["structure"] == "structural"
    assert (rec["phi"], rec["t_star"], rec["phi_bip"], rec["a_star"], rec["b_star"]) == (0.0, 256, 0.0, 256, 256)
    assert rec["lambda2"] == 0.0 and rec["cheeger_upper"] == 0.0 and rec["lambda2_converged"]
    assert 0 < rec["G"] < 1


def test_a_connected_longnet_keeps_its_positive_capacity():
    """n within the top segment: connected, φ > 0 from sums whose tiny cuts (none here) would be summed exactly;
    the structural route equals the dense one."""
    P, n = parse_pattern("longnet:w=8,levels=4"), 64
    dense = prefix_landscape(P.dense(n))
    landscape = pattern_prefix_landscape(P, n)
    assert exact_split(landscape) is None and landscape.capacity > 0
    assert landscape.capacity == pytest.approx(dense.capacity, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(0, 1), st.integers(2, 60), st.integers(0, 2**32 - 1))
def test_document_masks_from_their_structure(L, bos, n, seed):
    """The document mask's O(n) products, norms and cuts against its definition; without a shared BOS it
    splits at L (when n > L)."""
    P = parse_pattern(f"document:L={L},bos={bos}")
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    M = (j <= i) & ((i // L == j // L) | ((j == 0) & (bos == 1)))
    A = M / M.sum(axis=1, keepdims=True)
    x = np.random.default_rng(seed).standard_normal((n, 2))
    np.testing.assert_allclose(P.matvec(n, x), A @ x, atol=1e-12)
    np.testing.assert_allclose(P.rmatvec(n, x), A.T @ x, atol=1e-12)
    assert_norms_and_cuts(P, A, 0.5 * (1.0 + A.sum(axis=0)))
    if n > L and L > 1:
        split = exact_split(pattern_prefix_landscape(P, n))
        assert split == (None if bos else L)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 12), st.integers(2, 80), st.integers(0, 2**32 - 1))
def test_sparse_fixed_from_its_structure(l, c, n, seed):
    """The Sparse Transformer's fixed head: O(n) products (its block and every earlier block's summary tokens)
    and G's norms against its definition, summary widths up to and past the block (c > l)."""
    P = parse_pattern(f"sparse-fixed:l={l},c={c}")
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    M = (j <= i) & ((i // l == j // l) | (j % l >= l - min(c, l)))
    A = M / M.sum(axis=1, keepdims=True)
    x = np.random.default_rng(seed).standard_normal((n, 2))
    np.testing.assert_allclose(P.matvec(n, x), A @ x, atol=1e-12)
    np.testing.assert_allclose(P.matvec(n, x[:, 0]), A @ x[:, 0], atol=1e-12)
    np.testing.assert_allclose(P.rmatvec(n, x), A.T @ x, atol=1e-12)
    np.testing.assert_allclose(P.rmatvec(n, x[:, 1]), A.T @ x[:, 1], atol=1e-12)
    d = 0.5 * (1.0 + A.sum(axis=0))
    N = A / np.sqrt(np.outer(d, d))
    skew, sym = P.skew_norms(n, d)
    assert skew == pytest.approx(((N - N.T) ** 2).sum(), rel=1e-11, abs=1e-300)
    assert sym == pytest.approx(((N + N.T) ** 2).sum(), rel=1e-11)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 12), st.integers(2, 80), st.integers(0, 2**32 - 1))
def test_sparse_fixed_sweep_bins_every_entry_at_its_later_rank(l, c, n, seed):
    """The sweep's ``inside`` from the block triangles and two Fenwick passes over the summary links equals A's
    entries binned one by one at the later rank of their ends, and the sweep cut equals the sparse route's."""
    check_sweep_inside(parse_pattern(f"sparse-fixed:l={l},c={c}"), n, np.random.default_rng(seed),
                       lambda: batches_of(1 + seed % 5))


@contextmanager
def batches_of(k):
    """The Sparse Transformer presets' sweeps with k positions (blocks) a batch."""
    from attention_transport.numerics.patterns import presets

    old, presets.SWEEP_POSITIONS = presets.SWEEP_POSITIONS, k
    try:
        yield
    finally:
        presets.SWEEP_POSITIONS = old


def check_sweep_inside(P, n, rng, again=None):
    """P's own ``sweep_inside`` against A's entries binned one by one at the later rank of their ends, for a random
    order (and once more under ``again()``, a context that changes how it is computed), and the sweep cut it
    gives against the sparse route's for a random vector."""
    from contextlib import nullcontext

    from attention_transport.numerics.structured import _sweep_minimum, _sweep_order, _sweep_sparse

    A = P.dense(n)
    rank = rng.permutation(n)
    expected = np.bincount(np.maximum(rank[:, None], rank[None, :]).ravel(), weights=A.ravel(), minlength=n)
    for context in (nullcontext(), again() if again else nullcontext()):
        with context:
            np.testing.assert_allclose(P.sweep_inside(n, rank), expected, rtol=1e-12, atol=1e-14)
    d = 0.5 * (1.0 + A.sum(axis=0))
    v = rng.standard_normal(n)
    order, rank = _sweep_order(d, v)
    assert _sweep_minimum(P.sweep_inside(n, rank), d, order) == pytest.approx(
        _sweep_sparse(sp.csr_matrix(A), d, v), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.lists(st.tuples(st.integers(0, 299), st.floats(-5, 5)), max_size=40),
       st.lists(st.integers(0, 300), min_size=1, max_size=20))
def test_fenwick_sums_below_each_position(size, updates, queries):
    from attention_transport.numerics.patterns.base import Fenwick

    updates = [(p % size, w) for p, w in updates]
    tree, plain = Fenwick(size), np.zeros(size)
    for chunk in (updates[:len(updates) // 2], updates[len(updates) // 2:]):  # two batched updates
        if chunk:
            pos, w = map(np.array, zip(*chunk))
            tree.add(pos, w)
            np.add.at(plain, pos, w)
    queries = np.minimum(np.array(queries), size)
    np.testing.assert_allclose(tree.below(queries), [plain[:q].sum() for q in queries], atol=1e-9)


def test_the_default_prefix_cuts_sum_the_row_blocks():
    """A family without structural cuts gets them from its row blocks, equal to the structural ones."""
    from attention_transport.numerics.patterns.base import Pattern

    P, n = parse_pattern("longnet:w=3,levels=3"), 40
    ts = np.arange(1, n)
    np.testing.assert_allclose(Pattern.prefix_cuts(P, n, ts), P.prefix_cuts(n, ts), rtol=1e-13, atol=0)
    U = parse_pattern("uniform-causal")
    assert not U.structural_cuts
    A = U.dense(n)
    np.testing.assert_allclose(U.prefix_cuts(n, ts), [A[t:, :t].sum() for t in ts], rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(2, 90))
def test_a_shared_bos_reduces_by_the_symmetry_of_identical_documents(L, n):
    """Without token 0 the documents are identical components: λ₂ from one document's block and one reduced
    matrix (pattern_fiedler's symmetry route) equals the dense spectrum's, to rounding."""
    P = parse_pattern(f"document:L={L},bos=1")
    fp = pattern_fiedler(P, n)
    assert "symmetry reduction" in fp.method and fp.converged
    assert fp.lambda2 == pytest.approx(laplacian_spectrum(P.dense(n))[1], rel=1e-10, abs=1e-13)


def test_the_symmetry_route_at_a_length_past_the_dense_one():
    P, n = parse_pattern("document:L=128,bos=1"), 1500
    fp = pattern_fiedler(P, n)
    assert "symmetry reduction" in fp.method and fp.residual < 1e-12
    assert fp.lambda2 == pytest.approx(laplacian_spectrum(P.dense(n))[1], rel=1e-10)
    rec = check_pattern("document:L=512,bos=1", 20000)
    assert rec["lambda2_converged"] and "symmetry reduction" in rec["lambda2_method"]
    assert rec["cheeger_lower"] == pytest.approx(rec["lambda2"] / 2)


def test_a_claimed_symmetry_that_is_not_one_is_refused():
    """Hubs and components must cover every token once, and copies must have equal blocks and hub links:
    otherwise the symmetry route declines and the general route decides."""
    P, n = parse_pattern("uniform-causal"), 40
    d = _degrees(P.sums(n))
    v1 = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    copies = [(np.array([1, 14, 27]), 13)]  # covers 1..39, but later rows reach back past their copy
    assert _symmetry_fiedler(P, n, d, v1, np.array([0]), copies) is None
    gap = [(np.array([1, 14]), 13)]  # leaves tokens 27..39 uncovered
    assert _symmetry_fiedler(P, n, d, v1, np.array([0]), gap) is None
    Q = parse_pattern("document:L=8,bos=1")
    wrong_length = [(np.array([1]), 7), (np.array([8, 16, 24, 32]), 8)]
    dq = _degrees(Q.sums(n))
    vq = np.sqrt(dq) / np.linalg.norm(np.sqrt(dq))
    assert _symmetry_fiedler(Q, n, dq, vq, np.array([0]), wrong_length) is not None  # the true structure
    assert _symmetry_fiedler(Q, n, dq, vq, np.array([0]), [(np.array([1]), 7), (np.array([8, 20]), 12),
                                                           (np.array([32]), 8)]) is None
