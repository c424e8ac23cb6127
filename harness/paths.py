"""Attention paths: how one forward pass is reduced to per-head features, one registered object per path.

Every path gives the same features where they overlap (tested to 1e-5); they
differ in what they hold in memory.

=============  ===================================================================  ======================
path           what it does                                                         peak attention memory
=============  ===================================================================  ======================
``eager``      ``output_attentions=True``: every layer's maps, then the features    all layers' maps
``per-layer``  a forward hook reduces each layer's maps to features and drops them  one layer's maps
``streaming``  no map: attention in row blocks from Q and K, features accumulated   one block of rows
               on the way (:mod:`.streaming`); no feature that needs the full map
               (``lambda2``), ``phi_bip`` on a lattice of cuts beyond ``bip_grid``;
               blocks and accumulators stay on the model's device
=============  ===================================================================  ======================

``auto`` (:func:`choose_path`) picks eager while all layers' float32 maps fit in
:data:`EAGER_MAX_BYTES`, per-layer up to :data:`STREAMING_MIN_N` tokens or when a
feature that needs the full map is wanted, streaming beyond.

Adding a path is one :class:`AttentionPath` subclass decorated with
:func:`register_path`; the command line's ``--attention`` choices, ``auto`` and
the tests are derived from :data:`PATHS`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from attention_transport.errors import AttentionTransportError, UnknownName
from attention_transport.harness.accumulators import EXACT_BIP_BYTES
from attention_transport.harness.features import FEATURES, attention_features, layer_group

__all__ = ["AttentionPath", "PATHS", "AUTO", "ATTENTION_CHOICES", "register_path", "attention_path", "choose_path",
           "EAGER_MAX_BYTES", "STREAMING_MIN_N"]

#: auto leaves the eager path when all layers' maps would exceed this many bytes
EAGER_MAX_BYTES = 1 << 30
#: auto streams inputs longer than this many tokens (unless a feature needs the full map)
STREAMING_MIN_N = 2048
AUTO = "auto"


class AttentionPath(ABC):
    """One way of turning a forward pass into per-head features. Subclass and implement :meth:`peak_bytes` and
    :meth:`run` (abstract: a path without them cannot be registered)."""

    name = ""
    #: forms each head's full map, so it can give the features that need one (``lambda2``)
    full_maps = True

    @abstractmethod
    def peak_bytes(self, layers, heads, n):
        """Bytes of attention the path holds at its peak (float32)."""

    @abstractmethod
    def run(self, loaded, inputs, prompt_len, settings, *, bip_grid=None, block_bytes=None):
        """Features of one forward pass of ``loaded.model`` over encoded ``inputs``: name → (layers, heads[, k])."""

    def run_batch(self, loaded, inputs, prompt_lens, settings, *, bip_grid=None, block_bytes=None):
        """Features of each row of the batched ``inputs`` (equal lengths, no padding: every sequence's pass is
        its own), one dict per sequence with its prompt length from ``prompt_lens``.  Paths that cannot batch
        split the batch and run one pass per sequence."""
        return [self.run(loaded, {k: v[b:b + 1] for k, v in inputs.items()}, p, settings, bip_grid=bip_grid,
                         block_bytes=block_bytes) for b, p in enumerate(prompt_lens)]

    def footprint(self, config, n, batch=1):
        """Bytes one forward pass through this path holds at its peak, all of it: the path's attention
        (:meth:`peak_bytes`), the logits, one layer's activations, and for a path with full maps each
        head's float64 copy with the features' temporaries, plus a margin.  ``config`` is the model's config.

        With ``batch`` sequences in one pass, the attention, logits and activations are held for each
        of them; the features' temporaries once (the sequences' features are computed one after the
        other), and the libraries' margin once."""
        layers = int(getattr(config, "num_hidden_layers", 1))
        heads = int(getattr(config, "num_attention_heads", 1))
        hidden = int(getattr(config, "hidden_size", 768))
        inter = int(getattr(config, "intermediate_size", 4 * hidden))
        vocab = int(getattr(config, "vocab_size", 0))
        logits = 4 * n * vocab
        activations = 4 * n * (8 * hidden + 3 * inter)
        # a path with full maps: the exact φ_bip of a group of layers' heads (:func:`~.features.layer_group`, the
        # heads :func:`~.accumulators.exact_bipartite_minimum` takes at once: a float64 copy, up to twice that in
        # candidate tiles, the full tables of crowded heads) and one head's float64 temporaries (lambda2)
        group = heads * layer_group(layers, heads, n)
        bip = 3 * 8 * group * (n + 1) ** 2 + 5 * max(EXACT_BIP_BYTES, 8 * (n + 1) ** 2)
        head = bip + 4 * 8 * n * n if self.full_maps else 0
        # 10% for the allocator, and 512 MiB of libraries and buffers the first pass brings in.  Measured with
        # SmolLM2-135M, eager, features included: the resident set grew by 0.61, 1.44, 5.02 GB at n = 512, 1024,
        # 2048 against footprints of 0.96, 2.07, 6.22 GB.
        return int(1.1 * (batch * (self.peak_bytes(layers, heads, n) + logits + activations) + head)) + (512 << 20)

    def bip_stride(self, n, bip_grid=None):
        """Lattice stride of the path's ``phi_bip`` at n tokens (1: every cut, exact)."""
        return 1

    def refuse(self, settings):
        """Raise if ``settings`` want a feature this path cannot give."""
        if self.full_maps:
            return
        bad = [f.name for f in FEATURES.values() if f.needs_map and f.wanted(settings)]
        if bad:
            raise AttentionTransportError(f"{', '.join(bad)} needs each head's full map; the {self.name} path never "
                                          "forms one (use per-layer or auto).")

    def __repr__(self):
        return f"<attention path {self.name}>"


