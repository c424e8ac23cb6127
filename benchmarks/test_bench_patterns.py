"""Every quantity of a pattern at the lengths people train at, without the n×n matrix.

Group ``pattern-n{N}`` (``benchmarks/report.py`` turns it into ratios against the baseline, one
``np.cumsum`` over n measured in the same run): for each pattern, the whole structured route of
``check`` — φ and t*, G, λ₂ with the Cheeger sandwich, and φ_bip where the pattern has a band (the strip
of C5b) or a band beside hub tokens (C5h), and for the strided head — at n = 10⁶.
Target: each within one minute on 2 cores.  ``extra_info`` records whether λ₂
converged, its residual and its certified lower bound.

Group ``pattern-file-n{N}``: FlexAttention files at n = 16384, every quantity except the exact Cheeger
constant (the bipartite scan included).  Target: one minute.  ``band_global`` has a sparse support (the
structured route); ``alibi_sink`` a dense one (1.3·10⁸ entries): the whole ``check`` route, which evaluates
it once into memory and preconditions λ₂ with the Laplacian of its largest entries.
"""
from pathlib import Path

import numpy as np
import pytest
from conftest import size

from attention_transport.check import DENSE_MAX_N, check_pattern
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.structured import (
    pattern_asymmetry,
    pattern_bipartite_minimum,
    pattern_cheeger_bounds,
    pattern_prefix_landscape,
)

N = size(10**6, 2000)
N_FILE = size(16384, 300)
SPECS = ["window:w=16", "bidirectional-window:w=16", "sink-window:s=4,w=16", "longformer:w=32,g=2", "longformer",
         "bigbird:b=8,g=1,r=1", "bigbird", "repeat(window:w=16, 3)", "stack(repeat(window:w=16, 5), uniform-causal)",
         "stack(sink-window:s=4,w=16, window:w=16)", "repeat(sink-window:s=4,w=16, 2)",
         "stack(longformer:w=32,g=2, window:w=16)", "stack(window:w=16, longformer:w=32,g=2)",
         "stack(bigbird, window:w=16)", "stack(window:w=16, bigbird)", "sparse-strided:l=128", "streaming-llm",
         "mistral", "document:L=512,bos=1"]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patterns"


def structured_route(pattern, n, with_bip=False):
    s = pattern.sums(n)
    land = pattern_prefix_landscape(pattern, n, s)
    bip = pattern_bipartite_minimum(pattern, n, s).phi if with_bip else None
    G = pattern_asymmetry(pattern, n, s)
    cb = pattern_cheeger_bounds(pattern, n, s)
    return land.capacity, bip, G, cb


@pytest.mark.parametrize("kind", ["baseline"] + SPECS)
def test_pattern_quantities(benchmark, kind):
    benchmark.group = f"pattern-n{N:.0e}".replace("+0", "")
    benchmark.extra_info["role"] = "baseline" if kind == "baseline" else "candidate"
    if kind == "baseline":
        benchmark(np.cumsum, np.ones(N))
        return
    pattern = parse_pattern(kind)
    band = pattern.bandwidth(N)
    # C5b's strip or C5h's, and the strided head's nested grids (its products cost two cumulative sums)
    with_bip = (band is not None and band < N // 8) or pattern.hub_band(N) is not None \
        or pattern.strided_graph(N) is not None
    phi, bip, G, cb = benchmark.pedantic(structured_route, args=(pattern, N, with_bip), rounds=1, iterations=1)
    benchmark.extra_info.update(lambda2_converged=cb.converged, lambda2_residual=cb.residual,
                                lambda2_lower=cb.lambda2_lower, phi_bip=bip)
    assert 0 < phi < 1 and 0 <= G <= 1 and (cb.lower is None or cb.lower <= cb.upper)
    assert bip is None or 0 < bip <= phi * (1 + 1e-12)  # φ_bip ≤ φ (the prefix cuts are cells), up to rounding


@pytest.mark.parametrize("kind", ["baseline", "band_global", "alibi_sink"])
def test_pattern_file_quantities(benchmark, kind):
    pytest.importorskip("torch")
    benchmark.group = f"pattern-file-n{N_FILE}"
    benchmark.extra_info["role"] = "baseline" if kind == "baseline" else "candidate"
    if kind == "baseline":
        benchmark(np.cumsum, np.ones(N_FILE))
        return
    if kind == "alibi_sink":
        rec = benchmark.pedantic(check_pattern, args=(f"file:{EXAMPLES / kind}.py", N_FILE), rounds=1, iterations=1)
        benchmark.extra_info.update(structure=rec["structure"], lambda2_converged=rec.get("lambda2_converged"),
                                    lambda2_residual=rec.get("lambda2_residual"))
        assert rec["structure"] == ("materialised" if N_FILE > DENSE_MAX_N else "dense")
        assert 0 < rec["phi_bip"] <= rec["phi"] and rec["lambda2"] > 0
        return
    pattern = parse_pattern(f"file:{EXAMPLES / kind}.py")
    phi, bip, G, cb = benchmark.pedantic(structured_route, args=(pattern, N_FILE, True), rounds=1, iterations=1)
    assert 0 < bip <= phi


N_STRIP = size(200_000, 3000)


def _hub_strip(pattern, n, tile):
    """The default Longformer's hub strip (C5h: |b − a| ≤ 2w + 32 beside its global token) with the given tiles."""
    from attention_transport.numerics.band import hub_banded_bipartite_minimum

    s = pattern.sums(n)
    h, w = pattern.hub_band(n)
    return hub_banded_bipartite_minimum(s.r, s.c, h, w, lambda i0, i1: pattern.hub_band_rows(n, i0, i1, h, w),
                                        lambda X: pattern.matvec(n, X), lambda Y: pattern.rmatvec(n, Y),
                                        pattern.rows(n, 0, h), tile=tile)[0]


@pytest.mark.parametrize("kind", ["baseline", "pruned"])
def test_wide_hub_strip(benchmark, kind):
    """Group ``strip-n{N}``: the default Longformer's hub strip (1093 diagonals) scanned cell by cell (the
    baseline) and pruned by tiles of cuts of 32, then 8, then 2 (docs/theory.md, "A wide strip, pruned by
    tiles"): the same minimum at the same cell."""
    benchmark.group = f"strip-n{N_STRIP}"
    benchmark.extra_info["role"] = "baseline" if kind == "baseline" else "candidate"
    pattern = parse_pattern("longformer")
    bm = benchmark.pedantic(_hub_strip, args=(pattern, N_STRIP, 0 if kind == "baseline" else (32, 8, 2)),
                            rounds=1, iterations=1)
    benchmark.extra_info.update(phi_bip=bm.phi, a_star=bm.a_star, b_star=bm.b_star, method=bm.method)
    assert 0 < bm.phi < 1
