"""Library families that are not Toeplitz kernels: sink + window, block-causal, random softmax.

Each keeps the closed forms of its structural sums (O(n) or O(n · w)); the
sink window also lists its support, so its sparse matrix exists at large n.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from attention_transport.numerics.patterns.base import (
    Param,
    Pattern,
    StructuralSums,
    check_n,
    local_range_sums,
    register,
    row_ranges,
)
from attention_transport.numerics.patterns.kernels import _banded_sums_by_row
from attention_transport.numerics.patterns.masked import MaskPattern, SupportPattern

__all__ = ["SinkWindow", "BlockCausal", "RandomSoftmax", "RANDOM_SOFTMAX_MAX_N"]

#: random-softmax has no closed-form sums: they cost O(n²) draws.
RANDOM_SOFTMAX_MAX_N = 20_000


@register
@dataclass(frozen=True)
class SinkWindow(SupportPattern):
    """Causal window plus attention sinks: row i attends to ``j < min(s, i + 1)`` and ``i − w < j ≤ i``
    (StreamingLLM, Xiao et al. 2023: ``s`` sink tokens kept beside a rolling window)."""

    name: ClassVar[str] = "sink-window"
    params: ClassVar[dict] = {"s": Param(int, 4, 1, "number of sink tokens"), "w": Param(int, 16, 1, "window length")}
    example: ClassVar[str] = "sink-window:s=4,w=64"
    s: int = 4
    w: int = 16

    @property
    def causal(self):
        return True

    def _sw(self, n):
        return min(self.s, n), min(self.w, n)

    def hub_band(self, n):
        """The s sinks are the hubs; the other keys of row i lie in ``i − w < j ≤ i``."""
        return self._sw(check_n(n))

    def translates(self, n):
        """The rows ``i ≥ s + w − 1``: the s sinks and the whole window ``i − w < j ≤ i`` past them, ``s + w`` keys,
        uniform; the sink rows reach no key past the sinks."""
        s, w = self._sw(check_n(n))
        return (s, s + w - 1, n, 1) if n > s + w - 1 else None

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.sink_window_law`: the floor s/(s + 2w), bounds for every n."""
        from attention_transport.theory.laws import sink_window_law

        return sink_window_law(self.s, self.w)

    def sink_share(self):
        """``(s, s/(s + w))``: a row ``i ≥ s`` has at most ``s + w`` keys, the s sinks among them, uniform; a sink row
        ``i < s`` attends uniformly to its ``i + 1 ≤ s`` keys, so it sends ``t/(i + 1) ≥ t/s`` left of ``t ≤ i``."""
        import sympy

        return self.s, sympy.Rational(self.s, self.s + self.w)

    def mask(self, n, q, kv):
        s, w = self._sw(n)
        return (kv <= q) & ((kv < s) | (kv > q - w))

    def support_indices(self, n, i0, i1):
        s, w = self._sw(n)
        i = np.arange(i0, i1)
        win = [(i, i - k) for k in range(w)]
        sink = [(i, np.full_like(i, j)) for j in range(s)]
        rows = np.concatenate([a for a, b in win + sink])
        cols = np.concatenate([b for a, b in win + sink])
        keep = (cols >= 0) & (cols <= rows)
        return rows[keep], cols[keep]

    def support_bound(self, n):
        s, w = self._sw(n)
        return n * (s + w)

    def _counts(self, n):
        s, w = self._sw(n)
        idx = np.arange(1, n + 1)
        lo = np.maximum(1, idx - w + 1)
        sink = np.minimum(s, idx)
        return sink + (idx - lo + 1) - np.maximum(0, sink - lo + 1)

    def _row_stats(self, n):
        return np.zeros(n), self._counts(n).astype(float)

    def structure(self, n):
        return "structural"

    # -- closed forms: a causal window of block-local range sums plus the sinks outside it, O(n) ---------------
    def _outside(self, n):
        """Per row i, how many sinks lie left of its window: ``min(s, max(0, i − w + 1))``."""
        s, w = self._sw(n)
        return np.minimum(s, np.maximum(0, np.arange(n) - w + 1))

    def matvec(self, n, x):
        """``A x``: through the sparse form when there is one, else the window ``i − w < j ≤ i`` by block-local range
        sums and the sinks left of it."""
        n = check_n(n)
        A = self.sparse(n)
        if A is not None:  # a narrow window: the sparse product is faster
            return A @ np.asarray(x, dtype=np.float64)
        s, w = self._sw(n)
        x = np.asarray(x, dtype=np.float64)
        i = np.arange(n)
        shape = (-1,) + (1,) * (x.ndim - 1)
        sinks = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x[:s], axis=0)])  # Σ_{j<k} x_j, k ≤ s
        y = local_range_sums(x, np.maximum(0, i - w + 1), i, w) + sinks[self._outside(n)]
        return y / self._counts(n).reshape(shape)

    def rmatvec(self, n, y):
        """``Aᵀ y``: column j gathers the rows ``j ≤ i < j + w`` whose window holds it, and a sink j < s the rows
        ``i ≥ j + w`` past them."""
        n = check_n(n)
        A = self.sparse(n)
        if A is not None:
            return A.T @ np.asarray(y, dtype=np.float64)
        s, w = self._sw(n)
        y = np.asarray(y, dtype=np.float64)
        j = np.arange(n)
        z = y / self._counts(n).reshape((-1,) + (1,) * (y.ndim - 1))
        out = local_range_sums(z, j, np.minimum(n - 1, j + w - 1), w)
        tail = np.cumsum(z[::-1], axis=0)[::-1]  # Σ_{i ≥ a} z_i, summed from the end
        for k in range(s):
            if k + w < n:
                out[k] += tail[k + w]
        return out

    def hub_band_rows(self, n, i0, i1, h, w):
        """Closed form: ``A_ij = 1/count_i`` for the window keys ``i − w < j ≤ i`` off the sinks, O((i1 − i0) w)."""
        n = check_n(n)
        if (h, w) != self._sw(n):
            return super().hub_band_rows(n, i0, i1, h, w)
        D = np.zeros((i1 - i0, 2 * w - 1))
        D[:, : w] = (1.0 / self._counts(n)[i0:i1])[:, None]  # offsets t = −(w − 1) … 0
        D[: max(0, min(i1, h) - i0)] = 0.0  # the sink rows
        t = np.arange(2 * w - 1)[None, :]
        k = max(0, min(i1, h + w - 1) - i0)  # rows whose window reaches a sink or the start, j = i + t − (w − 1) < h
        D[:k][t < (h + w - 1 - np.arange(i0, i0 + k))[:, None]] = 0.0
        return D

    def skew_norms(self, n, d):
        """Causal: ``N_ji = 0`` for ``j < i``, so both norms are sums of ``N_ij² = x_i² x_j² / count_i²`` over the
        strictly-lower support (window sums of x² by block-local range sums, and the sinks left of the window),
        and the diagonal."""
        n = check_n(n)
        if self.sparse(n) is not None:
            return super().skew_norms(n, d)
        s, w = self._sw(n)
        x2 = 1.0 / np.asarray(d, dtype=np.float64)  # x_i² with x = D^{-1/2}
        i = np.arange(n)
        inv = 1.0 / self._counts(n)
        sinks = np.concatenate([[0.0], np.cumsum(x2[:s])])
        below = local_range_sums(x2, np.maximum(0, i - w + 1), i - 1, w) + sinks[self._outside(n)]
        off = float((inv * inv * x2 * below).sum())
        diag = float(((inv * x2) ** 2).sum())
        return 2.0 * off, 2.0 * off + 4.0 * diag

    def sums(self, n):
        n = check_n(n)
        s_, w = self._sw(n)
        inv = 1.0 / self._counts(n)
        c = _banded_sums_by_row(n, range(0, w), inv)
        # sink column j < s lies outside the window of every row i ≥ j + w (0-based)
        tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])  # tail[a] = Σ_{i ≥ a} inv_i
        for j in range(s_):
            if j + w < n:
                c[j] += tail[j + w]
        return StructuralSums(np.ones(n), c)