#: the registry: name → path, in registration order
PATHS: dict = {}


def register_path(cls):
    """Class decorator: instantiate the path and add it to :data:`PATHS`."""
    inst = cls()
    if not inst.name or inst.name in PATHS or inst.name == AUTO:
        raise AttentionTransportError(f"attention path name must be new, non-empty and not {AUTO!r}; "
                                      f"got {inst.name!r}.")
    PATHS[inst.name] = inst
    return cls


def attention_path(name):
    """The registered path called ``name``.

    >>> attention_path("per-layer").full_maps
    True
    """
    if name not in PATHS:
        raise UnknownName(f"attention must be one of {', '.join(ATTENTION_CHOICES)}; got {name!r}.")
    return PATHS[name]


def _host_map(loaded, weights, layer):
    """One layer's maps (heads, n, n) as float32 on the host, after their row sums passed the model dtype's
    tolerance (:data:`~.models.DTYPE_ROW_TOLERANCE`)."""
    import torch

    tol = getattr(loaded, "row_tolerance", 1e-5)
    off = float((weights.to(torch.float32).sum(-1) - 1).abs().max())
    if not off <= tol:
        dtype = getattr(loaded, "dtype", "float32")
        raise AttentionTransportError(f"layer {layer}: a row of the attention maps sums to 1 only within {off:.3g}, "
                                      f"beyond the {dtype} tolerance {tol:g}; the maps are not row-stochastic.")
    return weights.to(torch.float32).cpu().numpy()


def _maps(loaded, inputs):
    """Every layer's maps of each sequence of ``inputs``, float32 (batch, layers, heads, n, n), converted layer by
    layer while the model's own tensors are released, so the maps are never held twice (and the logits are
    dropped before the copy).  An encoder–decoder model gives each decoder layer's joint transport
    (:func:`~.encdec.joint_transport`)."""
    import torch

    with torch.no_grad():
        out = loaded.model(**inputs, output_attentions=True)
    if loaded.kind == "encoder-decoder":
        from attention_transport.harness.encdec import joint_transport

        selfs, crosses = list(out.decoder_attentions), list(out.cross_attentions)
        del out
        return np.stack([np.stack([joint_transport(_host_map(loaded, c[b], f"{i} (cross-attention)"),
                                                   _host_map(loaded, s[b], f"{i} (decoder self-attention)"))
                                   for i, (s, c) in enumerate(zip(selfs, crosses))])
                         for b in range(selfs[0].shape[0])])
    layers = list(out.attentions)
    del out
    maps = np.empty((layers[0].shape[0], len(layers)) + tuple(layers[0].shape[1:]), dtype=np.float32)
    for i in range(len(layers)):
        for b in range(maps.shape[0]):
            maps[b, i] = _host_map(loaded, layers[i][b], i)
        layers[i] = None
    return maps


@register_path
class Eager(AttentionPath):
    name = "eager"

    def peak_bytes(self, layers, heads, n):
        one_layer = 4 * heads * n * n  # every layer's maps, plus one layer's scores and softmax in flight
        return layers * one_layer + 2 * one_layer

    def run(self, loaded, inputs, prompt_len, settings, *, bip_grid=None, block_bytes=None):
        return attention_features(_maps(loaded, inputs)[0], prompt_len, settings)

    def run_batch(self, loaded, inputs, prompt_lens, settings, *, bip_grid=None, block_bytes=None):
        maps = _maps(loaded, inputs)
        return [attention_features(maps[b], p, settings) for b, p in enumerate(prompt_lens)]


