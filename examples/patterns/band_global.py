"""A symmetric band of 64 keys each side plus 4 global tokens (Longformer-style), as a FlexAttention mask_mod.

    attention-transport check file:examples/patterns/band_global.py --n 4096
"""
import torch  # noqa: F401  (written for FlexAttention: the indices arrive as torch tensors)

BAND = 64
GLOBAL = 4


def mask_mod(b, h, q_idx, kv_idx):
    return ((q_idx - kv_idx).abs() <= BAND) | (q_idx < GLOBAL) | (kv_idx < GLOBAL)
