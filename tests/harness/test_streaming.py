"""The streaming path against the full map: every streamed feature equals the eager one to 1e-5.

* ``layer_features`` on random queries and keys (hypothesis: causal, bidirectional, boolean
  and additive masks, blocks of 16 rows down to one block) against :func:`head_features`
  of the explicit float64 softmax map;
* the bipartite lattice beyond ``bip_grid`` against the subsampled full landscape;
* whole tiny models (Llama with grouped-query heads and RoPE, BERT) through
  ``forced_features``: streaming = per-layer = eager;
* no route leaves a layer's tensors in reference cycles (they would wait for the cyclic collector).
"""
import gc

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from tiny_models import tiny_bert, tiny_llama  # noqa: E402

from attention_transport.errors import UnknownName  # noqa: E402
from attention_transport.harness.features import (  # noqa: E402
    FEATURES,
    FeatureSettings,
    attention_features,
    feature_names,
    head_features,
)
from attention_transport.harness.models import forced_features  # noqa: E402
from attention_transport.harness.streaming import (  # noqa: E402
    NOT_STREAMED,
    STREAMED,
    StreamConfig,
    layer_features,
    streaming_attention,
)
from attention_transport.numerics.landscapes import bipartite_landscape, bipartite_minimum  # noqa: E402

#: every streamed scalar feature, from the registry
SCALARS = tuple(n for n in STREAMED if n in feature_names(scalar=True))


def reference_map(q, k, scaling, causal, mask):
    """softmax(q kᵀ · scaling + mask) in float64, per head."""
    z = np.einsum("hid,hjd->hij", q.double().numpy(), k.double().numpy()) * scaling
    n = z.shape[-1]
    if mask is not None:
        m = mask.numpy()
        z = np.where(m, z, -np.inf) if m.dtype == bool else z + m
    elif causal:
        z = np.where(np.tril(np.ones((n, n), bool)), z, -np.inf)
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def assert_matches(streamed, A, p, lapeig_k, names=SCALARS, atol=1e-5):
    for h in range(A.shape[0]):
        ref = head_features(A[h], p, lambda2=False, lapeig_k=lapeig_k)
        for name in names:
            np.testing.assert_allclose(streamed[name][h], ref[name], rtol=0, atol=atol, err_msg=f"{name}, head {h}")
        np.testing.assert_allclose(streamed["lapeig"][h], ref["lapeig"], rtol=0, atol=atol, err_msg="lapeig")


@st.composite
def layers(draw):
    n = draw(st.integers(2, 48))
    heads = draw(st.integers(1, 3))
    p = draw(st.integers(1, n))
    kind = draw(st.sampled_from(["causal", "bidirectional", "bool-mask", "float-mask"]))
    seed = draw(st.integers(0, 2**31 - 1))
    block_bytes = draw(st.sampled_from([1, 4 * heads * n * 20, 1 << 24]))
    return n, heads, p, kind, seed, block_bytes


@given(layers())
def test_streamed_layer_equals_full_map_features(case):
    n, heads, p, kind, seed, block_bytes = case
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(heads, n, 8, generator=g) for _ in range(3))
    mask = None
    if kind == "bool-mask":
        mask = torch.rand(n, n, generator=g) < 0.6
        mask.fill_diagonal_(True)
    elif kind == "float-mask":
        mask = torch.where(torch.rand(n, n, generator=g) < 0.7, 0.0, float("-inf")).fill_diagonal_(0.0)
        mask = mask + torch.rand(n, n, generator=g)  # a bias on top of the pattern
    causal = kind == "causal"
    config = StreamConfig(prompt_len=p, settings=FeatureSettings(lapeig_k=4), block_bytes=block_bytes)
    out, feats = layer_features(q, k, v, scaling=8 ** -0.5, causal=causal, mask=mask, config=config)
    A = reference_map(q, k, 8 ** -0.5, causal, mask)
    assert_matches(feats, A, p, 4)
    np.testing.assert_allclose(out.numpy(), A @ v.double().numpy(), rtol=0, atol=1e-5)
    assert np.all(np.isnan(feats["lambda2"]))


