"""Row-normalised Toeplitz kernels on a band: most of the library in one class.

A kernel pattern has ``A_ij = κ(i − j) / Z_i`` for ``−above ≤ i − j ≤ below`` and
0 elsewhere, with ``Z_i = Σ_j κ(i − j)`` over the band inside the matrix.  Its
structure gives every pass in O(n) to O(n log n):

* ``Z`` from the cumulative kernel (O(n));
* column sums ``c_j = Σ_d κ(d) / Z_{j+d}`` and products ``A x``, ``Aᵀ y`` as
  convolutions: slices over the nonzero offsets when the band is narrow
  (O(n · offsets), exact summation order), FFT otherwise (O(n log n));
* strictly-upper sums from the cumulative kernel; the sparse matrix as diagonals.

Families with a closed form override a piece: uniform-causal's column sums are
``H_n − H_{k−1}`` (digamma), exp-decay's a first-order recursion.  A window
longer than n is the same matrix as a window of n: widths are clamped to n − 1
before any loop, so ``window:w=10**12`` costs what ``window:w=n`` does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from scipy import signal, special
from scipy import sparse as sp

from attention_transport.numerics.patterns.base import (
    SPARSE_MAX_NNZ,
    Param,
    RowNormalised,
    StridedGraph,
    StructuralSums,
    check_n,
    register,
)

__all__ = [
    "ToeplitzKernel",
    "UniformCausal",
    "Window",
    "Dilated",
    "ExpDecay",
    "PowerLaw",
    "BidirectionalUniform",
    "BidirectionalWindow",
    "SymbolicKernel",
    "SLICE_MAX_OFFSETS",
]

#: Bands with at most this many nonzero offsets are summed by slices (exact order); wider ones by FFT.
SLICE_MAX_OFFSETS = 256
#: G is summed offset by offset, pair by pair, up to this many (offset, row) pairs
DIRECT_MAX_WORK = 200_000_000


class ToeplitzKernel(RowNormalised):
    """``A_ij = κ(i − j) / Z_i`` on the band ``−above(n) ≤ i − j ≤ below(n)``.

    A family defines :meth:`extent` (the unclamped band) and :meth:`kappa`;
    :meth:`kernel_support` when κ vanishes inside the band (dilation).
    ``uniform = True`` means κ ∈ {0, 1}: entries ``1/count``, rational.
    """

    uniform: ClassVar[bool] = True

    def extent(self):
        """``(below, above)``: largest ``i − j`` and largest ``j − i`` in the band (may exceed n)."""
        return (math.inf, 0)

    def kappa(self, d):
        """κ at integer offsets ``d = i − j`` (array), inside the band."""
        return np.ones(np.shape(d))

    def kernel_support(self, d):
        """Offsets of the band where κ is nonzero by definition (not by underflow)."""
        return np.ones(np.shape(d), dtype=bool)

    def far_stride(self):
        """``(l, b)`` when κ vanishes at every offset ``d ≥ b`` but the multiples of l, and equals κ(l) at those
        (the Sparse Transformer's strided heads); None for a kernel on a band or with full support."""
        return None

    def law_kernel(self):
        """κ for the capacity law: a sympy expression in ``theory.laws.d`` (d ≥ 0), or a dict
        ``{d: κ(d)}`` of exact values on a finite band; None for a two-sided kernel."""
        if not self.causal:
            return None
        below = self.extent()[0]
        if math.isinf(below):
            return None
        ds = np.arange(0, int(below) + 1)
        keep = ds[self.kernel_support(ds)]
        import sympy

        if self.uniform:
            return {int(k): sympy.Integer(1) for k in keep}
        return {int(k): sympy.Rational(repr(float(v))) for k, v in zip(keep, self.kappa(keep))}

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.kernel_law` of :meth:`law_kernel` (causal kernels)."""
        kernel = self.law_kernel()
        if kernel is None:
            return None
        from attention_transport.theory.laws import kernel_law

        return kernel_law(kernel)

    # -- derived --------------------------------------------------------------------------------
    def band(self, n):
        below, above = self.extent()
        return int(min(below, n - 1)), int(min(above, n - 1))

    @property
    def causal(self):
        return self.extent()[1] == 0

    @property
    def rational(self):
        return self.uniform

    def offsets(self, n):
        """Offsets ``d`` (ascending) with κ(d) ≠ 0 by definition, inside the clamped band."""
        below, above = self.band(n)
        d = np.arange(-above, below + 1)
        return d[self.kernel_support(d)]

    def _in_band(self, n, d):
        below, above = self.band(n)
        return (d <= below) & (d >= -above) & self.kernel_support(d)

    def _cumulative(self, n):
        """``(ds, K)``: offsets ``−above..below`` and ``K[m] = Σ_{ds ≤ ds[m]} κ`` (with K[−1] = 0 prepended)."""
        below, above = self.band(n)
        ds = np.arange(-above, below + 1)
        k = np.where(self.kernel_support(ds), self.kappa(ds), 0.0)
        return ds, k, np.concatenate([[0.0], np.cumsum(k)])

    def _row_stats(self, n):
        below, above = self.band(n)
        _, _, K = self._cumulative(n)
        i = np.arange(n)
        hi = np.minimum(i, below) + above  # index of the largest offset d = min(i, below)
        lo = np.maximum(i - (n - 1), -above) + above  # smallest offset d = i − (n − 1)
        return np.zeros(n), K[hi + 1] - K[lo]

    def translates(self, n):
        """The rows whose whole band lies inside the matrix, ``below ≤ i < n − above``: the same kernel over the same
        normaliser (none for a kernel reaching every key, whose band is the matrix)."""
        n = check_n(n)
        below, above = self.band(n)
        if self.far_stride() is not None or below + above >= n - 1:
            return None
        return (0, below, n - above, 1)

    def strided_graph(self, n):
        """:class:`~.base.StridedGraph` of a causal kernel with a :meth:`far_stride`: ``W[i, i + t] = κ(t) /
        (2 Z_{i+t})`` inside the band (``κ(0) / Z_i`` on the diagonal), ``κ(l) / (2 Z_i)`` beyond it."""
        stride = self.far_stride()
        if stride is None or not self.causal:
            return None
        n = check_n(n)
        l, b = stride
        z = self.row_normalisers(n)[1]
        ks = np.arange(max(b, l) + 1)
        kap = np.where(self.kernel_support(ks), self.kappa(ks), 0.0)

        def near(t, lo, hi):
            return kap[0] / z[lo:hi] if t == 0 else (0.5 * kap[t]) / z[lo + t:hi + t]

        return StridedGraph(l=l, w=b, near=near, far=(0.5 * kap[l]) / z)

    def block(self, n, i0, i1, j0, j1):
        n = check_n(n)
        d = np.arange(i0, i1)[:, None] - np.arange(j0, j1)[None, :]
        inside = self._in_band(n, d)
        z = self.row_normalisers(n)[1][i0:i1, None]
        k = np.zeros(d.shape)
        k[inside] = self.kappa(d[inside])
        return k / z

    def support_block(self, n, i0, i1, j0, j1):
        d = np.arange(i0, i1)[:, None] - np.arange(j0, j1)[None, :]
        return self._in_band(check_n(n), d)

    def band_rows(self, n, i0, i1, w):
        """Closed form: ``D[i − i0, t + w − 1] = κ(−t)/Z_i`` on the kernel's offsets, 0 past the matrix's edges
        (only the first and last w − 1 rows have such entries), O((i1 − i0) · w) without a block of the matrix."""
        n = check_n(n)
        t = np.arange(-(w - 1), w)  # j − i
        inside = self._in_band(n, -t)
        if int(self.bandwidth(n)) > w:
            return super().band_rows(n, i0, i1, w)  # the generic path names the entry outside the band
        k = np.zeros(t.size)
        k[inside] = self.kappa(-t[inside])
        D = k[None, :] / self.row_normalisers(n)[1][i0:i1, None]
        for lo, hi in ((i0, min(i1, w - 1)), (max(i0, n - w + 1), i1)):  # rows whose band crosses an edge
            if hi > lo:
                j = np.arange(lo, hi)[:, None] + t[None, :]
                D[lo - i0:hi - i0][(j < 0) | (j >= n)] = 0.0
        return D

    def structure(self, n):
        return "structural"

    def nnz(self, n):
        return int((n - np.abs(self.offsets(n))).sum())

    def bandwidth(self, n):
        return int(np.abs(self.offsets(check_n(n))).max(initial=0)) + 1

    def _sparse(self, n):
        if self.nnz(n) is None or self.nnz(n) > SPARSE_MAX_NNZ:
            return None
        d = self.offsets(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        diags = [inv[k:] * self.kappa(np.array([k]))[0] if k >= 0 else inv[: n + k] * self.kappa(np.array([k]))[0]
                 for k in d]
        return sp.diags(diags, offsets=[-int(k) for k in d], shape=(n, n), format="csr")

    # -- convolutions -----------------------------------------------------------------------------
    def _correlate(self, n, x, upper_only=False):
        """``y_j = Σ_d κ(d) x_{j+d}`` over the band (``d < 0`` only when ``upper_only``)."""
        below, above = self.band(n)
        d = self.offsets(n)
        if upper_only:
            d = d[d < 0]
        if d.size <= SLICE_MAX_OFFSETS:
            return _shifted_sum(x, -d, self.kappa(d))  # rows i = j + d
        ds, k, _ = self._cumulative(n)
        if upper_only:
            k = np.where(ds < 0, k, 0.0)
        kr = k[::-1]  # kr[m] = κ(below − m)
        kr = kr.reshape((-1,) + (1,) * (x.ndim - 1))
        conv = signal.fftconvolve(x, kr, axes=0) if x.ndim > 1 else signal.fftconvolve(x, kr)
        return _nonnegative_if(x, conv[below: below + n])

    def _convolve(self, n, x):
        """``y_i = Σ_d κ(d) x_{i−d}`` over the band."""
        below, above = self.band(n)
        d = self.offsets(n)
        if d.size <= SLICE_MAX_OFFSETS:
            return _shifted_sum(x, d, self.kappa(d))
        _, k, _ = self._cumulative(n)  # k[m] = κ(m − above)
        kk = k.reshape((-1,) + (1,) * (x.ndim - 1))
        conv = signal.fftconvolve(x, kk, axes=0) if x.ndim > 1 else signal.fftconvolve(x, kk)
        return _nonnegative_if(x, conv[above: above + n])

    def _inv_z(self, n, ndim):
        inv = 1.0 / self.row_normalisers(n)[1]
        return inv.reshape((-1,) + (1,) * (ndim - 1))

    def matvec(self, n, x):
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        return self._inv_z(n, x.ndim) * self._convolve(n, x)

    def rmatvec(self, n, y):
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        return self._correlate(n, self._inv_z(n, y.ndim) * y)

    def sums(self, n):
        n = check_n(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        c = self._column_sums(n, inv)
        r = np.ones(n)
        if self.causal:
            return StructuralSums(r, c)
        below, above = self.band(n)
        ds, _, K = self._cumulative(n)
        i = np.arange(n)
        lo = np.maximum(i - (n - 1), -above) + above  # first offset index of row i
        s = (K[above] - K[np.minimum(lo, above)]) * inv  # offsets d < 0: indices lo..above−1
        u = self._correlate(n, inv, upper_only=True)
        return StructuralSums(r, c, s, u)

    def _column_sums(self, n, inv):
        return self._correlate(n, inv)

    def skew_norms(self, n, d):
        """``(‖N − Nᵀ‖², ‖N + Nᵀ‖²)`` offset by offset (each a sum of squares, no cancellation) when the
        band has at most :data:`DIRECT_MAX_WORK` entry pairs; by convolutions beyond (causal: still
        cancellation-free; bidirectional: ``2ΣN² ∓ 2⟨N, Nᵀ⟩``, absolute error ~1e-16 in G²)."""
        n = check_n(n)
        inv = 1.0 / self.row_normalisers(n)[1]
        x = 1.0 / np.sqrt(np.asarray(d, dtype=np.float64))
        a = inv * x  # N_ij = κ(i − j) a_i x_j
        offs = self.offsets(n)
        below, above = self.band(n)
        if offs.size * n <= DIRECT_MAX_WORK:
            kap = dict(zip(offs.tolist(), self.kappa(offs).tolist()))
            skew = sym = 0.0
            for k in offs[offs >= 0]:  # pairs (i, j = i − k) and their mirror (j, i): offset −k
                k = int(k)
                i = np.arange(k, n)
                nij = kap[k] * a[i] * x[i - k]
                nji = kap.get(-k, 0.0) * a[i - k] * x[i] if k > 0 else nij
                if k == 0:
                    sym += float((4.0 * nij * nij).sum())
                    continue
                skew += 2.0 * float(((nij - nji) ** 2).sum())
                sym += 2.0 * float(((nij + nji) ** 2).sum())
            for k in offs[offs < 0]:  # offsets whose mirror is not in the support
                k = int(k)
                if -k in kap:
                    continue
                i = np.arange(0, n + k)
                nij = kap[k] * a[i] * x[i - k]
                skew += 2.0 * float((nij * nij).sum())
                sym += 2.0 * float((nij * nij).sum())
            return skew, sym
        ds, k, _ = self._cumulative(n)
        xx = x * x
        if self.causal:
            k_off = np.where(ds != 0, k, 0.0)
            off = _kernel_corr(ds, k_off * k_off, a * a, xx, below)
            diag = float(((self.kappa(np.array([0]))[0] * a * x) ** 2).sum())
            return 2.0 * off, 2.0 * off + 4.0 * diag
        sq = _kernel_corr(ds, k * k, a * a, xx, below)
        kneg = np.where(self.kernel_support(-ds) & (np.abs(ds) <= min(below, above)), self.kappa(-ds), 0.0)
        pair = _kernel_corr(ds, k * kneg, a * x, a * x, below)
        return max(2.0 * (sq - pair), 0.0), 2.0 * (sq + pair)


#: entries of one chunk of rows in :func:`_shifted_sum` (512 KiB of float64: the chunk stays in cache)
SHIFT_CHUNK_ENTRIES = 1 << 16


def _shifted_sum(x, shifts, weights):
    """``y_i = Σ_m weights[m] x_{i − shifts[m]}`` (terms with ``i − shifts[m]`` outside 0..n − 1 left out), for
    x of shape (n,) or (n, k).

    Row chunk by row chunk, every shift added into the chunk while it is in cache: one pass over y
    instead of one per offset (7× faster for ``window:w=16`` on (10⁶, 8) blocks, the eigensolver's).  Equal
    weights (uniform kernels) are applied once per chunk after the sum of slices.
    """
    n = x.shape[0]
    y = np.zeros_like(x)
    shifts = np.asarray(shifts, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    same = bool(weights.size) and bool(np.all(weights == weights[0]))
    chunk = max(256, SHIFT_CHUNK_ENTRIES // max(1, x[:1].size))
    tmp = None if same else np.empty((min(chunk, n),) + x.shape[1:])
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        yc = y[c0:c1]
        for sh, wv in zip(shifts.tolist(), weights.tolist()):
            a0, a1 = max(c0, sh), min(c1, n + sh)  # rows i of the chunk with 0 ≤ i − sh < n
            if a1 <= a0:
                continue
            if same:
                yc[a0 - c0:a1 - c0] += x[a0 - sh:a1 - sh]
            else:
                t = tmp[:a1 - a0]
                np.multiply(x[a0 - sh:a1 - sh], wv, out=t)
                yc[a0 - c0:a1 - c0] += t
        if same:
            yc *= weights[0]
    return y


def _nonnegative_if(x, y):
    """FFT rounding leaves entries like −1e-17 where the exact product of a nonnegative kernel and a
    nonnegative x is ≥ 0 (a column of a stack, an attention matrix then refused as negative): clip those."""
    if x.size and x.min() >= 0:
        np.maximum(y, 0.0, out=y)
    return y


def _kernel_corr(ds, kern, a, b, below):
    """``Σ_i a_i Σ_d kern(d) b_{i−d}``: one convolution."""
    n = a.size
    conv = signal.fftconvolve(b, kern)  # conv[p] = Σ_m b_{p−m} kern[m], d = ds[m] = m − above
    above = -int(ds[0])
    return float(np.dot(a, conv[above: above + n]))


def _p(kind, default, minimum, doc, maximum=None):
    return Param(kind, default, minimum, doc, maximum)


@register
@dataclass(frozen=True)
class UniformCausal(ToeplitzKernel):
    """Uniform causal attention: row i attends to every j ≤ i with weight 1/(i + 1) (C2–C4)."""

    name: ClassVar[str] = "uniform-causal"
    params: ClassVar[dict] = {}
    example: ClassVar[str] = "uniform-causal"

    def law_kernel(self):
        import sympy

        return sympy.Integer(1)

    def reach_back_rate(self):
        """Row i ≥ t sends t/(i + 1) ≥ t/n left of t: rate 1 (L2)."""
        import sympy

        return sympy.Integer(1)

    def _row_stats(self, n):
        return np.zeros(n), np.arange(1.0, n + 1)

    def _column_sums(self, n, inv):
        # c_k = Σ_{i ≥ k} 1/i = H_n − H_{k−1} = ψ(n + 1) − ψ(k)  (1-based k)
        return special.digamma(n + 1.0) - special.digamma(np.arange(1.0, n + 1))

    def _correlate(self, n, x, upper_only=False):
        if upper_only:
            return np.zeros_like(x)
        return np.cumsum(x[::-1], axis=0)[::-1]

    def _convolve(self, n, x):
        return np.cumsum(x, axis=0)

    def nnz(self, n):
        return None  # dense lower triangle: structural passes only


@register
@dataclass(frozen=True)
class Window(ToeplitzKernel):
    """Causal sliding window: row i attends to ``i − w < j ≤ i``, uniformly (C5)."""

    name: ClassVar[str] = "window"
    params: ClassVar[dict] = {"w": _p(int, 16, 1, "window length")}
    example: ClassVar[str] = "window:w=64"
    w: int = 16

    def extent(self):
        return (self.w - 1, 0)


@register
@dataclass(frozen=True)
class Dilated(ToeplitzKernel):
    """Dilated causal window: ``j = i − m k`` for ``m = 0..w−1`` (LongNet-style dilation of one segment)."""

    name: ClassVar[str] = "dilated"
    params: ClassVar[dict] = {"w": _p(int, 16, 1, "keys per row"), "k": _p(int, 2, 1, "dilation")}
    example: ClassVar[str] = "dilated:w=16,k=4"
    w: int = 16
    k: int = 2

    def extent(self):
        return ((self.w - 1) * self.k, 0)

    def kernel_support(self, d):
        return (d % self.k) == 0


@register
@dataclass(frozen=True)
class ExpDecay(ToeplitzKernel):
    """Causal, weight ``e^{−m (i − j)}`` on every ``j ≤ i`` (ALiBi-like)."""

    name: ClassVar[str] = "exp-decay"
    params: ClassVar[dict] = {"m": _p(float, 0.1, 0.0, "decay rate per token (ALiBi slope)")}
    example: ClassVar[str] = "exp-decay:m=0.1"
    uniform: ClassVar[bool] = False
    m: float = 0.1

    def kappa(self, d):
        return np.exp(-self.m * np.asarray(d, dtype=float))

    def law_kernel(self):
        import sympy

        from attention_transport.theory.laws import d as offset

        return sympy.exp(-sympy.Rational(repr(float(self.m))) * offset)

    def reach_back_rate(self):
        """m = 0 is uniform causal (rate 1); a positive rate sends almost nothing far: no rate."""
        import sympy

        return sympy.Integer(1) if self.m == 0 else None

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.exp_decay_law`: ``E[D] = 1/(e^m − 1)``, a floor at m = 0."""
        from attention_transport.theory.laws import exp_decay_law

        return exp_decay_law(self.m)

    def _row_stats(self, n):
        idx = np.arange(1.0, n + 1)
        z = -np.expm1(-self.m * idx) / -math.expm1(-self.m) if self.m > 0 else idx
        return np.zeros(n), z

    def _column_sums(self, n, inv):
        # c_j = 1/Z_j + q c_{j+1}: a first-order recursion, run backwards
        return signal.lfilter([1.0], [1.0, -math.exp(-self.m)], inv[::-1])[::-1]


@register
@dataclass(frozen=True)
class PowerLaw(ToeplitzKernel):
    """Causal, weight ``(i − j + 1)^{−p}`` on every ``j ≤ i``."""

    name: ClassVar[str] = "power-law"
    params: ClassVar[dict] = {"p": _p(float, 1.0, 0.0, "decay exponent")}
    example: ClassVar[str] = "power-law:p=1.5"
    uniform: ClassVar[bool] = False
    p: float = 1.0

    def kappa(self, d):
        return (np.abs(np.asarray(d, dtype=float)) + 1.0) ** -self.p

    def reach_back_rate(self):
        """``1 − p`` for p < 1: t terms of at least ``n^{−p}`` over a normaliser of at most ``n^{1−p}/(1 − p)`` (L2)."""
        import sympy

        return 1 - sympy.Rational(repr(float(self.p))) if self.p < 1 else None

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.power_law_law`: every regime, next-order terms at p = 1, 2."""
        from attention_transport.theory.laws import power_law_law

        return power_law_law(self.p)


@register
@dataclass(frozen=True)
class BidirectionalUniform(ToeplitzKernel):
    """Every query attends to every key uniformly (an encoder without structure)."""

    name: ClassVar[str] = "bidirectional-uniform"
    params: ClassVar[dict] = {}
    example: ClassVar[str] = "bidirectional-uniform"

    def extent(self):
        return (math.inf, math.inf)

    def _row_stats(self, n):
        return np.zeros(n), np.full(n, float(n))

    def skew_norms(self, n, d):
        # A = J/n is symmetric: N − Nᵀ = 0 exactly; ‖2N‖² = 4 Σ_ij x_i² x_j² / n²
        x2 = 1.0 / np.asarray(d, dtype=np.float64)
        return 0.0, float(4.0 * x2.sum() ** 2 / (check_n(n) ** 2))

    def _correlate(self, n, x, upper_only=False):
        if upper_only:  # y_j = Σ_{i<j} x_i
            return np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)[:-1]])
        return np.broadcast_to(x.sum(axis=0), x.shape).copy()

    def _convolve(self, n, x):
        return np.broadcast_to(x.sum(axis=0), x.shape).copy()

    def nnz(self, n):
        return None


