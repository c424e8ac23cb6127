"""C4b — the bipartite capacity of uniform causal attention, for every n ≥ 2.

``φ_bip(n) > φ_bip*`` for every n ≥ 2.  Exact for ``n ≤ n_exact``; above it, cuts with
b < a reduce to C4, and for a ≤ b two margins (I for the larger side, II for the
smaller) are positive on three regions by analytic lemmas and interval boxes.  Near
the continuum optimum (a*, b*) — a kink of ``min(V, 2n − V)`` where neither margin is
positive alone — an augmented Lagrangian ``L_d`` bounds ``max(I, II)`` from below;
its continuum part is zero with zero gradient at the Krawczyk-certified root and
positive definite Hessian on a box U, and the discrete correction is positive
(refined harmonic bounds).  The (a, b) cuts are checked against every vertex set for
``n ≤ n_enum`` (the query lemma reduces the enumeration to key sets); for general n
that is open.

Modules: :mod:`.certificate` (the constants, one object), :mod:`.root` (Krawczyk
enclosure), :mod:`.exact` (rational landscape, reduction to C4, margins, finite range,
conclusion), :mod:`.regions` (the analytic regions and the boxes), :mod:`.local`
(the local lemma on U), :mod:`.enumeration` (the query lemma and the vertex sets).
"""
from __future__ import annotations

from attention_transport.proofs.c4b.certificate import CERTIFICATE, BipartiteCertificate
from attention_transport.proofs.c4b.enumeration import check_enumeration, check_query_lemma
from attention_transport.proofs.c4b.exact import (
    check_all_n,
    check_closed_form,
    check_finite_part,
    check_margin_identities,
    check_more_keys,
)
from attention_transport.proofs.c4b.local import check_local_identities, check_local_interval, check_refined_harmonic
from attention_transport.proofs.c4b.regions import check_region_corner, check_region_keys, check_region_middle
from attention_transport.proofs.c4b.root import check_constants, check_root
from attention_transport.proofs.core import Claim, Step

__all__ = ["CLAIM", "CERTIFICATE", "BipartiteCertificate"]

