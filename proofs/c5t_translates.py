"""C5t — along a diagonal of the bipartite landscape, cells that read only translated rows need four evaluations.

A sliding window at n = 10⁶ has the same row, shifted, at almost every token: Mistral's w = 4096 from token
4095 on, StreamingLLM's window beside its sinks from token s + w − 1 on; documents of L tokens with a shared BOS
repeat every L tokens.  C5b and C5h confine φ_bip to a strip
|b − a| ≤ K, but at w = 4096 the strip still holds 1.2·10¹⁰ cells.  Along a diagonal b = a + δ, a cell whose
cut reads only translated rows has a cut affine in a, and so are its two volumes; a ratio of affine functions is
monotone, so the diagonal's minimum over those cells lies at an end of their range or beside the balance cut.
With period p the same holds along each diagonal and phase a mod p.
:func:`~attention_transport.numerics.band.banded_bipartite_minimum` scans the rest of the strip and evaluates
four cells per diagonal and phase for the middle: φ_bip of Mistral, StreamingLLM and a BOS-sharing document mask
at n = 10⁶ in seconds, exactly.
"""
from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import sympy as sp

from attention_transport.numerics.band import (
    banded_bipartite_minimum,
    dense_band_rows,
    hub_banded_bipartite_minimum,
    translate_range,
)
from attention_transport.numerics.exact import exact_bipartite_minimum
from attention_transport.proofs.c5b_band import exact_cells
from attention_transport.proofs.core import Case, Checked, Claim, Part, Step, infeasible, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope

TITLE = "Translated rows: four cells per diagonal"
STATEMENT = (
    "Let $A \\ge 0$ be a band of width $w$ off its first $h \\ge 0$ tokens (the hubs), and let the rows "
    "$i_0 \\le i < i_1$, $i_0 \\ge h + w - 1$, be translates with period $p \\ge 1$: $A_{i+p, i+p+t} = A_{i, i+t}$ "
    "($|t| < w$) and $A_{i+p, g} = A_{ig}$ ($g < h$) whenever $i$ and $i + p$ lie there, and each hub row is "
    "$p$-periodic on the columns $i_0 \\le j < i_1$. A cell $(a, b)$ holds the keys $j < a$ and the queries "
    "$i < b$. For $K \\ge 1$, $|\\delta| \\le K$, $A_0 = i_0 + w - 1 + K$, $A_1 = i_1 - w + 1 - K$ and each phase "
    "$\\rho$, the cut of $(a, a + \\delta)$, its volume and its complement are affine in $k$ over the key cuts "
    "$a = A_0 + \\rho + kp \\le A_1$, the volume increasing; hence the minimum of $\\varphi(a, a + \\delta)$ over "
    "them is attained at the first, at the last, or at the last $a$ whose volume is at most its complement or the "
    "next one."
)

a, d, i, j, t, m, w, h, K, i0, i1, per = sp.symbols("a d i j t m w h K i0 i1 p", integer=True)
p, q, s, u = sp.symbols("p q s u", real=True)

#: the first key cut past the rows before the translates: A0 = i0 + FIRST_REACH + K
FIRST_REACH = w - 1
#: the last key cut before the rows after them: A1 = i1 − LAST_REACH − K
LAST_REACH = w - 1

EVERY = Region.box(n=(2, None), w=(1, None))
N_EXACT = 13
N_FLOAT = (60, 90)


def _reads(ctx):
    """Rows that touch the cut lie in [min(a − w + 1, b), max(a + w − 2, b − 1)]; inside the translates."""
    # a row i ≥ max(a + w − 1, b) is outside X and its off-hub keys j ≥ i − w + 1 ≥ a are too: nothing cut
    e1 = infeasible([a, i, j, w], [i >= a + w - 1, i - j <= w - 1, j <= a - 1], "i ≥ a + w − 1 ⇒ every key j ≥ a")
    # a row i ≤ min(a − w, b − 1) is in X and its off-hub keys j ≤ i + w − 1 ≤ a − 1 are too
    e2 = infeasible([a, i, j, w], [i <= a - w, j - i <= w - 1, j >= a], "i ≤ a − w ⇒ every key j < a")
    A0 = i0 + FIRST_REACH + K
    A1 = i1 - LAST_REACH - K
    box = [a >= A0, a <= A1, d >= -K, d <= K, w >= 1, K >= 1]
    e3 = infeasible([a, d, i, i0, i1, w, K], box + [i >= a - w + 1, i <= i0 - 1], "i ≥ a − w + 1 ⇒ i ≥ i0")
    e4 = infeasible([a, d, i, i0, i1, w, K], box + [i >= a + d, i <= i0 - 1], "i ≥ a + δ ⇒ i ≥ i0")
    e5 = infeasible([a, d, i, i0, i1, w, K], box + [i <= a + w - 2, i >= i1], "i ≤ a + w − 2 ⇒ i < i1")
    e6 = infeasible([a, d, i, i0, i1, w, K], box + [i <= a + d - 1, i >= i1], "i ≤ a + δ − 1 ⇒ i < i1")
    return (f"rows past the band on either side cut nothing: {e1}; {e2}. For A0 ≤ a ≤ A1 and |δ| ≤ K the rest "
            f"lie in [i0, i1): {e3}; {e4}; {e5}; {e6}")


