"""Models for teacher-forced scoring: the registry, loading, and the attention maps of one forced pass.

Named models (:data:`MODELS`, one registered :class:`ModelSpec` each; ``attention-transport
fetch NAME`` brings the files, :mod:`.fetch`):

====================  =======  ==========================================================
name                  kind     what
====================  =======  ==========================================================
smollm2-135m          decoder  SmolLM2-135M-Instruct, GGUF Q4_1 (Llama architecture)
gemma3-270m           decoder  Gemma-3-270M base, GGUF Q4_K_M (5 sliding-window layers per
                               global one)
qwen2.5-coder-0.5b    decoder  Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M
qwen2.5-coder-1.5b    decoder  Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M
minilm-l6             encoder  all-MiniLM-L6-v2 (BERT), safetensors
mpnet-base            encoder  all-mpnet-base-v2 (MPNet), safetensors
====================  =======  ==========================================================

Besides these, any local Hugging Face directory (decoder, encoder, or encoder–decoder such as
T5: :mod:`.encdec`) or ``.gguf`` file.

Every model is loaded with ``attn_implementation="eager"`` (SDPA and FlashAttention
return no attention weights) in float32, on the CPU, as its *base* model: no
language-model head, because no feature reads the logits (for Gemma-3-270M, with
262144 tokens of vocabulary, the head is 60% of a forward pass at 160 tokens).

GGUF.  transformers dequantises a GGUF file to float32 when it loads it, and reading
the file's tokenizer and metadata is slow (about two minutes for Gemma-3-270M on two
cores).  The first load therefore saves the dequantised model and the converted
tokenizer as a Hugging Face directory under ``<cache>/converted/<sha256>-<transformers
version>/`` (a marker records the GGUF file's sha256); later loads read that directory
in seconds.  The attention maps of the two loads are identical (tested).

Teacher forcing.  Decoder: the prompt is tokenised with the model's special
tokens, the response without, and the ids are concatenated, so the
prompt/response boundary is exact (no merge across it).  Encoder: the pair
``[CLS] prompt [SEP] response [SEP]`` (MPNet: ``<s> prompt </s></s> response </s>``);
the response starts at the first token of the second sequence.  Encoder–decoder: the
prompt through the encoder, the decoder teacher-forced on ``[start] + response``; the maps
read are each decoder layer's joint transport (:mod:`.encdec`).
"""
from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from attention_transport.errors import AttentionTransportError, TooLong, UnknownName, Unscorable

__all__ = ["LoadedModel", "ForcedPass", "ModelSpec", "register_model", "load_model", "place", "DTYPE_ROW_TOLERANCE",
           "forced_attention",
           "forced_features", "features_from_inputs", "attention_modules", "model_positions", "encode", "MODELS",
           "model_sha256", "model_kind", "map_shape", "features_from_batch"]

KINDS = ("decoder", "encoder", "encoder-decoder")
MODELS = {}


@dataclass(frozen=True)
class ModelSpec:
    """A named model: the fetched component that holds it and how it is read."""

    name: str
    component: str  #: a key of :data:`~.fetch.COMPONENTS`
    file: str | None  #: the GGUF file inside the component; None: the component is a model directory
    kind: str  #: a member of :data:`KINDS`
    summary: str
    parameters: int | None = None  #: millions of parameters (orders the architectural-signature figure F9)


def register_model(spec):
    """Add a :class:`ModelSpec` to :data:`MODELS` (name new, kind known, component registered); return it."""
    from attention_transport.harness.fetch import COMPONENTS

    if not spec.name or spec.name in MODELS or spec.kind not in KINDS or spec.component not in COMPONENTS:
        raise AttentionTransportError(f"a model needs a new name, a kind in {KINDS} and a registered component; "
                                      f"got {spec!r}.")
    MODELS[spec.name] = spec
    return spec


register_model(ModelSpec("smollm2-135m", "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf", "decoder",
                         "SmolLM2-135M-Instruct (Llama), 30 layers × 9 heads, 3 KV heads", 135))
register_model(ModelSpec("gemma3-270m", "gemma3-270m", "gemma-3-270m-q4_k_m.gguf", "decoder",
                         "Gemma-3-270M base, 18 layers × 4 heads, 1 KV head; sliding window 512 in 15 layers", 270))
