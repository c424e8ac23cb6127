"""The constants of the C4b certificate, as one object the context carries.

Every checker of C4b reads them through ``ctx.certificate("C4b", CERTIFICATE)``;
a test that builds a weaker :class:`BipartiteCertificate` (a shorter exact range,
a box U without the root, no quadratic penalty) and runs a checker with it shows
that the checker rejects it.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["BipartiteCertificate", "CERTIFICATE"]


@dataclass(frozen=True)
class BipartiteCertificate:
    """The ranges, regions and weights of the all-n bipartite argument."""

    exact_range: tuple = (2, 120)  #: exact bipartite capacities for every n in this range
    n_tail: int = 121  #: the analytic part covers n ≥ n_tail (ν = 1/n ≤ 1/n_tail)
    n_bb: int = 50  #: (a, b) cuts against every vertex set for n ≤ n_bb: branch and bound over key sets
    n_enum: int = 20  #: … and, independently, every key set and query count for n ≤ n_enum (exact integers)
    n_enum_all: int = 9  #: … and by direct enumeration of all 2^(2n−1) vertex sets for n ≤ n_enum_all
    alpha_split: Fraction = Fraction(2, 5)  #: margin I is positive for a ≥ alpha_split·n, since φ_bip* < 1/4
    beta_corner: Fraction = Fraction(1, 8)  #: margin II is positive for b ≤ beta_corner·n (corner lemma)
    corner_ratio: Fraction = Fraction(4)  #: (n + 1)/(b + 1) ≥ corner_ratio for b ≤ beta_corner·n, n ≥ n_tail
    #: the neighbourhood U of (a*, b*) where the augmented Lagrangian L_d certifies φ > φ_bip* (dyadic, float-exact)
    u_box: tuple = ((Fraction(5, 32), Fraction(9, 32)), (Fraction(3, 8), Fraction(17, 32)))
    tau: Fraction = Fraction(1)  #: weight of the quadratic penalty in L_d
    local_grid: int = 32  #: U is cut into local_grid² boxes for the interval checks


#: the certificate `verify` checks
CERTIFICATE = BipartiteCertificate()
