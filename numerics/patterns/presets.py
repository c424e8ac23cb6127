"""Presets: the attention patterns of published architectures, with their sources.

Each preset is one registered family.  Those that *are* a library pattern or a
composition with other defaults (Mistral's window, StreamingLLM's sinks, Gemma's
local/global interleaving) expand to it (:class:`Alias`); the others define
their support directly, listed in O(nnz) where it is sparse.  Tokens are
0-based here: ``q`` the query, ``kv`` the key.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import sparse as sp

from attention_transport.numerics.patterns.base import (
    Fenwick,
    Param,
    Pattern,
    StructuralSums,
    check_n,
    class_prefix_sums,
    local_range_sums,
    register,
)
from attention_transport.numerics.patterns.compose import Repeat, Stack
from attention_transport.numerics.patterns.kernels import ToeplitzKernel, UniformCausal, Window
from attention_transport.numerics.patterns.library import SinkWindow
from attention_transport.numerics.patterns.masked import MaskPattern, SupportPattern

__all__ = ["Alias", "Longformer", "BigBird", "SparseStrided", "SparseFixed", "StreamingLLM", "Mistral",
           "Gemma2", "Gemma3", "PrefixLM", "Document", "LongNet"]


class Alias(Pattern):
    """A preset that is another pattern under other defaults: every method is the expansion's."""

    kind: ClassVar[str] = "preset"

    @abstractmethod
    def expand(self):
        """The library pattern or composition this preset is."""

    causal = property(lambda self: self.expand().causal)
    rational = property(lambda self: self.expand().rational)
    blocked_max_n = property(lambda self: self.expand().blocked_max_n)
    exact_max_n = property(lambda self: self.expand().exact_max_n)

    def structure(self, n):
        return self.expand().structure(n)

    def block(self, n, i0, i1, j0, j1):
        return self.expand().block(n, i0, i1, j0, j1)

    def support_block(self, n, i0, i1, j0, j1):
        return self.expand().support_block(n, i0, i1, j0, j1)

    def rows(self, n, i0, i1):
        return self.expand().rows(n, i0, i1)

    def columns(self, n, j0, j1):
        return self.expand().columns(n, j0, j1)

    def row_blocks(self, n, *args):
        return self.expand().row_blocks(n, *args)

    def exact_dense(self, n):
        return self.expand().exact_dense(n)

    def nnz(self, n):
        return self.expand().nnz(n)

    def sparse(self, n):
        return self.expand().sparse(n)

    def factors(self, n):
        return self.expand().factors(n)

    def bandwidth(self, n):
        return self.expand().bandwidth(n)

    def band_rows(self, n, i0, i1, w):
        return self.expand().band_rows(n, i0, i1, w)

    def hub_band(self, n):
        return self.expand().hub_band(n)

    def hub_band_rows(self, n, i0, i1, h, w):
        return self.expand().hub_band_rows(n, i0, i1, h, w)

    def translates(self, n):
        return self.expand().translates(n)

    def sums(self, n):
        return self.expand().sums(n)

    def matvec(self, n, x):
        return self.expand().matvec(n, x)

    def rmatvec(self, n, y):
        return self.expand().rmatvec(n, y)

    def skew_norms(self, n, d):
        return self.expand().skew_norms(n, d)

    def capacity_law(self):
        return self.expand().capacity_law()

    def reach_back_rate(self):
        return self.expand().reach_back_rate()

    def sink_share(self):
        return self.expand().sink_share()


def _p(kind, default, minimum, doc):
    return Param(kind, default, minimum, doc)


@register
@dataclass(frozen=True)
class Mistral(Alias):
    """Mistral 7B's sliding-window attention: a causal window of w tokens per layer
    (Jiang et al. 2023, "Mistral 7B", arXiv 2310.06825; w = 4096)."""

    name: ClassVar[str] = "mistral"
    params: ClassVar[dict] = {"w": _p(int, 4096, 1, "window length")}
    example: ClassVar[str] = "mistral:w=4096"
    w: int = 4096

    def expand(self):
        return Window(w=self.w)


@register
@dataclass(frozen=True)
class StreamingLLM(Alias):
    """StreamingLLM: s attention-sink tokens kept beside a rolling causal window
    (Xiao et al. 2023, "Efficient Streaming Language Models with Attention Sinks", arXiv 2309.17453)."""

    name: ClassVar[str] = "streaming-llm"
    params: ClassVar[dict] = {"s": _p(int, 4, 1, "sink tokens"), "w": _p(int, 1020, 1, "window length")}
    example: ClassVar[str] = "streaming-llm:s=4,w=1020"
    s: int = 4
    w: int = 1020

    def expand(self):
        return SinkWindow(s=self.s, w=self.w)


def _interleave(w, local, groups):
    block = (Repeat(pattern=Window(w=w), k=local), UniformCausal()) if local > 1 else (Window(w=w), UniformCausal())
    return Stack(parts=block * groups)


@register
@dataclass(frozen=True)
class Gemma2(Alias):
    """Gemma 2's interleaving: a local sliding-window layer (w = 4096), then a global causal layer,
    repeated (Gemma Team 2024, "Gemma 2", arXiv 2408.00118); the transport of ``groups`` such pairs."""

    name: ClassVar[str] = "gemma2"
    params: ClassVar[dict] = {"w": _p(int, 4096, 1, "local window length"),
                              "groups": _p(int, 1, 1, "local+global pairs stacked")}
    example: ClassVar[str] = "gemma2:w=4096,groups=2"
    w: int = 4096
    groups: int = 1

    def expand(self):
        return _interleave(self.w, 1, self.groups)


@register
@dataclass(frozen=True)
class Gemma3(Alias):
    """Gemma 3's interleaving: five local layers (w = 1024) per global causal layer
    (Gemma Team 2025, "Gemma 3 Technical Report", arXiv 2503.19786); ``groups`` such blocks stacked."""

    name: ClassVar[str] = "gemma3"
    params: ClassVar[dict] = {"w": _p(int, 1024, 1, "local window length"),
                              "local": _p(int, 5, 1, "local layers per global layer"),
                              "groups": _p(int, 1, 1, "blocks stacked")}
    example: ClassVar[str] = "gemma3:w=1024,local=5,groups=1"
    w: int = 1024
    local: int = 5
    groups: int = 1

    def expand(self):
        return _interleave(self.w, self.local, self.groups)


