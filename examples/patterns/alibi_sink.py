"""Causal ALiBi (slope 1/16) with a bonus of 2 nats on the first token (an attention sink), as a mask_mod
and a score_mod in FlexAttention's convention.

    attention-transport check file:examples/patterns/alibi_sink.py --n 4096
"""
import torch

SLOPE = 1.0 / 16
SINK_BONUS = 2.0


def mask_mod(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def score_mod(score, b, h, q_idx, kv_idx):
    return score - SLOPE * (q_idx - kv_idx) + torch.where(kv_idx == 0, SINK_BONUS, 0.0)
