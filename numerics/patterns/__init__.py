"""Attention patterns: library families, presets of real architectures, pattern files, compositions.

==========================  ===================================================================
module                      what lives there
==========================  ===================================================================
``base``                    :class:`Pattern` (what a pattern owns), :class:`Param`, the registry
``kernels``                 row-normalised Toeplitz kernels: uniform-causal, window, dilated,
                            exp-decay, power-law, bidirectional-uniform, bidirectional-window
``library``                 sink-window, block-causal, random-softmax
``masked``                  patterns from a mask/score on index arrays, or a listed support
``presets``                 Longformer, BigBird, Sparse Transformer, StreamingLLM, Mistral,
                            Gemma 2/3, prefix-LM, document masks, LongNet
``files``                   ``file:PATH.py`` — FlexAttention ``mask_mod`` / ``score_mod``
``compose``                 ``union``, ``mix``, ``stack``, ``repeat``
``factored``                sums and G of ``A = Φ Ψ`` through few classes of rows (BigBird, its stacks)
``matrix``                  a scipy sparse matrix as a pattern of one length
``spec``                    the spec grammar, :func:`parse_pattern`
==========================  ===================================================================

Library formulas, 1-based tokens (``i`` query, ``j`` key):

=======================  ==========================================================  ========
name                     support of row i and weights                                causal
=======================  ==========================================================  ========
uniform-causal           ``j ≤ i``, uniform                                          yes
window (w)               ``i − w < j ≤ i``, uniform                                  yes
sink-window (s, w)       ``j ≤ min(s, i)`` or ``i − w < j ≤ i``, uniform             yes
dilated (w, k)           ``j = i − m k``, ``m = 0..w−1``, ``j ≥ 1``, uniform         yes
block-causal (b)         ``j ≤ min(n, b⌈i/b⌉)`` (full inside a block), uniform       no
exp-decay (m)            ``j ≤ i``, weight ``e^{−m (i − j)}`` (ALiBi-like)           yes
power-law (p)            ``j ≤ i``, weight ``(i − j + 1)^{−p}``                      yes
random-softmax (beta,    ``j ≤ i``, softmax of ``beta · g_ij``, ``g`` i.i.d. N(0,1)  yes
seed)                    from ``numpy.random.default_rng(seed)``, row-major
bidirectional-uniform    every j, uniform                                            no
bidirectional-window (w) ``|i − j| < w``, uniform                                    no
=======================  ==========================================================  ========
"""
from attention_transport.numerics.patterns import kernels, library, presets  # noqa: F401  (registration)
from attention_transport.numerics.patterns.base import (
    REGISTRY,
    Param,
    Pattern,
    StructuralSums,
    register,
)
from attention_transport.numerics.patterns.compose import COMPOSITIONS, Mix, Repeat, Stack, Union
from attention_transport.numerics.patterns.files import FilePattern
from attention_transport.numerics.patterns.library import RANDOM_SOFTMAX_MAX_N
from attention_transport.numerics.patterns.matrix import SparseMatrixPattern, sparse_matrix_pattern
from attention_transport.numerics.patterns.spec import parse_pattern

__all__ = [
    "Pattern",
    "Param",
    "StructuralSums",
    "REGISTRY",
    "PATTERNS",
    "COMPOSITIONS",
    "register",
    "parse_pattern",
    "describe_patterns",
    "Union",
    "Mix",
    "Stack",
    "Repeat",
    "FilePattern",
    "SparseMatrixPattern",
    "sparse_matrix_pattern",
    "RANDOM_SOFTMAX_MAX_N",
]

#: library families only (name -> class); presets are in :data:`REGISTRY` with ``kind == "preset"``
PATTERNS = {name: cls for name, cls in REGISTRY.items() if cls.kind == "library"}


def _family_line(cls):
    if not cls.params:
        return cls.name
    args = ",".join(f"{k}={t.default}" for k, t in cls.params.items())
    docs = "; ".join(f"{k}: {t.doc}" for k, t in cls.params.items())
    return f"{cls.name}:{args}  ({docs})"


def describe_patterns():
    """The ``patterns`` listing: families with defaults, presets with sources, composition syntax, files."""
    lines = ["library families (spec with defaults; parameters):"]
    lines += [f"  {_family_line(cls)}" for cls in PATTERNS.values()]
    lines.append("presets of published architectures:")
    for cls in REGISTRY.values():
        if cls.kind == "preset":
            lines.append(f"  {_family_line(cls)}")
            lines.append(f"      {' '.join(cls.__doc__.split())}")
    lines.append("compositions (nest freely; whitespace around commas allowed):")
    for name, (_, syntax, example) in COMPOSITIONS.items():
        lines.append(f"  {syntax:<24} e.g. {example}")
    lines.append("pattern files (FlexAttention convention):")
    lines.append("  file:PATH.py             mask_mod(b, h, q_idx, kv_idx) and/or score_mod(score, b, h, q_idx, "
                 "kv_idx)")
    lines.append("  file:PATH.py:NAME[+NAME] the named functions instead (a mask_mod or a score_mod each)")
    lines.append("examples (quote compositions for the shell):")
    preset_examples = [cls.example for cls in REGISTRY.values() if cls.kind == "preset" and cls.example]
    library_examples = [cls.example for cls in PATTERNS.values() if cls.params and cls.example]
    for spec in library_examples[:1] + preset_examples[:2]:
        lines.append(f"  attention-transport check {spec} --n 1000 100000")
    lines.append(f"  attention-transport check '{COMPOSITIONS['stack'][2]}' --n 100000 --json")
    lines.append("  attention-transport check file:my_mask_mod.py --n 4096 --plot landscape.png")
    return lines
