"""Machine-checked claims: every claim passes, checkers can fail, documents cannot drift."""
import io
import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from attention_transport import proofs
from attention_transport.cli import main
from attention_transport.proofs import CLAIMS, c4_floor, claim_by_id
from attention_transport.proofs.core import (
    CheckFailed,
    Claim,
    Context,
    Step,
    infeasible,
    interval_dps,
    run_claim,
    symbolic_zero,
)
from attention_transport.proofs.document import render_all
from attention_transport.proofs.scope import Region, Scope

EVERY = Scope(Region.box(n=(1, None)), "symbolic")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "proofs"


@pytest.fixture(scope="module")
def verify_json():
    out = io.StringIO()
    code = main(["verify", "--json", "--dps", "40"], out=out)
    return code, json.loads(out.getvalue())


def test_verify_passes_every_claim(verify_json):
    code, payload = verify_json
    assert code == 0
    assert [c["id"] for c in payload["claims"]] == ["C1", "C1k", "C2", "C3", "C4", "C4b", "C5", "C5b", "C5h",
                                                      "C5t", "C5s", "C6", "C7", "C7d", "L1", "L2", "L3", "L4", "L5",
                                                      "L6", "L7", "L8", "S1"]
    for c in payload["claims"]:
        assert c["status"] == "pass", c
        assert c["steps"] and all(s["status"] == "pass" and s["evidence"] for s in c["steps"])


def test_verify_constants_at_40_digits(verify_json):
    _, payload = verify_json
    consts = payload["constants"]
    assert set(consts) == {"x_star", "phi_star", "phi_bip_star", "a_star", "b_star"}
    for value in consts.values():
        assert len(value.replace("0.", "", 1)) == 40
    # independently computed reference values of the claims (expected values, never inputs)
    assert consts["x_star"].startswith("0.3178444328993726838")
    assert consts["phi_star"].startswith("0.3643111342012546323")
    assert consts["phi_bip_star"].startswith("0.2480608780823195711")
    assert consts["a_star"].startswith("0.2168441985")
    assert consts["b_star"].startswith("0.4516929286")


def test_documents_are_generated_from_the_claims():
    expected = render_all()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert set(on_disk) == set(expected), "docs/proofs has missing or stale files: run verify --write-docs docs/proofs"
    for name, text in expected.items():
        assert on_disk[name] == text, f"docs/proofs/{name} differs from its claim: run verify --write-docs"


def test_every_step_has_a_known_kind_and_words():
    for claim in CLAIMS:
        assert claim.statement and claim.steps
        for step in claim.steps:
            assert step.statement and step.method and callable(step.check)


# ---------------------------------------------------------------- the checkers can fail
def test_failing_and_crashing_steps_are_reported():
    def bad(ctx):
        raise CheckFailed("1 ≠ 2")

    def crash(ctx):
        return 1 / 0

    claim = Claim("X", "broken", "a false claim", (Step("false", "exact", "none", bad, scope=EVERY, key="a"),
                                                   Step("crash", "exact", "none", crash, scope=EVERY, key="b"),
                                                   Step("true", "exact", "none", lambda ctx: "ok",
                                                   scope=EVERY, key="c")),
                  domain=Region.box(n=(1, None)))
    result = run_claim(claim)
    assert result.status == "fail"
    assert [s.ok for s in result.steps] == [False, False, True, False]  # the coverage step: a, b proved nothing
    assert result.steps[0].evidence == "FAILED: 1 ≠ 2"
    assert result.steps[1].evidence.startswith("ERROR: ZeroDivisionError")


def test_unknown_step_kind():
    with pytest.raises(ValueError, match="step kind must be one of"):
        Step("s", "vibes", "none", lambda ctx: "", scope=EVERY, key="s")


def test_symbolic_zero_rejects_nonzero():
    x = sp.Symbol("x")
    with pytest.raises(CheckFailed, match="simplifies to"):
        symbolic_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 2, "wrong identity")


def test_infeasible_rejects_feasible_systems():
    i, t = sp.symbols("i t", integer=True)
    with pytest.raises(CheckFailed, match="negation is feasible"):
        infeasible([i, t], [i >= 1, i <= t], "i ≤ t is satisfiable")