@register_path
class PerLayer(AttentionPath):
    name = "per-layer"

    def peak_bytes(self, layers, heads, n):
        return 2 * 4 * heads * n * n + 2 * 4 * n * n  # one layer's scores and softmax, one float64 head copy

    def run(self, loaded, inputs, prompt_len, settings, *, bip_grid=None, block_bytes=None):
        return self.run_batch(loaded, inputs, [prompt_len], settings)[0]

    def run_batch(self, loaded, inputs, prompt_lens, settings, *, bip_grid=None, block_bytes=None):
        import torch

        from attention_transport.harness.models import attention_modules

        per_layer = [[] for _ in prompt_lens]  # per sequence, per layer: the features

        def reduce_layer(maps, layer):
            for b, p in enumerate(prompt_lens):
                per_layer[b].append(attention_features(maps(b, layer)[None], p, settings))

        if loaded.kind == "encoder-decoder":
            hooks = self._decoder_hooks(loaded, reduce_layer)
        else:
            def reduce(module, args, output):
                reduce_layer(lambda b, layer: _host_map(loaded, output[1][b], layer), len(per_layer[0]))
                return (output[0], None) + tuple(output[2:])

            hooks = [m.register_forward_hook(reduce) for m in attention_modules(loaded)]
        try:
            with torch.no_grad():
                loaded.model(**inputs)
        finally:
            for h in hooks:
                h.remove()
        return [{k: np.concatenate([f[k] for f in layers], axis=0) for k in layers[0]} for layers in per_layer]

    @staticmethod
    def _decoder_hooks(loaded, reduce_layer):
        """Hooks that keep a decoder layer's self-attention maps until its cross-attention arrives, then hand
        the layer's joint transport (:mod:`.encdec`) to ``reduce_layer`` and drop the maps."""
        from attention_transport.harness.encdec import decoder_attention_modules, joint_transport

        pending = {"layer": 0}

        def dropped(output, index):
            out = list(output)
            out[index] = None
            return tuple(out)

        def on_self(module, args, output, index):
            pending["self"] = output[index]
            return dropped(output, index)

        def on_cross(module, args, output, index):
            layer, S, C = pending["layer"], pending.pop("self"), output[index]

            def joint(b, layer):
                return joint_transport(_host_map(loaded, C[b], f"{layer} (cross-attention)"),
                                       _host_map(loaded, S[b], f"{layer} (decoder self-attention)"))

            reduce_layer(joint, layer)
            pending["layer"] += 1
            return dropped(output, index)

        hooks = []
        for (s_mod, si), (c_mod, ci) in decoder_attention_modules(loaded):
            hooks.append(s_mod.register_forward_hook(lambda m, a, o, i=si: on_self(m, a, o, i)))
            hooks.append(c_mod.register_forward_hook(lambda m, a, o, i=ci: on_cross(m, a, o, i)))
        return hooks


@register_path
class Streaming(AttentionPath):
    name, full_maps = "streaming", False

    def peak_bytes(self, layers, heads, n):
        from attention_transport.harness.streaming import BLOCK_BYTES

        return 6 * BLOCK_BYTES  # one block times the few buffers of a pass

    def _config(self, prompt_len, settings, bip_grid=None, block_bytes=None):
        from attention_transport.harness.features import FeatureSettings
        from attention_transport.harness.streaming import StreamConfig

        extra = {k: v for k, v in (("bip_grid", bip_grid), ("block_bytes", block_bytes)) if v}
        return StreamConfig(prompt_len=prompt_len, settings=settings or FeatureSettings(), **extra)

    def run(self, loaded, inputs, prompt_len, settings, *, bip_grid=None, block_bytes=None):
        from attention_transport.harness.streaming import streaming_pass

        self.refuse(settings)
        if getattr(loaded, "kind", None) == "encoder-decoder":
            raise AttentionTransportError(f"{self.name} path: an encoder–decoder model's transport joins each decoder "
                                          "layer's self- and cross-attention maps, which this path never holds "
                                          "together; use --attention eager or per-layer.")
        return streaming_pass(loaded.model, inputs, self._config(prompt_len, settings, bip_grid, block_bytes))

    def bip_stride(self, n, bip_grid=None):
        return self._config(1, None, bip_grid).stride(n)


ATTENTION_CHOICES = (AUTO,) + tuple(PATHS)


def choose_path(name, *, settings, layers, heads, n, kind=None):
    """The path for an input of n tokens: ``name``, or for ``auto`` the cheapest that fits.

    auto: eager while all layers' float32 maps fit in :data:`EAGER_MAX_BYTES`;
    per-layer up to :data:`STREAMING_MIN_N` tokens, or at any n when a wanted
    feature needs the full map or the model (``kind``) is an encoder–decoder one;
    streaming beyond.

    Raises
    ------
    UnknownName
        An unknown path.
    AttentionTransportError
        A path that cannot give a wanted feature (streaming with ``lambda2``).

    Examples
    --------
    >>> from attention_transport.harness.features import FeatureSettings
    >>> choose_path("auto", settings=FeatureSettings(), layers=30, heads=9, n=300).name
    'eager'
    >>> choose_path("auto", settings=FeatureSettings(), layers=30, heads=9, n=4096).name
    'streaming'
    """
    if name != AUTO:
        path = attention_path(name)
        path.refuse(settings)
        return path
    if 4 * layers * heads * n * n <= EAGER_MAX_BYTES:  # all layers' maps
        return PATHS["eager"]
    needs_map = kind == "encoder-decoder" or any(f.needs_map and f.wanted(settings) for f in FEATURES.values())
    return PATHS["per-layer"] if n <= STREAMING_MIN_N or needs_map else PATHS["streaming"]
