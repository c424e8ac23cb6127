"""Machine-checked claims of docs/theory.md (C1–C7), with C1k (stacks of layers), C4b (bipartite floor),
C5b (banded patterns' bipartite minimum),
C5h (bands with hubs), C5t (translated rows: four cells per diagonal), C5s (sink-window), C7d (G on a causal head) and the structural bounds
L1 (band width ceiling) and L2 (reach-back floor) of the capacity laws, L3 (the kernel laws, derived in the
continuum), L4 (reach-back ceiling), L5 (diagonal floor) and L6 (two-sided reach, global tokens and bidirectional
bands), L7 (the power law 1 ≤ p ≤ 2: bounds of the law's order) and L8
(summable kernels: the law's constant from below), and S1 (the banded congruence that certifies λ₂ of strided
patterns).

Each claim module defines a :class:`~attention_transport.proofs.core.Claim`:
a statement and an ordered list of steps, each with one checker (symbolic,
exact, interval, enumeration or linear-arithmetic).  :data:`CLAIMS` lists them
in order; ``attention-transport verify`` runs them and
:mod:`~attention_transport.proofs.document` renders ``docs/proofs/`` from the
same objects, so prose and checks cannot drift apart.
"""
from attention_transport.errors import UnknownName
from attention_transport.proofs.c1_indegree import CLAIM as C1
from attention_transport.proofs.c1k_stack import CLAIM as C1k
from attention_transport.proofs.c2_uniform import CLAIM as C2
from attention_transport.proofs.c3_continuum import CLAIM as C3
from attention_transport.proofs.c4_floor import CLAIM as C4
from attention_transport.proofs.c4b import CLAIM as C4b
from attention_transport.proofs.c5_window import CLAIM as C5
from attention_transport.proofs.c5b_band import CLAIM as C5b
from attention_transport.proofs.c5h_hubs import CLAIM as C5h
from attention_transport.proofs.c5t_translates import CLAIM as C5t
from attention_transport.proofs.c5s_sink_window import CLAIM as C5s
from attention_transport.proofs.c6_c7_orientation import CLAIM_C6 as C6
from attention_transport.proofs.c6_c7_orientation import CLAIM_C7 as C7
from attention_transport.proofs.c7d_causal_g import CLAIM as C7d
from attention_transport.proofs.l1_l2_structural import L1, L2, L4, L5
from attention_transport.proofs.l3_kernel_laws import CLAIM as L3
from attention_transport.proofs.l6_global_tokens import CLAIM as L6
from attention_transport.proofs.l7_power_bounds import CLAIM as L7
from attention_transport.proofs.l8_constant_floor import CLAIM as L8
from attention_transport.proofs.s1_strided import CLAIM as S1

#: Every claim, in the order of docs/theory.md.
CLAIMS = (C1, C1k, C2, C3, C4, C4b, C5, C5b, C5h, C5t, C5s, C6, C7, C7d, L1, L2, L3, L4, L5, L6, L7, L8, S1)

__all__ = ["CLAIMS", "claim_by_id"]


def claim_by_id(claim_id):
    """The claim with this id (case-insensitive).

    Raises
    ------
    ValueError
        For an unknown id; the message lists the known ones.
    """
    for claim in CLAIMS:
        if claim.id.lower() == str(claim_id).lower():
            return claim
    raise UnknownName(f"unknown claim {claim_id!r}; known claims: {', '.join(c.id for c in CLAIMS)}.")
