"""A given matrix as a pattern of one length: ``--matrix FILE.npz`` holding a scipy sparse matrix.

Dense ``.npy``/``.npz`` arrays keep their dense route (``check_matrix``); a sparse
matrix (CSR, CSC or COO, saved with ``scipy.sparse.save_npz``) becomes a
:class:`SparseMatrixPattern` and goes through the same structural passes as any
sparse pattern, so a matrix with 10⁶ rows and a few nonzeros per row is checked
without densifying it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy import sparse as sp

from attention_transport.errors import AttentionTransportError, BadType
from attention_transport.numerics.operators import ROW_SUM_TOLERANCE
from attention_transport.numerics.patterns.base import Pattern, StructuralSums

__all__ = ["GivenMatrix", "SparseMatrixPattern", "sparse_matrix_pattern", "DenseMatrixPattern", "dense_matrix_pattern"]


@dataclass(frozen=True)
class GivenMatrix(Pattern):
    """A matrix the user gave: a pattern of one length, identified by the sha256 of its contents
    (equal patterns have equal contents)."""

    name: ClassVar[str] = "matrix"
    source: str = "matrix"
    digest: str = ""
    size: int = 0
    _A: object = field(default=None, compare=False, hash=False, repr=False)

    @property
    def spec(self):
        return f"matrix:{self.source}"

    def _n(self, n):
        if n != self.size:
            raise AttentionTransportError(f"{self.source} is a matrix of n = {self.size}; got n = {n}.")
        return n


@dataclass(frozen=True)
class SparseMatrixPattern(GivenMatrix):
    """A validated nonnegative sparse matrix; equal patterns have equal contents (sha256)."""


    @property
    def causal(self):
        return sp.triu(self._A, k=1).count_nonzero() == 0

    def block(self, n, i0, i1, j0, j1):
        return self._A[i0:i1, j0:j1].toarray() if self._n(n) else None

    def support_block(self, n, i0, i1, j0, j1):
        S = self._A[i0:i1, j0:j1].copy()
        S.data[:] = 1.0
        return S.toarray() > 0

    def nnz(self, n):
        return int(self._A.nnz)

    def structure(self, n):
        return "sparse"

    def sparse(self, n):
        return self._A if self._n(n) else None

    def sums(self, n):
        self._n(n)
        A = self._A
        r = np.asarray(A.sum(axis=1)).ravel()
        c = np.asarray(A.sum(axis=0)).ravel()
        U = sp.triu(A, k=1)
        if U.count_nonzero() == 0:
            return StructuralSums(r, c)
        return StructuralSums(r, c, np.asarray(U.sum(axis=1)).ravel(), np.asarray(U.sum(axis=0)).ravel())


def sparse_matrix_pattern(M, source="matrix", row_tol="auto"):
    """Validate a scipy sparse matrix as an attention matrix and wrap it.

    Raises
    ------
    AttentionTransportError
        Not square, n < 2, a non-float dtype, a negative or non-finite entry, or
        (with ``row_tol``) a row whose sum is off 1 by more than the tolerance;
        each message names ``source`` and the first offending entry or row.
    """
    if not sp.issparse(M):
        raise BadType(f"{source}: expected a scipy sparse matrix; got {type(M).__name__}.")
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise AttentionTransportError(f"{source}: the matrix must be square; got shape {M.shape}.")
    n = M.shape[0]
    if n < 2:
        raise AttentionTransportError(f"{source}: a cut needs n >= 2 tokens; got n = {n}.")
    if M.dtype not in (np.float16, np.float32, np.float64):
        raise AttentionTransportError(f"{source}: matrix dtype must be float16, float32 or float64; got {M.dtype}.")
    in_dtype = M.dtype
    A = sp.csr_matrix(M, dtype=np.float64)
    A.sum_duplicates()
    coo = A.tocoo()
    bad = ~np.isfinite(coo.data) | (coo.data < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise AttentionTransportError(f"{source}: entries must be finite and nonnegative; got A[{coo.row[k]}, "
                                      f"{coo.col[k]}] = {coo.data[k]}.")
    if row_tol is not None:
        tol = ROW_SUM_TOLERANCE.get(np.dtype(in_dtype), 1e-9) if row_tol == "auto" else float(row_tol)
        r = np.asarray(A.sum(axis=1)).ravel()
        worst = int(np.argmax(np.abs(r - 1.0)))
        if abs(r[worst] - 1.0) > tol:
            raise AttentionTransportError(f"{source}: rows must sum to 1 within {tol:g}; got row {worst} summing "
                                          f"to {r[worst]:.10g}.")
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(x).tobytes()
                                     for x in (A.indptr, A.indices, A.data))).hexdigest()
    return SparseMatrixPattern(source=str(source), digest=digest, size=n, _A=A)


@dataclass(frozen=True)
class DenseMatrixPattern(GivenMatrix):
    """A validated dense matrix beyond the dense route: blocks are float64 slices, products stream them (no
    float32 rounding), λ₂ is iterative (no O(n³) eigensolver) and the bipartite scan streams its rows."""


    @property
    def causal(self):
        return not np.triu(self._A, k=1).any()

    def structure(self, n):
        return "dense-matrix"

    def block(self, n, i0, i1, j0, j1):
        return np.asarray(self._A[i0:i1, j0:j1], dtype=np.float64) if self._n(n) else None

    def row_blocks(self, n, block_bytes=4 << 20):
        from attention_transport.numerics.patterns.base import row_ranges

        for i0, i1 in row_ranges(self._n(n), n, block_bytes):
            yield i0, i1, self.block(n, i0, i1, 0, n)

    def sparse(self, n):
        return None  # products stream float64 row blocks (the base class): no float32 rounding in λ₂

    def sums(self, n):
        from attention_transport.numerics.landscapes import _streamed_sums

        r, c, s, u = _streamed_sums(self._A)
        if not s.any():
            return StructuralSums(r, c)
        return StructuralSums(r, c, s, u)


def dense_matrix_pattern(A, source="matrix"):
    """Wrap an already validated dense matrix (see ``check_matrix``) as a pattern of its one length."""
    digest = hashlib.sha256(np.ascontiguousarray(A).reshape(-1).view(np.uint8)).hexdigest()  # no copy of A
    return DenseMatrixPattern(source=str(source), digest=digest, size=int(A.shape[0]), _A=A)
