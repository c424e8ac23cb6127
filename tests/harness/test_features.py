"""The feature registry: every list of features is derived from it, and a new feature is one class.

* every registered feature, dense, on heads built by the strategies (causal, windowed,
  bidirectional): finite where defined, the shape its width declares;
* the derived lists (families, streamed / not streamed, scalar, probe groups, F7 rows)
  agree with the registry;
* a feature added by a test (the ``diag_mass`` fixture: one class) appears in
  ``head_features``, in the streaming pass (equal to its dense value), in the probe groups
  and in ``evaluate``, with no other edit;
* bad settings and names get the one-line errors.
"""
import numpy as np
import pytest
from attention_strategies import bidirectional_matrices, causal_matrices
from hypothesis import given
from hypothesis import strategies as st

from attention_transport.errors import UnknownName
from attention_transport.harness.features import (
    BASELINE_FEATURES,
    FEATURES,
    TRANSPORT_FEATURES,
    Feature,
    FeatureSettings,
    attention_features,
    feature,
    feature_names,
    head_features,
    lapeig_values,
    lookback_ratios,
    probe_groups,
    register,
)


def _row_stochastic(A):
    return A / A.sum(axis=1, keepdims=True)


@given(st.one_of(causal_matrices(min_n=3, max_n=10), bidirectional_matrices(min_n=3, max_n=10)), st.data())
def test_every_registered_feature_on_heads_from_the_strategies(A, data):
    A = _row_stochastic(A)
    n = len(A)
    p = data.draw(st.integers(1, n - 1))
    settings = FeatureSettings(lambda2=True, lapeig_k=3)
    f = head_features(A, p, settings)
    assert set(f) == set(FEATURES)
    for name, feat in FEATURES.items():
        w = feat.width(settings)
        assert np.shape(f[name]) == (() if w is None else (w,)), name
    for name in ("phi", "t_star_over_n", "phi_boundary", "phi_bip", "G", "lambda2", "prompt_mass", "kl_uniform"):
        assert np.isfinite(f[name]), name
    assert 0 < f["t_star_over_n"] < 1 and 0 <= f["G"] < 1 + 1e-12
    assert f["phi_bip"] <= f["phi"] + 1e-12  # the prefix cuts are bipartite cuts with a = b


def test_lapeig_recipe_on_a_map_computed_by_hand():
    """LapEigvals (Binkowski et al., ``laplacian_diagonal_from_attn`` with ``vertical_edges=False``): column sums
    over the queries that see each key, divided by their number, minus the diagonal; top k descending, padded.

    A = [[1, 0, 0], [1/2, 1/2, 0], [1/5, 3/10, 1/2]]: column sums 17/10, 4/5, 1/2 over 3, 2, 1 queries give
    d = (17/30, 2/5, 1/2); minus the diagonal (1, 1/2, 1/2): (−13/30, −1/10, 0).
    """
    A = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])
    np.testing.assert_allclose(lapeig_values(A, 4), [0.0, -0.1, -13 / 30, 0.0], rtol=0, atol=1e-15)
    assert FeatureSettings().lapeig_k == 100  # the authors' best setting is the default
    np.testing.assert_allclose(head_features(A, 1)["lapeig"][:4], [0.0, -0.1, -13 / 30, 0.0], atol=1e-15)
    assert np.all(head_features(A, 1)["lapeig"][3:] == 0)


def _lookback_oracle(A, p, causal):
    """The lookback ratio by its definition, one row and one key at a time."""
    n, out = len(A), []
    for i in range(p, n):
        seen = range(p, i + 1) if causal else range(p, n)
        context = sum(A[i, j] for j in range(p)) / p
        new = sum(A[i, j] for j in seen) / len(seen)
        out.append(context / (context + new))
    return np.mean(out)


@given(st.one_of(causal_matrices(min_n=2, max_n=9), bidirectional_matrices(min_n=2, max_n=9)), st.data())
def test_lookback_against_its_definition(A, data):
    from attention_transport.numerics.operators import is_causal

    A = _row_stochastic(A)
    p = data.draw(st.integers(1, len(A) - 1))
    got = head_features(A, p, FeatureSettings(lapeig_k=2))["lookback"]
    assert 0 <= got <= 1
    np.testing.assert_allclose(got, _lookback_oracle(A, p, is_causal(A)), rtol=1e-12, atol=1e-14)


def test_lookback_by_hand():
    # row 1: 0.5 / (0.5 + 0.5/1) = 1/2; row 2: 0.6 / (0.6 + 0.4/2) = 3/4
    A = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.6, 0.2, 0.2]])
    np.testing.assert_allclose(lookback_ratios(A, 1, causal=True), [0.5, 0.75])
    assert head_features(A, 1)["lookback"] == pytest.approx(0.625)
    assert np.isnan(head_features(A, 3)["lookback"])  # no response


