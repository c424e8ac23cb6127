"""Prefix and bipartite landscapes against brute-force oracles kept in this module."""
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from attention_strategies import attention_matrices, causal_matrices, nonnegative_matrices, tiny_capacity_matrices
from attention_transport.numerics import landscapes
from attention_transport.numerics.exact import exact_prefix_capacity, exact_prefix_landscape
from attention_transport.numerics.landscapes import (
    bipartite_landscape,
    bipartite_minimum,
    conductance,
    prefix_capacity,
    prefix_landscape,
    prefix_landscape_from_sums,
)


# ---------------------------------------------------------------- oracles
def oracle_phi(A, queries, keys):
    """Conductance of X = {q_i : i ∈ queries} ∪ {k_j : j ∈ keys} from the definition, by loops."""
    n = len(A)
    Q, K = set(queries), set(keys)
    cut = sum(A[i][j] for i in range(n) for j in range(n) if (i in Q) != (j in K))
    vol = sum(A[i][j] for i in Q for j in range(n)) + sum(A[i][j] for i in range(n) for j in K)
    comp = sum(A[i][j] for i in range(n) if i not in Q for j in range(n)) + sum(
        A[i][j] for i in range(n) for j in range(n) if j not in K)
    denom = min(vol, comp)
    return None if denom == 0 else cut / denom


def oracle_prefix(A):
    return [oracle_phi(A, range(t), range(t)) for t in range(1, len(A))]


def oracle_bipartite(A):
    n = len(A)
    return {(a, b): oracle_phi(A, range(b), range(a)) for a in range(n + 1) for b in range(n + 1)}


def nan_to_none(x):
    return [None if np.isnan(v) else v for v in x]


# ---------------------------------------------------------------- exact tables
def uniform_causal(n, exact=False):
    one = Fraction(1) if exact else 1.0
    return [[one / (i + 1) if j <= i else 0 * one for j in range(n)] for i in range(n)]


@pytest.mark.parametrize("n, phi, t", [(2, Fraction(1, 3), 1), (3, Fraction(5, 17), 1),
                                        (4, Fraction(13, 37), 1)])
def test_uniform_causal_exact_table(n, phi, t):
    # n = 4: cut(1) = H4 − H1 = 13/12, vol(1) = 2 + 13/12 = 37/12 ≤ 8 − 37/12
    assert exact_prefix_capacity(uniform_causal(n, exact=True)) == (phi, t)
    land = prefix_landscape(np.array(uniform_causal(n)))
    assert land.capacity == pytest.approx(float(phi), rel=1e-15) and land.t_star == t


def test_exact_matches_oracle_in_rationals():
    A = uniform_causal(7, exact=True)
    assert exact_prefix_landscape(A) == oracle_prefix(A)


# ---------------------------------------------------------------- fast paths vs oracles
@given(attention_matrices())
def test_prefix_landscape_matches_oracle(A):
    land = prefix_landscape(A)
    expected = oracle_prefix(A.tolist())
    got = nan_to_none(land.phi)
    assert [e is None for e in expected] == [g is None for g in got]
    np.testing.assert_allclose([g for g in got if g is not None], [e for e in expected if e is not None],
                               rtol=1e-10, atol=1e-12)
    assert land.causal == (not np.triu(A, 1).any())


@given(nonnegative_matrices())
def test_prefix_landscape_on_unnormalised_matrices(A):
    np.testing.assert_allclose(prefix_landscape(A).phi, oracle_prefix(A.tolist()), rtol=1e-10, atol=1e-12)


@given(causal_matrices())
def test_in_degree_identity_C1(A):
    """C1: cut(t) = Σ_{k≤t}(c_k − r_k), vol(t) = Σ_{k≤t}(r_k + c_k) for causal A."""
    r, c = A.sum(axis=1), A.sum(axis=0)
    land = prefix_landscape_from_sums(r, c)
    for t in range(1, len(A)):
        assert land.cut[t - 1] == pytest.approx(A[t:, :t].sum() + A[:t, t:].sum(), abs=1e-12)
        assert land.vol[t - 1] == pytest.approx(A[:t].sum() + A[:, :t].sum(), abs=1e-12)


