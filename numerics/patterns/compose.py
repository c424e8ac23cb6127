"""Compositions of patterns: union of supports, convex mixture, depth (stack, repeat).

=====================  =====================================================================
``union(P, Q, ...)``   the union of the supports, uniform weights on it (rational)
``mix(P@0.3, Q@0.7)``  ``Σ w_k A_k``: a row-wise convex combination; weights exact decimals or
                       fractions summing to exactly 1
``stack(P1, ..., Pk)`` the transport after k layers, ``A_k ⋯ A_2 A_1`` (first listed = first layer)
``repeat(P, k)``       ``stack`` of k equal layers
=====================  =====================================================================

A stack of causal row-stochastic layers is causal and row-stochastic (claim C1k
in ``verify``), so its prefix landscape needs only the column sums of the
product, ``(A_k ⋯ A_1)ᵀ 1 = A_1ᵀ (A_2ᵀ ( ⋯ A_kᵀ 1))``: k transposed
matrix–vector products of the layers, each at the layer's own cost (C1 carried
over to depth).  Mixtures are linear, so their sums and products are the
weighted sums of their parts'.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np
from scipy import sparse as sp

from attention_transport.errors import AttentionTransportError, BadType
from attention_transport.numerics.patterns.base import (
    SPARSE_MAX_NNZ,
    Pattern,
    StructuralSums,
    band_from_blocks,
    check_n,
    row_ranges,
)
from attention_transport.numerics.patterns.kernels import UniformCausal
from attention_transport.numerics.patterns.masked import MaskPattern

__all__ = ["Union", "Mix", "Stack", "Repeat", "COMPOSITIONS", "format_weight"]


def _check_parts(parts, what):
    if not isinstance(parts, tuple) or not parts:
        raise AttentionTransportError(f"{what} needs at least one pattern; got {parts!r}.")
    for p in parts:
        if not isinstance(p, Pattern):
            raise BadType(f"{what} takes patterns; got {p!r}.")


def format_weight(w):
    """A mixture weight as it is written back into a spec: a decimal when exact, else ``p/q``."""
    as_float = str(float(w))
    return as_float if Fraction(as_float) == w else f"{w.numerator}/{w.denominator}"


def _structure(mat):
    S = mat.tocsr(copy=True)
    S.data[:] = 1.0
    return S


@dataclass(frozen=True)
class Union(MaskPattern):
    """Uniform attention on the union of the parts' supports."""

    name: ClassVar[str] = "union"
    parts: tuple = ()

    def __post_init__(self):
        _check_parts(self.parts, "union")

    @property
    def spec(self):
        return f"union({', '.join(p.spec for p in self.parts)})"

    @property
    def causal(self):
        return all(p.causal for p in self.parts)

    @property
    def rational(self):
        return True

    def mask(self, n, q, kv):
        i0, i1, j0, j1 = int(q.min()), int(q.max()) + 1, int(kv.min()), int(kv.max()) + 1
        m = np.zeros((i1 - i0, j1 - j0), dtype=bool)
        for p in self.parts:
            m |= p.support_block(n, i0, i1, j0, j1)
        return m

    def structure(self, n):
        return "sparse" if self._support(n) is not None else "blocked"

    def _support(self, n):
        mats = [p.sparse(n) for p in self.parts]
        if any(m is None for m in mats):
            return None
        S = _structure(sum(_structure(m) for m in mats))
        return S if S.nnz <= SPARSE_MAX_NNZ else None

    def nnz(self, n):
        S = self._support(check_n(n))
        return None if S is None else int(S.nnz)

    def _sparse(self, n):
        S = self._support(n)
        if S is None:
            return None
        counts = np.diff(S.indptr)
        S.data = np.repeat(1.0 / counts, counts)
        return S

    def _row_stats(self, n):
        A = self.sparse(n)
        if A is not None:
            return np.zeros(n), np.diff(A.indptr).astype(float)
        return super()._row_stats(n)


