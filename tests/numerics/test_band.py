"""The band search of C5b (``numerics/band.py``): bandwidths and bands of every pattern, and the strip's minimum
against the full bipartite scan."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.band import band_search_width, banded_bipartite_minimum, dense_band_rows
from attention_transport.numerics.landscapes import bipartite_landscape, bipartite_minimum
from attention_transport.numerics.patterns import parse_pattern, sparse_matrix_pattern
from attention_transport.numerics.patterns.compose import Stack
from attention_transport.numerics.structured import pattern_bipartite_minimum, pattern_prefix_landscape

from attention_strategies import banded_matrices
from test_pattern_objects import ALL, IDS


def _offsets(n):
    i = np.arange(n)
    return np.abs(i[:, None] - i[None, :])


@pytest.mark.parametrize("P", ALL, ids=IDS)
@pytest.mark.parametrize("n", [2, 9, 40])
def test_bandwidth_is_a_true_band_and_band_rows_are_the_matrix(P, n):
    w = P.bandwidth(n)
    if w is None:
        return
    A = P.dense(n)
    assert 1 <= w <= n and not np.any(A[_offsets(n) >= w])
    D = P.band_rows(n, 0, n, w)
    rows, t = np.nonzero(np.ones_like(D, dtype=bool))
    j = rows + t - (w - 1)
    inside = (j >= 0) & (j < n)
    # the sparse form rounds κ · (1/Z) where blocks round κ / Z: one ulp apart
    np.testing.assert_allclose(D[rows[inside], t[inside]], A[rows[inside], j[inside]], rtol=1e-14, atol=0)
    assert not np.any(D[rows[~inside], t[~inside]])
    np.testing.assert_allclose(P.band_rows(n, 3 % n, n, w), D[3 % n:], rtol=1e-14, atol=0)


def test_library_bands_and_stack_bands():
    assert parse_pattern("window:w=16").bandwidth(100) == 16
    assert parse_pattern("bidirectional-window:w=5").bandwidth(100) == 5
    assert parse_pattern("dilated:w=4,k=3").bandwidth(100) == 10
    assert parse_pattern("uniform-causal").bandwidth(100) == 100
    assert parse_pattern("repeat(window:w=16, 5)").bandwidth(1000) == 76  # C5b: 1 + Σ (w_k − 1)
    assert parse_pattern("stack(window:w=4, bidirectional-window:w=3)").bandwidth(10) == 6
    assert parse_pattern("mix(window:w=4@0.5, bidirectional-window:w=3@0.5)").bandwidth(10) == 4
    assert parse_pattern("sink-window:s=1,w=4").bandwidth(50) == 50  # the sink column spans the matrix


def test_a_stack_without_a_sparse_form_builds_its_band_from_layer_blocks(monkeypatch):
    P = parse_pattern("stack(window:w=3, bidirectional-window:w=2, window:w=4)")
    n = 37
    A, w = P.dense(n), P.bandwidth(n)
    monkeypatch.setattr(Stack, "sparse", lambda self, n: None)
    D = P.band_rows(n, 0, n, w)
    for i in range(n):
        for t in range(-(w - 1), w):
            assert D[i, t + w - 1] == pytest.approx(A[i, i + t] if 0 <= i + t < n else 0.0, abs=1e-15)


@given(banded_matrices(min_n=300, max_n=500, max_w=4))
@settings(max_examples=40, deadline=None)
def test_the_strip_holds_the_bipartite_minimum(case):
    A, w = case
    n = A.shape[0]
    P = sparse_matrix_pattern(sp.csr_matrix(A), row_tol=1e-9)
    band = P.bandwidth(n)
    assert band <= w
    bm = pattern_bipartite_minimum(P, n)
    land = pattern_prefix_landscape(P, n)
    bound = land.capacity * (1 + land.capacity_rel_error)
    if np.isfinite(bound):  # the strip is narrow here: the band search must be the one used
        K = band_search_width(band, bound, float(A.sum(axis=1).min()), land.total_volume)
        assert bm.method.startswith("band search") == (8 * (2 * K + 2 * band) <= n)
    ref = bipartite_minimum(A)
    assert bm.phi == pytest.approx(ref.phi, rel=1e-9, abs=0)
    assert bipartite_landscape(A)[bm.b_star, bm.a_star] == pytest.approx(ref.phi, rel=1e-9, abs=0)


@given(banded_matrices(min_n=30, max_n=60, max_w=3))
@settings(max_examples=30, deadline=None)
def test_the_strip_scan_in_any_chunking_equals_the_full_scan(case):
    A, w = case
    r, c = A.sum(axis=1), A.sum(axis=0)
    rows = _band_rows_of(A, w)
    ref = bipartite_minimum(A)
    for chunk in (1, 7, None):
        bm, K = banded_bipartite_minimum(r, c, rows, w, ref.phi * 1.0000001, chunk=chunk)
        assert K >= w and bm.phi == pytest.approx(ref.phi, rel=1e-9, abs=0)


def test_the_band_search_is_used_only_where_it_is_cheaper_than_the_full_scan():
    P = parse_pattern("window:w=16")
    assert pattern_bipartite_minimum(P, 1000).method.startswith("band search: |b − a| ≤ 23")
    # 8 (2K + 2w) > n: not the strip but the sparse matrix's tiles of cuts (an exact search of every cell)
    assert pattern_bipartite_minimum(P, 400).method.startswith("tiles of 8 × 8 cuts")
    assert pattern_bipartite_minimum(parse_pattern("sink-window:s=1,w=4"), 200).method.startswith("tiles")


def test_a_strip_too_large_for_its_limits_is_skipped_with_the_reason(monkeypatch):
    from attention_transport.check import check_pattern
    from attention_transport.numerics.patterns.kernels import Window

    monkeypatch.setattr(Window, "translates", lambda self, n: None)  # no rows to leave out (C5t)
    rec = check_pattern("mistral", 10**6, spectral_max=2)  # w = 4096: the strip has 1.2e10 cells
    assert rec["phi_bip"] is None
    assert "the strip of C5b (|b − a| ≤ 6143, bandwidth 4096" in rec["skipped"]["phi_bip"]


def test_the_full_scan_limit_applies_only_to_patterns_without_a_band(monkeypatch):
    from attention_transport.check import check_pattern
    from attention_transport.numerics.patterns import base

    rec = check_pattern("window:w=8", 5000, bip_max=100, spectral_max=2)
    assert rec["phi_bip"] == pytest.approx(2 / (5000 - 0.5), rel=1e-9)  # C5, even w: (w/4) / (n − 1/2)
    P = parse_pattern("prefix-lm:p=64")
    ref = bipartite_minimum(P.dense(5000))
    rec = check_pattern("prefix-lm:p=64", 5000, bip_max=100, spectral_max=2)  # no band, no hubs: its sparse tiles
    assert (rec["phi_bip"], rec["a_star"], rec["b_star"]) == (pytest.approx(ref.phi, rel=1e-10), ref.a_star, ref.b_star)
    assert rec["phi_bip_method"].startswith("tiles of 32 × 32 cuts")
    monkeypatch.setattr(base, "TILE_TABLE_BYTES", 0)  # no table of group sums: the nested grids, through products
    rec = check_pattern("prefix-lm:p=64", 5000, bip_max=100, spectral_max=2)
    assert (rec["phi_bip"], rec["a_star"], rec["b_star"]) == (pytest.approx(ref.phi, rel=1e-10), ref.a_star, ref.b_star)
    assert rec["phi_bip_method"].startswith("bounded search over nested grids")
    rec = check_pattern("sink-window:s=4,w=16", 10**5, bip_max=100, spectral_max=2)  # hubs, then a band: C5h
    assert rec["phi_bip_method"].startswith("hub strip") and 0 < rec["phi_bip"] <= rec["phi"]
    # the same sinks inside a union: its hubs are read from its sparse form, and the hub strip finds the minimum
    union = "union(sink-window:s=4,w=16, window:w=8)"
    assert parse_pattern(union).hub_band(3000) == (4, 16)
    rec = check_pattern(union, 3000, bip_max=100, spectral_max=2)
    ref = bipartite_minimum(parse_pattern(union).dense(3000))
    assert rec["phi_bip_method"].startswith("hub strip")
    assert (rec["phi_bip"], rec["a_star"], rec["b_star"]) == (pytest.approx(ref.phi, rel=1e-10), ref.a_star, ref.b_star)
    # without them, flat past the balance point: the nested grids refuse
    monkeypatch.setattr(base.Pattern, "hub_band", lambda self, n: None)
    rec = check_pattern(union, 10**5, bip_max=100, spectral_max=2)
    assert rec["phi_bip"] is None and "exceeds the bipartite scan limit 100" in rec["skipped"]["phi_bip"]
    assert "cannot narrow its box" in rec["skipped"]["phi_bip"]


def test_band_search_width_refuses_what_it_cannot_bound():
    assert band_search_width(16, 7.5e-6, 1.0, 2e6) == 16 + 7  # w − 1 + ⌊7.5⌋ + 1
    with pytest.raises(AttentionTransportError, match="positive row sums"):
        band_search_width(4, 0.1, 0.0, 10.0)
    with pytest.raises(AttentionTransportError, match="finite capacity"):
        band_search_width(4, float("inf"), 1.0, 10.0)


@pytest.mark.parametrize("spec", ["stack(window:w=4, uniform-causal)", "stack(repeat(window:w=3, 2), uniform-causal)",
                                  "stack(window:w=3, dilated:w=2,k=3, uniform-causal)",
                                  "stack(window:w=5, exp-decay:m=0.5, uniform-causal)"])
@pytest.mark.parametrize("n", [3, 10, 57, 300])
def test_a_band_closed_by_uniform_causal_attention_has_g_in_o_n_w(spec, n, monkeypatch):
    """P = U B is semiseparable: G from B's band and suffix sums, against G of the dense product."""
    from attention_transport.numerics.operators import asymmetry_coefficient
    from attention_transport.numerics.structured import pattern_asymmetry

    P = parse_pattern(spec)
    ref = asymmetry_coefficient(P.dense(n))
    monkeypatch.setattr(Stack, "sparse", lambda self, n: None)  # as at n = 10⁶: no sparse product
    assert pattern_asymmetry(P, n) == pytest.approx(ref, rel=1e-12)