def _reindex(ctx):
    """The band part of the cut, with i = a + m and j = i + t, depends on (m, t, δ) only, at a and at a + p."""
    out = []
    for shift in (0, per):
        query, key = a + shift + m, a + shift + m + t
        out.append(symbolic_zero((query - (a + shift + d)) - (m - d), f"i − b = m − δ at a + {shift}"))
        out.append(symbolic_zero((key - (a + shift)) - (m + t), f"j − a = m + t at a + {shift}"))
    return ("; ".join(out) + ": cut_band(a, a + δ) = Σ_{m, t} A_{a+m, a+m+t} [(m < δ) ≠ (m + t < 0)], and the "
            "rows read at a + p are those read at a, shifted by p, so A_{a+p+m, a+p+m+t} = A_{a+m, a+m+t}: the "
            "band's cut is the same for every key cut of one phase in [A0, A1]")


def _affine(ctx):
    """The hub terms and the volumes move by constants from a to a + p along a diagonal."""
    f = sp.Function("f")
    # over one period: S(b + p) − S(b) = −Σ_{b ≤ i < b+p} σ_i, H likewise, vol(a + p, b + p) − vol(a, b) =
    # Σ_{a ≤ j < a+p} c_j + Σ_{b ≤ i < b+p} r_i; a sum over p consecutive terms of a p-periodic sequence does not
    # depend on where it starts: the next one differs by f(b + p) − f(b) = 0
    for pp in range(1, 9):
        nxt = sp.Sum(f(i), (i, a + 1, a + pp)).doit() - sp.Sum(f(i), (i, a, a + pp - 1)).doit()
        symbolic_zero(nxt - (f(a + pp) - f(a)), f"a window of {pp} terms moved by one")
    e1 = "for p = 1 … 8, Σ_{a < i ≤ a+p} f(i) − Σ_{a ≤ i < a+p} f(i) = f(a + p) − f(a) (sympy): 0 for p-periodic f"
    sigma, tau, rr, cc, S1, H1, V0, C0 = sp.symbols("sigma tau r c S1 H1 V0 C0")
    bb = sp.Symbol("bb", integer=True)
    S = S1 + sp.summation(sigma, (i, bb, i1 - 1))  # p = 1: σ constant on [b, i1)
    H = H1 + sp.summation(tau, (j, a, i1 - 1))
    e2 = symbolic_zero(S.subs(bb, a + 1 + d) - S.subs(bb, a + d) + sigma, "S(a + 1 + δ) − S(a + δ) = −σ")
    e3 = symbolic_zero(H.subs(a, a + 1) - H + tau, "H(a + 1) − H(a) = −τ")
    vol = V0 + sp.summation(rr, (i, 0, a + d - 1)) + C0 + sp.summation(cc, (j, 0, a - 1))  # constant tails
    e3 += "; " + symbolic_zero(vol.subs(a, a + 1) - vol - (rr + cc), "vol(a + 1, a + 1 + δ) − vol(a, a + δ) = r + c")
    e1 = f"{e1}; {e2}"
    # column j's entries come from the rows within w of it and the hub rows: inside the translates for j in range
    box = [a >= i0 + FIRST_REACH + K, a <= i1 - LAST_REACH - K, K >= 1, w >= 1]
    e4 = infeasible([a, i, i0, i1, w, K], box + [i >= a - w + 1, i <= i0 - 1], "a column's rows i ≥ a − w + 1 ≥ i0")
    e5 = infeasible([a, i, i0, i1, w, K], box + [i <= a + w - 1, i >= i1], "a column's rows i ≤ a + w − 1 < i1")
    return (f"the hub terms of the cut (C5h: S(b) + H(a) for a, b ≥ h) and the volume move by sums over one "
            f"period of p-periodic sequences (σ, the hub rows' columns, r and c): {e1}; {e3}; the columns A0 … A1 "
            f"collect translated entries only: {e4}; {e5}; the complement is V − vol")


