"""C4b, the (a, b) cuts against every vertex set: the query lemma, and the enumeration of key sets in exact
integer arithmetic (with a direct enumeration of all vertex sets for the smallest n as a cross-check)."""
from __future__ import annotations

from fractions import Fraction
from math import lcm

import numpy as np
import sympy as sp

from attention_transport.proofs.c4_floor import harmonic_table
from attention_transport.proofs.c4b.certificate import CERTIFICATE
from attention_transport.proofs.c4b.exact import bipartite_exact
from attention_transport.proofs.core import Checked, require, symbolic_zero
from attention_transport.proofs.scope import Region

__all__ = ["check_query_lemma", "keyset_minimum", "exact_keyset_phi", "all_sets_minimum", "check_enumeration",
           "check_all_sets", "keyset_branch_and_bound", "check_branch_and_bound", "check_lagrangian_bound", "GUARD",
           "UNIT_ROUNDOFF",
           "LAMBDAS"]

UNIT_ROUNDOFF = Fraction(1, 2 ** 53)
#: candidates with φ below best·(1 + GUARD) in floating point are re-checked in exact rationals
GUARD = 1e-12


def check_query_lemma(ctx):
    q, f, r = sp.symbols("q f r", real=True)
    # row i contributes Σ_{j∉K} A_ij = r_i − f_i when i ∈ Q (q = 1) and f_i = Σ_{j∈K} A_ij when i ∉ Q (q = 0)
    e = [symbolic_zero((q * (r - f) + (1 - q) * f).subs(r, 1) - (f + q - 2 * q * f),
                       "q(1 − f) + (1 − q)f = f + q − 2qf (row-stochastic: r = 1)")]
    n = 3
    rows = [sp.symbols(f"p{i}_0:{n - 1}") for i in range(n)]
    A = sp.Matrix([list(r_) + [1 - sum(r_)] for r_ in rows])  # a generic row-stochastic matrix
    for qcode in range(1 << n):
        Q = [i for i in range(n) if qcode >> i & 1]
        for kcode in range(1 << n):
            K = [j for j in range(n) if kcode >> j & 1]
            cut = sum(A[i, j] for i in range(n) for j in range(n) if (i in Q) != (j in K))
            fs = [sum(A[i, j] for j in K) for i in range(n)]
            require(sp.expand(cut - (sum(fs) + len(Q) - 2 * sum(fs[i] for i in Q))) == 0,
                    f"cut identity fails for Q = {Q}, K = {K}")
    return (f"{e[0]}; summed over the rows (any n): cut(Q, K) = Σᵢ fᵢ + |Q| − 2 Σ_{{i∈Q}} fᵢ, and the volume "
            "|Q| + Σ_{j∈K} c_j depends on Q only through |Q|, so for |Q| = s the s largest fᵢ are best; the "
            f"identity also expands to 0 on a generic {n}×{n} row-stochastic matrix for all {4 ** n} pairs (Q, K)")