def test_fft_products_of_nonnegative_vectors_stay_nonnegative():
    """A wide exp-decay layer multiplies by FFT; its rounding once left −1e-17 in a stack's matrix, which check
    then refused as a negative attention weight."""
    from attention_transport.check import check_pattern

    from attention_transport.numerics.landscapes import prefix_landscape

    P = parse_pattern("stack(window:w=3, exp-decay:m=0.5, uniform-causal)")
    A = P.dense(300)
    assert A.min() >= 0
    assert check_pattern(P, 300)["phi"] == pytest.approx(prefix_landscape(A).capacity, rel=1e-12)


def test_band_rows_refuse_a_band_narrower_than_the_matrix():
    """A band asked for narrower than the support would misplace entries (negative offsets wrap): an error."""
    P = parse_pattern("window:w=6")
    P.band_rows(50, 0, 50, 6)
    with pytest.raises(AttentionTransportError, match="outside the band 4 asked for"):
        P.band_rows(50, 0, 50, 4)


def test_the_banded_laplacian_storage_refuses_an_entry_outside_its_band():
    from attention_transport.numerics.structured import _upper_banded

    M = sp.diags([np.ones(9), 0.5 * np.ones(7), 0.5 * np.ones(7)], [0, 2, -2]).tocsr()
    assert _upper_banded(M, 3)[0, 2] == 0.5  # ab[w − 1 + i − j, j] with i − j = −2
    with pytest.raises(AttentionTransportError, match="outside the declared bandwidth 2"):
        _upper_banded(M, 2)


