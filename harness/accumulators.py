"""Streaming accumulators: per-head sums gathered over blocks of attention rows, never the n × n map.

The streaming path (:mod:`.streaming`) computes each layer's attention in blocks
of query rows and hands every block to the accumulators that the wanted features
declare (:attr:`~attention_transport.harness.features.Feature.accumulators`).
One accumulator serves every feature that reads it (``phi``, ``t_star_over_n``,
``phi_boundary``, ``lapeig`` and ``attn_score`` all read :class:`RowColumnSums`).

An accumulator is built with the stream (heads ``H``, tokens ``n``, prompt
length ``p``, ``causal``, the feature settings, the row blocks), sees every
block once in :meth:`Accumulator.update` (causal maps: last rows first), and
finishes in :meth:`Accumulator.finish`, which may run a second pass over the
blocks.  Dependencies (:attr:`Accumulator.requires`) are updated first.

=====================  ================================================================
accumulator            what it gathers per head
=====================  ================================================================
``RowColumnSums``      row sums r, column sums c, the diagonal, and for a non-causal
                       map the strictly upper row and column sums s, u: the prefix
                       landscape is :func:`~attention_transport.numerics.landscapes.
                       prefix_landscape_from_sums` (C1)
``PromptRows``         ``Σ_{j<p} a_ij`` per response row
``RowEntropy``         ``−Σ_j a_ij log a_ij`` per response row
``LookbackRows``       the lookback ratio of each response row (``lookback``)
``ResponseBlock``      ``ρ_i = Σ_{j≥p} a_ij`` is complete with its row, so the column
                       sums of the renormalised response block ``Σ_i a_ij / ρ_i`` stream
``Asymmetry``          ``ΣN² = Σ a_ij² / (d_i d_j)`` with ``d = (r + c)/2``.  Causal map:
                       the blocks run from the last rows to the first; when a block is
                       done, every column from its first row on has all its mass (only
                       later rows attend to it), so the block's own ``d_i`` are final
                       and ``w_j = Σ_{i≠j} a_ij²/d_i`` accumulates in the same pass;
                       ``ΣN²`` off the diagonal is ``Σ_j w_j/d_j``, the diagonal part
                       ``Σ a_ii²/d_i²`` separately (no cancellation).  Non-causal map:
                       every ``d_j`` is final only after the last row, and
                       ``Σ N_ij N_ji`` needs the transposed block, so :meth:`finish`
                       rebuilds each block and its transpose from Q, K and the row
                       log-sum-exps of pass 1 (no storage of A)
``BipartiteLattice``   the two halves of each cut, ``Σ_{i<b, j≥a} a_ij`` and ``Σ_{i≥b, j<a}
                       a_ij``, at the lattice of cuts ``a, b ∈ {0, s, 2s, …, n}``,
                       ``s = ⌈n / bip_grid⌉`` (no cut is a difference of large sums):
                       exact (s = 1) while ``n ≤ bip_grid``; beyond, the minimum over the
                       lattice, an upper bound on the exact value.  Memory
                       ``2 (n/s + 1)²`` per head
=====================  ================================================================
"""
from __future__ import annotations

import math
import weakref
from abc import ABC, abstractmethod
from functools import cached_property

import numpy as np


__all__ = ["Accumulator", "sum64", "RowColumnSums", "ResponseRowStatistic", "PromptRows", "RowEntropy",
           "LookbackRows", "ResponseBlock", "Asymmetry", "BipartiteLattice", "exact_bipartite_minimum",
           "full_table_bipartite_minimum", "bip_line_tile"]


class Accumulator(ABC):
    """Per-head statistics of one layer gathered block by block. Subclass and implement :meth:`update`."""

    #: accumulators that must see each block first (and exist whenever this one does)
    requires = ()

    def __init__(self, stream):
        # a weak reference: the stream holds its accumulators, and a strong link back would make a cycle that
        # keeps the layer's map (and its float64 copy) alive until the cyclic collector happens to run; over a
        # long validation run the uncollected maps grew the resident set by gigabytes
        self.stream = weakref.proxy(stream)

    @abstractmethod
    def update(self, block):
        """Add one block (``block.A``: rows ``block.a..block.b−1``, columns ``0..block.cols−1``)."""

    def finish(self):
        """After the last block; may run a second pass over ``self.stream.blocks``."""


