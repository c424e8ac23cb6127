"""Encoder–decoder models: the transport graph of a teacher-forced decoder layer.

Forced scoring.  The prompt goes through the encoder (with the tokenizer's special tokens); the
decoder is teacher-forced on ``[decoder start] + response`` (the response without special
tokens), so every response token is a query position, as in a decoder-only model.  The
positions of the joint sequence are the ``m`` encoder tokens followed by the decoder's:
``n = m + 1 + |response|``, and the prompt length is ``p = m + 1`` (the decoder's start token
sits on the prompt side, like a decoder's BOS).

Which maps are read.  Decoder layer ℓ, head h, holds two row-stochastic maps over its queries:
its causal self-attention ``S`` (decoder × decoder) and its cross-attention ``C`` (decoder ×
encoder), two softmaxes applied one after the other, each adding its own update to the residual
stream.  The encoder's self-attention is *not* read: it sees only the prompt, so its maps are the
same for a faithful and a hallucinated response to one prompt and cannot tell them apart.

The transport graph.  Per decoder layer and head, the n × n row-stochastic matrix

.. code-block:: text

    J = [ I_m        0     ]      rows: encoder tokens (the memory)
        [ s·C    (1 − s)·S ]      rows: decoder tokens

* the encoder rows are the identity: within a decoder layer the encoder's states are a fixed
  memory that nothing moves (they were final before the first decoder layer ran);
* a decoder row splits its unit mass between the memory (through ``C``) and the earlier
  decoder tokens (through ``S``) with the share ``s =`` :data:`CROSS_SHARE` ``= 1/2``: the two
  sublayers are applied in sequence, each once, and the maps give no other weight.  This is a
  convention, stated as one: the features depend on it (a response row's mass on the prompt
  side is ``s`` plus what ``S`` gives the start token), so values from encoder–decoder models
  are comparable with each other, and their AUROCs with any model's, but their raw values are
  not on the same scale as a decoder-only model's.

``J`` is lower triangular (``S`` is causal, ``C`` lies below the diagonal block of the memory),
so every causal-map feature and certificate applies as it does to a decoder-only model's map,
with the memory in the place of the prompt.  The eager and per-layer paths read it; the
streaming path, which intercepts one softmax at a time, does not.
"""
from __future__ import annotations

import numpy as np

from attention_transport.errors import AttentionTransportError

__all__ = ["CROSS_SHARE", "joint_transport", "decoder_attention_modules"]

#: the share of a decoder row's mass that goes to the encoder memory through cross-attention
CROSS_SHARE = 0.5


def joint_transport(cross, self_attention, share=CROSS_SHARE):
    """The joint transport ``J`` of one decoder layer (see the module's docstring).

    Parameters
    ----------
    cross : numpy.ndarray, shape (heads, d, m)
        Cross-attention: decoder queries over the m encoder tokens, rows summing to 1.
    self_attention : numpy.ndarray, shape (heads, d, d)
        The decoder's causal self-attention, rows summing to 1.
    share : float
        The cross-attention share ``s`` of each decoder row, in [0, 1].

    Returns
    -------
    numpy.ndarray, shape (heads, m + d, m + d), float32

    Examples
    --------
    >>> J = joint_transport(np.full((1, 2, 2), 0.5), np.array([[[1.0, 0.0], [0.25, 0.75]]]))
    >>> J[0].tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.5, 0.0], [0.25, 0.25, 0.125, 0.375]]
    """
    cross, self_attention = np.asarray(cross), np.asarray(self_attention)
    if cross.ndim != 3 or self_attention.ndim != 3 or self_attention.shape[1] != self_attention.shape[2] \
            or cross.shape[:2] != self_attention.shape[:2]:
        raise AttentionTransportError(f"cross-attention must be (heads, d, m) and self-attention (heads, d, d) over "
                                      f"the same heads and queries; got {cross.shape} and {self_attention.shape}.")
    if not 0.0 <= share <= 1.0:
        raise AttentionTransportError(f"the cross-attention share must be in [0, 1]; got {share!r}.")
    H, d, m = cross.shape
    J = np.zeros((H, m + d, m + d), dtype=np.float32)
    J[:, np.arange(m), np.arange(m)] = 1.0
    J[:, m:, :m] = share * cross
    J[:, m:, m:] = (1.0 - share) * self_attention
    return J


def _recorded_modules(decoder, recorder):
    """The modules of ``decoder`` a transformers output recorder names, in order, and the map's output index."""
    cls = getattr(recorder, "target_class", recorder)
    index = getattr(recorder, "index", 1)
    name = getattr(recorder, "layer_name", None)
    mods = [m for path, m in decoder.named_modules()
            if isinstance(m, cls) and (name is None or path.split(".")[-1] == name)]
    return mods, index


def decoder_attention_modules(loaded):
    """Per decoder layer, its self-attention and cross-attention modules and the output index of their maps.

    Returns
    -------
    list of ((self_module, self_index), (cross_module, cross_index))

    Raises
    ------
    AttentionTransportError
        The model does not say which of its modules return the decoder's maps.
    """
    decoder = loaded.model.get_decoder()
    recorded = getattr(decoder, "_can_record_outputs", None) or getattr(loaded.model, "_can_record_outputs", None) or {}
    if "attentions" not in recorded or "cross_attentions" not in recorded:
        raise AttentionTransportError(f"cannot find the decoder's self- and cross-attention modules of "
                                      f"{type(loaded.model).__name__}; use --attention eager.")
    selfs, si = _recorded_modules(decoder, recorded["attentions"])
    crosses, ci = _recorded_modules(decoder, recorded["cross_attentions"])
    if not selfs or len(selfs) != len(crosses):
        raise AttentionTransportError(f"{type(loaded.model).__name__}: {len(selfs)} decoder self-attention and "
                                      f"{len(crosses)} cross-attention modules; use --attention eager.")
    return [((s, si), (c, ci)) for s, c in zip(selfs, crosses)]