# ---------------------------------------------------------------- hubs taken out: the strip of C5h

from attention_transport.errors import WontFit  # noqa: E402
from attention_transport.numerics.band import hub_banded_bipartite_minimum, hub_cut_lower_bound  # noqa: E402
from attention_transport.numerics.landscapes import _suffix  # noqa: E402


def _hub_banded(n, h, w, seed, sink_mass=0.3, global_rows=True):
    """A random row-stochastic matrix that is a band of width w once its first h tokens are taken out: hub
    columns with random mass, band entries (some exact zeros), and hub rows that attend everywhere (or, without
    global rows, causally among the hubs, as sink tokens do)."""
    rng = np.random.default_rng(seed)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    A = rng.random((n, n)) * (np.abs(i - j) < w) * (rng.random((n, n)) < 0.8)
    A[:, :h] = 0.0
    A[np.arange(n), np.arange(n)] += 0.1  # no empty row
    A /= A.sum(axis=1, keepdims=True)
    if h:
        hub = rng.random((n, h))
        A *= 1 - sink_mass
        A[:, :h] += sink_mass * hub / hub.sum(axis=1, keepdims=True)
        A[:h] = rng.random((h, n)) if global_rows else np.tril(rng.random((h, n)) + 0.1)
        A[:h] /= A[:h].sum(axis=1, keepdims=True)
    return A


def _hub_search(A, h, w, **kw):
    n = A.shape[0]
    B = A.copy()
    B[:h] = 0.0
    B[:, :h] = 0.0
    def band(i0, i1):
        rows = [[B[i, i + t] if 0 <= i + t < n else 0.0 for t in range(-(w - 1), w)] for i in range(i0, i1)]
        return np.array(rows, dtype=float).reshape(-1, 2 * w - 1)

    return hub_banded_bipartite_minimum(A.sum(axis=1), A.sum(axis=0), h, w, band, lambda X: A @ X,
                                        lambda Y: A.T @ Y, A[:h], **kw)


@given(st.integers(30, 90), st.integers(1, 4), st.integers(1, 5), st.integers(0, 10**6), st.booleans(),
       st.floats(0.05, 0.6))
@settings(max_examples=40, deadline=None)
def test_the_hub_strip_holds_the_bipartite_minimum(n, h, w, seed, global_rows, sink_mass):
    A = _hub_banded(n, h, w, seed, sink_mass, global_rows)
    try:
        bm, K = _hub_search(A, h, w)
    except WontFit as exc:  # the mediant bound could not exclude the far cells: said, never a wrong minimum
        assert "cannot exclude" in str(exc) or "exceeds" in str(exc)
        return
    ref = bipartite_minimum(A)
    assert bm.phi == pytest.approx(ref.phi, rel=1e-12, abs=1e-15)
    assert bipartite_landscape(A)[bm.b_star, bm.a_star] == pytest.approx(ref.phi, rel=1e-12, abs=1e-15)


@given(st.integers(20, 60), st.integers(1, 3), st.integers(1, 5), st.integers(0, 10**6), st.booleans())
@settings(max_examples=30, deadline=None)
def test_the_hub_cut_lower_bound_holds_on_every_far_cell(n, h, w, seed, global_rows):
    """C5h's lemma, cell by cell: ``cut(a, b) ≥ S(b) + Σ β`` over the band's queries a whole band away."""
    A = _hub_banded(n, h, w, seed, global_rows=global_rows)
    Sb = _suffix(A[:, :h].sum(axis=1))
    Bc = np.concatenate([[0.0], np.cumsum(A[:, h:].sum(axis=1))])
    a, b = np.meshgrid(np.arange(h, n + 1), np.arange(h, n + 1), indexing="xy")
    far = np.abs(b - a) >= w
    lower = hub_cut_lower_bound(a[far], b[far], Sb, Bc, w)
    cut = _cuts(A)[b[far], a[far]]
    assert (lower <= cut + 1e-12).all()


def _cuts(A):
    """``cut[b, a]`` of every cell by definition (keys j < a and queries i < b on one side)."""
    n = A.shape[0]
    out = np.zeros((n + 1, n + 1))
    for b in range(n + 1):
        for a in range(n + 1):
            out[b, a] = A[:b, a:].sum() + A[b:, :a].sum()
    return out


def test_a_weakened_hub_bound_is_caught():
    """Counting one row too many breaks the lemma: row a + w − 2 may keep its mass on key a − 1, left of the
    key cut and inside X, so it is not cut.  A causal window w = 3 with one sink, row 11 sending almost all of
    its mass to key 9: the cell (a, b) = (10, 20) has a cut below the weakened bound, never below the true one."""
    n, h, w = 30, 1, 3
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    A = ((j <= i) & (j > i - w)).astype(float)
    A[11] = 0.0
    A[11, 9], A[11, 11] = 0.98, 0.01
    A /= A.sum(axis=1, keepdims=True)
    A *= 0.99
    A[:, 0] += 0.01  # the sink
    Sb = _suffix(A[:, :h].sum(axis=1))
    Bc = np.concatenate([[0.0], np.cumsum(A[:, h:].sum(axis=1))])
    cut = _cuts(A)[20, 10]
    assert hub_cut_lower_bound(10, 20, Sb, Bc, w) <= cut < hub_cut_lower_bound(10, 20, Sb, Bc, w - 1)


def test_a_row_with_almost_no_mass_off_the_hubs_is_declined():
    """β_min/c_max near 0: the mediant bound excludes nothing, and the search says so instead of guessing."""
    A = _hub_banded(80, 2, 3, 1)
    A[40] = 0.0
    A[40, 0], A[40, 40] = 1 - 1e-9, 1e-9
    with pytest.raises(WontFit, match="cannot exclude the far cells"):
        _hub_search(A, 2, 3)


