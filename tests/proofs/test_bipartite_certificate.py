"""The all-n bipartite certificate (C4b): its lemmas hold on real lattices and its checkers can fail."""
import io
import re
from itertools import combinations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import iv

from attention_transport.cli import main
from attention_transport.numerics.constants import bipartite_star
from attention_transport.numerics.landscapes import bipartite_minimum
from attention_transport.numerics.patterns import parse_pattern
from dataclasses import replace
from fractions import Fraction

from attention_transport.proofs.c4b import CERTIFICATE, enumeration, exact, local, regions, root
from attention_transport.proofs.core import CheckFailed, Context

from attention_strategies import attention_matrices

PHI, A_STAR, B_STAR = (float(v) for v in bipartite_star(30))
KAPPA = 1 - 2 * A_STAR / B_STAR


def _harmonic(n):
    return np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n + 1))])


@pytest.mark.parametrize("n", [121, 500, 4000])
def test_local_lemma_inequalities_hold_on_the_lattice(n):
    """Every inequality of the local lemma, evaluated on the real lattice points of U (float64)."""
    (x0, x1), (y0, y1) = [(float(lo), float(hi)) for lo, hi in CERTIFICATE.u_box]
    a, b = np.meshgrid(np.arange(int(np.ceil(x0 * n)), int(x1 * n) + 1),
                       np.arange(int(np.ceil(y0 * n)), int(y1 * n) + 1), indexing="ij")
    a, b = a.ravel().astype(float), b.ravel().astype(float)
    H = _harmonic(n)
    D1, D2 = H[n] - H[b.astype(int)], H[b.astype(int)] - H[a.astype(int)]
    cut, vol = (b - a) + a * D1 - a * D2, a + b + a * (D1 + D2)
    I, II = cut - PHI * (2 * n - vol), cut - PHI * vol
    tau = float(CERTIFICATE.tau)
    Ld = cut - PHI * n - KAPPA * (vol - n) + tau * (vol - n) ** 2 / n
    x, y, nu = a / n, b / n, 1.0 / n
    A = x + y - x * np.log(x) - 1
    Lc = (y - x - 2 * x * np.log(y) + x * np.log(x)) - PHI - KAPPA * A + tau * A ** 2
    kp = KAPPA - 2 * tau * A
    q = (1 + kp) / 2 + (1 - kp) * x / 2 - x / y - (1 + kp) * nu / (12 * x)
    assert np.all(tau * np.abs(vol / n - 1) <= PHI - abs(KAPPA))
    assert np.all(np.maximum(I, II) >= Ld - 1e-9)
    assert np.all(Ld / n >= Lc + nu * q - 1e-12)
    assert np.all(Ld > 0)
    assert np.min(cut / np.minimum(vol, 2 * n - vol)) > PHI


@pytest.mark.parametrize("n", [150, 700, 3000])
def test_bipartite_capacity_stays_above_phi_bip_star_beyond_the_exact_range(n):
    bm = bipartite_minimum(parse_pattern("uniform-causal").dense(n))
    assert PHI < bm.phi < PHI + 0.5 / n  # the margin is of order 1/n


def test_refined_harmonic_bounds_on_large_arguments():
    for m, M in [(121, 10 ** 4), (2000, 2001), (37, 10 ** 6)]:
        with mpmath.workdps(40):
            f = [mpmath.harmonic(k) - mpmath.log(k) - mpmath.mpf(1) / (2 * k) for k in (m, M)]
            assert 0 < f[1] - f[0] < (mpmath.mpf(1) / m ** 2 - mpmath.mpf(1) / M ** 2) / 12


@settings(max_examples=40, deadline=None)
@given(A=attention_matrices(min_n=2, max_n=5, float16=False), kcode=st.integers(min_value=0, max_value=31))
def test_query_lemma_picks_the_best_query_set(A, kcode):
    """For a fixed key set and size s, the s queries with the largest fᵢ minimise the cut."""
    n = A.shape[0]
    K = [j for j in range(n) if kcode >> j & 1]
    f = A[:, K].sum(axis=1)
    for s in range(n + 1):
        brute = min(sum(A[i, j] for i in range(n) for j in range(n) if (i in Q) != (j in K))
                    for Q in map(set, combinations(range(n), s)))
        lemma = f.sum() + s - 2 * np.sort(f)[::-1][:s].sum()
        assert lemma == pytest.approx(brute, abs=1e-12)


def test_keyset_enumeration_matches_all_vertex_sets():
    for n in range(2, 8):
        lowest, near, threshold = enumeration.keyset_minimum(n, Fraction(1))
        assert lowest == pytest.approx(enumeration.all_sets_minimum(n), abs=1e-12)
        assert near and threshold > 1  # every set below φ = 1 is reported for the exact re-check
        assert all(enumeration.exact_keyset_phi(n, code, s) < Fraction(1) + Fraction(1, 10 ** 11)
                   for code, s in near)


# ---------------------------------------------------------------- the checkers can fail
def weakened(**changes):
    """A context whose C4b certificate differs from the real one by ``changes``."""
    return Context(certificates={"C4b": replace(CERTIFICATE, **changes)})


def _root_with_phi(value):
    A, B, _, kappa = root.bipartite_root(30)
    return lambda dps: (A, B, iv.mpf(value), kappa)