#: terms summed in float32 before the float64 accumulation of :func:`sum64`
SUM64_CHUNK = 8


def sum64(x, dim):
    """``Σ x`` along ``dim`` as float64: float32 sums of :data:`SUM64_CHUNK` consecutive terms, then float64.

    Each float32 partial sum has a relative error below ``SUM64_CHUNK · 2⁻²⁴`` of itself, and
    the partials add up in float64, so a column sum of n terms is accurate to about
    ``1e-6`` of its chunks' sizes, not of ``n`` times the largest term as a plain float32
    sum is: the prefix cut ``Σ_{k≤t} (c_k − r_k)`` subtracts sums of order n (a sink column),
    and a float32 column sum cost up to 1.2e-5 in φ on real heads.  A float64 sum of every
    term gives the same digits at several times the cost (the conversion of every entry).
    """
    import torch

    dim = dim % x.ndim
    n = x.shape[dim]
    full = n - n % SUM64_CHUNK
    out = x.narrow(dim, 0, full).unflatten(dim, (full // SUM64_CHUNK, SUM64_CHUNK)).sum(dim + 1)
    out = out.sum(dim, dtype=torch.float64)
    if full < n:
        out += x.narrow(dim, full, n - full).sum(dim, dtype=torch.float64)
    return out


def _zeros(stream, *shape):
    import torch

    return torch.zeros(stream.H, *shape, dtype=torch.float64, device=stream.device)


def _host(x):
    """A finished O(n) statistic as a float64 numpy array on the host (the only transfer off the device)."""
    return x.cpu().numpy()


class RowColumnSums(Accumulator):
    """Row sums, column sums, the diagonal, and for a non-causal map the strictly upper sums."""

    def __init__(self, stream):
        super().__init__(stream)
        n = stream.n
        self._r, self._c, self._diag = _zeros(stream, n), _zeros(stream, n), _zeros(stream, n)
        self._s, self._u = _zeros(stream, n), _zeros(stream, n)

    def update(self, block):
        import torch

        A, a, b, cols = block.A, block.a, block.b, block.cols
        self._r[:, a:b] = sum64(A, -1)
        self._c[:, :cols] += sum64(A, -2)
        self._diag[:, a:b] = torch.diagonal(A, offset=a, dim1=1, dim2=2)
        if not self.stream.causal:
            up = A * block.upper
            self._s[:, a:b] = sum64(up, -1)
            self._u[:, :cols] += sum64(up, -2)

    def finish(self):
        self.r, self.c, self.diag, self.s, self.u = (_host(x) for x in (self._r, self._c, self._diag, self._s,
                                                                         self._u))

    def degree(self, a, b):
        """``d_i = (r_i + c_i)/2`` for rows ``a..b−1`` (final for causal maps once their block is done)."""
        return 0.5 * (self._r[:, a:b] + self._c[:, a:b])

    @cached_property
    def landscapes(self):
        from attention_transport.numerics.landscapes import prefix_landscapes_from_sums

        extra = {} if self.stream.causal else {"upper": self.s, "lower": self.u}
        return prefix_landscapes_from_sums(self.r, self.c, direct=self.stream.direct_cuts, **extra)

    def landscape(self, h):
        """The prefix landscape of head h (C1 for causal maps), computed once."""
        return self.landscapes[h]

    @cached_property
    def minima(self):
        """``(capacity, t_star)`` of every head, as arrays (:func:`~attention_transport.numerics.landscapes.
        landscape_minima`)."""
        from attention_transport.numerics.landscapes import landscape_minima

        return landscape_minima(self.landscapes)


class ResponseRowStatistic(Accumulator):
    """One number per response row i ≥ p, from that row alone: subclass and implement :meth:`row_values`.

    ``values`` (after :meth:`finish`) has shape (heads, n); rows before p stay 0.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._values = _zeros(stream, stream.n)

    @abstractmethod
    def row_values(self, rows, first):
        """The statistic of each row of ``rows`` (heads, m, cols), rows ``first..first+m−1``: a float64 tensor
        (heads, m)."""

    def update(self, block):
        lo, Ar = block.response(self.stream.p)
        if Ar is not None:
            self._values[:, lo:block.b] = self.row_values(Ar, lo)

    def finish(self):
        self.values = _host(self._values)


class PromptRows(ResponseRowStatistic):
    """``Σ_{j<p} a_ij`` for every response row i."""

    def row_values(self, rows, first):
        return sum64(rows[..., :self.stream.p], -1)


class RowEntropy(ResponseRowStatistic):
    """``−Σ_j a_ij log a_ij`` for every response row i."""

    def row_values(self, rows, first):
        import torch

        return -sum64(torch.special.xlogy(rows, rows), -1)


class LookbackRows(ResponseRowStatistic):
    """The lookback ratio of every response row i (Chuang et al. 2024): the mean attention on a prompt key,
    over itself plus the mean attention on a response key the row sees (``p..i`` in a causal map, every
    response key otherwise)."""

    def row_values(self, rows, first):
        import torch

        p, m = self.stream.p, rows.shape[-2]
        context = sum64(rows[..., :p], -1) / p
        on = dict(dtype=torch.float64, device=rows.device)
        seen = (torch.arange(first - p + 1, first - p + 1 + m, **on) if self.stream.causal
                else torch.full((m,), float(self.stream.n - p), **on))
        new = sum64(rows[..., p:], -1) / seen
        return context / (context + new)


class ResponseBlock(Accumulator):
    """Column sums (and for a non-causal map strictly upper sums) of the row-renormalised response block."""

    def __init__(self, stream):
        import torch

        super().__init__(stream)
        n = stream.n
        self._rho = torch.ones(stream.H, n, dtype=torch.float64, device=stream.device)
        self._cb, self._sb, self._ub = _zeros(stream, n), _zeros(stream, n), _zeros(stream, n)

    def update(self, block):
        import torch

        p = self.stream.p
        lo, Ar = block.response(p)
        if Ar is None:
            return
        rho_blk = sum64(Ar[..., p:], -1)
        self._rho[:, lo:block.b] = rho_blk
        Bn = Ar[..., p:] / torch.where(rho_blk > 0, rho_blk, 1.0).to(Ar.dtype)[..., None]
        self._cb[:, p:block.cols] += sum64(Bn, -2)
        if not self.stream.causal:
            upb = Bn * block.upper[lo - block.a:, p:]
            self._sb[:, lo:block.b] = sum64(upb, -1)
            self._ub[:, p:block.cols] += sum64(upb, -2)

    def finish(self):
        self.rho, self.cb, self.sb, self.ub = (_host(x) for x in (self._rho, self._cb, self._sb, self._ub))

    def capacities(self):
        """Prefix capacity of each head's renormalised response block (``nan`` when undefined)."""
        from attention_transport.numerics.landscapes import landscape_minima, prefix_landscapes_from_sums

        n, p, out = self.stream.n, self.stream.p, np.full(self.stream.H, np.nan)
        heads = np.flatnonzero(np.all(self.rho[:, p:] > 0, axis=1))
        if n - p < 2 or heads.size == 0:
            return out
        extra = {} if self.stream.causal else {"upper": self.sb[heads, p:], "lower": self.ub[heads, p:]}
        landscapes = prefix_landscapes_from_sums(np.ones((heads.size, n - p)), self.cb[heads, p:], **extra)
        out[heads] = landscape_minima(landscapes)[0]
        return out


class Asymmetry(Accumulator):
    """The asymmetry coefficient G per head: one pass for causal maps, a second pass for non-causal ones."""

    requires = (RowColumnSums,)

    def __init__(self, stream):
        super().__init__(stream)
        self._w_off, self._dg = _zeros(stream, stream.n), _zeros(stream)

    def update(self, block):
        import torch

        if not self.stream.causal:
            return
        A, a, b, cols = block.A, block.a, block.b, block.cols
        diag = torch.diagonal(A, offset=a, dim1=1, dim2=2).double()
        inv = 1.0 / self.stream[RowColumnSums].degree(a, b)
        self._dg += (diag * inv).square().sum(-1)
        A2 = A * A
        torch.diagonal(A2, offset=a, dim1=1, dim2=2).zero_()
        self._w_off[:, :cols] += torch.matmul(inv.to(A.dtype)[:, None, :], A2)[:, 0]

    def finish(self):
        import torch

        sums = self.stream[RowColumnSums]
        d = sums.degree(0, self.stream.n)
        if self.stream.causal:
            off = (self._w_off / d).sum(-1)
            self.G = _host(torch.sqrt(off / (off + 2.0 * self._dg)))
        else:
            self.G = self._bidirectional(d)

    def _bidirectional(self, d):
        """``‖N − Nᵀ‖²/2 = Σ a_ij (a_ij − a_ji)/(d_i d_j)`` and ``‖N + Nᵀ‖²/2 = Σ a_ij (a_ij + a_ji)/(d_i d_j)``,
        entrywise (no cancellation between two large sums); ``a_ji`` comes from the transposed block,
        rebuilt from the row log-sum-exps of pass 1."""
        import torch

        blocks, lse = self.stream.blocks, self.stream.lse
        inv_d = 1.0 / d
        num, den = _zeros(self.stream), _zeros(self.stream)
        for a, b, cols in blocks.ranges():
            A = blocks.rebuilt(a, b, cols, lse)
            At = blocks.transposed(a, b, lse)
            inv32 = inv_d.to(A.dtype)[:, :cols, None]
            num += (torch.matmul(A * (A - At), inv32)[..., 0].double() * inv_d[:, a:b]).sum(-1)
            den += (torch.matmul(A * (A + At), inv32)[..., 0].double() * inv_d[:, a:b]).sum(-1)
        return _host(torch.sqrt(num / den))


class BipartiteLattice(Accumulator):
    """The bipartite landscape on the lattice ``a, b ∈ {0, s, 2s, …} ∪ {n}``, every term a sum of nonnegatives.

    For ``X = {k_1..k_a} ∪ {q_1..q_b}`` the cut is ``U_{b,a} + L_{b,a}`` with
    ``U = Σ_{i<b, j≥a} a_ij`` (queries inside, keys outside) and ``L = Σ_{i≥b, j<a} a_ij``;
    ``vol X = R_b + C_a`` and ``vol Xᶜ = R̄_b + C̄_a`` from prefix and suffix sums of the row
    and column sums.  None of them is a difference, so a sink head's cut of 1e-12 against
    volumes of order n keeps its digits (a cut written as ``R_b + C_a − 2 M_{b,a}`` would not).

    Each block of rows (in any order) contributes its column-segment prefix sums ``P_i(a)``
    and suffix sums ``Q_i(a)``: running sums of ``Q`` over the block's rows give ``U`` at the
    lattice rows inside it, reverse running sums of ``P`` give ``L``; the totals of the
    blocks before (for ``U``) and after (for ``L``) are added at the end.  Memory
    ``2 × heads × (n/s + 1)²`` float64: bounded by the grid, not by n.
    """

    def __init__(self, stream):
        super().__init__(stream)
        n = stream.n
        self.n, self.s = n, stream.config.stride(n)
        self.g = math.ceil(n / self.s)
        self.b_grid = [min(k * self.s, n) for k in range(self.g + 1)]
        self.upper = None  # the lattice's tables, allocated by the first block that needs them

    def _allocate(self):
        import torch

        H, n = self.stream.H, self.n
        f64 = dict(dtype=torch.float64, device=self.stream.device)
        self.upper = torch.zeros(H, self.g + 1, self.g + 1, **f64)  # [h, k_b, k_a]: U within its block
        self.lower = torch.zeros(H, self.g + 1, self.g + 1, **f64)  # L within its block
        self.upper_owner = [None] * (self.g + 1)  # block holding row b_k − 1 (U needs rows < b_k)
        self.lower_owner = [None] * (self.g + 1)  # block holding row b_k (L needs rows ≥ b_k)
        self.totals_q, self.totals_p = {}, {}
        self.r = torch.zeros(H, n, **f64)
        self.col_p = torch.zeros(H, self.g + 1, **f64)  # C_a = Σ_{j<a} c_j
        self.col_q = torch.zeros(H, self.g + 1, **f64)  # C̄_a = Σ_{j≥a} c_j

    def update(self, block):
        import torch

        A, a, b, cols = block.A, block.a, block.b, block.cols
        if self.s == 1 and (a, b, cols) == (0, self.n, self.n):  # the whole map at once: every cut, directly
            self.exact = exact_bipartite_minimum(A)
            return
        if self.upper is None:
            self._allocate()
        H, g, st = A.shape[0], self.g, self.s
        full = cols // st
        f64 = dict(dtype=torch.float64, device=A.device)
        # segment sums of at most st entries in float32 (relative error ~1e-7, no cancellation), then float64
        segs = torch.zeros(H, b - a, g, **f64)
        segs[..., :full] = A[..., : full * st].unflatten(-1, (full, st)).sum(-1)
        if full * st < cols:
            segs[..., full] = A[..., full * st: cols].sum(-1)
        self.r[:, a:b] = segs.sum(-1)
        run = torch.cumsum(segs, 1)  # rows a..i, per column segment
        total = run[:, -1]
        self.totals_q[a], self.totals_p[a] = _suffix(total), _prefix(total)
        self.col_p += self.totals_p[a]
        self.col_q += self.totals_q[a]
        ks_u = [k for k, bk in enumerate(self.b_grid) if a < bk <= b]
        ks_l = [k for k, bk in enumerate(self.b_grid) if a <= bk < b]
        if ks_u:  # U within the block: rows a..b_k − 1, keys ≥ a_j
            self.upper[:, ks_u] = _suffix(run[:, [self.b_grid[k] - a - 1 for k in ks_u]])
            for k in ks_u:
                self.upper_owner[k] = a
        if ks_l:  # L within the block: rows b_k..b − 1, keys < a_j (row suffix sums, no differences)
            below = segs.flip(1).cumsum_(1)  # below[:, m] = Σ of the last m + 1 rows
            self.lower[:, ks_l] = _prefix(below[:, [b - 1 - self.b_grid[k] for k in ks_l]])
            for k in ks_l:
                self.lower_owner[k] = a

    exact = None  #: φ_bip per head when one block held the whole map (:func:`exact_bipartite_minimum`)

    def finish(self):
        self.phi = self.exact if self.exact is not None else self.minimum()

    def minimum(self):
        """``φ_bip`` per head, the minimum over the lattice (``nan`` for a head with no defined cut)."""
        import torch

        starts = sorted(self.totals_q)
        index = {a: m for m, a in enumerate(starts)}
        q = torch.stack([self.totals_q[a] for a in starts])  # (blocks, H, g + 1)
        p = torch.stack([self.totals_p[a] for a in starts])
        before = torch.zeros_like(q)  # blocks above each block: an exclusive prefix sum, no differences
        torch.cumsum(q[:-1], 0, out=before[1:])
        after = torch.zeros_like(p)  # blocks below each block: an exclusive suffix sum
        after[:-1] = p[1:].flip(0).cumsum_(0).flip(0)
        U, L = self.upper.clone(), self.lower.clone()
        ku = [k for k, a in enumerate(self.upper_owner) if a is not None]
        kl = [k for k, a in enumerate(self.lower_owner) if a is not None]
        U[:, ku] += before[[index[self.upper_owner[k]] for k in ku]].transpose(0, 1)
        L[:, kl] += after[[index[self.lower_owner[k]] for k in kl]].transpose(0, 1)
        rows = torch.tensor(self.b_grid, device=self.r.device)
        zero = self.r.new_zeros(self.r.shape[0], 1)
        prefix = torch.cat([zero, self.r.cumsum(-1)], -1)
        suffix = torch.cat([self.r.flip(-1).cumsum(-1).flip(-1), zero], -1)
        Rb, Rc = prefix[:, rows, None], suffix[:, rows, None]
        Ca, Cc = self.col_p[:, None, :], self.col_q[:, None, :]
        best = U.new_full((U.shape[0],), float("inf"))
        for k0 in range(0, U.shape[1], 64):  # rows of the lattice in chunks: temporaries stay in cache
            cut = U[:, k0: k0 + 64] + L[:, k0: k0 + 64]
            denom = torch.minimum(Rb[:, k0: k0 + 64] + Ca, Rc[:, k0: k0 + 64] + Cc)
            phi = cut.div_(denom).masked_fill_(denom <= 0, float("inf"))
            best = torch.minimum(best, phi.flatten(1).amin(-1))
        return _host(_nan_if_inf(best))


#: bytes of one float64 (n + 1)² table per chunk of heads in :func:`full_table_bipartite_minimum`: tables that
#: stay near the cache are faster (SmolLM2-135M's 270 heads at HaluEval-QA length, all crowded heads of an
#: example: 0.167 s with 64 MiB chunks, 0.044–0.06 s with 4–8 MiB)
EXACT_BIP_BYTES = 8 << 20


def full_table_bipartite_minimum(A):
    """``φ_bip`` of every head of ``A`` (heads, n, n), every cut ``(a, b)``, from full ``(n + 1)²`` tables.

    ``U_{b,a} = Σ_{i<b} Σ_{j≥a} a_ij`` is a prefix sum over rows of the rows' column suffix sums,
    ``L_{b,a} = Σ_{i≥b} Σ_{j<a} a_ij`` a suffix sum over rows of their column prefix sums, and the
    volumes are prefix and suffix sums of the row and column sums: every quantity is a sum of
    nonnegative terms, as in the lattice (no cut is a difference of large sums).  Heads go in chunks
    whose tables stay near :data:`EXACT_BIP_BYTES`.  Returns float64 numpy (heads,), ``nan`` for a
    head with no defined cut.
    """
    import torch

    H, n = A.shape[0], A.shape[-1]
    chunk = max(1, EXACT_BIP_BYTES // (8 * (n + 1) ** 2))
    out = []
    for h0 in range(0, H, chunk):
        X = A[h0:h0 + chunk].to(torch.float64)
        m = X.shape[0]
        U = X.new_zeros(m, n + 1, n + 1)
        U[:, 1:, :n] = X.flip(-1).cumsum(-1).flip(-1)
        U.cumsum_(1)
        L = X.new_zeros(m, n + 1, n + 1)
        L[:, :n, 1:] = X.cumsum(-1)
        L = L.flip(1).cumsum_(1).flip(1)
        r, c = X.sum(-1), X.sum(-2)
        vol = _prefix(r)[:, :, None] + _prefix(c)[:, None, :]
        comp = _suffix(r)[:, :, None] + _suffix(c)[:, None, :]
        denom = torch.minimum(vol, comp)
        phi = U.add_(L).div_(denom).masked_fill_(denom <= 0, float("inf")).flatten(1).amin(-1)
        out.append(phi)
    return _host(_nan_if_inf(torch.cat(out)))


def _nan_if_inf(phi):
    import torch

    return torch.where(torch.isfinite(phi), phi, torch.full_like(phi, float("nan")))


def bip_line_tile(n):
    """Side T of the tiles of cuts of :func:`exact_bipartite_minimum` at n: about √n, a multiple of 4, at least
    12.  The lines cost O(n²/T) per head, the candidate tiles, whose share grows with T, O(T²) each.  Measured on
    SmolLM2-135M's 270 heads: at n ≈ 150 (HaluEval-QA), T = 8, 12, 16 took 35, 30, 31 ms; at n = 767, T = 16,
    32, 64 took 554, 318, 585 ms; at n = 1580, T = 16, 32, 48 took 2.8, 1.4, 1.1 s."""
    return max(12, 4 * round(math.sqrt(n) / 4))


#: candidate tiles, as a fraction of a head's tiles, beyond which :func:`exact_bipartite_minimum` takes the head's
#: full tables instead (:func:`full_table_bipartite_minimum`)
CROWDED_TILES = 0.25


def _group_sums(A, T, dim):
    """Sums of consecutive groups of T entries of ``A`` along ``dim`` (1 or 2), the last group partial: the
    axis shrinks to ``⌈len/T⌉``."""
    import torch

    n = A.shape[dim]
    full = n // T
    parts = []
    if full:
        parts.append(A.narrow(dim, 0, full * T).unflatten(dim, (full, T)).sum(dim + 1))
    if full * T < n:
        parts.append(A.narrow(dim, full * T, n - full * T).sum(dim, keepdim=True))
    return torch.cat(parts, dim) if len(parts) > 1 else parts[0]


def _ratio(cut, den):
    """``cut / den`` in place, +inf where no volume is on one side (no defined cut)."""
    return cut.div_(den).masked_fill_(den <= 0, float("inf"))


def exact_bipartite_minimum(A, tile=None):
    r"""``φ_bip`` of every head of ``A`` (heads, n, n): the minimum over every cut ``(a, b)``, by bounding tiles.

    ``U(b, a) = Σ_{i<b, j≥a} a_ij`` (queries inside, keys outside) and ``L(b, a) = Σ_{i≥b, j<a} a_ij`` are
    the cut's two halves; ``vol = R_b + C_a`` and ``comp = R̄_b + C̄_a`` from prefix and suffix sums of
    the row and column sums.  The cuts ``(b, a) ∈ [0, n]²`` are cut into tiles of ``T = tile`` (default
    :func:`bip_line_tile`) rows and columns, whose edges are the lattice lines ``b_k = kT`` and
    ``a_m = mT``.  One pass over A gives the row sums of each column segment and the column sums of
    each row group; from them, every one a sum of nonnegative terms, ``U`` and ``L`` on every lattice
    line: at ``b_k`` for every a, and at every b for ``a_m``.  The cells on the lines are cuts: their
    minimum is an upper bound ``φ⁺``.  U grows with b and falls with a, L the reverse, the volume grows
    with both and the complement's falls, so between two lattice rows, for every column a,

    .. math:: φ(b, a) \ge \frac{U(b_k, a) + L(b_{k+1}, a)}{\min(R_{b_{k+1}} + C_a,\ \bar R_{b_k} + \bar C_a)},
              \qquad b_k \le b \le b_{k+1},

    and between two lattice columns, for every row b, the same with the roles of b and a exchanged.  A
    tile is a candidate only if both bounds fall below ``φ⁺`` somewhere on it: some column of it in its
    band of rows, some row of it in its band of columns.  Candidates are evaluated cell by cell, from
    the lines and the tile's own T × T entries, again sums of nonnegatives only; the minimum is exact.
    A head with more than :data:`CROWDED_TILES` of its tiles candidates goes to
    :func:`full_table_bipartite_minimum`.  Returns float64 numpy (heads,), ``nan`` for a head with no
    defined cut.
    """
    import torch

    H, n = A.shape[0], A.shape[-1]
    T = int(tile or bip_line_tile(n))
    G = -(-(n + 1) // T)  # tiles per side: cells 0..GT − 1 cover the cuts 0..n
    seg = _group_sums(A, T, 2)  # [h, i, m]: row i over columns mT..(m+1)T − 1
    blk = _group_sums(A, T, 1)  # [h, k, j]: column j over rows kT..(k+1)T − 1
    g = seg.shape[-1]  # groups: ⌈n/T⌉, G or G − 1
    R, C = _prefix(seg.sum(-1)), _prefix(blk.sum(1))
    Rs, Cs = _suffix(seg.sum(-1)), _suffix(blk.sum(1))
    dev = A.device
    k_of = torch.arange(G + 1, device=dev).clamp_(max=g)  # line k (b_k = min(kT, n)) → its row of the group tables
    lat = (torch.arange(G + 1, device=dev) * T).clamp_(max=n)
    seg_after, seg_before = _suffix(seg), _prefix(seg)  # [h, i, m]: Σ_{j ≥ mT} a_ij and Σ_{j < mT} a_ij
    UR = _prefix(_suffix(blk), 1)[:, k_of]  # [h, k, a] = U(b_k, a)
    LR = _suffix(_prefix(blk), 1)[:, k_of]  # [h, k, a] = L(b_k, a)
    UC = _prefix(seg_after, 1)[..., k_of]  # [h, b, m] = U(b, a_m)
    LC = _suffix(seg_before, 1)[..., k_of]  # [h, b, m] = L(b, a_m)
    Rl, Rsl, Cl, Csl = R[:, lat, None], Rs[:, lat, None], C[:, None, lat], Cs[:, None, lat]
    best = torch.minimum(
        _ratio(UR + LR, torch.minimum(Rl + C[:, None], Rsl + Cs[:, None])).flatten(1).amin(-1),
        _ratio(UC + LC, torch.minimum(R[..., None] + Cl, Rs[..., None] + Csl)).flatten(1).amin(-1))
    # a bound of +inf or nan (no volume on one side anywhere in the band) is never below φ⁺
    below = (best * (1 + 1e-12))[:, None, None]
    rows = _ratio(UR[:, :-1] + LR[:, 1:], torch.minimum(Rl[:, 1:] + C[:, None], Rsl[:, :-1] + Cs[:, None])) < below
    cols = _ratio(UC[..., 1:] + LC[..., :-1], torch.minimum(R[..., None] + Cl[..., 1:], Rs[..., None] + Csl[..., :-1])
                  ) < below
    past = G * T - (n + 1)  # cells past the last cut: never candidates
    pad = torch.nn.functional.pad
    candidate = (pad(rows, (0, past)).view(H, G, G, T).any(-1)  # [h, k, m]: some column of tile (k, m)
                 & pad(cols, (0, 0, 0, past)).view(H, G, T, G).any(2))  # and some row of it
    crowded = candidate.flatten(1).sum(-1) > CROWDED_TILES * G * G
    if bool(crowded.any()):
        best[crowded] = torch.from_numpy(full_table_bipartite_minimum(A[crowded])).to(best).nan_to_num(float("inf"))
        candidate[crowded] = False
    h, k, m = candidate.nonzero(as_tuple=True)
    if h.numel():
        t = torch.arange(T, device=dev)
        b = k[:, None] * T + t  # (K, T): the tile's cuts b, and its query rows i = b
        a = m[:, None] * T + t  # (K, T): its cuts a, and its key columns j = a
        bi, aj = b.clamp(max=n - 1), a.clamp(max=n - 1)
        X = A.reshape(-1).take((h[:, None, None] * n + bi[:, :, None]) * n + aj[:, None, :])  # (K, T, T)
        inside = b < n
        if not bool(inside.all()) or not bool((a < n).all()):  # rows and columns past n hold nothing
            X = X * (inside[:, :, None] & (a < n)[:, None, :])
        rows_i = h[:, None] * n + bi
        # S_i(a) = Σ_{j ≥ a} x_ij and P_i(a) = Σ_{j < a} x_ij for the tile's rows i and columns a
        after = seg_after.reshape(H * n, g + 1)[rows_i, (m + 1).clamp(max=g)[:, None]] * inside
        before = seg_before.reshape(H * n, g + 1)[rows_i, m.clamp(max=g)[:, None]] * inside
        S = _suffix(X)[..., :T] + after[..., None]
        P = _prefix(X)[..., :T] + before[..., None]
        # U(b, a) = U(kT, a) + Σ_{kT ≤ i < b} S_i(a);  L(b, a) = L((k+1)T, a) + Σ_{b ≤ i < (k+1)T} P_i(a)
        ac, bc = a.clamp(max=n), b.clamp(max=n)
        Ut = UR[h[:, None], k[:, None], ac][:, None, :] + _prefix(S, 1)[:, :T]
        Lt = LR[h[:, None], k[:, None] + 1, ac][:, None, :] + _suffix(P, 1)[:, :T]
        hh = h[:, None]
        den = torch.minimum(R[hh, bc][..., None] + C[hh, ac][:, None, :],
                            Rs[hh, bc][..., None] + Cs[hh, ac][:, None, :])
        best = best.scatter_reduce(0, h, _ratio(Ut + Lt, den).flatten(1).amin(-1), reduce="amin")
    return _host(_nan_if_inf(best))


def _prefix(x, dim=-1):
    """``[0, x_0, x_0 + x_1, …]`` along ``dim`` (float64)."""
    import torch

    dim = dim % x.ndim
    shape = list(x.shape)
    shape[dim] += 1
    out = x.new_zeros(shape)
    torch.cumsum(x, dim, out=out.narrow(dim, 1, x.shape[dim]))
    return out


def _suffix(x, dim=-1):
    """``[Σ_{j≥0} x_j, Σ_{j≥1} x_j, …, 0]`` along ``dim``, each a sum of the terms themselves."""
    dim = dim % x.ndim
    shape = list(x.shape)
    shape[dim] += 1
    out = x.new_zeros(shape)
    out.narrow(dim, 0, x.shape[dim]).copy_(x.flip(dim).cumsum_(dim).flip(dim))
    return out