@pytest.mark.parametrize("spec, n", [("sink-window:s=4,w=16", 1500), ("sink-window:s=1,w=3", 900),
                                     ("streaming-llm:s=3,w=10", 1200), ("longformer:w=16,g=2", 1000),
                                     ("longformer:w=8,g=1", 800), ("document:L=16,bos=1", 3000),
                                     ("stack(sink-window:s=1,w=8, window:w=4)", 1200),
                                     ("stack(window:w=5, longformer:w=8,g=1)", 1200),
                                     ("stack(window:w=8, longformer:w=16,g=1)", 1500)])
def test_check_takes_the_hub_strip_and_agrees_with_the_full_scan(spec, n):
    from attention_transport.check import check_pattern

    P = parse_pattern(spec)
    rec = check_pattern(P, n, dense_max=100, bip_max=100)
    assert rec["phi_bip_method"].startswith("hub strip")
    A = P.dense(n)
    ref = bipartite_minimum(A)
    assert rec["phi_bip"] == pytest.approx(ref.phi, rel=1e-11)
    assert bipartite_landscape(A)[rec["b_star"], rec["a_star"]] == pytest.approx(ref.phi, rel=1e-11)


def _hub_band_by_definition(A, cap=32):
    """The fewest first h ≤ cap tokens whose removal leaves the narrowest band, from the dense matrix."""
    n = A.shape[0]
    cap = min(cap, n - 1)
    i, j = np.nonzero(A)
    widest = [int(np.abs(i - j)[(i >= h) & (j >= h)].max(initial=0)) for h in range(cap + 1)]
    h = widest.index(widest[cap])
    return (h, widest[h] + 1) if h > 0 else None


@pytest.mark.parametrize("spec, hub", [("stack(sink-window:s=2,w=4, window:w=3)", (2, 6)),
                                       ("stack(window:w=5, longformer:w=8,g=1)", (1, 9)),
                                       ("repeat(sink-window:s=3,w=4, 3)", (3, 10)),
                                       ("stack(longformer:w=8,g=1, window:w=5)", None),
                                       ("stack(bidirectional-window:w=4, sink-window:s=2,w=4)", None),
                                       ("repeat(window:w=4, 2)", None)])
def test_a_stack_of_hub_bands_is_a_hub_band(spec, hub, monkeypatch):
    """A stack whose earlier layers keep their hub rows among the hubs is a band off its hubs, of width
    1 + Σ (w_k − 1); its band rows, from products of local blocks, are those of the dense product.  Global rows
    that reach every key (Longformer as an earlier layer), bidirectional windows that reach past the hubs, and
    stacks without hubs declare none by that argument; their sparse product's stored entries then say
    (every row that reaches a global row is a hub)."""
    from attention_transport.numerics.patterns.base import Pattern

    P = parse_pattern(spec)
    n = 60
    assert P._layered_hub_band(n) == hub
    assert P.hub_band(n) == (hub or _hub_band_by_definition(P.dense(n)))
    if hub is None:
        return
    h, w = hub
    A = P.dense(n)
    i, j = np.nonzero(A[h:, h:])
    assert np.abs(i - j).max() == w - 1  # the width is attained, not only an upper bound
    monkeypatch.setattr(type(P), "sparse", lambda self, n: None)
    for i0, i1 in [(0, n), (h, n), (7, 31)]:
        np.testing.assert_allclose(P.hub_band_rows(n, i0, i1, h, w), Pattern.hub_band_rows(P, n, i0, i1, h, w),
                                   rtol=0, atol=1e-15)


def _weak_after_hubs(n, h, w, seed, k, global_rows):
    """:func:`_hub_banded` with the k rows after the hubs sending all but 1e-3 of their mass to the hubs (a stack's
    first queries past its sinks, whose keys are mostly sinks or sink rows)."""
    A = _hub_banded(n, h, w, seed, 0.3, global_rows)
    for i in range(h, h + k):
        A[i, h:] *= 1e-3 / A[i, h:].sum()
        A[i, :h] *= (1 - 1e-3) / A[i, :h].sum()
    return A


@given(st.integers(40, 120), st.integers(1, 3), st.integers(1, 5), st.integers(0, 10**6), st.integers(1, 5),
       st.booleans())
@settings(max_examples=40, deadline=None)
def test_the_widened_edge_holds_the_bipartite_minimum(n, h, w, seed, k, global_rows):
    """Rows of little mass off the hubs just past them: the exact edge widens past them (cells with a or b below
    the new edge evaluated exactly), and the minimum is the full landscape's, or the search declines."""
    A = _weak_after_hubs(n, h, w, seed, k, global_rows)
    try:
        bm, K = _hub_search(A, h, w, rows=lambda i0, i1: A[i0:i1])
    except WontFit as exc:
        assert "cannot exclude" in str(exc) or "exceeds" in str(exc)
        return
    ref = bipartite_minimum(A)
    assert bm.phi == pytest.approx(ref.phi, rel=1e-12, abs=1e-15)
    assert bipartite_landscape(A)[bm.b_star, bm.a_star] == pytest.approx(ref.phi, rel=1e-12, abs=1e-15)


def test_weak_rows_after_the_hubs_widen_the_edge_instead_of_declining(monkeypatch):
    """Without the rows, the mediant bound cannot exclude the far cells and the search declines; with them the
    three weak rows join the exact edge, whose cells are evaluated (and their minimum taken) before the far cells
    are excluded, and the minimum is found."""
    from attention_transport.numerics import band

    A = _weak_after_hubs(200, 2, 4, 7, 3, False)
    with pytest.raises(WontFit, match="cannot exclude the far cells"):
        _hub_search(A, 2, 4)
    real, edges = band._edge_cells, []

    def recorded(r, c, h, *args):
        edges.append(h)
        return real(r, c, h, *args)

    monkeypatch.setattr(band, "_edge_cells", recorded)
    bm, _ = _hub_search(A, 2, 4, rows=lambda i0, i1: A[i0:i1])
    assert edges == [2, 5] and "below 5 (the 2 hubs and the 3 tokens after them" in bm.method
    assert bm.phi == pytest.approx(bipartite_minimum(A).phi, rel=1e-12)


