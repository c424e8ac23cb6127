"""C7d — what G measures on a decoder: on a causal head, G is a function of the diagonal energy alone.

On a causal head every edge points backwards. In each off-diagonal pair (i, j), one of
``N_ij``, ``N_ji`` is zero. So the pair gives the same energy to S and to K: half of its square
each. The diagonal belongs to S only. With D = Σ diag(N)² and O = Σ_{i≠j} N_ij²:

    ‖S‖² = D + O/2,   ‖K‖² = O/2,   G² = O / (2D + O) = (1 − ρ)/(1 + ρ),   ρ = D/(D + O).

G is a strictly decreasing function of the diagonal share ρ of N's energy. On decoders it
therefore measures self-attention energy against off-diagonal energy, not a choice of direction:
every causal head's direction is the same, and its amount is fixed by ρ. The identity needs
causality. On a bidirectional head the pair term ``N_ij N_ji`` moves energy from K to S, and the
last step checks that the formula then fails.
"""
from __future__ import annotations

import random
from fractions import Fraction

import sympy as sp

from attention_transport.numerics.operators import asymmetry_coefficient
from attention_transport.proofs.core import Checked, Claim, Step, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import orientation as ot

a, b, D, O, rho = sp.symbols("a b D O rho", nonnegative=True)
#: the causal hypothesis on an off-diagonal pair (a, b) = (N_ij, N_ji), i > j: the entry above the diagonal is zero
CAUSAL_PAIR = {b: 0}
#: the closed form the energies are claimed to give
G2_CLAIMED = O / (2 * D + O)
EVERY_N = Scope(Region.box(n=(1, None)), "symbolic")


def _pair_energy(ctx):
    s_pair = ((a + b) / 2) ** 2 * 2  # S_ij² + S_ji², S_ij = S_ji = (a + b)/2
    k_pair = ((a - b) / 2) ** 2 * 2  # K_ij² + K_ji², K_ij = −K_ji = (a − b)/2
    half = (a ** 2 + b ** 2) / 2
    e = [symbolic_zero(sp.expand(s_pair - half - a * b), "S_ij² + S_ji² = (a² + b²)/2 + ab"),
         symbolic_zero(sp.expand(k_pair - half + a * b), "K_ij² + K_ji² = (a² + b²)/2 − ab")]
    e.append(symbolic_zero(sp.expand((s_pair - k_pair).subs(CAUSAL_PAIR)),
                           "causal (N_ji = 0 for i > j): the two pair energies agree"))
    return ("; ".join(e) + ". Each off-diagonal pair gives O_pair/2 to ‖S‖² and to ‖K‖², the diagonal (S_ii = N_ii, "
            "K_ii = 0) gives D to ‖S‖² only; summing over the pairs of any n: ‖S‖² = D + O/2, ‖K‖² = O/2")


def _ratio(ctx):
    g2 = (O / 2) / (D + O / 2)
    e = [symbolic_zero(sp.simplify(g2 - G2_CLAIMED), "G² = (O/2)/(D + O/2) = O/(2D + O)")]
    in_rho = sp.simplify(G2_CLAIMED.subs(O, (1 - rho) / rho * D))  # ρ = D/(D + O) ⇔ O = (1 − ρ)D/ρ
    e.append(symbolic_zero(sp.simplify(in_rho - (1 - rho) / (1 + rho)), "with ρ = D/(D + O): G² = (1 − ρ)/(1 + ρ)"))
    slope = sp.simplify(sp.diff((1 - rho) / (1 + rho), rho))
    require(sp.simplify(slope + 2 / (1 + rho) ** 2) == 0, f"d/dρ (1 − ρ)/(1 + ρ) = {slope}")
    return "; ".join(e) + "; d/dρ = −2/(1 + ρ)² < 0: G is strictly decreasing in ρ"


def _generic(ctx):
    visited = []
    for n in range(2, 5):
        A = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"a_{i + 1}_{j + 1}", positive=True) if j <= i else 0)
        N = ot.normalised(A)
        diag = sum(N[i, i] ** 2 for i in range(n))
        off = sum(N[i, j] ** 2 for i in range(n) for j in range(n) if i != j)
        s2, k2 = ot.frobenius_sq(ot.symmetric(N)), ot.frobenius_sq(ot.antisymmetric(N))
        symbolic_zero(sp.simplify(s2 - diag - off / 2), f"n={n}: ‖S‖² = D + O/2")
        symbolic_zero(sp.simplify(k2 - off / 2), f"n={n}: ‖K‖² = O/2")
        visited.append(n)
    return Checked("generic causal matrices with symbolic entries, n = 2..4: ‖S‖² = D + O/2 and ‖K‖² = O/2 by "
                   "simplify", Region.points("n", visited))