register_model(ModelSpec("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                         "decoder", "Qwen2.5-Coder-0.5B-Instruct, 24 layers × 14 heads, 2 KV heads", 494))
register_model(ModelSpec("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                         "decoder", "Qwen2.5-Coder-1.5B-Instruct, 28 layers × 12 heads, 2 KV heads", 1544))
register_model(ModelSpec("minilm-l6", "minilm-l6", None, "encoder", "all-MiniLM-L6-v2 (BERT), 6 layers × 12 heads",
                         23))
register_model(ModelSpec("mpnet-base", "mpnet-base", None, "encoder",
                         "all-mpnet-base-v2 (MPNet), 12 layers × 12 heads", 109))


#: model dtypes ``--dtype`` accepts, and the tolerance on ``|Σ_j a_ij − 1|`` each implies for the maps a forward
#: pass returns (eager attention takes the softmax in float32 and rounds the weights to the model's dtype: one
#: rounding of relative size 2^-9 for bfloat16 and 2^-12 for float16 per weight, so a row's sum is off by at most
#: about that, ×4 for the sums' own rounding)
DTYPE_ROW_TOLERANCE = {"float32": 1e-5, "bfloat16": 1e-2, "float16": 2e-3}


@dataclass
class LoadedModel:
    name: str
    kind: str  #: a member of :data:`KINDS`
    model: object
    tokenizer: object
    dtype: str = "float32"  #: a key of :data:`DTYPE_ROW_TOLERANCE`
    device: str = "cpu"

    @property
    def row_tolerance(self):
        """How far a row of this model's attention maps may sum from 1 (checked on every map a path reads)."""
        return DTYPE_ROW_TOLERANCE[self.dtype]


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


def _from_pretrained(path, kind):
    """The base model (eager attention, float32) and tokenizer of a Hugging Face directory."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager", dtype=torch.float32).eval()
    return model, tok


#: the marker of a converted GGUF directory
CONVERTED = "converted.json"


def converted_gguf(gguf, sha256, cache=None):
    """The Hugging Face directory converted once from the GGUF file ``gguf`` (content hash ``sha256``).

    The first call loads the file through transformers (which dequantises it), saves the model
    and tokenizer into a temporary folder inside ``<cache>/converted`` and renames it into place
    with its marker, so an interrupted conversion leaves nothing that a later call would use.
    """
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from attention_transport.harness.fetch import cache_dir, install

    root = cache_dir(cache) / "converted"
    target = root / f"{sha256[:24]}-transformers-{transformers.__version__}"
    if (target / CONVERTED).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    gguf = Path(gguf)
    print(f"converting {gguf.name} once into {target} (later loads read it)", file=sys.stderr)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # only the base model is kept (no feature reads the logits); its weights are dequantised float32
    # tensors now, and the quantizer left on the model only blocks saving them
    model = model.base_model
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with tempfile.TemporaryDirectory(dir=root, prefix=".convert-") as tmp:
        staging = Path(tmp) / "model"
        tok.save_pretrained(staging)
        model.save_pretrained(staging)
        (staging / CONVERTED).write_text(json.dumps({"gguf": gguf.name, "sha256": sha256, "transformers":
                                                     transformers.__version__}, indent=1), encoding="utf-8")
        install(staging, target, CONVERTED)  # a conversion without its marker is replaced; a finished one kept
    return target


_ENCODER_TYPES = {"bert", "roberta", "mpnet", "distilbert", "electra", "xlm-roberta", "deberta", "deberta-v2",
                  "albert", "camembert"}


def model_kind(config):
    """``decoder``, ``encoder`` or ``encoder-decoder`` from a model directory's ``config.json`` (as a dict).

    ``is_encoder_decoder`` (T5, BART) makes an encoder–decoder model (:mod:`.encdec`).  A
    known encoder model type (BERT, RoBERTa, MPNet, …) is an encoder; a causal-LM
    architecture (``…ForCausalLM``, ``…LMHeadModel``) or a model type that transformers
    maps to a causal LM (so a decoder's base model saved on its own) is a decoder; any
    other ``…Model`` or ``…ForMaskedLM`` is an encoder.

    Raises
    ------
    AttentionTransportError
        A config that says none of them.
    """
    archs = [str(a) for a in config.get("architectures") or []]
    mtype = str(config.get("model_type", ""))
    if config.get("is_encoder_decoder"):
        return "encoder-decoder"
    if mtype in _ENCODER_TYPES:
        return "encoder"
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs) or mtype in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "decoder"
    if any(a.endswith(("Model", "ForMaskedLM")) for a in archs):
        return "encoder"
    raise AttentionTransportError(f"cannot tell whether {mtype or 'the model'} (architectures {archs}) is a decoder "
                                  "or an encoder from its config.json.")


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
    from attention_transport.harness.store import content_sha256

    if spec in MODELS:
        return content_sha256(component_path(MODELS[spec].component, cache) / MARKER)
    return content_sha256(_local_model(spec))


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


def load_model(spec, cache=None, *, dtype="float32", device="cpu"):
    """Load a named model (see :data:`MODELS`) or a local directory / ``.gguf`` file, as its base model.

    ``dtype`` (float32, bfloat16, float16) and ``device`` (cpu, cuda, cuda:N, mps) are where the
    weights go; the features are always computed in float64 from the maps, and the maps' row
    sums are checked against the dtype's tolerance (:data:`DTYPE_ROW_TOLERANCE`).

    Raises
    ------
    FileNotFoundError
        Missing local path, or a named model that has not been fetched.
    UnknownName
        An unknown name that is not a path either.
    AttentionTransportError
        A directory that is not a model, or whose config names no known kind.
    """
    from attention_transport.harness.fetch import component_path

    _check_placement(dtype, device)
    if spec in MODELS:
        m = MODELS[spec]
        folder = component_path(m.component, cache)
        if m.file:
            folder = converted_gguf(folder / m.file, model_sha256(spec, cache), cache)
        name, kind = spec, m.kind
    else:
        path = _local_model(spec)
        if path.is_file():
            folder, name, kind = converted_gguf(path, model_sha256(spec, cache), cache), str(path), "decoder"
        else:
            folder, name = path, str(path)
            kind = model_kind(json.loads((path / "config.json").read_text(encoding="utf-8")))
    model, tok = _from_pretrained(str(folder), kind)
    return place(LoadedModel(name, kind, model, tok), dtype=dtype, device=device)


def _check_placement(dtype, device):
    import torch

    if dtype not in DTYPE_ROW_TOLERANCE:
        raise UnknownName(f"dtype must be one of {', '.join(DTYPE_ROW_TOLERANCE)}; got {dtype!r}.")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise AttentionTransportError(f"device must be cpu, cuda, cuda:N or mps; got {device!r}.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AttentionTransportError(f"device {device!r} was asked for, but torch sees no CUDA device here.")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise AttentionTransportError(f"device {device!r} was asked for, but torch sees no MPS device here.")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise AttentionTransportError(f"device must be cpu, cuda, cuda:N or mps; got {device!r}.")


def place(loaded, *, dtype="float32", device="cpu"):
    """Move a loaded model's weights to ``device`` in ``dtype`` (in place); returns it."""
    import torch

    _check_placement(dtype, device)
    loaded.model.to(device=torch.device(device), dtype=getattr(torch, dtype))
    loaded.dtype, loaded.device = dtype, str(device)
    return loaded


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
    attention = _maps(loaded, inputs)[0]
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
    elif loaded.kind == "encoder-decoder":
        # the prompt through the encoder, the decoder teacher-forced on [start] + response (:mod:`.encdec`)
        e_ids = list(tok(prompt, add_special_tokens=True)["input_ids"])
        r_ids = list(tok(response, add_special_tokens=False)["input_ids"])
        start = loaded.model.config.decoder_start_token_id
        if start is None:
            raise AttentionTransportError(f"{loaded.name}: the config has no decoder_start_token_id; the decoder "
                                          "cannot be teacher-forced.")
        d_ids = [int(start)] + r_ids
        if limit is not None and max(len(e_ids), len(d_ids)) > limit:
            raise TooLong(f"input has {len(e_ids)} encoder and {len(d_ids)} decoder tokens, more than the model's "
                          f"{limit} positions.")
        ids, prompt_len = e_ids + d_ids, len(e_ids) + 1
        inputs = {"input_ids": torch.tensor([e_ids]), "decoder_input_ids": torch.tensor([d_ids])}
    else:
        enc = tok(prompt, response, truncation=False)
        if limit is not None and len(enc["input_ids"]) > limit:
            full = len(enc["input_ids"])
            enc = tok(prompt, response, truncation="only_first", max_length=limit)
            truncated = full - len(enc["input_ids"])
        ids = list(enc["input_ids"])
        prompt_len = _second_sequence_start(enc, len(ids))
        inputs = {k: torch.tensor([v]) for k, v in enc.items()}
    device = getattr(loaded, "device", "cpu")
    if device != "cpu":
        inputs = {k: v.to(device) for k, v in inputs.items()}
    if prompt_len >= len(ids):
        raise Unscorable(f"the response tokenises to nothing; got {response!r:.60}")
    if max_tokens is not None and len(ids) > max_tokens:
        raise TooLong(f"input has {len(ids)} tokens, more than max_tokens = {max_tokens}.")
    return ids, prompt_len, inputs, truncated


def _second_sequence_start(enc, n):
    """Index of the first token of the second sequence of an encoded pair: from the fast tokenizer's
    sequence ids (MPNet has no token types), else from ``token_type_ids``; ``n`` if there is none."""
    if hasattr(enc, "sequence_ids"):
        segment = enc.sequence_ids(0)  # None for special tokens, 0 prompt, 1 response
    else:
        segment = list(enc["token_type_ids"])
    return next((k for k, s in enumerate(segment) if s == 1), n)


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


def features_from_batch(loaded, inputs, prompt_lens, *, attention="per-layer", settings=None, bip_grid=None,
                        block_bytes=None, **feature_kw):
    """Features of several encoded examples of equal length in one forward pass (eager and per-layer paths; the
    others run one pass each): one dict per example, as :func:`features_from_inputs` gives it.

    Batching is exact: the inputs are stacked without padding, so every sequence's pass is its own
    (the features equal the one-at-a-time ones up to the rounding of batched matrix products).

    Raises
    ------
    AttentionTransportError
        Inputs of different shapes (they would need padding), or a prompt length per input missing.
    """
    import torch

    from attention_transport.harness.features import _settings
    from attention_transport.harness.paths import attention_path

    shapes = [{k: tuple(v.shape) for k, v in x.items()} for x in inputs]
    if not inputs or any(sh != shapes[0] for sh in shapes) or len(prompt_lens) != len(inputs):
        raise AttentionTransportError(f"a batch needs inputs of one shape and a prompt length each; got shapes "
                                      f"{shapes} and {len(prompt_lens)} prompt lengths.")
    stacked = {k: torch.cat([x[k] for x in inputs]) for k in inputs[0]}
    return attention_path(attention).run_batch(loaded, stacked, list(prompt_lens), _settings(settings, feature_kw),
                                               bip_grid=bip_grid, block_bytes=block_bytes)


def map_shape(loaded):
    """(layers, heads) of the feature arrays the paths return: the decoder's layers for an encoder–decoder
    model (its maps are the ones read, :mod:`.encdec`), else the model's layers."""
    cfg = loaded.model.config
    if loaded.kind == "encoder-decoder":
        layers = getattr(cfg, "num_decoder_layers", None) or getattr(cfg, "decoder_layers", None)
        heads = getattr(cfg, "num_decoder_heads", None) or getattr(cfg, "decoder_attention_heads", None)
        return int(layers or cfg.num_hidden_layers), int(heads or cfg.num_attention_heads)
    return int(getattr(cfg, "num_hidden_layers", 1)), int(getattr(cfg, "num_attention_heads", 1))


def model_positions(loaded):
    """The model's position limit, or None if it has none.

    ``max_position_embeddings``, less the offset of RoBERTa-style position ids (which start
    after the padding index: MPNet's 514 embeddings give 512 positions), and no more than the
    tokenizer's ``model_max_length`` for an encoder.
    """
    cfg = loaded.model.config
    value = getattr(cfg, "max_position_embeddings", None)
    if not value:
        return None
    value = int(value)
    if getattr(cfg, "model_type", "") in ("roberta", "mpnet", "xlm-roberta", "camembert"):
        value -= int(getattr(cfg, "pad_token_id", 0) or 0) + 1
    tok_max = getattr(loaded.tokenizer, "model_max_length", None)
    if loaded.kind == "encoder" and isinstance(tok_max, int) and 0 < tok_max < value:
        value = tok_max
    return value
