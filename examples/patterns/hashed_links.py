"""A causal window of 16 plus a pseudo-random link set: key j is linked to query i when a multiplicative hash
of (i, j) falls in 1 of 97 buckets (a deterministic stand-in for random attention).

    attention-transport check file:examples/patterns/hashed_links.py --n 4096
"""
import torch  # noqa: F401

WINDOW = 16


def linked(q_idx, kv_idx):
    return ((q_idx * 2654435761 + kv_idx * 40503) % 1000003) % 97 == 0


def mask_mod(b, h, q_idx, kv_idx):
    return (q_idx >= kv_idx) & ((q_idx - kv_idx < WINDOW) | linked(q_idx, kv_idx))