def test_edge_cells_are_the_landscape_minimum_beside_the_edge():
    """The exact edge's minimum over the cells with a < e or b < e, for any e (the hubs, or past them), equals the
    full landscape's minimum over those cells."""
    from attention_transport.numerics.band import _edge_cells

    A = _weak_after_hubs(60, 2, 3, 11, 2, True)
    land = bipartite_landscape(A)
    for e in (1, 2, 4, 7):
        phi, a, b = _edge_cells(A.sum(axis=1), A.sum(axis=0), e, lambda X: A @ X, lambda Y: A.T @ Y, A[:e])
        ref = np.nanmin(np.concatenate([land[:, :e].ravel(), land[:e, :].ravel()]))
        assert phi == pytest.approx(ref, rel=1e-12) and (a < e or b < e)
        assert land[b, a] == pytest.approx(phi, rel=1e-12)


@given(st.integers(8, 70), st.integers(0, 40), st.integers(1, 12), st.integers(0, 2**31 - 1), st.booleans(),
       st.booleans())
@settings(max_examples=80, deadline=None)
def test_hubs_read_from_a_sparse_form_are_the_definition(n, h, w, seed, global_rows, causal):
    """The fewest first h ≤ 32 tokens whose removal leaves the narrowest band: from the stored entries, as from the
    dense matrix (hubs past 32 tokens, or none at all, give a plain band or nothing)."""
    from attention_transport.numerics.patterns.base import _sparse_hub_band

    A = _hub_banded(n, min(h, n - 1), w, seed, 0.3, global_rows)
    if causal:
        A = np.tril(A)
    assert _sparse_hub_band(sp.csr_matrix(A)) == _hub_band_by_definition(A)


@given(st.integers(8, 70), st.integers(0, 6), st.integers(1, 8), st.integers(0, 2**31 - 1), st.booleans())
@settings(max_examples=60, deadline=None)
def test_g_of_a_sparse_hub_band_pairs_every_entry_with_its_transpose(n, h, w, seed, global_rows):
    from attention_transport.numerics.patterns.base import _banded_skew_norms

    A = _hub_banded(n, min(h, n - 1), w, seed, 0.3, global_rows)
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    x = 1 / np.sqrt(d)
    N = A * np.outer(x, x)
    ref = (((N - N.T) ** 2).sum(), ((N + N.T) ** 2).sum())
    np.testing.assert_allclose(_banded_skew_norms(sp.csr_matrix(A), x, min(h, n - 1), w, chunk=16), ref, rtol=1e-12)
    if w > 1 and h < n - w:  # a band claimed one narrower than the entries: refused, never a silent wrong sum
        with pytest.raises(AttentionTransportError, match="outside the band"):
            _banded_skew_norms(sp.csr_matrix(A), x, min(h, n - 1), w - 1)


@pytest.mark.parametrize("spec", ["stack(longformer:w=8,g=2, window:w=5)", "longformer:w=8,g=2",
                                  "stack(window:w=5, longformer:w=8,g=1)", "union(sink-window:s=4,w=16, window:w=8)"])
def test_sparse_hub_bands_take_the_inertia_route_without_a_laplacian(spec, monkeypatch):
    """λ₂ of a sparse hub band: the banded block from the band rows, L through A's products, no symmetrised copy;
    its G offset by offset.  Both against the dense matrix."""
    from attention_transport.numerics import structured
    from attention_transport.numerics.patterns.base import Pattern
    from attention_transport.numerics.structured import pattern_fiedler

    P = parse_pattern(spec)
    n = 1500  # above CHOLESKY_BAND_MAX_W
    h, w = P.hub_band(n)
    A = P.dense(n)
    monkeypatch.setattr(structured, "_symmetric_sparse", None)  # never reached
    fp = pattern_fiedler(P, n)
    assert fp.method.startswith("inertia") and f"on {h} hub vertices" in fp.method
    d = 0.5 * (A.sum(axis=0) + A.sum(axis=1))
    W = 0.5 * (A + A.T) / np.sqrt(np.outer(d, d))
    ev = np.linalg.eigvalsh(np.eye(n) - W)
    assert fp.converged and fp.lower <= ev[1] * (1 + 1e-12) and fp.lambda2 == pytest.approx(ev[1], rel=1e-9)
    # the blocks the inertia counts read are L's: the banded block, the hub columns and the hub block
    hs = structured._hub_band_solver(P, n, d, h, w, structured._sparse_laplacian_product(P.sparse(n), d))
    X = np.random.default_rng(0).standard_normal((n, 3))
    np.testing.assert_allclose(np.column_stack([hs.apply(x) for x in X.T]), (np.eye(n) - W) @ X, rtol=0, atol=1e-13)
    N = A / np.sqrt(np.outer(d, d))
    np.testing.assert_allclose(P.skew_norms(n, d), (((N - N.T) ** 2).sum(), ((N + N.T) ** 2).sum()), rtol=1e-12)
    D = P.hub_band_rows(n, 0, n, h, w)  # from the stored entries
    monkeypatch.setattr(type(P), "sparse", lambda self, n: None)
    np.testing.assert_allclose(Pattern.hub_band_rows(P, n, 0, n, h, w), D, rtol=0, atol=1e-15)


# ---------------------------------------------------------------- a wide strip, pruned by tiles

import time  # noqa: E402

from attention_transport.numerics import band as band_module  # noqa: E402


def _band_rows_of(B, w):
    """``band_rows`` of a dense matrix B that is zero outside ``|i − j| < w``."""
    n = B.shape[0]
    t = np.arange(-(w - 1), w)

    def rows(i0, i1):
        j = np.arange(i0, i1)[:, None] + t[None, :]
        ok = (j >= 0) & (j < n)
        D = np.zeros(j.shape)
        D[ok] = B[np.broadcast_to(np.arange(i0, i1)[:, None], j.shape)[ok], j[ok]]
        return D

    return rows


