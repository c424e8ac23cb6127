"""Real-model validation harness (optional extra ``harness``: torch, transformers, ...).

Forced scoring on HaluEval / MedHallu with transport features and baselines is
the subject of the harness issue and lands here; nothing in the core package
imports this subpackage.
"""