@register
@dataclass(frozen=True)
class BlockCausal(MaskPattern):
    """Blocks of b tokens, full inside a block, causal across: row i sees every key up to the end of its block."""

    sparse_from_blocks_max_n: ClassVar[int] = 8192  # closed forms serve larger n
    name: ClassVar[str] = "block-causal"
    params: ClassVar[dict] = {"b": Param(int, 16, 1, "block length")}
    example: ClassVar[str] = "block-causal:b=16"
    b: int = 16

    @property
    def causal(self):
        return self.b == 1

    def mask(self, n, q, kv):
        b = min(self.b, n)
        return kv < np.minimum(n, b * (q // b + 1))

    def _row_stats(self, n):
        b = min(self.b, n)
        idx = np.arange(n)
        return np.zeros(n), np.minimum(n, b * (idx // b + 1)).astype(float)

    def structure(self, n):
        return "structural"

    def sums(self, n):
        n = check_n(n)
        b = min(self.b, n)
        idx = np.arange(1, n + 1)
        e = np.minimum(n, b * (-(-idx // b)))  # last key visible to row i (1-based)
        start = b * ((idx - 1) // b) + 1  # first row of the block of token j
        inv = 1.0 / e
        tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])
        c = tail[start - 1]
        if self.causal:
            return StructuralSums(np.ones(n), c)
        return StructuralSums(np.ones(n), c, (e - idx) / e, (idx - start) / e)


@register
@dataclass(frozen=True)
class RandomSoftmax(Pattern):
    """Causal softmax of ``beta · g_ij`` with ``g`` i.i.d. N(0, 1) from ``numpy.random.default_rng(seed)``,
    drawn row-major over the full n×n grid (a random head with no structure)."""

    name: ClassVar[str] = "random-softmax"
    params: ClassVar[dict] = {"beta": Param(float, 1.0, 0.0, "inverse temperature"),
                              "seed": Param(int, 0, 0, "random seed")}
    example: ClassVar[str] = "random-softmax:beta=2,seed=0"
    blocked_max_n: ClassVar[int] = RANDOM_SOFTMAX_MAX_N
    beta: float = 1.0
    seed: int = 0

    @property
    def causal(self):
        return True

    def row_blocks(self, n, block_bytes=1 << 20):
        n = self._blocked(n)
        rng = np.random.default_rng(self.seed)
        j = np.arange(n)[None, :]
        for i0, i1 in row_ranges(n, n, block_bytes):
            g = rng.standard_normal((i1 - i0, n))  # the same stream, row-major, whatever the blocking
            logits = np.where(j <= np.arange(i0, i1)[:, None], self.beta * g, -np.inf)
            w = np.exp(logits - logits.max(axis=1, keepdims=True))
            yield i0, i1, w / w.sum(axis=1, keepdims=True)

    def block(self, n, i0, i1, j0, j1):
        out = np.zeros((i1 - i0, j1 - j0))
        for a0, a1, R in self.row_blocks(check_n(n)):
            if a1 <= i0:
                continue
            if a0 >= i1:
                break
            lo, hi = max(a0, i0), min(a1, i1)
            out[lo - i0: hi - i0] = R[lo - a0: hi - a0, j0:j1]
        return out

    def support_block(self, n, i0, i1, j0, j1):
        return np.arange(j0, j1)[None, :] <= np.arange(i0, i1)[:, None]

    def structure(self, n):
        return "blocked"
