"""Models for teacher-forced scoring: loading and attention maps of one forced pass.

* ``smollm2-135m``: SmolLM2-135M-Instruct (decoder-only, Llama architecture), the GGUF file
  fetched by ``attention-transport fetch smollm2-135m``; transformers dequantises it
  (``from_pretrained(dir, gguf_file=...)``, needs the ``gguf`` package).
* ``minilm-l6``: all-MiniLM-L6-v2 (encoder-only, BERT), fetched as safetensors.
* any local Hugging Face directory or ``.gguf`` file.

Every model is loaded with ``attn_implementation="eager"`` (SDPA and FlashAttention
return no attention weights) in float32, on the CPU unless told otherwise.

Teacher forcing.  Decoder: the prompt is tokenised with the model's special
tokens, the response without, and the ids are concatenated, so the
prompt/response boundary is exact (no merge across it).  Encoder: the pair
``[CLS] prompt [SEP] response [SEP]``; the response starts at the first
token of the second segment.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LoadedModel", "ForcedPass", "load_model", "forced_attention", "forced_features", "features_from_inputs",
           "attention_modules", "model_positions", "MODELS"]

MODELS = {"smollm2-135m": ("smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf", "decoder"),
          "minilm-l6": ("minilm-l6", None, "encoder")}


@dataclass
class LoadedModel:
    name: str
    kind: str  #: "decoder" or "encoder"
    model: object
    tokenizer: object


@dataclass
class ForcedPass:
    """One teacher-forced pass: token ids, prompt length and every layer's attention."""

    ids: list
    prompt_len: int
    attention: np.ndarray  #: (layers, heads, n, n), float32, rows = queries
    truncated: int = 0  #: prompt tokens dropped to fit the model's positions (encoders only)

    @property
    def n(self):
        return len(self.ids)

    @property
    def response_len(self):
        return self.n - self.prompt_len


def _from_pretrained(path, gguf_file, kind):
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

    kwargs = {"attn_implementation": "eager", "dtype": torch.float32}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    tok = AutoTokenizer.from_pretrained(path, **({"gguf_file": gguf_file} if gguf_file else {}))
    cls = AutoModelForCausalLM if kind == "decoder" else AutoModel
    model = cls.from_pretrained(path, **kwargs).eval()
    return model, tok


def load_model(spec, cache=None):
    """Load a named model (see :data:`MODELS`) or a local directory / ``.gguf`` file.

    Raises
    ------
    FileNotFoundError
        Missing local path, or a named model that has not been fetched.
    ValueError
        An unknown name that is not a path either.
    """
    from attention_transport.harness.fetch import component_path

    if spec in MODELS:
        component, gguf, kind = MODELS[spec]
        folder = component_path(component, cache)
        model, tok = _from_pretrained(str(folder), gguf, kind)
        return LoadedModel(spec, kind, model, tok)
    path = Path(spec)
    if not path.exists():
        if "/" in str(spec) or str(spec).endswith(".gguf"):
            raise FileNotFoundError(f"model path not found: {spec}")
        raise ValueError(f"unknown model {spec!r}; known models: {', '.join(MODELS)}, or a local directory or "
                         ".gguf file.")
    if path.is_file():
        if path.suffix != ".gguf":
            raise ValueError(f"a model file must be .gguf; got {path.name!r}.")
        model, tok = _from_pretrained(str(path.parent), path.name, "decoder")
        return LoadedModel(str(path), "decoder", model, tok)
    config = (path / "config.json").read_text(encoding="utf-8") if (path / "config.json").is_file() else ""
    kind = "encoder" if '"BertModel"' in config or '"model_type": "bert"' in config else "decoder"
    model, tok = _from_pretrained(str(path), None, kind)
    return LoadedModel(str(path), kind, model, tok)


def forced_attention(loaded, prompt, response, *, max_tokens=None):
    """Attention maps of one teacher-forced pass over ``prompt + response``.

    Parameters
    ----------
    loaded : LoadedModel
    prompt, response : str
    max_tokens : int, optional
        Refuse longer inputs (memory grows as layers × heads × n²).

    Returns
    -------
    ForcedPass

    Raises
    ------
    ValueError
        Empty response after tokenisation, more than ``max_tokens`` tokens, or a
        decoder input longer than the model's positions.

    Notes
    -----
    An encoder has a hard position limit (512 for MiniLM): a longer pair is cut
    from the end of the *prompt* (``truncation="only_first"``), never the
    response, and ``ForcedPass.truncated`` counts the dropped tokens.
    """
    import torch

    ids, prompt_len, inputs, truncated = _encode(loaded, prompt, response, max_tokens)
    with torch.no_grad():
        out = loaded.model(**inputs, output_attentions=True)
    attention = torch.stack([a[0] for a in out.attentions]).to(torch.float32).numpy()
    return ForcedPass(ids=ids, prompt_len=prompt_len, attention=attention, truncated=truncated)


def _encode(loaded, prompt, response, max_tokens):
    """Token ids, prompt length, model inputs and dropped prompt tokens of one forced example."""
    import torch

    tok = loaded.tokenizer
    limit = model_positions(loaded)
    truncated = 0
    if loaded.kind == "decoder":
        p_ids = tok(prompt, add_special_tokens=True)["input_ids"]
        r_ids = tok(response, add_special_tokens=False)["input_ids"]
        ids = list(p_ids) + list(r_ids)
        prompt_len = len(p_ids)
        if limit is not None and len(ids) > limit:
            raise ValueError(f"input has {len(ids)} tokens, more than the model's {limit} positions.")
        inputs = {"input_ids": torch.tensor([ids])}
    else:
        enc = tok(prompt, response, truncation=False)
        if limit is not None and len(enc["input_ids"]) > limit:
            full = len(enc["input_ids"])
            enc = tok(prompt, response, truncation="only_first", max_length=limit)
            truncated = full - len(enc["input_ids"])
        ids = list(enc["input_ids"])
        segment = list(enc["token_type_ids"])
        prompt_len = segment.index(1) if 1 in segment else len(ids)
        inputs = {k: torch.tensor([v]) for k, v in enc.items()}
    if prompt_len >= len(ids):
        raise ValueError(f"the response tokenises to nothing; got {response!r:.60}")
    if max_tokens is not None and len(ids) > max_tokens:
        raise ValueError(f"input has {len(ids)} tokens, more than max_tokens = {max_tokens}.")
    return ids, prompt_len, inputs, truncated


