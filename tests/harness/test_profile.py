"""``attention-transport profile`` on a tiny random Llama: timings, memory, features, refusals."""
import json

import numpy as np
import pytest

pytest.importorskip("torch")

from tiny_models import tiny_llama  # noqa: E402

from attention_transport.cli import main  # noqa: E402
from attention_transport.errors import UnknownName, WontFit  # noqa: E402
from attention_transport.harness import profile as prof  # noqa: E402
from attention_transport.harness.features import FeatureSettings  # noqa: E402
from attention_transport.harness.paths import PATHS  # noqa: E402
from attention_transport.harness.streaming import STREAMED  # noqa: E402

DOCS = ["#Document#: the cat sat on the mat.\n#Summary#: a cat sat.", "#Document#: rain fell all day long."] * 3
KEYS = {"n", "attention", "forward_s", "total_s", "overhead_ratio", "peak_rss_mb", "features"}


def test_profile_inputs_cut_exactly_n_tokens():
    lm = tiny_llama()
    inputs, p = prof.profile_inputs(lm, 100, DOCS)
    ids = inputs["input_ids"][0].tolist()
    assert len(ids) == 100 and p == 75 and ids[0] == 1  # BOS, then the characters
    with pytest.raises(ValueError, match="n = 200 is more than the model's 128 positions"):
        prof.profile_inputs(lm, 200, DOCS)
    with pytest.raises(ValueError, match=r"the documents give \d+ tokens; n = 120 needs more text"):
        prof.profile_inputs(lm, 120, DOCS[:1])
    with pytest.raises(ValueError, match="n must be >= 2; got 1"):
        prof.profile_inputs(lm, 1, DOCS)


@pytest.mark.parametrize("path", list(PATHS))
def test_profile_reports_every_path(path):
    res = prof.profile(tiny_llama(), 64, path, documents=DOCS)
    out = res.to_json()
    assert KEYS <= set(out) and out["n"] == 64 and out["attention"] == path
    assert out["forward_s"] > 0 and out["total_s"] > 0
    assert out["overhead_ratio"] == pytest.approx(out["total_s"] / out["forward_s"])
    assert out["peak_rss_mb"] > 0 and out["forward_peak_rss_mb"] > 0
    assert set(out["features"]) == set(STREAMED)  # λ₂ is never asked for here
    assert all(np.isfinite(v) for v in out["feature_means"].values())


def test_streaming_switches_and_lattice():
    res = prof.profile(tiny_llama(), 64, "streaming", documents=DOCS,
                       settings=FeatureSettings(exclude={"G", "phi_bip"}))
    assert "G" not in res.features and "phi_bip" not in res.features and res.bip_stride == 1
    assert res.excluded == ["G", "phi_bip"]
    res = prof.profile(tiny_llama(), 64, "streaming", documents=DOCS, bip_grid=16)
    assert "phi_bip" in res.features and res.bip_stride == 4


def test_a_path_that_does_not_fit_is_refused(monkeypatch):
    monkeypatch.setattr(prof, "available_bytes", lambda: 1000)
    need = PATHS["eager"].peak_bytes(2, 4, 64)
    assert need == (2 + 2) * 4 * 4 * 64 * 64
    with pytest.raises(WontFit, match=r"eager needs about [\d.]+ GiB at n = 64 \(0 MiB of attention for 2 layers × "
                                           r"4 heads, plus logits, activations and each head's float64 copy\); 0 MiB "
                                           r"available"):
        prof.profile(tiny_llama(), 64, "eager", documents=DOCS)
    with pytest.raises(UnknownName, match="attention must be one of auto, eager, per-layer, streaming; got 'x'"):
        prof.profile(tiny_llama(), 64, "x", documents=DOCS)