def _monotone(ctx):
    """A ratio of affine functions is monotone where its denominator is positive; the balance cut splits the range."""
    f = (p + q * a) / (s + u * a)
    e1 = symbolic_zero(sp.diff(f, a) - (q * s - p * u) / (s + u * a) ** 2,
                       "d/da (p + q a)/(s + u a) = (q s − p u)/(s + u a)²")
    x, y, g = sp.symbols("x y g")
    # vol − comp rises by 2(r + c) > 0 per step: once vol > comp it stays so (the balance cut splits [A0, A1] once)
    e2 = infeasible([x, y, g], [g >= 0, x >= 1, y <= 0, y >= x + g], "v(a) − p(a) > 0 ∧ slope ≥ 0 ⇒ v(a′) − p(a′) > 0")
    return (f"{e1}: its sign does not change, so φ is monotone on each side of the balance cut, where the smaller of "
            f"vol and comp is one affine function; {e2}. A monotone function on an integer range takes its minimum "
            "at an end: A0 and the last a with vol ≤ comp, or the first a after it and A1")


def _range(ctx):
    """``translate_range`` returns at least the proven A0 and at most the proven A1, on random inputs."""
    rng = random.Random(11)
    for _ in range(4000):
        ww, KK = rng.randint(1, 5000), rng.randint(1, 8000)
        lo = rng.randint(ww - 1, 10 ** 6)
        hi = rng.randint(lo, lo + 3 * 10 ** 6)
        n = hi + rng.randint(0, 10)
        found = translate_range(n, KK, ww, lo, hi, least=1)
        A0, A1 = lo + ww - 1 + KK, hi - ww + 1 - KK
        if found is None:
            require(A1 < A0, f"translate_range({n}, {KK}, {ww}, {lo}, {hi}) found nothing in [{A0}, {A1}]")
            continue
        require(found[0] >= A0 and found[1] <= A1,
                f"translate_range({n}, {KK}, {ww}, {lo}, {hi}) = {found}: outside the proven [{A0}, {A1}]")
    return Checked("4000 random (n, K, w, i0, i1), w ≤ 5000, 1 ≤ K ≤ 8000: translate_range lies inside "
                   "[i0 + w − 1 + K, i1 − w + 1 − K] (exact integers)", Region.box(w=(1, 5000)))


def translate_matrix(rng, n, h, width, causal, glob, period=1):
    """``(A, i0, i1)``: a random nonnegative rational band of ``width`` off h hubs whose rows ``i0 … i1 − 1`` are
    translates with ``period`` (one random row κ and hub entries τ per phase) and whose hub rows are periodic on
    those columns (global hub rows) or stay on the hubs (sinks); every other row random.  None when n is too
    small."""
    i0 = h + width - 1 + rng.randint(0, 1)
    i1 = (n if causal else n - width + 1) - rng.randint(0, 1)
    if i1 - i0 < 1:
        return None
    kappa = [{tt: Fraction(rng.randint(0, 6), rng.randint(1, 3)) for tt in range(-(width - 1), 1 if causal else width)}
             for _ in range(period)]
    for kap in kappa:
        kap[0] += 1
    tau = [[Fraction(rng.randint(0, 5), rng.randint(1, 4)) for _ in range(h)] for _ in range(period)]
    A = [[Fraction(0)] * n for _ in range(n)]
    for r in range(n):
        if r < h:
            for c in range(h):
                A[r][c] = Fraction(rng.randint(1, 5), rng.randint(1, 3))
            if glob:
                const = [Fraction(rng.randint(0, 4), rng.randint(1, 3)) for _ in range(period)]
                for c in range(h, n):
                    A[r][c] = const[(c - i0) % period] if i0 <= c < i1 else Fraction(rng.randint(0, 4),
                                                                                     rng.randint(1, 3))
            continue
        if i0 <= r < i1:
            phase = (r - i0) % period
            for g in range(h):
                A[r][g] = tau[phase][g]
            for tt, v in kappa[phase].items():
                A[r][r + tt] = v
            continue
        for g in range(h):
            A[r][g] = Fraction(rng.randint(0, 5), rng.randint(1, 4))
        for c in range(max(h, r - width + 1), (r + 1) if causal else min(n, r + width)):
            A[r][c] = Fraction(rng.randint(0 if c != r else 1, 6), rng.randint(1, 3))
    return A, i0, i1


