"""Speed and memory of the landscapes, each against a baseline measured in the same run.

Groups (``benchmarks/report.py`` turns them into ratios):

* ``prefix-n{N}``: prefix landscape of a dense causal float32 head against one
  ``A.sum(axis=0)`` pass (target ≤ 3×);
* ``bipartite-n4096``: bipartite minimum (target < 2 s and ≤ 5× the pass; memory
  beyond A: the tiles' group sums, O(n²/T), about 20 MiB) against the same
  column-sum pass;
* ``structural-n1e7``: uniform-causal and window capacity at n = 10⁷ from
  structural sums (no n×n) against one ``np.cumsum`` over n;
* ``naive-n512``: what a user would write instead: a per-cut loop over
  ``A[t:, :t].sum()`` and ``networkx.conductance``, against our landscape.
"""
import tracemalloc

import networkx as nx
import numpy as np
import pytest
from conftest import size

from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape, prefix_landscape_from_sums
from attention_transport.numerics.patterns import parse_pattern

N_PREFIX = [size(4096, 64), size(16384, 128)]
N_BIP = size(4096, 64)
N_STRUCT = size(10**7, 10**4)
N_NAIVE = size(512, 24)


def causal_head(n, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    A = np.tril(rng.random((n, n), dtype=np.float32)).astype(dtype)
    A /= A.sum(axis=1, keepdims=True)
    return A


@pytest.fixture(scope="module", params=N_PREFIX, ids=lambda n: f"n{n}")
def head(request):
    return causal_head(request.param)


def _group(name):
    return pytest.mark.benchmark(group=name)


@pytest.mark.parametrize("kind", ["baseline", "candidate"])
def test_prefix_landscape(benchmark, head, kind):
    benchmark.group = f"prefix-n{head.shape[0]}"
    benchmark.extra_info["role"] = kind
    if kind == "baseline":
        benchmark(head.sum, axis=0)
    else:
        land = benchmark(prefix_landscape, head)
        assert land.causal


@pytest.mark.parametrize("kind", ["baseline", "candidate"])
def test_bipartite_minimum(benchmark, kind):
    A = causal_head(N_BIP, dtype=np.float64)
    benchmark.group = f"bipartite-n{N_BIP}"
    benchmark.extra_info["role"] = kind
    if kind == "baseline":
        benchmark(A.sum, axis=0)
        return
    tracemalloc.start()
    bipartite_minimum(A)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    benchmark.extra_info["peak_mb_beyond_A"] = peak / 2**20
    benchmark.extra_info["A_mb"] = A.nbytes / 2**20
    benchmark.pedantic(bipartite_minimum, args=(A,), rounds=3, iterations=1)


def _structural(spec, n):
    s = parse_pattern(spec).sums(n)
    return prefix_landscape_from_sums(s.r, s.c, s.s, s.u).capacity


@pytest.mark.parametrize("kind", ["baseline", "uniform-causal", "window:w=16", "window:w=64"])
def test_structural_capacity(benchmark, kind):
    benchmark.group = f"structural-n{N_STRUCT:.0e}".replace("+0", "")
    benchmark.extra_info["role"] = "baseline" if kind == "baseline" else "candidate"
    if kind == "baseline":
        x = np.ones(N_STRUCT)
        benchmark(np.cumsum, x)
        return
    tracemalloc.start()
    _structural(kind, N_STRUCT)
    benchmark.extra_info["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    phi = benchmark.pedantic(_structural, args=(kind, N_STRUCT), rounds=3, iterations=1)
    assert 0 < phi < 1


def naive_loop(A):
    n = len(A)
    total = 2 * A.sum()
    out = []
    for t in range(1, n):
        cut = A[t:, :t].sum() + A[:t, t:].sum()
        vol = A[:t].sum() + A[:, :t].sum()
        out.append(cut / min(vol, total - vol))
    return min(out)


def networkx_landscape(G, n):
    return min(nx.conductance(G, [("q", i) for i in range(t)] + [("k", j) for j in range(t)], weight="weight")
               for t in range(1, n))


@pytest.mark.parametrize("kind", ["baseline", "per-cut-loop", "networkx"])
def test_naive_alternatives(benchmark, kind):
    A = causal_head(N_NAIVE, dtype=np.float64)
    benchmark.group = f"naive-n{N_NAIVE}"
    benchmark.extra_info["role"] = "baseline" if kind == "baseline" else "candidate"
    ours = prefix_landscape(A).capacity
    if kind == "baseline":
        benchmark(prefix_landscape, A)
    elif kind == "per-cut-loop":
        assert benchmark(naive_loop, A) == pytest.approx(ours, rel=1e-10)
    else:
        G = nx.Graph()
        rows, cols = np.nonzero(A)
        G.add_weighted_edges_from((("q", i), ("k", j), A[i, j]) for i, j in zip(rows, cols))
        phi = benchmark.pedantic(networkx_landscape, args=(G, N_NAIVE), rounds=1, iterations=1)
        assert phi == pytest.approx(ours, rel=1e-10)
