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


@st.composite
def tiny_capacity_matrices(draw, min_n=2, max_n=9):
    """Heads whose capacity spans 1e-300 … 1: an attention matrix whose off-diagonal part is scaled
    by ``10^-k`` (k = 0..300) against a diagonal of ones, rows renormalised.  The identity
    ``Σ (c_k − r_k)`` loses every digit of such a cut; the landscapes must not."""
    A = draw(attention_matrices(min_n=min_n, max_n=max_n, float16=False))
    k = draw(st.integers(0, 300))
    off = A * 10.0 ** -k
    np.fill_diagonal(off, 0.0)
    off += np.eye(A.shape[0])
    return off / off.sum(axis=1, keepdims=True)


@st.composite
def banded_matrices(draw, min_n=8, max_n=60, max_w=6):
    """Row-stochastic matrices of bandwidth at most ``w`` (causal or two-sided band), with exact zeros inside
    the band, and the off-diagonal part optionally scaled by ``10^-k`` (capacities down to 1e-200)."""
    n = draw(st.integers(min_n, max_n))
    w = draw(st.integers(1, min(max_w, n)))
    structure = draw(st.sampled_from(("window", "bidirectional-window")))
    mask = _mask(n, structure, w)
    drop = draw(arrays(np.bool_, (n, n), elements=st.booleans()))
    drop[np.arange(n), np.arange(n)] = False
    mask &= ~drop
    e = np.where(mask, np.exp(draw(arrays(np.float64, (n, n), elements=LOGIT))), 0.0)
    scale = 10.0 ** -draw(st.sampled_from((0, 0, 3, 40, 200)))
    e = np.where(np.eye(n, dtype=bool), e, e * scale)
    return e / e.sum(axis=1, keepdims=True), w
