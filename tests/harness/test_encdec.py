"""Encoder–decoder models (:mod:`attention_transport.harness.encdec`): the joint transport of a decoder layer, its
paths and its run on a tiny random T5 (no download), from a loaded model and from a saved directory."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from synthetic import write_qa  # noqa: E402
from tiny_models import save_tiny_t5, tiny_bart, tiny_t5  # noqa: E402

from attention_transport.cli import main  # noqa: E402
from attention_transport.errors import AttentionTransportError  # noqa: E402
from attention_transport.harness.encdec import CROSS_SHARE, joint_transport  # noqa: E402
from attention_transport.harness.features import FeatureSettings, attention_features  # noqa: E402
from attention_transport.harness.models import (  # noqa: E402
    encode,
    forced_attention,
    forced_features,
    map_shape,
    model_kind,
)
from attention_transport.harness.paths import choose_path  # noqa: E402

PROMPT, RESPONSE = "Knowledge: the cat sat on the mat. Question: where did the cat sit?", "on the mat"


def _stochastic(rng, shape, causal=False):
    A = rng.random(shape) + 1e-3
    if causal:
        A = np.tril(A)
    return A / A.sum(-1, keepdims=True)


@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 9), st.floats(0, 1), st.integers(0, 2**31 - 1))
def test_joint_transport_is_causal_row_stochastic_with_the_memory_fixed(heads, d, m, share, seed):
    rng = np.random.default_rng(seed)
    C, S = _stochastic(rng, (heads, d, m)), _stochastic(rng, (heads, d, d), causal=True)
    J = joint_transport(C, S, share).astype(np.float64)
    assert J.shape == (heads, m + d, m + d)
    np.testing.assert_allclose(J.sum(-1), 1.0, atol=1e-6)
    assert np.all(J >= 0) and np.all(np.triu(J, 1) == 0)  # lower triangular: a causal map
    assert np.all(J[:, :m, :m] == np.eye(m))  # the encoder memory: nothing moves it within a decoder layer
    np.testing.assert_allclose(J[:, m:, :m], share * C, atol=1e-6)
    np.testing.assert_allclose(J[:, m:, m:], (1 - share) * S, atol=1e-6)


def test_joint_transport_refuses_bad_shapes_and_shares():
    with pytest.raises(AttentionTransportError, match=r"cross-attention must be \(heads, d, m\) .* got \(1, 2, 3\) "
                                                      r"and \(1, 3, 3\)"):
        joint_transport(np.ones((1, 2, 3)) / 3, np.eye(3)[None])
    with pytest.raises(AttentionTransportError, match="share must be in \\[0, 1\\]; got 1.5"):
        joint_transport(np.ones((1, 2, 3)) / 3, np.eye(2)[None], 1.5)


@pytest.mark.parametrize("build", [tiny_t5, tiny_bart], ids=["t5", "bart"])
def test_forced_pass_reads_the_decoder_maps_into_the_joint_transport(build):
    """Encoder: the prompt; decoder: [start] + response; per decoder layer (3, not the encoder's 2) the joint
    transport of the model's own cross- and self-attention maps (T5's and BART's module layouts)."""
    lm = build()
    ids, p, inputs, _ = encode(lm, PROMPT, RESPONSE, None)
    e_ids = lm.tokenizer(PROMPT)["input_ids"]
    r_ids = lm.tokenizer(RESPONSE, add_special_tokens=False)["input_ids"]
    assert inputs["input_ids"][0].tolist() == e_ids and inputs["decoder_input_ids"][0].tolist() == [0] + r_ids
    assert ids == e_ids + [0] + r_ids and p == len(e_ids) + 1
    fp = forced_attention(lm, PROMPT, RESPONSE)
    with torch.no_grad():
        out = lm.model(**inputs, output_attentions=True)
    assert fp.attention.shape == (3, 4, fp.n, fp.n) and map_shape(lm) == (3, 4)
    m = len(e_ids)
    for layer in range(3):
        C, S = out.cross_attentions[layer][0].numpy(), out.decoder_attentions[layer][0].numpy()
        np.testing.assert_allclose(fp.attention[layer, :, m:, :m], CROSS_SHARE * C, atol=1e-7)
        np.testing.assert_allclose(fp.attention[layer, :, m:, m:], (1 - CROSS_SHARE) * S, atol=1e-7)
    assert np.all(np.triu(fp.attention, 1) == 0)


@pytest.mark.parametrize("build", [tiny_t5, tiny_bart], ids=["t5", "bart"])
def test_eager_and_per_layer_paths_agree_and_streaming_is_refused(build):
    lm = build()
    _, eager = forced_features(lm, PROMPT, RESPONSE, attention="eager", lapeig_k=4)
    _, layer = forced_features(lm, PROMPT, RESPONSE, attention="per-layer", lapeig_k=4)
    fp = forced_attention(lm, PROMPT, RESPONSE)
    direct = attention_features(fp.attention, fp.prompt_len, FeatureSettings(lapeig_k=4))
    for name in eager:
        assert eager[name].shape[:2] == (3, 4), name
        np.testing.assert_allclose(layer[name], eager[name], rtol=0, atol=1e-6, err_msg=name, equal_nan=True)
        np.testing.assert_allclose(direct[name], eager[name], rtol=0, atol=1e-6, err_msg=name, equal_nan=True)
    with pytest.raises(AttentionTransportError, match="streaming path: an encoder–decoder model's transport joins"):
        forced_features(lm, PROMPT, RESPONSE, attention="streaming", lambda2=False)
    settings = FeatureSettings(lambda2=False)
    assert choose_path("auto", settings=settings, layers=3, heads=4, n=30000).name == "streaming"
    assert choose_path("auto", settings=settings, layers=3, heads=4, n=30000, kind="encoder-decoder").name == \
        "per-layer"


def test_t5_without_a_decoder_start_token_is_refused():
    lm = tiny_t5()
    lm.model.config.decoder_start_token_id = None
    with pytest.raises(AttentionTransportError, match="no decoder_start_token_id; the decoder cannot be teacher"):
        encode(lm, PROMPT, RESPONSE, None)


def test_model_kind_reads_encoder_decoder_configs():
    assert model_kind({"model_type": "t5", "is_encoder_decoder": True}) == "encoder-decoder"
    assert model_kind({"model_type": "bart", "is_encoder_decoder": True,
                       "architectures": ["BartForConditionalGeneration"]}) == "encoder-decoder"


def test_validate_runs_a_local_t5_directory_end_to_end(tmp_path, capsys):
    """``validate --model DIR`` on a saved tiny random T5: the decoder's 3 layers × 4 heads, every example
    computed through the eager path, the report written."""
    folder = save_tiny_t5(tmp_path / "t5")
    data = write_qa(tmp_path / "qa.jsonl", 8)
    out = tmp_path / "run"
    argv = ["validate", "--model", str(folder), "--benchmark", "halueval-qa", "--data", str(data), "--out", str(out),
            "--n-boot", "20", "--lapeig-k", "4", "--no-figures", "--offline"]
    assert main(argv) == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["n_items"] == 8 and report["computed"] == 16
    assert np.asarray(report["heads"]["phi"]["faithful"]).shape == (3, 4)  # decoder layers × heads
    assert set(report["attention_paths"]) == {"eager"}
