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
