"""Streaming transport features: each head's sums accumulated from Q and K, never its n × n map.

The in-degree identity (C1) makes the prefix landscape of a causal head a function of
its row and column sums.  Those, and every other per-head statistic the harness
reports except the Fiedler value, can be accumulated over blocks of query rows:
a block of ``B`` rows of ``A = softmax(QKᵀ·scale + mask)`` is computed from the
queries and keys the model already holds (after rotary embedding, grouped-query
heads expanded), handed to the accumulators of the wanted features
(:mod:`.accumulators`), and dropped.  Memory is one block (``heads × B × n``
floats, about :data:`BLOCK_BYTES`) plus O(n) per head.  Blocks and accumulators
live on the inputs' device (a GPU's): only the finished per-head statistics, at
most ``heads × n`` numbers, are moved to the host.

Which features stream is declared by each feature
(:attr:`~attention_transport.harness.features.Feature.accumulators`); the lists
:data:`STREAMED` and :data:`NOT_STREAMED` are derived from the registry.  A
feature that is not streamed (``lambda2``: it needs an eigenvector of the full
``S``) is ``nan`` here.

Pass 1 also produces the layer's output ``A V`` from the same blocks, so the
model's forward pass runs on these blocks in place of its own attention kernel;
the blocks are exactly eager attention's ``softmax(QKᵀ·scale + mask)`` in float32.
The attention function is registered with transformers only inside
:func:`streaming_attention`, a context manager that removes it on exit.
"""
from __future__ import annotations

import functools
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.harness.features import FEATURES, FeatureSettings, feature_names

__all__ = ["StreamConfig", "Stream", "Block", "STREAMED", "NOT_STREAMED", "layer_features", "streaming_attention",
           "streaming_pass", "ATTN_KEY", "BLOCK_BYTES", "MapBlocks", "map_features"]

#: features the streaming path computes (``phi_bip`` exactly only up to ``bip_grid`` tokens)
STREAMED = feature_names(streams=True)
#: features that need the full map and are ``nan`` on the streaming path
NOT_STREAMED = feature_names(streams=False)
#: bytes of one block of attention rows (all heads of a layer) held at a time
BLOCK_BYTES = 16 << 20
#: the name under which the streaming attention function is registered with transformers (inside
#: :func:`streaming_attention` only)
ATTN_KEY = "attention_transport_streaming"


@dataclass(frozen=True)
class StreamConfig:
    """Settings of one streaming pass."""

    prompt_len: int
    settings: FeatureSettings = field(default_factory=FeatureSettings)  #: which features, and their parameters
    bip_grid: int = 1024  #: phi_bip is exact up to this many tokens, on a stride-⌈n/grid⌉ lattice beyond
    block_bytes: int = BLOCK_BYTES

    def stride(self, n):
        """Lattice stride of the bipartite cuts for n tokens (1: every cut, exact)."""
        return max(1, math.ceil(n / self.bip_grid))


