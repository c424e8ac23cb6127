"""The pattern object: what an attention pattern owns, and the passes every pattern inherits.

A pattern is an immutable, hashable description of a family of row-stochastic
``(n, n)`` matrices, one per sequence length n.  What a pattern *owns*:

* its entries, as blocks ``A[i0:i1, j0:j1]`` (:meth:`Pattern.block`) — the one
  method a new pattern must write; everything below has a correct default built
  on it, O(n²) time and O(n · block) memory, never the n×n matrix;
* its support (:meth:`Pattern.support_block`), whether it is causal and whether
  its entries are rational (``1/count`` on the support, or exact combinations of
  such matrices);
* its structural sums (:meth:`Pattern.sums`: row, column and strictly-upper
  sums), matrix–vector products (:meth:`Pattern.matvec`, :meth:`Pattern.rmatvec`)
  and, when its support is sparse, a scipy sparse matrix (:meth:`Pattern.sparse`).
  Families with structure override these with O(n) or O(n log n) forms.

A family is one subclass, registered by :func:`register` under its name with a
parameter table (:class:`Param`); spec strings (``window:w=64``) are parsed by
:mod:`attention_transport.numerics.patterns.spec` from that table.  Indices are
0-based in code (FlexAttention's convention); the formulas of docs/theory.md use
1-based tokens.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from fractions import Fraction
from functools import lru_cache
from typing import Callable, ClassVar

import numpy as np
from scipy import sparse as sp

from attention_transport.errors import AttentionTransportError, BadType, WontFit

__all__ = [
    "Param",
    "Pattern",
    "RowNormalised",
    "StructuralSums",
    "StridedGraph",
    "REGISTRY",
    "register",
    "check_n",
    "BLOCK_BYTES",
    "SPARSE_MAX_NNZ",
    "local_range_sums",
    "class_prefix_sums",
    "Fenwick",
    "BLOCKED_MAX_N",
    "row_ranges",
    "band_from_blocks",
]

#: Bytes of one row block in the generic passes (a few MiB: fits the cache, amortises Python).
BLOCK_BYTES = 4 << 20
#: Largest number of nonzeros for which a pattern's sparse matrix is built (about 1.2 GB in CSR).
SPARSE_MAX_NNZ = 100_000_000
#: the tiled bipartite search holds the column sums of every group of T rows, (n/T) × n float64: at most this
#: many bytes (n ≈ 45000 with T = 32)
TILE_TABLE_BYTES = 512 << 20
#: ... with tiles doubled up to this side to fit it (a sparse pattern up to n ≈ 2.5·10⁵)
TILE_MAX = 1024


def table_tile(n):
    """Side of the tiles of cuts at n: :func:`~attention_transport.numerics.landscapes.bip_tile`, doubled (up to
    :data:`TILE_MAX`) until the column sums of every group of T rows fit :data:`TILE_TABLE_BYTES`; else None."""
    from attention_transport.numerics.landscapes import bip_tile

    T = bip_tile(n)
    while 8 * n * -(-(n + 1) // T) > TILE_TABLE_BYTES and T < TILE_MAX:  # larger tiles, a smaller table
        T *= 2
    return T if 8 * n * -(-(n + 1) // T) <= TILE_TABLE_BYTES else None
#: Largest n for the generic O(n²) passes of a pattern without structure (pattern files, unions of them).
BLOCKED_MAX_N = 1 << 16
#: Largest value of an integer parameter: index arithmetic stays inside int64.
INT_MAX = 1 << 62


def check_n(n):
    """Validate a sequence length: an integer ``n ≥ 2``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise BadType(f"n must be an integer; got {n!r}.")
    if n < 2:
        raise AttentionTransportError(f"a pattern needs n >= 2 tokens; got n = {n}.")
    if n > INT_MAX:
        raise AttentionTransportError(f"n must be at most 2^62; got n = {n}.")
    return int(n)