def _c4(**changes):
    """A context whose C4 certificate differs from the real one by ``changes``."""
    return Context(certificates={"C4": replace(c4_floor.CERTIFICATE, **changes)})


def test_c4_tail_fails_for_a_constant_above_phi_star():
    """The interval step is not vacuous: with c = 2/5 > φ* the tail inequality must fail."""
    c4_floor._branch_complement(Context())
    with pytest.raises(CheckFailed):
        c4_floor._branch_complement(_c4(tail=Fraction(2, 5)))


def test_c4_tail_needs_a_large_enough_exact_range():
    """The volume branch needs (n0 + 1) g(6/7) − 20/7 − n0 > 0, true from n0 = 8 on: n0 = 7 must fail."""
    c4_floor._branch_volume(_c4(n0=8))
    with pytest.raises(CheckFailed, match="slack"):
        c4_floor._branch_volume(_c4(n0=7))


def test_c4_balance_bound_rejects_a_bound_above_x_star():
    with pytest.raises(CheckFailed, match="is not < 1"):
        c4_floor._balance_bound(_c4(x_lo=Fraction(32, 100)))


def test_c4_finite_part_fails_on_a_higher_floor(monkeypatch):
    c4_floor._finite(_c4(n0=10))  # still true below 10
    monkeypatch.setattr(c4_floor, "harmonic_table", lambda m: [Fraction(0)] + [Fraction(1)] * m)
    with pytest.raises(CheckFailed):
        c4_floor._finite(_c4(n0=10))


def test_interval_precision_is_restored():
    from mpmath import iv
    before = iv.prec
    with interval_dps(80):
        assert iv.dps >= 80
    assert iv.prec == before


# ---------------------------------------------------------------- CLI
def test_verify_only_and_table(capsys):
    out = io.StringIO()
    assert main(["verify", "--only", "c1", "C6"], out=out) == 0
    text = out.getvalue()
    assert "C1" in text and "C6" in text and "C4 " not in text
    assert "2 passed, 0 failed" in text.splitlines()[-1]


def test_verify_exit_status_on_failure(monkeypatch):
    broken = Claim("C1", "broken", "false", (Step("no", "exact", "none", lambda ctx: (_ for _ in ()).throw(
        CheckFailed("forced")), scope=EVERY, key="no"),), domain=Region.box(n=(1, None)))
    monkeypatch.setattr(proofs, "CLAIMS", (broken,))
    out = io.StringIO()
    assert main(["verify"], out=out) == 1
    assert "C1 step failed: no" in out.getvalue() and "0 passed, 1 failed" in out.getvalue()


@pytest.mark.parametrize("argv, message", [
    (["verify", "--only", "C9"],
     "unknown claim 'C9'; known claims: C1, C1k, C2, C3, C4, C4b, C5, C5b, C5h, C5t, C5s, C6, C7, C7d, L1, L2, L3, L4, "
     "L5, L6, L7, L8, S1"),
    (["verify", "--dps", "3"], "must be in [5, 1000]; got 3"),
    (["verify", "--dps", "many"], "must be an integer; got 'many'"),
    (["verify", "--enum-max", "1"], "must be in [2, 200]; got 1"),
    (["verify", "--enum-max", "x"], "must be an integer; got 'x'"),
])
def test_verify_errors(argv, message, capsys):
    assert main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_claim_lookup():
    assert claim_by_id("c4B").id == "C4b"


def passing(claim):
    """A context in which every step of ``claim`` has just passed (the premise of a weakening test)."""
    ctx = Context()
    for step in claim.steps:
        step.check(ctx)
    return ctx


