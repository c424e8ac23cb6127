"""Tiny random models for the harness tests (no download): a Llama with grouped-query heads and rotary
embeddings, a BERT encoder, a character tokenizer, and independent recomputations of their attention."""
import math

import numpy as np
import torch
import transformers

from attention_transport.harness.models import LoadedModel


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


def t5_config(vocab_size=64):
    """A two-layer T5 (four heads of dimension 8; three decoder layers, so the decoder's depth is read, not the
    encoder's)."""
    return transformers.T5Config(vocab_size=vocab_size, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                 num_decoder_layers=3, num_heads=4, decoder_start_token_id=0, pad_token_id=0,
                                 eos_token_id=1)


def tiny_t5(seed=0):
    """A randomly initialised encoder–decoder T5 base model (no LM head), eager attention."""
    return tiny(transformers.T5Model, t5_config(), "encoder-decoder", seed)


def bart_config(vocab_size=64):
    """A BART with two encoder and three decoder layers (four heads of dimension 8): learned positions, a
    different module layout from T5's, the same joint transport."""
    return transformers.BartConfig(vocab_size=vocab_size, d_model=32, encoder_layers=2, decoder_layers=3,
                                   encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                                   decoder_ffn_dim=64, max_position_embeddings=128, decoder_start_token_id=0,
                                   pad_token_id=63, bos_token_id=0, eos_token_id=1)


def tiny_bart(seed=0):
    """A randomly initialised encoder–decoder BART base model (no LM head), eager attention."""
    return tiny(transformers.BartModel, bart_config(), "encoder-decoder", seed)


def save_tiny_t5(folder, seed=0):
    """A tiny random T5 saved as a Hugging Face directory with a word-level fast tokenizer (what ``--model DIR``
    reads): lower-case words and punctuation of the test data, every other word ``<unk>``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = ["<pad>", "</s>", "<unk>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + list(".,?:;'-#")
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")  # one token per character
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                eos_token="</s>")
    torch.manual_seed(seed)
    model = transformers.T5Model(t5_config(len(vocab))).eval()
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


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
