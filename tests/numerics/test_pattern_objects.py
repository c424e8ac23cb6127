"""Pattern objects: every registered family and every composition against a dense oracle built by definition.

The oracles here are written from the docstrings (loops over (i, j), 0-based), never from the package's own
vectorised masks; compositions are checked against explicit matrix products, sums and supports.
"""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_transport.errors import AttentionTransportError, BadType
from attention_transport.numerics.operators import is_causal
from attention_transport.numerics.patterns import REGISTRY, Pattern, parse_pattern
from attention_transport.numerics.patterns.base import Param, register

# ---------------------------------------------------------------- registry-wide properties
EXAMPLES = sorted({cls.example or name for name, cls in REGISTRY.items()} | set(REGISTRY))
COMPOSED = ["union(window:w=3, sink-window:s=1,w=1)", "mix(window:w=4@0.25, uniform-causal@3/4)",
            "stack(repeat(window:w=4, 2), uniform-causal)", "repeat(bidirectional-window:w=2, 3)",
            "stack(sink-window:s=2,w=3, bidirectional-window:w=2)", "mix(longformer:w=4,g=1@1/3, prefix-lm:p=5@2/3)",
            "union(document:L=7,bos=1, dilated:w=3,k=3)", "stack(mix(window:w=2@0.5, exp-decay:m=1@0.5), power-law:p=2)"]


def shrink(spec):
    """The example with sizes fit for n ≈ 30 (presets default to thousands of tokens)."""
    P = parse_pattern(spec)
    small = {"w": 6, "b": 4, "l": 5, "L": 7, "p": 5, "g": 1, "r": 1, "c": 2, "levels": 2, "local": 2}
    if type(P).__name__ in ("PowerLaw", "ExpDecay"):
        return P
    values = {k: (small[k] if k in small and k != "p" or (k == "p" and P.name == "prefix-lm") else v)
              for k, v in P.values.items()}
    return type(P)(**values) if values else P


ALL = [shrink(s) for s in EXAMPLES] + [parse_pattern(s) for s in COMPOSED]
IDS = [P.spec for P in ALL]


def dense_sums(A):
    return A.sum(axis=1), A.sum(axis=0), np.triu(A, 1).sum(axis=1), np.triu(A, 1).sum(axis=0)