# ---------------------------------------------------------------- C1k: each step fails when its argument is weakened
def test_c1k_steps_fail_when_weakened(monkeypatch):
    from attention_transport.proofs import c1k_stack

    ctx = Context()
    for step in c1k_stack.CLAIM.steps:
        step.check(ctx)  # the claim as shipped passes
    # drop causality of the first factor (m ≤ i): a product may then reach above the diagonal
    monkeypatch.setattr(c1k_stack, "CAUSAL_PRODUCT", c1k_stack.CAUSAL_PRODUCT[:1])
    with pytest.raises(CheckFailed, match="negation is feasible"):
        c1k_stack._check_triangular(ctx)
    # rows that need not sum to 1: the product is not row-stochastic
    monkeypatch.setattr(c1k_stack, "_stochastic", c1k_stack._generic)
    with pytest.raises(CheckFailed, match="does not sum to 1"):
        c1k_stack._check_symbolic(ctx)
    # layers multiplied in the wrong order: the k transposed products no longer give the column sums
    matmul = c1k_stack._matmul
    monkeypatch.setattr(c1k_stack, "_matmul", lambda X, Y: matmul(Y, X))
    with pytest.raises(CheckFailed, match="column sums differ"):
        c1k_stack._check_exact(ctx)


# ---------------------------------------------------------------- C7d: each step fails when its argument is weakened
def test_c7d_steps_fail_when_weakened(monkeypatch):
    from attention_transport.proofs import c7d_causal_g as c7d

    ctx = Context()
    for step in c7d.CLAIM.steps:
        step.check(ctx)  # the claim as shipped passes
    # without causality the pair term ab stays: S and K no longer share each pair's energy
    monkeypatch.setattr(c7d, "CAUSAL_PAIR", {})
    with pytest.raises(CheckFailed, match="pair energies agree"):
        c7d._pair_energy(ctx)
    # a wrong closed form: G² = O/(D + O) is not what the energies give
    monkeypatch.setattr(c7d, "G2_CLAIMED", c7d.O / (c7d.D + c7d.O))
    with pytest.raises(CheckFailed, match="O/\\(2D \\+ O\\)"):
        c7d._ratio(ctx)
    # K taken as the symmetric part: ‖K‖² = O/2 fails on generic causal matrices
    monkeypatch.setattr(c7d.ot, "antisymmetric", c7d.ot.symmetric)
    with pytest.raises(CheckFailed, match="‖K‖² = O/2"):
        c7d._generic(ctx)
    # energies that forget the pair products: the formula would then hold on bidirectional heads too
    energies = c7d._energies
    monkeypatch.setattr(c7d, "_energies", lambda A: (lambda d, o, s, k: (d, o, d + o / 2, o / 2))(*energies(A)))
    with pytest.raises(CheckFailed, match="held on a bidirectional head"):
        c7d._random(ctx)


# ---------------------------------------------------------------- S1: each step fails when its argument is weakened
def test_s1_steps_fail_when_weakened(monkeypatch):
    from attention_transport.numerics import strided
    from attention_transport.proofs import s1_strided as s1

    ctx = Context()
    for step in s1.CLAIM.steps:
        step.check(ctx)  # the claim as shipped passes
    # a factor that does not telescope: Δ_k = f(k) + f(k + 1)
    monkeypatch.setattr(s1, "DELTA", s1.f(s1.k) + s1.f(s1.k + 1))
    with pytest.raises(CheckFailed, match=r"f\(M\)"):
        s1._far_part(ctx)
    # a half-width one narrower than claimed: the band's own corner (b − a = w + l − 1) is reached
    monkeypatch.setattr(s1, "HALF_WIDTH", s1.w + s1.l - 2)
    with pytest.raises(CheckFailed):
        s1._band(ctx)
    # the package's band without its far part's diagonal Δ: no longer Pᵀ(M − σD)P
    columns = strided.StridedPencil.columns

    def without_delta(self, c0, c1, sigma):
        out = columns(self, c0, c1, sigma)
        nxt = np.arange(c0, c1) + self.l
        out[-1] += self.f[c0:c1] - np.where(nxt < self.n, self.f[np.minimum(nxt, self.n - 1)], 0.0)
        return out

    monkeypatch.setattr(strided.StridedPencil, "columns", without_delta)
    with pytest.raises(CheckFailed, match="the package's band differs"):
        s1._congruence(ctx)
    monkeypatch.setattr(strided.StridedPencil, "columns", columns)
    # a count that forgets the Schur complement: every eigenvalue below σ sits there
    factor = strided.StridedSolver.factor

    def leading_block_only(self, sigma):
        found = factor(self, sigma)
        if found is not None:
            found.count = 0
        return found

    monkeypatch.setattr(strided.StridedSolver, "factor", leading_block_only)
    with pytest.raises(CheckFailed, match="eigenvalues below"):
        s1._count(ctx)