def test_block_sizes_do_not_change_the_features():
    g = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(2, 100, 16, generator=g) for _ in range(3))
    runs = [layer_features(q, k, v, scaling=0.25, causal=True, mask=None,
                           config=StreamConfig(prompt_len=70, block_bytes=b))[1] for b in (1, 4 * 2 * 100 * 37, 1 << 26)]
    for other in runs[1:]:
        for name in SCALARS:
            np.testing.assert_allclose(other[name], runs[0][name], rtol=0, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("n,grid", [(50, 7), (64, 16), (33, 32)])
def test_bipartite_lattice_beyond_the_grid(n, grid):
    """Beyond ``bip_grid`` tokens: the minimum over the cuts a, b ∈ {0, s, 2s, …, n}, an upper bound."""
    g = torch.Generator().manual_seed(n)
    q, k, v = (torch.randn(2, n, 8, generator=g) for _ in range(3))
    config = StreamConfig(prompt_len=n // 2, bip_grid=grid)
    s = config.stride(n)
    assert s == -(-n // grid) and s > 1
    _, feats = layer_features(q, k, v, scaling=8 ** -0.5, causal=True, mask=None, config=config)
    A = reference_map(q, k, 8 ** -0.5, True, None)
    lattice = sorted(set(range(0, n + 1, s)) | {n})
    for h in range(2):
        land = bipartite_landscape(A[h])[np.ix_(lattice, lattice)]
        np.testing.assert_allclose(feats["phi_bip"][h], np.nanmin(land), rtol=0, atol=1e-6)
        assert feats["phi_bip"][h] >= bipartite_minimum(A[h]).phi - 1e-6


def test_second_pass_switches():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 40, 8, generator=g) for _ in range(3))
    A = reference_map(q, k, 0.3, True, None)
    for asym, bip in ((False, False), (True, False), (False, True)):
        exclude = ({"G"} if not asym else set()) | ({"phi_bip"} if not bip else set())
        config = StreamConfig(prompt_len=30, settings=FeatureSettings(exclude=exclude, lapeig_k=4))
        _, f = layer_features(q, k, v, scaling=0.3, causal=True, mask=None, config=config)
        assert np.isnan(f["G"]).all() != asym and np.isnan(f["phi_bip"]).all() != bip
        names = [x for x in SCALARS if (x != "G" or asym) and (x != "phi_bip" or bip)]
        assert_matches(f, A, 30, 4, names=names)


def test_streamed_and_not_streamed_name_every_feature():
    assert set(STREAMED) | set(NOT_STREAMED) == set(FEATURES)
    assert not set(STREAMED) & set(NOT_STREAMED)
    assert set(STREAMED) == {n for n, f in FEATURES.items() if f.accumulators}


def test_prompt_length_out_of_range():
    q = torch.zeros(1, 5, 4)
    with pytest.raises(ValueError, match=r"prompt_len must be in \[1, n = 5\]; got 6"):
        layer_features(q, q, q, scaling=1.0, causal=True, mask=None, config=StreamConfig(prompt_len=6))


@pytest.mark.parametrize("build", [tiny_llama, tiny_bert], ids=["llama", "bert"])
def test_three_paths_agree_on_tiny_models(build):
    """Whole models: the streaming forward (its own blockwise attention output) reproduces the
    eager features layer after layer, grouped-query heads and rotary embeddings included."""
    lm = build(4)
    prompt, response = "#Document#: the cat sat on the mat; the dog did not.\n#Summary#: ", "a cat sat on a mat"
    _, eager = forced_features(lm, prompt, response, attention="eager", lambda2=False, lapeig_k=4)
    _, layer = forced_features(lm, prompt, response, attention="per-layer", lambda2=False, lapeig_k=4)
    fp, stream = forced_features(lm, prompt, response, attention="streaming", lambda2=False, lapeig_k=4, block_bytes=1)
    assert fp.attention is None and set(stream) == set(eager)
    for name in eager:
        ok = np.isfinite(eager[name])
        assert stream[name].shape == eager[name].shape
        if name in NOT_STREAMED:
            assert np.isnan(stream[name]).all()
            continue
        np.testing.assert_allclose(stream[name][ok], eager[name][ok], rtol=0, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(layer[name][ok], eager[name][ok], rtol=0, atol=1e-5, err_msg=name)
    assert lm.model.config._attn_implementation == "eager"  # restored after the pass


def test_streaming_refuses_lambda2():
    lm = tiny_llama()
    with pytest.raises(ValueError, match="lambda2 needs each head's full map; the streaming path never forms one"):
        forced_features(lm, "a prompt", "a response", attention="streaming", lambda2=True)
    with pytest.raises(UnknownName, match="attention must be one of auto, eager, per-layer, streaming; got 'x'"):
        forced_features(lm, "a prompt", "a response", attention="x")


def test_streaming_registration_is_scoped():
    """The attention function exists only inside the scope, also when the pass fails."""
    from transformers import AttentionInterface

    from attention_transport.harness.streaming import ATTN_KEY

    lm = tiny_llama()
    with streaming_attention(lm.model, StreamConfig(prompt_len=1)) as layers:
        assert ATTN_KEY in AttentionInterface._global_mapping and layers == []
        assert lm.model.config._attn_implementation == ATTN_KEY
    assert ATTN_KEY not in AttentionInterface._global_mapping
    assert lm.model.config._attn_implementation == "eager"
    with pytest.raises(RuntimeError, match="boom"):
        with streaming_attention(lm.model, StreamConfig(prompt_len=1)):
            raise RuntimeError("boom")
    assert ATTN_KEY not in AttentionInterface._global_mapping
    assert lm.model.config._attn_implementation == "eager"


def test_sliding_window_layers_stream_like_eager():
    """A Gemma-3-style model (random, tiny): two sliding-window layers (window 8) and a global one at n = 40.
    The window reaches the streaming path through the layer's mask; every streamed feature equals eager's."""
    import torch
    from transformers import Gemma3TextConfig, Gemma3TextModel

    from attention_transport.harness.models import LoadedModel, features_from_inputs

    torch.manual_seed(0)
    cfg = Gemma3TextConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                           num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=8,
                           max_position_embeddings=256,
                           layer_types=["sliding_attention", "sliding_attention", "full_attention"])
    cfg._attn_implementation = "eager"
    lm = LoadedModel("tiny-gemma3", "decoder", Gemma3TextModel(cfg).eval(), None)
    ids = torch.randint(0, 64, (1, 40))
    with torch.no_grad():
        maps = lm.model(ids, output_attentions=True).attentions
    far = torch.ones(40, 40, dtype=torch.bool).tril_(-8)
    assert maps[0][0][:, far].abs().max() == 0 and maps[2][0][:, far].abs().max() > 0  # the window bites
    eager = features_from_inputs(lm, {"input_ids": ids}, 10, attention="eager", lapeig_k=4)
    streamed = features_from_inputs(lm, {"input_ids": ids}, 10, attention="streaming", lapeig_k=4)
    for name in STREAMED:
        np.testing.assert_allclose(streamed[name], eager[name], rtol=0, atol=1e-6, err_msg=name)


def _one_layer(kind, n=64, heads=3, seed=11):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(heads, n, 8, generator=g) for _ in range(3))
    mask = None
    if kind == "bool-mask":
        mask = (torch.rand(n, n, generator=g) < 0.6).fill_diagonal_(True)
    return q, k, v, mask


