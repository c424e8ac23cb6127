"""Per-head features of attention maps, one registered object per feature.

Input: one head's map ``A`` (n × n, rows = queries) and the prompt length ``p``
(response rows are ``p..n−1``); for a whole pass, shape ``(layers, heads, n, n)``.

A feature is a subclass of :class:`Feature` decorated with :func:`register`. It
declares its name, its family (``transport`` or ``baseline``), a label for the
figures, the probe groups it joins, its dense evaluation on one head
(:meth:`Feature.dense`, reading the shared quantities of a :class:`Head`), and,
when it streams, the accumulators it reads (:mod:`.accumulators`) and how it
finishes from them (:meth:`Feature.streamed`).  Everything that lists features
is derived from :data:`FEATURES`: :func:`head_features`, the streaming loop,
the probe groups of ``validate``, the rows of figure F7, the tests'
parametrisations.

Transport features (docs/theory.md §1; computed by :mod:`attention_transport.numerics`)
-------------------------------------------------------------------------------------
``phi``            prefix capacity ``min_t φ_A(t)``
``t_star_over_n``  worst cut position ``t*/n``
``phi_boundary``   ``φ_A(p)``: the cut between prompt and response
``phi_response``   prefix capacity of the response block ``A[p:, p:]`` with rows renormalised
``phi_bip``        bipartite capacity
``G``              asymmetry coefficient ``‖K‖_F / ‖S‖_F``
``lambda2``        Fiedler value of ``L = I − S`` (on request: O(n³) per head)
``prompt_mass``    mean attention of response rows on prompt keys

Baselines (docs/baselines.md)
-----------------------------
``lapeig``         LapEigvals: eigenvalues of ``L = D − A`` with ``d_i = Σ_{u≥i} a_ui / (n − i)``,
                   for causal A the diagonal ``d_i − a_ii``, top-k per head, descending
``attn_score``     LLM-Check: mean over response rows of ``log a_ii``
``kl_uniform``     mean over response rows of ``KL(a_i ‖ U_{i+1}) = log(i+1) − H(a_i)``
``lookback``       Lookback Lens (Chuang et al. 2024): mean over response rows of the lookback
                   ratio ``c_i / (c_i + r_i)``, ``c_i`` the mean attention on a prompt key and
                   ``r_i`` the mean on a response key the row sees (``p..i`` causal, all
                   response keys otherwise); its probe group is their classifier

Adding a feature
----------------
One class here (or in any module imported before use) and its test::

    @register
    class PromptEntropy(Feature):
        name, family, label = "prompt_entropy", "transport", "H(prompt)"
        accumulators = (RowEntropy,)

        def dense(self, head): ...
        def streamed(self, stream): ...

Undefined values are ``nan`` (``phi_boundary`` when there is no response); a
feature that is not wanted (excluded, or on request and not requested) or that
a path cannot give (``lambda2`` on the streaming path) is ``nan`` too.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from attention_transport.errors import AttentionTransportError, BadType, UnknownName
from attention_transport.harness.accumulators import (
    Asymmetry,
    BipartiteLattice,
    LookbackRows,
    PromptRows,
    ResponseBlock,
    RowColumnSums,
    RowEntropy,
)
from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape
from attention_transport.numerics.operators import asymmetry_coefficient
from attention_transport.numerics.spectral import spectral_gap

__all__ = ["Feature", "FeatureSettings", "Head", "FEATURES", "register", "feature", "feature_names",
           "TRANSPORT_FEATURES", "BASELINE_FEATURES", "SCALAR_FEATURES", "probe_groups", "LEGACY_NAMES",
           "head_features", "attention_features", "lapeig_values", "lookback_ratios"]

FAMILIES = ("transport", "baseline")
#: names used by earlier releases (feature files and reports), read as the current ones
LEGACY_NAMES = {"t_star_frac": "t_star_over_n"}


#: Most LapEigvals kept per head: k values per head and example are stored, and k beyond the number of tokens
#: is zero padding (the baseline's authors keep tens).
LAPEIG_K_MAX = 512
#: LapEigvals kept per head by default: the authors' best setting (k = 100 per head)
LAPEIG_K_DEFAULT = 100


@dataclass(frozen=True)
class FeatureSettings:
    """Which features to compute and their parameters.

    Attributes
    ----------
    lambda2 : bool
        Compute the on-request feature ``lambda2`` (O(n³) per head; needs the full map).
    lapeig_k : int
        LapEigvals kept per head (default 100, the authors' best setting).
    exclude : frozenset of str
        Features left out (``nan``), e.g. ``{"G", "phi_bip"}`` for a cheaper streaming pass.
    """

    lambda2: bool = False
    lapeig_k: int = LAPEIG_K_DEFAULT
    exclude: frozenset = frozenset()

    def __post_init__(self):
        if not isinstance(self.lapeig_k, (int, np.integer)) or not 1 <= self.lapeig_k <= LAPEIG_K_MAX:
            raise AttentionTransportError(f"lapeig_k must be an integer in 1..{LAPEIG_K_MAX} (the LapEigvals "
                                          "baseline keeps a few top eigenvalues per head; more is zero padding "
                                          f"beyond the sequence length); got {self.lapeig_k!r}.")
        object.__setattr__(self, "exclude", frozenset(self.exclude))
        for name in self.exclude:
            feature(name)  # raises UnknownName


class Head:
    """One head's map and the quantities several features share, each computed once on first use.

    Parameters
    ----------
    A : array_like, shape (n, n)
    prompt_len : int
        In ``[1, n]``.
    settings : FeatureSettings
    """

    def __init__(self, A, prompt_len, settings):
        self.A = np.asarray(A)
        self.n = int(self.A.shape[-1])
        if not 1 <= prompt_len <= self.n:
            raise AttentionTransportError(f"prompt_len must be in [1, n = {self.n}]; got {prompt_len}.")
        self.p = int(prompt_len)
        self.settings = settings

    @cached_property
    def landscape(self):
        """The prefix landscape (validates ``A``)."""
        return prefix_landscape(self.A)

    @cached_property
    def A64(self):
        return self.A.astype(np.float64)

    @cached_property
    def response(self):
        """The response rows ``A[p:]`` in float64, shape (n − p, n)."""
        return self.A64[self.p:]


class Feature(ABC):
    """One per-head feature. Subclass, set the class attributes, implement :meth:`dense` (and :meth:`streamed`).

    Attributes
    ----------
    name : str
        The key in feature files and reports.
    family : {"transport", "baseline"}
    label : str
        Short label for figures.
    probes : tuple of str
        Probe groups this feature joins besides its family's (``validate`` fits one probe per group).
    headline : bool
        Shown unsupervised in figure F7.
    accumulators : tuple of Accumulator classes
        What the streaming path accumulates for it; empty: not streamed (``nan`` there).
    needs_map : bool
        Needs each head's full map (refused by a path that never forms one).
    """

    name = ""
    family = "transport"
    label = ""
    probes = ()
    headline = False
    accumulators = ()
    needs_map = False

    def width(self, settings):
        """``None`` for one scalar per head, else the length of the per-head vector."""
        return None

    def wanted(self, settings):
        """Whether to compute this feature under ``settings``."""
        return self.name not in settings.exclude

    @property
    def streams(self):
        return bool(self.accumulators)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.accumulators and cls.streamed is Feature.streamed:
            raise BadType(f"feature {cls.__name__} declares accumulators but no streamed(); got "
                          f"{[a.__name__ for a in cls.accumulators]}.")

    @abstractmethod
    def dense(self, head):
        """Value on one head (a :class:`Head`): a float, or an array of :meth:`width`."""

    def streamed(self, stream):
        """Values per head from the finished accumulators (``stream[cls]``): shape (heads,) or (heads, width).

        A feature without accumulators is not streamed: ``nan`` for every head.
        """
        return self.undefined(stream.settings, (stream.H,))

    def undefined(self, settings, shape=()):
        """The ``nan`` value of this feature for ``shape`` heads."""
        w = self.width(settings)
        return np.full(shape + (() if w is None else (w,)), np.nan)

    def __repr__(self):
        return f"<feature {self.name} ({self.family})>"


#: the registry: name → feature, in registration order
FEATURES: dict = {}


def register(cls):
    """Class decorator: instantiate the feature and add it to :data:`FEATURES`."""
    inst = cls()
    if not inst.name or inst.name in FEATURES:
        raise AttentionTransportError(f"feature name must be new and non-empty; got {inst.name!r}.")
    if inst.family not in FAMILIES:
        raise AttentionTransportError(f"feature family must be one of {', '.join(FAMILIES)}; got {inst.family!r}.")
    FEATURES[inst.name] = inst
    return cls


def feature(name):
    """The registered feature called ``name`` (earlier names accepted).

    >>> feature("t_star_frac").name
    't_star_over_n'
    """
    name = LEGACY_NAMES.get(name, name)
    if name not in FEATURES:
        raise UnknownName(f"unknown feature {name!r}; known features: {', '.join(FEATURES)}.")
    return FEATURES[name]


def feature_names(family=None, *, scalar=None, streams=None):
    """Registered names, filtered by family, by being one scalar per head, by streaming."""
    ok = FeatureSettings()
    return tuple(f.name for f in FEATURES.values()
                 if (family is None or f.family == family)
                 and (scalar is None or (f.width(ok) is None) == scalar)
                 and (streams is None or f.streams == streams))


def probe_groups():
    """Probe groups: name → (kind, features). One per family of all its features (``transport``), one per
    group a feature joins, and ``length`` (response length alone, no feature).

    >>> probe_groups()["two_axis"]
    ('transport', ('phi', 'G'))
    """
    groups = {"transport": ("transport", feature_names("transport"))}
    for f in FEATURES.values():
        for g in f.probes:
            kind, members = groups.get(g, (f.family, ()))
            if kind != f.family:
                raise AttentionTransportError(f"probe group {g!r} mixes families; got {f.name!r} ({f.family}).")
            groups[g] = (kind, members + (f.name,))
    order = sorted(groups, key=lambda g: groups[g][0] != "transport")  # transport groups first, stable
    out = {g: groups[g] for g in order}
    out["length"] = ("baseline", ())
    return out


def group_label(name):
    """Figure label of a probe group."""
    if name == "transport":
        return "transport (all)"
    if name == "length":
        return "response length"
    return ", ".join(FEATURES[f].label for f in probe_groups()[name][1])


def lapeig_values(A, k):
    """LapEigvals of one causal head: ``d_i − a_ii`` sorted descending, top k (zero-padded).

    ``d_i = Σ_{u ≥ i} a_ui / (n − i)``: the attention key i receives, divided by the
    number of queries that can see it (Binkowski et al. 2025).

    >>> lapeig_values(np.array([[1.0, 0.0], [0.5, 0.5]]), 3)  # d = (1.5/2, 0.5/1), minus the diagonal (1, 0.5)
    array([ 0.  , -0.25,  0.  ])
    """
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    d = A.sum(axis=0) / (n - np.arange(n))
    return _top_k(d - np.diag(A), k)


def _top_k(values, k):
    """The k largest of ``values`` along its last axis, in descending order, zero-padded past its length."""
    lam = np.sort(values, axis=-1)[..., ::-1]
    out = np.zeros(lam.shape[:-1] + (k,))
    out[..., : min(k, lam.shape[-1])] = lam[..., :k]
    return out


def _per_head(stream, fn):
    return np.array([fn(h) for h in range(stream.H)], dtype=np.float64)


# ----------------------------------------------------------------------------- transport features
@register
class Phi(Feature):
    name, label, probes, headline = "phi", "φ", ("phi", "two_axis"), True
    accumulators = (RowColumnSums,)

    def dense(self, head):
        return head.landscape.capacity

    def streamed(self, stream):
        return stream[RowColumnSums].minima[0]


@register
class TStarOverN(Feature):
    name, label, probes = "t_star_over_n", "t*/n", ("phi",)
    accumulators = (RowColumnSums,)

    def dense(self, head):
        return head.landscape.t_star / head.n

    def streamed(self, stream):
        return stream[RowColumnSums].minima[1] / stream.n


@register
class PhiBoundary(Feature):
    name, label = "phi_boundary", "φ(p)"
    accumulators = (RowColumnSums,)

    def dense(self, head):
        return float(head.landscape.phi[head.p - 1]) if head.p < head.n else float("nan")

    def streamed(self, stream):
        if stream.p >= stream.n:
            return np.full(stream.H, np.nan)
        sums = stream[RowColumnSums]
        return _per_head(stream, lambda h: sums.landscape(h).phi[stream.p - 1])


@register
class PhiResponse(Feature):
    name, label = "phi_response", "φ(response)"
    accumulators = (ResponseBlock,)

    def dense(self, head):
        if head.n - head.p < 2:
            return float("nan")
        block = head.A64[head.p:, head.p:]
        rows = block.sum(axis=1, keepdims=True)
        return prefix_landscape(block / rows).capacity if np.all(rows > 0) else float("nan")

    def streamed(self, stream):
        return stream[ResponseBlock].capacities()


@register
class PhiBip(Feature):
    name, label = "phi_bip", "φ_bip"
    accumulators = (BipartiteLattice,)

    def dense(self, head):
        return bipartite_minimum(head.A).phi

    def streamed(self, stream):
        return stream[BipartiteLattice].phi


@register
class G(Feature):
    name, label, probes, headline = "G", "G", ("G", "two_axis"), True
    accumulators = (RowColumnSums, Asymmetry)

    def dense(self, head):
        return asymmetry_coefficient(head.A64)

    def streamed(self, stream):
        return stream[Asymmetry].G


@register
class Lambda2(Feature):
    name, label, needs_map = "lambda2", "λ₂", True

    def wanted(self, settings):
        return settings.lambda2 and super().wanted(settings)

    def dense(self, head):
        return spectral_gap(head.A64)


@register
class PromptMass(Feature):
    name, label = "prompt_mass", "prompt mass"
    accumulators = (PromptRows,)

    def dense(self, head):
        if head.n == head.p:
            return float("nan")
        return float(head.response[:, :head.p].sum(axis=1).mean())

    def streamed(self, stream):
        if stream.p >= stream.n:
            return np.full(stream.H, np.nan)
        return stream[PromptRows].values[:, stream.p:].mean(axis=1)


# ------------------------------------------------------------------------------------ baselines
@register
class LapEig(Feature):
    name, family, label, probes = "lapeig", "baseline", "LapEigvals", ("lapeig",)
    accumulators = (RowColumnSums,)

    def width(self, settings):
        return settings.lapeig_k

    def dense(self, head):
        return lapeig_values(head.A64, head.settings.lapeig_k)

    def streamed(self, stream):
        sums, n = stream[RowColumnSums], stream.n
        return _top_k(sums.c / (n - np.arange(n)) - sums.diag, stream.settings.lapeig_k)


@register
class AttnScore(Feature):
    name, family, label, probes, headline = "attn_score", "baseline", "attention score", ("attn_score",), True
    accumulators = (RowColumnSums,)

    def dense(self, head):
        if head.n == head.p:
            return float("nan")
        i = np.arange(head.p, head.n)
        with np.errstate(divide="ignore"):
            return float(np.mean(np.log(head.A64[i, i])))

    def streamed(self, stream):
        if stream.p >= stream.n:
            return np.full(stream.H, np.nan)
        with np.errstate(divide="ignore"):
            return np.log(stream[RowColumnSums].diag[:, stream.p:]).mean(axis=1)


@register
class KLUniform(Feature):
    name, family, label, probes = "kl_uniform", "baseline", "KL from uniform", ("kl_uniform",)
    accumulators = (RowEntropy,)

    def dense(self, head):
        if head.n == head.p:
            return float("nan")
        resp = head.response
        with np.errstate(divide="ignore"):
            plogp = np.where(resp > 0, resp * np.log(np.where(resp > 0, resp, 1.0)), 0.0)
        entropy = -plogp.sum(axis=1)
        return float(np.mean(np.log(np.arange(head.p, head.n) + 1.0) - entropy))

    def streamed(self, stream):
        if stream.p >= stream.n:
            return np.full(stream.H, np.nan)
        ent, i = stream[RowEntropy].values, np.arange(stream.p, stream.n)
        return (np.log(i + 1.0) - ent[:, stream.p:]).mean(axis=1)


def lookback_ratios(A, prompt_len, causal):
    """Lookback ratios of the response rows ``i = p..n−1`` of one head (Chuang et al. 2024).

    .. math:: \\mathrm{LR}_i = \\frac{c_i}{c_i + r_i},\\quad c_i = \\frac1p\\sum_{j<p} a_{ij},\\quad
              r_i = \\frac{1}{|R_i|}\\sum_{j \\in R_i} a_{ij}

    with ``R_i = {p, …, i}`` in a causal map (the response tokens so far, the row's own
    included: in a forced pass row i is response token i) and every response key otherwise.

    >>> A = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.6, 0.2, 0.2]])
    >>> lookback_ratios(A, 1, causal=True)  # row 1: 0.5/(0.5 + 0.5/1); row 2: 0.6/(0.6 + 0.4/2)
    array([0.5 , 0.75])
    """
    A = np.asarray(A, dtype=np.float64)
    n, p = A.shape[-1], int(prompt_len)
    context = A[p:, :p].sum(axis=1) / p
    seen = np.arange(1, n - p + 1) if causal else np.full(n - p, n - p)
    return context / (context + A[p:, p:].sum(axis=1) / seen)


@register
class Lookback(Feature):
    name, family, label, probes = "lookback", "baseline", "Lookback Lens", ("lookback",)
    accumulators = (LookbackRows,)

    def dense(self, head):
        if head.n == head.p:
            return float("nan")
        return float(lookback_ratios(head.A64, head.p, head.landscape.causal).mean())

    def streamed(self, stream):
        if stream.p >= stream.n:
            return np.full(stream.H, np.nan)
        return stream[LookbackRows].values[:, stream.p:].mean(axis=1)


TRANSPORT_FEATURES = feature_names("transport")
BASELINE_FEATURES = feature_names("baseline")
#: per-head scalar features, evaluated one by one in reports
SCALAR_FEATURES = feature_names(scalar=True)


def _settings(settings, kw):
    if settings is not None and kw:
        raise AttentionTransportError(f"give settings or keywords, not both; got keywords {sorted(kw)}.")
    return settings if settings is not None else FeatureSettings(**kw)


def head_features(A, prompt_len, settings=None, **kw):
    """Every registered feature of one head ``A`` (n × n) with ``prompt_len`` prompt tokens.

    Parameters
    ----------
    A : array_like, shape (n, n)
    prompt_len : int
    settings : FeatureSettings, optional
        Or its fields as keywords (``lambda2=``, ``lapeig_k=``, ``exclude=``).

    Returns
    -------
    dict
        name → float, or array of the feature's width (``lapeig``). Undefined or
        unwanted values are ``nan``.

    Raises
    ------
    AttentionTransportError
        For an invalid attention matrix or ``prompt_len`` outside ``[1, n]``.

    Examples
    --------
    >>> A = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]
    >>> f = head_features(A, 2, lapeig_k=2)
    >>> round(f["phi"], 6), f["t_star_over_n"], bool(np.isnan(f["lambda2"]))  # C2: φ_4(1) = 13/37
    (0.351351, 0.25, True)
    """
    settings = _settings(settings, kw)
    head = Head(A, prompt_len, settings)
    head.landscape  # validates A before any feature reads it
    return {name: (f.dense(head) if f.wanted(settings) else f.undefined(settings)) for name, f in FEATURES.items()}


def attention_features(attn, prompt_len, settings=None, **kw):
    """Every registered feature of every head of one example.

    Parameters
    ----------
    attn : array_like, shape (layers, heads, n, n)
    prompt_len : int
    settings : FeatureSettings, optional
        Or its fields as keywords.

    Returns
    -------
    dict
        name → array of shape (layers, heads), or (layers, heads, width) for a vector feature.

    Notes
    -----
    Every head of a group of layers (:func:`layer_group`) is taken at once: the streamed features
    through the streaming accumulators with the whole maps as one block
    (:func:`~.streaming.map_features`, exact ``phi_bip``), the others (``lambda2``) head by head.
    Equal to :func:`head_features` of each head to rounding (tested); a map that fails a check
    goes head by head, whose error names the offending entry.
    """
    settings = _settings(settings, kw)
    attn = np.asarray(attn)
    if attn.ndim != 4 or attn.shape[-1] != attn.shape[-2]:
        raise AttentionTransportError(f"attention must have shape (layers, heads, n, n); got {attn.shape}.")
    L, Hh = attn.shape[:2]
    out = {name: f.undefined(settings, (L, Hh)) for name, f in FEATURES.items()}
    if not _vectorisable(attn, prompt_len):  # head by head: the per-head checks name the offending entry
        for layer in range(L):
            for head in range(Hh):
                for name, value in head_features(attn[layer, head], prompt_len, settings).items():
                    out[name][layer, head] = value
        return out
    from attention_transport.harness.streaming import map_features

    per_head = [f for f in FEATURES.values() if f.wanted(settings) and not f.streams]
    n = attn.shape[-1]
    step = layer_group(L, Hh, n)
    for l0 in range(0, L, step):  # whole layers at once: one call's fixed costs for many heads
        l1 = min(L, l0 + step)
        for name, values in map_features(attn[l0:l1].reshape((l1 - l0) * Hh, n, n), prompt_len, settings).items():
            out[name][l0:l1] = values.reshape((l1 - l0, Hh) + values.shape[1:])
    for layer in range(L) if per_head else ():
        for head in range(Hh):
            h = Head(attn[layer, head], prompt_len, settings)
            for f in per_head:
                out[f.name][layer, head] = f.dense(h)
    return out


#: bytes of the float64 copy of the maps :func:`attention_features` hands to one call of
#: :func:`~.streaming.map_features` (at least one layer's).  Smaller groups pay each array operation's fixed cost
#: more often, larger ones put every temporary in fresh memory: SmolLM2-135M on 30 HaluEval-QA examples took
#: 100, 85, 77, 73 and 94 ms of features per example with groups of 4, 8, 16, 32 and 64 MiB, and interleaved
#: with the forward passes 12 to 24 MiB were best
MAP_GROUP_BYTES = 16 << 20


def layer_group(layers, heads, n):
    """How many whole layers of ``heads`` maps of n tokens :func:`attention_features` takes at once: as many as
    keep their float64 copy within :data:`MAP_GROUP_BYTES`, at least one.  The per-head features are the same
    either way; a small map's cost is mostly the fixed cost of each array operation, which the group pays once
    (SmolLM2-135M at HaluEval-QA length: 7 to 30 layers of 9 heads in one call instead of one each)."""
    return max(1, min(layers, MAP_GROUP_BYTES // (8 * heads * n * n)))


def _vectorisable(attn, prompt_len):
    """Whether :func:`attention_features` may take every head of a layer at once (:func:`~.streaming.map_features`):
    float32 or float64 maps of n ≥ 2 tokens, finite and nonnegative, a prompt length in [1, n], and torch
    installed.  Anything else goes head by head, whose checks raise the error that names the problem."""
    n = attn.shape[-1]
    if attn.dtype not in (np.float32, np.float64) or n < 2 or not 1 <= prompt_len <= n:
        return False
    try:
        import torch
    except ImportError:
        return False
    lo, hi = torch.aminmax(torch.from_numpy(np.ascontiguousarray(attn)))  # one pass; a NaN propagates to both
    return bool(lo >= 0 and hi < math.inf)