@dataclass(frozen=True)
class Mix(Pattern):
    """``Σ_k w_k A_k``: a convex combination of row-stochastic matrices, row by row."""

    name: ClassVar[str] = "mix"
    exact_max_n: ClassVar[int] = 64
    parts: tuple = ()
    weights: tuple = ()

    def __post_init__(self):
        _check_parts(self.parts, "mix")
        ws = tuple(Fraction(w) for w in self.weights)
        if len(ws) != len(self.parts):
            raise AttentionTransportError(f"mix needs one weight per pattern; got {len(ws)} weights for "
                                          f"{len(self.parts)} patterns.")
        if any(w < 0 for w in ws) or sum(ws) != 1:
            raise AttentionTransportError("mix weights must be nonnegative and sum to exactly 1; got "
                                          f"{', '.join(format_weight(w) for w in ws)} (sum {format_weight(sum(ws))}).")
        object.__setattr__(self, "weights", ws)

    @property
    def spec(self):
        return "mix(" + ", ".join(f"{p.spec}@{format_weight(w)}" for p, w in zip(self.parts, self.weights)) + ")"

    def reach_back_rate(self):
        """``Σ_k w_k a_k`` over the parts with a rate (L2, mixtures): a mixed row sends the mixed masses left of t."""
        if not self.causal:
            return None
        import sympy

        rate = sum((sympy.Rational(w.numerator, w.denominator) * r for p, w in zip(self.parts, self.weights)
                    if (r := p.reach_back_rate()) is not None), sympy.Integer(0))
        return rate if rate > 0 else None

    def sink_share(self):
        """``(max s_k, Σ w_k ε_k)`` over the parts with sinks (L2, mixtures): a mixed row sends the mixed masses, and
        ``min(t, s_k)/s_k ≥ min(t, s)/s`` for ``s_k ≤ s``."""
        if not self.causal:
            return None
        import sympy

        shares = [(share, sympy.Rational(w.numerator, w.denominator)) for p, w in zip(self.parts, self.weights)
                  if (share := p.sink_share()) is not None]
        if not shares:
            return None
        return max(sh[0] for sh, _ in shares), sum(w * sh[1] for sh, w in shares)

    def capacity_law(self):
        """A causal mixture of summable kernels and sink parts: the floor ``ε/(2 − ε)`` of its sink share
        (:func:`~attention_transport.theory.laws.sink_share_law`); None otherwise (a floor part, or no sinks)."""
        share = self.sink_share()
        if share is None:
            return None
        for p in self.parts:
            if p.sink_share() is None:
                law = p.capacity_law()
                if law is None or law.mean is None:
                    return None
        from attention_transport.theory.laws import sink_share_law

        return sink_share_law(*share)

    @property
    def causal(self):
        return all(p.causal for p in self.parts)

    @property
    def rational(self):
        return all(p.rational for p in self.parts)

    def structure(self, n):
        kinds = {p.structure(n) for p in self.parts}
        return "blocked" if "blocked" in kinds else "sparse" if "sparse" in kinds else "structural"

    def _terms(self):
        return [(float(w), p) for p, w in zip(self.parts, self.weights) if w != 0]

    def block(self, n, i0, i1, j0, j1):
        return sum(w * p.block(n, i0, i1, j0, j1) for w, p in self._terms())

    def support_block(self, n, i0, i1, j0, j1):
        m = np.zeros((i1 - i0, j1 - j0), dtype=bool)
        for _, p in self._terms():
            m |= p.support_block(n, i0, i1, j0, j1)
        return m

    def exact_dense(self, n):
        if not self.rational:
            return super().exact_dense(n)
        n = check_n(n)
        out = [[Fraction(0)] * n for _ in range(n)]
        for p, w in zip(self.parts, self.weights):
            E = p.exact_dense(n)
            for a in range(n):
                for b in range(n):
                    out[a][b] += w * E[a][b]
        return out

    def _sparse(self, n):
        mats = [p.sparse(n) for _, p in self._terms()]
        if any(m is None for m in mats):
            return None
        A = sum(w * m for (w, _), m in zip(self._terms(), mats)).tocsr()
        return A if A.nnz <= SPARSE_MAX_NNZ else None

    def nnz(self, n):
        A = self.sparse(check_n(n))
        return None if A is None else int(A.nnz)

    def sums(self, n):
        n = check_n(n)
        r, c, s, u = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        for w, p in self._terms():
            t = p.sums(n)
            r += w * t.r
            c += w * t.c
            if t.s is not None:
                s += w * t.s
                u += w * t.u
        return StructuralSums(r, c) if self.causal else StructuralSums(r, c, s, u)

    def bandwidth(self, n):
        ws = [p.bandwidth(n) for _, p in self._terms()]
        return None if None in ws else max(ws)

    def band_rows(self, n, i0, i1, w):
        return sum(wt * p.band_rows(n, i0, i1, w) for wt, p in self._terms())

    def matvec(self, n, x):
        return sum(w * p.matvec(n, x) for w, p in self._terms())

    def rmatvec(self, n, y):
        return sum(w * p.rmatvec(n, y) for w, p in self._terms())


