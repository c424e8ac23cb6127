"""Hypothesis strategies that *build* attention operators.

Row-stochastic matrices are softmaxes of bounded logits over a support mask;
causal = lower-triangular mask, windowed = band mask, bidirectional = full mask.
Exact zeros are injected inside the support (never emptying a row), and an
optional float16 rounding mimics half-precision attention maps.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

LOGIT = st.floats(min_value=-6.0, max_value=6.0, allow_nan=False, allow_infinity=False, width=64)
STRUCTURES = ("causal", "window", "dense", "bidirectional-window")


def _mask(n, structure, w):
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    if structure == "causal":
        return j <= i
    if structure == "window":
        return (j <= i) & (j > i - w)
    if structure == "bidirectional-window":
        return np.abs(i - j) < w
    return np.ones((n, n), dtype=bool)


@st.composite
def attention_matrices(draw, min_n=2, max_n=10, structures=STRUCTURES, zeros=True, float16=True):
    """Row-stochastic ``(n, n)`` float64 matrices of the given structures."""
    n = draw(st.integers(min_n, max_n))
    structure = draw(st.sampled_from(structures))
    w = draw(st.integers(1, n))
    logits = draw(arrays(np.float64, (n, n), elements=LOGIT))
    mask = _mask(n, structure, w)
    if zeros:
        drop = draw(arrays(np.bool_, (n, n), elements=st.booleans()))
        keep_one = np.zeros((n, n), dtype=bool)
        keep_one[np.arange(n), np.argmax(mask, axis=1) if structure == "dense" else np.arange(n)] = True
        mask = mask & (~drop | keep_one)
    e = np.where(mask, np.exp(logits), 0.0)
    A = e / e.sum(axis=1, keepdims=True)
    if float16 and draw(st.booleans()):
        A = A.astype(np.float16).astype(np.float64)
    return A


def causal_matrices(**kw):
    return attention_matrices(structures=("causal", "window"), **kw)


def bidirectional_matrices(**kw):
    return attention_matrices(structures=("dense", "bidirectional-window"), **kw)


@st.composite
def nonnegative_matrices(draw, min_n=2, max_n=8):
    """Nonnegative, not necessarily stochastic, with exact zeros; every vertex has degree > 0."""
    n = draw(st.integers(min_n, max_n))
    vals = draw(arrays(np.float64, (n, n), elements=st.floats(0.0, 10.0, allow_nan=False)))
    zero = draw(arrays(np.bool_, (n, n), elements=st.booleans()))
    A = np.where(zero, 0.0, vals)
    A[np.arange(n), np.arange(n)] += 0.5  # no zero-degree vertex
    return A