@given(attention_matrices(max_n=7))
def test_bipartite_minimum_matches_oracle(A):
    table = oracle_bipartite(A.tolist())
    defined = {k: v for k, v in table.items() if v is not None}
    best = min(defined.values())
    bm = bipartite_minimum(A)
    assert bm.phi == pytest.approx(best, rel=1e-10, abs=1e-12)
    assert table[(bm.a_star, bm.b_star)] == pytest.approx(bm.phi, rel=1e-10, abs=1e-12)
    full = bipartite_landscape(A)
    for (a, b), v in table.items():
        if v is None:
            assert np.isnan(full[b, a])
        else:
            assert full[b, a] == pytest.approx(v, rel=1e-10, abs=1e-12)


def sink_head(n, leak):
    """Every query puts all but ``leak`` per earlier key on key 1: the keys 2..n have tiny volume."""
    A = np.zeros((n, n))
    for i in range(n):
        A[i, 1:i + 1] = leak
        A[i, 0] = 1.0 - i * leak
    return A


def test_tiny_complement_keeps_its_digits():
    """All queries and key 1 left of the cut: the smaller side is keys 2..n, of volume ~1e-12, and
    every edge of it crosses, so φ = 1. A difference of prefix sums would lose most digits."""
    A = sink_head(6, 1e-13)
    full = bipartite_landscape(A)
    assert full[6, 1] == pytest.approx(1.0, rel=1e-12)
    for (a, b), v in oracle_bipartite(A.tolist()).items():
        if v is not None:
            assert full[b, a] == pytest.approx(v, rel=1e-12, abs=1e-15)
    assert bipartite_minimum(A).phi == pytest.approx(np.nanmin(full), rel=1e-12)


@pytest.mark.parametrize("n", [40, 700, 3000])
def test_sink_head_minimum_is_not_a_rounding_artefact(n):
    """Every cut of a sink head has φ within ~n²·leak of 1 (its tiny sides are keys only, all crossing);
    the tail rows, where such sides live, take their cuts from suffix sums."""
    bm = bipartite_minimum(sink_head(n, 1e-13))
    assert 1 - 1e-12 * n ** 2 < bm.phi <= 1 + 1e-12


def test_bipartite_blocking_is_invisible(monkeypatch):
    """Several query blocks must give the same minimum as one block."""
    rng = np.random.default_rng(3)
    A = rng.random((300, 300)) * np.tri(300)
    A /= A.sum(axis=1, keepdims=True)
    one = bipartite_minimum(A)
    monkeypatch.setattr(landscapes, "_BLOCK_BYTES", 4096)
    assert landscapes._block_rows(A) < 300
    assert prefix_landscape(A).capacity == pytest.approx(prefix_capacity(A)[0], rel=0)
    full = bipartite_landscape(A)
    assert one.phi == pytest.approx(np.nanmin(full), rel=1e-12)
    assert full[one.b_star, one.a_star] == pytest.approx(one.phi, rel=1e-12)


def _first_minimum(full):
    """(φ, a, b) of the smallest finite cell of a landscape [b, a]: ties to the smallest b, then a."""
    k = int(np.nanargmin(full))
    b, a = divmod(k, full.shape[1])
    return float(full[b, a]), a, b


