"""Packed documents with a shared BOS token: causal inside each document, token 0 visible to all.

Document lengths cycle through LENGTHS (the attention-gym convention: a document-id lookup table).

    attention-transport check file:examples/patterns/document_bos.py --n 4096
"""
import torch

LENGTHS = torch.tensor([1, 300, 120, 517, 64, 1000])  # token 0 is the BOS, a document of its own
DOC_ID = torch.repeat_interleave(torch.arange(6 * 256), LENGTHS.repeat(256))  # about 515k tokens


def mask_mod(b, h, q_idx, kv_idx):
    same = DOC_ID[q_idx] == DOC_ID[kv_idx]
    return (q_idx >= kv_idx) & (same | (kv_idx == 0))