@register
@dataclass(frozen=True)
class BidirectionalWindow(ToeplitzKernel):
    """Symmetric window ``|i − j| < w``, uniform (an encoder's local attention)."""

    name: ClassVar[str] = "bidirectional-window"
    params: ClassVar[dict] = {"w": _p(int, 16, 1, "half-width (|i − j| < w)")}
    example: ClassVar[str] = "bidirectional-window:w=16"
    w: int = 16

    def extent(self):
        return (self.w - 1, self.w - 1)

    @property
    def causal(self):
        return self.w == 1

    def capacity_law(self):
        """:func:`~attention_transport.theory.laws.band_global_law` with ``h = w − 1`` and no global token:
        ``φ_n ~ h(h + 1)/((2h + 1) n)``, its order ``1/n`` certified for every n (claim L6)."""
        from attention_transport.theory.laws import band_global_law

        return band_global_law(self.w - 1, 0)


def _banded_sums_by_row(n, offsets, v):
    """Column sums of the causal band ``A[i, i − k] = v_i`` (k in ``offsets``, rows with ``i − k < 0`` absent)."""
    c = np.zeros(n)
    for k in offsets:
        if k < n:
            c[: n - k] += v[k:]
    return c


@dataclass(frozen=True)
class SymbolicKernel(ToeplitzKernel):
    """A causal kernel ``κ(d)``, ``d ≥ 0``, given as a sympy expression in ``theory.laws.d`` (``law --kernel``).

    Not registered (it has no spec syntax): built by :func:`attention_transport.law.law_report` so that a
    user's kernel gets its law, or a fit, and its computed φ_n like any pattern.  A ``Piecewise`` that
    vanishes for ``d ≥ w`` is a band of width w.
    """

    name: ClassVar[str] = "kernel"
    uniform: ClassVar[bool] = False
    expr: object = None

    @property
    def spec(self):
        return f"kernel({self.expr})"

    def extent(self):
        from attention_transport.theory.laws import support_bound

        w = support_bound(self.expr)
        return (math.inf if w is None else w - 1, 0)

    @cached_property
    def _fn(self):
        import sympy

        from attention_transport.theory.laws import d as offset

        return sympy.lambdify(offset, self.expr, modules="numpy")

    def kappa(self, d):
        d = np.asarray(d, dtype=float)
        return np.broadcast_to(np.asarray(self._fn(d), dtype=float), d.shape).copy()

    def law_kernel(self):
        return self.expr