def _scaled(n):
    """Uniform causal attention times L = lcm(1..n): integer entries, column sums and total volume."""
    L = lcm(*range(1, n + 1))
    row_weight = np.array([L // (i + 1) for i in range(n)], dtype=np.int64)  # L·A_ij for j ≤ i
    cols = np.array([sum(L // (i + 1) for i in range(j, n)) for j in range(n)], dtype=np.int64)  # L·c_j
    return L, row_weight, cols


def keyset_minimum(n, best, chunk=1 << 14):
    """Every vertex set of the uniform-causal bipartite graph against ``best`` (a Fraction), by the query lemma.

    For each key set K (key n left out, since ``φ(X) = φ(Xᶜ)``) and each size s, the best query set is the s
    queries with the largest ``fᵢ = Σ_{j∈K} A_ij``.  Cut and volume are exact integers (times L = lcm(1..n),
    below 2^53); φ = cut/denominator is one correctly rounded division, so ``φ_f ≥ φ(1 − u)``.  Candidates with
    ``φ_f < float(best)(1 + GUARD)`` are returned for an exact re-check; every other candidate has φ > best.

    Returns
    -------
    tuple
        ``(φ_min as float, candidates)``: ``candidates`` lists ``(K bit code, s)`` for the exact re-check.
    """
    L, row_weight, cols = _scaled(n)
    require(2 * n * L < 2 ** 53, f"n = {n}: 2nL = {2 * n * L} is not below 2^53")
    threshold = float(best) * (1 + GUARD)
    total = 2 * n * L
    sizes = np.arange(n + 1, dtype=np.int64) * L
    lowest, near = np.inf, []
    for start in range(0, 1 << (n - 1), chunk):
        codes = np.arange(start, min(start + chunk, 1 << (n - 1)), dtype=np.int64)
        K = (codes[:, None] >> np.arange(n)) & 1
        f = np.cumsum(K, axis=1) * row_weight  # L·fᵢ = L·|K ∩ [0, i]|/(i + 1)
        top = np.concatenate([np.zeros((len(codes), 1), dtype=np.int64),
                              np.cumsum(-np.sort(-f, axis=1), axis=1)], axis=1)
        cut = f.sum(axis=1)[:, None] + sizes - 2 * top
        vol = (K @ cols)[:, None] + sizes
        denom = np.minimum(vol, total - vol)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(denom > 0, cut / np.where(denom > 0, denom, 1), np.inf)
        lowest = min(lowest, float(phi.min()))
        near += [(int(codes[r]), int(k)) for r, k in zip(*np.nonzero(phi < threshold))]
    return lowest, near, threshold


#: the Lagrangian weights of the branch-and-bound bound: exact binary fractions, so λ itself is not rounded
LAMBDAS = np.arange(17) / 16.0


def _gamma(m):
    """γ_m = m u/(1 − m u), the classical bound on the relative error of m floating-point operations."""
    mu = m * 2.0 ** -53
    return mu / (1 - mu)


def keyset_branch_and_bound(n, best, chunk=1 << 12):
    """Every vertex set of the uniform-causal bipartite graph against ``best``, by branch and bound over key sets.

    Keys 1, 2, … are decided in order (key n stays outside: φ(X) = φ(Xᶜ)).  For λ ∈ [0, 1] and any vertex set,
    ``max(I, II) ≥ λI + (1 − λ)II`` with ``I = cut − β(2n − vol)``, ``II = cut − β·vol``, and by the query lemma
    ``λI + (1 − λ)II = Σᵢ [i ∈ Q](1 − fᵢ − γ) + [i ∉ Q] fᵢ − γ Σ_{j∈K} c_j − 2βλn``, ``γ = β(1 − 2λ)``:
    separable over the queries.  Over every completion of a partial key set, ``fᵢ`` ranges over
    ``[kᵢ/i, (kᵢ + free)/i]``, so ``min(fᵢ, 1 − fᵢ − γ) ≥ min(lo, 1 − hi − γ)``, and the undecided keys add at
    most ``γ⁺ Σ c_j``.  A node whose bound exceeds its rounding error (``γ_m`` times the sum of the absolute
    values of its terms) for some λ is pruned: every set below it has ``cut ≥ β·min(vol, 2n − vol)``.  The key
    sets that reach a leaf unpruned are returned for an exact check.

    Returns
    -------
    tuple
        ``(nodes visited, [leaf key sets as bit codes])``.
    """
    Hs = harmonic_table(n)
    beta = float(best)
    if Fraction(beta) < best:  # certify against a float at or above β, so that rounding β cannot help a set through
        beta = float(np.nextafter(beta, np.inf))
    c = np.array([float(Hs[n] - Hs[j]) for j in range(n)])  # key j + 1: c = H_n − H_j
    free_c = np.concatenate([np.cumsum(c[::-1])[::-1], [0.0]])  # Σ_{j ≥ d} c_j (a superset of the free keys)
    gam = beta * (1 - 2 * LAMBDAS)
    err = _gamma(4 * n + 16)
    queries = np.arange(1, n + 1, dtype=float)
    # one row per live node: keys taken so far, their column sum, the decided queries' bound per λ (and |terms|)
    k = np.zeros(1)
    cols = np.zeros(1)
    acc = np.zeros((1, len(LAMBDAS)))
    mass = np.zeros(1)
    codes = np.zeros(1, dtype=object)
    nodes = 0
    for d in range(n):
        takes = (0, 1) if d < n - 1 else (0,)
        k = np.concatenate([k + t for t in takes])
        cols = np.concatenate([cols + t * c[d] for t in takes])
        codes = np.concatenate([codes + t * (1 << d) for t in takes])
        f = k / (d + 1)  # query d + 1 attends to keys 1..d + 1, all decided now
        acc = np.concatenate([acc] * len(takes)) + np.minimum(f[:, None], 1 - f[:, None] - gam[None, :])
        mass = np.concatenate([mass] * len(takes)) + 2 + abs(beta)
        rest_q = queries[d + 1:]  # the undecided queries, 1-based
        rest = np.zeros_like(acc)
        for start in range(0, len(k) if len(rest_q) else 0, chunk):  # chunks bound the memory at large n
            part = k[start:start + chunk, None]
            lo = part / rest_q[None, :]
            hi = (part + (rest_q[None, :] - (d + 1))) / rest_q[None, :]
            rest[start:start + chunk] = np.minimum(lo[:, :, None], 1 - hi[:, :, None] - gam[None, None, :]).sum(axis=1)
        free = free_c[d + 1]
        bound = acc + rest - gam[None, :] * cols[:, None] - np.maximum(gam, 0)[None, :] * free \
            - 2 * beta * LAMBDAS[None, :] * n
        scale = mass + 2 * len(rest_q) + abs(beta) * (cols + free + 2 * n)
        nodes += len(k)
        live = ~np.any(bound > 2 * err * scale[:, None] + 1e-300, axis=1)
        k, cols, acc, mass, codes = k[live], cols[live], acc[live], mass[live], codes[live]
    return nodes, [int(code) for code in codes]


def check_lagrangian_bound(ctx):
    q, f, lam, beta, cut, vol, n, lo, hi = sp.symbols("q f lambda beta cut vol n lo hi", real=True)
    gamma = beta * (1 - 2 * lam)
    I, II = cut - beta * (2 * n - vol), cut - beta * vol
    e = [symbolic_zero(lam * I + (1 - lam) * II - (cut - gamma * vol - 2 * beta * lam * n),
                       "λI + (1 − λ)II = cut − γ·vol − 2βλn"),
         symbolic_zero(lam * I + (1 - lam) * II - II - lam * (I - II), "λI + (1 − λ)II = II + λ(I − II) ≤ max(I, II)")]
    # one query's share: it adds f (outside Q) or 1 − f to the cut, and 1 to the volume when inside Q
    e.append(symbolic_zero((q * (1 - f) + (1 - q) * f) - gamma * q - (q * (1 - f - gamma) + (1 - q) * f),
                           "a query's share of cut − γ·vol is f (outside Q) or 1 − f − γ (inside)"))
    e.append(symbolic_zero(sp.diff(f, f) - 1, "f increases in f") + "; "
             + symbolic_zero(sp.diff(1 - f - gamma, f) + 1, "1 − f − γ decreases in f"))
    return "; ".join(e) + ("; so min over f ∈ [lo, hi] of min(f, 1 − f − γ) is min(lo, 1 − hi − γ), and with the "
                           "query lemma's row-stochastic cut the bound holds for every Q, for every n")


def check_branch_and_bound(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    n_max = max(cert.n_bb, ctx.enum_max or 0)
    Hs = harmonic_table(n_max)
    visited, leaves, nodes = [], 0, 0
    for n in range(2, n_max + 1):
        best_ab = bipartite_exact(n, Hs)[0]
        count, open_sets = keyset_branch_and_bound(n, best_ab)
        nodes += count
        for code in open_sets:  # the sets the bound could not settle: every query count, in exact rationals
            leaves += 1
            for size in range(n + 1):
                K = [j for j in range(n) if code >> j & 1]
                vol = size + sum(Hs[n] - Hs[j] for j in K)
                if 0 < vol < 2 * n:
                    exact = exact_keyset_phi(n, code, size)
                    require(exact >= best_ab, f"n = {n}: key set {code:b}, {size} queries: φ = {exact} < {best_ab}")
        visited.append(n)
    return Checked(f"branch and bound over key sets for every n ≤ {n_max}: {nodes} nodes (against "
                   f"{sum(2 ** (n - 1) for n in visited)} key sets), every pruned node certified by a Lagrangian "
                   f"bound above its proven rounding error, {leaves} unpruned key sets checked in exact rationals for "
                   "every query count: none beats the best (a, b) cut", Region.points("n", visited))


def exact_keyset_phi(n, code, s):
    """φ of the best query set of size s for key set ``code``, in exact rationals."""
    K = [j for j in range(n) if code >> j & 1]
    f = sorted((Fraction(len([j for j in K if j <= i]), i + 1) for i in range(n)), reverse=True)
    cut = sum(f) + s - 2 * sum(f[:s])
    Hs = harmonic_table(n)
    vol = s + sum(Hs[n] - Hs[j] for j in K)  # c_j = Σ_{i ≥ j} 1/i (keys 1-based: j + 1)
    return cut / min(vol, 2 * n - vol)


def all_sets_minimum(n):
    """Float64 minimum of φ over all 2^(2n−1) − 1 vertex sets, independent of the query lemma."""
    A = np.array([[1.0 / (i + 1) if j <= i else 0.0 for j in range(n)] for i in range(n)])
    W = np.zeros((2 * n, 2 * n))
    W[:n, n:] = A
    W[n:, :n] = A.T
    deg = W.sum(axis=1)
    codes = np.arange(1, 1 << (2 * n - 1))  # the last vertex stays outside: φ(X) = φ(Xᶜ)
    X = ((codes[:, None] >> np.arange(2 * n)) & 1).astype(float)
    vol = X @ deg
    cut = np.einsum("si,ij,sj->s", X, W, 1 - X)
    denom = np.minimum(vol, deg.sum() - vol)
    return float(np.min(cut[denom > 0] / denom[denom > 0]))


def check_enumeration(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    n_max = cert.n_enum
    Hs = harmonic_table(n_max)
    rechecked, visited = 0, []
    for n in range(2, n_max + 1):
        best_ab = bipartite_exact(n, Hs)[0]
        lowest, near, threshold = keyset_minimum(n, best_ab)
        # the guard: φ_f ≥ threshold implies φ ≥ threshold/(1 + u) > best (checked exactly)
        require(Fraction(threshold) / (1 + UNIT_ROUNDOFF) > best_ab, f"n = {n}: the guard {threshold} is too tight")
        for code, size in near:
            rechecked += 1
            exact = exact_keyset_phi(n, code, size)
            require(exact >= best_ab, f"n = {n}: key set {code:b}, {size} queries: φ = {exact} < {best_ab}")
        visited.append(n)
    return Checked(f"every key set and query count for n ≤ {n_max} (2^(n−1)(n+1) candidates per n), cut and volume "
                   f"in exact integers: none beats the best (a, b) cut; {rechecked} candidates within a relative "
                   f"{GUARD:g} re-checked in rationals, the rest certified by one correctly rounded division",
                   Region.points("n", visited))


def check_all_sets(ctx):
    cert = ctx.certificate("C4b", CERTIFICATE)
    Hs = harmonic_table(cert.n_enum_all)
    visited = []
    for n in range(2, cert.n_enum_all + 1):
        direct = all_sets_minimum(n)
        best_ab = float(bipartite_exact(n, Hs)[0])
        require(abs(direct - best_ab) < 1e-12, f"n = {n}: all vertex sets give {direct}, the (a, b) cuts {best_ab}")
        visited.append(n)
    return Checked(f"for n ≤ {cert.n_enum_all} all 2^(2n−1) − 1 vertex sets, enumerated directly in float64 without "
                   "the query lemma, give the (a, b) minimum", Region.points("n", visited))