def test_unwanted_features_are_nan():
    A = np.tril(np.ones((6, 6))) / np.arange(1, 7)[:, None]
    f = head_features(A, 3, exclude={"G", "lapeig"})
    assert np.isnan(f["G"]) and np.isnan(f["lapeig"]).all() and np.isnan(f["lambda2"])
    assert np.isfinite(f["phi"])


def test_the_derived_lists_follow_the_registry():
    assert set(TRANSPORT_FEATURES) | set(BASELINE_FEATURES) == set(FEATURES)
    assert all(FEATURES[n].family == "transport" for n in TRANSPORT_FEATURES)
    assert feature_names(streams=False) == ("lambda2",)
    assert feature_names(scalar=False) == ("lapeig",)
    groups = probe_groups()
    assert groups["transport"] == ("transport", TRANSPORT_FEATURES)
    assert groups["phi"][1] == ("phi", "t_star_over_n") and groups["two_axis"][1] == ("phi", "G")
    assert list(groups)[-1] == "length" and groups["length"] == ("baseline", ())
    for name, f in FEATURES.items():
        assert all(name in groups[g][1] for g in f.probes)


def test_a_new_feature_is_one_class(diag_mass):
    """Registered once, it is computed, streamed, probed and evaluated without any other edit."""
    A = np.tril(np.ones((7, 7))) / np.arange(1, 8)[:, None]
    assert head_features(A, 3)["diag_mass"] == pytest.approx(np.mean([1 / 4, 1 / 5, 1 / 6, 1 / 7]))
    assert attention_features(np.broadcast_to(A, (2, 3, 7, 7)), 3)["diag_mass"].shape == (2, 3)
    assert "diag_mass" in feature_names("transport", streams=True)
    assert probe_groups()["diag"] == ("transport", ("diag_mass",))
    assert "diag_mass" in probe_groups()["transport"][1]


def test_a_new_feature_streams_like_its_dense_value(diag_mass):
    torch = pytest.importorskip("torch")
    from attention_transport.harness.streaming import StreamConfig, layer_features

    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 20, 8, generator=g) for _ in range(3))
    _, feats = layer_features(q, k, v, scaling=0.4, causal=True, mask=None, config=StreamConfig(prompt_len=12))
    z = torch.einsum("hid,hjd->hij", q.double(), k.double()) * 0.4
    z = z.masked_fill(torch.ones(20, 20, dtype=torch.bool).triu(1), float("-inf"))
    A = torch.softmax(z, -1).numpy()
    for h in range(2):
        assert feats["diag_mass"][h] == pytest.approx(head_features(A[h], 12)["diag_mass"], abs=1e-6)


def test_a_new_feature_reaches_the_evaluation(diag_mass):
    pytest.importorskip("sklearn")
    from synthetic import synthetic_records

    from attention_transport.harness.evaluate import evaluate

    rep = evaluate(synthetic_records(n_items=24), n_boot=0, n_splits=3)
    assert "diag_mass" in rep.features and "diag" in rep.probes
    assert rep.probes["transport"].n_features == 3 * 2 * 8  # seven transport features without lambda2, plus one


def test_registration_refuses_duplicates_and_unknown_families():
    class Again(Feature):
        name = "phi"

        def dense(self, head):
            return 0.0

    with pytest.raises(ValueError, match="feature name must be new and non-empty; got 'phi'"):
        register(Again)

    class Odd(Feature):
        name, family = "odd", "other"

        def dense(self, head):
            return 0.0

    with pytest.raises(ValueError, match="feature family must be one of transport, baseline; got 'other'"):
        register(Odd)
    assert "odd" not in FEATURES


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"lapeig_k": 0}, ValueError, "lapeig_k must be an integer in 1..512"),
    ({"exclude": {"phii"}}, UnknownName, "unknown feature 'phii'; known features: phi, t_star_over_n"),
])
def test_settings_errors(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        FeatureSettings(**kwargs)


def test_legacy_names_resolve():
    assert feature("t_star_frac") is FEATURES["t_star_over_n"]
    with pytest.raises(UnknownName, match="unknown feature 'nope'"):
        feature("nope")


def test_an_incomplete_feature_cannot_be_defined_or_registered():
    from attention_transport.harness.accumulators import RowColumnSums

    with pytest.raises(TypeError, match="declares accumulators but no streamed"):
        class Half(Feature):  # noqa: F841 (defining it is the test)
            name, accumulators = "half", (RowColumnSums,)

            def dense(self, head):
                return 0.0

    class NoDense(Feature):
        name = "no_dense"

    with pytest.raises(TypeError, match="abstract"):
        register(NoDense)
    assert "no_dense" not in FEATURES
