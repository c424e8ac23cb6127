"""Every head of a layer at once (``attention_features`` through :func:`~attention_transport.harness.streaming.
map_features`) against the per-head reference :func:`head_features`, on layers built directly: causal, windowed,
bidirectional and mixed heads, float32 and float64, tiny capacities; and the exact all-heads ``φ_bip`` against
:func:`bipartite_minimum`."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from attention_strategies import attention_matrices, tiny_capacity_matrices  # noqa: E402
from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from attention_transport.errors import AttentionTransportError  # noqa: E402
from attention_transport.harness.accumulators import exact_bipartite_minimum, full_table_bipartite_minimum  # noqa: E402,E501
from attention_transport.harness.features import FEATURES, FeatureSettings, attention_features, head_features  # noqa: E402,E501
from attention_transport.numerics.landscapes import (CUT_RTOL, bipartite_landscape, bipartite_minimum,  # noqa: E402
                                                      prefix_landscape)


@st.composite
def layers(draw, heads=attention_matrices):
    n = draw(st.integers(2, 12))
    H = draw(st.integers(1, 4))
    A = np.stack([draw(heads(min_n=n, max_n=n)) for _ in range(H)])
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return A.astype(dtype), draw(st.integers(1, n)), draw(st.booleans())


def assert_layer_equals_heads(A, p, settings, rtol=1e-9, atol=1e-12):
    """Both routes sum in float64, float32 maps included: they differ only in the order of the sums."""
    got = attention_features(A[None], p, settings)
    n = A.shape[-1]
    for h in range(A.shape[0]):
        ref = head_features(A[h], p, settings)
        for name in FEATURES:
            if name == "t_star_over_n":  # a minimiser of the landscape (ties are broken by rounding)
                landscape = prefix_landscape(A[h])
                t = int(round(got[name][0, h] * n))
                assert landscape.phi[t - 1] == pytest.approx(landscape.capacity, rel=rtol, abs=atol)
                continue
            np.testing.assert_allclose(got[name][0, h], ref[name], rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{name}, head {h}")


@given(layers())
def test_a_layer_at_once_equals_each_head_alone(case):
    A, p, lambda2 = case
    assert_layer_equals_heads(A, p, FeatureSettings(lambda2=lambda2, lapeig_k=5))


def summed_minima(A):
    """``(φ, φ_bip)`` of one head with every cut and volume a correctly rounded sum (``math.fsum``) of its entries."""
    n = A.shape[0]
    r = [math.fsum(A[i]) for i in range(n)]
    c = [math.fsum(A[:, j]) for j in range(n)]

    def phi(b, a):  # b queries and a keys left of the cut
        cut = math.fsum(np.concatenate([A[:b, a:].ravel(), A[b:, :a].ravel()]))
        vol, comp = math.fsum(r[:b] + c[:a]), math.fsum(r[b:] + c[a:])
        return cut / min(vol, comp) if min(vol, comp) > 0 else math.inf

    return (min(phi(t, t) for t in range(1, n)),
            min(phi(b, a) for b in range(n + 1) for a in range(n + 1) if (a, b) not in ((0, 0), (n, n))))


@given(layers(heads=tiny_capacity_matrices))
@example((np.array([[[1.0, 1.798621e-09], [4.9999997e-08, 0.99999994]]], dtype=np.float32), 1, False))  # CI, stop 26
def test_tiny_capacities_keep_their_digits(case):
    """Heads whose cuts run down to 1e-300 keep the accuracy both routes promise: :data:`CUT_RTOL` on each cut,
    ``4 · CUT_RTOL`` on the minimum, as ``tests/numerics/test_accuracy.py`` holds the per-head landscapes.

    Against cuts summed correctly rounded from the map: a cut whose identity value may be off by more than
    ``CUT_RTOL`` is summed directly by both routes, so 1e-300 keeps its digits; one within it is not, and two
    routes that sum in different orders may then differ by ~1e-8 (float32 rows miss 1 by that much)."""
    A, p, _ = case
    A = A.astype(np.float64)
    got = attention_features(A[None], p, FeatureSettings(lapeig_k=3))
    for h in range(A.shape[0]):
        ref = head_features(A[h], p, FeatureSettings(lapeig_k=3))
        phi, phi_bip = summed_minima(A[h])
        for name, exact in (("phi", phi), ("phi_bip", phi_bip)):
            for route, value in (("layer", got[name][0, h]), ("head", ref[name])):
                np.testing.assert_allclose(value, exact, rtol=4 * CUT_RTOL, atol=0, err_msg=f"{name}, {route}")


@given(st.integers(2, 70), st.integers(1, 4), st.integers(0, 2**31 - 1), st.sampled_from(["causal", "dense", "sink"]),
       st.sampled_from([None, 1, 3, 8, 32]))
def test_exact_bipartite_minimum_of_every_head(n, H, seed, kind, tile):
    """The tiles' bounds never drop the minimum: every tile size, real-looking heads (sparse, causal, a sink)."""
    rng = np.random.default_rng(seed)
    A = rng.random((H, n, n)) ** 6
    if kind != "dense":
        A = np.tril(A) + np.eye(n) * 1e-9
    if kind == "sink":
        A[:, :, 0] += 50.0
    A /= A.sum(-1, keepdims=True)
    full = full_table_bipartite_minimum(torch.from_numpy(A))  # every cell, sums of nonnegative terms only
    got = exact_bipartite_minimum(torch.from_numpy(A), tile=tile)
    np.testing.assert_allclose(got, full, rtol=1e-13, atol=0)
    for h in range(H):  # the dense scan, within the error bound it reports for itself
        ref = bipartite_minimum(A[h])
        assert abs(got[h] - ref.phi) <= (ref.rel_error + 1e-13) * ref.phi