def test_subdivision_fails_above_the_minimum_outside_u(monkeypatch):
    """Outside U the continuum φ is ≥ 0.2731 (at y = 3/8): c = 0.27 is certified, c = 0.28 cannot be."""
    monkeypatch.setattr(regions, "bipartite_root", _root_with_phi(0.27))
    regions.check_region_middle(Context())
    monkeypatch.setattr(regions, "bipartite_root", _root_with_phi(0.28))
    with pytest.raises(CheckFailed, match="not certified"):
        regions.check_region_middle(Context())


def test_local_lemma_needs_the_penalty():
    """Without the quadratic term the Lagrangian's Hessian is indefinite at (a*, b*)."""
    with pytest.raises(CheckFailed, match="not positive definite"):
        local.check_local_interval(weakened(tau=Fraction(0)))


def test_local_lemma_rejects_a_box_without_the_root():
    box = ((Fraction(1, 4), Fraction(5, 16)), (Fraction(3, 8), Fraction(1, 2)))
    with pytest.raises(CheckFailed, match="not in U"):
        local.check_local_interval(weakened(u_box=box))


def test_local_lemma_rejects_a_too_large_penalty():
    """τ|W| ≤ φ − |κ| is what lets max(I, II) bound L_d from above: a huge τ breaks it."""
    with pytest.raises(CheckFailed, match=re.escape("τ|W| > φ − |κ|")):
        local.check_local_interval(weakened(tau=Fraction(4)))


def test_region_lemmas_reject_constants_they_do_not_prove():
    """The corner lemma fails for a corner as large as b ≤ n/2, even with the ratio (n + 1)/(b + 1) ≥ 3/2 it then
    has; margin I needs (1 + c)α − 2c > 0, which α = 1/5 does not give."""
    regions.check_region_corner(Context())
    with pytest.raises(CheckFailed, match=r"h\(ρ_m\)"):
        regions.check_region_corner(weakened(beta_corner=Fraction(1, 2), corner_ratio=Fraction(3, 2)))
    with pytest.raises(CheckFailed, match="is not > 0 at α = 1/5"):
        regions.check_region_keys(weakened(alpha_split=Fraction(1, 5)))


def test_the_exact_range_must_reach_the_local_lemma():
    """The interval steps take ν = 1/n over [0, 1/n_tail]: a tail starting at n = 9 leaves boxes uncertified."""
    with pytest.raises(CheckFailed):
        regions.check_region_middle(weakened(n_tail=9, exact_range=(2, 8)))


def test_krawczyk_rejects_a_box_without_the_root(monkeypatch):
    phi, a, b = bipartite_star(40)
    monkeypatch.setattr(root, "bipartite_star", lambda dps: (phi, a + mpmath.mpf("1e-8"), b))
    with pytest.raises(CheckFailed, match="Krawczyk"):
        root.bipartite_root.__wrapped__(30)


@pytest.mark.parametrize("n", [6, 11, 17])
def test_branch_and_bound_agrees_with_the_full_enumeration(n):
    """Every key set the branch and bound leaves open is one the full enumeration flags near the optimum or above
    it; and with a bar above the optimum, both find the sets below it."""
    from attention_transport.proofs.c4_floor import harmonic_table

    best = exact.bipartite_exact(n, harmonic_table(n))[0]
    nodes, open_sets = enumeration.keyset_branch_and_bound(n, best)
    assert nodes < 2 ** n and all(code < 2 ** (n - 1) for code in open_sets)
    raised = best + Fraction(1, 100)
    _, open_raised = enumeration.keyset_branch_and_bound(n, raised)
    _, near, _ = enumeration.keyset_minimum(n, raised)
    below = {code for code, s in near if enumeration.exact_keyset_phi(n, code, s) < raised}
    assert below and below <= set(open_raised)  # nothing below the bar was pruned


def test_enumeration_catches_a_better_set(monkeypatch):
    """If the (a, b) optimum were higher than it is, the enumeration would find a set below it."""
    real = exact.bipartite_exact
    monkeypatch.setattr(enumeration, "bipartite_exact", lambda n, Hs: (real(n, Hs)[0] + Fraction(1, 1000),))
    with pytest.raises(CheckFailed, match="queries: φ = .* < "):
        enumeration.check_enumeration(weakened(n_enum=12))


def test_the_certificate_reaches_the_statements():
    from attention_transport.proofs import claim_by_id

    claim = claim_by_id("C4b")
    assert f"n \\le {CERTIFICATE.n_bb}" in claim.statement
    assert any(f"\\tau = {CERTIFICATE.tau}" in step.statement for step in claim.steps)


def test_verify_enum_max_extends_the_enumeration_but_never_shortens_it(capsys):
    """Below the certified range the statement would outrun its check: refused with exit status 2."""
    assert main(["verify", "--only", "C4b", "--enum-max", "6"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must be at least 50; got 6" in err
    extended = enumeration.check_branch_and_bound(replace_ctx(Context(enum_max=9), n_bb=3))
    assert extended.evidence.startswith("branch and bound over key sets for every n ≤ 9: ")
    assert extended.region.describe() == "2 ≤ n ≤ 9"


def replace_ctx(ctx, **changes):
    return Context(enum_max=ctx.enum_max, certificates={"C4b": replace(CERTIFICATE, **changes)})
