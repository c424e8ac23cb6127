"""Long context: forward + transport features against the forward pass alone, per attention path.

One group per n (default 512, 2048, 8192; ``AT_BENCH_LONG_N`` overrides, e.g. ``512,4096``):

* baseline: SmolLM2-135M's own forward pass over n tokens of HaluEval summarization text
  (sdpa attention, no features);
* ``streaming``: the streamed pass 1 features (no G, no φ_bip);
* ``streaming+G``: with the second pass for G;
* ``streaming+G+bip``: with G and φ_bip (exact up to 1024 tokens, on a lattice beyond);
* ``per-layer`` and ``eager``: every feature from the full maps, where the maps fit in
  memory and n ≤ ``AT_BENCH_FULL_MAP_MAX_N`` (default 2048; per-layer spends O(n²) per head
  on 270 heads: see the README for the largest n each path completes in 10 minutes).

Targets (issue): overhead ratio ≤ 1.5 for streaming without G, ≤ 2.0 with G.  Each entry
records its peak resident memory (``peak_rss_mb``, the high-water mark reset before it).
The small scale of the smoke test uses a tiny random Llama and generated text.
"""
import os

import pytest

pytest.importorskip("torch")  # the harness extra

from conftest import SMALL  # noqa: E402

from attention_transport.harness.features import FeatureSettings  # noqa: E402
from attention_transport.harness.paths import PATHS  # noqa: E402
from attention_transport.harness.profile import available_bytes, peak_rss_mb, profile_inputs, reset_peak_rss  # noqa: E402

NS = (48, 96) if SMALL else tuple(int(x) for x in os.environ.get("AT_BENCH_LONG_N", "512,2048,8192").split(","))
FULL_MAP_MAX_N = 96 if SMALL else int(os.environ.get("AT_BENCH_FULL_MAP_MAX_N", "2048"))
#: entry → (attention path, features left out); None: the model's own forward pass, the baseline
ENTRIES = {"forward": None, "streaming": ("streaming", {"G", "phi_bip"}), "streaming+G": ("streaming", {"phi_bip"}),
           "streaming+G+bip": ("streaming", set()), "per-layer": ("per-layer", set()), "eager": ("eager", set())}
CASES = [(n, e) for n in NS for e, spec in ENTRIES.items() if spec is None or spec[0] == "streaming"
         or n <= FULL_MAP_MAX_N]
_STATE = {}


def _setup():
    if "loaded" in _STATE:
        return _STATE
    if SMALL:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from tiny_models import tiny_llama

        loaded = tiny_llama()
        documents = ["#Document#: " + "the cat sat on the mat and the dog did not. " * 4] * 4
    else:
        from attention_transport.harness.fetch import fetch
        from attention_transport.harness.models import load_model
        from attention_transport.harness.profile import summarization_documents

        fetch("halueval")
        fetch("smollm2-135m")
        loaded = load_model("smollm2-135m")
        documents = summarization_documents(limit=200)
    _STATE.update(loaded=loaded, documents=documents)
    return _STATE


def _fits(path, n):
    cfg = _STATE["loaded"].model.config
    have = available_bytes()
    return have is None or PATHS[path].peak_bytes(cfg.num_hidden_layers, cfg.num_attention_heads, n) <= have


@pytest.mark.parametrize("n,entry", CASES)
def test_long_context(benchmark, n, entry):
    import torch

    from attention_transport.harness.models import features_from_inputs

    st = _setup()
    loaded = st["loaded"]
    spec = ENTRIES[entry]
    if spec is not None and spec[0] != "streaming":
        assert _fits(spec[0], n), f"{spec[0]} at n = {n} does not fit in memory; lower AT_BENCH_FULL_MAP_MAX_N"
    inputs, prompt_len = profile_inputs(loaded, n, st["documents"])
    benchmark.group = f"long-context-n{n}"
    benchmark.extra_info["role"] = "baseline" if spec is None else "candidate"
    if spec is None:
        def run():
            previous = loaded.model.config._attn_implementation
            loaded.model.set_attn_implementation("sdpa")
            try:
                with torch.no_grad():
                    loaded.model(**inputs)
            finally:
                loaded.model.set_attn_implementation(previous)
    else:
        path, exclude = spec

        def run():
            return features_from_inputs(loaded, inputs, prompt_len, attention=path,
                                        settings=FeatureSettings(exclude=exclude))
    run()  # warm-up at this n
    reset_peak_rss()
    result = benchmark.pedantic(run, rounds=1 if n >= 4096 else 3, iterations=1)
    benchmark.extra_info["peak_rss_mb"] = peak_rss_mb()
    if spec is not None:
        assert result["phi"].shape == (loaded.model.config.num_hidden_layers, loaded.model.config.num_attention_heads)