class _Blocks:
    """Row blocks of one head group's attention, recomputed on demand from Q and K."""

    def __init__(self, q, k, scaling, causal, mask, block_bytes):
        import torch

        self.q, self.k, self.scaling, self.causal = q, k, scaling, causal
        self.qs = q * scaling  # (q·s)kᵀ: n × d products instead of B × n per block
        self.H, self.n = q.shape[0], q.shape[1]
        self.mask = mask
        self.rows = max(16, min(self.n, block_bytes // (4 * self.H * self.n)))
        self.torch = torch

    def ranges(self):
        for a in range(0, self.n, self.rows):
            b = min(self.n, a + self.rows)
            yield a, b, (b if self.causal else self.n)

    def logits(self, a, b, cols):
        z = self.torch.matmul(self.qs[:, a:b], self.k[:, :cols].transpose(1, 2))
        self._mask(z, a, b, cols)
        return z

    def attention(self, a, b, cols):
        """``A[:, a:b, :cols]`` as eager attention computes it (float32 softmax of scaled logits), and the
        rows' log-sum-exps ``m − log max_j a_ij`` (the row maximum of A is at least 1/n: no underflow)."""
        torch = self.torch
        z = self.logits(a, b, cols)
        A = torch.softmax(z, dim=-1, dtype=torch.float32)
        return A, z.amax(-1) - torch.log(A.amax(-1))

    def rebuilt(self, a, b, cols, lse):
        """``A[:, a:b, :cols]`` as ``exp(z − lse)`` from the row log-sum-exps of pass 1: one exp."""
        return self.logits(a, b, cols).sub_(lse[:, a:b, None]).exp_()

    def _mask(self, z, a, b, cols):
        torch = self.torch
        if self.mask is not None:
            m = self.mask[a:b, :cols]
            if m.dtype == torch.bool:
                z.masked_fill_(~m, float("-inf"))
            else:
                z.add_(m)
        elif self.causal:
            above = torch.ones(b - a, b - a, dtype=torch.bool, device=z.device).triu_(1)
            z[:, :, a:b].masked_fill_(above, float("-inf"))

    def transposed(self, a, b, lse):
        """``A[:, :, a:b]ᵀ``: entry ``[h, i − a, j] = a_ji`` from the row log-sum-exps of pass 1."""
        torch = self.torch
        zt = torch.matmul(self.k[:, a:b], self.qs.transpose(1, 2))
        if self.mask is not None:
            m = self.mask[:, a:b].T
            if m.dtype == torch.bool:
                zt.masked_fill_(~m, float("-inf"))
            else:
                zt.add_(m)
        return torch.exp(zt - lse[:, None, :])


class Block:
    """One block of attention rows, ``A[:, a:b, :cols]`` (heads first), as the accumulators see it."""

    def __init__(self, A, a, b, cols):
        self.A, self.a, self.b, self.cols = A, a, b, cols

    @cached_property
    def upper(self):
        """Boolean ``j > i`` over the block's rows and columns."""
        import torch

        dev = self.A.device
        return torch.arange(self.cols, device=dev)[None, :] > torch.arange(self.a, self.b, device=dev)[:, None]

    def response(self, p):
        """``(lo, A[:, lo − a:])``: the block's response rows ``i ≥ p`` from row ``lo``, or ``(lo, None)``."""
        lo = max(self.a, p)
        return (lo, self.A[:, lo - self.a:]) if lo < self.b else (lo, None)


class Stream:
    """One layer's streaming pass: its sizes, settings, row blocks and the accumulators of the wanted features.

    ``stream[cls]`` is the accumulator of class ``cls``; features read their values from it.
    """

    def __init__(self, H, n, causal, config, blocks, features):
        self.H, self.n, self.p, self.causal = H, n, config.prompt_len, causal
        self.device = blocks.q.device  #: where the blocks and every accumulator's tensors live
        self.config, self.settings, self.blocks = config, config.settings, blocks
        self.lse = None  # row log-sum-exps of pass 1, (H, n) float32
        self.full_map = None  #: numpy (H, n, n) when the whole map is held (:func:`map_features`): direct cut sums
        self.accumulators = {}
        for f in features:
            for cls in f.accumulators:
                self._add(cls)

    def _add(self, cls):
        if cls in self.accumulators:
            return
        for dep in cls.requires:
            self._add(dep)
        self.accumulators[cls] = cls(self)  # dependencies first: they see each block first

    def __getitem__(self, cls):
        return self.accumulators[cls]

    def direct_cuts(self, h):
        """``direct(ts)`` for :func:`~attention_transport.numerics.landscapes.prefix_landscape_from_sums`: head
        h's prefix cuts summed directly from its map, where the map is held; else None."""
        if self.full_map is None:
            return None
        from attention_transport.numerics.landscapes import _matrix_row_blocks, direct_prefix_cuts

        A = self.full_map[h]
        return lambda ts: direct_prefix_cuts(_matrix_row_blocks(A), self.n, ts, self.causal)


def layer_features(q, k, v, *, scaling, causal, mask, config):
    """Attention output and per-head features of one layer, streamed over row blocks.

    Parameters
    ----------
    q : torch.Tensor, shape (heads, n, d)
        Queries after rotary embedding.
    k, v : torch.Tensor, shape (heads, n, d)
        Keys (after rotary embedding) and values, grouped-query heads already expanded.
    scaling : float
    causal : bool
        Keys ``j > i`` masked; ignored when ``mask`` is given.
    mask : torch.Tensor or None, shape (n, n)
        Boolean (True = attend) or additive float mask shared by the heads.
    config : StreamConfig

    Returns
    -------
    (torch.Tensor, dict)
        The output ``A V`` of shape (heads, n, d), and name → array (heads,) for every
        registered feature (``(heads, width)`` for a vector feature; ``nan`` where not
        streamed or not wanted).
    """
    import torch

    H, n, _ = q.shape
    p = config.prompt_len
    if not 1 <= p <= n:
        raise AttentionTransportError(f"prompt_len must be in [1, n = {n}]; got {p}.")
    if mask is not None:
        above = torch.ones(n, n, dtype=torch.bool, device=mask.device).triu_(1)
        allowed = mask[above] if mask.dtype == torch.bool else mask[above] > torch.finfo(mask.dtype).min / 2
        causal = not bool(allowed.any())
    blocks = _Blocks(q, k, scaling, causal, mask, config.block_bytes)
    wanted = [f for f in FEATURES.values() if f.streams and f.wanted(config.settings)]
    stream = Stream(H, n, causal, config, blocks, wanted)
    stream.lse = torch.empty(H, n, dtype=torch.float32, device=q.device)
    out = torch.empty_like(q)
    # Causal maps run from the last block of rows to the first: once a block is done, every column
    # j ≥ its first row has all its mass (only rows i ≥ j attend to j); the asymmetry accumulator
    # relies on it (see :class:`~attention_transport.harness.accumulators.Asymmetry`).
    for a, b, cols in (reversed(list(blocks.ranges())) if causal else blocks.ranges()):
        A, stream.lse[:, a:b] = blocks.attention(a, b, cols)
        out[:, a:b] = torch.matmul(A, v[:, :cols])
        block = Block(A, a, b, cols)
        for acc in stream.accumulators.values():
            acc.update(block)
        del A, block
    for acc in stream.accumulators.values():
        acc.finish()
    feats = {name: (f.streamed(stream) if f in wanted else f.undefined(config.settings, (H,)))
             for name, f in FEATURES.items()}
    return out, feats


class MapBlocks:
    """A layer's full maps (heads, n, n) in the place of :class:`_Blocks`: one block, the whole map, and its
    transpose read from it (the eager and per-layer paths hold the map; nothing is recomputed)."""

    def __init__(self, A):
        self.q = self.A = A
        self.n = A.shape[-1]

    def ranges(self):
        yield 0, self.n, self.n

    def rebuilt(self, a, b, cols, lse):
        return self.A[:, a:b, :cols]

    def transposed(self, a, b, lse):
        return self.A[:, :, a:b].transpose(1, 2)


def map_features(A, prompt_len, settings):
    """The streamed features of full maps (the heads of one or more layers), every head at once.

    The accumulators of :mod:`.accumulators` take the whole map as one block, vectorised over the
    heads: ``phi_bip`` is exact (every cut, :func:`~.accumulators.exact_bipartite_minimum`), and the
    prefix cuts below the C1 identity's accuracy are summed directly from the map, as
    :func:`~attention_transport.numerics.landscapes.prefix_landscape` does.  Equal to the per-head
    :func:`~attention_transport.harness.features.head_features` to rounding (tested).

    Parameters
    ----------
    A : numpy.ndarray, shape (heads, n, n), float32 or float64, validated (finite, nonnegative)
    prompt_len : int
    settings : FeatureSettings

    Returns
    -------
    dict
        name → array (heads,) or (heads, width), for the wanted streamed features only.
    """
    import torch

    causal = _causal_heads(A)
    # float64, as the per-head route sums: φ and φ_bip then come from sums of one precision (φ_bip ≤ φ holds to
    # rounding), and float32 partial sums would cost up to 1e-7 in the entropies
    T = torch.from_numpy(np.ascontiguousarray(A)).to(torch.float64)
    H, n, _ = T.shape
    wanted = [f for f in FEATURES.values() if f.streams and f.wanted(settings)]
    out = {}
    for kind in (True, False):  # causal heads and the others: some features read which one a head is
        heads = np.flatnonzero(causal == kind)
        if heads.size == 0:
            continue
        sub = T if heads.size == H else T[torch.from_numpy(heads)]
        config = StreamConfig(prompt_len=prompt_len, settings=settings, bip_grid=n)
        stream = Stream(heads.size, n, kind, config, MapBlocks(sub), wanted)
        stream.full_map = A if heads.size == H else A[heads]
        block = Block(sub, 0, n, n)
        for acc in stream.accumulators.values():
            acc.update(block)
        for acc in stream.accumulators.values():
            acc.finish()
        for f in wanted:
            values = f.streamed(stream)
            if heads.size == H:
                out[f.name] = values
            else:
                out.setdefault(f.name, np.full((H,) + values.shape[1:], np.nan))[heads] = values
    return out


#: rows per block of :func:`_causal_heads`
CAUSAL_ROWS = 32


def _causal_heads(A):
    """Which heads of nonnegative maps ``A`` (heads, n, n) have nothing above the diagonal: the largest entry
    right of each block of :data:`CAUSAL_ROWS` rows and the strict upper part of the block's diagonal square,
    read in place (no copy of the strict upper triangle)."""
    import torch

    X = torch.from_numpy(np.ascontiguousarray(A))
    H, n = X.shape[0], X.shape[-1]
    above = torch.zeros(H, dtype=torch.bool)
    for r0 in range(0, n, CAUSAL_ROWS):
        r1 = min(n, r0 + CAUSAL_ROWS)
        if r1 < n:
            above |= X[:, r0:r1, r1:].amax((1, 2)) > 0
        if r1 - r0 > 1:
            above |= torch.triu(X[:, r0:r1, r0:r1], 1).amax((1, 2)) > 0
    return ~above.numpy()


def _streaming_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, *, config, sink,
                         **kwargs):
    """transformers attention function: eager attention computed in row blocks, features handed to ``sink``."""
    import torch

    if query.shape[0] != 1:
        raise AttentionTransportError(f"the streaming path scores one sequence at a time; got batch {query.shape[0]}.")
    if kwargs.get("softcap") is not None:
        raise AttentionTransportError("the streaming path supports plain softmax attention only (no logit "
                                      "softcapping); use --attention per-layer.")
    window = kwargs.get("sliding_window")
    if window is not None and attention_mask is None and query.shape[2] > window:
        # transformers encodes a sliding window in the layer's mask; without one the window would be lost
        raise AttentionTransportError(f"a sliding-window layer (window {window}) came without its mask at "
                                      f"n = {query.shape[2]}; use --attention per-layer.")
    n_rep = query.shape[1] // key.shape[1]
    q = query[0].to(torch.float32)
    k = key[0].to(torch.float32).repeat_interleave(n_rep, dim=0)
    v = value[0].to(torch.float32).repeat_interleave(n_rep, dim=0)
    scaling = scaling if scaling is not None else q.shape[-1] ** -0.5
    mask = None
    if attention_mask is not None:
        mask = attention_mask[0]
        if mask.shape[0] != 1:
            raise AttentionTransportError(f"the streaming path needs one mask shared by the heads; got shape "
                                          f"{tuple(attention_mask.shape)}.")
        mask = mask[0]
    causal = bool(getattr(module, "is_causal", True)) and query.shape[2] > 1
    out, feats = layer_features(q, k, v, scaling=scaling, causal=causal, mask=mask, config=config)
    sink(feats)
    return out.to(query.dtype).transpose(0, 1)[None].contiguous(), None


@contextmanager
def streaming_attention(model, config):
    """Scope in which ``model`` runs its attention through the streaming path.

    Registers the streaming attention function (bound to ``config`` and to a
    fresh list) with transformers, switches the model to it, and yields the list
    that receives each layer's features in layer order.  On exit, normal or not,
    the model's previous attention implementation is restored and the
    registration removed: no module state outlives the scope.
    """
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    layers = []
    previous = model.config._attn_implementation
    # transformers has no public unregister: the class-wide mapping is the registry ``register`` writes to
    AttentionInterface.register(ATTN_KEY, functools.partial(_streaming_attention, config=config, sink=layers.append))
    AttentionMaskInterface.register(ATTN_KEY, sdpa_mask)
    try:
        model.set_attn_implementation(ATTN_KEY)
        yield layers
    finally:
        try:
            model.set_attn_implementation(previous)
        finally:
            AttentionInterface._global_mapping.pop(ATTN_KEY, None)
            AttentionMaskInterface._global_mapping.pop(ATTN_KEY, None)


def streaming_pass(model, inputs, config):
    """Run ``model(**inputs)`` with streaming attention; the per-head features of every layer.

    Returns
    -------
    dict
        name → array (layers, heads) (``(layers, heads, width)`` for a vector feature).
    """
    import torch

    with streaming_attention(model, config) as layers, torch.no_grad():
        model(**inputs)
    if not layers:
        raise AttentionTransportError(f"{type(model).__name__} never called the streaming attention function; "
                                      "use the eager path.")
    return {name: np.stack([f[name] for f in layers]) for name in layers[0]}