def _cases(seed):
    rng = random.Random(seed)
    for n in range(6, N_EXACT + 1):
        for h in (0, 1, 2):
            for width in range(1, 4):
                for causal in (True, False):
                    period = rng.choice((1, 1, 2, 3))
                    found = translate_matrix(rng, n, h, width, causal, rng.random() < 0.5, period)
                    if found is not None:
                        yield n, h, width, causal, period, found


def _exact(ctx):
    """Along every diagonal and phase, the minimum over the translates' key cuts equals that over the four cells."""
    visited, checked, periodic = [], 0, 0
    for n, h, width, causal, period, (A, lo, hi) in _cases(20261208):
        cells = {(aa, bb): (cut, vol, comp) for aa, bb, cut, vol, comp in exact_cells(A)}
        for KK in range(1, n):
            A0, A1 = max(lo + width - 1 + KK, h), hi - width + 1 - KK
            if A1 < A0:
                break
            for dd in range(-KK, KK + 1):
                for phase in range(period):
                    run = [(aa, cells[(aa, aa + dd)]) for aa in range(A0 + phase, A1 + 1, period)
                           if 0 <= aa + dd <= n]
                    if not run:
                        continue
                    cuts = [cut for _, (cut, _, _) in run]
                    require(all(cuts[k + 1] - cuts[k] == cuts[1] - cuts[0] for k in range(len(cuts) - 1)),
                            f"n={n}, h={h}, w={width}, p={period}, δ={dd}: the cut is not affine along the diagonal "
                            f"and phase: {cuts}")
                    phis = {aa: cut / min(vol, comp) for aa, (cut, vol, comp) in run if min(vol, comp) > 0}
                    if not phis:
                        continue
                    below = [aa for aa, (_, vol, comp) in run if vol <= comp]
                    last = max(below) if below else None
                    four = {run[0][0], run[-1][0]} | ({last, last + period} if last is not None else set())
                    four &= set(phis)
                    require(four and min(phis[x] for x in four) == min(phis.values()),
                            f"n={n}, h={h}, w={width}, p={period}, K={KK}, δ={dd}: the minimum over the phase "
                            f"{phase} of [{A0}, {A1}] is {min(phis.values())}, not at the four cells {sorted(four)}")
                    checked += 1
                    periodic += period > 1
        visited.append((width, n))
    require(checked >= 1000 and periodic >= 300, f"only {checked} diagonals checked, {periodic} with a period > 1")
    return Checked(f"{checked} diagonals and phases ({periodic} with period 2 or 3) of random rational bands with "
                   f"translated rows (n = 6..{N_EXACT}, w ≤ 3, 0–2 hubs, sinks or global rows, causal or not, every "
                   "K): the cut is affine along each and its minimum over the translates' key cuts lies at the four "
                   "cells (exact)", Region.points(("w", "n"), visited))


def _numerics(ctx):
    """The float search with the translates left out equals the exact minimum, or the float O(n²) scan."""
    from attention_transport.errors import WontFit
    from attention_transport.numerics.landscapes import bipartite_minimum

    visited, answered, middle = [], 0, 0
    rng = random.Random(5)
    cases = list(_cases(77)) + [(n, h, width, causal, period, translate_matrix(rng, n, h, width, causal, glob,
                                                                              period))
                                for n in N_FLOAT for h in (0, 1, 2) for width in (2, 4)
                                for causal in (True, False) for glob in (True, False) for period in (1, 3)]
    for n, h, width, causal, period, found in cases:
        if found is None:
            continue
        A, lo, hi = found
        F = np.array(A, dtype=float)
        best = float(exact_bipartite_minimum(A)[0]) if n <= N_EXACT else bipartite_minimum(F).phi
        rows = dense_band_rows(F, width, h)
        r, c = F.sum(axis=1), F.sum(axis=0)
        try:
            if h == 0:
                phi_hat = float(min(cut / min(vol, comp) for aa, bb, cut, vol, comp in exact_cells(A)
                                    if aa == bb and min(vol, comp) > 0)) if n <= N_EXACT else best
                bm, _ = banded_bipartite_minimum(r, c, rows, width, phi_hat, translates=(lo, hi, period),
                                                 translates_min=1)
            else:
                bm, _ = hub_banded_bipartite_minimum(r, c, h, width, rows, lambda X, F=F: F @ X,
                                                     lambda Y, F=F: F.T @ Y, F[:h], K0=width,
                                                     translates=(lo, hi, period), translates_min=1)
        except WontFit:
            continue  # said so: never a wrong minimum
        require(abs(bm.phi - best) <= 1e-12 * best + 1e-300,
                f"n={n}, h={h}, w={width}, p={period}, causal={causal}: float {bm.phi} vs exact {best} ({bm.method})")
        answered += 1
        middle += "C5t" in bm.method
        visited.append((width, n))
    require(middle >= 30, f"only {middle} answers left translates out: the reduction is nearly unexercised")
    return Checked(f"banded_bipartite_minimum and hub_banded_bipartite_minimum with the translates' key cuts left "
                   f"out, against the exact minimum (n ≤ {N_EXACT}) and the float O(n²) scan (n = "
                   f"{', '.join(map(str, N_FLOAT))}): equal to 1e-12 in {answered} answers, {middle} of them with "
                   "key cuts left out", Region.points(("w", "n"), visited))