def _lattice_tables(A, h, w, K, T):
    """The pruning's lattice tables of a hub band (h = 0: a plain band), all key cuts at once."""
    n = A.shape[0]
    B = A.copy()
    B[:h] = 0.0
    B[:, :h] = 0.0
    beta = B.sum(axis=1)
    Bc = np.concatenate([[0.0], np.cumsum(beta)])
    extra = (_suffix(A[:, :h].sum(axis=1)), _suffix(A[:h].sum(axis=0))) if h else None
    lat = band_module._lattice(n, h, T)
    D, U, L = band_module._strip_lattice(n, _band_rows_of(B, w), w, K, lat, T, 0, lat.size - 1, h, Bc, extra)
    return lat, D, U, L


@given(st.integers(12, 70), st.integers(0, 3), st.integers(1, 6), st.integers(1, 9), st.integers(0, 10**6),
       st.booleans())
@settings(max_examples=60, deadline=None)
def test_the_strip_lattice_holds_both_halves_of_the_cut(n, h, w, T, seed, global_rows):
    """``U(a, b) = Σ_{i<b, j≥a} A_ij`` and ``L(a, b) = Σ_{i≥b, j<a} A_ij`` at every lattice cell, by definition:
    hub terms, whole rows beyond the band and the last key cut a = n (off the lattice's phase) included."""
    A = _hub_banded(n, h, w, seed, 0.3, global_rows) if h else _hub_banded(n, 0, w, seed)
    K = 2 * w + 3
    lat, D, U, L = _lattice_tables(A, h, w, K, T)
    for k, a in enumerate(lat):
        for o in range(-D, D + 1):
            if not 0 <= k + o < lat.size:
                assert np.isnan(U[k, D + o]) and np.isnan(L[k, D + o])
                continue
            b = lat[k + o]
            assert U[k, D + o] == pytest.approx(A[:b, a:].sum(), rel=1e-12, abs=1e-12)
            assert L[k, D + o] == pytest.approx(A[b:, :a].sum(), rel=1e-12, abs=1e-12)


@given(st.integers(12, 70), st.integers(0, 3), st.integers(1, 6), st.integers(1, 9), st.integers(0, 10**6))
@settings(max_examples=40, deadline=None)
def test_every_tile_bound_is_below_every_cell_of_its_tile(n, h, w, T, seed):
    A = _hub_banded(n, h, w, seed) if h else _hub_banded(n, 0, w, seed)
    K = 2 * w + 3
    lat, D, U, L = _lattice_tables(A, h, w, K, T)
    r, c = A.sum(axis=1), A.sum(axis=0)
    R, C = np.concatenate([[0.0], np.cumsum(r)]), np.concatenate([[0.0], np.cumsum(c)])
    lower, ok, a0, a1, top, reach = band_module._strip_candidates(n, K, lat, 0, D, U, L, R, C, _suffix(r), _suffix(c),
                                                                  0.0, 0.0)
    land = bipartite_landscape(A)  # [b, a]
    assert top == pytest.approx(_lattice_minimum(land, lat, K, h), rel=1e-12)
    for k in range(lower.shape[0]):
        for j in range(lower.shape[1]):
            kb = k + j + 1 - D
            if not ok[k, j]:
                continue
            cells = land[lat[kb]:lat[kb + 1] + 1, lat[k]:lat[k + 1] + 1]
            assert lower[k, j] <= np.nanmin(cells) * (1 + 1e-12) + 1e-15
            assert reach[k, j] == max(lat[kb + 1] - lat[k], lat[k + 1] - lat[kb])


def _lattice_minimum(land, lat, K, h):
    """The smallest φ over the lattice cells with |b − a| ≤ K and a, b ≥ h."""
    best = np.inf
    for a in lat:
        for b in lat:
            if abs(b - a) <= K and a >= h and b >= h and np.isfinite(land[b, a]):
                best = min(best, land[b, a])
    return best


@given(banded_matrices(min_n=30, max_n=90, max_w=4), st.sampled_from([1, 2, 3, 5, 8, (8, 2), (6, 3, 1), (4, 1)]))
@settings(max_examples=60, deadline=None)
def test_the_pruned_strip_is_the_whole_scan_cell_for_cell(case, tile):
    """Tiles of every side, one or several levels: the same minimum and the same cell (ties included) as the scan
    of every cell, to the last bit (the cells left are summed by the same code)."""
    A, w = case
    r, c = A.sum(axis=1), A.sum(axis=0)
    ref = bipartite_minimum(A)
    full, K = banded_bipartite_minimum(r, c, _band_rows_of(A, w), w, ref.phi * 1.0000001, tile=0)
    bm, K2 = banded_bipartite_minimum(r, c, _band_rows_of(A, w), w, ref.phi * 1.0000001, K=4 * w + 2, tile=tile)
    assert (bm.phi, bm.a_star, bm.b_star) == (full.phi, full.a_star, full.b_star)
    assert bm.method.startswith("the strip's tiles of cuts") and full.method == "every cell of the strip scanned"


@given(st.integers(30, 90), st.integers(1, 4), st.integers(1, 5), st.integers(0, 10**6), st.booleans(),
       st.sampled_from([1, 3, 8, (8, 2), (4, 1)]))
@settings(max_examples=40, deadline=None)
def test_the_pruned_hub_strip_is_the_whole_scan(n, h, w, seed, global_rows, tile):
    A = _hub_banded(n, h, w, seed, 0.3, global_rows)
    try:
        full, _ = _hub_search(A, h, w, K0=w, tile=0)
    except WontFit:
        return
    bm, _ = _hub_search(A, h, w, K0=w, tile=tile)
    assert (bm.phi, bm.a_star, bm.b_star) == (full.phi, full.a_star, full.b_star)