def test_the_footprint_counts_more_than_the_maps():
    """The issue's case: SmolLM2-135M at n = 4096, eager.  The maps alone (18 GiB) passed a check against
    23 GiB and the process was killed at 24.3 GB: the maps were held twice (the model's tensors and a stacked
    copy; now converted layer by layer).  The footprint adds the logits (0.8 GB), the layer in flight,
    activations and the features' float64 head copy, with a 10% margin."""
    from types import SimpleNamespace

    smollm2 = SimpleNamespace(num_hidden_layers=30, num_attention_heads=9, hidden_size=576,
                              intermediate_size=1536, vocab_size=49152)
    maps = 30 * 9 * 4096 * 4096 * 4
    need = PATHS["eager"].footprint(smollm2, 4096)
    assert need >= 1.1 * (maps + 2 * 9 * 4096 * 4096 * 4 + 4096 * 49152 * 4 + 32 * 4096 * 4096)
    assert need > 1.15 * maps
    # a batch holds each sequence's maps, logits and activations, the features' temporaries and the margin once
    one, eight = PATHS["eager"].footprint(smollm2, 130), PATHS["eager"].footprint(smollm2, 130, batch=8)
    per_sequence = (PATHS["eager"].peak_bytes(30, 9, 130) + 130 * 49152 * 4 + 4 * 130 * (8 * 576 + 3 * 1536))
    assert abs((eight - one) - 1.1 * 7 * per_sequence) <= 2
    assert eight < 2 * one  # at n = 130 the fixed parts dominate: a batch of 8 is not 8 times one pass
    assert PATHS["streaming"].footprint(smollm2, 4096) < need / 10  # no maps: the logits and the margin
    # at QA length the features take many layers at once (13 of 30 at n = 130): their float64 copy (and φ_bip's
    # twice that) is counted
    from attention_transport.harness.features import layer_group

    heads = 9 * layer_group(30, 9, 130)
    from attention_transport.harness.accumulators import EXACT_BIP_BYTES

    features = 3 * 8 * heads * 131 ** 2 + 5 * max(EXACT_BIP_BYTES, 8 * 131 ** 2) + 4 * 8 * 130 ** 2
    assert heads == 9 * 13 and abs(one - (int(1.1 * (per_sequence + features)) + (512 << 20))) <= 2


_PEAK_RSS_SCRIPT = """
import numpy as np
from attention_transport.harness import profile as prof
assert prof.reset_peak_rss() in (True, False)
before = prof.peak_rss_mb()
block = np.ones(64 << 17)  # 64 MB
after = prof.peak_rss_mb()
assert after >= before + 50 and block.sum() > 0, (before, after)
del block
if prof.reset_peak_rss():  # the high-water mark falls back to what is resident now
    assert prof.peak_rss_mb() < after - 50, after
print("ok")
"""


def test_peak_rss_resets():
    # a fresh process: a worker that already ran memory-heavy tests has its high-water mark far above 64 MB
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _PEAK_RSS_SCRIPT], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_cli_profile_json_and_text(monkeypatch, capsys):
    import io

    monkeypatch.setattr("attention_transport.harness.profile.summarization_documents", lambda cache=None: DOCS)
    monkeypatch.setattr("attention_transport.harness.models.load_model", lambda spec, cache=None: tiny_llama())
    buf = io.StringIO()
    assert main(["profile", "--n", "64", "--attention", "streaming", "--json", "--threads", "1"], out=buf) == 0
    out = json.loads(buf.getvalue())
    assert KEYS <= set(out) and out["n"] == 64 and out["threads"] == 1
    buf = io.StringIO()
    assert main(["profile", "--n", "64", "--attention", "per-layer", "--exclude", "G"], out=buf) == 0
    text = buf.getvalue()
    assert "overhead ratio" in text and "forward alone (sdpa)" in text and "64 (48 + 16)" in text
    assert "excluded" in text and "G" in text.split("excluded")[1]
    assert main(["profile", "--n", "64", "--exclude", "phi_x"]) == 2
    assert "invalid choice: 'phi_x'" in capsys.readouterr().err
    assert main(["profile", "--n", "500", "--attention", "streaming"]) == 2
    assert "error: n = 500 is more than the model's 128 positions" in capsys.readouterr().err


def test_cli_profile_needs_fetched_data(tmp_path, capsys):
    assert main(["profile", "--n", "512", "--cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "attention-transport fetch halueval" in err