# ---------------------------------------------------------------- L1–L3: each step fails when its argument is weakened
def test_l1_fails_for_a_ceiling_twice_as_sharp(monkeypatch):
    from attention_transport.proofs import l1_l2_structural as lx

    ctx = passing(lx.L1)
    monkeypatch.setattr(lx, "CEILING", (lx.w - 1) / (2 * (lx.n - lx.w)))  # the window's value: not true of every band
    with pytest.raises(CheckFailed, match="= \\(w − 1\\)/\\(n − w\\)"):
        lx._balanced(ctx)
    with pytest.raises(CheckFailed, match="> \\(w − 1\\)/\\(n − w\\)|farthest keys"):
        lx._l1_exact(ctx)


def test_l1_band_step_needs_the_band(monkeypatch):
    from attention_transport.proofs import l1_l2_structural as lx

    calls = []
    real = lx.infeasible

    def spy(variables, constraints, what):
        calls.append(constraints)
        return real(variables, constraints[:2] + constraints[3:], what)  # drop the band i − j ≤ w − 1

    monkeypatch.setattr(lx, "infeasible", spy)
    with pytest.raises(CheckFailed, match="negation is feasible"):
        lx._band_rows(Context())


def test_l2_fails_for_a_higher_floor_or_an_earlier_start(monkeypatch):
    from attention_transport.proofs import l1_l2_structural as lx

    ctx = passing(lx.L2)
    floor = lx.laws.reach_back_floor
    monkeypatch.setattr(lx.laws, "reach_back_floor", lambda a: (floor(a)[0] * sp.Rational(101, 100), floor(a)[1]))
    with pytest.raises(CheckFailed, match="the floor is a x_c/\\(2 − a x_c\\)"):
        lx._rate(ctx)
    monkeypatch.undo()
    start = lx.laws.sink_floor_start
    monkeypatch.setattr(lx.laws, "sink_floor_start", lambda: start() - 1)
    with pytest.raises(CheckFailed, match="the excess is"):
        lx._sinks(ctx)
    monkeypatch.undo()
    share_start = lx.laws.sink_share_start
    monkeypatch.setattr(lx.laws, "sink_share_start", lambda s, eps: share_start(s, eps) - 1)
    with pytest.raises(CheckFailed, match="sink_share_start"):
        lx._sink_share(ctx)


def test_l4_fails_for_a_sharper_ceiling(monkeypatch):
    from attention_transport.proofs import l1_l2_structural as lx

    ctx = passing(lx.L4)
    monkeypatch.setattr(lx, "TAIL_CEILING", lx.R / (lx.n - 1))  # drops the cut from the volume: too sharp
    with pytest.raises(CheckFailed, match="R/\\(\\(n − 1\\) − R\\)"):
        lx._tail_balanced(ctx)
    monkeypatch.setattr(lx, "TAIL_CEILING", lx.R / (2 * (lx.n - 1)))  # half the leading term: false
    with pytest.raises(CheckFailed, match="E\\[D\\]/\\(n − 1 − E\\[D\\]\\)"):
        lx._l4_exact(ctx)


def test_l5_fails_for_a_floor_twice_as_high(monkeypatch):
    from attention_transport.proofs import l1_l2_structural as lx

    ctx = passing(lx.L5)
    monkeypatch.setattr(lx, "DIAGONAL_FLOOR", 2 * (1 - lx.delta) / lx.n)
    with pytest.raises(CheckFailed, match="cut/n ≥ \\(1 − δ\\)/n"):
        lx._diag_volume(ctx)
    with pytest.raises(CheckFailed, match="< \\(1 − δ\\)/n"):
        lx._l5_exact(ctx)


