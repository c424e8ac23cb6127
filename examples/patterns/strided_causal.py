"""Sparse Transformer's strided causal mask (local 32 keys, then every 32nd), as a FlexAttention mask_mod.

    attention-transport check file:examples/patterns/strided_causal.py --n 4096
"""
import torch  # noqa: F401

STRIDE = 32


def mask_mod(b, h, q_idx, kv_idx):
    d = q_idx - kv_idx
    return (d >= 0) & ((d < STRIDE) | (d % STRIDE == 0))