@dataclass(frozen=True)
class Stack(Pattern):
    """The transport after several layers: ``A_k ⋯ A_1``, ``layers[0]`` applied first."""

    name: ClassVar[str] = "stack"
    exact_max_n: ClassVar[int] = 32
    parts: tuple = ()

    def __post_init__(self):
        _check_parts(self.parts, "stack")

    @property
    def layers(self):
        return self.parts

    @property
    def spec(self):
        return f"stack({', '.join(p.spec for p in self.parts)})"

    @property
    def causal(self):
        return all(p.causal for p in self.layers)

    @property
    def rational(self):
        return all(p.rational for p in self.layers)

    def structure(self, n):
        if self.sparse(n) is not None:
            return "sparse"
        if self.factors(n) is not None:
            return "factored"
        return self._products(n)

    def _products(self, n):
        """How this stack's products run when it is a layer of a stack without a sparse form: through its own
        layers' products, never its sparse product (at n = 10⁶ building ``repeat(window:w=16, 5)``'s 7.6·10⁷
        nonzeros only to classify ``stack(repeat(window:w=16, 5), uniform-causal)`` cost seconds and a GB)."""
        kinds = (p._products(n) if isinstance(p, Stack) else p.structure(n) for p in self.layers)
        return "structural" if all(k == "structural" for k in kinds) else "blocked"

    @property
    def blocked_max_n(self):
        return min(p.blocked_max_n for p in self.layers)

    def reach_back_rate(self):
        """The largest rate of a layer (L2, stacks): a causal stack keeps every layer's reach-back rate."""
        if not self.causal:
            return None
        rates = [r for r in (p.reach_back_rate() for p in self.layers) if r is not None]
        return max(rates) if rates else None

    def sink_share(self):
        """The sink share of a layer with the highest floor (L2, stacks): a causal stack keeps every layer's share."""
        if not self.causal:
            return None
        shares = [sh for sh in (p.sink_share() for p in self.layers) if sh is not None]
        return max(shares, key=lambda sh: (sh[1], -sh[0])) if shares else None

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.stack_law` of the layers' laws (summable layers only)."""
        from attention_transport.theory.laws import stack_law

        return stack_law([p.capacity_law() for p in self.layers])

    def bandwidth(self, n):
        """``1 + Σ (w_k − 1)``: a nonzero ``(A B)_ij`` needs an m within both bands (C5b), capped at n."""
        ws = [p.bandwidth(check_n(n)) for p in self.layers]
        if None in ws:
            return super().bandwidth(n)
        return min(n, 1 + sum(w - 1 for w in ws))

    def band_rows(self, n, i0, i1, w):
        """The band of the product without the n×n matrix: each sub-block of rows of the last layer,
        carried back through the earlier layers restricted to the tokens its band can reach
        (``w`` at least the stack's bandwidth, so every path stays inside)."""
        n = check_n(n)
        if self.sparse(n) is not None:
            return super().band_rows(n, i0, i1, w)
        return band_from_blocks(n, i0, i1, w, self._local_block(n), step=2 * w)  # products of (4w)² blocks a layer

    def _local_block(self, n):
        """``block(a0, a1, lo, hi)``: the product over paths whose every token lies in ``lo..hi − 1``."""
        def block(a0, a1, lo, hi):
            X = self.layers[-1].block(n, a0, a1, lo, hi)
            for p in reversed(self.layers[:-1]):
                X = X @ p.block(n, lo, hi, lo, hi)
            return X

        return block

    def hub_band(self, n):
        """``(h, 1 + Σ (w_k − 1))`` when every layer is a band or a band with hubs (``(h_k, w_k)``, h the largest
        h_k) and, in every layer but the last, the first h rows reach only the first h columns (causal sinks do;
        Longformer's global rows reach everything).  A path from a non-hub query to a non-hub key then never
        passes a hub: once in a hub row it could only go on to hubs.  So it takes each layer's band step (C5b's
        argument, layer by layer).  Else ``None``."""
        n = check_n(n)
        hb = self._layered_hub_band(n)
        return hb if hb is not None else super().hub_band(n)  # else the sparse product's, if there is one

    def _layered_hub_band(self, n):
        parts = []
        for p in self.layers:
            hb = p.hub_band(n)
            w = p.bandwidth(n) if hb is None else None
            if hb is None and w is None:
                return None
            parts.append(hb or (0, w))
        h = max(hb[0] for hb in parts)
        if h == 0 or h >= n:
            return None
        for p in self.layers[:-1]:
            for j0 in range(h, n, 1 << 16):
                if p.support_block(n, 0, h, j0, min(n, j0 + (1 << 16))).any():
                    return None
        return h, min(n, 1 + sum(w - 1 for _, w in parts))

    def hub_band_rows(self, n, i0, i1, h, w):
        """:meth:`hub_band`'s band from products of local blocks, as :meth:`band_rows` (no hub path reaches a
        non-hub key, so the paths through tokens outside the block only meet hub columns, set to 0)."""
        n = check_n(n)
        if self.sparse(n) is not None:
            return super().hub_band_rows(n, i0, i1, h, w)
        D = band_from_blocks(n, i0, i1, w, self._local_block(n), step=2 * w)
        i = np.arange(i0, i1)[:, None]
        D[(i + np.arange(-(w - 1), w)[None, :] < h) | (i < h)] = 0.0
        return D

    def skew_norms(self, n, d):
        """G's two norms; a causal banded stack closed by a uniform-causal layer, ``P = U B``, is
        semiseparable and takes O(n · w) (:func:`_uniform_after_band_norms`), the rest the general passes."""
        n = check_n(n)
        if len(self.layers) >= 2 and isinstance(self.layers[-1], UniformCausal) and self.sparse(n) is None:
            below = self.layers[0] if len(self.layers) == 2 else Stack(self.layers[:-1])
            w = below.bandwidth(n)
            if below.causal and w is not None and w < n:
                return _uniform_after_band_norms(below, n, w, np.asarray(d, dtype=np.float64))
        return super().skew_norms(n, d)

    def matvec(self, n, x):
        for p in self.layers:
            x = p.matvec(n, x)
        return x

    def rmatvec(self, n, y):
        for p in reversed(self.layers):
            y = p.rmatvec(n, y)
        return y

    def rows(self, n, i0, i1):
        n = check_n(n)
        X = self.layers[-1].rows(n, i0, i1)
        for p in reversed(self.layers[:-1]):
            X = p.rmatvec(n, X.T).T  # X A_p
        return X

    def block(self, n, i0, i1, j0, j1):
        A = self.sparse(n)
        if A is not None:
            return A[i0:i1, j0:j1].toarray()
        F = self.factors(n)
        if F is not None:
            rows = F[0][i0:i1]
            classes = np.unique(rows.indices)  # the rows of Ψ these queries take
            return (rows[:, classes] @ F[1][classes][:, j0:j1]).toarray()
        if (i1 - i0) >= (j1 - j0):
            return self.columns(n, j0, j1)[i0:i1]
        return self.rows(n, i0, i1)[:, j0:j1]

    def columns(self, n, j0, j1):
        n = check_n(n)
        X = self.layers[0].columns(n, j0, j1)
        for p in self.layers[1:]:
            X = p.matvec(n, X)  # A_p X
        return X

    def support_block(self, n, i0, i1, j0, j1):
        mats = [p.sparse(n) for p in self.layers]
        if all(m is not None for m in mats):
            S = _structure(mats[-1][i0:i1])
            for m in reversed(mats[:-1]):
                S = _structure(S @ _structure(m))
            return S[:, j0:j1].toarray() > 0
        m = self.layers[-1].support_block(n, i0, i1, 0, n).astype(float)
        for p in reversed(self.layers[:-1]):
            m = (m @ p.support_block(n, 0, n, 0, n).astype(float)) > 0
        return m[:, j0:j1] > 0

    def exact_dense(self, n):
        if not self.rational:
            return super().exact_dense(n)
        n = check_n(n)
        out = self.layers[0].exact_dense(n)
        for p in self.layers[1:]:
            E = p.exact_dense(n)
            out = [[sum(E[a][k] * out[k][b] for k in range(n) if E[a][k]) for b in range(n)] for a in range(n)]
        return out

    def _sparse(self, n):
        # layers without a sparse form end it before any product of the others is formed
        if any(not isinstance(p, Stack) and p.sparse(n) is None for p in self.layers):
            return None
        mats = [p.sparse(n) for p in self.layers]
        if any(m is None for m in mats):
            return None
        A = mats[0]
        for m in mats[1:]:
            if _product_flops(m, A) > 10 * SPARSE_MAX_NNZ:
                return None
            A = (m @ A).tocsr()
            if A.nnz > SPARSE_MAX_NNZ:
                return None
        return A

    def _factors(self, n):
        """``A_k ⋯ A_1 = Φ Ψ`` when no sparse form holds the product but every layer has a sparse form or factors
        (:meth:`~.base.Pattern.factors`): a sparse layer after the factors joins Φ (``C Φ``), one before them
        joins Ψ (``Ψ B``), and a second factored layer joins the middle (``Φ₂ (Ψ₂ Φ)``).  ``None`` when a layer has
        neither, when no layer has factors, or when a product would pass :data:`SPARSE_MAX_NNZ` (its work ten
        times that)."""
        if not any(p.factors(n) is not None for p in self._leaves()) or self.sparse(n) is not None:
            return None  # no layer with factors, checked before any product is formed
        forms = []
        for p in self.layers:
            A = p.sparse(n)
            F = p.factors(n) if A is None else None
            if A is None and F is None:
                return None
            forms.append((A, F))
        if all(F is None for _, F in forms):
            return None

        def product(M, X):
            if _product_flops(M, X) > 10 * SPARSE_MAX_NNZ:
                return None
            P = (M @ X).tocsr()
            return P if P.nnz <= SPARSE_MAX_NNZ else None

        A, F = forms[0]
        for M, G in forms[1:]:
            if F is None and G is None:  # sparse so far, and a sparse layer
                A = product(M, A)
                if A is None:
                    return None
            elif F is None:  # the first factored layer: the product so far joins its Ψ
                F, A = _join_psi(G, A, product), None
                if F is None:
                    return None
            else:  # a later layer joins Φ: C Φ, or Φ₂ (Ψ₂ Φ)
                inner = F[0] if G is None else product(G[1], F[0])
                Phi = None if inner is None else product(M if G is None else G[0], inner)
                if Phi is None:
                    return None
                F = (Phi, F[1])
        return F

    def _leaves(self):
        """The layers, those of inner stacks in their place."""
        for p in self.layers:
            yield from (p._leaves() if isinstance(p, Stack) else (p,))

    def nnz(self, n):
        A = self.sparse(check_n(n))
        return None if A is None else int(A.nnz)

    def sums(self, n):
        n = check_n(n)
        A = None if self.causal else self.sparse(n)
        F = None if self.causal or A is not None else self.factors(n)
        if F is not None:  # all four from the factors' running sums, each a sum of nonnegative terms
            from attention_transport.numerics.patterns.factored import factored_sums

            return factored_sums(*F)
        r = self.matvec(n, np.ones(n))
        c = self.rmatvec(n, np.ones(n))
        if self.causal:
            return StructuralSums(r, c)  # C1k: a causal stack's landscape needs only r and c
        if A is not None:
            U = sp.triu(A, k=1)
            return StructuralSums(r, c, np.asarray(U.sum(axis=1)).ravel(), np.asarray(U.sum(axis=0)).ravel())
        s, u = np.zeros(n), np.zeros(n)
        for i0, i1, R in self.row_blocks(n):
            up = np.triu(R, k=1 + i0)
            s[i0:i1] = up.sum(axis=1)
            u += up.sum(axis=0)
        return StructuralSums(r, c, s, u)

    def row_blocks(self, n, block_bytes=None):
        n = self._blocked(n)
        for i0, i1 in row_ranges(n, n, block_bytes or (4 << 20)):
            yield i0, i1, self.rows(n, i0, i1)


def _join_psi(G, A, product):
    """``(Φ, Ψ A)`` for the factors ``G = (Φ, Ψ)`` of a layer after the sparse product A, or ``None``.

    Dense rows of A (global queries: a Longformer layer before BigBird) would meet Ψ's dense columns (BigBird's
    global keys) in ``Ψ A``.  They are kept apart: with H those rows and ``A_L`` the rest,
    ``Φ Ψ A = Φ Ψ A_L + (Φ Ψ[:, H]) A[H]``, the factors ``[Φ, Φ Ψ[:, H]]`` and ``[Ψ A_L; A[H]]``
    (|H| more classes, each a dense row of A)."""
    Phi, Psi = G
    lens = np.diff(A.indptr)
    heavy = np.flatnonzero(lens > max(1024, 16.0 * lens.mean()))
    if heavy.size == 0 or heavy.size > 64:
        P = product(Psi, A)
        return None if P is None else (Phi, P)
    keep = np.ones(A.shape[0])
    keep[heavy] = 0.0
    P = product(Psi, (sp.diags(keep) @ A).tocsr())
    if P is None:
        return None
    cross = (Phi @ Psi[:, heavy]).tocsr()
    return sp.hstack([Phi, cross], format="csr"), sp.vstack([P, A[heavy]], format="csr")


def _product_flops(M, A):
    """Multiply-adds of the sparse product ``M @ A`` (both CSR): column m of M meets row m of A,
    ``Σ_m nnz(M[:, m]) · nnz(A[m, :])``.  Exact, where ``max row nnz(M) · nnz(A)`` was a bound that a
    single dense row (a global token) made n times too large."""
    cols = np.bincount(M.indices, minlength=M.shape[1]).astype(np.float64)
    return float(cols @ np.diff(A.indptr).astype(np.float64))


def _uniform_after_band_norms(below, n, w, d, chunk=1 << 16):
    """``(‖N − Nᵀ‖², ‖N + Nᵀ‖²)`` of ``P = U B``: U uniform-causal (``U_im = 1/(i + 1)``, m ≤ i), B causal of
    bandwidth w.

    ``P_ij = T_ij / (i + 1)`` with ``T_ij = Σ_{j ≤ m ≤ i} B_mj``, which is the column sum ``c^B_j`` once
    ``i ≥ j + w − 1``.  P is causal, so ``‖N − Nᵀ‖² = 2 off`` and ``‖N + Nᵀ‖² = 2 off + 4 diag``
    (``N = D^{-1/2} P D^{-1/2}``); ``off`` splits into the band ``j < i < j + w − 1`` (partial column sums
    of B's band) and the far part ``c^B_j² Σ_{i ≥ j + w − 1} 1/((i + 1)² d_i)``, a suffix sum.  Every term
    is a nonnegative square: no cancellation.
    """
    g = 1.0 / ((np.arange(n) + 1.0) ** 2 * d)  # 1/((i + 1)² d_i)
    tail = np.concatenate([np.cumsum(g[::-1])[::-1], [0.0]])  # tail[k] = Σ_{i ≥ k} g_i
    off = diag = 0.0
    k = np.arange(w)
    for j0 in range(0, n, chunk):
        j1 = min(n, j0 + chunk)
        # E[j − j0, k] = B_{j+k, j}: column j of B below the diagonal, from the band of rows j0 .. j1 + w − 1
        rows = below.band_rows(n, j0, min(n, j1 + w - 1), w)
        j = np.arange(j0, j1)
        m = j[:, None] + k[None, :]
        inside = m < n
        E = np.zeros((j1 - j0, w))
        E[inside] = rows[(m - j0)[inside], np.broadcast_to(w - 1 - k, m.shape)[inside]]
        T = np.cumsum(E, axis=1)  # T[j, k] = Σ_{m ≤ j + k} B_mj
        c = T[:, -1]  # the whole column (B has no entry at m ≥ j + w)
        diag += float(((T[:, 0] / ((j + 1.0) * d[j])) ** 2).sum())  # N_jj = P_jj / d_j = B_jj / ((j + 1) d_j)
        i = m[:, 1:w - 1]  # the band j < i < j + w − 1 (partial sums)
        ok = inside[:, 1:w - 1]
        band = np.where(ok, T[:, 1:w - 1] ** 2 * g[np.minimum(i, n - 1)], 0.0).sum(axis=1)
        far = c ** 2 * tail[np.minimum(j + w - 1, n)]
        off += float(((band + far) / d[j]).sum())
    return 2.0 * off, 2.0 * off + 4.0 * diag


@dataclass(frozen=True)
class Repeat(Stack):
    """``k`` equal layers: ``A^k``."""

    name: ClassVar[str] = "repeat"
    pattern: Pattern = None
    k: int = 1

    def __post_init__(self):
        if not isinstance(self.pattern, Pattern):
            raise BadType(f"repeat takes a pattern; got {self.pattern!r}.")
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or not 1 <= self.k <= 4096:
            raise AttentionTransportError(f"repeat needs a layer count k in 1..4096; got {self.k!r}.")
        object.__setattr__(self, "parts", (self.pattern,) * int(self.k))

    @property
    def spec(self):
        return f"repeat({self.pattern.spec}, {self.k})"


#: composition name -> (class, syntax, example)
COMPOSITIONS = {
    "union": (Union, "union(P, Q, ...)", "union(window:w=64, sink-window:s=1,w=1)"),
    "mix": (Mix, "mix(P@w1, Q@w2, ...)", "mix(window:w=16@0.7, uniform-causal@0.3)"),
    "stack": (Stack, "stack(P1, ..., Pk)", "stack(repeat(window:w=16, 5), uniform-causal)"),
    "repeat": (Repeat, "repeat(P, k)", "repeat(window:w=8, 4)"),
}