def row_ranges(n, width, block_bytes=BLOCK_BYTES):
    """``(i0, i1)`` row ranges of about ``block_bytes`` each for rows of ``width`` float64 entries."""
    b = max(1, min(n, block_bytes // (8 * max(1, width))))
    return [(i0, min(n, i0 + b)) for i0 in range(0, n, b)]


def local_range_sums(v, lo, hi, span):
    """``Σ_{j=lo_i}^{hi_i} v_j`` for every i (0 where ``hi_i < lo_i``), every range at most ``span`` long, from
    prefix sums local to blocks of at least ``span`` entries: a range meets at most two blocks, so no sum is read off
    a difference of prefix sums over the whole vector (at n = 10⁶ those lost 2e-13 of Longformer's column sums).
    ``v`` has shape (n,) or (n, k); ``lo`` and ``hi`` are int arrays of one length, with ``0 ≤ lo`` and ``hi < n``
    wherever ``hi ≥ lo``."""
    v = np.asarray(v, dtype=np.float64)
    n, tail = v.shape[0], v.shape[1:]
    B = max(64, int(span))
    nb = -(-n // B)
    G = np.zeros((nb * B,) + tail)
    G[:n] = v
    G = np.cumsum(G.reshape((nb, B) + tail), axis=1)  # inclusive prefix sums within each block
    E = np.zeros_like(G)
    E[:, 1:] = G[:, :-1]  # exclusive
    G, E, T = G.reshape((nb * B,) + tail), E.reshape((nb * B,) + tail), G[:, -1]
    empty = hi < lo
    lo_c, hi_c = np.where(empty, 0, lo), np.where(empty, 0, hi)
    shape = (-1,) + (1,) * len(tail)
    split = (lo_c // B != hi_c // B).reshape(shape)  # the range runs into the next block
    out = np.where(split, T[lo_c // B] - E[lo_c] + G[hi_c], G[hi_c] - E[lo_c])
    return np.where(empty.reshape(shape), 0.0, out)


def class_prefix_sums(v, m):
    """``Q`` with ``Q[j + m] = Σ_{j' ≤ j, j' ≡ j (mod m)} v_j'`` and ``Q[:m] = 0`` (rows of v, shape (n,) or (n, k)):
    ``Q[j]`` is then the sum over j's residue class strictly before j.  One cumulative sum along the (n/m, m) view
    of v, so each sum runs along its own class only."""
    v = np.asarray(v, dtype=np.float64)
    n = v.shape[0]
    pad = -(-n // m) * m
    Q = np.zeros((pad + m,) + v.shape[1:])
    Q[m:m + n] = v
    Q[m:] = np.cumsum(Q[m:].reshape((pad // m, m) + v.shape[1:]), axis=0).reshape((pad,) + v.shape[1:])
    return Q


class Fenwick:
    """A Fenwick (binary indexed) tree over positions ``0 .. size − 1``, updated and queried for whole arrays of
    positions at once, one level of the tree a numpy call: ``add(pos, w)`` adds w at each position, ``below(pos)``
    sums what lies strictly below each position.  O(log size) numpy calls an update, whatever its length."""

    def __init__(self, size):
        self.size = int(size)
        self.tree = np.zeros(self.size + 1)

    def add(self, pos, w):
        i = np.asarray(pos, dtype=np.int64) + 1
        w = np.broadcast_to(np.asarray(w, dtype=np.float64), i.shape)
        while i.size:
            np.add.at(self.tree, i, w)
            i = i + (i & -i)
            keep = i <= self.size
            i, w = i[keep], w[keep]

    def below(self, pos):
        i = np.asarray(pos, dtype=np.int64).copy()
        out = np.zeros(i.shape)
        while i.any():  # a finished index stays at 0, and tree[0] is 0
            out += self.tree[i]
            i -= i & -i
        return out


def band_from_blocks(n, i0, i1, w, block, step=None):
    """The band ``D[i − i0, t + w − 1] = A[i, i + t]`` (``|t| < w``) of rows ``i0:i1`` from
    ``block(a0, a1, lo, hi) = A[a0:a1, lo:hi]``, in sub-blocks of ``step`` rows (default: blocks of
    about :data:`BLOCK_BYTES`)."""
    D = np.zeros((i1 - i0, 2 * w - 1))
    if step is None:
        step = int(math.sqrt(w * w + BLOCK_BYTES / 8) - w)
    step = max(1, step)
    t = np.arange(-(w - 1), w)[None, :]
    for a0 in range(i0, i1, step):
        a1 = min(i1, a0 + step)
        lo, hi = max(0, a0 - w + 1), min(n, a1 + w - 1)
        B = block(a0, a1, lo, hi)
        j = np.arange(a0, a1)[:, None] + t
        inside = (j >= lo) & (j < hi)
        rows = np.broadcast_to(np.arange(a1 - a0)[:, None], j.shape)
        D[a0 - i0: a1 - i0][inside] = B[rows[inside], j[inside] - lo]
    return D


@dataclass(frozen=True)
class Param:
    """One parameter of a family: type, default, admissible range and meaning."""

    kind: type
    default: object
    minimum: float
    doc: str
    maximum: float | None = None

    def parse(self, raw, key, family):
        """The value of ``raw`` (a string or a number), or the one-line error naming ``key``."""
        try:
            val = self.kind(raw.strip()) if isinstance(raw, str) else raw
        except ValueError:
            raise AttentionTransportError(f"parameter {key} of {family!r} must be {self.kind.__name__}; "
                                          f"got {raw.strip()!r}.") from None
        return self.validate(val, key, family)

    def validate(self, val, key, family):
        if self.kind is int and (isinstance(val, bool) or not isinstance(val, (int, np.integer))):
            raise BadType(f"parameter {key} of {family!r} must be int; got {val!r}.")
        if self.kind is float:
            if isinstance(val, bool) or not isinstance(val, (int, float, np.integer, np.floating)):
                raise BadType(f"parameter {key} of {family!r} must be float; got {val!r}.")
            val = float(val)
        if not (isinstance(val, (int, np.integer)) or math.isfinite(val)) or val < self.minimum:
            raise AttentionTransportError(f"parameter {key} of {family!r} must be >= {self.minimum:g}; got {val}.")
        top = INT_MAX if self.kind is int and self.maximum is None else self.maximum
        if top is not None and val > top:
            bound = "2^62" if top == INT_MAX else f"{top:g}"
            raise AttentionTransportError(f"parameter {key} of {family!r} must be <= {bound}; got {val}.")
        return int(val) if self.kind is int else val


@dataclass(frozen=True)
class StructuralSums:
    """Row sums ``r``, column sums ``c``, strictly-upper row sums ``s`` and
    strictly-upper column sums ``u`` of a pattern (``s = u = None`` when causal)."""

    r: np.ndarray
    c: np.ndarray
    s: np.ndarray | None = None
    u: np.ndarray | None = None


@dataclass(frozen=True)
class StridedGraph:
    """The symmetrised graph ``W = (A + Aᵀ)/2`` of a strided pattern at n (:meth:`Pattern.strided_graph`).

    Entries with ``|i − j| < w`` are the band: ``near(t, a, b)[i − a] = W[i, i + t]`` for ``0 ≤ t < w`` and i in
    ``[a, b)``, ``0 ≤ a ≤ b ≤ n − t`` (a slice, so the band is read in chunks).  Every entry with ``|i − j| ≥ w``
    joins two tokens of the same residue mod ``l`` and equals ``far[max(i, j)]``: the later token's value alone (a
    causal row normalised uniformly over a stride).
    """

    l: int
    w: int
    near: Callable[[int, int, int], np.ndarray]
    far: np.ndarray


#: family name -> class, in registration order (library families, then presets).
REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: add a pattern family to :data:`REGISTRY` under ``cls.name``.

    The class must be a frozen dataclass whose fields are exactly the keys of
    ``cls.params`` (its parameter table), in the same order.
    """
    if not isinstance(cls, type) or not issubclass(cls, Pattern):
        raise BadType(f"a pattern family must subclass Pattern; got {cls!r}.")
    if getattr(cls, "__abstractmethods__", None):
        raise BadType(f"pattern family {cls.__name__} leaves {', '.join(sorted(cls.__abstractmethods__))} "
                      "abstract.")
    if not cls.name or cls.name in REGISTRY:
        raise AttentionTransportError(f"pattern family name must be new and non-empty; got {cls.name!r}.")
    names = [f.name for f in fields(cls)]
    if names != list(cls.params):
        raise AttentionTransportError(f"pattern family {cls.name!r}: dataclass fields {names} differ from its "
                                      f"parameter table {list(cls.params)}.")
    REGISTRY[cls.name] = cls
    return cls


class Pattern(ABC):
    """An attention pattern: a row-stochastic ``(n, n)`` matrix for every n ≥ 2.

    Subclasses are frozen dataclasses (immutable, hashable, equal when their
    parameters are).  Class attributes of a registered family:

    ``name``
        the spec name; ``params`` the parameter table (name → :class:`Param`);
        ``kind`` one of ``"library"``, ``"preset"``; ``source`` (presets) the
        architecture and paper it follows; ``example`` a spec to show.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict] = {}
    kind: ClassVar[str] = "library"
    source: ClassVar[str] = ""
    example: ClassVar[str] = ""
    #: n beyond which the generic O(n²) passes are refused (families with structure never use them)
    blocked_max_n: ClassVar[int] = BLOCKED_MAX_N
    #: largest n for which exact rational forms are built (compositions multiply O(n³) fractions)
    exact_max_n: ClassVar[int] = 400
    #: whether :meth:`prefix_cuts` sums cuts from the structure (at any n); else the landscape sums the cuts its
    #: identity cannot resolve from row blocks, up to ``DIRECT_CUT_MAX_N``
    structural_cuts: ClassVar[bool] = False

    def __post_init__(self):
        for key, p in type(self).params.items():
            object.__setattr__(self, key, p.validate(getattr(self, key), key, self.name))

    # -- description ------------------------------------------------------------------------
    @property
    def values(self):
        """Parameter values, in table order."""
        return {k: getattr(self, k) for k in type(self).params}

    @property
    def spec(self):
        """Canonical spec string; :func:`parse_pattern` of it gives an equal pattern."""
        if not self.values:
            return self.name
        return self.name + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in self.values.items())

    def __str__(self):
        return self.spec

    @property
    def causal(self):
        """True when the matrix is lower triangular for every n (a sufficient structural fact)."""
        return False

    @property
    def rational(self):
        """True when every entry is rational and :meth:`exact_dense` gives the matrix exactly."""
        return False

    def reach_back_rate(self):
        """A constant ``a`` with ``μ_t ≥ a·t/n`` for every n and t (every row i ≥ t sends at least ``a t/n`` of its
        mass to keys j < t), or None: the hypothesis of L2's all-n floor ``a x_c/(2 − a x_c)``."""
        return None

    def sink_share(self):
        """``(s, ε)``, ``0 < ε < 1``, when for every n and every cut t ≥ 1 each row ``i ≥ t`` sends at least
        ``ε·min(t, s)/s`` of its mass to the keys ``j < t`` (s sink keys, each given ``ε/s`` by every later row), or
        None: the hypothesis of L2's sink floor ``ε/(2 − ε)`` for every ``n ≥ s − 1 + s/(1 − ε)``."""
        return None

    def capacity_law(self):
        """The derived capacity law ``φ_n ~ C n^α (ln n)^β`` of this pattern
        (:class:`~attention_transport.theory.laws.KernelLaw`), or None where no theorem of
        ``theory/laws.py`` applies (``attention-transport law`` then fits and says so)."""
        return None

    def structure(self, n):
        """How the quantities of this pattern are computed at n: ``"structural"`` (closed forms,
        O(n) to O(n log n)), ``"sparse"`` (a sparse matrix of nnz entries), ``"factored"`` (a stack
        through :meth:`factors`) or ``"blocked"`` (O(n²) entry evaluations in row blocks)."""
        return "sparse" if self.nnz(n) is not None and self.nnz(n) <= SPARSE_MAX_NNZ else "blocked"

    # -- entries -------------------------------------------------------------------------------
    @abstractmethod
    def block(self, n, i0, i1, j0, j1):
        """``A[i0:i1, j0:j1]`` of the row-stochastic matrix at n, float64."""

    def support_block(self, n, i0, i1, j0, j1):
        """Support ``A[i0:i1, j0:j1] ≠ 0`` as booleans (families with a mask return the mask:
        an entry that underflows to 0.0 is still in the support)."""
        return self.block(n, i0, i1, j0, j1) > 0

    def rows(self, n, i0, i1):
        """Rows ``i0:i1``, shape ``(i1 − i0, n)``."""
        return self.block(n, i0, i1, 0, n)

    def columns(self, n, j0, j1):
        """Columns ``j0:j1``, shape ``(n, j1 − j0)``."""
        return self.block(n, 0, n, j0, j1)

    def row_blocks(self, n, block_bytes=BLOCK_BYTES):
        """Yield ``(i0, i1, A[i0:i1])`` over all rows, blocks of about ``block_bytes``."""
        n = self._blocked(n)
        for i0, i1 in row_ranges(n, n, block_bytes):
            yield i0, i1, self.rows(n, i0, i1)

    def dense(self, n):
        """The row-stochastic ``(n, n)`` float64 matrix (small n: tests, figures, exact checks)."""
        n = check_n(n)
        return self.block(n, 0, n, 0, n)

    def exact_dense(self, n):
        """The matrix in exact rationals (list of lists of ``Fraction``).

        The default covers mask-uniform patterns: ``1/count`` on the support.

        Raises
        ------
        AttentionTransportError
            For patterns whose entries are not rational.
        """
        if not self.rational:
            raise AttentionTransportError(f"pattern {self.spec!r} has irrational weights; exact form only for "
                                          "mask-uniform patterns and their exact compositions.")
        m = self.support_block(check_n(n), 0, n, 0, n)
        counts = m.sum(axis=1)
        return [[Fraction(1, int(counts[a])) if m[a, b] else Fraction(0) for b in range(n)] for a in range(n)]

    # -- structure: sums and products ------------------------------------------------------------
    def nnz(self, n):
        """Number of nonzeros at n when the support is known to be sparse, else ``None``."""
        return None

    def sparse(self, n):
        """The matrix as ``scipy.sparse.csr_matrix``, or ``None`` when the support is not sparse
        (more than :data:`SPARSE_MAX_NNZ` nonzeros, or no sparse form)."""
        return _sparse_cached(self, check_n(n))

    def factors(self, n):
        """``(Φ, Ψ)``, CSR matrices of shapes (n, m) and (m, n) with ``A = Φ Ψ`` and m < n, when the rows of the
        matrix come from few classes (BigBird: every row of a query block is the same) and no sparse form holds
        it; else ``None``.  Sums, G and products then cost O(nnz(Φ) + nnz(Ψ)) (:mod:`.factored`)."""
        return _factors_cached(self, check_n(n))

    def _factors(self, n):
        return None

    def _sparse(self, n):
        nnz = self.nnz(n)
        if nnz is None or nnz > SPARSE_MAX_NNZ:
            return None
        parts = []
        for i0, i1 in row_ranges(n, n):
            m = self.support_block(n, i0, i1, 0, n)
            ii, jj = np.nonzero(m)
            vals = self.block(n, i0, i1, 0, n)[ii, jj]
            parts.append((ii + i0, jj, vals))
        ii, jj, vv = (np.concatenate(x) for x in zip(*parts))
        return sp.csr_matrix((vv, (ii, jj)), shape=(n, n))

    def bandwidth(self, n):
        """The smallest w with ``A_ij = 0`` whenever ``|i − j| ≥ w`` at n, or ``None`` when the pattern
        has no sparse form to read it from.

        A structural fact of the support (never of rounded entries): families with a band
        declare it, a stack adds its layers' (C5b), the default reads the sparse matrix's
        stored indices (every nonzero is stored).
        """
        n = check_n(n)
        A = self.sparse(n)
        if A is None:
            return None
        rows = np.repeat(np.arange(n), np.diff(A.indptr))
        return int(np.abs(rows - A.indices).max(initial=0)) + 1

    def constant_blocks(self, n):
        """``(labels, Q)`` when the matrix is constant on blocks of tokens — ``A_ij = Q[labels_i, labels_j]`` — with
        ``Q`` a scipy sparse (m, m) matrix of the entry values; else ``None``.  The spectrum of the normalised
        Laplacian is then that of an m×m quotient plus the eigenvalue 1 (vectors summing to 0 on every block)."""
        return None

    def tiled_bipartite_minimum(self, n):
        """``φ_bip`` at n by corner-bounded tiles of cuts (:func:`~attention_transport.numerics.landscapes.
        tiled_bipartite_minimum`) from a matrix the pattern holds in memory: its sparse matrix here (a dense
        matrix in :class:`~.matrix.DenseMatrixPattern`).  ``None`` without one, when the group sums of T rows
        would exceed :data:`TILE_TABLE_BYTES`, or when the landscape is too flat for the bounds to prune."""
        from attention_transport.numerics.landscapes import sparse_tiled_bipartite_minimum

        n = check_n(n)
        T = table_tile(n)
        A = None if T is None else self.sparse(n)
        return None if A is None else sparse_tiled_bipartite_minimum(A, T)

    def hub_band(self, n):
        """``(h, w)`` when the first h tokens are hubs (sinks, global tokens) and, among the rest, ``A_ij = 0``
        whenever ``|i − j| ≥ w`` (rows and columns ≥ h): a band once the hub rows and columns are taken out.
        A structural fact of the support, never read from rounded entries; else ``None``.

        φ_bip then lies in a strip ``|b − a| ≤ K`` or in the cells with a or b below h
        (:func:`~attention_transport.numerics.band.hub_banded_bipartite_minimum`, docs/theory.md, C5h).

        Here read from the sparse form's stored indices, as :meth:`bandwidth` is (every nonzero is stored):
        the fewest first tokens, at most :data:`SPARSE_HUB_MAX`, whose removal leaves the narrowest band
        (a stack whose first layer has global rows: every row that reaches them is a hub)."""
        return _sparse_hub_band_cached(self, check_n(n))

    def translates(self, n):
        """``(h, i0, i1, p)`` when the rows ``i0 … i1 − 1`` are translates of one another with period p: with the
        first h tokens as hubs (those of :meth:`hub_band` when h > 0), ``A[i, i + t]`` off the hubs (0 past the
        matrix) and ``A[i, g]`` on each hub g equal ``A[i + p, i + p + t]`` and ``A[i + p, g]`` whenever i and
        i + p lie there, and each hub row is p-periodic on the columns ``i0 … i1 − 1``.  A structural fact (p = 1:
        a Toeplitz band's rows with their whole kernel inside the matrix; p = L: documents of L tokens); else
        ``None``.

        Along each diagonal ``b = a + δ`` of the bipartite landscape, the cells whose cuts read only such rows
        then have a cut affine in a, and φ_bip needs only four of them (docs/theory.md, C5t)."""
        return None

    def hub_components(self, n):
        """``(hubs, groups)`` when the transport graph without the ``hubs`` (an int array of tokens) falls apart into
        contiguous components, given as ``groups``: a list of ``(starts, length)``, every component of a group being
        a copy of the first — the same entries inside, the same links to each hub, the same degrees — and no link
        joining two components.  Else ``None``.

        The normalised Laplacian is then reduced by the symmetry that permutes the copies of a group: a
        vector equal to u on one copy and −u on another is an eigenvector whenever u is one of the copy's
        own block, and the rest of the spectrum is that of one matrix of size ``#hubs + Σ length``
        (:func:`~attention_transport.numerics.structured.pattern_fiedler`).  Document masks with a shared
        BOS are such patterns: ``n/L`` identical documents hanging from token 0."""
        return None

    def strided_graph(self, n):
        """A :class:`StridedGraph` when, beyond a band, the symmetrised graph links only tokens of one residue class
        mod l with the later token's weight (the Sparse Transformer's strided heads); else ``None``.

        λ₂ then comes from a band of width ``w + l`` congruent to ``M − σ D`` (:mod:`~attention_transport.
        numerics.strided`), with no sparse form and no n×n matrix."""
        return None

    def sweep_inside(self, n, rank):
        """``inside[k]``: the mass of A's entries whose later end, in the sweep's order (``rank[i]``: vertex i's
        place in it), has rank k, from the pattern's own structure; ``None`` when it has none (the sweep then
        bins a sparse form, factors, row blocks or band rows instead)."""
        return None

    def band_rows(self, n, i0, i1, w):
        """``D[i − i0, t + w − 1] = A[i, i + t]`` for ``|t| < w``, rows ``i0:i1`` (0 outside the matrix):
        the band of a pattern of bandwidth at most w, O((i1 − i0) · w) memory."""
        n = check_n(n)
        A = self.sparse(n)
        if A is None:
            return band_from_blocks(n, i0, i1, w, lambda a0, a1, lo, hi: self.block(n, a0, a1, lo, hi))
        D = np.zeros((i1 - i0, 2 * w - 1))
        S = A[i0:i1].tocoo()
        t = S.col - (S.row + i0)
        if t.size and int(np.abs(t).max()) >= w:
            raise AttentionTransportError(f"pattern {self.spec!r} has an entry {int(np.abs(t).max())} off the "
                                          f"diagonal in rows {i0}..{i1 - 1}, outside the band {w} asked for.")
        D[S.row, t + w - 1] = S.data
        return D

    def hub_band_rows(self, n, i0, i1, h, w):
        """:meth:`band_rows` of the matrix with its first h rows and columns set to 0 (the hubs of
        :meth:`hub_band`): ``D[i − i0, t + w − 1] = A[i, i + t]`` for ``|t| < w``, ``i, i + t ≥ h``."""
        n = check_n(n)
        A = self.sparse(n)
        if A is not None:  # the stored entries off the hubs, laid out by offset
            D = np.zeros((i1 - i0, 2 * w - 1))
            S = A[max(i0, h):i1].tocoo()
            keep = S.col >= h
            rows, cols = S.row[keep] + max(i0, h), S.col[keep]
            if rows.size and int(np.abs(cols - rows).max()) >= w:
                raise AttentionTransportError(f"pattern {self.spec!r} has an entry {int(np.abs(cols - rows).max())} "
                                              f"off the diagonal past its {h} hub(s), outside the band {w} asked for.")
            D[rows - i0, cols - rows + w - 1] = S.data[keep]
            return D
        D = band_from_blocks(n, i0, i1, w, lambda a0, a1, lo, hi: self.block(n, a0, a1, lo, hi))
        i = np.arange(i0, i1)[:, None]
        D[(i + np.arange(-(w - 1), w)[None, :] < h) | (i < h)] = 0.0
        return D

    def sums(self, n):
        """Row, column and strictly-upper sums without the n×n matrix.

        Returns
        -------
        StructuralSums
            ``s = u = None`` when the pattern is causal (C1 applies).
        """
        n = check_n(n)
        A = self.sparse(n)
        if A is not None:
            r = np.asarray(A.sum(axis=1)).ravel()
            c = np.asarray(A.sum(axis=0)).ravel()
            if self.causal:
                return StructuralSums(r, c)
            U = sp.triu(A, k=1)
            return StructuralSums(r, c, np.asarray(U.sum(axis=1)).ravel(), np.asarray(U.sum(axis=0)).ravel())
        F = self.factors(n)
        if F is not None:
            from attention_transport.numerics.patterns.factored import factored_sums

            sums = factored_sums(*F)
            return StructuralSums(sums.r, sums.c) if self.causal else sums
        r, c, s, u = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        for i0, i1, R in self.row_blocks(n):
            r[i0:i1] = R.sum(axis=1)
            c += R.sum(axis=0)
            if not self.causal:
                up = np.triu(R, k=1 + i0)
                s[i0:i1] = up.sum(axis=1)
                u += up.sum(axis=0)
        return StructuralSums(r, c) if self.causal else StructuralSums(r, c, s, u)

    def prefix_cuts(self, n, ts):
        """The causal prefix cuts ``Σ_{i ≥ t} Σ_{j < t} A_ij`` at the given t, each a sum of nonnegative terms: the
        cuts the in-degree identity (C1) cannot resolve, such as the exact zeros of a graph that falls apart.

        Here from the row blocks, O(n²) and refused past ``blocked_max_n``; a family that sums them from its
        structure overrides this and sets ``structural_cuts`` (the landscape then asks it at any n)."""
        from attention_transport.numerics.landscapes import direct_prefix_cuts

        n = check_n(n)
        return direct_prefix_cuts(self.row_blocks(n), n, ts, causal=True)

    def matvec(self, n, x):
        """``A @ x`` for x of shape (n,) or (n, k)."""
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        A = self.sparse(n)
        if A is not None:
            return A @ x
        out = np.zeros((n,) + x.shape[1:])
        for i0, i1, R in self.row_blocks(n):
            out[i0:i1] = R @ x
        return out

    def rmatvec(self, n, y):
        """``Aᵀ @ y`` for y of shape (n,) or (n, k)."""
        n = check_n(n)
        y = np.asarray(y, dtype=np.float64)
        A = self.sparse(n)
        if A is not None:
            return A.T @ y
        out = np.zeros((n,) + y.shape[1:])
        for i0, i1, R in self.row_blocks(n):
            out += R.T @ y[i0:i1]
        return out

    def symmetric_product(self, n, x):
        """``(A + Aᵀ) x`` for x of shape (n,) or (n, k): the symmetrised graph's product, which λ₂'s eigensolver
        applies on every iteration.  From the sparse matrix or the structure, the two products; in row blocks,
        one pass that uses each block twice (the pattern's entries are evaluated once, not twice)."""
        n = check_n(n)
        x = np.asarray(x, dtype=np.float64)
        own = type(self).matvec is not Pattern.matvec or type(self).rmatvec is not Pattern.rmatvec
        if own or self.sparse(n) is not None:  # products of the family's own, or of the sparse matrix
            return self.matvec(n, x) + self.rmatvec(n, x)
        out = np.zeros((n,) + x.shape[1:])
        for i0, i1, R in self.row_blocks(n):
            out[i0:i1] += R @ x
            out += R.T @ x[i0:i1]
        return out

    def skew_norms(self, n, d):
        """``(‖N − Nᵀ‖_F², ‖N + Nᵀ‖_F²)`` with ``N = D^{-1/2} A D^{-1/2}``: ``G`` is the square root of
        their ratio (docs/theory.md §1).

        Both are sums of squares accumulated entry by entry — never ``ΣN² − ⟨N, Nᵀ⟩``,
        which cancels for nearly symmetric patterns (an absolute error of 1e-16
        in G² is 1e-8 in G).  From the sparse matrix when there is one, else in
        row blocks (with the matching column blocks when the pattern is not causal).
        """
        n = check_n(n)
        x = 1.0 / np.sqrt(np.asarray(d, dtype=np.float64))
        A = self.sparse(n)
        if A is not None and not self.causal:
            hb = self.hub_band(n)
            w = self.bandwidth(n) if hb is None else hb[1]
            if w is not None and w <= BANDED_SKEW_MAX_W and 4 * w < n:  # pairs (i, j), (j, i) side by side
                return _banded_skew_norms(A, x, 0 if hb is None else hb[0], w)
        if A is not None:
            N = sp.csr_matrix(A, dtype=np.float64, copy=True)
            N.sum_duplicates()  # each stored value one entry: the sums of squares below square whole entries
            N.data *= x[np.repeat(np.arange(n), np.diff(N.indptr))] * x[N.indices]  # x_i A_ij x_j, entry by entry
            if self.causal:  # N_ji = 0 off the diagonal for j > i: sums of squares, no transpose
                strict = sp.tril(N, k=-1)
                off = float(np.square(strict.data).sum())  # pairwise summation
                diag = N.diagonal()
                return 2.0 * off, 2.0 * off + 4.0 * float((diag * diag).sum())
            NT = N.T.tocsr()  # one transpose for both
            K, S = N - NT, N + NT
            return float(np.square(K.data).sum()), float(np.square(S.data).sum())
        F = self.factors(n)
        if F is not None:
            from attention_transport.numerics.patterns.factored import factored_skew_norms

            try:
                return factored_skew_norms(*F, x)
            except WontFit:
                if n > self.blocked_max_n:
                    raise
        skew = sym = 0.0
        for i0, i1, R in self.row_blocks(n):
            N = R * x[i0:i1, None] * x[None, :]
            if self.causal:  # N_ji = 0 off the diagonal for j > i: no column blocks needed
                diag = N[np.arange(i1 - i0), np.arange(i0, i1)].copy()
                N[np.arange(i1 - i0), np.arange(i0, i1)] = 0.0
                off = float((N * N).sum())
                skew += 2.0 * off
                sym += 2.0 * off + 4.0 * float((diag * diag).sum())
            else:
                NT = (self.columns(n, i0, i1) * x[:, None] * x[None, i0:i1]).T  # NT[a, j] = N[j, i0 + a]
                skew += float(((N - NT) ** 2).sum())
                sym += float(((N + NT) ** 2).sum())
        return skew, sym

    def _blocked(self, n):
        n = check_n(n)
        if n > self.blocked_max_n:
            raise WontFit(f"pattern {self.spec!r} has no structure to exploit: its quantities cost O(n²) entry "
                          f"evaluations, limited to n <= {self.blocked_max_n}; got n = {n}.")
        return n



class RowNormalised(Pattern):
    """A pattern whose rows are normalised from unnormalised weights: entries are
    ``exp(logw − shift_i) / Z_i`` on the support (Toeplitz kernels, masks and scores)."""

    def row_normalisers(self, n):
        """``(shift_i, Z_i)`` of every row, cached per (pattern, n)."""
        return _row_stats_cached(self, check_n(n))

    @abstractmethod
    def _row_stats(self, n):
        """``(shift, Z)``, each of shape (n,), computed once per n."""


@lru_cache(maxsize=16)
def _row_stats_cached(pattern, n):
    return pattern._row_stats(n)


#: widest band (off the hubs) whose G comes offset by offset from the sparse form (rows of 2w − 1 in chunks)
BANDED_SKEW_MAX_W = 512


def _banded_skew_norms(A, x, h, w, chunk=1 << 16):
    """G's two norms of ``N = X A X`` (A CSR, ``X = diag(x)``) when A is a band of width w off its first h tokens.

    Each pair of entries ``(i, j), (j, i)`` is compared directly, with no sparse transpose or sum: the band
    entries of a chunk of rows (and the w − 1 rows after it) are laid out by offset, ``D[i, t + w − 1] =
    N[i, i + t]``, so ``N_ji`` of the entry at offset t is ``D[i + t, w − 1 − t]``.  The pairs with an end among
    the hubs come from the h dense hub rows ``R = N[:h]`` and columns ``Cc = N[:, :h]``: ``‖R − Ccᵀ‖²`` for
    ``i < h`` and ``‖Cc[h:] − R[:, h:]ᵀ‖²`` for ``i ≥ h > j``.  Every term is a square of one pair's entries."""
    n = A.shape[0]
    A = sp.csr_matrix(A, dtype=np.float64)
    if not A.has_canonical_format:
        A = A.copy()
        A.sum_duplicates()
    ptr, idx = A.indptr, A.indices
    skew = sym = 0.0
    if h:
        R = A[:h].toarray() * x[:h, None] * x[None, :]
        at = ptr[h] + np.flatnonzero(idx[ptr[h]:] < h)
        rows = np.searchsorted(ptr, at, side="right") - 1
        Cc = np.zeros((n, h))
        Cc[rows, idx[at]] = A.data[at] * x[rows] * x[idx[at]]
        Cc[:h] = R[:, :h]  # N[:h, :h]
        skew += float(((R - Cc.T) ** 2).sum()) + float(((Cc[h:] - R[:, h:].T) ** 2).sum())
        sym += float(((R + Cc.T) ** 2).sum()) + float(((Cc[h:] + R[:, h:].T) ** 2).sum())
    for i0 in range(h, n, chunk):
        i1, i2 = min(n, i0 + chunk), min(n, i0 + chunk + w - 1)
        rows = np.repeat(np.arange(i0, i2), np.diff(ptr[i0:i2 + 1]))
        cols = idx[ptr[i0]:ptr[i2]]
        band = cols >= h
        rows, cols = rows[band], cols[band]
        if rows.size and np.abs(cols - rows).max() >= w:
            raise AttentionTransportError(f"an entry lies outside the band of width {w} claimed off {h} hub(s): "
                                          f"offset {int(np.abs(cols - rows).max())}")
        D = np.zeros((i2 - i0 + w, 2 * w - 1))
        D[rows - i0, cols - rows + w - 1] = A.data[ptr[i0]:ptr[i2]][band] * x[rows] * x[cols]
        diag = D[:i1 - i0, w - 1]
        sym += 4.0 * float((diag * diag).sum())
        for t in range(1, w):  # pairs (i, i + t) with i in the chunk
            a, b = D[:i1 - i0, w - 1 + t], D[t:t + i1 - i0, w - 1 - t]
            skew += 2.0 * float(((a - b) ** 2).sum())
            sym += 2.0 * float(((a + b) ** 2).sum())
    return skew, sym


#: most leading tokens :meth:`Pattern.hub_band` takes as hubs when it reads them from a sparse form
SPARSE_HUB_MAX = 32


def _sparse_hub_band(A):
    """``(h, w)`` of :meth:`Pattern.hub_band` from the stored entries of the CSR matrix A, or ``None`` when
    no h ≤ :data:`SPARSE_HUB_MAX` narrows the band (a plain band, or hubs past the first tokens).

    ``widest[h]`` is the largest offset |i − j| among entries with i, j ≥ h.  Past the first ``cap`` rows and
    columns, row i's widest entry is its smallest or largest column ≥ cap; the entries with an end below cap
    (the first cap rows, and later rows' entries in the first cap columns) are read one by one."""
    n = A.shape[0]
    cap = min(SPARSE_HUB_MAX, n - 1)
    ptr, idx = A.indptr, A.indices
    widest = np.zeros(cap + 1, dtype=np.int64)
    tail = idx[ptr[cap]:]  # the rows past cap
    low = tail < cap
    starts = ptr[cap:-1] - ptr[cap]
    full = np.flatnonzero(np.diff(ptr[cap:]) > 0)
    if full.size:
        first = np.minimum.reduceat(np.where(low, n, tail), starts[full])  # each row's columns past cap
        last = np.maximum.reduceat(np.where(low, -1, tail), starts[full])
        i, ok = cap + full, last >= 0
        widest[cap] = max(np.abs(i[ok] - first[ok]).max(initial=0), np.abs(last[ok] - i[ok]).max(initial=0))
    at = np.flatnonzero(low)  # later rows' entries in the first cap columns, and the first cap rows'
    r = np.concatenate([np.searchsorted(ptr, ptr[cap] + at, side="right") - 1,
                        np.repeat(np.arange(cap), np.diff(ptr[:cap + 1]))])
    c = np.concatenate([tail[at], idx[:ptr[cap]]]).astype(np.int64)
    np.maximum.at(widest, np.minimum(r, c), np.abs(r - c))
    widest = np.maximum.accumulate(widest[::-1])[::-1]  # widest[h]: the largest offset among entries past h
    h = int(np.argmax(widest == widest[cap]))  # the fewest hubs that reach the narrowest band
    return (h, int(widest[h]) + 1) if h > 0 else None


@lru_cache(maxsize=4)
def _sparse_hub_band_cached(pattern, n):
    A = pattern.sparse(n)
    return None if A is None else _sparse_hub_band(A)


@lru_cache(maxsize=4)
def _sparse_cached(pattern, n):
    return pattern._sparse(n)


@lru_cache(maxsize=4)
def _factors_cached(pattern, n):
    return pattern._factors(n)


def _fmt(v):
    return str(v)