def test_l6_fails_for_a_sharper_ceiling_or_an_earlier_floor(monkeypatch):
    from attention_transport.proofs import l6_global_tokens as l6
    from attention_transport.theory.laws import Bound

    ctx = passing(l6.CLAIM)
    ceiling = l6.laws.band_global_ceiling
    sharper = lambda h, g: replace(ceiling(h, g), expression=(l6.laws.global_share(h, g) * l6.laws.n  # noqa: E731
                                                              / (2 - l6.laws.global_share(h, g)) + g + h)
                                   / (l6.laws.n - g - h - 2))
    monkeypatch.setattr(l6.laws, "band_global_ceiling", sharper)  # half the band's and the globals' share
    with pytest.raises(CheckFailed, match="not the derived bound"):
        l6._ceiling(ctx)
    monkeypatch.setattr(l6.laws, "band_global_ceiling", lambda h, g: Bound(  # the floor alone: false at finite n
        "upper", l6.laws.reach_floor(l6.laws.global_share(h, g)) + 0 * l6.laws.n, 2, True, "L6"))
    with pytest.raises(CheckFailed, match="breaks upper"):
        l6._exact(ctx)
    monkeypatch.undo()
    monkeypatch.setattr(l6.laws, "global_floor_start", lambda h, g: 2)  # the global rows' cuts ignored
    with pytest.raises(CheckFailed, match="w=2,g=8, n=2: .* breaks lower"):
        l6._exact(ctx)
    monkeypatch.undo()
    pairs = l6.laws.pair_floor
    monkeypatch.setattr(l6.laws, "pair_floor", lambda h, delta: pairs(h, 2 * delta))  # twice the band's weight
    with pytest.raises(CheckFailed, match="w=3,g=0, n=.* breaks lower"):
        l6._exact(ctx)


def test_l7_fails_for_a_higher_floor_a_lower_ceiling_or_an_earlier_start(monkeypatch):
    from attention_transport.proofs import l7_power_bounds as l7

    ctx = passing(l7.CLAIM)
    pairs, reach, bounds = l7.laws.power_pair_sum, l7.laws.power_reach_sum, l7.laws.power_law_bounds
    monkeypatch.setattr(l7.laws, "power_pair_sum", lambda pv: 2 * pairs(pv))
    with pytest.raises(CheckFailed, match="laws.power_pair_sum"):
        l7._floor(ctx)
    monkeypatch.undo()
    monkeypatch.setattr(l7.laws, "power_reach_sum", lambda pv: reach(pv) / 2)
    with pytest.raises(CheckFailed, match="laws.power_reach_sum"):
        l7._tail(ctx)
    monkeypatch.undo()
    earlier = lambda pv: tuple(replace(b, n_min=b.n_min - 1) if b.side == "upper" else b  # noqa: E731
                               for b in bounds(pv))
    monkeypatch.setattr(l7.laws, "power_law_bounds", earlier)
    with pytest.raises(CheckFailed, match="at its start"):
        l7._ceiling(ctx)
    doubled = lambda pv: tuple(replace(b, expression=2 * b.expression) if b.side == "lower" else b  # noqa: E731
                               for b in bounds(pv))
    monkeypatch.setattr(l7.laws, "power_law_bounds", doubled)
    with pytest.raises(CheckFailed, match="breaks the lower bound"):
        l7._numbers(ctx)


def test_l8_fails_for_a_floor_without_its_tail_or_an_earlier_start(monkeypatch):
    from attention_transport.proofs import l8_constant_floor as l8

    ctx = passing(l8.CLAIM)
    exp_floor = l8.laws.exp_constant_floor
    monkeypatch.setattr(l8.laws, "exp_constant_floor",  # E[D]/n without the tail R(T₀) taken off
                        lambda mv: replace(exp_floor(mv), expression=sp.Min(1 / ((sp.exp(mv) - 1) * l8.n),
                                                                            exp_floor(mv).expression.args[1])))
    with pytest.raises(CheckFailed, match="laws.exp_constant_floor"):
        l8._families(ctx)
    monkeypatch.setattr(l8.laws, "exp_constant_floor",  # one per cent above the floor: false at large n
                        lambda mv: replace(exp_floor(mv), expression=exp_floor(mv).expression * sp.Rational(101, 100)))
    with pytest.raises(CheckFailed, match="exp-decay:m=0.5, n=.*<"):
        l8._numbers(ctx)
    monkeypatch.undo()
    band = l8.laws.band_constant_floor
    monkeypatch.setattr(l8.laws, "band_constant_floor", lambda *a: replace(band(*a), n_min=2))
    with pytest.raises(CheckFailed, match="window:w=2"):
        l8._families(ctx)


