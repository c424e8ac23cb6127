"""Every head of a layer at once (``attention_features`` through :func:`~attention_transport.harness.streaming.
map_features`) against the per-head reference :func:`head_features`, on layers built directly: causal, windowed,
bidirectional and mixed heads, float32 and float64, tiny capacities; and the exact all-heads ``φ_bip`` against
:func:`bipartite_minimum`."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from attention_strategies import attention_matrices, tiny_capacity_matrices  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from attention_transport.errors import AttentionTransportError  # noqa: E402
from attention_transport.harness.accumulators import exact_bipartite_minimum  # noqa: E402
from attention_transport.harness.features import FEATURES, FeatureSettings, attention_features, head_features  # noqa: E402,E501
from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape  # noqa: E402


@st.composite
def layers(draw, heads=attention_matrices):
    n = draw(st.integers(2, 12))
    H = draw(st.integers(1, 4))
    A = np.stack([draw(heads(min_n=n, max_n=n)) for _ in range(H)])
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return A.astype(dtype), draw(st.integers(1, n)), draw(st.booleans())


def assert_layer_equals_heads(A, p, settings, rtol=1e-9, atol=1e-12):
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


@given(layers(heads=tiny_capacity_matrices))
def test_tiny_capacities_keep_their_digits(case):
    """Heads whose cuts run down to 1e-300: relative agreement, the prefix cuts summed directly from the map."""
    A, p, _ = case
    A = A.astype(np.float64)
    got = attention_features(A[None], p, FeatureSettings(lapeig_k=3))
    for h in range(A.shape[0]):
        ref = head_features(A[h], p, FeatureSettings(lapeig_k=3))
        for name in ("phi", "phi_bip"):
            np.testing.assert_allclose(got[name][0, h], ref[name], rtol=1e-9, atol=0, err_msg=name)


@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 2**31 - 1), st.booleans())
def test_exact_bipartite_minimum_of_every_head(n, H, seed, causal):
    rng = np.random.default_rng(seed)
    A = rng.random((H, n, n)) ** 4
    if causal:
        A = np.tril(A) + np.eye(n) * 1e-3
    A /= A.sum(-1, keepdims=True)
    got = exact_bipartite_minimum(torch.from_numpy(A))
    np.testing.assert_allclose(got, [bipartite_minimum(A[h]).phi for h in range(H)], rtol=1e-12, atol=1e-15)


def test_exact_bipartite_minimum_in_chunks_of_heads(monkeypatch):
    import attention_transport.harness.accumulators as acc

    A = np.random.default_rng(3).random((5, 20, 20))
    A /= A.sum(-1, keepdims=True)
    whole = exact_bipartite_minimum(torch.from_numpy(A))
    monkeypatch.setattr(acc, "EXACT_BIP_BYTES", 1)  # one head per chunk
    np.testing.assert_array_equal(exact_bipartite_minimum(torch.from_numpy(A)), whole)


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
