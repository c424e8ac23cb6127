"""The nested-grid search of φ_bip (numerics.bipsearch) against the exact O(n²) scan: random attention matrices
and library patterns, with the grids shrunk so that every search goes through several levels, boxes evaluated
whole and boxes summed from their block; what it cannot narrow it refuses, never a value it has not proven."""
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_transport.errors import WontFit
from attention_transport.numerics import bipsearch
from attention_transport.numerics.landscapes import bipartite_minimum
from attention_transport.numerics.patterns import parse_pattern

from attention_strategies import attention_matrices


@contextlib.contextmanager
def small_grids(lines, dense_cells, block_cells):
    saved = bipsearch.GRID_LINES, bipsearch.DENSE_BOX_CELLS, bipsearch.BLOCK_SUM_CELLS
    bipsearch.GRID_LINES, bipsearch.DENSE_BOX_CELLS, bipsearch.BLOCK_SUM_CELLS = lines, dense_cells, block_cells
    try:
        yield
    finally:
        bipsearch.GRID_LINES, bipsearch.DENSE_BOX_CELLS, bipsearch.BLOCK_SUM_CELLS = saved


def search_matrix(A, **kw):
    n = A.shape[0]
    return bipsearch.bounded_bipartite_minimum(n, A.sum(axis=1), A.sum(axis=0), lambda X: A @ X,
                                               lambda Y: A.T @ Y, lambda i0, i1, j0, j1: A[i0:i1, j0:j1], **kw)


def search_pattern(P, n, **kw):
    s = P.sums(n)
    return bipsearch.bounded_bipartite_minimum(n, s.r, s.c, lambda X: P.matvec(n, X), lambda Y: P.rmatvec(n, Y),
                                               lambda i0, i1, j0, j1: P.block(n, i0, i1, j0, j1), **kw)


def assert_same(bm, A):
    ref = bipartite_minimum(A)
    assert bm.phi == pytest.approx(ref.phi, rel=1e-9, abs=1e-12)
    a, b = bm.a_star, bm.b_star  # the cell it names attains the value (ties may name another cell than the scan)
    n = A.shape[0]
    cut = A[:b, a:].sum() + A[b:, :a].sum()
    vol = A[:b].sum() + A[:, :a].sum()
    assert cut / min(vol, A.sum() * 2 - vol) == pytest.approx(bm.phi, rel=1e-9, abs=1e-12)
    assert 0 <= a <= n and 0 <= b <= n


@given(attention_matrices(min_n=2, max_n=40), st.sampled_from([(2, 4, 64), (3, 16, 400), (5, 50, 10**6)]))
@settings(max_examples=150, deadline=None)
def test_random_attention_matrices_equal_the_full_scan_or_are_refused(A, grids):
    """Causal, windowed, bidirectional, row-stochastic and zero-laden matrices: every returned value is the scan's."""
    A = np.asarray(A, dtype=np.float64)
    if A.sum(axis=1).min() <= 0:
        return  # the pattern routes need positive rows (a zero-degree vertex is refused before any search)
    with small_grids(*grids):
        try:
            bm = search_matrix(A)
        except WontFit:
            return
    assert_same(bm, A)


#: patterns whose landscapes close on their minimum (no flat valley along the diagonal)
CLOSING = ["uniform-causal", "bigbird:b=4", "stack(window:w=4, uniform-causal)", "power-law", "prefix-lm",
           "mix(uniform-causal@0.5, window:w=8@0.5)", "streaming-llm:s=2,w=16", "gemma2:w=16", "block-causal:b=8",
           "sparse-strided:l=8", "gemma3:w=16"]


@pytest.mark.parametrize("spec", CLOSING)
def test_patterns_through_several_levels_equal_the_full_scan(spec):
    P, n = parse_pattern(spec), 700
    with small_grids(32, 20000, 10**6):
        bm = search_pattern(P, n)
    assert bm.method.startswith("bounded search over nested grids") and "boxes" in bm.method
    assert_same(bm, P.dense(n))


def test_the_edges_of_the_square_are_one_exactly():
    """A deep stack's last columns carry ~1e-16 of mass: b = n with a near n is a ratio of rounding residues, and
    computing it gave 0; on the edges φ = 1 exactly."""
    P, n = parse_pattern("gemma3"), 1500
    assert P.sums(n).c[-4:].sum() < 1e-12
    bm = search_pattern(P, n)  # one box, every (a, b) evaluated
    assert_same(bm, P.dense(n))
    assert bm.phi < 1 and bm.b_star < n


