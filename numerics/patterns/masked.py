"""Patterns given by a mask (and a score) on index arrays, and patterns given by their support.

:class:`MaskPattern` is FlexAttention's convention in numpy: ``mask(q, kv)`` says
whether query q sees key kv, ``score(q, kv)`` its logit (uniform weights when a
family has none); row i is the softmax of the scores over its support.  Both are
evaluated on broadcast 0-based index arrays, a block of rows at a time, so memory
stays O(n · block) and time O(n²): the shape of a pattern with no structure.

:class:`SupportPattern` is for families whose support is sparse and *listable*:
``support_indices(n, i0, i1)`` returns the (row, column) pairs of rows i0..i1
directly, O(nnz), so the sparse matrix exists at n = 10⁶ without evaluating n²
predicates.  Weights are uniform on the support (``1/count``, rational).
"""
from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np
from scipy import sparse as sp

from attention_transport.errors import AttentionTransportError
from attention_transport.numerics.patterns.base import (
    SPARSE_MAX_NNZ,
    RowNormalised,
    check_n,
    row_ranges,
)

__all__ = ["MaskPattern", "SupportPattern", "BLOCKS_TO_SPARSE_MAX_NNZ"]

#: a pattern without listed structure gets a sparse matrix from its row blocks up to this many nonzeros
BLOCKS_TO_SPARSE_MAX_NNZ = 30_000_000


class MaskPattern(RowNormalised):
    """Entries ``softmax_j(score(i, j))`` over the support ``mask(i, j)`` of each row.

    A family defines :meth:`mask` and, if its weights are not uniform, :meth:`score`
    with ``has_score = True``.  Both take broadcast integer arrays ``q`` (column)
    and ``kv`` (row) and n; ``mask`` returns booleans, ``score`` finite floats
    (``−inf`` removes an entry).
    """

    has_score: ClassVar[bool] = False
    #: largest n for which the sparse matrix is assembled from an O(n²) pass over the row blocks
    sparse_from_blocks_max_n: ClassVar[int] = 1 << 16

    @abstractmethod
    def mask(self, n, q, kv):
        """Boolean support of rows ``q`` (a column of indices) against keys ``kv`` (a row), broadcast."""

    def score(self, n, q, kv):
        return None

    @property
    def rational(self):
        return not self.has_score

    def _where(self):
        """How errors name the pattern (a file pattern names its file and function)."""
        return f"pattern {self.spec!r}"

    def _mask_block(self, n, i0, i1, j0, j1):
        if i1 <= i0 or j1 <= j0:
            return np.zeros((max(0, i1 - i0), max(0, j1 - j0)), dtype=bool)
        q = np.arange(i0, i1)[:, None]
        kv = np.arange(j0, j1)[None, :]
        m = np.asarray(self.mask(n, q, kv))
        if m.dtype != np.bool_:
            raise AttentionTransportError(f"{self._where()}: the mask must be boolean; got dtype {m.dtype} at rows "
                                          f"{i0}..{i1 - 1}.")
        return np.broadcast_to(m, (i1 - i0, j1 - j0))

    def _logits(self, n, i0, i1, j0, j1, m):
        q = np.arange(i0, i1)[:, None]
        kv = np.arange(j0, j1)[None, :]
        s = np.broadcast_to(np.asarray(self.score(n, q, kv), dtype=np.float64), m.shape)
        bad = m & (np.isnan(s) | (s == np.inf))
        if bad.any():
            a, b = np.argwhere(bad)[0]
            raise AttentionTransportError(f"{self._where()}: the score must be finite or -inf; got {s[a, b]} at "
                                          f"(i, j) = ({i0 + a}, {j0 + b}).")
        return np.where(m, s, -np.inf)

    def _row_stats(self, n):
        n = self._blocked(n)
        shift = np.zeros(n)
        z = np.zeros(n)
        for i0, i1 in row_ranges(n, n):
            m = self._mask_block(n, i0, i1, 0, n)
            if self.has_score:
                s = self._logits(n, i0, i1, 0, n, m)
                top = s.max(axis=1)
                ok = np.isfinite(top)
                shift[i0:i1] = np.where(ok, top, 0.0)
                z[i0:i1] = np.exp(s - shift[i0:i1, None]).sum(axis=1)
            else:
                z[i0:i1] = m.sum(axis=1)
            empty = np.flatnonzero(z[i0:i1] == 0)
            if empty.size:
                raise AttentionTransportError(f"{self._where()}: row {i0 + empty[0]} is empty (the mask admits no "
                                              "key, or every score is -inf); each query needs a key.")
        return shift, z

    def fill_rows(self, n, out):
        """Write the matrix into ``out`` (shape (n, n)) in one pass over row blocks: each block's mask and
        scores are evaluated once and normalised on the spot (no separate pass for the row normalisers)."""
        n = self._blocked(n)
        for i0, i1 in row_ranges(n, n):
            m = self._mask_block(n, i0, i1, 0, n)
            seen = np.flatnonzero(m.any(axis=0))  # scores only where the block's mask admits a key (causal: j ≤ i)
            j0, j1 = (int(seen[0]), int(seen[-1]) + 1) if seen.size else (0, 0)
            m = m[:, j0:j1]
            if self.has_score:
                s = self._logits(n, i0, i1, j0, j1, m)
                top = s.max(axis=1, initial=-np.inf)
                E = np.exp(s - np.where(np.isfinite(top), top, 0.0)[:, None])
            else:
                E = m.astype(np.float64)
            z = E.sum(axis=1)
            empty = np.flatnonzero(z == 0)
            if empty.size:
                raise AttentionTransportError(f"{self._where()}: row {i0 + empty[0]} is empty (the mask admits no "
                                              "key, or every score is -inf); each query needs a key.")
            out[i0:i1, :j0] = 0.0
            out[i0:i1, j1:] = 0.0
            np.divide(E, z[:, None], out=out[i0:i1, j0:j1])

    def block(self, n, i0, i1, j0, j1):
        n = check_n(n)
        shift, z = self.row_normalisers(n)
        m = self._mask_block(n, i0, i1, j0, j1)
        if not self.has_score:
            return m / z[i0:i1, None]
        s = self._logits(n, i0, i1, j0, j1, m)
        return np.exp(s - shift[i0:i1, None]) / z[i0:i1, None]

    def support_block(self, n, i0, i1, j0, j1):
        m = self._mask_block(check_n(n), i0, i1, j0, j1)
        if self.has_score:
            m = m & np.isfinite(self._logits(n, i0, i1, j0, j1, m))
        return m

    def nnz(self, n):
        A = self.sparse(check_n(n))
        return None if A is None else int(A.nnz)

    def structure(self, n):
        return "sparse" if self.sparse(n) is not None else "blocked"

    def _sparse(self, n):
        """The sparse matrix from one pass over row blocks, when the support has at most
        :data:`BLOCKS_TO_SPARSE_MAX_NNZ` entries (abandoned as soon as it has more)."""
        if n > min(self.blocked_max_n, self.sparse_from_blocks_max_n):
            return None
        count = 0
        for i0, i1 in row_ranges(n, n):  # the mask alone first: a dense support is abandoned before any score
            count += int(np.count_nonzero(self._mask_block(n, i0, i1, 0, n)))
            if count > BLOCKS_TO_SPARSE_MAX_NNZ:
                return None
        parts, count = [], 0
        for i0, i1, R in self.row_blocks(n):
            ii, jj = np.nonzero(self.support_block(n, i0, i1, 0, n))
            count += ii.size
            if count > BLOCKS_TO_SPARSE_MAX_NNZ:
                return None
            parts.append((ii + i0, jj, R[ii, jj]))
        ii, jj, vv = (np.concatenate(x) for x in zip(*parts))
        return sp.csr_matrix((vv, (ii, jj)), shape=(n, n))