def test_l3_fails_for_wrong_constants(monkeypatch):
    from attention_transport.proofs import l3_kernel_laws as l3

    ctx = Context()
    monkeypatch.setattr(l3.laws, "balanced_power_tail_cut", lambda: (2 ** (l3.p - 1) - 1) / (l3.p - 1))
    with pytest.raises(CheckFailed, match="the value at x = 1/2"):
        l3._tail(ctx)
    monkeypatch.undo()
    monkeypatch.setattr(l3.laws, "square_offset", lambda: sp.EulerGamma + 1 - sp.pi ** 2 / 6 - sp.log(2))
    with pytest.raises(CheckFailed, match="γ \\+ 1 − π²/6 − 2 ln 2"):
        l3._entropy(ctx)
    monkeypatch.undo()
    cut = l3.laws._cut_value
    monkeypatch.setattr(l3.laws, "_cut_value", lambda xv, pv: cut(xv, pv) * (1 + mpmath.mpf(10) ** -20))
    with pytest.raises(CheckFailed, match="closed form against quadrature"):
        l3._floor_values(ctx)


def test_a_numeric_step_cannot_prove():
    with pytest.raises(ValueError, match="a numeric step corroborates only"):
        Step("s", "numeric", "m", lambda ctx: "", scope=None, key="k")


def test_a_swallowed_ctrl_c_still_stops_the_run_at_the_next_step():
    """mpmath converts numbers inside bare ``except:`` blocks: a Ctrl-C landing there is lost, so `verify`
    remembers it and stops before the next step."""
    import os
    import signal

    from attention_transport import interrupts

    ran = []

    def swallowing(ctx):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10 ** 6):  # the signal is delivered here, and lost
                pass
        except BaseException:  # what a bare ``except:`` does
            pass
        ran.append("first")
        return "ok"

    def second(ctx):
        ran.append("second")
        return "ok"

    claim = Claim("X", "t", "s", (Step("a", "exact", "m", swallowing, scope=EVERY, key="a"),
                                  Step("b", "exact", "m", second, scope=EVERY, key="b")),
                  domain=Region.box(n=(1, None)))
    before = signal.getsignal(signal.SIGINT)
    with interrupts.remembered() as interrupted:
        with pytest.raises(KeyboardInterrupt):
            run_claim(claim, Context(), interrupted)
    assert ran == ["first"]
    assert signal.getsignal(signal.SIGINT) is before
    interrupts._SEEN.clear()  # this process goes on running tests


def test_c5t_steps_fail_when_weakened(monkeypatch):
    from attention_transport.numerics import band
    from attention_transport.proofs import c5t_translates as c5t

    ctx = Context()
    for step in c5t.CLAIM.steps:
        step.check(ctx)  # the claim as shipped passes
    # a range one key cut wider at the start: a cell there reads the row before the translates
    monkeypatch.setattr(c5t, "FIRST_REACH", c5t.w - 2)
    with pytest.raises(CheckFailed, match="i ≥ a \\+ δ ⇒ i ≥ i0"):
        c5t._reads(ctx)
    monkeypatch.setattr(c5t, "FIRST_REACH", c5t.w - 1)
    # the code's range one key cut wider at each end
    real_range = band.translate_range

    def wider(n, K, w, i0, i1, least=band.TRANSLATES_MIN):
        found = real_range(n, K, w, i0, i1, least)
        return None if found is None else (found[0] - 1, found[1] + 1)

    monkeypatch.setattr(c5t, "translate_range", wider)
    with pytest.raises(CheckFailed, match="outside the proven"):
        c5t._range(ctx)
    monkeypatch.setattr(c5t, "translate_range", real_range)
    # the search's middle cells without those beside the balance cut: only the ends of each diagonal and phase
    monkeypatch.setattr(band, "BALANCE_STEPS", ())
    with pytest.raises(CheckFailed, match="float"):
        c5t._numerics(ctx)
