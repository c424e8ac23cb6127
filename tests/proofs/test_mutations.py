"""The checker is tested by mutation: every soundness-relevant quantity of every certificate, weakened, must make
`verify` fail.

Each row of :data:`MUTATIONS` changes one thing — a range, a constant, an interval width, an evaluation point, a
guard, a formula object, a bound's direction, the coverage — through the certificate object or the one-source
expression it lives in, runs what `verify` runs for the affected step (the step itself, with its scope check, then
the claim's coverage with every other step at its declared scope) and expects a failure naming the reason.  The
table is the mutation score of the proof modules: every row must be killed.  The categories are those of the audit
(docs/theory.md, "Soundness of the certificates").
"""
import builtins
import io
from dataclasses import replace
from fractions import Fraction

import pytest
import sympy as sp

from attention_transport.cli import main
from attention_transport.proofs import CLAIMS, c4_floor, claim_by_id, core
from attention_transport.proofs import c5b_band as c5b
from attention_transport.proofs import c5h_hubs as c5h
from attention_transport.proofs import c5s_sink_window as c5s
from attention_transport.proofs import c6_c7_orientation as c6
from attention_transport.proofs.c4b import CERTIFICATE as C4B
from attention_transport.proofs.c4b import enumeration, regions
from attention_transport.proofs.c4b import expressions as ex
from attention_transport.proofs.core import Case, CheckFailed, Context, Part, coverage, infeasible
from attention_transport.proofs.formulas import nonnegative
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import sink_window as sw


def verdict(claim_id, key, ctx, run=True):
    """What `verify` says when step ``key`` runs under ``ctx`` and every other step holds its declared scope."""
    claim = claim_by_id(claim_id)
    proven = {s.key: s.scope_in(ctx) for s in claim.steps}
    if run and key is not None:
        _, proven[key] = core._run_step(claim.step(key), ctx)
    return coverage(claim, ctx, proven)


def c4(**changes):
    return Context(certificates={"C4": replace(c4_floor.CERTIFICATE, **changes)})


def c4b(**changes):
    return Context(certificates={"C4b": replace(C4B, **changes)})


def loop_keeping(loop, keep):
    """A ``range`` that, for the loop over n (``range(*loop)``) only, silently keeps the values ``keep`` accepts:
    'the exact loop skips n = 99', 'the enumeration runs over even n'.  Every other range is the real one."""
    return lambda *args: [v for v in builtins.range(*args) if args != loop or keep(v)]


def patch(target, name, value):
    return lambda mp: mp.setattr(target, name, value, raising=name != "range")


def expr_patch(name, make):
    return lambda mp: mp.setattr(ex, name, make())


def _lose_area(real):
    def subdivide(*args, **kwargs):
        count, worst, area = real(*args, **kwargs)
        return count, worst, area - Fraction(1, 2 ** 20)
    return subdivide


def _forged_farkas(rows, rhs):
    return [Fraction(1)] + [Fraction(0)] * (len(rows) - 1)


