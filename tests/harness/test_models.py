"""Forced-scoring attention maps against an independent softmax(QKᵀ/√d + mask) recomputation.

Tiny models are built from random configs (two layers, no download, :mod:`tiny_models`): a Llama with
grouped-query heads and rotary embeddings, and a BERT encoder.
"""
import numpy as np
import pytest

pytest.importorskip("torch")

from tiny_models import recompute_bert, recompute_llama, tiny_bert, tiny_llama  # noqa: E402

from attention_transport.errors import AttentionTransportError, TooLong, UnknownName, Unscorable  # noqa: E402
from attention_transport.harness.features import attention_features  # noqa: E402
from attention_transport.harness.models import forced_attention, load_model  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1])
def test_llama_attention_matches_recomputation(seed):
    lm = tiny_llama(seed)
    fp = forced_attention(lm, "#Question#: who wrote it?\n#Answer#: ", "Nobody did, in 1844.")
    assert fp.prompt_len == 1 + len("#Question#: who wrote it?\n#Answer#: ")
    assert fp.attention.shape == (2, 4, fp.n, fp.n)
    np.testing.assert_allclose(fp.attention, recompute_llama(lm, fp.ids), atol=1e-5)
    assert np.allclose(np.triu(fp.attention, 1), 0)  # causal
    feats = attention_features(fp.attention, fp.prompt_len, lambda2=False)
    assert feats["phi"].shape == (2, 4) and np.all((feats["phi"] > 0) & (feats["phi"] <= 1))


def test_bert_attention_matches_recomputation():
    lm = tiny_bert()
    fp = forced_attention(lm, "#Knowledge#: a b c", "d e")
    enc = lm.tokenizer("#Knowledge#: a b c", "d e")
    assert fp.prompt_len == enc["token_type_ids"].index(1)
    np.testing.assert_allclose(fp.attention, recompute_bert(lm, fp.ids, enc["token_type_ids"]), atol=1e-5)
    feats = attention_features(fp.attention, fp.prompt_len, lambda2=False)
    assert np.all(feats["G"] < 1) and np.all(np.isfinite(feats["phi_bip"]))


def test_forced_attention_errors():
    lm = tiny_llama()
    with pytest.raises(Unscorable, match="the response tokenises to nothing"):
        forced_attention(lm, "prompt", "")
    with pytest.raises(TooLong, match="more than max_tokens = 5"):
        forced_attention(lm, "prompt", "response", max_tokens=5)


def test_load_model_errors(tmp_path):
    with pytest.raises(UnknownName, match="unknown model 'gpt9'; known models: smollm2-135m, gemma3-270m"):
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
    fp_e, eager = forced_features(lm, prompt, response, attention="eager", lambda2=True, lapeig_k=4)
    fp_p, layer = forced_features(lm, prompt, response, attention="per-layer", lambda2=True, lapeig_k=4)
    assert fp_p.attention is None and fp_p.ids == fp_e.ids and fp_p.prompt_len == fp_e.prompt_len
    assert set(eager) == set(layer)
    for name in eager:
        assert layer[name].shape == eager[name].shape
        np.testing.assert_allclose(layer[name], eager[name], rtol=0, atol=1e-5, err_msg=name)
    with pytest.raises(UnknownName, match="attention must be one of auto, eager, per-layer, streaming; got 'x'"):
        forced_features(lm, prompt, response, attention="x")


@pytest.mark.parametrize("config, kind", [
    ({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}, "decoder"),
    ({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}, "decoder"),
    ({"architectures": ["Gemma3TextModel"], "model_type": "gemma3_text"}, "decoder"),  # a saved base model
    ({"architectures": ["Qwen2Model"], "model_type": "qwen2"}, "decoder"),
    ({"architectures": ["ElectraForPreTraining"], "model_type": "electra"}, "encoder"),
    ({"architectures": ["BertModel"], "model_type": "bert"}, "encoder"),
    ({"architectures": ["BertLMHeadModel"], "model_type": "bert"}, "encoder"),
    ({"architectures": ["MPNetForMaskedLM"], "model_type": "mpnet"}, "encoder"),
    ({"model_type": "roberta"}, "encoder"),
])
def test_model_kind_from_config(config, kind):
    """A known encoder type is an encoder; a causal-LM head, or a model type transformers maps to a causal LM
    (a decoder's base model saved on its own, as the GGUF conversion does), is a decoder."""
    from attention_transport.harness.models import model_kind

    assert model_kind(config) == kind


@pytest.mark.parametrize("config, message", [
    ({"model_type": "mystery"}, "cannot tell whether mystery"),
    ({"architectures": ["MysteryForSomething"], "model_type": "mystery2"}, "cannot tell whether mystery2"),
])
def test_model_kind_errors(config, message):
    from attention_transport.harness.models import model_kind

    with pytest.raises(AttentionTransportError, match=message):
        model_kind(config)


def test_second_sequence_start_from_sequence_ids_or_token_types():
    from attention_transport.harness.models import _second_sequence_start

    class Encoding(dict):  # a fast tokenizer's encoding: MPNet's <s> p p </s></s> r r </s>
        def sequence_ids(self, i):
            return [None, 0, 0, None, None, 1, 1, None]

    assert _second_sequence_start(Encoding(input_ids=list(range(8))), 8) == 5
    assert _second_sequence_start({"token_type_ids": [0, 0, 0, 0, 1, 1]}, 6) == 4  # BERT: [SEP] is the prompt's
    assert _second_sequence_start({"token_type_ids": [0, 0, 0]}, 3) == 3




def test_dtype_placement_and_row_tolerance():
    """bfloat16 and float16 weights give maps whose rows sum to 1 within the stated tolerance; the features are
    those of float32 up to that rounding; a map outside the tolerance is refused with the layer named."""
    import torch

    from attention_transport.harness.models import DTYPE_ROW_TOLERANCE, forced_features, place
    from attention_transport.harness.paths import _host_map

    prompt, response = "#Knowledge#: a b c\n#Question#: why?\n#Answer#: ", "because of c"
    _, ref = forced_features(tiny_llama(), prompt, response, attention="eager", lapeig_k=4)
    for dtype in ("bfloat16", "float16"):
        lm = place(tiny_llama(), dtype=dtype)
        assert next(lm.model.parameters()).dtype == getattr(torch, dtype)
        assert lm.row_tolerance == DTYPE_ROW_TOLERANCE[dtype]
        for path in ("eager", "per-layer"):
            _, got = forced_features(lm, prompt, response, attention=path, lapeig_k=4)
            np.testing.assert_allclose(got["phi"], ref["phi"], rtol=0.1, atol=0.02)
    lm = tiny_llama()
    bad = torch.full((2, 3, 3), 0.5)
    with pytest.raises(AttentionTransportError, match="layer 4: a row of the attention maps sums to 1 only within 0.5, "
                                                      "beyond the float32 tolerance 1e-05"):
        _host_map(lm, bad, 4)
    with pytest.raises(UnknownName, match="dtype must be one of float32, bfloat16, float16; got 'int8'"):
        place(lm, dtype="int8")
    with pytest.raises(AttentionTransportError, match="device must be cpu, cuda, cuda:N or mps; got 'tpu'"):
        place(lm, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(AttentionTransportError, match="torch sees no CUDA device here"):
            place(lm, device="cuda:0")