def test_a_flat_valley_is_refused_not_guessed():
    """Past its balance point sink-window's landscape is flat along the diagonal to within the window's
    plateau; the grid cannot narrow it and the search says so."""
    with small_grids(64, 10**4, 10**5), pytest.raises(WontFit, match="cannot narrow its box"):
        search_pattern(parse_pattern("sink-window:s=4,w=16"), 20000)


def test_the_time_limit_refuses_before_a_level_it_cannot_afford():
    with small_grids(256, 10**4, 10**5), pytest.raises(WontFit, match="would take more than"):
        search_pattern(parse_pattern("uniform-causal"), 50000, max_seconds=1e-9)


def test_uniform_causal_approaches_the_bipartite_floor():
    """C4b: φ_bip(n) > φ_bip* ≈ 0.248061 at (a*, b*) ≈ (0.216844, 0.451693) n; at n = 10⁵ the search lands there."""
    n = 10**5
    bm = search_pattern(parse_pattern("uniform-causal"), n)
    assert 0.248061 < bm.phi < 0.248064
    assert abs(bm.a_star / n - 0.216844) < 1e-3 and abs(bm.b_star / n - 0.451693) < 1e-3


@given(attention_matrices(min_n=2, max_n=24), st.data())
@settings(max_examples=200, deadline=None)
def test_the_cell_bound_is_below_every_point_of_its_cell(A, data):
    """The pruning bound itself: on any grid, no (a, b) inside a cell lies below the cell's bound."""
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    rows = np.concatenate([np.zeros((1, n + 1)), np.cumsum(np.concatenate([np.zeros((n, 1)), A], axis=1), axis=0)])
    S = np.cumsum(rows, axis=1)  # S[b, a] = Σ_{i<b, j<a} A_ij
    r_tot, c_tot = S[:, -1:], S[-1:, :]
    P, Q = r_tot - S, c_tot - S  # P[b, a] = Σ_{i<b, j≥a}, Q[b, a] = Σ_{i≥b, j<a}
    vol = r_tot + c_tot
    comp = 2 * A.sum() - vol
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(np.minimum(vol, comp) > 1e-12, (P + Q) / np.minimum(vol, comp), np.inf)
    lines = lambda: np.unique(data.draw(st.lists(st.integers(0, n), min_size=2, max_size=6)) + [0, n])  # noqa: E731
    bl, al = lines(), lines()
    lb = bipsearch.cell_lower_bounds(P[np.ix_(bl, al)], Q[np.ix_(bl, al)], vol[np.ix_(bl, al)], comp[np.ix_(bl, al)])
    for k in range(len(bl) - 1):
        for m in range(len(al) - 1):
            inside = phi[bl[k]:bl[k + 1] + 1, al[m]:al[m + 1] + 1]
            assert lb[k, m] <= inside.min() * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("gate", [True, False])
def test_products_far_dearer_than_a_cumulative_sum_are_declined(gate, monkeypatch):
    """The decision compares two timings taken together (a product and a cumulative sum of the same block), not a
    clock budget: the pattern's own product (a cumulative sum and a scaling) is searched, the same product padded
    with a sleep is declined — by the 8-column gate, or, with the gate out of the way, by the 32-column timing."""
    import time

    if not gate:
        monkeypatch.setattr(bipsearch, "_GATE_FACTOR", np.inf)

    P, n = parse_pattern("uniform-causal"), 900
    s = P.sums(n)

    def run(matvec):
        return bipsearch.bounded_bipartite_minimum(n, s.r, s.c, matvec, lambda Y: P.rmatvec(n, Y),
                                                   lambda i0, i1, j0, j1: P.block(n, i0, i1, j0, j1),
                                                   max_cost_ratio=50)

    def slow(X):
        time.sleep(0.2)
        return P.matvec(n, X)

    with small_grids(256, 1000, 2000):
        with pytest.raises(WontFit, match="cumulative sums of the same block") as caught:
            run(slow)
        assert ("on 8 columns" in str(caught.value)) == gate
        assert_same(run(lambda X: P.matvec(n, X)), P.dense(n))