#: (id, category, claim, step key (None: coverage only), context, monkeypatch or None, run the step?, message)
MUTATIONS = [
    # a gap in an exact range
    ("c4-exact-range-short", "range", "C4", "finite", c4(exact_range=(2, 98)), None, True, "n = 99 of n ≥ 2 uncovered"),
    ("c4-loop-skips-99", "range", "C4", "finite", Context(),
     patch(c4_floor, "range", loop_keeping((2, 100), lambda n: n != 99)), True, "did not visit n = 99"),
    ("c4-tail-starts-late", "range", "C4", None, c4(n0=101), None, False, "n = 100 of n ≥ 2 uncovered"),
    ("c4b-exact-table-stops-at-100", "range", "C4b", None, c4b(exact_range=(2, 100)), None, False,
     "101 ≤ n ≤ 120 of n ≥ 2 uncovered"),
    ("c4b-enumeration-even-n", "range", "C4b", "enumeration", c4b(n_enum=7),
     patch(enumeration, "range", loop_keeping((2, 8), lambda n: n % 2 == 0)), True, "did not visit"),
    # formulas: the interval and exact steps evaluate the objects the symbolic steps check
    ("formula-q", "formula", "C4b", "local-identities", Context(),
     expr_patch("q_local", lambda: ex.q_local + ex.x / ex.y), True, "= ν q"),
    ("formula-lambda-max", "formula", "C4b", "local-identities", Context(),
     expr_patch("lambda_min", lambda: ex.hessian_c[0, 0] + ex.hessian_c[1, 1] - ex.lambda_min), True, "smaller root"),
    ("formula-hessian-source", "formula", "C4b", "local-identities", Context(),
     expr_patch("L_c", lambda: ex.cut_c - ex.c - ex.kappa * ex.A_c + ex.tau * ex.A_c), True, "L_d/n = L_c"),
    ("formula-W-sign", "formula", "C4b", "local-identities", Context(),
     expr_patch("W_local", lambda: ex.A_c - ex.x * (ex.e1 + ex.e2)), True, "W ≠ A"),
    ("formula-closed-form", "formula", "C4b", "closed-form", Context(),
     expr_patch("COLUMN_PREFIX", lambda: ex.a * (sp.harmonic(ex.n) - sp.harmonic(ex.a))), True, "Σ_{j≤a} c_j"),
    ("formula-margin", "formula", "C4b", "margins", Context(),
     expr_patch("margin_I", lambda: ex.cut_n + ex.c * (2 - ex.vol_n)), True, "n·margin_I"),
    ("formula-root-system", "formula", "C4b", "root", Context(),
     expr_patch("ROOT_SYSTEM", lambda: sp.Matrix([ex.y - (1 - ex.x - ex.x * sp.log(ex.x)), ex.ROOT_SYSTEM[1]])), True,
     "balance residual"),
    ("formula-c4-tail", "formula", "C4", "complement", Context(),
     lambda mp: mp.setattr(c4_floor, "F_TAIL", c4_floor.F_TAIL + c4_floor.s * c4_floor.eps), True, "∂F/∂ε"),
    # bound directions
    ("direction-harmonic-E2", "direction", "C4b", "refined", Context(),
     expr_patch("E2_BOUNDS", lambda: (ex.E2_BOUNDS[0], ex.E2_BOUNDS[0] - ex.nu ** 2 / (12 * ex.x ** 2))), True,
     "width of E₂"),
    ("direction-D1", "direction", "C4b", "margins", Context(),
     expr_patch("D1_BOUNDS", lambda: (ex.D1_BOUNDS[1], ex.D1_BOUNDS[0])), True, "min D1"),
    # constants false for every n
    ("constant-corner-ln8", "constant", "C4b", "corner", c4b(corner_ratio=Fraction(8)), None, True,
     r"\(b \+ 1\) ≥ 8: the negation is feasible"),
    ("constant-c4-tail-above-phi-star", "constant", "C4", "complement", c4(tail=Fraction(2, 5)), None, True,
     "is not > 0"),
    ("constant-x-lo-above-x-star", "constant", "C4", "balance", c4(x_lo=Fraction(32, 100)), None, True,
     "is not < 1"),
    ("constant-alpha", "constant", "C4b", "keys", c4b(alpha_split=Fraction(1, 5)), None, True, "is not > 0"),
    # evaluation points and interval widths
    ("evaluation-point-nu-local", "evaluation", "C4b", "local", c4b(n_tail=9, exact_range=(2, 8)), None, True,
     "τ|W|"),
    ("evaluation-point-nu-middle", "evaluation", "C4b", "middle", c4b(n_tail=9, exact_range=(2, 8)), None, True,
     "not certified"),
    ("hard-box-condition", "evaluation", "C4b", "local", c4b(local_grid=4), None, True, "too close to"),
    ("penalty-zero", "evaluation", "C4b", "local", c4b(tau=Fraction(0)), None, True, "not positive definite"),
    ("box-without-root", "evaluation", "C4b", "local",
     c4b(u_box=((Fraction(1, 4), Fraction(5, 16)), (Fraction(3, 8), Fraction(1, 2)))), None, True, "not in U"),
    ("middle-area-lost", "coverage", "C4b", "middle", Context(),
     lambda mp: mp.setattr(regions, "subdivide", _lose_area(regions.subdivide)), True, "cover area"),
    # guards
    ("enumeration-guard", "guard", "C4b", "enumeration", c4b(n_enum=8), patch(enumeration, "GUARD", -1e-3), True,
     "too tight"),
    ("branch-and-bound-optimum-raised", "guard", "C4b", "branch-and-bound", c4b(n_bb=12),
     patch(enumeration, "bipartite_exact", lambda n, Hs, real=enumeration.bipartite_exact: (
         real(n, Hs)[0] + Fraction(1, 1000),)), True, "queries: φ = .* < "),
    # a vacuous check made live: the sink-window rate
    ("c5s-rate-halved", "guard", "C5s", "finite", Context(),
     lambda mp: (mp.setattr(c5s, "CASES", ((1, 2),)),
                 mp.setattr(sw, "capacity_upper_bound", lambda real=sw.capacity_upper_bound: real() / 2)),
     True, r"> R\(n\)"),
    # the band lemma behind the strip search (C5b)
    ("c5b-strip-one-diagonal-short", "constant", "C5b", "pruning", Context(), patch(c5b, "WIDTH_EXTRA", 0), True,
     "not a contradiction"),
    ("c5b-band-one-wider", "direction", "C5b", "right-rows", Context(),
     patch(c5b, "BAND", (c5b.i - c5b.j <= c5b.w, c5b.j - c5b.i <= c5b.w)), True, "negation is feasible"),
    ("c5b-code-strip-narrower", "guard", "C5b", "width", Context(),
     patch(c5b, "band_search_width", lambda *args, real=c5b.band_search_width: real(*args) - 1), True,
     "not proven larger"),
    # the hub strip (C5h): one band row too many on either side, and the code's bound weakened the same way
    ("c5h-right-rows-one-early", "direction", "C5h", "right-rows", Context(), patch(c5h, "RIGHT_FIRST", c5h.w - 2),
     True, "negation is feasible"),
    ("c5h-left-rows-one-late", "direction", "C5h", "left-rows", Context(), patch(c5h, "LEFT_LAST", c5h.w - 1), True,
     "negation is feasible"),
    ("c5h-code-bound-one-row-too-many", "guard", "C5h", "exact", Context(),
     patch(c5h, "hub_cut_lower_bound", lambda a, b, Sb, Bc, w, real=c5h.hub_cut_lower_bound: real(a, b, Sb, Bc, w - 1)),
     True, "< ℓ"),
    ("c5h-code-minimum-raised", "guard", "C5h", "numerics", Context(),
     patch(c5h, "hub_banded_bipartite_minimum", lambda *a, real=c5h.hub_banded_bipartite_minimum, **k: (
         replace(real(*a, **k)[0], phi=real(*a, **k)[0].phi * (1 + 1e-9)), real(*a, **k)[1])), True, "vs exact"),
    # exact certificates of the linear-arithmetic steps
    ("lp-forged-multipliers", "certificate", "C1", "rows-inside", Context(),
     patch(core, "farkas_certificate", _forged_farkas), True, "multipliers leave"),
]


