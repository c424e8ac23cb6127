"""Forced-scoring attention maps against an independent softmax(QKᵀ/√d + mask) recomputation.

Tiny models are built in the test from random configs (two layers, no download): a Llama with
grouped-query heads and rotary embeddings, and a BERT encoder.
"""
import math

import numpy as np
import pytest
import torch
import transformers

from attention_transport.harness.features import attention_features
from attention_transport.harness.models import LoadedModel, forced_attention, load_model


class CharTokenizer:
    """Characters → ids; a BOS token for decoders, [CLS]/[SEP] pairs for encoders."""

    def __call__(self, text, pair=None, add_special_tokens=True, truncation=False, max_length=None):
        ids = [2 + (ord(ch) % 60) for ch in text]
        if pair is None:
            return {"input_ids": ([1] if add_special_tokens else []) + ids}
        second = [2 + (ord(ch) % 60) for ch in pair]
        if truncation == "only_first" and max_length is not None:
            ids = ids[: max(0, max_length - len(second) - 3)]
        input_ids = [0] + ids + [1] + second + [1]
        types = [0] * (len(ids) + 2) + [1] * (len(second) + 1)
        return {"input_ids": input_ids, "token_type_ids": types, "attention_mask": [1] * len(input_ids)}


SHAPE = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             max_position_embeddings=128)


def tiny(model_cls, cfg, kind, seed):
    """A randomly initialised two-layer model with eager attention, no download."""
    torch.manual_seed(seed)
    model = model_cls._from_config(cfg, attn_implementation="eager").eval()
    return LoadedModel(f"tiny-{kind}", kind, model, CharTokenizer())


def tiny_llama(seed=0):
    cfg = transformers.LlamaConfig(num_key_value_heads=2, **SHAPE)  # grouped-query: 4 heads share 2 KV heads
    return tiny(transformers.LlamaForCausalLM, cfg, "decoder", seed)


def tiny_bert(seed=0):
    return tiny(transformers.BertModel, transformers.BertConfig(type_vocab_size=2, **SHAPE), "encoder", seed)


def rope(x, theta):
    """Rotary embedding, rotate-half convention, written out from its definition."""
    n, d = x.shape[-2], x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cos(torch.cat([ang, ang], -1)), torch.sin(torch.cat([ang, ang], -1))
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def recompute_llama(lm, ids):
    m, cfg = lm.model, lm.model.config
    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads
    d = cfg.hidden_size // H
    n = len(ids)
    with torch.no_grad():
        hs = m(torch.tensor([ids]), output_hidden_states=True).hidden_states
        maps = []
        for layer, h_in in zip(m.model.layers, hs):
            h = layer.input_layernorm(h_in)[0].double()
            att = layer.self_attn
            q = (h @ att.q_proj.weight.double().T).view(n, H, d).transpose(0, 1)
            k = (h @ att.k_proj.weight.double().T).view(n, KV, d).transpose(0, 1)
            q, k = rope(q, cfg.rope_parameters["rope_theta"]), rope(k, cfg.rope_parameters["rope_theta"])
            k = k.repeat_interleave(H // KV, dim=0)  # grouped-query heads: head h uses KV head h // (H/KV)
            scores = q @ k.transpose(1, 2) / math.sqrt(d)
            scores = scores.masked_fill(torch.triu(torch.ones(n, n, dtype=torch.bool), 1), float("-inf"))
            maps.append(torch.softmax(scores, -1).numpy())
    return np.stack(maps)


def recompute_bert(lm, ids, types):
    m, cfg = lm.model, lm.model.config
    H = cfg.num_attention_heads
    d = cfg.hidden_size // H
    n = len(ids)
    with torch.no_grad():
        hs = m(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types]), output_hidden_states=True).hidden_states
        maps = []
        for layer, h_in in zip(m.encoder.layer, hs):
            sa = layer.attention.self
            h = h_in[0].double()
            q = (h @ sa.query.weight.double().T + sa.query.bias.double()).view(n, H, d).transpose(0, 1)
            k = (h @ sa.key.weight.double().T + sa.key.bias.double()).view(n, H, d).transpose(0, 1)
            maps.append(torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), -1).numpy())
    return np.stack(maps)


@pytest.mark.parametrize("seed", [0, 1])
def test_llama_attention_matches_recomputation(seed):
    lm = tiny_llama(seed)
    fp = forced_attention(lm, "#Question#: who wrote it?\n#Answer#: ", "Nobody did, in 1844.")
    assert fp.prompt_len == 1 + len("#Question#: who wrote it?\n#Answer#: ")
    assert fp.attention.shape == (2, 4, fp.n, fp.n)
    np.testing.assert_allclose(fp.attention, recompute_llama(lm, fp.ids), atol=1e-5)
    assert np.allclose(np.triu(fp.attention, 1), 0)  # causal
    feats = attention_features(fp.attention, fp.prompt_len, spectral=False)
    assert feats["phi"].shape == (2, 4) and np.all((feats["phi"] > 0) & (feats["phi"] <= 1))


def test_bert_attention_matches_recomputation():
    lm = tiny_bert()
    fp = forced_attention(lm, "#Knowledge#: a b c", "d e")
    enc = lm.tokenizer("#Knowledge#: a b c", "d e")
    assert fp.prompt_len == enc["token_type_ids"].index(1)
    np.testing.assert_allclose(fp.attention, recompute_bert(lm, fp.ids, enc["token_type_ids"]), atol=1e-5)
    feats = attention_features(fp.attention, fp.prompt_len, spectral=False)
    assert np.all(feats["G"] < 1) and np.all(np.isfinite(feats["phi_bip"]))


def test_forced_attention_errors():
    lm = tiny_llama()
    with pytest.raises(ValueError, match="the response tokenises to nothing"):
        forced_attention(lm, "prompt", "")
    with pytest.raises(ValueError, match="more than max_tokens = 5"):
        forced_attention(lm, "prompt", "response", max_tokens=5)


def test_load_model_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'gpt9'; known models: smollm2-135m, minilm-l6"):
        load_model("gpt9")
    with pytest.raises(FileNotFoundError, match="model path not found"):
        load_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError, match="run `attention-transport fetch smollm2-135m`"):
        load_model("smollm2-135m", cache=tmp_path)
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="a model file must be .gguf"):
        load_model(str(tmp_path / "weights.bin"))


@pytest.mark.parametrize("build", [tiny_llama, tiny_bert], ids=["llama", "bert"])
def test_per_layer_reduction_equals_eager(build):
    """Hooks reduce each layer at once; the features equal those of the all-layer eager maps."""
    from attention_transport.harness.models import forced_features

    lm = build(3)
    prompt, response = "#Knowledge#: a b c\n#Question#: why?\n#Answer#: ", "because of c"
    fp_e, eager = forced_features(lm, prompt, response, method="eager", spectral=True, lapeig_k=4)
    fp_p, layer = forced_features(lm, prompt, response, method="per-layer", spectral=True, lapeig_k=4)
    assert fp_p.attention is None and fp_p.ids == fp_e.ids and fp_p.prompt_len == fp_e.prompt_len
    assert set(eager) == set(layer)
    for name in eager:
        assert layer[name].shape == eager[name].shape
        np.testing.assert_allclose(layer[name], eager[name], rtol=0, atol=1e-5, err_msg=name)
    with pytest.raises(ValueError, match="method must be 'eager', 'per-layer' or 'streaming'; got 'x'"):
        forced_features(lm, prompt, response, method="x")
