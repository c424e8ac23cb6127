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
from functools import cached_property
from typing import ClassVar

import numpy as np
from scipy import sparse as sp
from scipy.linalg import blas

from attention_transport.errors import AttentionTransportError, BadType
from attention_transport.numerics.operators import ROW_SUM_TOLERANCE
from attention_transport.numerics.patterns.base import Pattern, StructuralSums, row_ranges

__all__ = ["GivenMatrix", "SparseMatrixPattern", "sparse_matrix_pattern", "DenseMatrixPattern", "dense_matrix_pattern",
           "MATERIALISE_MAX_BYTES", "materialised_pattern"]


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


#: Bytes of float64 rows a dense matrix's products convert at once (a float64 matrix is multiplied whole).
DENSE_PRODUCT_BYTES = 64 << 20


@dataclass(frozen=True)
class DenseMatrixPattern(GivenMatrix):
    """A validated dense matrix beyond the dense route: blocks are float64 slices, products are BLAS
    products in float64 (no float32 rounding), λ₂ is iterative (no O(n³) eigensolver) and the bipartite
    scan streams its rows."""

    @cached_property
    def causal(self):
        """Whether every entry above the diagonal is zero (read once from the matrix, then kept)."""
        n = self.size
        for i0, i1 in row_ranges(n, n, DENSE_PRODUCT_BYTES):
            if np.triu(self._A[i0:i1], k=1 + i0).any():
                return False
        return True

    def structure(self, n):
        return "dense-matrix"

    def block(self, n, i0, i1, j0, j1):
        return np.asarray(self._A[i0:i1, j0:j1], dtype=np.float64) if self._n(n) else None

    def row_blocks(self, n, block_bytes=4 << 20):
        for i0, i1 in row_ranges(self._n(n), n, block_bytes):
            yield i0, i1, self.block(n, i0, i1, 0, n)

    def sparse(self, n):
        return None  # products of the float64 rows (below): no float32 rounding in λ₂

    def _chunks(self):
        """``(i0, i1, R)`` float64 row chunks of about :data:`DENSE_PRODUCT_BYTES` (the whole matrix when it is
        float64 already: a view, no copy)."""
        A = self._A
        if A.dtype == np.float64:
            yield 0, self.size, A
            return
        for i0, i1 in row_ranges(self.size, self.size, DENSE_PRODUCT_BYTES):
            yield i0, i1, A[i0:i1].astype(np.float64)

    def matvec(self, n, x):
        x = np.asarray(x, dtype=np.float64)
        out = np.empty((self._n(n),) + x.shape[1:])
        for i0, i1, R in self._chunks():
            out[i0:i1] = R @ x
        return out

    def rmatvec(self, n, y):
        y = np.asarray(y, dtype=np.float64)
        out = np.zeros((self._n(n),) + y.shape[1:])
        for i0, i1, R in self._chunks():
            out += R.T @ y[i0:i1]
        return out

    def symmetric_product(self, n, x):
        x = np.asarray(x, dtype=np.float64)
        A = self._A
        if A.dtype == np.float64 and A.flags.c_contiguous and self.causal:
            # (A + Aᵀ) x = S x + diag(A) x, S the symmetric matrix with A's lower triangle: one symmetric BLAS
            # product reads that triangle once (Aᵀ is its column-major view, no copy), not the square twice
            X = x.reshape(self._n(n), -1)
            Y = blas.dsymm(1.0, A.T, X, lower=0) + np.diagonal(A)[:, None] * X
            return Y.reshape(x.shape)
        out = np.zeros((self._n(n),) + x.shape[1:])
        for i0, i1, R in self._chunks():  # each float32 chunk converted once, used twice
            out[i0:i1] += R @ x
            out += R.T @ x[i0:i1]
        return out

    def tiled_bipartite_minimum(self, n):
        from attention_transport.numerics.landscapes import _tiled_bipartite_minimum
        from attention_transport.numerics.patterns.base import table_tile

        T = table_tile(self._n(n))
        return None if T is None else _tiled_bipartite_minimum(self._A, T)

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


#: A pattern with neither structure nor a sparse form (a pattern file with a dense support, a union of such) is
#: evaluated once into a float64 matrix of at most this many bytes (n = 16384), when the memory is there: λ₂
#: needs tens of products, and each product of a pattern file would evaluate the file's functions again.
MATERIALISE_MAX_BYTES = 2 << 30


def materialised_pattern(pattern, n):
    """``pattern`` at n as a :class:`DenseMatrixPattern`: its rows evaluated once, in row blocks, into one float64
    matrix (``8 n²`` bytes; the caller checks the memory).  Its products are then BLAS products, and every later
    pass reads memory instead of evaluating the pattern again."""
    M = np.empty((n, n))
    from attention_transport.numerics.patterns.masked import MaskPattern

    if isinstance(pattern, MaskPattern) and type(pattern).block is MaskPattern.block:
        pattern.fill_rows(n, M)  # one pass: each row block normalised as it is evaluated
    else:
        for i0, i1, R in pattern.row_blocks(n):
            M[i0:i1] = R
    digest = hashlib.sha256(f"{pattern!r} at n = {n}".encode()).hexdigest()  # the pattern's identity, not its bytes
    return DenseMatrixPattern(source=pattern.spec, digest=digest, size=n, _A=M)