@pytest.mark.parametrize("P", ALL, ids=IDS)
@pytest.mark.parametrize("n", [2, 7, 31])
def test_every_pattern_is_row_stochastic_and_consistent(P, n):
    A = P.dense(n)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-13)
    assert (A >= 0).all()
    if P.causal:
        assert is_causal(A)
    # blocks, rows and columns are slices of the same matrix
    np.testing.assert_allclose(P.block(n, 1, n, 0, n - 1), A[1:, : n - 1], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(P.columns(n, n // 2, n), A[:, n // 2:], rtol=1e-12, atol=1e-300)
    # structural sums and products
    s = P.sums(n)
    r, c, up, lo = dense_sums(A)
    np.testing.assert_allclose(s.r, r, rtol=1e-12)
    np.testing.assert_allclose(s.c, c, rtol=1e-11, atol=1e-14)
    if s.s is not None:
        np.testing.assert_allclose(s.s, up, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(s.u, lo, rtol=1e-11, atol=1e-14)
    else:
        assert not up.any()
    x = np.random.default_rng(n).standard_normal((n, 2))
    np.testing.assert_allclose(P.matvec(n, x), A @ x, atol=1e-12)
    np.testing.assert_allclose(P.rmatvec(n, x), A.T @ x, atol=1e-12)
    np.testing.assert_allclose(P.matvec(n, x[:, 0]), A @ x[:, 0], atol=1e-12)
    np.testing.assert_allclose(P.symmetric_product(n, x), (A + A.T) @ x, atol=1e-12)
    M = P.sparse(n)
    if M is not None:
        np.testing.assert_allclose(M.toarray(), A, atol=1e-15)
    # G's two norms, entry by entry
    d = 0.5 * (r + c)
    skew, sym = P.skew_norms(n, d)
    N = A / np.sqrt(np.outer(d, d))
    assert skew == pytest.approx(((N - N.T) ** 2).sum(), rel=1e-10, abs=1e-28)
    assert sym == pytest.approx(((N + N.T) ** 2).sum(), rel=1e-11)


@pytest.mark.parametrize("P", [P for P in ALL if P.rational], ids=[P.spec for P in ALL if P.rational])
def test_rational_patterns_are_exact(P):
    n = 9
    E = P.exact_dense(n)
    assert all(sum(row) == 1 for row in E)
    np.testing.assert_allclose(np.array(E, dtype=float), P.dense(n), rtol=1e-14)


@pytest.mark.parametrize("P", ALL, ids=IDS)
def test_patterns_are_immutable_hashable_and_round_trip(P):
    Q = parse_pattern(P.spec)
    assert Q == P and hash(Q) == hash(P) and Q.spec == P.spec
    assert len({P, Q}) == 1
    with pytest.raises(AttributeError):
        P.anything = 1
    if P.values:
        key = next(iter(P.values))
        with pytest.raises(AttributeError):
            setattr(P, key, 3)


def test_support_is_the_mask_even_where_weights_underflow():
    P = parse_pattern("power-law:p=500")
    n = 6
    assert P.support_block(n, 0, n, 0, n).sum() == n * (n + 1) // 2
    assert (P.dense(n) > 0).sum() < n * (n + 1) // 2  # 6^-500 underflows to 0.0


def test_huge_widths_are_clamped_to_n_not_looped_over():
    big = parse_pattern("window:w=1000000000000")
    np.testing.assert_allclose(big.dense(50), parse_pattern("uniform-causal").dense(50), rtol=1e-14)
    for spec in ("bidirectional-window:w=1000000000000", "sink-window:s=1000000000,w=1000000000000",
                 "dilated:w=1000000000000,k=1"):
        assert parse_pattern(spec).sums(10**5).c.size == 10**5  # O(n) work, not O(w)


# ---------------------------------------------------------------- presets against their definitions
def oracle(n, support, weight=None):
    W = np.array([[(weight(i, j) if weight else 1.0) if support(i, j) else 0.0 for j in range(n)] for i in range(n)])
    return W / W.sum(axis=1, keepdims=True)


def _bigbird_support(n, b, g, r, seed):
    nb = -(-n // b)
    R = np.random.default_rng(seed).integers(0, nb, size=(nb, r))

    def support(i, j):
        qi, kj = i // b, j // b
        return abs(qi - kj) <= 1 or kj < g or qi < g or kj in R[qi]
    return support


PRESET_ORACLES = {
    "longformer:w=6,g=2": lambda n: oracle(n, lambda i, j: abs(i - j) <= 3 or i < 2 or j < 2),
    "bigbird:b=4,g=1,r=2,seed=5": lambda n: oracle(n, _bigbird_support(n, 4, 1, 2, 5)),
    "sparse-strided:l=4": lambda n: oracle(n, lambda i, j: j <= i and (i - j < 4 or (i - j) % 4 == 0)),
    "sparse-fixed:l=5,c=2": lambda n: oracle(n, lambda i, j: j <= i and (j // 5 == i // 5 or j % 5 >= 3)),
    "prefix-lm:p=6": lambda n: oracle(n, lambda i, j: j <= i or (i < 6 and j < 6)),
    "document:L=7,bos=1": lambda n: oracle(n, lambda i, j: j <= i and (j // 7 == i // 7 or j == 0)),
    "document:L=7,bos=0": lambda n: oracle(n, lambda i, j: j <= i and j // 7 == i // 7),
    "longnet:w=3,levels=3": lambda n: oracle(n, lambda i, j: j <= i and any(
        i // (3 << k) == j // (3 << k) and (i - j) % (1 << k) == 0 for k in range(3))),
    "mistral:w=5": lambda n: oracle(n, lambda i, j: i - 5 < j <= i),
    "streaming-llm:s=2,w=3": lambda n: oracle(n, lambda i, j: j <= i and (j < 2 or j > i - 3)),
}


@pytest.mark.parametrize("spec", sorted(PRESET_ORACLES))
@pytest.mark.parametrize("n", [2, 9, 40])
def test_presets_match_their_definitions(spec, n):
    np.testing.assert_allclose(parse_pattern(spec).dense(n), PRESET_ORACLES[spec](n), rtol=1e-13)


def test_every_preset_has_an_oracle_or_is_a_stack():
    presets = {name for name, cls in REGISTRY.items() if cls.kind == "preset"}
    covered = {s.partition(":")[0] for s in PRESET_ORACLES} | {"gemma2", "gemma3"}
    assert presets == covered
    assert all(REGISTRY[p].__doc__ and (p == "document" or "20" in REGISTRY[p].__doc__) for p in presets)


@pytest.mark.parametrize("spec, local", [("gemma3:w=4,local=3,groups=2", 3), ("gemma2:w=4,groups=2", 1)])
def test_gemma_presets_are_interleaved_stacks(spec, local):
    n = 30
    W = oracle(n, lambda i, j: i - 4 < j <= i)
    U = oracle(n, lambda i, j: j <= i)
    block = U @ np.linalg.matrix_power(W, local)  # local layers first, then the global one
    np.testing.assert_allclose(parse_pattern(spec).dense(n), block @ block, rtol=1e-12)


# ---------------------------------------------------------------- compositions
SMALL = ["window:w=3", "uniform-causal", "sink-window:s=1,w=2", "bidirectional-window:w=2", "exp-decay:m=0.5",
         "longformer:w=4,g=1", "document:L=5,bos=1", "block-causal:b=3", "dilated:w=2,k=3"]


@given(st.lists(st.sampled_from(SMALL), min_size=1, max_size=3), st.integers(2, 24))
@settings(max_examples=40, deadline=None)
def test_union_is_uniform_on_the_union_of_supports(specs, n):
    parts = [parse_pattern(s).dense(n) for s in specs]
    support = np.any([A > 0 for A in parts], axis=0)
    expected = support / support.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(parse_pattern(f"union({', '.join(specs)})").dense(n), expected, rtol=1e-13)


@given(st.lists(st.tuples(st.sampled_from(SMALL), st.integers(1, 9)), min_size=1, max_size=3), st.integers(2, 24))
@settings(max_examples=40, deadline=None)
def test_mix_is_the_weighted_sum(items, n):
    total = sum(k for _, k in items)
    spec = "mix(" + ",".join(f"{s}@{k}/{total}" for s, k in items) + ")"
    expected = sum(k / total * parse_pattern(s).dense(n) for s, k in items)
    np.testing.assert_allclose(parse_pattern(spec).dense(n), expected, rtol=1e-12)


@given(st.lists(st.sampled_from(SMALL), min_size=1, max_size=4), st.integers(2, 24))
@settings(max_examples=40, deadline=None)
def test_stack_is_the_product_first_layer_first(specs, n):
    expected = np.eye(n)
    for s in specs:
        expected = parse_pattern(s).dense(n) @ expected
    P = parse_pattern(f"stack({', '.join(specs)})")
    np.testing.assert_allclose(P.dense(n), expected, rtol=1e-11, atol=1e-15)
    s = P.sums(n)
    np.testing.assert_allclose(s.c, expected.sum(axis=0), rtol=1e-11)
    if all(parse_pattern(x).causal for x in specs):  # C1k: causal layers give a causal product from (r, c) alone
        assert P.causal and s.s is None and is_causal(expected)


def test_repeat_is_a_matrix_power_and_nests():
    n = 20
    A = parse_pattern("window:w=3").dense(n)
    np.testing.assert_allclose(parse_pattern("repeat(window:w=3, 4)").dense(n), np.linalg.matrix_power(A, 4),
                               rtol=1e-12)
    nested = parse_pattern(" stack( repeat( window:w=3 ,2 ) , mix(uniform-causal@0.5,window:w=3@0.5) )")
    U = parse_pattern("uniform-causal").dense(n)
    np.testing.assert_allclose(nested.dense(n), (0.5 * U + 0.5 * A) @ A @ A, rtol=1e-12)
    assert nested.spec == "stack(repeat(window:w=3, 2), mix(uniform-causal@0.5, window:w=3@0.5))"


def test_family_parameters_continue_inside_compositions():
    P = parse_pattern("stack(sink-window:s=4,w=8, window:w=4)")
    assert [p.spec for p in P.layers] == ["sink-window:s=4,w=8", "window:w=4"]


def test_exact_compositions():
    n = 6
    E = parse_pattern("mix(window:w=2@1/3, uniform-causal@2/3)").exact_dense(n)
    assert E[2][0] == Fraction(2, 3) * Fraction(1, 3) and all(sum(row) == 1 for row in E)
    S = parse_pattern("stack(window:w=2, uniform-causal)").exact_dense(n)
    assert all(sum(row) == 1 for row in S)
    np.testing.assert_allclose(np.array(S, dtype=float), parse_pattern("stack(window:w=2, uniform-causal)").dense(n),
                               rtol=1e-14)


# ---------------------------------------------------------------- errors: one line each
@pytest.mark.parametrize("spec, message", [
    ("mix(window@0.5, uniform-causal@0.4)", r"mix weights must be nonnegative and sum to exactly 1; got 0.5, 0.4"),
    ("mix(window@1.5, uniform-causal@-0.5)", r"nonnegative and sum to exactly 1"),
    ("mix(window, uniform-causal)", r"mix arguments are PATTERN@WEIGHT; got 'window'"),
    ("mix(window@x, uniform-causal@1)", r"mix weight must be a decimal or a fraction; got 'x'"),
    ("repeat(window, 0)", r"repeat needs a layer count k in 1..4096; got 0"),
    ("repeat(window)", r"repeat takes \(pattern, k\); got 1 arguments"),
    ("repeat(window, two)", r"layer count must be an integer; got 'two'"),
    ("union()", r"empty argument"),
    ("stack(window:w=4", r"composition must end with '\)'"),
    ("stack(window:w=4,, uniform-causal)", r"empty argument"),
    ("frob(window)", r"unknown composition in 'frob\(window\)'"),
    ("window:w=100000000000000000000", r"parameter w of 'window' must be <= 2\^62; got 100000000000000000000"),
    ("window:w=1e20", r"parameter w of 'window' must be int; got '1e20'"),
    ("document:L=4,bos=2", r"parameter bos of 'document' must be <= 1; got 2"),
    ("gemma3:w=0", r"parameter w of 'gemma3' must be >= 1; got 0"),
    ("union(window, nope)", r"unknown pattern 'nope'; known patterns: .*longformer.*; compositions: union, mix"),
])
def test_composition_errors(spec, message):
    with pytest.raises(AttentionTransportError, match=message):
        parse_pattern(spec)


def test_a_new_family_is_one_class(monkeypatch):
    from dataclasses import dataclass
    from typing import ClassVar

    from attention_transport.numerics.patterns import base
    from attention_transport.numerics.patterns.masked import MaskPattern

    monkeypatch.setattr(base, "REGISTRY", dict(base.REGISTRY))
    from attention_transport.numerics.patterns import spec as spec_module
    monkeypatch.setattr(spec_module, "REGISTRY", base.REGISTRY)

    @base.register
    @dataclass(frozen=True)
    class EveryOther(MaskPattern):
        """Causal, keys of the query's parity."""

        name: ClassVar[str] = "every-other"
        params: ClassVar[dict] = {"s": Param(int, 2, 1, "stride")}
        s: int = 2

        def mask(self, n, q, kv):
            return (kv <= q) & ((q - kv) % self.s == 0)

    P = parse_pattern("stack(every-other:s=3, window:w=2)")
    n = 12
    expected = parse_pattern("window:w=2").dense(n) @ oracle(n, lambda i, j: j <= i and (i - j) % 3 == 0)
    np.testing.assert_allclose(P.dense(n), expected, rtol=1e-12)
    with pytest.raises(AttentionTransportError, match="must be new"):
        register(EveryOther)


def test_register_refuses_incomplete_families():
    from dataclasses import dataclass
    from typing import ClassVar

    @dataclass(frozen=True)
    class NoBlock(Pattern):
        name: ClassVar[str] = "no-block"

    with pytest.raises(BadType, match="leaves block abstract"):
        register(NoBlock)
    assert math.isfinite(1.0)


@given(st.integers(1, 400), st.integers(0, 3), st.lists(st.integers(-30, 30), min_size=1, max_size=12, unique=True),
       st.booleans(), st.sampled_from([1, 7, 64]))
@settings(max_examples=60, deadline=None)
def test_shifted_sums_in_chunks_equal_the_definition(n, k, shifts, equal, chunk):
    """The window's products add every offset into a cache-sized chunk of rows; chunk boundaries (forced small
    here), shifts past either end, equal and unequal weights and 1-D and 2-D inputs against the plain sum."""
    from attention_transport.numerics.patterns import kernels

    rng = np.random.default_rng(n + 31 * k)
    x = rng.standard_normal((n, k) if k else n)
    weights = np.full(len(shifts), 0.25) if equal else rng.random(len(shifts))
    expect = np.zeros_like(x)
    for s, w in zip(shifts, weights):
        for i in range(n):
            if 0 <= i - s < n:
                expect[i] += w * x[i - s]
    saved, kernels.SHIFT_CHUNK_ENTRIES = kernels.SHIFT_CHUNK_ENTRIES, chunk
    try:
        got = kernels._shifted_sum(x, shifts, weights)
    finally:
        kernels.SHIFT_CHUNK_ENTRIES = saved
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)


def test_classifying_a_stack_does_not_build_its_inner_stacks_products(monkeypatch):
    """``stack(repeat(window, 5), uniform-causal)`` has no sparse form (its last layer has none); asking how it is
    computed must not multiply out the inner ``repeat`` (7.6·10⁷ nonzeros at n = 10⁶)."""
    from attention_transport.numerics.patterns.compose import Stack

    built = []
    original = Stack._sparse

    def recording(self, n):
        built.append(self.spec)
        return original(self, n)

    monkeypatch.setattr(Stack, "_sparse", recording)
    outer = parse_pattern("stack(repeat(window:w=4, 5), uniform-causal)")
    assert outer.structure(1237) == "structural"
    assert built == [outer.spec]
    assert parse_pattern("repeat(window:w=4, 5)").structure(1237) == "sparse"


@pytest.mark.parametrize("P", ALL, ids=IDS)
@pytest.mark.parametrize("n", [7, 31, 64])
def test_declared_translates_are_translates(P, n):
    """Where a pattern declares rows i0 … i1 − 1 translates (claim C5t), the dense matrix agrees: the same band off
    the hubs and the same hub entries in every such row, and every hub row constant on those columns."""
    found = P.translates(n)
    if found is None:
        return
    h, i0, i1, p = found
    w = P.bandwidth(n) if h == 0 else P.hub_band(n)[1]
    assert h == 0 or P.hub_band(n)[0] == h
    assert 0 <= h + w - 1 <= i0 < i1 <= n and p >= 1
    A = P.dense(n)
    t = np.arange(-(w - 1), w)

    def row(i):
        cols = i + t
        assert (cols >= h).all(), (i, w, h)  # the band off the hubs; past the matrix an entry counts 0
        return np.concatenate([np.where(cols < n, A[i, np.minimum(cols, n - 1)], 0.0), A[i, :h]])

    for i in range(i0, i1 - p):
        np.testing.assert_allclose(row(i + p), row(i), rtol=1e-13, atol=1e-300)
    for g in range(h):
        np.testing.assert_allclose(A[g, i0 + p:i1], A[g, i0:i1 - p], rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("spec", ["window:w=5", "mistral:w=9", "bidirectional-window:w=4", "dilated:w=3,k=3",
                                  "exp-decay:m=4", "power-law:p=2"])
@pytest.mark.parametrize("n", [3, 20, 101])
def test_kernel_band_rows_in_closed_form(spec, n):
    """ToeplitzKernel.band_rows (κ over the normalisers, edges zeroed) equals the rows read from blocks."""
    P = parse_pattern(spec)
    w = P.bandwidth(n) + 1
    for i0, i1 in [(0, n), (1, min(n, 4)), (max(0, n - 5), n)]:
        np.testing.assert_allclose(P.band_rows(n, i0, i1, w), Pattern.band_rows(P, n, i0, i1, w), rtol=1e-15,
                                   atol=0)