@pytest.mark.parametrize("n", [63, 64, 65])
@pytest.mark.parametrize("T", [4, 8])
def test_line_bounds_keep_minima_inside_tiles(n, T, monkeypatch):
    """Heads whose minimum lies off every lattice line (so only a candidate tile holds it, and the lines' own
    cells are all larger): the tiles, not the full tables, find it (n = 63, 64 and 65 put the last cut before,
    on and after a lattice line)."""
    import attention_transport.harness.accumulators as acc

    rng = np.random.default_rng(n * T)
    heads = [np.tril(np.ones((n, n)))]  # uniform causal: a wide, flat valley, where a bound is close to the cells
    heads += [np.tril(rng.random((n, n)) ** (1 + 4 * trial)) + np.diag(rng.random(n)) for trial in range(12)]
    heads += [h + 5.0 * (np.arange(n) == 0) for h in heads[1:4]]  # a sink column
    A = np.stack([h / h.sum(axis=1, keepdims=True) for h in heads])
    lines = np.minimum(np.arange(-(-(n + 1) // T) + 1) * T, n)
    full = [bipartite_landscape(A[h]) for h in range(len(A))]
    inside = [h for h in range(len(A)) if not (np.isin(np.unravel_index(np.nanargmin(full[h]), full[h].shape), lines)
                                               .any()) and np.nanmin(full[h][lines]) > np.nanmin(full[h])
              and np.nanmin(full[h][:, lines]) > np.nanmin(full[h])]
    assert len(inside) >= 4, f"too few heads with their minimum inside a tile: {inside}"

    def refuse(X):
        raise AssertionError("a head went to the full tables")

    monkeypatch.setattr(acc, "full_table_bipartite_minimum", refuse)
    got = exact_bipartite_minimum(torch.from_numpy(A[inside]), tile=T)
    np.testing.assert_allclose(got, [np.nanmin(full[h]) for h in inside], rtol=1e-12, atol=0)


def test_crowded_heads_and_chunks_of_heads(monkeypatch):
    """A head with many candidate tiles goes to the full tables, which take heads in chunks: same values."""
    import attention_transport.harness.accumulators as acc

    A = np.random.default_rng(3).random((5, 40, 40))  # near-uniform dense heads: flat landscapes, many candidates
    A /= A.sum(-1, keepdims=True)
    ref = [bipartite_minimum(A[h]).phi for h in range(5)]
    sent = []
    full = acc.full_table_bipartite_minimum
    monkeypatch.setattr(acc, "full_table_bipartite_minimum", lambda X: (sent.append(X.shape[0]), full(X))[1])
    np.testing.assert_allclose(exact_bipartite_minimum(torch.from_numpy(A), tile=4), ref, rtol=1e-12)
    assert sent == []  # the line bounds leave few candidates: no head is crowded at the default share
    monkeypatch.setattr(acc, "CROWDED_TILES", 0.0)  # any candidate tile makes a head crowded
    np.testing.assert_allclose(exact_bipartite_minimum(torch.from_numpy(A), tile=4), ref, rtol=1e-12)
    assert sum(sent) == 5
    monkeypatch.setattr(acc, "EXACT_BIP_BYTES", 1)  # one head per chunk
    np.testing.assert_allclose(full(torch.from_numpy(A)), ref, rtol=1e-12)


@given(st.lists(layers(), min_size=1, max_size=4))
def test_groups_of_layers_equal_one_layer_at_a_time(stack):
    """Layers taken together (:func:`layer_group`) give each head the values it gets with its layer alone."""
    import attention_transport.harness.features as feats

    n = min(A.shape[-1] for A, _, _ in stack)
    H = min(A.shape[0] for A, _, _ in stack)
    A = np.stack([A[:H, :n, :n] for A, _, _ in stack]).astype(np.float64)
    A /= A.sum(-1, keepdims=True)
    p, settings = min(stack[0][1], n), FeatureSettings(lapeig_k=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(feats, "MAP_GROUP_BYTES", 1)  # one layer per call
        alone = attention_features(A, p, settings)
    together = attention_features(A, p, settings)
    assert feats.layer_group(*A.shape[:3]) == A.shape[0]  # the default takes them all at once here
    for name in FEATURES:
        if name == "t_star_over_n":  # a minimiser of the landscape: ties may break either way
            for layer, h in np.ndindex(A.shape[:2]):
                phi = prefix_landscape(A[layer, h]).phi
                t1, t2 = (int(round(f[name][layer, h] * n)) for f in (together, alone))
                assert phi[t1 - 1] == pytest.approx(phi[t2 - 1], rel=1e-12, abs=1e-15)
            continue
        np.testing.assert_allclose(together[name], alone[name], rtol=1e-12, atol=1e-15, equal_nan=True, err_msg=name)


def test_layer_group_keeps_the_float64_copy_within_its_budget():
    from attention_transport.harness.features import MAP_GROUP_BYTES, layer_group

    assert layer_group(30, 9, 240) == MAP_GROUP_BYTES // (8 * 9 * 240 * 240) < 30
    assert layer_group(30, 9, 60) == 30
    assert layer_group(30, 9, 8192) == 1  # one layer even when it alone is over the budget


def test_a_bad_map_is_named_head_by_head():
    A = np.tile(np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None], (2, 3, 1, 1))
    A[1, 2, 3, 1] = np.nan
    with pytest.raises(AttentionTransportError, match=r"A must be finite; got A\[3, 1\] = nan"):
        attention_features(A, 2)
    A[1, 2, 3, 1] = -0.5
    with pytest.raises(AttentionTransportError, match=r"A must be nonnegative; got A\[3, 1\] = -0.5"):
        attention_features(A, 2)
    with pytest.raises(AttentionTransportError, match=r"prompt_len must be in \[1, n = 4\]; got 0"):
        attention_features(np.abs(A), 0)
