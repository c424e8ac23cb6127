"""Pattern library: masks against loop oracles, structural sums against dense sums,
closed forms (C2, C3, C5) across the exact, high-precision and float64 tiers."""
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from attention_transport.check import scaling_summary
from attention_transport.numerics import patterns as pat
from attention_transport.numerics.exact import exact_prefix_capacity, exact_prefix_landscape
from attention_transport.numerics.landscapes import prefix_landscape, prefix_landscape_from_sums
from attention_transport.numerics.operators import is_causal
from attention_transport.numerics.patterns import PATTERNS, parse_pattern


# ---------------------------------------------------------------- loop oracle of the module table
def oracle_support(name, p, n, i, j):
    """Row i sees key j (1-based), transcribed from the table in the patterns module."""
    if name in ("uniform-causal", "exp-decay", "power-law", "random-softmax"):
        return j <= i
    if name == "window":
        return i - p["w"] < j <= i
    if name == "sink-window":
        return j <= i and (j <= p["s"] or j > i - p["w"])
    if name == "dilated":
        return any(j == i - m * p["k"] for m in range(p["w"])) and j >= 1
    if name == "block-causal":
        return j <= min(n, p["b"] * ((i + p["b"] - 1) // p["b"]))
    if name == "bidirectional-uniform":
        return True
    if name == "bidirectional-window":
        return abs(i - j) < p["w"]
    raise AssertionError(name)


def oracle_weight(name, p, i, j):
    if name == "exp-decay":
        return np.exp(-p["m"] * (i - j))
    if name == "power-law":
        return (i - j + 1.0) ** -p["p"]
    return 1.0


SPECS = ["uniform-causal", "window:w=1", "window:w=3", "window:w=16", "sink-window:s=2,w=3",
         "sink-window:s=5,w=2", "sink-window:s=1,w=1", "dilated:w=3,k=2", "dilated:w=1,k=3",
         "dilated:w=4,k=1", "block-causal:b=1", "block-causal:b=3", "block-causal:b=7",
         "exp-decay:m=0", "exp-decay:m=0.7", "exp-decay:m=30", "power-law:p=0", "power-law:p=1.5",
         "random-softmax:beta=2,seed=7", "bidirectional-uniform", "bidirectional-window:w=1",
         "bidirectional-window:w=4"]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("n", [2, 3, 5, 17, 40])
def test_dense_matches_loop_oracle(spec, n):
    P = parse_pattern(spec)
    A = P.dense(n)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-14)
    assert is_causal(A) == P.causal
    if P.name == "random-softmax":
        assert (A > 0).sum() == n * (n + 1) // 2
        return
    W = np.array([[oracle_weight(P.name, P.values, i, j) if oracle_support(P.name, P.values, n, i, j) else 0.0
                   for j in range(1, n + 1)] for i in range(1, n + 1)])
    np.testing.assert_allclose(A, W / W.sum(axis=1, keepdims=True), rtol=1e-13, atol=1e-300)


def dense_sums(A):
    return A.sum(axis=1), A.sum(axis=0), np.triu(A, 1).sum(axis=1), np.triu(A, 1).sum(axis=0)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("n", [2, 3, 7, 33, 130])
def test_structural_sums_match_dense(spec, n):
    P = parse_pattern(spec)
    A = P.dense(n)
    s = P.sums(n)
    r, c, up, lo = dense_sums(A)
    np.testing.assert_allclose(s.r, r, rtol=1e-12)
    np.testing.assert_allclose(s.c, c, rtol=1e-11, atol=1e-14)
    if P.causal:
        assert s.s is None and s.u is None
        assert not up.any()
    else:
        np.testing.assert_allclose(s.s, up, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(s.u, lo, rtol=1e-12, atol=1e-14)
    land = prefix_landscape_from_sums(s.r, s.c, s.s, s.u)
    np.testing.assert_allclose(land.phi, prefix_landscape(A).phi, rtol=1e-10, atol=1e-13)


@given(st.sampled_from(sorted(PATTERNS)), st.integers(2, 60), st.integers(1, 20), st.integers(1, 20),
       st.floats(0, 3), st.integers(0, 2**32 - 1))
def test_structural_sums_property(name, n, a, b, x, seed):
    values = {"w": a, "s": b, "k": b, "b": a, "m": x, "p": x, "beta": x, "seed": seed}
    spec = name + ":" + ",".join(f"{k}={values[k]}" for k in PATTERNS[name].params) if PATTERNS[name].params else name
    P = parse_pattern(spec)
    A = P.dense(n)
    s = P.sums(n)
    np.testing.assert_allclose(s.c, A.sum(axis=0), rtol=1e-10, atol=1e-13)
    land = prefix_landscape_from_sums(s.r, s.c, s.s, s.u)
    np.testing.assert_allclose(land.phi, prefix_landscape(A).phi, rtol=1e-9, atol=1e-12)


def test_random_softmax_stream_is_blocking_independent():
    P = parse_pattern("random-softmax:beta=1.5,seed=11")
    n = 400  # several row blocks in the structural pass
    assert (1 << 20) // (8 * n) < n
    np.testing.assert_allclose(P.sums(n).c, P.dense(n).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("spec", [s for s in SPECS if parse_pattern(s).rational])
def test_exact_dense_is_the_dense_matrix(spec):
    P = parse_pattern(spec)
    E = P.exact_dense(9)
    assert all(sum(row) == 1 for row in E)
    np.testing.assert_allclose(np.array(E, dtype=float), P.dense(9), rtol=1e-15)
    land = exact_prefix_landscape(E)
    np.testing.assert_allclose([float(v) for v in land], prefix_landscape(P.dense(9)).phi, rtol=1e-13)


# ---------------------------------------------------------------- C2, C3: uniform causal
def H(m):
    return sympy.harmonic(m)


def c2_closed_form(n, t):
    """docs/theory.md C2 with sympy harmonic numbers (exact)."""
    cut = t * (H(n) - H(t))
    vol = t * (2 + H(n) - H(t))
    return cut / sympy.Min(vol, 2 * n - vol)


@pytest.mark.parametrize("n", [2, 3, 4, 9, 25])
def test_uniform_causal_exact_tier_matches_C2(n):
    E = parse_pattern("uniform-causal").exact_dense(n)
    land = exact_prefix_landscape(E)
    assert land == [Fraction(str(c2_closed_form(n, t))) for t in range(1, n)]


def test_uniform_causal_n3_is_5_over_17():
    assert exact_prefix_capacity(parse_pattern("uniform-causal").exact_dense(3)) == (Fraction(5, 17), 1)


@pytest.mark.parametrize("n", [50, 300])
def test_uniform_causal_float_matches_high_precision(n):
    s = parse_pattern("uniform-causal").sums(n)
    land = prefix_landscape_from_sums(s.r, s.c)
    with mpmath.workdps(40):
        Hn = mpmath.harmonic(n)
        ref = []
        for t in range(1, n):
            cut = t * (Hn - mpmath.harmonic(t))
            vol = t * (2 + Hn - mpmath.harmonic(t))
            ref.append(float(cut / min(vol, 2 * n - vol)))
    np.testing.assert_allclose(land.phi, ref, rtol=2e-15 * n)


def phi_star_mp(dps=30):
    with mpmath.workdps(dps):
        x = mpmath.exp(2 + mpmath.lambertw(-mpmath.exp(-2), -1))
        return x, 1 - 2 * x


def test_continuum_constants_from_lambert_w():
    x, phi = phi_star_mp()
    assert float(x) == pytest.approx(0.3178444328993726838, rel=1e-15)
    assert float(phi) == pytest.approx(0.3643111342012546323, rel=1e-15)
    assert float(-x * mpmath.log(x)) == pytest.approx(float(phi), rel=1e-15)


@pytest.mark.parametrize("n, gap, tol", [(100, -2.6e-3, 0.1e-3), (3000, -1.1e-5, 0.1e-5),
                                         (10_000, 5.0e-6, 0.1e-6), (30_000, -1.7e-7, 0.1e-7),
                                         (1_000_000, 5.8e-8, 0.1e-8)])
def test_uniform_causal_approach_to_phi_star(n, gap, tol):
    """C4 reference values: min_t φ_n(t) − φ* is non-monotone in n."""
    s = parse_pattern("uniform-causal").sums(n)
    land = prefix_landscape_from_sums(s.r, s.c)
    _, phi = phi_star_mp()
    assert land.capacity - float(phi) == pytest.approx(gap, abs=tol)
    assert land.t_star / n == pytest.approx(0.3178444, abs=2.0 / n + 1e-6)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 10, 64, 200])
def test_uniform_causal_floor_small_n(n):
    s = parse_pattern("uniform-causal").sums(n)
    assert prefix_landscape_from_sums(s.r, s.c).capacity >= 5 / 17 - 1e-15


# ---------------------------------------------------------------- C5: window attention
@pytest.mark.parametrize("n, w", [(1000, 16), (200, 5), (97, 8), (64, 2)])
def test_window_plateau(n, w):
    s = parse_pattern(f"window:w={w}").sums(n)
    land = prefix_landscape_from_sums(s.r, s.c)
    t = np.arange(w, n - w + 1)
    np.testing.assert_allclose(land.cut[t - 1], (w - 1) / 2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(land.vol[t - 1], 2 * t + (w - 1) / 2, rtol=1e-13)
    assert land.capacity >= (w - 1) / (2 * n) - 1e-15  # the minimum over real t


def test_window_reference_value():
    s = parse_pattern("window:w=16").sums(1000)
    land = prefix_landscape_from_sums(s.r, s.c)
    assert land.capacity == pytest.approx(0.0075038, abs=5e-8)


@pytest.mark.parametrize("w", [2, 3, 5, 16])
def test_floor_crossing_scan_matches_exact_scan(w):
    """The float scan with exact tie-breaking finds the first n with φ < 1/5 of exact arithmetic.

    (At integer t this is ⌊5(w − 1)/2⌋ + 2, one past C5's real-t threshold; w = 16 ties at n = 38.)
    """
    P = parse_pattern(f"window:w={w}")
    exact_first = next(n for n in range(2, 200) if exact_prefix_capacity(P.exact_dense(n))[0] < Fraction(1, 5))
    summary = scaling_summary(P, [{"n": 100, "phi": 0.1, "below_floor": True},
                                  {"n": 200, "phi": 0.05, "below_floor": True}])
    assert summary["first_n_below_floor"] == exact_first
    assert summary["undecided_n"] == []


def test_window_pierces_floor_at_large_n():
    for n in (39, 100, 10**5, 10**7):
        s = parse_pattern("window:w=16").sums(n)
        assert prefix_landscape_from_sums(s.r, s.c).capacity < 0.2
    s = parse_pattern("window:w=16").sums(10**7)
    assert prefix_landscape_from_sums(s.r, s.c).capacity == pytest.approx(15 / 2e7, rel=1e-6)


# ---------------------------------------------------------------- spec errors
@pytest.mark.parametrize("spec, message", [
    ("nope", r"unknown pattern 'nope'; known patterns: uniform-causal, window, .*bidirectional-window"),
    ("window:v=3", r"unknown parameter 'v' for pattern 'window'; its parameters: w"),
    ("uniform-causal:w=3", r"unknown parameter 'w' for pattern 'uniform-causal'; its parameters: none"),
    ("window:w", r"must be key=value; got 'w'"),
    ("window:w=2.5", r"parameter w of 'window' must be int; got '2.5'"),
    ("window:w=0", r"parameter w of 'window' must be >= 1; got 0"),
    ("exp-decay:m=-1", r"must be >= 0; got -1.0"),
    ("power-law:p=nan", r"must be >= 0; got nan"),
    ("", r"non-empty string"),
])
def test_spec_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_pattern(spec)


def test_size_errors():
    with pytest.raises(ValueError, match=r"n >= 2 tokens; got n = 1"):
        parse_pattern("window").sums(1)
    with pytest.raises(TypeError, match=r"n must be an integer; got 2.5"):
        parse_pattern("window").dense(2.5)
    with pytest.raises(ValueError, match=r"limited to n <= 20000; got n = 20001"):
        parse_pattern("random-softmax").sums(pat.RANDOM_SOFTMAX_MAX_N + 1)
    with pytest.raises(ValueError, match="irrational weights"):
        parse_pattern("exp-decay").exact_dense(4)


def test_spec_round_trip():
    for name in PATTERNS:
        P = parse_pattern(name)
        assert parse_pattern(P.spec) == P