@pytest.mark.parametrize("kind", ["causal", "bidirectional", "bool-mask"])
def test_streaming_keeps_every_tensor_on_the_inputs_device(kind):
    """Every tensor the blocks and accumulators create lives on the inputs' device: with the default device
    set to ``meta``, a tensor created without ``device=`` would be on meta, and the first operation mixing it
    with the inputs' (CPU) tensors would fail.  The features equal those of a run without the context."""
    q, k, v, mask = _one_layer(kind)
    config = StreamConfig(prompt_len=20, settings=FeatureSettings(lapeig_k=4), block_bytes=1, bip_grid=16)
    ref = layer_features(q, k, v, scaling=0.3, causal=kind == "causal", mask=mask, config=config)[1]
    with torch.device("meta"):
        out, got = layer_features(q, k, v, scaling=0.3, causal=kind == "causal", mask=mask, config=config)
    assert out.device.type == "cpu"
    for name in STREAMED:
        np.testing.assert_array_equal(got[name], ref[name], err_msg=name)


@pytest.mark.parametrize("kind", ["causal", "bidirectional"])
def test_streaming_moves_only_per_head_vectors_to_the_host(kind, monkeypatch):
    """On a GPU the blocks must stay on the device: the only tensors that leave it (``.cpu()``, ``.numpy()``,
    ``.tolist()``) are the finished per-head statistics, at most heads × n numbers, never a block of
    heads × rows × n (rows ≥ 16)."""
    q, k, v, mask = _one_layer(kind, n=96)
    moved = []
    for method in ("cpu", "numpy", "tolist"):
        original = getattr(torch.Tensor, method)

        def record(self, *args, _original=original, **kwargs):
            moved.append(self.numel())
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, record)
    config = StreamConfig(prompt_len=30, settings=FeatureSettings(lapeig_k=4), block_bytes=1)
    layer_features(q, k, v, scaling=0.3, causal=kind == "causal", mask=mask, config=config)
    assert moved and max(moved) <= 3 * 96  # heads × n