@register
@dataclass(frozen=True)
class Longformer(SupportPattern):
    """Longformer: a symmetric window of w//2 keys on each side plus g global tokens that attend to,
    and are attended by, every token (Beltagy, Peters & Cohan 2020, "Longformer", arXiv 2004.05150;
    w = 512, the first token(s) global)."""

    name: ClassVar[str] = "longformer"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"w": _p(int, 512, 2, "window (w//2 keys each side)"),
                              "g": _p(int, 1, 0, "global tokens (the first g)")}
    example: ClassVar[str] = "longformer:w=64,g=2"
    w: int = 512
    g: int = 1

    @property
    def causal(self):
        return False

    def mask(self, n, q, kv):
        return (np.abs(q - kv) <= self.w // 2) | (q < self.g) | (kv < self.g)

    def support_indices(self, n, i0, i1):
        h, g = min(self.w // 2, n), min(self.g, n)
        i = np.arange(i0, i1)
        rows = [np.repeat(i, 2 * h + 1)]
        cols = [(i[:, None] + np.arange(-h, h + 1)[None, :]).ravel()]
        rows.append(np.repeat(i, g))
        cols.append(np.tile(np.arange(g), i.size))
        glob = i[i < g]
        rows.append(np.repeat(glob, n))
        cols.append(np.tile(np.arange(n), glob.size))
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        keep = (cols >= 0) & (cols < n)
        return rows[keep], cols[keep]

    def support_bound(self, n):
        return n * (2 * min(self.w // 2, n) + 1 + 2 * min(self.g, n))

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.band_global_law` with ``h = w//2``: the floor ``ρ/(2 − ρ)``,
        ``ρ = g/(2h + 1 + g)``, certified for every n (claim L6); for ``g = 0`` the bidirectional band's 1/n law."""
        from attention_transport.theory.laws import band_global_law

        return band_global_law(self.w // 2, self.g)

    # -- structure: a symmetric band plus g global rows and columns, O(n) sums and products -------------
    def structure(self, n):
        return "structural"

    def _hg(self, n):
        return min(self.w // 2, n), min(self.g, n)

    def hub_band(self, n):
        """The g global tokens (the first g) are the hubs; the other keys of row i lie in ``|i − j| ≤ w//2``."""
        h, g = self._hg(check_n(n))
        return g, h + 1

    def translates(self, n):
        """The rows ``g + w//2 ≤ i < n − w//2``: the g global keys and the whole window ``|i − j| ≤ w//2`` off them,
        ``2 (w//2) + 1 + g`` keys, uniform; the global rows reach every key uniformly."""
        half, g = self._hg(check_n(n))
        return (g, g + half, n - half, 1) if n - half > g + half else None

    def hub_band_rows(self, n, i0, i1, h, w):
        """Closed form: ``A_ij = 1/m_i`` for every non-hub pair within the band (``|i − j| ≤ w//2``: every
        offset of the hub band), O((i1 − i0) · w) without evaluating the mask."""
        n = check_n(n)
        half, g = self._hg(n)
        if (h, w) != (g, half + 1):
            return super().hub_band_rows(n, i0, i1, h, w)
        D = np.empty((i1 - i0, 2 * w - 1))
        D[:] = (1.0 / self.row_normalisers(n)[1][i0:i1])[:, None]
        D[: max(0, min(i1, h) - i0)] = 0.0  # the hub rows
        t = np.arange(2 * w - 1)[None, :]
        k = max(0, min(i1, h + w - 1) - i0)  # rows whose band reaches a hub key, j = i + t − (w − 1) < h
        D[:k][t < (h + w - 1 - np.arange(i0, i0 + k))[:, None]] = 0.0
        e = min(i1 - i0, max(0, n - w + 1 - i0))  # rows whose band reaches past the last key, j ≥ n
        D[e:][t >= (n + w - 1 - np.arange(i0 + e, i1))[:, None]] = 0.0
        return D

    def _row_stats(self, n):
        h, g = self._hg(n)
        i = np.arange(n)
        lo, hi = np.maximum(0, i - h), np.minimum(n - 1, i + h)
        band_globals = np.maximum(0, np.minimum(g - 1, hi) - lo + 1)  # globals already inside the band
        m = (hi - lo + 1) + g - band_globals
        return np.zeros(n), np.where(i < g, n, m).astype(float)

    def _band_sum(self, n, v, start=0):
        """``Σ_{|i − j| ≤ h, j ≥ start} v_j`` for every i, by prefix sums local to blocks of at least 2h + 1 tokens
        (:func:`~.base.local_range_sums`).  Prefix sums over the whole sequence lost 2e-13 of the column sums at
        n = 10⁶, enough that ``L D^{1/2} 1`` came to 1.6e-11 and λ₂'s residual stopped there
        (``longformer:w=512,g=4``)."""
        h, _ = self._hg(n)
        i = np.arange(n)
        return local_range_sums(v, np.maximum(start, i - h), np.minimum(n - 1, i + h), 2 * h + 1)

    def matvec(self, n, x):
        """``A x``: through the sparse form when there is one (at n = 10⁶, w = 32: 6× faster than the band sums
        below, and each entry multiplied once instead of read off a difference of prefix sums)."""
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        A = self.sparse(n)
        if A is not None:
            return A @ x
        h, g = self._hg(n)
        m = self.row_normalisers(n)[1].reshape((-1,) + (1,) * (x.ndim - 1))
        i = np.arange(n)
        shape = (-1,) + (1,) * (x.ndim - 1)
        band = self._band_sum(n, x)
        glob_total = x[:g].sum(axis=0)
        glob_in_band = self._band_sum(n, np.where((i < g).reshape(shape), x, 0.0))
        y = (band + glob_total - glob_in_band) / m
        y[:g] = x.sum(axis=0) / n
        return y

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        A = self.sparse(n)
        if A is not None:
            return A.T @ y
        h, g = self._hg(n)
        z = y / self.row_normalisers(n)[1].reshape((-1,) + (1,) * (y.ndim - 1))
        i = np.arange(n)
        shape = (-1,) + (1,) * (y.ndim - 1)
        out = z[:g].sum(axis=0) + self._band_sum(n, np.where((i >= g).reshape(shape), z, 0.0))
        out[:g] = z.sum(axis=0)
        return out

    def sums(self, n):
        n = check_n(n)
        h, g = self._hg(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        i = np.arange(n)
        c = self.rmatvec(n, np.ones(n))
        hi = np.minimum(n - 1, i + h)
        s = np.where(i < g, (n - 1 - i) / n, (hi - i) * inv)  # keys right of the diagonal
        lo = np.maximum(g, i - h)
        P = np.concatenate([[0.0], np.cumsum(np.where(i >= g, inv, 0.0))])
        u = np.where(i < g, i / n, np.minimum(i, g) / n + np.where(i > lo, P[i] - P[np.minimum(lo, i)], 0.0))
        return StructuralSums(np.ones(n), c, s, u)

    def skew_norms(self, n, d):
        """Entry by entry over the support's pairs {i < j}: global rows with every later key (O(g n)),
        then the band offset by offset (O(n · w/2)); the support is symmetric."""
        n = check_n(n)
        h, g = self._hg(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        x = 1.0 / np.sqrt(np.asarray(d, dtype=np.float64))
        skew = 0.0
        sym = 4.0 * float(((inv * x * x) ** 2).sum())  # the diagonal: (2 N_ii)²
        for a in range(g):
            j = np.arange(a + 1, n)
            nij, nji = inv[a] * x[a] * x[j], inv[j] * x[a] * x[j]
            skew += 2.0 * float(((nij - nji) ** 2).sum())
            sym += 2.0 * float(((nij + nji) ** 2).sum())
        for k in range(1, h + 1):
            i = np.arange(g, n - k)
            nij, nji = inv[i] * x[i] * x[i + k], inv[i + k] * x[i] * x[i + k]
            skew += 2.0 * float(((nij - nji) ** 2).sum())
            sym += 2.0 * float(((nij + nji) ** 2).sum())
        return skew, sym


@register
@dataclass(frozen=True)
class BigBird(SupportPattern):
    """BigBird's block-sparse attention: key blocks of b tokens; a query block sees its own and the
    neighbouring blocks (3 in all), the first g blocks (global, which see everything) and r random
    blocks drawn once from ``numpy.random.default_rng(seed)`` (Zaheer et al. 2020, "Big Bird",
    arXiv 2007.14062; b = 64, g = 2, r = 3)."""

    name: ClassVar[str] = "bigbird"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"b": _p(int, 64, 1, "block size"), "g": _p(int, 2, 0, "global blocks"),
                              "r": _p(int, 3, 0, "random blocks per query block"),
                              "seed": _p(int, 0, 0, "seed of the random blocks")}
    example: ClassVar[str] = "bigbird:b=16,g=1,r=2,seed=0"
    b: int = 64
    g: int = 2
    r: int = 3
    seed: int = 0

    @property
    def causal(self):
        return False

    def _random_blocks(self, n):
        nb = -(-n // self.b)
        return np.random.default_rng(self.seed).integers(0, nb, size=(nb, self.r))

    def _block_support(self, n, qb):
        """Key blocks of each query block in ``qb`` as a boolean (len(qb), nb) array."""
        nb = -(-n // self.b)
        kb = np.arange(nb)[None, :]
        q = np.asarray(qb)[:, None]
        m = (np.abs(q - kb) <= 1) | (kb < self.g) | (q < self.g)
        R = self._random_blocks(n)[np.asarray(qb)]
        rows = np.repeat(np.arange(len(qb)), self.r)
        m[rows, R.ravel()] = True
        return m

    def mask(self, n, q, kv):
        """The support of rows q and columns kv (outer), from their blocks alone: O(|q| · |kv| · r), never a
        (|q|, n/b) table (at n = 10⁶ one of the nested-grid search's boxes, 15869 rows, took 3.8 GB that way)."""
        qb = (q.ravel() // self.b)[:, None]
        kb = (kv.ravel() // self.b)[None, :]
        m = (np.abs(qb - kb) <= 1) | (kb < self.g) | (qb < self.g)
        for R in self._random_blocks(n)[qb[:, 0]].T:  # the r random key blocks of each query block
            m |= kb == R[:, None]
        return m

    def support_indices(self, n, i0, i1):
        b, nb = self.b, -(-n // self.b)
        i = np.arange(i0, i1)
        qb = i // b
        R = self._random_blocks(n)
        # key blocks of each row: the neighbours, the g global blocks, the r random ones (O(nnz), no nb-wide array)
        kb = np.concatenate([qb[:, None] + np.arange(-1, 2)[None, :],
                             np.broadcast_to(np.arange(min(self.g, nb))[None, :], (i.size, min(self.g, nb))),
                             R[qb]], axis=1)
        cols = (kb[:, :, None] * b + np.arange(b)[None, None, :]).reshape(i.size, -1)
        rows = np.broadcast_to(i[:, None], cols.shape)
        keep = (kb[:, :, None].repeat(b, axis=2).reshape(i.size, -1) >= 0) & (cols < n) & (cols >= 0)
        rows, cols = rows[keep], cols[keep]
        glob = i[qb < self.g]  # global query blocks see every key
        rows = np.concatenate([rows, np.repeat(glob, n)])
        cols = np.concatenate([cols, np.tile(np.arange(n), glob.size)])
        return rows, cols

    def support_bound(self, n):
        nb = -(-n // self.b)
        return n * self.b * min(nb, 3 + self.g + self.r) + self.g * self.b * n

    # -- structure: every row of a query block has the same key blocks ------------------------------------
    def structure(self, n):
        return "structural"

    def _blocks(self, n):
        """``(B, size, m)``: the (nb, nb) 0/1 key-block matrix (CSR), block sizes and each query block's count."""
        from scipy import sparse as sps

        b, nb = self.b, -(-n // self.b)
        q = np.arange(nb)
        R = self._random_blocks(n)
        nbr = q[:, None] + np.arange(-1, 2)[None, :]
        glob = np.broadcast_to(np.arange(min(self.g, nb))[None, :], (nb, min(self.g, nb)))
        kb = np.concatenate([nbr, glob, R], axis=1)
        rows = np.broadcast_to(q[:, None], kb.shape)
        keep = (kb >= 0) & (kb < nb)
        rows, cols = rows[keep], kb[keep]
        gq = q[q < self.g]
        rows = np.concatenate([rows, np.repeat(gq, nb)])
        cols = np.concatenate([cols, np.tile(q, gq.size)])
        B = sps.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(nb, nb))
        B.data[:] = 1.0
        size = np.minimum(b, n - q * b).astype(float)
        return B, size, B @ size

    def _row_stats(self, n):
        B, size, m = self._blocks(n)
        return np.zeros(n), m[np.arange(n) // self.b]

    def _to_blocks(self, n, x):
        """Sums of x over each block of b tokens (the last one padded with zeros)."""
        nb = -(-n // self.b)
        pad = np.zeros((nb * self.b,) + x.shape[1:])
        pad[:n] = x
        return pad.reshape((nb, self.b) + x.shape[1:]).sum(axis=1)

    def matvec(self, n, x):
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        B, size, m = self._blocks(n)
        yb = (B @ self._to_blocks(n, x)) / m.reshape((-1,) + (1,) * (x.ndim - 1))
        return yb[np.arange(n) // self.b]

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        B, size, m = self._blocks(n)
        zb = B.T @ (self._to_blocks(n, y) / m.reshape((-1,) + (1,) * (y.ndim - 1)))
        return zb[np.arange(n) // self.b]

    def sums(self, n):
        n = check_n(n)
        B, size, m = self._blocks(n)
        b, i = self.b, np.arange(n)
        qb = i // b
        C = B.tocoo()
        upper = np.zeros(B.shape[0])  # keys in key blocks right of the query block
        np.add.at(upper, C.row[C.col > C.row], size[C.col[C.col > C.row]])
        end = np.minimum(n, (qb + 1) * b)
        s = (upper[qb] + (end - i - 1)) / m[qb]
        lower = np.zeros(B.shape[0])  # rows of earlier query blocks that see key block k, weighted 1/m
        np.add.at(lower, C.col[C.row < C.col], (size / m)[C.row[C.row < C.col]])
        u = lower[qb] + (i - qb * b) / m[qb]
        return StructuralSums(np.ones(n), self.rmatvec(n, np.ones(n)), s, u)

    def _factors(self, n):
        """``A = E Ψ``: E the (n, nb) indicator of the query blocks, ``Ψ[q, j] = B[q, block(j)] / m_q`` the rows."""
        B, size, m = self._blocks(n)
        nb = B.shape[0]
        E = sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n) // self.b)), shape=(n, nb))
        return E, (sp.diags(1.0 / m) @ B @ E.T).tocsr()

    def constant_blocks(self, n):
        B, size, m = self._blocks(check_n(n))
        Q = (sp.diags(1.0 / m) @ B).tocsr()  # every entry of (query block, key block) is 1/m of the query block
        return np.arange(n) // self.b, Q

    def skew_norms(self, n, d):
        """By block pairs: N is constant on each (query block, key block) pair because d is (c is)."""
        n = check_n(n)
        B, size, m = self._blocks(n)
        D = np.asarray(d, dtype=np.float64)[np.arange(0, n, self.b)]  # d is constant on each block
        S = ((B + B.T) > 0).tocoo()
        q, k = S.row, S.col
        Bq = np.asarray(B[q, k]).ravel()
        Bk = np.asarray(B[k, q]).ravel()
        scale = 1.0 / np.sqrt(D[q] * D[k])
        nqk, nkq = Bq / m[q] * scale, Bk / m[k] * scale
        w = size[q] * size[k]
        return float((w * (nqk - nkq) ** 2).sum()), float((w * (nqk + nkq) ** 2).sum())


class CausalSupportSums:
    """For a causal pattern uniform on its support whose support sums have a closed form: the family defines
    ``_support_sums(n, v, strict=False)`` (``Σ_{j ∈ support(i)} v_j`` for every row, without j = i when
    ``strict``), and gets ``A x`` and G's two norms from it (listed before the pattern base class)."""

    def matvec(self, n, x):
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        return self._support_sums(n, x) / self.row_normalisers(n)[1].reshape((-1,) + (1,) * (x.ndim - 1))

    def skew_norms(self, n, d):
        n = check_n(n)
        x2 = 1.0 / np.asarray(d, dtype=np.float64)  # x = d^{-1/2}: N_ij = A_ij x_i x_j
        count = self.row_normalisers(n)[1]
        # causal: ‖N − Nᵀ‖² = 2 Σ_{j<i} N_ij², ‖N + Nᵀ‖² = 2 Σ_{j<i} N_ij² + 4 Σ N_ii²; the strict sums leave the
        # diagonal out by their ranges (no subtraction of it)
        off = float((x2 / count ** 2 * self._support_sums(n, x2, strict=True)).sum())
        diag = x2 / count
        return 2.0 * off, 2.0 * off + 4.0 * float((diag * diag).sum())


#: positions along the classes a sweep adds to its Fenwick tree at a time (the pairs inside a batch are compared
#: directly: this many squared, times l)
SWEEP_POSITIONS = 16


def _sweep_view(n, rank, inv, l):
    """``(R, V, live)`` on the (⌈n/l⌉, l) view of the tokens: ranks (n past the end), ``1/Z`` (0 past the end) and
    which cells hold a token, for the sweeps of the Sparse Transformer presets."""
    q = -(-n // l)
    R = np.full(q * l, n, dtype=np.int64)
    R[:n] = rank
    V = np.zeros(q * l)
    V[:n] = inv
    return R.reshape(q, l), V.reshape(q, l), (np.arange(q * l) < n).reshape(q, l)


def _batch_starts(q, forward):
    """The first rows of the batches of :data:`SWEEP_POSITIONS` rows of a (q, ·) view, in order or in reverse."""
    starts = range(0, q, SWEEP_POSITIONS)
    return starts if forward else starts[::-1]


def _block_view(n, v, l, scale=None):
    """v (times ``scale`` along its rows) on the zero-padded (⌈n/l⌉, l, k) view of its rows: token i = b l + r
    at ``[b, r]``.  One fresh array."""
    q = -(-n // l)
    flat = v.reshape(n, -1)
    V = np.zeros((q * l, flat.shape[1]))
    if scale is None:
        V[:n] = flat
    else:
        np.multiply(flat, scale[:, None], out=V[:n])
    return V.reshape(q, l, -1)


@register
@dataclass(frozen=True)
class SparseStrided(ToeplitzKernel):
    """Sparse Transformer, strided: causal, key j if ``i − j < l`` or ``(i − j) mod l = 0``
    (Child et al. 2019, "Generating Long Sequences with Sparse Transformers", arXiv 1904.10509;
    the two heads' supports merged)."""

    name: ClassVar[str] = "sparse-strided"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"l": _p(int, 128, 1, "stride (and local length)")}
    example: ClassVar[str] = "sparse-strided:l=32"
    l: int = 128

    def kernel_support(self, d):
        return (d < self.l) | (d % self.l == 0)

    def far_stride(self):
        return self.l, self.l

    # Products in O(n) on the (n/l, l) view of the tokens: token i = b l + r.  Query (b, r) sees (b, 0..r) and
    # (b − 1, r + 1..l − 1) in its window, and (b', r) for every b' < b along its stride: one cumulative sum within
    # the blocks of l and one along the classes, where the kernel's convolution took two FFTs of length 2n.
    # Two fresh arrays a product, the rest in place: at n = 10⁶ with 32 columns each fresh array is 256 MB, and
    # touching new memory costs more than the sums themselves.
    def matvec(self, n, x):
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        X = _block_view(n, x, self.l)
        G = np.cumsum(X, axis=1)  # (b, 0..r)
        np.cumsum(X, axis=0, out=X)  # (b', r) for b' ≤ b
        X -= G
        X += G[:, -1:]  # X[b] = (b', r), b' < b, plus (b, r + 1..l − 1)
        G[1:] += X[:-1]  # the window's (b − 1, r + 1..l − 1) and the stride's (b', r), b' < b
        out = G.reshape(-1, G.shape[2])[:n]
        out *= self._inv_z(n, 2)
        return out.reshape(x.shape)

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        U = _block_view(n, y, self.l, 1.0 / self.row_normalisers(n)[1])
        R = np.cumsum(U[:, ::-1], axis=1)[:, ::-1]  # (b, r..l − 1)
        back = U[::-1]
        np.cumsum(back, axis=0, out=back)  # (b', r) for b' ≥ b
        U -= R
        U += R[:, :1]  # U[b] = (b', r), b' > b, plus (b, 0..r − 1)
        R[:-1] += U[1:]  # the window's (b + 1, 0..r − 1) and the stride's (b', r), b' > b
        return np.ascontiguousarray(R).reshape(-1, R.shape[2])[:n].reshape(y.shape)

    def _column_sums(self, n, inv):
        return self.rmatvec(n, np.ones(n))

    def sweep_inside(self, n, rank):
        """Each entry binned at the later rank of its ends, without the n²/2l stride links one by one.

        The window (``A[i, i − t] = 1/Z_i``, t < l) is binned offset by offset.  A stride link (i, j), j a
        class-mate l, 2l, … before i, weighs ``1/Z_i``: binned at rank_i it counts i's earlier class-mates ranked
        below i, binned at rank_j it sums ``1/Z_i`` over j's later class-mates ranked below j.  Both come from a
        Fenwick tree over (class, rank within the class), positions added :data:`SWEEP_POSITIONS` at a time
        across all classes, the pairs inside a batch compared directly."""
        n = check_n(n)
        l = self.l
        rank = np.asarray(rank, dtype=np.int64)
        inv = 1.0 / self.row_normalisers(n)[1]
        inside = np.zeros(n)
        for t in range(min(l, n)):  # the window, the diagonal included
            inside += np.bincount(np.maximum(rank[t:], rank[:n - t]), weights=inv[t:], minlength=n)
        q = -(-n // l)
        R, V, live = _sweep_view(n, rank, inv, l)
        local = np.empty_like(R)  # rank within the class, the padding last
        local[np.argsort(R, axis=0, kind="stable"), np.arange(l)[None, :]] = np.arange(q)[:, None]
        key = local + np.arange(l)[None, :] * q  # one segment of the tree per class
        for forward in (True, False):
            tree, seen = Fenwick(q * l), np.zeros(l)  # seen: what each class's segment holds
            for b0 in _batch_starts(q, forward):
                b1 = min(q, b0 + SWEEP_POSITIONS)
                Rb, Kb, Vb, Mb = R[b0:b1], key[b0:b1], V[b0:b1], live[b0:b1]
                before = np.concatenate([[0.0], np.cumsum(seen)[:-1]])  # the segments of the classes before r
                got = tree.below(Kb.ravel()).reshape(Kb.shape) - before[None, :]
                pos = np.arange(b1 - b0)
                # pairs inside the batch: [a, b, r] for tokens (b0 + a, r) and (b0 + b, r), b before a (forward) or
                # after it, ranked below it
                other = (pos[None, :] < pos[:, None]) if forward else (pos[None, :] > pos[:, None])
                below = (Rb[None, :, :] < Rb[:, None, :]) & other[:, :, None] & Mb[None, :, :]
                if forward:  # at rank_i: 1/Z_i times the count of earlier class-mates ranked below
                    inside[Rb[Mb]] += (Vb * (got + below.sum(axis=1)))[Mb]
                    tree.add(Kb[Mb], 1.0)
                    seen += Mb.sum(axis=0)
                else:  # at rank_j: 1/Z_i over the later class-mates ranked below
                    inside[Rb[Mb]] += (got + (below * Vb[None, :, :]).sum(axis=1))[Mb]
                    tree.add(Kb[Mb], Vb[Mb])
                    seen += (Vb * Mb).sum(axis=0)
        return inside


@register
@dataclass(frozen=True)
class SparseFixed(CausalSupportSums, MaskPattern):
    """Sparse Transformer, fixed: causal, key j if it is in the query's block of l tokens, or among the
    last c tokens of an earlier block (the summary columns) (Child et al. 2019, arXiv 1904.10509)."""

    sparse_from_blocks_max_n: ClassVar[int] = 8192  # closed forms serve larger n
    name: ClassVar[str] = "sparse-fixed"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"l": _p(int, 128, 1, "block length"), "c": _p(int, 8, 1, "summary tokens per block")}
    example: ClassVar[str] = "sparse-fixed:l=32,c=4"
    l: int = 128
    c: int = 8

    @property
    def causal(self):
        return True

    def mask(self, n, q, kv):
        c = min(self.c, self.l)
        return (kv <= q) & ((kv // self.l == q // self.l) | (kv % self.l >= self.l - c))

    def _row_stats(self, n):
        c = min(self.c, self.l)
        i = np.arange(n)
        return np.zeros(n), ((i % self.l) + 1 + c * (i // self.l)).astype(float)

    def structure(self, n):
        return "structural"

    def sums(self, n):
        n = check_n(n)
        c, l = min(self.c, self.l), self.l
        inv = 1.0 / self.row_normalisers(n)[1]
        j = np.arange(n)
        tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])  # tail[a] = Σ_{i ≥ a}
        block_end = np.minimum(n, (j // l + 1) * l)
        col = tail[j] - tail[block_end]  # rows of j's own block at or after j
        summary = (j % l) >= l - c
        col = col + np.where(summary, tail[block_end], 0.0)
        return StructuralSums(np.ones(n), col)

    # Row (b, r) of the (n/l, l) view sees (b, 0..r) and the summary tokens (b', l − c..l − 1) of every b' < b:
    # one cumulative sum within the blocks and one over the blocks' summary sums, O(n).  The products touch one
    # fresh array each (the view), the sums run in place: λ₂'s LOBPCG calls them 34 times at n = 10⁶.
    def _support_sums(self, n, v, strict=False):
        v = np.asarray(v, dtype=np.float64)
        c = min(self.c, self.l)
        V = _block_view(n, v, self.l)
        summary = V[:, self.l - c:].sum(axis=1)  # each block's summary tokens
        if strict:  # (b, 0..r − 1): the diagonal left out by the range, not subtracted
            out = np.zeros_like(V)
            np.cumsum(V[:, :-1], axis=1, out=out[:, 1:])
        else:
            out = np.cumsum(V, axis=1, out=V)  # (b, 0..r)
        out[1:] += np.cumsum(summary, axis=0)[:-1, None]  # those of every earlier block
        return out.reshape(-1, out.shape[2])[:n].reshape(v.shape)

    def matvec(self, n, x):
        n = check_n(n)
        out = self._support_sums(n, x)  # a view of a fresh array: divided in place
        out /= self.row_normalisers(n)[1].reshape((-1,) + (1,) * (out.ndim - 1))
        return out

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        c = min(self.c, self.l)
        U = _block_view(n, y, self.l, 1.0 / self.row_normalisers(n)[1])
        later = np.cumsum(U.sum(axis=1)[::-1], axis=0)[::-1]  # rows of blocks b' ≥ b
        back = U[:, ::-1]
        np.cumsum(back, axis=1, out=back)  # rows (b, r..l − 1) of column (b, r)
        U[:-1, self.l - c:] += later[1:, None]  # a summary column: every row of a later block
        return U.reshape(-1, U.shape[2])[:n].reshape(y.shape)

    def sweep_inside(self, n, rank):
        """Each entry binned at the later rank of its ends, without the ~n² c/2l summary links one by one.

        A block's own lower triangle (l(l + 1)/2 entries a block) is binned entry by entry.  A summary link (i, j),
        j a summary token of an earlier block, weighs ``1/Z_i``: binned at rank_i it counts the earlier blocks'
        summary tokens ranked below i (a Fenwick tree over ranks, blocks added in order); binned at rank_j it sums
        ``1/Z_i`` over the later blocks' tokens ranked below j (a second tree, blocks added in reverse).  Blocks go
        in :data:`SWEEP_POSITIONS` at a time, the pairs inside a batch compared directly."""
        n = check_n(n)
        l, c = self.l, min(self.c, self.l)
        rank = np.asarray(rank, dtype=np.int64)
        inv = 1.0 / self.row_normalisers(n)[1]
        inside = np.zeros(n)
        q = -(-n // l)
        step = max(1, (1 << 22) // (l * l))  # blocks a chunk: about 4·10⁶ pairs
        r_idx, c_idx = np.tril_indices(l)
        for b0 in range(0, q, step):
            lo, hi = b0 * l, min(n, (b0 + step) * l)
            full = (hi - lo) // l * l
            if full:
                R = rank[lo:lo + full].reshape(-1, l)
                later = np.maximum(R[:, r_idx], R[:, c_idx])
                w = inv[lo:lo + full].reshape(-1, l)[:, r_idx]
                inside += np.bincount(later.ravel(), weights=w.ravel(), minlength=n)
            if hi - lo > full:  # the last, partial block
                a, e = lo + full, hi
                m = e - a
                rr, cc = np.tril_indices(m)
                inside += np.bincount(np.maximum(rank[a + rr], rank[a + cc]), weights=inv[a + rr], minlength=n)
        R, V, live = _sweep_view(n, rank, inv, l)
        SR, SL = R[:, l - c:], live[:, l - c:]  # the summary tokens
        for forward in (True, False):
            tree = Fenwick(n + 1)  # rank n: the padding, never added
            for b0 in _batch_starts(q, forward):
                b1 = min(q, b0 + SWEEP_POSITIONS)
                pos = np.arange(b1 - b0)
                if forward:  # at rank_i: the summary tokens of earlier blocks ranked below i
                    earlier = (pos[None, :] < pos[:, None])[:, None, :, None]  # [a, ·, a', ·]: block a' before a
                    below = (SR[b0:b1][None, None] < R[b0:b1][:, :, None, None]) & earlier & SL[b0:b1][None, None]
                    got = tree.below(R[b0:b1].ravel()).reshape(R[b0:b1].shape) + below.sum(axis=(2, 3))
                    Mb = live[b0:b1]
                    inside[R[b0:b1][Mb]] += (V[b0:b1] * got)[Mb]
                    tree.add(SR[b0:b1][SL[b0:b1]], 1.0)
                else:  # at rank_j: 1/Z_i over the tokens of later blocks ranked below j
                    later = (pos[None, :] > pos[:, None])[:, None, :, None]  # [a, ·, a', ·]: block a' after a
                    below = (R[b0:b1][None, None] < SR[b0:b1][:, :, None, None]) & later & live[b0:b1][None, None]
                    got = tree.below(SR[b0:b1].ravel()).reshape(SR[b0:b1].shape) + (below * V[b0:b1][None, None]).sum(
                        axis=(2, 3))
                    Mb = SL[b0:b1]
                    inside[SR[b0:b1][Mb]] += got[Mb]
                    tree.add(R[b0:b1][live[b0:b1]], V[b0:b1][live[b0:b1]])
        return inside


@register
@dataclass(frozen=True)
class PrefixLM(MaskPattern):
    """Prefix language model: the first p tokens attend bidirectionally among themselves, the rest
    causally to everything before them (Raffel et al. 2020, T5, arXiv 1910.10683; Dong et al. 2019,
    UniLM)."""

    sparse_from_blocks_max_n: ClassVar[int] = 8192  # closed forms serve larger n
    name: ClassVar[str] = "prefix-lm"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"p": _p(int, 64, 1, "prefix length")}
    example: ClassVar[str] = "prefix-lm:p=64"
    p: int = 64

    @property
    def causal(self):
        return self.p == 1

    def mask(self, n, q, kv):
        return (kv <= q) | ((q < self.p) & (kv < self.p))

    def _row_stats(self, n):
        i = np.arange(n)
        return np.zeros(n), np.where(i < self.p, min(self.p, n), i + 1).astype(float)

    def structure(self, n):
        return "structural"

    def sums(self, n):
        n = check_n(n)
        p = min(self.p, n)
        inv = 1.0 / self.row_normalisers(n)[1]
        j = np.arange(n)
        tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])
        c = np.where(j < p, p * (1.0 / p) + tail[p], tail[j])  # prefix column: every prefix row and every later row
        if self.causal:
            return StructuralSums(np.ones(n), c)
        s = np.where(j < p, (p - 1 - j) / p, 0.0)
        u = np.where(j < p, j / p, 0.0)
        return StructuralSums(np.ones(n), c, s, u)

    def matvec(self, n, x):
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        p = min(self.p, n)
        cs = np.cumsum(x, axis=0)
        inv = 1.0 / self.row_normalisers(n)[1]
        y = cs * inv.reshape((-1,) + (1,) * (x.ndim - 1))
        y[:p] = cs[p - 1] / p
        return y

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        p = min(self.p, n)
        z = y * (1.0 / self.row_normalisers(n)[1]).reshape((-1,) + (1,) * (y.ndim - 1))
        tail = np.cumsum(z[::-1], axis=0)[::-1]
        out = tail.copy()
        out[:p] = tail[p] + z[:p].sum(axis=0) if p < n else z[:p].sum(axis=0)
        return out


@register
@dataclass(frozen=True)
class Document(CausalSupportSums, MaskPattern):
    """Document masking for packed sequences: causal inside each document of L tokens, no attention across
    documents; with ``bos=1`` every token also sees token 0 (a shared BOS)."""

    sparse_from_blocks_max_n: ClassVar[int] = 8192  # closed forms serve larger n
    name: ClassVar[str] = "document"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"L": Param(int, 512, 1, "document length"),
                              "bos": Param(int, 0, 0, "1: token 0 is visible to every token", maximum=1)}
    example: ClassVar[str] = "document:L=128,bos=1"
    L: int = 512
    bos: int = 0

    @property
    def causal(self):
        return True

    def mask(self, n, q, kv):
        m = (kv <= q) & (kv // self.L == q // self.L)
        return m | (kv == 0) if self.bos else m

    def _row_stats(self, n):
        i = np.arange(n)
        return np.zeros(n), ((i % self.L) + 1 + (self.bos * (i >= self.L))).astype(float)

    def translates(self, n):
        """With a shared BOS, the rows from the second document on, period L: row i + L is row i shifted by L
        (keys ``{0} ∪ [L⌊i/L⌋, i]``, weights ``1/(i mod L + 2)``), and the BOS row reaches no other key."""
        n = check_n(n)
        return (1, self.L, n, self.L) if self.bos and n > 2 * self.L else None

    def hub_band(self, n):
        """With a shared BOS, token 0 is the hub; off it every key of row i lies in its own document, ``i − L < j ≤
        i``.  Without one the documents fall apart (φ_bip = 0 at their boundary): no hubs to declare."""
        n = check_n(n)
        return (1, min(self.L, n)) if self.bos else None

    def structure(self, n):
        return "structural"

    def sums(self, n):
        """Column j sums its document's rows from j on: a suffix sum inside each document (the (documents, L) view),
        never a difference of sums over the whole sequence, so every full document's column sums are the same
        numbers; with a shared BOS, token 0 adds every later document's rows."""
        n = check_n(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        docs = np.zeros(-(-n // self.L) * self.L)
        docs[:n] = inv
        docs = docs.reshape(-1, self.L)
        c = np.cumsum(docs[:, ::-1], axis=1)[:, ::-1].reshape(-1)[:n].copy()
        if self.bos and n > self.L:
            c[0] += float(np.cumsum(inv[self.L:][::-1])[-1])
        return StructuralSums(np.ones(n), c)

    # Row i's support: its document's tokens up to i, [s(i), i] with s(i) = L·⌊i/L⌋, and token 0 when bos = 1 and
    # i is past the first document.  Products, G's norms and cuts in O(n) from prefix sums.

    def _support_sums(self, n, v, strict=False):
        """``Σ_{j ∈ support(i)} v_j`` per row (without j = i when ``strict``); v of shape (n,) or (n, k)."""
        v = np.asarray(v, dtype=np.float64)
        i = np.arange(n)
        P = np.zeros((n + 1,) + v.shape[1:])
        np.cumsum(v, axis=0, out=P[1:])
        out = P[i + (0 if strict else 1)] - P[(i // self.L) * self.L]
        if self.bos:
            out[self.L:] += v[0]
        return out

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        z = y / self.row_normalisers(n)[1].reshape((-1,) + (1,) * (y.ndim - 1))
        j = np.arange(n)
        T = np.zeros((n + 1,) + y.shape[1:])  # T[a] = Σ_{i ≥ a} z_i
        T[:n] = np.cumsum(z[::-1], axis=0)[::-1]
        out = T[j] - T[np.minimum(n, (j // self.L + 1) * self.L)]
        if self.bos and n > self.L:
            out[0] += T[self.L]
        return out

    def hub_components(self, n):
        """With ``bos=1``: token 0 is the hub; the rest of document 0, the full documents 1 .. ⌊n/L⌋ − 1 (copies of
        one another: the same causal block, each row also seeing token 0) and the partial last document are the
        components.  Without a BOS the graph falls apart instead (:func:`~..structured.exact_split`)."""
        n = check_n(n)
        if not self.bos:
            return None
        L, full = self.L, n // self.L
        groups = [(np.array([1]), min(L, n) - 1)]
        if full >= 2:
            groups.append((np.arange(1, full) * L, L))
        if full >= 1 and n % L:
            groups.append((np.array([full * L]), n % L))
        return np.array([0]), [g for g in groups if g[1] > 0]

    structural_cuts: ClassVar[bool] = True

    def prefix_cuts(self, n, ts):
        # rows of t's document from t on see its t − s keys below t; with bos, every row of a later document sees
        # token 0 (and the rows of t's document too, when it is not the first)
        n = check_n(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])  # tail[a] = Σ_{i ≥ a} 1/count_i, from the end
        out = np.zeros(len(ts))
        for m, t in enumerate(np.asarray(ts, dtype=np.int64)):
            start = (t // self.L) * self.L
            end = min(n, start + self.L) if start < t else t  # rows of t's document at or after t
            inside = float(((t - start + self.bos * (start > 0)) * inv[t:end]).sum()) if end > t else 0.0
            out[m] = inside + (self.bos * tail[end] if end < n else 0.0)
        return out


@register
@dataclass(frozen=True)
class LongNet(CausalSupportSums, MaskPattern):
    """LongNet's dilated attention, causal, all heads merged: level k = 0..levels−1 splits the sequence
    into segments of w·2^k tokens and, inside a segment, a query sees the earlier keys of its residue
    modulo 2^k; the support is the union of the levels, uniform on it (Ding et al. 2023, "LongNet",
    arXiv 2307.02486)."""

    name: ClassVar[str] = "longnet"
    kind: ClassVar[str] = "preset"
    params: ClassVar[dict] = {"w": _p(int, 2048, 1, "first segment length"), "levels": _p(int, 3, 1, "levels")}
    example: ClassVar[str] = "longnet:w=64,levels=3"
    w: int = 2048
    levels: int = 3

    @property
    def causal(self):
        return True

    sparse_from_blocks_max_n: ClassVar[int] = 8192  # closed forms serve larger n

    def mask(self, n, q, kv):
        m = np.zeros(np.broadcast_shapes(q.shape, kv.shape), dtype=bool)
        for k in range(self.levels):
            seg, r = self.w << k, 1 << k
            m |= (kv <= q) & (q // seg == kv // seg) & ((q - kv) % r == 0)
        return m

    # Structure.  Level k's segments (w·2^k tokens) are halves of level k + 1's, and its residues modulo 2^k
    # refine level k − 1's, so inside the query's level-(k − 1) segment level k adds no key.  Row i's support is
    # therefore the *disjoint* union of [s_0(i), i] and, for k = 1..levels − 1, the keys j ≡ i (mod 2^k) in
    # [s_k(i), s_{k−1}(i)), s_k(i) the start of i's level-k segment.  Transposed: key j is seen by the queries
    # of [j, end of its level-0 segment) and, for each k ≥ 1, by the queries i ≡ j (mod 2^k) in the second half
    # of j's level-k segment when j lies in its first half.  Counts, sums, products and G's norms are then sums
    # over O(levels) arithmetic progressions per token: O(n · levels) through prefix sums along residue classes.
    # Past the top segment (w·2^(levels−1) tokens) no query sees an earlier segment: the graph falls apart.

    def _start(self, i, k):
        seg = self.w << k
        return (i // seg) * seg

    def _levels(self, i):
        """``(k, m, lo, hi)`` for k = 1..levels − 1: the keys ≡ i (mod m = 2^k) of [lo, hi) in row i's support."""
        return [(k, 1 << k, self._start(i, k), self._start(i, k - 1)) for k in range(1, self.levels)]

    def _transposed_levels(self, j, n):
        """``(k, m, lo, hi)`` for k = 1..levels − 1: the queries ≡ j (mod m = 2^k) of [lo, hi) that see key j."""
        return [(k, 1 << k, self._start(j, k - 1) + (self.w << (k - 1)),
                 np.minimum(n, self._start(j, k) + (self.w << k))) for k in range(1, self.levels)]

    @staticmethod
    def _progression(lo, hi, rho, m):
        """First and last index ≡ rho (mod m) in [lo, hi) (first > last when there is none)."""
        first = lo + (rho - lo) % m
        last = hi - 1 - (hi - 1 - rho) % m
        return first, last

    def _row_stats(self, n):
        i = np.arange(n)
        count = i - self._start(i, 0) + 1
        for _, m, lo, hi in self._levels(i):
            first, last = self._progression(lo, hi, i % m, m)
            count = count + np.maximum(0, (last - first) // m + 1)
        return np.zeros(n), count.astype(float)

    def structure(self, n):
        return "sparse" if check_n(n) <= self.sparse_from_blocks_max_n else "structural"

    def _progression_sums(self, v, levels, index):
        """``Σ_k Σ_{j ≡ index (mod m_k), j ∈ [lo_k, hi_k)} v_j`` for each index (levels as :meth:`_levels`)."""
        out = np.zeros((index.size,) + v.shape[1:])
        for _, m, lo, hi in levels:
            Q = class_prefix_sums(v, m)
            first, last = self._progression(lo, hi, index % m, m)
            ok = first <= last
            out[ok] += Q[last[ok] + m] - Q[first[ok]]
        return out

    def _support_sums(self, n, v, strict=False):
        """``Σ_{j ∈ support(i)} v_j`` for every row i (without j = i when ``strict``); v of shape (n,) or (n, k)."""
        v = np.asarray(v, dtype=np.float64)
        flat = v.reshape(n, -1)
        i = np.arange(n)
        P = np.zeros((n + 1, flat.shape[1]))
        np.cumsum(flat, axis=0, out=P[1:])
        out = P[i + (0 if strict else 1)] - P[self._start(i, 0)]
        out += self._progression_sums(flat, self._levels(i), i)
        return out.reshape(v.shape)

    def sums(self, n):
        n = check_n(n)
        return StructuralSums(np.ones(n), self.rmatvec(n, np.ones(n)))

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        z = (y / self.row_normalisers(n)[1].reshape((-1,) + (1,) * (y.ndim - 1))).reshape(n, -1)
        j = np.arange(n)
        T = np.zeros((n + 1, z.shape[1]))  # T[a] = Σ_{i ≥ a} z_i
        T[:n] = np.cumsum(z[::-1], axis=0)[::-1]
        out = T[j] - T[np.minimum(n, self._start(j, 0) + self.w)]
        out += self._progression_sums(z, self._transposed_levels(j, n), j)
        return out.reshape(y.shape)

    structural_cuts: ClassVar[bool] = True

    def prefix_cuts(self, n, ts):
        # rows i ≥ t see keys j < t only while their top segment starts before t: i < s_top(t − 1) + S
        n = check_n(n)
        count = self.row_normalisers(n)[1]
        top = self.w << (self.levels - 1)
        out = np.zeros(len(ts))
        for m_, t in enumerate(np.asarray(ts, dtype=np.int64)):
            i = np.arange(t, min(n, self._start(t - 1, self.levels - 1) + top))
            below = np.maximum(0, t - self._start(i, 0)).astype(float)  # level 0: [s_0(i), i] below t
            for _, m, lo, hi in self._levels(i):
                first, last = self._progression(lo, np.minimum(hi, t), i % m, m)
                below += np.maximum(0, (last - first) // m + 1)
            out[m_] = float((below / count[i]).sum())
        return out

