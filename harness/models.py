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

from attention_transport.errors import AttentionTransportError, TooLong, UnknownName, Unscorable

__all__ = ["LoadedModel", "ForcedPass", "load_model", "forced_attention", "forced_features", "features_from_inputs",
           "attention_modules", "model_positions", "encode", "MODELS", "model_sha256"]

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
    attention: object  #: numpy.ndarray (layers, heads, n, n), float32, rows = queries
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


#: a local model directory needs this file, weights and tokenizer files (the message lists what is expected)
_MODEL_FILES = ("config.json", "model.safetensors or pytorch_model.bin (or sharded)", "tokenizer.json or vocab files")


def _model_directory(path):
    """``path`` if it looks like a Hugging Face model directory, else one line saying what it lacks."""
    if not (path / "config.json").is_file():
        present = sorted(p.name for p in path.iterdir())[:6]
        raise AttentionTransportError(f"{path} is not a model directory: it has no config.json (a model directory "
                                      f"holds {', '.join(_MODEL_FILES)}); it holds "
                                      f"{', '.join(present) or 'nothing'}{' …' if len(present) == 6 else ''}.")
    return path


def model_sha256(spec, cache=None):
    """A content hash of the model behind ``spec``, checked before any weight is loaded.

    Named models: the sha256 of the fetched marker, which records the verified
    hash of the package the files came from.  A ``.gguf`` file: its sha256.  A
    directory: the sha256 of every file's name and sha256, in name order.

    Raises
    ------
    UnknownName, FileNotFoundError, AttentionTransportError
        As :func:`load_model` would, without loading anything.
    """
    from attention_transport.harness.fetch import MARKER, component_path
    from attention_transport.harness.store import file_sha256

    if spec in MODELS:
        return file_sha256(component_path(MODELS[spec][0], cache) / MARKER)
    path = _local_model(spec)
    if path.is_file():
        return file_sha256(path)
    import hashlib

    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{f.relative_to(path)}\0{file_sha256(f)}\n".encode())
    return digest.hexdigest()


def _local_model(spec):
    path = Path(spec)
    if not path.exists():
        if "/" in str(spec) or str(spec).endswith(".gguf"):
            raise FileNotFoundError(f"model path not found: {spec}")
        raise UnknownName(f"unknown model {spec!r}; known models: {', '.join(MODELS)}, or a local directory or "
                          ".gguf file.")
    if path.is_file():
        if path.suffix != ".gguf":
            raise AttentionTransportError(f"a model file must be .gguf; got {path.name!r}.")
        return path
    return _model_directory(path)


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
    path = _local_model(spec)
    if path.is_file():
        model, tok = _from_pretrained(str(path.parent), path.name, "decoder")
        return LoadedModel(str(path), "decoder", model, tok)
    config = (path / "config.json").read_text(encoding="utf-8")
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
    Unscorable
        Empty response after tokenisation.
    TooLong
        More than ``max_tokens`` tokens, or a decoder input longer than the model's positions.

    Notes
    -----
    An encoder has a hard position limit (512 for MiniLM): a longer pair is cut
    from the end of the *prompt* (``truncation="only_first"``), never the
    response, and ``ForcedPass.truncated`` counts the dropped tokens.
    """
    from attention_transport.harness.paths import _maps

    ids, prompt_len, inputs, truncated = encode(loaded, prompt, response, max_tokens)
    attention = _maps(loaded, inputs)
    return ForcedPass(ids=ids, prompt_len=prompt_len, attention=attention, truncated=truncated)


def encode(loaded, prompt, response, max_tokens):
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
            raise TooLong(f"input has {len(ids)} tokens, more than the model's {limit} positions.")
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
        raise Unscorable(f"the response tokenises to nothing; got {response!r:.60}")
    if max_tokens is not None and len(ids) > max_tokens:
        raise TooLong(f"input has {len(ids)} tokens, more than max_tokens = {max_tokens}.")
    return ids, prompt_len, inputs, truncated


def attention_modules(loaded):
    """The self-attention modules of the model, in layer order (those whose output 1 is the attention map)."""
    recorded = getattr(loaded.model, "_can_record_outputs", None) or {}
    for sub in loaded.model.modules():  # the base model carries the table when the head model does not
        recorded = recorded or getattr(sub, "_can_record_outputs", None) or {}
    cls = recorded.get("attentions")
    mods = [m for m in loaded.model.modules() if cls is not None and isinstance(m, cls)]
    if not mods:
        raise AttentionTransportError(f"cannot find the attention modules of {type(loaded.model).__name__}; use the "
                                      "eager path.")
    return mods


def forced_features(loaded, prompt, response, *, attention="per-layer", max_tokens=None, settings=None,
                    bip_grid=None, block_bytes=None, **feature_kw):
    """Per-head features of one forced pass, by one of the registered attention paths (:mod:`.paths`).

    Parameters
    ----------
    loaded : LoadedModel
    prompt, response : str
    attention : str
        A registered path (``eager``, ``per-layer``, ``streaming``); every path
        gives the same features where they overlap.
    max_tokens : int, optional
    settings : FeatureSettings, optional
        Or its fields as keywords (``lambda2=``, ``lapeig_k=``, ``exclude=``).
    bip_grid, block_bytes : int, optional
        Streaming path: ``phi_bip`` exact up to ``bip_grid`` tokens, on a lattice of cuts beyond;
        bytes of one block of rows.

    Returns
    -------
    (ForcedPass, dict) : the pass (``attention`` None: no path keeps the maps), and the
        features (name → array (layers, heads[, k])).

    Raises
    ------
    UnknownName
        An unknown path.
    TooLong, Unscorable
        See :func:`forced_attention`.
    """
    from attention_transport.harness.paths import attention_path

    path = attention_path(attention)
    ids, prompt_len, inputs, truncated = encode(loaded, prompt, response, max_tokens)
    fp = ForcedPass(ids=ids, prompt_len=prompt_len, attention=None, truncated=truncated)
    return fp, features_from_inputs(loaded, inputs, prompt_len, attention=path.name, settings=settings,
                                    bip_grid=bip_grid, block_bytes=block_bytes, **feature_kw)


def features_from_inputs(loaded, inputs, prompt_len, *, attention="per-layer", settings=None, bip_grid=None,
                         block_bytes=None, **feature_kw):
    """Features of one forward pass over already encoded ``inputs`` (see :func:`forced_features`)."""
    from attention_transport.harness.features import _settings
    from attention_transport.harness.paths import attention_path

    path = attention_path(attention)
    return path.run(loaded, inputs, prompt_len, _settings(settings, feature_kw), bip_grid=bip_grid,
                    block_bytes=block_bytes)


def model_positions(loaded):
    """The model's position limit (``max_position_embeddings``), or None if it has none."""
    value = getattr(loaded.model.config, "max_position_embeddings", None)
    return int(value) if value else None