@settings(max_examples=150, deadline=None)
@given(attention_matrices(min_n=2, max_n=40), st.sampled_from([1, 2, 3, 5, 8]))
def test_tiles_are_exact(A, T):
    """The tiled search against every cell: each tile's corner bound may prune only cells above the minimum,
    and the cells inside candidate tiles (rows and columns past n included) are the true cuts."""
    A = np.asarray(A, dtype=np.float64)
    full = bipartite_landscape(A)
    phi, a, b = _first_minimum(full)
    bm = landscapes._tiled_bipartite_minimum(A, T)
    if bm is None:  # the bounds pruned too little: the row scan takes it (tested with the public function)
        tiles = -(-(A.shape[0] + 1) // T)
        assert tiles * tiles > 64  # the rule declines only past 64 candidate tiles (a flat landscape, any T)
        return
    assert bm.phi == pytest.approx(phi, rel=1e-12, abs=1e-300)
    assert full[bm.b_star, bm.a_star] == pytest.approx(phi, rel=1e-12, abs=1e-300)
    assert bm.rel_error < 1e-12


@settings(max_examples=100, deadline=None)
@given(attention_matrices(min_n=2, max_n=24), st.sampled_from([1, 2, 3, 5]))
def test_tile_bounds_hold_every_cell(A, T):
    """Each tile's corner bound lies at or below every defined cell of its tile (the full landscape's)."""
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    full = bipartite_landscape(A)
    lat = np.minimum(np.arange(-(-(n + 1) // T) + 1) * T, n)
    U = np.array([[A[:b, a:].sum() for a in lat] for b in lat])
    L = np.array([[A[b:, :a].sum() for a in lat] for b in lat])
    vol = np.array([[A[:b].sum() + A[:, :a].sum() for a in lat] for b in lat])
    comp = np.array([[A[b:].sum() + A[:, a:].sum() for a in lat] for b in lat])
    bound = landscapes._tile_bounds(U, L, vol, comp)
    for k in range(len(lat) - 1):
        for m in range(len(lat) - 1):
            cells = full[lat[k]: lat[k + 1] + 1, lat[m]: lat[m + 1] + 1]
            if np.isfinite(cells).any():
                assert bound[k, m] <= np.nanmin(cells) * (1 + 1e-12) + 1e-300


@pytest.mark.parametrize("n, T", [(37, 8), (63, 8), (64, 8), (65, 8), (200, 16), (511, 8), (300, 64), (257, 256)])
def test_tiles_find_minima_inside_tiles(n, T):
    """Heads whose minimum lies off the lattice of every T-th cut: the answer is the first minimum of the full
    landscape, cell for cell (n = 63, 64 and 65 put the last cut row n before, on and after a lattice line)."""
    rng = np.random.default_rng(n)
    heads = [np.tril(np.ones((n, n)))]  # uniform causal: a wide, flat valley, where a bound is close to the cells
    heads += [np.tril(rng.random((n, n)) ** (1 + 4 * trial)) + np.diag(rng.random(n)) for trial in range(6)]
    lattice = set(np.minimum(np.arange(-(-(n + 1) // T) + 1) * T, n).tolist())
    for A in heads:
        A /= A.sum(axis=1, keepdims=True)
        full = bipartite_landscape(A)
        phi, a, b = _first_minimum(full)
        assert a not in lattice or b not in lattice  # the minimum is a cell only a candidate tile holds
        bm = landscapes._tiled_bipartite_minimum(A, T)
        assert bm is not None, "the tiles declined a head they must search (not a flat landscape)"
        assert (bm.phi, bm.a_star, bm.b_star) == (pytest.approx(phi, rel=1e-12), a, b)
        assert bm.method.startswith(f"tiles of {T} × {T}")


@settings(max_examples=100, deadline=None)
@given(attention_matrices(min_n=2, max_n=40), st.sampled_from([1, 2, 3, 5, 8]))
def test_sparse_tiles_are_exact(A, T):
    """The same tiles from a scipy sparse matrix (group sums by sparse products, tiles from CSR slices) give
    the dense tiles' minimum and cell, and the full landscape's."""
    import scipy.sparse as sp

    A = np.asarray(A, dtype=np.float64)
    dense = landscapes._tiled_bipartite_minimum(A, T)
    sparse = landscapes.sparse_tiled_bipartite_minimum(sp.csr_matrix(A), T)
    assert (dense is None) == (sparse is None)
    if sparse is None:
        return
    full = bipartite_landscape(A)
    assert sparse.phi == pytest.approx(np.nanmin(full), rel=1e-12, abs=1e-300)
    assert full[sparse.b_star, sparse.a_star] == pytest.approx(sparse.phi, rel=1e-12, abs=1e-300)
    assert sparse.phi == pytest.approx(dense.phi, rel=1e-12, abs=1e-300)


def test_crowded_tiles_go_to_the_row_scan():
    """A landscape flat enough that most tiles are candidates (every query on key 1: every defined cut is 1) is
    scanned row by row instead, with the same answer."""
    n = 300
    A = np.zeros((n, n))
    A[:, 0] = 1.0
    assert landscapes._tiled_bipartite_minimum(A, 8) is None
    full = bipartite_landscape(A)
    bm = bipartite_minimum(A)
    assert bm.phi == pytest.approx(np.nanmin(full), rel=1e-12)
    assert bm.method == "scan of every (a, b)"


def test_tile_pass_validates():
    """The tiles' one pass validates each block: a bad entry anywhere gets the one-line error that names it."""
    for dtype in (np.float64, np.float32):
        A = np.tril(np.ones((600, 600), dtype=dtype))
        A[517, 3] = -1.0
        with pytest.raises(ValueError, match=r"nonnegative; got A\[517, 3\] = -1"):
            bipartite_minimum(A)
        A[517, 3] = np.nan
        with pytest.raises(ValueError, match=r"finite; got A\[517, 3\] = nan"):
            bipartite_minimum(A)


def test_tiled_threads_agree(monkeypatch):
    """The tiles' pass on one thread and on several gives the same minimum, bit for bit."""
    rng = np.random.default_rng(7)
    A = np.tril(rng.random((2100, 2100)))
    A /= A.sum(axis=1, keepdims=True)
    many = bipartite_minimum(A)
    monkeypatch.setattr(landscapes, "_SUM_THREADED_MIN_ENTRIES", 1 << 40)
    one = bipartite_minimum(A)
    assert (many.phi, many.a_star, many.b_star) == (one.phi, one.a_star, one.b_star)
    assert many.method.startswith("tiles")


def test_prefix_blocks_agree(monkeypatch):
    rng = np.random.default_rng(5)
    A = rng.random((257, 257)).astype(np.float32)
    ref = prefix_landscape(A)
    monkeypatch.setattr(landscapes, "_BLOCK_BYTES", 3000)
    monkeypatch.setattr(landscapes, "_SUM_BLOCK_BYTES", 3000)
    small = prefix_landscape(A)
    np.testing.assert_allclose(small.phi, ref.phi, rtol=1e-12)
    np.testing.assert_allclose(ref.phi, oracle_prefix(A.astype(np.float64).tolist()), rtol=1e-9)


def _threaded(threads, block_bytes):
    """Patch the summing pass to ``threads`` threads over blocks of ``block_bytes`` at every n (restored by the
    returned callable): a hypothesis test cannot take pytest's function-scoped monkeypatch."""
    saved = {k: getattr(landscapes, k) for k in ("_SUM_THREADS", "_SUM_THREADED_MIN_ENTRIES", "_SUM_BLOCK_BYTES")}
    landscapes._SUM_THREADS, landscapes._SUM_THREADED_MIN_ENTRIES, landscapes._SUM_BLOCK_BYTES = threads, 0, block_bytes
    pool = list(landscapes._POOL)
    landscapes._POOL.clear()

    def restore():
        for k, v in saved.items():
            setattr(landscapes, k, v)
        for _, extra in landscapes._POOL:
            extra.shutdown()
        landscapes._POOL[:] = pool

    return restore


@given(attention_matrices(min_n=2, max_n=40), st.integers(1, 4), st.integers(1, 9))
@settings(max_examples=60, deadline=None)
def test_threaded_sums_equal_the_definition(A, threads, rows):
    """The summing pass shares its row blocks among threads (each with its own column sums): r, c and the
    strictly-upper sums equal their definitions for any thread count and block size, causal or not."""
    n = A.shape[0]
    restore = _threaded(threads, rows * n * A.itemsize)
    try:
        r, c, s, u = landscapes._streamed_sums(A)
    finally:
        restore()
    A64 = A.astype(np.float64)
    upper = np.triu(A64, 1)
    for got, ref in ((r, A64.sum(axis=1)), (c, A64.sum(axis=0)), (s, upper.sum(axis=1)), (u, upper.sum(axis=0))):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_a_forked_child_sums_with_threads_of_its_own():
    """The pool is per process: a child forked after the parent summed starts a pool of its own (the parent's
    threads are not copied by a fork) and gets the parent's sums."""
    import multiprocessing

    rng = np.random.default_rng(2)
    A = np.tril(rng.random((64, 64)))
    restore = _threaded(2, 4 * 64 * 8)
    try:
        expected = landscapes._streamed_sums(A)[1]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as child:
            got = child.apply_async(landscapes._streamed_sums, (A,)).get(timeout=60)[1]
    finally:
        restore()
    np.testing.assert_allclose(got, expected, rtol=1e-15)


@pytest.mark.parametrize("bad, message", [(np.nan, "nan"), (-0.25, "-0.25"), (np.inf, "inf"), (-0.0, None)])
def test_threaded_sums_refuse_a_bad_entry_in_any_block(bad, message):
    rng = np.random.default_rng(8)
    A = np.tril(rng.random((64, 64)))
    A[50, 20] = bad  # in a late block, taken by the second thread
    restore = _threaded(2, 4 * 64 * 8)
    try:
        if message is None:  # −0.0 is a valid zero: min() >= 0 holds for it
            assert landscapes._streamed_sums(A)[0][50] == pytest.approx(A[50].sum())
        else:
            with pytest.raises(ValueError, match=message):
                landscapes._streamed_sums(A)
    finally:
        restore()


@given(attention_matrices(max_n=8), st.data())
def test_conductance_matches_networkx(A, data):
    n = len(A)
    G = nx.Graph()
    G.add_nodes_from([("q", i) for i in range(n)] + [("k", j) for j in range(n)])
    for i in range(n):
        for j in range(n):
            if A[i, j] > 0:
                G.add_edge(("q", i), ("k", j), weight=A[i, j])
    Q = data.draw(st.sets(st.integers(0, n - 1), min_size=1))
    Kset = data.draw(st.sets(st.integers(0, n - 1)))
    X = [("q", i) for i in Q] + [("k", j) for j in Kset]
    if oracle_phi(A.tolist(), Q, Kset) is None:
        with pytest.raises(ValueError, match="undefined when vol"):
            conductance(A, Q, Kset)
    else:
        assert conductance(A, Q, Kset) == pytest.approx(nx.conductance(G, X, weight="weight"), rel=1e-10)


# ---------------------------------------------------------------- invariants
@given(attention_matrices())
def test_transpose_invariance(A):
    """C6: every conductance quantity is the same for A and Aᵀ."""
    a, at = prefix_landscape(A), prefix_landscape(A.T)
    np.testing.assert_allclose(a.phi, at.phi, rtol=1e-10, atol=1e-13)
    b, bt = bipartite_minimum(A), bipartite_minimum(A.T)
    assert b.phi == pytest.approx(bt.phi, rel=1e-10, abs=1e-13)


@given(attention_matrices())
@example(np.eye(3))
def test_bounds(A):
    land = prefix_landscape(A)
    phi = land.phi[~np.isnan(land.phi)]
    assert np.all(phi >= 0) and np.all(phi <= 1 + 1e-12)
    assert bipartite_minimum(A).phi <= land.capacity + 1e-12


def test_float16_input_is_read_in_place():
    rng = np.random.default_rng(0)
    A = np.tril(rng.random((40, 40))) + 0.01 * np.eye(40)
    A /= A.sum(axis=1, keepdims=True)
    h = A.astype(np.float16)
    land = prefix_landscape(h)
    np.testing.assert_allclose(land.phi, oracle_prefix(h.astype(np.float64).tolist()), rtol=1e-9)
    assert land.causal


def test_not_quite_causal_takes_general_path():
    A = np.array(uniform_causal(6))
    A[1, 4] = 1e-9
    land = prefix_landscape(A)
    assert not land.causal
    np.testing.assert_allclose(land.phi, oracle_prefix(A.tolist()), rtol=1e-12)


# ---------------------------------------------------------------- errors
def test_disconnected_cut_is_zero_and_undefined_cut_excluded():
    A = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    assert prefix_capacity(A) == (0.0, 1)
    B = np.zeros((3, 3))
    B[0, 0] = 1.0
    with pytest.raises(ValueError, match="no prefix cut has positive volume"):
        prefix_landscape(B)
    with pytest.raises(ValueError, match="no bipartite cut"):
        bipartite_minimum(np.zeros((3, 3)))


@pytest.mark.parametrize("A, message", [
    (np.array([[0.5, 0.5], [-1.0, 2.0]]), r"nonnegative; got A\[1, 0\] = -1"),
    (np.array([[0.5, np.nan], [0.5, 0.5]]), r"finite; got A\[0, 1\] = nan"),
    (np.ones((3, 2)), r"must be square"),
    (np.ones((1, 1)), r"n >= 2"),
])
def test_prefix_errors(A, message):
    with pytest.raises(ValueError, match=message):
        prefix_landscape(A)


@pytest.mark.parametrize("r, c, message", [
    ([1.0], [1.0], "n >= 2"),
    ([1.0, 1.0], [1.0], "equal length"),
    ([1.0, -1.0], [1.0, 1.0], "row sums must be finite and nonnegative; got entry 1 = -1.0"),
    ([1.0, 1.0], [np.nan, 1.0], "column sums must be finite and nonnegative; got entry 0 = nan"),
])
def test_from_sums_errors(r, c, message):
    with pytest.raises(ValueError, match=message):
        prefix_landscape_from_sums(r, c)


def test_conductance_undefined():
    with pytest.raises(ValueError, match="undefined when vol"):
        conductance(np.eye(2), [], [])


@given(st.lists(st.one_of(attention_matrices(min_n=5, max_n=5, float16=False),
                          tiny_capacity_matrices(min_n=5, max_n=5)), min_size=1, max_size=4),
       st.sampled_from(["none", "direct", "one-head-bad"]))
def test_many_landscapes_at_once_equal_each_one(heads, mode):
    """``prefix_landscapes_from_sums`` gives every head exactly its own ``prefix_landscape_from_sums``: the same
    sums in the same order, the direct sums where a cut needs them, and a head with bad sums its own error."""
    from attention_transport.numerics.landscapes import (
        _matrix_row_blocks,
        direct_prefix_cuts,
        prefix_landscapes_from_sums,
    )

    A = np.stack([np.asarray(h, dtype=np.float64) for h in heads])
    r, c = A.sum(-1), A.sum(-2)
    upper = np.stack([np.triu(h, 1).sum(1) for h in A])
    lower = np.stack([np.triu(h, 1).sum(0) for h in A])
    causal = not upper.any()
    extra = {} if causal else {"upper": upper, "lower": lower}

    def direct(h):
        return lambda ts: direct_prefix_cuts(_matrix_row_blocks(A[h]), A.shape[-1], ts, causal)

    if mode == "one-head-bad":
        c[-1, 0] = -1.0
        with pytest.raises(ValueError, match=r"column sums must be finite and nonnegative; got entry 0 = -1.0"):
            prefix_landscapes_from_sums(r, c, **extra)
        return
    got = prefix_landscapes_from_sums(r, c, direct=direct if mode == "direct" else None, **extra)
    for h, L in enumerate(got):
        one = {} if causal else {"upper": upper[h], "lower": lower[h]}
        ref = prefix_landscape_from_sums(r[h], c[h], direct=direct(h) if mode == "direct" else None, **one)
        np.testing.assert_array_equal(L.phi, ref.phi)
        np.testing.assert_array_equal(L.cut_error, ref.cut_error)
        assert (L.t_star, L.capacity, L.total_volume, L.causal) == (ref.t_star, ref.capacity, ref.total_volume,
                                                                    ref.causal)
    capacity, t_star = landscapes.landscape_minima(got)  # every head's readout at once: the same numbers
    assert capacity.tolist() == [L.capacity for L in got] and t_star.tolist() == [L.t_star for L in got]


def test_landscape_minima_of_undefined_or_mixed_landscapes():
    one = prefix_landscape(np.array([[1.0, 0.0], [0.5, 0.5]]))
    three = prefix_landscape(np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None])
    capacity, t_star = landscapes.landscape_minima([one, three])  # different lengths: one by one
    assert capacity.tolist() == [one.capacity, three.capacity] and t_star.tolist() == [one.t_star, three.t_star]
    empty = landscapes.PrefixLandscape(n=3, cut=np.zeros(2), vol=np.zeros(2), total_volume=0.0,
                                       phi=np.full(2, np.nan), causal=True, cut_error=np.zeros(2), comp=np.zeros(2))
    with pytest.raises(ValueError, match="All-NaN"):
        landscapes.landscape_minima([three, empty])
