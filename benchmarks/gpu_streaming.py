"""GPU benchmark: the streaming path against the model's own SDPA forward, at the shape of Llama-3-8B.

No weights are downloaded: the model is a randomly initialised ``LlamaModel`` of Llama-3-8B's
shape (hidden 4096, 32 query heads, 8 KV heads of dimension 128, MLP 14336, vocabulary 128256,
RoPE θ = 500000), cut to ``--layers`` layers: the per-layer costs are what is compared, and
every layer costs the same.  The inputs are random token ids, the last quarter of them the
response.

For each n, in this order on one warm model:

* ``sdpa``: the model's own forward pass, ``attn_implementation="sdpa"``, no features (the
  baseline);
* ``streaming``: the streaming path's forward with every streamed feature except G and
  ``phi_bip`` (one pass over the row blocks);
* ``streaming+G+bip``: every streamed feature (G, and ``phi_bip`` exact up to 1024 tokens, on
  the lattice beyond).

Each entry: the median of ``--repeats`` timed runs after one warm-up (CUDA: synchronised),
its ratio to ``sdpa`` at the same n, and the peak memory (CUDA: ``max_memory_allocated`` since
a reset before the entry; CPU: the process's resident high-water mark).  The streaming entries
also check that the features have the model's (layers, heads) shape and that ``phi`` is finite.

Run on a GPU machine from the repository root (the package need not be installed; the script
maps the repository's folders onto ``attention_transport`` itself)::

    python benchmarks/gpu_streaming.py --n 8192 32768 --layers 2 --out gpu_streaming.json

``--shape tiny --device cpu --n 64`` runs the same code in seconds on a CPU (the test suite does).
Exit status 2 with one line on bad input (no CUDA device, an unknown shape, n < 8).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: model shapes (LlamaConfig fields); layers come from ``--layers``
SHAPES = {
    "llama-3-8b": dict(hidden_size=4096, intermediate_size=14336, num_attention_heads=32, num_key_value_heads=8,
                       head_dim=128, vocab_size=128256, rope_theta=500000.0, max_position_embeddings=131072),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                 vocab_size=256, max_position_embeddings=4096),
}
#: entry → features left out (None: the model's own SDPA forward, the baseline)
ENTRIES = {"sdpa": None, "streaming": {"G", "phi_bip"}, "streaming+G+bip": set()}


def _import_package():
    """``attention_transport`` installed, or else mapped from this repository (src/ and the top-level folders)."""
    try:
        import attention_transport.harness  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(ROOT / "src"))
        import attention_transport

        attention_transport.__path__.append(str(ROOT))  # theory/, numerics/, proofs/, harness/ as subpackages


class BenchError(Exception):
    """Bad input: reported in one line, exit status 2."""


def build_model(shape, layers, device, dtype):
    """A randomly initialised base Llama model of ``shape`` with ``layers`` layers, on ``device`` in ``dtype``."""
    import torch
    from transformers import LlamaConfig, LlamaModel

    if shape not in SHAPES:
        raise BenchError(f"shape must be one of {', '.join(SHAPES)}; got {shape!r}.")
    cfg = LlamaConfig(num_hidden_layers=layers, **SHAPES[shape])
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaModel(cfg).to(getattr(torch, dtype)).eval()
    return model


def _timed(fn, device, repeats):
    """Median seconds of ``repeats`` runs after one warm-up, and the last result."""
    import torch

    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    result = fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _reset_peak(device):
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        from attention_transport.harness.profile import reset_peak_rss

        reset_peak_rss()


def _peak_mb(device):
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    from attention_transport.harness.profile import peak_rss_mb

    return peak_rss_mb()


def run(ns, *, shape="llama-3-8b", layers=2, device="cuda", dtype="bfloat16", repeats=3, block_bytes=None):
    """Every entry at every n: a list of dicts (n, entry, seconds, ratio, peak_mb)."""
    import torch

    _import_package()
    from attention_transport.harness.features import FeatureSettings
    from attention_transport.harness.models import LoadedModel, features_from_inputs, place

    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        raise BenchError(f"device {device!r} was asked for, but torch sees no CUDA device here.")
    bad = [n for n in ns if n < 8]
    if bad:
        raise BenchError(f"every n must be at least 8; got {bad[0]}.")
    model = build_model(shape, layers, device, dtype)
    loaded = place(LoadedModel(f"random {shape}", "decoder", model, None), dtype=dtype, device=device)
    heads = model.config.num_attention_heads
    rows = []
    for n in ns:
        ids = torch.randint(0, model.config.vocab_size, (1, n), generator=torch.Generator().manual_seed(n))
        inputs, prompt_len = {"input_ids": ids.to(device)}, n - n // 4
        base = None
        for entry, exclude in ENTRIES.items():
            if exclude is None:
                def fn():
                    model.set_attn_implementation("sdpa")
                    with torch.no_grad():
                        return model(**inputs).last_hidden_state
            else:
                def fn(exclude=exclude):
                    return features_from_inputs(loaded, inputs, prompt_len, attention="streaming",
                                                settings=FeatureSettings(exclude=exclude), block_bytes=block_bytes)
            _reset_peak(device)
            seconds, result = _timed(fn, device, repeats)
            peak = _peak_mb(device)
            if exclude is None:
                base = seconds
            else:
                if result["phi"].shape != (layers, heads) or not (result["phi"] == result["phi"]).all():
                    raise AssertionError(f"{entry} at n = {n}: phi has shape {result['phi'].shape} or is not finite")
            rows.append(dict(n=n, entry=entry, seconds=seconds, ratio=seconds / base, peak_mb=peak))
            print(f"n = {n:6d}  {entry:16s} {seconds:9.3f} s  {seconds / base:6.2f}×  peak {peak:9.0f} MB",
                  flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[8192, 32768])
    ap.add_argument("--shape", default="llama-3-8b", help=f"one of {', '.join(SHAPES)}")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--block-bytes", type=int, default=None, help="bytes of one block of rows (default: the path's)")
    ap.add_argument("--out", type=Path, default=None, help="write the rows and the machine as JSON")
    args = ap.parse_args(argv)
    try:
        rows = run(args.n, shape=args.shape, layers=args.layers, device=args.device, dtype=args.dtype,
                   repeats=args.repeats, block_bytes=args.block_bytes)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        import torch

        gpu = torch.cuda.get_device_name(args.device) if torch.device(args.device).type == "cuda" else None
        args.out.write_text(json.dumps({"shape": args.shape, "layers": args.layers, "dtype": args.dtype,
                                        "device": args.device, "gpu": gpu, "torch": torch.__version__,
                                        "rows": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