class SupportPattern(MaskPattern):
    """Uniform weights on a support that a family lists directly (O(nnz), no n² predicate).

    A family defines :meth:`support_indices`; :meth:`mask` (for blocks and tests)
    is derived from it unless the family gives a vectorised predicate of its own.
    """

    @abstractmethod
    def support_indices(self, n, i0, i1):
        """``(rows, cols)`` int64 arrays of the support in rows ``i0..i1 − 1`` (duplicates allowed)."""

    def mask(self, n, q, kv):
        i0, i1 = int(q.min()), int(q.max()) + 1
        rows, cols = self.support_indices(n, i0, i1)
        M = np.zeros((i1 - i0, n), dtype=bool)
        M[rows - i0, cols] = True
        return M[:, kv.ravel()]

    def _support_csr(self, n):
        parts = [self.support_indices(n, i0, i1) for i0, i1 in row_ranges(n, 64, block_bytes=1 << 22)]
        rows = np.concatenate([p[0] for p in parts])
        cols = np.concatenate([p[1] for p in parts])
        M = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
        M.data[:] = 1.0  # duplicates summed: back to a 0/1 support
        M.sort_indices()
        return M

    def nnz(self, n):
        A = self.sparse(n)
        return None if A is None else int(A.nnz)

    def support_bound(self, n):
        """An upper bound on the number of support pairs (decides whether the sparse form is built)."""
        return n * n

    def structure(self, n):
        return "sparse" if self.support_bound(n) <= SPARSE_MAX_NNZ else "blocked"

    def _sparse(self, n):
        if self.support_bound(n) > SPARSE_MAX_NNZ:
            return None
        M = self._support_csr(n)
        counts = np.diff(M.indptr)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise AttentionTransportError(f"{self._where()}: row {empty[0]} is empty; each query needs a key.")
        M.data = np.repeat(1.0 / counts, counts)
        return M

    def _row_stats(self, n):
        A = self.sparse(n)
        if A is None:
            return super()._row_stats(n)
        return np.zeros(n), np.diff(A.indptr).astype(float)