def test_tiles_prune_a_peaked_landscape():
    """The pruning is not vacuous: on a Longformer landscape the tiles exclude the key cuts left of the balance
    point and the cells far from the diagonal (at n = 10⁶ all but 0.4% of the cells), and the minimum is still the
    whole scan's."""
    P = parse_pattern("longformer:w=64,g=1")
    n = 6000
    sums = P.sums(n)
    h, w = P.hub_band(n)
    beta = P.matvec(n, np.r_[np.zeros(h), np.ones(n - h)][:, None])[:, 0]
    Sb = _suffix(P.matvec(n, np.r_[np.ones(h), np.zeros(n - h)][:, None])[:, 0])
    Ha = _suffix(P.rows(n, 0, h).sum(axis=0))
    rows = lambda i0, i1: P.hub_band_rows(n, i0, i1, h, w)  # noqa: E731
    args = (sums.r, sums.c, rows, w, None)
    full, K = banded_bipartite_minimum(*args, K=2 * w + 32, extra=(Sb, Ha), first=h, tile=0)
    bm, _ = banded_bipartite_minimum(*args, K=2 * w + 32, extra=(Sb, Ha), first=h, beta=beta, tile=(32, 8, 2))
    assert (bm.phi, bm.a_star, bm.b_star) == (full.phi, full.a_star, full.b_star)
    share = float(bm.method.split("corners, ")[1].split("%")[0])
    assert share < 50