CLAIM = Claim(
    id="C4b",
    title="Bipartite capacity of uniform causal attention",
    statement=("For every $n \\ge 2$ the bipartite capacity of uniform causal attention satisfies "
               "$\\varphi_{bip}(n) > \\varphi_{bip}^* = 0.24806\\ldots$ (so $\\varphi_{bip}(n) > 6/25 > 1/5$), where "
               "$\\varphi_{bip}^* = 1 - 2a^* + 2a^*\\ln(a^*/b^*)$ at the root $(a^*, b^*) = (0.21684\\ldots, 0.45169\\ldots)$ "
               "of the balance equation $b = 1 - a + a\\ln a$ and the stationarity equation $\\ln a\\,(1 - a/b) = \\ln b$. "
               f"The $(a, b)$ cuts lose nothing against arbitrary vertex sets for $n \\le {CERTIFICATE.n_enum}$. **Open:** the "
               "optimality of $(a, b)$ cuts for general $n$."),
    steps=(
        Step("Closed forms: $\\sum_{i\\le b, j\\le a} A_{ij} = b$ for $a \\ge b$ and $a + a(H_b - H_a)$ for $a < b$; "
             "$\\sum_{j\\le a} c_j = a(H_n - H_a) + a$; $\\sum_{i \\le b} r_i = b$.",
             "exact", "exact rationals against the matrix for $n \\le 12$", check_closed_form),
        Step("For every $n$: a cut with more keys than queries on the left ($b < a$) is no better than the prefix "
             "cut at $t = a$. The queries $b+1..a$ attend only to keys $\\le a$, so adding them lowers the cut and raises "
             "the volume by $\\delta = a - b$; with $\\min(V-\\delta, 2n-V+\\delta) \\le \\min(V, 2n-V) + \\delta$ the "
             "bound $5/17$ of C4 carries over ($a = n$, where no prefix cut exists, has cut $n - b$ over the smaller side "
             "$n - b$: $\\varphi = 1$).", "linear-arithmetic",
             "sympy identities for cut and volume; infeasibility of the negated bound in both cases of the minimum",
             check_more_keys),
        Step("For $a \\le b$, with $D_1 = H_n - H_b$, $D_2 = H_b - H_a$: "
             "$\\mathrm{II} = \\mathrm{cut} - c\\,\\mathrm{vol} = (1-c)b - (1+c)a + (1-c)aD_1 - (1+c)aD_2$ and "
             "$\\mathrm{I} = \\mathrm{cut} - c(2n - \\mathrm{vol}) = (1-c)E + (1+c)aD_1 - 2c(n-b)$, "
             "$E = (b-a) - aD_2 \\ge 0$; $\\varphi > c$ if and only if $\\mathrm{I} > 0$ or $\\mathrm{II} > 0$.",
             "symbolic", "sympy identities; $E \\ge 0$ from $D_2 \\le (b-a)/(a+1)$, exact for $n \\le 60$",
             check_margin_identities),
        Step("The system has exactly one root $(a^*, b^*)$ in a box of radius $10^{-(dps+2)}$ around the numerical "
             "solution; it encloses $\\varphi_{bip}^*$ and $\\kappa^* = 1 - 2a^*/b^*$, with "
             "$6/25 < \\varphi_{bip}^* < 1/4$ and $|\\kappa^*| < \\varphi_{bip}^*$. From here on $c = \\varphi_{bip}^*$.",
             "interval", "Krawczyk's test in mpmath interval arithmetic; the Jacobian checked by sympy", check_root),
        Step("Region $a \\ge (2/5)\\,n$: with $D_1 \\ge (n-b)/n$, "
             "$\\mathrm{I} \\ge (1-c)E + (n-b)\\big((1+c)a/n - 2c\\big)$ and $(1+c)\\tfrac25 - 2c = (2 - 8c)/5 > 0$; "
             "so $\\mathrm{I} > 0$ when $b < n$, and when $b = n > a$ because then $E > 0$.",
             "symbolic", "sympy identity; exact rationals; the enclosure of $c$", check_region_keys),
        Step("Region $b \\le n/8$ (corner): with $\\rho = a/b$ and $\\ln\\frac{n+1}{b+1} \\ge \\ln 4$, "
             "$\\mathrm{II}/b \\ge h(\\rho) = (1-c) - (1+c)\\rho + K\\rho + (1+c)\\rho\\ln\\rho$, $K = (1-c)\\ln 4$: "
             "convex, with $\\min(h(\\rho_m), h(1)) > 0$.", "interval",
             "sympy derivatives; interval arithmetic at the minimiser", check_region_corner),
        Step("Refined harmonic bounds: $f(m) = H_m - \\ln m - \\frac{1}{2m}$ satisfies "
             "$0 < f(M) - f(m) < \\frac{1}{12}\\big(\\frac{1}{m^2} - \\frac{1}{M^2}\\big)$ for $1 \\le m < M$, since "
             "$f(m+1) - f(m) = -g(1/m)$ and $\\frac{1}{12m^2} - \\frac{1}{12(m+1)^2} = (k - g)(1/m)$ with "
             "$g(u) = \\ln(1+u) - \\frac u2 - \\frac{u}{2(1+u)}$, $g' = -\\frac{u^2}{2(1+u)^2}$, "
             "$k' = \\frac{u^4}{6(1+u)^3}$, $g(0) = k(0) = 0$. Hence, with $x = a/n$, $y = b/n$, $\\nu = 1/n$: "
             "$e_1 = D_1 - \\ln\\frac1y \\ge \\frac\\nu2 - \\frac{\\nu}{2y}$ and "
             "$e_2 = D_2 - \\ln\\frac yx \\le \\frac{\\nu}{2y} - \\frac{\\nu}{2x} + \\frac{\\nu^2}{12x^2}$.",
             "symbolic", "sympy derivatives and identities; interval check of the bound for $m < M \\le 60$",
             check_refined_harmonic),
        Step("Local identities near $(a^*, b^*)$. With $\\mathrm{cut}_c = y - x - 2x\\ln y + x\\ln x$, "
             "$\\mathrm{vol}_c = x + y - x\\ln x$, $A = \\mathrm{vol}_c - 1$ and "
             "$L_c = \\mathrm{cut}_c - c - \\kappa^* A + \\tau A^2$: $L_c(a^*, b^*) = 0$ and $\\nabla L_c(a^*, b^*) = 0$ "
             "(the cut minus the $\\varphi$ formula is the balance residual; the gradient of "
             "$\\mathrm{cut}_c - \\kappa^*\\mathrm{vol}_c$ is twice the stationarity residual and 0). The discrete "
             "$L_d = \\mathrm{cut} - cn - \\kappa^*(V - n) + \\tau(V - n)^2/n$, $W = V/n - 1$, satisfies "
             "$L_d/n \\ge L_c + x\\big((1-\\kappa')e_1 - (1+\\kappa')e_2\\big) \\ge L_c + \\nu q$ with "
             "$\\kappa' = \\kappa^* - 2\\tau A$ and $q = \\frac{1+\\kappa'}{2} + \\frac{(1-\\kappa')x}{2} - \\frac xy "
             "- \\frac{(1+\\kappa')\\nu}{12x}$ (if $|\\kappa'| < 1$), and "
             "$\\mathrm{I}/n - L_d/n = W(c + \\kappa^* - \\tau W)$, $\\mathrm{II}/n - L_d/n = -W(c - \\kappa^* + \\tau W)$: "
             "so if $\\tau|W| \\le c - |\\kappa^*|$, then $\\max(\\mathrm{I}, \\mathrm{II}) \\ge L_d$.",
             "symbolic", "sympy: residual identities, the Hessian entries of $L_c$, the expansion of $L_d$, "
             "the two S-procedure identities and $\\nu q$", check_local_identities),
        Step(f"On $U = [5/32, 9/32] \\times [3/8, 17/32] \\ni (a^*, b^*)$ with $\\tau = {CERTIFICATE.tau}$ and $n > {CERTIFICATE.n_exact}$: "
             "the Hessian of $L_c$ has $\\lambda_{\\min} \\ge m > 0$, so $L_c \\ge \\frac m2 |p - p^*|^2$ by Taylor's "
             "theorem on the convex $U$; $\\tau|W| \\le c - |\\kappa^*|$ and $|\\kappa'| < 1$; and on every box "
             "$q > 0$, or $\\frac m2 d^2 + \\nu_0 q > 0$ with $d$ the distance to $(a^*, b^*)$ and "
             f"$\\nu_0 = 1/{CERTIFICATE.n_exact + 1}$ ($q$ decreases in $\\nu$). Hence $L_d > 0$ and $\\varphi > c$ on $U$.",
             "interval", "mpmath interval arithmetic on a grid of boxes, with the enclosures of $a^*, b^*, c, \\kappa^*$",
             check_local_interval),
        Step(f"Remaining region $a/n \\le 2/5$, $b/n \\ge 1/8$ outside $U$, $n > {CERTIFICATE.n_exact}$: with "
             "$D_1 \\ge \\ln\\frac{1+\\nu}{b/n+\\nu}$ (decreasing in $\\nu = 1/n$) and $D_2 \\le \\ln(b/a)$, an adaptive "
             f"subdivision into boxes shows $\\mathrm{{I}} > 0$ or $\\mathrm{{II}} > 0$ on every box at $\\nu = 1/{CERTIFICATE.n_exact + 1}$.",
             "interval", "mpmath interval arithmetic on each box, with a rigorous enclosure of $x\\ln x$",
             check_region_middle),
        Step(f"For $2 \\le n \\le {CERTIFICATE.n_exact}$: $\\varphi_{{bip}}(n) \\ge 1/5$ and $> \\varphi_{{bip}}^*$.", "exact",
             "every $(a, b)$ in exact rationals, compared with the enclosure of $\\varphi_{bip}^*$", check_finite_part),
        Step("Query lemma: for any row-stochastic $A$, a vertex set with queries $Q$ and keys $K$ has "
             "$\\mathrm{cut} = \\sum_i f_i + |Q| - 2\\sum_{i \\in Q} f_i$, $f_i = \\sum_{j \\in K} A_{ij}$, and volume "
             "$|Q| + \\sum_{j \\in K} c_j$; so for fixed $K$ and $|Q| = s$ the best $Q$ is the $s$ queries with the "
             "largest $f_i$.", "symbolic", "sympy on a generic $3 \\times 3$ row-stochastic matrix, every $(Q, K)$",
             check_query_lemma),
        Step(f"For $n \\le {CERTIFICATE.n_enum}$, no vertex set of the bipartite graph has lower conductance than the best "
             "$(a, b)$ cut.", "enumeration",
             f"every key set and query count through the query lemma (float64, near-ties re-checked exactly); for "
             f"$n \\le {CERTIFICATE.n_enum_all}$ every vertex set directly", check_enumeration),
        Step("Every $n \\ge 2$: $\\varphi_{bip}(n) > \\varphi_{bip}^* > 6/25 > 1/5$ — exact up to the cutoff; above it "
             "$\\varphi = 1$ at $a = 0$, the reduction of $b < a$ to C4, and for $a \\le b$ the regions "
             "$a \\ge 2n/5$, $b \\le n/8$, the boxes and $U$.", "exact",
             "rational comparisons with the enclosure of $\\varphi_{bip}^*$", check_all_n),
        Step("$(a^*, b^*)$ solves the balance equation $b = 1 - a + a\\ln a$ and the stationarity equation "
             "$\\ln a\\,(1 - a/b) = \\ln b$; there the continuum volume is 1 and the cut is $\\varphi_{bip}^*$.",
             "symbolic", "mpmath `findroot` residuals at the requested precision", check_constants),
    ),
    notes=("The margin $\\varphi_{bip}(n) - \\varphi_{bip}^*$ is of order $1/n$: at the optimum "
           "$q \\approx \\frac{1+\\kappa^*}{2} + \\frac{(1-\\kappa^*)a^*}{2} - \\frac{a^*}{b^*} \\approx 0.14$, and the "
           "lattice adds a non-negative, oscillating part (float64 `check`: n = 100: 0.24961, n = 4000: 0.24811). "
           "A consequence: the continuum landscape $\\varphi(x, y)$ is the limit of $\\varphi_n(xn, yn)$ along "
           "lattice points, so it is $\\ge \\varphi_{bip}^*$ everywhere, and $(a^*, b^*)$ is its minimiser. "
           "The symmetric part of the proof — $\\min(V, 2n - V)$ has a kink exactly at the continuum optimum — is "
           "what the augmented Lagrangian handles: neither margin alone is positive near $(a^*, b^*)$."),
)