@pytest.mark.parametrize("mid, category, claim_id, key, ctx, mutate, run, message",
                         MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutation_is_killed(monkeypatch, mid, category, claim_id, key, ctx, mutate, run, message):
    if mutate is not None:
        mutate(monkeypatch)
    with pytest.raises(CheckFailed, match=message):
        verdict(claim_id, key, ctx, run=run)


def test_the_unmutated_steps_pass_the_same_harness():
    """The harness is not what fails: the cheap steps above pass it as shipped."""
    for claim_id, key in [("C4", "complement"), ("C4", "balance"), ("C4b", "corner"), ("C4b", "keys"),
                          ("C4b", "margins"), ("C4b", "refined"), ("C4b", "local-identities"), ("C4b", "closed-form"),
                          ("C1", "rows-inside")]:
        verdict(claim_id, key, Context())
    verdict("C4b", "enumeration", c4b(n_enum=8))


def test_the_table_covers_every_category_of_the_audit():
    assert {m[1] for m in MUTATIONS} == {"range", "formula", "direction", "constant", "evaluation", "coverage",
                                         "guard", "certificate"}


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_no_step_may_support_more_than_its_scope(claim):
    """Narrow any step a case rests on to one instance: the coverage step must refuse the claim."""
    ctx = Context()
    declared = {s.key: s.scope_in(ctx) for s in claim.steps}
    coverage(claim, ctx, declared)  # as shipped
    used = {k for part in claim.parts_in(ctx) for case in part.cases for k in case.keys}
    for key in used:
        region = declared[key].region
        names = [side[0] for side in region.boxes[0]] if region.boxes else []
        point = Region.box(**{name: 3 for name in names}) if names else Region()
        narrowed = dict(declared, **{key: Scope(point, "instances")})
        with pytest.raises(CheckFailed, match="proven for"):
            coverage(claim, ctx, narrowed)


def test_a_cross_check_cannot_support_a_case():
    claim = claim_by_id("C4b")
    ctx = Context()
    parts = lambda c: (Part("p", Region.box(n=(2, 9)), (Case(Region.box(n=(2, 9)), ("all-sets",)),)),)  # noqa: E731
    with pytest.raises(CheckFailed, match="cross-check"):
        coverage(replace(claim, parts=parts), ctx, {s.key: s.scope_in(ctx) for s in claim.steps})


def test_a_failed_step_proves_nothing():
    claim = claim_by_id("C4")
    ctx = Context()
    proven = {s.key: s.scope_in(ctx) for s in claim.steps if s.key != "volume"}
    with pytest.raises(CheckFailed, match="'volume' did not pass"):
        coverage(claim, ctx, proven)


def test_a_proof_step_no_case_uses_is_flagged():
    claim = claim_by_id("C1")
    ctx = Context()
    parts = lambda c: (Part("p", Region.box(n=(2, None)), (Case(Region.box(n=(2, None)), ("rows-inside",)),)),)  # noqa
    with pytest.raises(CheckFailed, match="used by no case: split"):
        coverage(replace(claim, parts=parts), ctx, {s.key: s.scope_in(ctx) for s in claim.steps})


def test_general_lemmas_rest_on_the_sign_prover_which_rejects_false_ones():
    n, k, a, b = sp.symbols("n k a b", integer=True)
    nonnegative(1 / k - 1 / n, [k >= 1, k <= n], [n, k])
    with pytest.raises(CheckFailed):
        nonnegative(1 / n - 1 / k, [k >= 1, k <= n], [n, k])  # the wrong direction of H_n − H_b ≥ (n − b)/n
    with pytest.raises(CheckFailed):
        nonnegative(a * (b - a) / (a + 1) - (b - a), [a >= 0, b >= a], [a, b])  # the wrong direction of E ≥ 0
    with pytest.raises(CheckFailed, match="not linear"):
        nonnegative(k ** 2 - n, [k >= 1], [n, k])


def test_the_linear_arithmetic_checker_needs_a_contradiction():
    i, t = sp.symbols("i t", integer=True)
    with pytest.raises(CheckFailed, match="negation is feasible"):
        infeasible([i, t], [i >= 1, i <= t], "i ≤ t is satisfiable")
    evidence = infeasible([i, t], [i >= t + 1, i <= t], "i ≤ t and i ≥ t + 1 are disjoint")
    assert "Farkas multipliers" in evidence and "(exact)" in evidence


def test_matrix_expression_identities_can_fail():
    with pytest.raises(CheckFailed):
        c6._same(c6.A, c6.A.T, "A = Aᵀ")
    with pytest.raises(CheckFailed):
        c6._same(c6._N(c6.A.T), c6._N(c6.A), "N(Aᵀ) = N(A)")


def test_enum_max_below_the_certified_range_is_refused(capsys):
    assert main(["verify", "--only", "C4b", "--enum-max", "2"], out=io.StringIO()) == 2
    assert "must be at least 50; got 2" in capsys.readouterr().err


def test_a_value_by_value_scope_needs_the_visited_region():
    step = core.Step("s", "exact", "m", lambda ctx: "no region", scope=Scope(Region.box(n=(2, 5)), "each"), key="s")
    with pytest.raises(CheckFailed, match="needs the region the check visited"):
        core._run_step(step, Context())


def test_the_documented_mutation_score_is_the_table():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "theory.md").read_text(encoding="utf-8")
    assert f"holds {len(MUTATIONS)} mutations" in text and f"{len(MUTATIONS)}/{len(MUTATIONS)}" in text
