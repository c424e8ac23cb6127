"""``attention-transport profile``: the cost of the transport features on one long forced pass.

One input of exactly ``n`` tokens is cut from HaluEval summarization documents with
their faithful summaries, concatenated in file order (``#Document#: … #Summary#: …``
records separated by blank lines) until there are enough tokens.  The first
``n − n // 4`` tokens are the prompt and the last quarter the response, so the
response-row features (prompt mass, attention score, KL, response landscape)
are computed on a quarter of the rows: more than a real summarisation example has.

Two timings in one process, after a short warm-up pass:

* ``forward_s``: the model's own forward pass with its fused attention kernel
  (``sdpa``), no features: the baseline;
* ``total_s``: the forward pass of the chosen path and all its features.

``overhead_ratio = total_s / forward_s``.  ``peak_rss_mb`` is the peak resident
memory of the process while the path ran, ``forward_peak_rss_mb`` while the
baseline ran (both include the loaded model): the kernel's high-water mark is
reset before each (``/proc/self/clear_refs``) and read after (``VmHWM``).  Where
it cannot be reset, both are the process's peak so far (``getrusage``).

Before a path runs, its attention memory
(:meth:`~attention_transport.harness.paths.AttentionPath.peak_bytes`) is sized
against the memory available; when it does not fit,
:class:`~attention_transport.errors.WontFit` says how many bytes it needs,
instead of the machine swapping or the process being killed.
"""
from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from attention_transport.errors import AttentionTransportError, WontFit
from attention_transport.memory import available_bytes, gib

__all__ = ["ProfileResult", "WontFit", "profile", "profile_inputs", "available_bytes", "summarization_documents",
           "reset_peak_rss", "peak_rss_mb"]


@dataclass
class ProfileResult:
    n: int
    attention: str
    forward_s: float
    total_s: float
    overhead_ratio: float
    peak_rss_mb: float
    features: list
    model: str = ""
    prompt_len: int = 0
    forward_peak_rss_mb: float = 0.0
    excluded: list = field(default_factory=list)
    bip_stride: int = 1
    threads: int = 1
    baseline: str = "sdpa forward pass, no features"
    feature_means: dict = field(default_factory=dict)

    def to_json(self):
        return asdict(self)


def reset_peak_rss():
    """Reset the kernel's resident high-water mark of this process; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """Peak resident memory (MB) since the last :func:`reset_peak_rss` (``VmHWM``), else since start."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def profile_inputs(loaded, n, documents):
    """Model inputs of exactly n tokens cut from ``documents`` (strings), and the prompt length.

    Raises
    ------
    AttentionTransportError
        n < 2, more than the model's positions, or too little text.
    """
    import torch

    from attention_transport.harness.models import model_positions

    limit = model_positions(loaded)
    if loaded.kind == "encoder-decoder":
        raise AttentionTransportError("profile measures decoder and encoder models; an encoder–decoder model splits "
                                      "its tokens between two stacks (score it with validate).")
    if n < 2:
        raise AttentionTransportError(f"n must be >= 2; got {n}.")
    if limit is not None and n > limit:
        raise AttentionTransportError(f"n = {n} is more than the model's {limit} positions.")
    tok = loaded.tokenizer
    ids = list(tok(documents[0], add_special_tokens=True)["input_ids"]) if documents else []
    for doc in documents[1:]:
        if len(ids) >= n:
            break
        ids += list(tok("\n\n" + doc, add_special_tokens=False)["input_ids"])
    if len(ids) < n:
        raise AttentionTransportError(f"the documents give {len(ids)} tokens; n = {n} needs more text.")
    ids = ids[:n]
    prompt_len = n - n // 4
    inputs = {"input_ids": torch.tensor([ids])}
    if loaded.kind == "encoder":
        if "token_type_ids" in getattr(tok, "model_input_names", ()):
            inputs["token_type_ids"] = torch.tensor([[0] * prompt_len + [1] * (n - prompt_len)])
        inputs["attention_mask"] = torch.ones(1, n, dtype=torch.long)
    return inputs, prompt_len


def summarization_documents(cache=None, limit=64):
    """Faithful HaluEval summarization examples as text, in file order."""
    from attention_transport.harness.data import load_halueval
    from attention_transport.harness.fetch import component_path

    path = component_path("halueval", cache) / "dataset_halueval_summarization.jsonl"
    examples, _ = load_halueval(path, "summarization", limit=limit)
    return [ex.prompt + ex.response for ex in examples if ex.label == 0]


def _forward_seconds(loaded, inputs):
    import torch

    model = loaded.model
    previous = model.config._attn_implementation
    model.set_attn_implementation("sdpa")
    try:
        with torch.no_grad():
            t0 = time.perf_counter()
            model(**inputs)
            return time.perf_counter() - t0
    finally:
        model.set_attn_implementation(previous)


def profile(loaded, n, attention, *, documents, settings=None, bip_grid=None, check_memory=True):
    """Time one forced pass of n tokens with and without the features of an attention path.

    Parameters
    ----------
    loaded : LoadedModel
    n : int
    attention : str
        A registered attention path (``eager``, ``per-layer``, ``streaming``).
    documents : list of str
        Text to cut the input from (:func:`summarization_documents`).
    settings : FeatureSettings, optional
        Which features (default: every feature but the on-request ones).
    bip_grid : int, optional
        Streaming only: phi_bip exact up to this many tokens (default
        :attr:`~attention_transport.harness.streaming.StreamConfig.bip_grid`).
    check_memory : bool
        Refuse (:class:`WontFit`) a path whose attention memory exceeds the available memory.

    Returns
    -------
    ProfileResult
    """
    import torch

    from attention_transport.harness.features import FeatureSettings
    from attention_transport.harness.models import features_from_inputs
    from attention_transport.harness.paths import attention_path

    path = attention_path(attention)
    settings = settings or FeatureSettings()
    path.refuse(settings)
    cfg = loaded.model.config
    layers, heads = int(cfg.num_hidden_layers), int(cfg.num_attention_heads)
    inputs, prompt_len = profile_inputs(loaded, n, documents)
    need, have = path.footprint(cfg, n), available_bytes()
    if check_memory and have is not None and need > have:
        raise WontFit(f"{path.name} needs about {gib(need)} at n = {n} ({gib(path.peak_bytes(layers, heads, n))} "
                      f"of attention for {layers} layers × {heads} heads, plus logits, activations and each "
                      f"head's float64 copy); {gib(have)} available.")
    warm, _ = profile_inputs(loaded, min(n, 256), documents)
    _forward_seconds(loaded, warm)
    reset_peak_rss()
    forward_s = _forward_seconds(loaded, inputs)
    forward_peak = peak_rss_mb()
    reset_peak_rss()
    t0 = time.perf_counter()
    feats = features_from_inputs(loaded, inputs, prompt_len, attention=path.name, settings=settings,
                                 bip_grid=bip_grid)
    total_s = time.perf_counter() - t0
    produced = sorted(k for k, v in feats.items() if np.isfinite(v).any())
    stride = path.bip_stride(n, bip_grid) if "phi_bip" in produced else 1
    means = {k: float(np.nanmean(v)) for k, v in feats.items() if k in produced and np.ndim(v) == 2}
    return ProfileResult(n=n, attention=path.name, forward_s=forward_s, total_s=total_s,
                         overhead_ratio=total_s / forward_s, peak_rss_mb=peak_rss_mb(), features=produced,
                         model=loaded.name, prompt_len=prompt_len, forward_peak_rss_mb=forward_peak,
                         excluded=sorted(settings.exclude), bip_stride=stride, threads=torch.get_num_threads(),
                         feature_means=means)
