"""Library of synthetic attention patterns.

Each pattern gives

* ``dense(n)``: the ``(n, n)`` row-stochastic matrix, built from its support
  mask and unnormalised weights (for small n, tests and figures);
* ``sums(n)``: its row sums, column sums and strictly-upper row/column sums
  computed *structurally*, without the n×n matrix: O(n) or O(n·w) time, so
  the prefix capacity at n = 10⁷ costs seconds (C1);
* ``exact_dense(n)`` for patterns whose entries are ``1/count`` on a mask:
  the matrix in exact rationals.

Tokens are 1-based in the formulas below (``i`` query, ``j`` key).

=======================  ==========================================================  ========
name                     support of row i and weights                                causal
=======================  ==========================================================  ========
uniform-causal           ``j ≤ i``, uniform                                          yes
window (w)               ``i − w < j ≤ i``, uniform                                  yes
sink-window (s, w)       ``j ≤ min(s, i)`` or ``i − w < j ≤ i``, uniform             yes
dilated (w, k)           ``j = i − m k``, ``m = 0..w−1``, ``j ≥ 1``, uniform         yes
block-causal (b)         ``j ≤ min(n, b⌈i/b⌉)`` (full inside a block), uniform       no
exp-decay (m)            ``j ≤ i``, weight ``e^{−m (i − j)}`` (ALiBi-like)           yes
power-law (p)            ``j ≤ i``, weight ``(i − j + 1)^{−p}``                      yes
random-softmax (beta,    ``j ≤ i``, softmax of ``beta · g_ij``, ``g`` i.i.d. N(0,1)  yes
seed)                    from ``numpy.random.default_rng(seed)``, row-major
bidirectional-uniform    every j, uniform                                            no
bidirectional-window (w) ``|i − j| < w``, uniform                                    no
=======================  ==========================================================  ========

Spec strings: ``window:w=64``, ``sink-window:s=4,w=64``; omitted parameters
take the defaults listed by :func:`describe_patterns`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy import signal, special

from attention_transport.errors import AttentionTransportError, BadType, UnknownName

__all__ = [
    "Pattern",
    "StructuralSums",
    "PATTERNS",
    "parse_pattern",
    "describe_patterns",
    "RANDOM_SOFTMAX_MAX_N",
]

#: random-softmax has no closed-form sums: they cost O(n²) draws.
RANDOM_SOFTMAX_MAX_N = 20_000


@dataclass(frozen=True)
class StructuralSums:
    """Row sums ``r``, column sums ``c``, strictly-upper row sums ``s`` and
    strictly-upper column sums ``u`` of a pattern (``s = u = None`` when causal)."""

    r: np.ndarray
    c: np.ndarray
    s: np.ndarray | None = None
    u: np.ndarray | None = None


@dataclass(frozen=True)
class _Param:
    kind: type
    default: object
    minimum: float
    doc: str


def _banded_sums(n, offsets, row_value):
    """Sums of a banded matrix with ``A[i, i + k] = row_value[i]`` for k in offsets.

    ``row_value`` has shape (n,) (the entry depends on the row only, as for every
    mask-uniform pattern); rows with ``i + k`` outside the matrix are skipped.
    O(n · len(offsets)) with slice arithmetic only.
    """
    r = np.zeros(n)
    c = np.zeros(n)
    s = np.zeros(n)
    u = np.zeros(n)
    for k in offsets:
        lo, hi = max(1, 1 - k), min(n, n - k)
        if lo > hi:
            continue
        v = row_value[lo - 1:hi]
        rows, cols = slice(lo - 1, hi), slice(lo - 1 + k, hi + k)
        r[rows] += v
        c[cols] += v
        if k > 0:
            s[rows] += v
            u[cols] += v
    return r, c, s, u


@dataclass(frozen=True)
class Pattern:
    """An attention pattern with fixed parameters; see the module table."""

    name: str
    params: dict = field(default_factory=dict)

    # -- description -----------------------------------------------------------
    @property
    def spec(self):
        """Canonical spec string, e.g. ``window:w=16``."""
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in self.params.items())

    @property
    def causal(self):
        """True when every matrix of the pattern is lower triangular.

        ``block-causal:b=1`` and ``bidirectional-window:w=1`` are diagonal, hence causal.
        """
        if self.name == "block-causal":
            return self.params["b"] == 1
        if self.name == "bidirectional-window":
            return self.params["w"] == 1
        return self.name != "bidirectional-uniform"

    @property
    def rational(self):
        """True when the entries are ``1/count`` on a mask (exact arithmetic applies)."""
        return self.name not in ("exp-decay", "power-law", "random-softmax")

    # -- dense construction: mask and weights, normalised by rows ---------------
    def mask(self, n):
        """Support of the pattern, boolean ``(n, n)``."""
        _check_n(n)
        i = np.arange(1, n + 1)[:, None]
        j = np.arange(1, n + 1)[None, :]
        p = self.params
        if self.name in ("uniform-causal", "exp-decay", "power-law", "random-softmax"):
            return j <= i
        if self.name == "window":
            return (j <= i) & (j > i - p["w"])
        if self.name == "sink-window":
            return (j <= i) & ((j <= p["s"]) | (j > i - p["w"]))
        if self.name == "dilated":
            d = i - j
            return (d >= 0) & (d % p["k"] == 0) & (d // p["k"] < p["w"])
        if self.name == "block-causal":
            return j <= np.minimum(n, p["b"] * (-(-i // p["b"])))
        if self.name == "bidirectional-uniform":
            return np.ones((n, n), dtype=bool)
        if self.name == "bidirectional-window":
            return np.abs(i - j) < p["w"]
        raise UnknownName(f"unknown pattern {self.name!r}")  # unreachable via parse_pattern

    def dense(self, n):
        """The row-stochastic ``(n, n)`` float64 matrix of the pattern."""
        m = self.mask(n)
        i = np.arange(n)[:, None]
        j = np.arange(n)[None, :]
        if self.name == "exp-decay":
            w = np.where(m, np.exp(-self.params["m"] * np.maximum(i - j, 0)), 0.0)
        elif self.name == "power-law":
            w = np.where(m, (np.abs(i - j) + 1.0) ** -self.params["p"], 0.0)
        elif self.name == "random-softmax":
            g = np.random.default_rng(self.params["seed"]).standard_normal((n, n))
            logits = np.where(m, self.params["beta"] * g, -np.inf)
            w = np.exp(logits - logits.max(axis=1, keepdims=True))
        else:
            w = m.astype(np.float64)
        return w / w.sum(axis=1, keepdims=True)

    def exact_dense(self, n):
        """The matrix in exact rationals (list of lists of ``Fraction``).

        Raises
        ------
        ValueError
            For patterns with irrational weights.
        """
        if not self.rational:
            raise AttentionTransportError(f"pattern {self.name!r} has irrational weights; exact form only for "
                                          "mask-uniform patterns.")
        m = self.mask(n)
        counts = m.sum(axis=1)
        return [[Fraction(1, int(counts[a])) if m[a, b] else Fraction(0) for b in range(n)]
                for a in range(n)]

    # -- structural sums ----------------------------------------------------------
    def sums(self, n):
        """Row, column and strictly-upper sums without the n×n matrix.

        Returns
        -------
        StructuralSums

        Raises
        ------
        ValueError
            If ``n < 2``, or n exceeds :data:`RANDOM_SOFTMAX_MAX_N` for
            random-softmax.
        """
        sums = self._sums(n)
        if self.causal and sums.s is not None:  # degenerate bidirectional forms: drop the zeros
            return StructuralSums(sums.r, sums.c)
        return sums

    def _sums(self, n):
        _check_n(n)
        p = self.params
        ones = np.ones(n)
        idx = np.arange(1, n + 1)
        if self.name == "uniform-causal":
            # c_k = Σ_{i ≥ k} 1/i = H_n − H_{k−1} = ψ(n + 1) − ψ(k)
            return StructuralSums(ones, special.digamma(n + 1.0) - special.digamma(idx.astype(float)))
        if self.name == "window":
            w = p["w"]
            r, c, _, _ = _banded_sums(n, range(-(w - 1), 1), 1.0 / np.minimum(idx, w))
            return StructuralSums(r, c)
        if self.name == "sink-window":
            s_, w = p["s"], p["w"]
            lo = np.maximum(1, idx - w + 1)
            sink = np.minimum(s_, idx)
            m_i = sink + (idx - lo + 1) - np.maximum(0, sink - lo + 1)
            inv = 1.0 / m_i
            r, c, _, _ = _banded_sums(n, range(-(w - 1), 1), inv)
            # sink column j ≤ s lies outside the window of every row i ≥ j + w
            tail = np.cumsum(inv[::-1])[::-1]  # tail[a] = Σ_{i ≥ a + 1} 1/m_i (0-based a)
            for jj in range(1, min(s_, n) + 1):
                if jj + w <= n:
                    c[jj - 1] += tail[jj + w - 1]
            return StructuralSums(ones, c)
        if self.name == "dilated":
            w, k = p["w"], p["k"]
            cnt = np.minimum(w, (idx - 1) // k + 1)
            r, c, _, _ = _banded_sums(n, [-m * k for m in range(w)], 1.0 / cnt)
            return StructuralSums(r, c)
        if self.name == "block-causal":
            b = p["b"]
            e = np.minimum(n, b * (-(-idx // b)))  # last key visible to row i
            start = b * ((idx - 1) // b) + 1  # first row of the block of token j
            inv = 1.0 / e
            tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])
            c = tail[start - 1]
            s = (e - idx) / e
            u = (idx - start) / e
            return StructuralSums(ones, c, s, u)
        if self.name == "exp-decay":
            q = math.exp(-p["m"])
            Z = -np.expm1(-p["m"] * idx) / -math.expm1(-p["m"]) if p["m"] > 0 else idx.astype(float)
            # c_j = 1/Z_j + q c_{j+1}: a first-order recursion, run backwards
            c = signal.lfilter([1.0], [1.0, -q], (1.0 / Z)[::-1])[::-1]
            return StructuralSums(ones, c)
        if self.name == "power-law":
            kappa = (idx.astype(float)) ** -p["p"]  # κ(d) = (d + 1)^{-p}, d = 0..n−1
            Z = np.cumsum(kappa)
            # c_j = Σ_{d ≥ 0} κ(d) / Z_{j + d}: a correlation, by FFT
            c = signal.fftconvolve(1.0 / Z, kappa[::-1])[n - 1: 2 * n - 1]
            return StructuralSums(ones, c)
        if self.name == "random-softmax":
            if n > RANDOM_SOFTMAX_MAX_N:
                raise AttentionTransportError(f"random-softmax sums cost O(n²) draws and are limited to n <= "
                                              f"{RANDOM_SOFTMAX_MAX_N}; got n = {n}.")
            return _random_softmax_sums(n, p["beta"], p["seed"])
        if self.name == "bidirectional-uniform":
            return StructuralSums(ones, ones.copy(), (n - idx) / n, (idx - 1) / n)
        if self.name == "bidirectional-window":
            w = p["w"]
            m_i = np.minimum(n, idx + w - 1) - np.maximum(1, idx - w + 1) + 1
            r, c, s, u = _banded_sums(n, range(-(w - 1), w), 1.0 / m_i)
            return StructuralSums(r, c, s, u)
        raise UnknownName(f"unknown pattern {self.name!r}")  # unreachable via parse_pattern


def _random_softmax_sums(n, beta, seed):
    rng = np.random.default_rng(seed)
    r = np.empty(n)
    c = np.zeros(n)
    block = max(1, (1 << 20) // (8 * n))
    j = np.arange(n)[None, :]
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        g = rng.standard_normal((i1 - i0, n))  # same stream, row-major, as dense()
        logits = np.where(j <= np.arange(i0, i1)[:, None], beta * g, -np.inf)
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        a = w / w.sum(axis=1, keepdims=True)
        r[i0:i1] = a.sum(axis=1)
        c += a.sum(axis=0)
    return StructuralSums(r, c)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise BadType(f"n must be an integer; got {n!r}.")
    if n < 2:
        raise AttentionTransportError(f"a pattern needs n >= 2 tokens; got n = {n}.")


_INT = int
_FLOAT = float

#: name -> parameter table (ordered); the single source of truth for specs.
PATTERNS = {
    "uniform-causal": {},
    "window": {"w": _Param(_INT, 16, 1, "window length")},
    "sink-window": {"s": _Param(_INT, 4, 1, "number of sink tokens"),
                    "w": _Param(_INT, 16, 1, "window length")},
    "dilated": {"w": _Param(_INT, 16, 1, "keys per row"), "k": _Param(_INT, 2, 1, "dilation")},
    "block-causal": {"b": _Param(_INT, 16, 1, "block length")},
    "exp-decay": {"m": _Param(_FLOAT, 0.1, 0.0, "decay rate per token (ALiBi slope)")},
    "power-law": {"p": _Param(_FLOAT, 1.0, 0.0, "decay exponent")},
    "random-softmax": {"beta": _Param(_FLOAT, 1.0, 0.0, "inverse temperature"),
                       "seed": _Param(_INT, 0, 0, "random seed")},
    "bidirectional-uniform": {},
    "bidirectional-window": {"w": _Param(_INT, 16, 1, "half-width (|i − j| < w)")},
}


def describe_patterns():
    """One line per pattern: its spec with defaults and parameter meanings."""
    lines = []
    for name, table in PATTERNS.items():
        if table:
            args = ",".join(f"{k}={t.default}" for k, t in table.items())
            docs = "; ".join(f"{k}: {t.doc}" for k, t in table.items())
            lines.append(f"{name}:{args}  ({docs})")
        else:
            lines.append(name)
    return lines


def parse_pattern(spec):
    """Parse a spec string such as ``"sink-window:s=4,w=64"`` into a :class:`Pattern`.

    Raises
    ------
    ValueError
        Unknown name or parameter, malformed ``key=value``, a value of the wrong
        type or below its minimum.  The message lists what exists.

    Examples
    --------
    >>> parse_pattern("window:w=64").spec
    'window:w=64'
    >>> parse_pattern("sink-window").spec
    'sink-window:s=4,w=16'
    """
    if not isinstance(spec, str) or not spec.strip():
        raise AttentionTransportError(f"pattern spec must be a non-empty string; got {spec!r}.")
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if name not in PATTERNS:
        raise UnknownName(f"unknown pattern {name!r}; known patterns: {', '.join(PATTERNS)}.")
    table = PATTERNS[name]
    values = {k: t.default for k, t in table.items()}
    for item in filter(None, (x.strip() for x in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq:
            raise AttentionTransportError(f"pattern parameter must be key=value; got {item!r} in {spec!r}.")
        if key not in table:
            known = ", ".join(table) if table else "none"
            raise UnknownName(f"unknown parameter {key!r} for pattern {name!r}; its parameters: {known}.")
        t = table[key]
        try:
            val = t.kind(raw.strip())
        except ValueError:
            raise AttentionTransportError(f"parameter {key} of {name!r} must be {t.kind.__name__}; "
                                          f"got {raw.strip()!r}.") from None
        if not (isinstance(val, int) or math.isfinite(val)) or val < t.minimum:
            raise AttentionTransportError(f"parameter {key} of {name!r} must be >= {t.minimum:g}; got {val}.")
        values[key] = val
    return Pattern(name, values)