def _region(ctx=None):
    return Region.points(("w", "n"), [(ww, n) for n in range(6, N_EXACT + 1) for ww in range(1, 4)])


CLAIM = Claim(
    id="C5t",
    title=TITLE,
    statement=STATEMENT,
    steps=(
        Step("A row at or past $\\max(a + w - 1, b)$, or at or before $\\min(a - w, b - 1)$, cuts nothing; for "
             "$A_0 \\le a \\le A_1$ and $|\\delta| \\le K$ every other row lies in $[i_0, i_1)$.",
             "linear-arithmetic", "six negations infeasible (exact Farkas certificates)", _reads,
             scope=Scope(EVERY, "symbolic"), key="reads"),
        Step("With $i = a + m$ and $j = i + t$ the band's cut is $\\sum_{m,t} A_{a+m,a+m+t}[(m < \\delta) \\ne "
             "(m + t < 0)]$, the same for every such $a$.", "symbolic", "sympy reduces the two conditions",
             _reindex, scope=Scope(EVERY, "symbolic"), key="reindex"),
        Step("The hub terms $S(a + \\delta) + H(a)$ and the volume move by constants along the diagonal; the columns "
             "$A_0 \\ldots A_1$ collect translated entries only.", "symbolic",
             "sympy sums; exact Farkas certificates for the columns", _affine, scope=Scope(EVERY, "symbolic"),
             key="affine"),
        Step("A ratio of affine functions is monotone where its denominator is positive, and the balance cut splits "
             "$[A_0, A_1]$ once: the minimum lies at the four cells.", "symbolic",
             "sympy derivative; an exact Farkas certificate", _monotone, scope=Scope(EVERY, "symbolic"),
             key="monotone"),
        Step("The code's range (`translate_range`) lies inside the proven one, on random inputs.", "exact",
             "exact integers", _range, scope=Scope(Region.box(w=(1, 5000)), "each"), key="range", role="check"),
        Step(f"The cut is affine along every diagonal and its minimum over the translates' key cuts lies at the four "
             f"cells, by exhaustive exact enumeration on random rational bands with translated rows, $n \\le "
             f"{N_EXACT}$.", "exact", "exact rationals, every diagonal, every K", _exact,
             scope=lambda ctx: Scope(_region(), "each", f"w ≤ 3, 6 ≤ n ≤ {N_EXACT}"), key="exact", role="check"),
        Step("The float searches of `numerics.band` with the translates left out equal the exact minimum, or "
             "decline.", "exact", "float64 search against exact rationals and the float scan", _numerics,
             scope=lambda ctx: Scope(_region(), "each", f"w ≤ 3, 6 ≤ n ≤ {N_EXACT}"), key="numerics",
             role="check"),
    ),
    parts=lambda ctx: (
        Part("four cells per diagonal hold the translates' minimum", EVERY,
             (Case(EVERY, ("reads", "reindex", "affine", "monotone")),)),
    ),
    notes=("Which rows are translates is a structural fact each pattern declares (`Pattern.translates`): a "
           "Toeplitz band's rows with their whole kernel inside the matrix, a sink window's rows past its sinks, "
           "Longformer's rows whose window misses the global tokens. The search checks what it can at O(n): the "
           "row sums, column sums, hub masses and hub-row columns it relies on are constant over the range, and a "
           "few band rows across it agree; otherwise it scans the whole strip. The rest of the strip (the first "
           "and last K + w − 1 key cuts, 2.5·10⁴ for Mistral's w = 4096) is scanned, pruned by tiles."),
)