def attention_modules(loaded):
    """The self-attention modules of the model, in layer order (those whose output 1 is the attention map)."""
    recorded = getattr(loaded.model, "_can_record_outputs", None) or {}
    for sub in loaded.model.modules():  # the base model carries the table when the head model does not
        recorded = recorded or getattr(sub, "_can_record_outputs", None) or {}
    cls = recorded.get("attentions")
    mods = [m for m in loaded.model.modules() if cls is not None and isinstance(m, cls)]
    if not mods:
        raise ValueError(f"cannot find the attention modules of {type(loaded.model).__name__}; use the eager path.")
    return mods


def forced_features(loaded, prompt, response, *, method="per-layer", max_tokens=None, **feature_kw):
    """Per-head features of one forced pass, by one of three paths that give the same features.

    * ``"eager"`` computes the maps of every layer first (:func:`forced_attention`):
      peak memory all layers' ``heads × n²`` floats.
    * ``"per-layer"`` registers a forward hook on each attention module: the
      layer's maps (output 1 of eager attention) are reduced to their features
      as soon as the layer has run and then dropped, so the peak holds one
      layer's maps.  Exactly the eager features.
    * ``"streaming"`` never forms a map: each layer's attention runs in blocks
      of query rows from Q and K and the features are accumulated on the way
      (:mod:`attention_transport.harness.streaming`); O(n) memory per head
      beyond one block.  ``lambda2`` needs the full map and is refused
      (``spectral=True``); ``phi_bip`` is exact up to ``bip_grid`` tokens and on
      a lattice of cuts beyond; ``asymmetry=False`` and ``bipartite=False`` leave
      out G and phi_bip (``nan``).

    Returns
    -------
    (ForcedPass, dict) : the pass (``attention`` only for eager, else None), and
        the features (name → array (layers, heads[, k])).
    """
    if method not in ("eager", "per-layer", "streaming"):
        raise ValueError(f"method must be 'eager', 'per-layer' or 'streaming'; got {method!r}.")
    if method == "eager":
        from attention_transport.harness.features import attention_features

        fp = forced_attention(loaded, prompt, response, max_tokens=max_tokens)
        feature_kw = {k: v for k, v in feature_kw.items() if k in ("spectral", "lapeig_k")}
        return fp, attention_features(fp.attention, fp.prompt_len, **feature_kw)
    ids, prompt_len, inputs, truncated = _encode(loaded, prompt, response, max_tokens)
    fp = ForcedPass(ids=ids, prompt_len=prompt_len, attention=None, truncated=truncated)
    return fp, features_from_inputs(loaded, inputs, prompt_len, method=method, **feature_kw)


def features_from_inputs(loaded, inputs, prompt_len, *, method="per-layer", spectral=True, lapeig_k=10,
                         asymmetry=True, bipartite=True, bip_grid=None, block_bytes=None):
    """Features of one forward pass over already encoded ``inputs`` (see :func:`forced_features`).

    ``asymmetry`` (G), ``bipartite`` (phi_bip), ``bip_grid`` and ``block_bytes`` concern the streaming
    path only: the others always compute every feature.
    """
    import torch

    from attention_transport.harness.features import attention_features

    if method == "eager":
        with torch.no_grad():
            out = loaded.model(**inputs, output_attentions=True)
        attention = torch.stack([a[0] for a in out.attentions]).to(torch.float32).numpy()
        del out
        return attention_features(attention, prompt_len, spectral=spectral, lapeig_k=lapeig_k)
    if method == "streaming":
        from attention_transport.harness.streaming import StreamConfig, streaming_pass

        if spectral:
            raise ValueError("lambda2 needs each head's full map; the streaming path cannot give it (use "
                             "spectral=False, or the per-layer path).")
        config = StreamConfig(prompt_len=prompt_len, lapeig_k=lapeig_k, asymmetry=asymmetry, bipartite=bipartite,
                              **{k: v for k, v in (("bip_grid", bip_grid), ("block_bytes", block_bytes)) if v})
        return streaming_pass(loaded.model, inputs, config)
    if method != "per-layer":
        raise ValueError(f"method must be 'eager', 'per-layer' or 'streaming'; got {method!r}.")
    per_layer = []

    def reduce(module, args, output):
        maps = output[1][0].to(torch.float32).numpy()[None]
        per_layer.append(attention_features(maps, prompt_len, spectral=spectral, lapeig_k=lapeig_k))
        return (output[0], None) + tuple(output[2:])

    hooks = [m.register_forward_hook(reduce) for m in attention_modules(loaded)]
    try:
        with torch.no_grad():
            loaded.model(**inputs)
    finally:
        for h in hooks:
            h.remove()
    return {k: np.concatenate([f[k] for f in per_layer], axis=0) for k in per_layer[0]}


def model_positions(loaded):
    """The model's position limit (``max_position_embeddings``), or None if it has none."""
    value = getattr(loaded.model.config, "max_position_embeddings", None)
    return int(value) if value else None