def _energies(A):
    """Exact (D, O, ‖S‖², ‖K‖²) of a rational matrix: N_ij N_kl = A_ij A_kl / √(d_i d_j d_k d_l) is rational
    for the products that occur (N_ij², N_ij N_ji)."""
    n = len(A)
    d = [(sum(A[i]) + sum(A[k][i] for k in range(n))) / 2 for i in range(n)]
    sq = [[A[i][j] ** 2 / (d[i] * d[j]) for j in range(n)] for i in range(n)]
    cross = [[A[i][j] * A[j][i] / (d[i] * d[j]) for j in range(n)] for i in range(n)]
    diag = sum(sq[i][i] for i in range(n))
    off = sum(sq[i][j] for i in range(n) for j in range(n) if i != j)
    pairs = sum(cross[i][j] for i in range(n) for j in range(n) if i != j)
    return diag, off, diag + (off + pairs) / 2, (off - pairs) / 2


def _random_head(rng, n, causal):
    rows = []
    for i in range(n):
        keys = range(i + 1) if causal else range(n)
        w = {j: Fraction(rng.randint(0 if causal else 1, 9)) for j in keys}  # bidirectional: every pair nonzero
        w[i] += 1  # a positive diagonal: every degree positive
        total = sum(w.values())
        rows.append([w.get(j, Fraction(0)) / total for j in range(n)])
    return rows


def _random(ctx):
    rng = random.Random(20261206)
    visited = []
    for n in range(2, 25):
        for _ in range(3):
            A = _random_head(rng, n, causal=True)
            diag, off, s2, k2 = _energies(A)
            require(s2 == diag + off / 2 and k2 == off / 2, f"n={n}: the energies of a causal head differ")
            g = asymmetry_coefficient([[float(x) for x in row] for row in A])
            require(abs(g ** 2 - float(off / (2 * diag + off))) < 1e-12, f"n={n}: float G² = {g ** 2} ≠ O/(2D + O)")
        bidirectional = _random_head(rng, n, causal=False)
        diag, off, s2, k2 = _energies(bidirectional)
        require(k2 / s2 != off / (2 * diag + off), f"n={n}: the formula held on a bidirectional head")
        visited.append(n)
    return Checked("exact rationals on 3 random causal row-stochastic heads per n = 2..24 (and the package's "
                   "float64 G within 1e-12); on a random bidirectional head of each n the formula fails, so the "
                   "hypothesis is needed", Region.points("n", visited))


CLAIM = Claim(
    id="C7d",
    title="G on a causal head measures diagonal energy",
    statement=("For every causal $A$ (every $n$), with $D = \\sum_i N_{ii}^2$ and $O = \\sum_{i \\ne j} N_{ij}^2$: "
               "$\\|S\\|_F^2 = D + O/2$, $\\|K\\|_F^2 = O/2$, so $G^2 = O/(2D + O) = (1 - \\rho)/(1 + \\rho)$ with "
               "$\\rho = D/(D + O)$, strictly decreasing in $\\rho$. On decoders G is a function of the "
               "self-attention (diagonal) energy share alone."),
    steps=(
        Step("An off-diagonal pair $(a, b) = (N_{ij}, N_{ji})$ gives $S$ the energy $(a^2 + b^2)/2 + ab$ and $K$ the "
             "energy $(a^2 + b^2)/2 - ab$; causality makes $ab = 0$, and the diagonal belongs to $S$ alone.",
             "symbolic", "sympy `expand` of the pair energies under the hypothesis $ab = 0$", _pair_energy,
             scope=EVERY_N, key="pair-energy"),
        Step("Hence $G^2 = (O/2)/(D + O/2) = O/(2D + O) = (1 - \\rho)/(1 + \\rho)$, and "
             "$\\frac{d}{d\\rho}\\frac{1 - \\rho}{1 + \\rho} = -2/(1 + \\rho)^2 < 0$.",
             "symbolic", "sympy `simplify` and `diff`", _ratio, scope=EVERY_N, key="ratio"),
        Step("The energies on generic causal matrices with symbolic entries.", "symbolic",
             "sympy `simplify`, $n \\le 4$", _generic, scope=Scope(Region.box(n=(2, 4)), "each"), key="generic",
             role="check"),
        Step("Exact rationals on random causal row-stochastic heads, the package's float64 $G$ against "
             "$O/(2D + O)$, and the formula failing on random bidirectional heads.", "exact",
             "`fractions.Fraction`; float64 within $10^{-12}$", _random, scope=Scope(Region.box(n=(2, 24)), "each"),
             key="random-heads", role="check"),
    ),
    domain=Region.box(n=(1, None)),
    notes="The attention-score baseline reads the diagonal too, so on decoders G and that baseline share their "
          "signal; on encoders the pair term ab is free and G measures direction.",
)