def test_a_corner_value_in_place_of_the_bound_loses_the_minimum(monkeypatch):
    """Taking a tile's corner cell φ(lat_k, lat_{k+o}) for its bound (a value, not a bound: the landscape can dip
    inside the tile) makes the pruned scan miss the minimum on some matrix, so the comparisons with the whole scan
    above have teeth."""
    real = band_module._strip_candidates

    def corner_value(n, K, lat, k_lo, D, U, L, R, C, Rs, Cs, g, E):
        lower, ok, a0, a1, top, reach = real(n, K, lat, k_lo, D, U, L, R, C, Rs, Cs, g, E)
        m = lat.size
        kb0 = np.clip(k_lo + np.arange(U.shape[0] - 1)[:, None] + np.arange(1 - D, D)[None, :], 0, m - 1)
        b0, a = lat[kb0], a0[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (U[:-1, 1:-1] + L[:-1, 1:-1]) / np.minimum(R[b0] + C[a], Rs[b0] + Cs[a])
        return np.where(np.isfinite(value), value, lower), ok, a0, a1, top, reach

    monkeypatch.setattr(band_module, "_strip_candidates", corner_value)
    missed = 0
    for seed in range(40):
        A = _hub_banded(80, 0, 4, seed)
        r, c = A.sum(axis=1), A.sum(axis=0)
        bm, _ = banded_bipartite_minimum(r, c, _band_rows_of(A, 4), 4, None, K=18, tile=8)
        missed += bm.phi > bipartite_minimum(A).phi * (1 + 1e-9)
    assert missed


def test_the_pruning_runs_only_on_wide_strips_with_cheap_band_rows(monkeypatch):
    assert band_module._prunes(10**6, 546, 257) and not band_module._prunes(10**6, 130, 128)
    assert not band_module._prunes(10**4, 546, 257)  # 1.1e7 cells: scanned whole
    monkeypatch.setattr(band_module, "STRIP_PRUNE_MIN_CELLS", 1000)
    A = _hub_banded(400, 0, 3, 7)
    r, c = A.sum(axis=1), A.sum(axis=0)
    slow = _band_rows_of(A, 3)

    def dear(i0, i1):
        time.sleep(0.01)
        return slow(i0, i1)

    # band rows too dear for the lattice: the whole strip where it fits, else declined with the reason
    bm, _ = banded_bipartite_minimum(r, c, dear, 3, None, K=20)
    assert bm.phi == pytest.approx(bipartite_minimum(A).phi, rel=1e-12)
    assert bm.method.startswith("every cell of the strip scanned (the tiles of the strip")
    with pytest.raises(WontFit, match=r"band rows cost [0-9.]+ cumulative sums of the same block \(more than 2\)"):
        banded_bipartite_minimum(r, c, dear, 3, None, K=20, max_cells=1000)
    assert band_module.strip_declined(400, 20, 3, 10**6) is None  # 16441 cells: a whole scan fits
    monkeypatch.setattr(band_module, "STRIP_LATTICE_MAX", 100)
    assert "band-row values" in band_module.strip_declined(400, 20, 3, 1000)


# ---------------------------------------------------------------- the sweep cut of a band without a sparse form

@pytest.mark.parametrize("spec, n", [("longformer:w=16,g=2", 300), ("longformer:w=64,g=1", 700), ("window:w=8", 200),
                                     ("bidirectional-window:w=5", 150), ("sink-window:s=2,w=6", 200),
                                     ("stack(sink-window:s=2,w=4, window:w=3)", 120)])
@given(seed=st.integers(0, 2**31 - 1))
@settings(max_examples=10, deadline=None)
def test_the_sweep_from_band_rows_is_the_sweep_of_the_matrix(spec, n, seed):
    """Every entry binned once at the later rank of its ends, from the band rows, the hub rows and the hub
    columns: the same prefix cuts as the matrix's own entries, for any ordering."""
    from attention_transport.numerics import structured as sm

    P = parse_pattern(spec)
    d = sm._degrees(P.sums(n))
    v = np.random.default_rng(seed).standard_normal(n)
    hub = P.hub_band(n)
    shape = hub if hub is not None and hub[0] > 0 else (0, P.bandwidth(n))
    assert sm._sweep_band(P, n, d, v, *shape) == pytest.approx(sm._sweep_sparse(sp.csr_matrix(P.dense(n)), d, v),
                                                               rel=1e-12)


def test_a_structural_band_without_a_sparse_form_gets_its_sweep_cut(monkeypatch):
    from attention_transport.numerics import structured as sm

    P = parse_pattern("longformer:w=32,g=2")
    n = 600
    ref = sm.pattern_cheeger_bounds(P, n)
    monkeypatch.setattr(type(P), "sparse", lambda self, n: None)
    monkeypatch.setattr(sm, "SWEEP_BLOCKED_MAX_N", 10)  # not the O(n²) pass
    cb = sm.pattern_cheeger_bounds(P, n)
    assert cb.upper_sweep == pytest.approx(ref.upper_sweep, rel=1e-9) and cb.upper_sweep < cb.upper_spectral
    monkeypatch.setattr(sm, "SWEEP_BAND_MAX_VALUES", 1000)  # beyond the limit: said, not a number
    assert sm.pattern_cheeger_bounds(P, n).upper_sweep is None


# ---------------------------------------------------------------- translated rows: four cells per diagonal (C5t)
@st.composite
def translate_bands(draw):
    """A random nonnegative float band of width w off h hubs whose rows i0 … i1 − 1 are translates with period p (one
    row κ and one set of hub entries per phase), hub rows p-periodic on those columns, every other row random:
    ``(F, h, w, i0, i1, p)``."""
    h = draw(st.integers(0, 3))
    p = draw(st.sampled_from([1, 1, 2, 5, 9]))
    w = draw(st.integers(1, 6))
    causal = draw(st.booleans())
    n = draw(st.integers(h + 3 * w + 8, 160))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    i0 = h + w - 1 + int(rng.integers(0, 3))
    i1 = (n if causal else n - w + 1) - int(rng.integers(0, 3))
    F = np.zeros((n, n))
    t = np.arange(-(w - 1), 1 if causal else w)
    kappa = rng.random((p, t.size)) * (rng.random((p, t.size)) < 0.8)
    kappa[:, t == 0] += 0.5
    tau = rng.random((p, h))
    for i in range(h, n):
        if i0 <= i < i1:
            F[i, i + t] = kappa[(i - i0) % p]
            F[i, :h] = tau[(i - i0) % p]
        else:
            lo, hi = max(h, i - w + 1), (i + 1 if causal else min(n, i + w))
            F[i, lo:hi] = rng.random(hi - lo) * (rng.random(hi - lo) < 0.8)
            F[i, i] += 0.5
            F[i, :h] = rng.random(h)
    for g in range(h):
        F[g, :h] = rng.random(h) + 0.1
        if rng.random() < 0.5:  # global rows, p-periodic on the translates' columns
            F[g, h:] = rng.random(n - h)
            F[g, i0:i1] = rng.random(p)[(np.arange(i0, i1) - i0) % p]
    return F, h, w, i0, i1, p


@given(translate_bands())
@settings(max_examples=80, deadline=None)
def test_leaving_translates_out_keeps_the_exact_minimum(case):
    """The searches with the translates' key cuts left out (four cells per diagonal) give the minimum of the full
    O(n²) scan, with and without hubs, whatever the strip's width."""
    from attention_transport.errors import WontFit
    from attention_transport.numerics.band import hub_banded_bipartite_minimum

    F, h, w, i0, i1, p = case
    best = bipartite_minimum(F)
    rows = dense_band_rows(F, w, h)
    r, c = F.sum(axis=1), F.sum(axis=0)
    if h == 0:
        for K in (w, 2 * w + 3, None):
            bm, _ = banded_bipartite_minimum(r, c, rows, w, best.phi * 1.5 + 1e-9, K=K, translates=(i0, i1, p),
                                             translates_min=1)
            assert bm.phi == pytest.approx(best.phi, rel=1e-12), bm.method
        return
    for K0 in (w, None):
        try:
            bm, _ = hub_banded_bipartite_minimum(r, c, h, w, rows, lambda X: F @ X, lambda Y: F.T @ Y, F[:h], K0=K0,
                                                 translates=(i0, i1, p), translates_min=1)
        except WontFit:
            continue
        assert bm.phi == pytest.approx(best.phi, rel=1e-12), bm.method


@pytest.mark.parametrize("spec, n", [("window:w=8", 3000), ("mistral:w=40", 4000), ("bidirectional-window:w=5", 3000),
                                     ("streaming-llm:s=4,w=30", 4000), ("longformer:w=32,g=2", 3000),
                                     ("sink-window:s=1,w=4", 2000), ("dilated:w=4,k=3", 3000),
                                     ("document:L=64,bos=1", 4000), ("document:L=100,bos=1", 6000)])
def test_patterns_leave_their_translates_out(spec, n, monkeypatch):
    """A pattern that declares translated rows gets the same φ_bip and cell with them left out as with every cell of
    its strip scanned, and says so."""
    P = parse_pattern(spec)
    fast = pattern_bipartite_minimum(P, n)
    assert "C5t" in fast.method
    monkeypatch.setattr(type(P), "translates", lambda self, n: None)
    full = pattern_bipartite_minimum(P, n)
    assert "C5t" not in full.method
    assert (fast.phi, fast.a_star, fast.b_star) == pytest.approx((full.phi, full.a_star, full.b_star), rel=1e-12)
    if n <= 3000:
        assert fast.phi == pytest.approx(bipartite_minimum(P.dense(n)).phi, rel=1e-12)


def test_a_wrong_declaration_of_translates_is_caught_or_harmless(monkeypatch):
    """Rows declared translates that are not (a window's first rows, whose keys are fewer) fail the search's checks
    (constant row and column sums over the range, a few band rows across it), and the whole strip is scanned."""
    from attention_transport.numerics.patterns.kernels import Window

    P = parse_pattern("window:w=8")
    monkeypatch.setattr(Window, "translates", lambda self, n: (0, 0, n, 1))
    bm = pattern_bipartite_minimum(P, 400)
    assert "C5t" not in bm.method
    assert bm.phi == pytest.approx(bipartite_minimum(P.dense(400)).phi, rel=1e-12)