def _cyclic_garbage(run):
    """Type names of the tensors and arrays that ``run()`` leaves in reference cycles: garbage that only the cyclic
    collector frees, whenever it happens to run.  A validation run of a thousand long examples kept gigabytes of
    layer maps that way (an accumulator and its stream referred to each other)."""
    run()  # the first call's imports and registrations make cycles of their own
    while gc.collect():  # earlier tests' garbage too, to the last generation: freeing one cycle (a closed figure's
        pass  # masked arrays) can release another, and only what run() itself leaves may count below
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # the collector keeps what it finds in gc.garbage
    try:
        run()
        gc.collect()
        return [type(o).__name__ for o in gc.garbage if isinstance(o, (torch.Tensor, np.ndarray))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _mixed_layer(n=40, heads=3, seed=2):
    """A layer's maps (heads, n, n): a causal head, a bidirectional one, a causal one with a sink."""
    A = np.random.default_rng(seed).random((heads, n, n))
    A[0], A[2, :, 0] = np.tril(A[0]), 5.0
    A[2] = np.tril(A[2])
    return (A / A.sum(-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("route", ["streamed-causal", "streamed-mask", "layer-map", "eager", "per-layer", "streaming"])
def test_no_route_leaves_tensors_in_reference_cycles(route):
    q, k, v, mask = _one_layer("bool-mask" if route == "streamed-mask" else "causal")
    config = StreamConfig(prompt_len=20, settings=FeatureSettings(lapeig_k=4), block_bytes=1, bip_grid=16)
    lm = tiny_llama(3)
    prompt, response = "#Question#: where did the cat sit?\n#Answer#: ", "on the mat"
    runs = {
        "streamed-causal": lambda: layer_features(q, k, v, scaling=0.3, causal=True, mask=None, config=config),
        "streamed-mask": lambda: layer_features(q, k, v, scaling=0.3, causal=False, mask=mask, config=config),
        "layer-map": lambda: attention_features(_mixed_layer()[None], 12, FeatureSettings(lapeig_k=4)),
    }
    run = runs.get(route) or (lambda: forced_features(lm, prompt, response, attention=route, lapeig_k=4))
    assert _cyclic_garbage(run) == []
