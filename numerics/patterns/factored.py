"""Patterns of the form ``A = Φ Ψ`` through few classes of rows: sums and G without the n×n matrix.

BigBird's rows repeat: every query of a block has the same keys and weights, so ``A = E Ψ`` with E the
(n, m) indicator of the m query blocks and Ψ the (m, n) matrix of their rows.  A layer before it keeps the
form (``A B = E (Ψ B)``) and so does a layer after it (``C A = (C E) Ψ``): a stack of BigBird and sparse
layers is ``Φ Ψ`` with Φ of shape (n, m) and a few entries a row, Ψ of shape (m, n), though the product
itself has ~10⁹ nonzeros at n = 10⁶.  Every quantity below is a sum of nonnegative terms over the entries of
Φ and Ψ (and of m×m products of them), so it carries the rounding of an ordinary sum, never a cancellation —
except G's skew norm, ``2(F − T)``, which is refused where it would cancel.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse as sp

from attention_transport.errors import WontFit
from attention_transport.numerics.patterns.base import StructuralSums

__all__ = ["factored_sums", "factored_skew_norms", "row_running_sums", "SKEW_MIN_SHARE"]

#: rows × longest row of one padded chunk of the running sums (float64 entries): 32 MiB
_CHUNK_CELLS = 1 << 22
#: G² = (F − T)/(F + T) below this is refused (``F`` and ``T`` carry ~1e-13 relative rounding; their difference
#: would then carry more than 1e-10 of G)
SKEW_MIN_SHARE = 1e-3
#: most multiply-adds of the row-pair inner products of ``F`` before the factored G declines
PAIR_WORK_MAX = 1_000_000_000


def _csr(M):
    M = sp.csr_matrix(M, dtype=np.float64)
    M.sum_duplicates()  # also sorts the indices of every row
    return M


def row_running_sums(M, *, reverse):
    """``T[k]`` for every stored entry k of the CSR matrix M (sorted indices): the sum of the entries of its row
    from k to the row's end (``reverse``), or from the row's start to k.

    Each row's running sum restarts at 0 (rows padded into 2-D chunks, one row alone when it is long), so
    ``T[k]`` carries the rounding of a sum of its own row's terms: a cumulative sum over all of ``M.data``
    would carry the rounding of the whole matrix's mass, then subtract it away.
    """
    lens = np.diff(M.indptr)
    out = np.empty(M.nnz)
    r0, m = 0, M.shape[0]
    while r0 < m:
        r1, longest = r0 + 1, int(lens[r0])
        while r1 < m and max(longest, int(lens[r1])) * (r1 + 1 - r0) <= _CHUNK_CELLS:
            longest = max(longest, int(lens[r1]))
            r1 += 1
        k0, k1 = M.indptr[r0], M.indptr[r1]
        if k1 > k0:
            row = np.repeat(np.arange(r1 - r0), lens[r0:r1])
            at = np.arange(k1 - k0) - np.repeat(M.indptr[r0:r1] - k0, lens[r0:r1])  # place within its row
            if reverse:
                at = np.repeat(lens[r0:r1], lens[r0:r1]) - 1 - at  # the row's last entry first
            pad = np.zeros((r1 - r0, longest))
            pad[row, at] = M.data[k0:k1]
            np.cumsum(pad, axis=1, out=pad)
            out[k0:k1] = pad[row, at]
        r0 = r1
    return out


def _beyond(M, T, rows, cols, *, after):
    """For each query k: the sum of row ``rows[k]`` of M over its columns ``> cols[k]`` (``after``; T from
    :func:`row_running_sums` with ``reverse=True``) or ``< cols[k]`` (T with ``reverse=False``)."""
    n = M.shape[1]
    key = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(M.indptr)) * n + M.indices
    q = rows.astype(np.int64) * n + cols
    if after:
        k = np.searchsorted(key, q, side="right")  # first entry of the row past the column
        ok = k < M.indptr[rows + 1]
    else:
        k = np.searchsorted(key, q, side="left") - 1  # last entry of the row before the column
        ok = k >= M.indptr[rows]
    return np.where(ok, T[np.minimum(k, max(M.nnz - 1, 0))] if M.nnz else 0.0, 0.0)


def factored_sums(Phi, Psi):
    """:class:`~.base.StructuralSums` of ``A = Φ Ψ`` (Φ: (n, m), Ψ: (m, n), nonnegative).

    ``s_i = Σ_a Φ_ia Σ_{j > i} Ψ_aj`` — row a of Ψ summed past column i, once per stored entry of Φ — and
    ``u_j = Σ_a Ψ_aj Σ_{i < j} Φ_ia`` — column a of Φ summed above row j, once per stored entry of Ψ.
    O((nnz(Φ) + nnz(Ψ)) log) with no product formed.
    """
    Phi, Psi = _csr(Phi), _csr(Psi)
    n = Phi.shape[0]
    r = Phi @ np.asarray(Psi.sum(axis=1)).ravel()
    c = Psi.T @ np.asarray(Phi.sum(axis=0)).ravel()
    rows = np.repeat(np.arange(n), np.diff(Phi.indptr))  # the stored entries (i, a) of Φ
    after = _beyond(Psi, row_running_sums(Psi, reverse=True), Phi.indices, rows, after=True)
    s = np.bincount(rows, weights=Phi.data * after, minlength=n)
    PhiT = _csr(Phi.T)
    keys = np.repeat(np.arange(Psi.shape[0]), np.diff(Psi.indptr))  # the stored entries (a, j) of Ψ
    before = _beyond(PhiT, row_running_sums(PhiT, reverse=False), keys, Psi.indices, after=False)
    u = np.bincount(Psi.indices, weights=Psi.data * before, minlength=n)
    return StructuralSums(r, c, s, u)


def _heavy(M, floor):
    """Rows of the CSR matrix M with more than ``max(floor, 16 × the mean)`` stored entries."""
    lens = np.diff(M.indptr)
    return lens > max(floor, 16.0 * lens.mean()) if lens.size else np.zeros(0, dtype=bool)


def factored_skew_norms(Phi, Psi, x):
    """``(‖N − Nᵀ‖², ‖N + Nᵀ‖²)`` of ``N = X Φ Ψ X`` (``X = diag(x)``).

    ``F = ‖N‖² = Σ_i x_i² ‖(Φ_i Ψ) X‖²``.  For the light rows of Φ (a few classes each) it is
    ``Σ_ab (Φ_Lᵀ X² Φ_L)_ab ⟨Ψ_a, Ψ_b⟩_{X²}``: inner products of rows of Ψ only at the stored entries of an m×m
    matrix, those with a heavy row of Ψ (a global query) read from one product ``Ψ X² Ψ_aᵀ``.  The heavy rows of
    Φ (queries that reach every class, as a global row after BigBird does) are formed as rows of ``Φ Ψ``.
    ``T = ⟨N, Nᵀ⟩ = tr(C²)``, ``C = Ψ X² Φ = C_L + U Vᵀ`` with the heavy tokens' part of rank |H|:
    ``tr(C_L²) + 2 Σ_k V_kᵀ C_L U_k + tr((Vᵀ U)²)``.  Every term is a sum of nonnegative terms; the norms are
    ``2(F ∓ T)``.

    Raises
    ------
    WontFit
        When ``(F − T)/(F + T) < SKEW_MIN_SHARE`` (the difference would carry more rounding than G allows), or
        when the m×m products or the row pairs would exceed :data:`PAIR_WORK_MAX` multiply-adds.
    """
    Phi, Psi = _csr(Phi), _csr(Psi)
    x = np.asarray(x, dtype=np.float64)
    x2 = x * x
    heavy = _heavy(Phi, 64)
    PhiL = Phi[~heavy]
    gram = float((np.diff(PhiL.indptr).astype(np.float64) ** 2).sum())  # the work of Φ_Lᵀ X² Φ_L, before it is formed
    if gram > PAIR_WORK_MAX or heavy.sum() * float(Psi.nnz) > 10 * PAIR_WORK_MAX:
        raise WontFit(f"G of the factored form needs {max(gram, heavy.sum() * float(Psi.nnz)):.2e} multiply-adds "
                      f"for its m×m products (rows of Φ that meet many classes), over the limit {PAIR_WORK_MAX:.0e}")
    F = 0.0
    H = np.flatnonzero(heavy)
    PsiT = _csr(Psi.T)
    for k0 in range(0, H.size, 16):  # heavy rows of Φ: rows of Φ Ψ, 16 at a time
        rows = H[k0:k0 + 16]
        P = PsiT @ Phi[rows].T.toarray()  # (n, k): P[j, k] = (Φ Ψ)[rows_k, j]
        F += float((x2[rows] * (x2 @ (P * P))).sum())
    M1 = (PhiL.T @ sp.diags(x2[~heavy]) @ PhiL).tocoo()
    R = _csr(Psi @ sp.diags(x))  # rows of Ψ X: their inner products are ⟨·,·⟩_{X²}
    wide = _heavy(R, 1024)  # global queries: one product for all their pairs
    a, b, w = M1.row, M1.col, M1.data
    for k in np.flatnonzero(wide):
        g = R @ R[k].toarray().ravel()  # ⟨Ψ_b, Ψ_k⟩_{X²} for every b
        mine = (a == k) | ((b == k) & ~wide[a])  # each pair once: by its first heavy end
        F += float((w[mine] * g[np.where(a[mine] == k, b[mine], a[mine])]).sum())
    keep = ~wide[a] & ~wide[b]
    a, b, w = a[keep], b[keep], w[keep]
    lens = np.diff(R.indptr)
    work = lens[a] + lens[b]
    if float(work.sum()) > PAIR_WORK_MAX:
        raise WontFit(f"G of the factored form needs {float(work.sum()):.2e} multiply-adds of row pairs, over the "
                      f"limit {PAIR_WORK_MAX:.0e}")
    cum = np.cumsum(work)
    edges = np.searchsorted(cum, np.arange(_CHUNK_CELLS, cum[-1] if cum.size else 0, _CHUNK_CELLS))
    bounds = np.unique(np.concatenate([[0], edges, [a.size]]))  # chunks of about _CHUNK_CELLS multiply-adds
    for k0, k1 in zip(bounds[:-1], bounds[1:]):
        dots = np.asarray(R[a[k0:k1]].multiply(R[b[k0:k1]]).sum(axis=1)).ravel()
        F += float((w[k0:k1] * dots).sum())
    CL = _csr(Psi[:, ~heavy] @ sp.diags(x2[~heavy]) @ PhiL)
    T = float(CL.multiply(CL.T).sum())
    if H.size:
        U = (Psi[:, H] @ sp.diags(x2[H])).toarray()  # (m, |H|)
        V = Phi[H].T.toarray()  # (m, |H|)
        T += 2.0 * float((V * (CL @ U)).sum()) + float(((V.T @ U) * (U.T @ V)).sum())
    if not (F - T) >= SKEW_MIN_SHARE * (F + T):
        raise WontFit(f"G of the factored form would cancel: G² = (F − T)/(F + T) = {(F - T) / (F + T):.1e} is below "
                      f"{SKEW_MIN_SHARE:g}, where F and T's rounding would reach G's tenth digit")
    return 2.0 * (F - T), 2.0 * (F + T)
