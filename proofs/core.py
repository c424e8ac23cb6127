"""Claims as ordered lists of machine-checked steps.

A :class:`Step` says in words (Markdown with ``$…$`` maths) what it asserts,
names its checker kind and how the checker works, and carries the checker: a
function of the run context that either returns a short evidence string or
raises :class:`CheckFailed`.  A step that cannot be checked is not a step.

Checker kinds
-------------
symbolic
    an identity or sign fact established by sympy (``simplify(lhs − rhs) == 0``,
    a derivative in closed form, a limit).
exact
    exact rational arithmetic (``fractions.Fraction`` / sympy ``Rational``).
interval
    rigorous interval arithmetic (``mpmath.iv``): the enclosure decides.
enumeration
    exhaustive enumeration of a finite set.
linear-arithmetic
    an implication between linear inequalities over integers, proved by the
    infeasibility of its negation over the reals, valid for every n, t: an exact
    Farkas certificate (multipliers from a floating-point LP's vertex, solved for
    exactly on its support) is verified in ``fractions.Fraction``.
numeric
    high-precision or float64 numerics (mpmath quadrature and root finding, structural
    landscapes): corroboration only, so a numeric step must have ``role="check"``.

Scopes and coverage
-------------------
Every step declares a :class:`~attention_transport.proofs.scope.Scope`: the parameter
region it proves and why (symbolic in n, induction, value by value, instances).  A step
checked value by value returns :class:`Checked` with the region its loop actually visited,
and fails unless that covers its declared scope.  A claim splits its statement into
:class:`Part` s, each with a domain and :class:`Case` s naming the steps its argument rests
on there; :func:`run_claim` ends with a computed *coverage* step that fails unless the cases
cover the domain and each step's scope covers every case that uses it.  Steps with
``role="check"`` corroborate and support nothing.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Mapping

import numpy as np
import sympy as sp
from mpmath import iv
from scipy.optimize import linprog

from attention_transport.proofs.scope import Region, Scope, one_of

__all__ = ["KINDS", "ROLES", "CheckFailed", "require", "Context", "Checked", "Step", "Case", "Part", "Claim",
           "StepResult", "ClaimResult", "run_claim", "coverage", "symbolic_zero", "infeasible", "farkas_certificate",
           "interval_dps"]

KINDS = ("symbolic", "exact", "interval", "enumeration", "linear-arithmetic", "numeric")
#: a step either supports the statement (``proof``) or corroborates it (``check``: e.g. a closed form compared
#: with brute force on small n); only proof steps may appear in a claim's cases
ROLES = ("proof", "check")


class CheckFailed(Exception):
    """A checker found its step false."""


def require(condition, message):
    """Raise :class:`CheckFailed` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True)
class Context:
    """Run settings shared by the checkers.

    ``dps`` sets the precision of the high-precision steps; ``enum_max``, when set, pushes an
    exhaustive enumeration that can go further (C4b's vertex sets) up to that n.
    ``certificates`` maps a claim id to the certificate object its checkers read (the
    constants of an argument: ranges, boxes, weights); a claim without an entry uses its
    own default, so a test can run a checker on a weakened certificate without touching
    module state.
    """

    dps: int = 30
    enum_max: int | None = None
    certificates: Mapping = field(default_factory=dict)

    def certificate(self, claim_id, default):
        """The certificate of ``claim_id`` for this run: the one given, else ``default``."""
        return self.certificates.get(claim_id, default)


@dataclass(frozen=True)
class Checked:
    """What a value-by-value checker returns: its evidence and the region its loop actually visited."""

    evidence: str
    region: Region


def _resolve(value, ctx):
    return value(ctx) if callable(value) else value


@dataclass(frozen=True)
class Step:
    """One checked step of a claim.

    ``scope`` is a :class:`Scope` or a function of the context returning one (ranges that come from a
    certificate); ``key`` names the step in the claim's cases.
    """

    statement: str
    kind: str
    method: str
    check: Callable[[Context], object]
    scope: object
    key: str
    role: str = "proof"

    def __post_init__(self):
        one_of(self.kind, KINDS, "step kind")
        one_of(self.role, ROLES, "step role")
        if self.kind == "numeric" and self.role != "check":
            raise ValueError(f"step {self.key!r}: a numeric step corroborates only; give it role='check'.")

    def scope_in(self, ctx):
        """The declared scope for this run."""
        scope = _resolve(self.scope, ctx)
        if not isinstance(scope, Scope):
            raise TypeError(f"step {self.key!r}: scope must be a Scope; got {scope!r}.")
        return scope


@dataclass(frozen=True)
class Case:
    """One case of an argument: on ``region``, the statement follows from the steps ``keys``."""

    region: Region
    keys: tuple


@dataclass(frozen=True)
class Part:
    """One part of a claim's statement, its domain and the cases that prove it (``text``: words for a domain
    whose boxes would be long to list)."""

    what: str
    domain: Region
    cases: tuple
    text: str = ""

    def describe(self):
        return self.text or self.domain.describe()


@dataclass(frozen=True)
class Claim:
    """A claim of docs/theory.md: identifier, title, statement, its ordered steps and how they cover it.

    ``parts`` is a function of the context returning the :class:`Part` s of the statement; the default
    is one part on ``domain`` resting on every proof step.
    """

    id: str
    title: str
    statement: str
    steps: tuple
    notes: str = ""
    domain: object = None
    parts: Callable | None = None

    def __post_init__(self):
        keys = [s.key for s in self.steps]
        if len(set(keys)) != len(keys):
            raise ValueError(f"claim {self.id}: step keys must be unique; got {keys}.")
        if self.parts is None and self.domain is None:
            raise ValueError(f"claim {self.id}: give a domain or parts.")

    @property
    def kinds(self):
        """Checker kinds used, in first-use order."""
        return tuple(dict.fromkeys(s.kind for s in self.steps))

    def step(self, key):
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(f"claim {self.id} has no step {key!r}")

    def parts_in(self, ctx):
        """The parts of the statement for this run."""
        if self.parts is not None:
            return tuple(self.parts(ctx))
        domain = _resolve(self.domain, ctx)
        keys = tuple(s.key for s in self.steps if s.role == "proof")
        return (Part("the statement", domain, (Case(domain, keys),)),)


@dataclass
class StepResult:
    step: Step
    ok: bool
    evidence: str
    seconds: float
    scope: Scope | None = None


@dataclass
class ClaimResult:
    claim: Claim
    steps: list = field(default_factory=list)

    @property
    def ok(self):
        return all(s.ok for s in self.steps)

    @property
    def status(self):
        return "pass" if self.ok else "fail"

    @property
    def seconds(self):
        return sum(s.seconds for s in self.steps)


def _run_step(step, context):
    scope = step.scope_in(context)
    out = step.check(context)
    if isinstance(out, Checked):
        missing = scope.region.minus(out.region)
        require(missing.empty, f"the scope says {scope.region.describe()}, but the check did not visit "
                               f"{missing.describe()}")
        return out.evidence, scope
    require(not scope.finite, f"a value-by-value scope ({scope.region.describe()}) needs the region the check "
                              "visited; the checker returned none")
    return out, scope


def run_claim(claim, context=None, interrupted=None):
    """Run every step of ``claim``, then its coverage; a failing or crashing checker fails its step only.

    ``interrupted``, a function returning True once the user asked to stop, is consulted before every step: a
    Ctrl-C that a library swallowed (mpmath converts numbers inside bare ``except:`` blocks) still ends the run at
    the next step.
    """
    context = context or Context()
    result = ClaimResult(claim)
    for step in claim.steps:
        if interrupted is not None and interrupted():
            raise KeyboardInterrupt
        start = time.perf_counter()
        scope = None
        try:
            (evidence, scope), ok = _run_step(step, context), True
        except CheckFailed as exc:
            evidence, ok = f"FAILED: {exc}", False
        except Exception as exc:  # a crashing checker is a failed check, reported, never hidden
            evidence, ok = f"ERROR: {type(exc).__name__}: {exc}", False
        result.steps.append(StepResult(step, ok, evidence, time.perf_counter() - start, scope))
    start = time.perf_counter()
    try:
        evidence, ok = coverage(claim, context, {r.step.key: r.scope for r in result.steps if r.ok}), True
    except CheckFailed as exc:
        evidence, ok = f"FAILED: {exc}", False
    except Exception as exc:
        evidence, ok = f"ERROR: {type(exc).__name__}: {exc}", False
    result.steps.append(StepResult(COVERAGE_STEP, ok, evidence, time.perf_counter() - start))
    return result


def coverage(claim, context, proven):
    """Check that the cases of every part cover its domain and rest only on steps proven there.

    ``proven`` maps step keys to the scope each passing step established; a failed step proves nothing.
    """
    lines = []
    used = set()
    for part in claim.parts_in(context):
        union = Region()
        for case in part.cases:
            union = union | case.region
            for key in case.keys:
                step = claim.step(key)
                require(step.role == "proof", f"{part.what}: the cross-check {key!r} cannot support a case")
                used.add(key)
                require(key in proven, f"{part.what}: step {key!r} did not pass")
                gap = case.region.minus(proven[key].region)
                require(gap.empty, f"{part.what}: the case {case.region.describe()} uses step {key!r}, which is "
                                   f"proven for {proven[key].region.describe()} only (not {gap.describe()})")
        gap = part.domain.minus(union)
        require(gap.empty, f"{part.what}: the cases leave {gap.describe()} of {part.domain.describe()} uncovered")
        lines.append(f"{part.what}: {part.describe()} = "
                     + " ∪ ".join(f"[{c.region.describe()}: {', '.join(c.keys)}]" for c in part.cases))
    idle = [s.key for s in claim.steps if s.role == "proof" and s.key not in used]
    require(not idle, f"proof steps used by no case: {', '.join(idle)} (mark them role='check')")
    return "; ".join(lines)


def _coverage_check(ctx):  # the coverage step is run by run_claim itself, with the step results
    raise CheckFailed("coverage is computed by run_claim")


#: the synthetic last step of every claim result
COVERAGE_STEP = Step("Coverage: the cases of each part cover its domain, and every step a case rests on is "
                     "proven on that case's region.", "exact", "integer box subtraction over the parameters",
                     _coverage_check, Scope(Region.everything(), "symbolic"), "coverage")


def symbolic_zero(expr, what):
    """Require that sympy simplifies ``expr`` to 0; return the evidence string."""
    simplified = sp.simplify(expr)
    if simplified != 0:  # harmonic numbers of shifted arguments need their recurrence expanded
        simplified = sp.simplify(sp.expand_func(expr))
    require(simplified == 0, f"{what}: simplifies to {simplified}, not 0")
    return f"{what}: simplify(lhs − rhs) = 0"


def _linear_rows(variables, constraints):
    """``(rows, rhs)`` in Fractions with every constraint as ``row · x ≤ rhs``."""
    rows, rhs = [], []
    for rel in constraints:
        if isinstance(rel, sp.GreaterThan):
            expr = rel.rhs - rel.lhs  # lhs ≥ rhs  ⇔  rhs − lhs ≤ 0
        elif isinstance(rel, sp.LessThan):
            expr = rel.lhs - rel.rhs
        else:
            raise ValueError(f"constraints must be <= or >=; got {rel}.")
        poly = sp.Poly(expr, *variables)
        require(poly.total_degree() <= 1, f"constraint {rel} is not linear")
        coeffs = [poly.coeff_monomial(v) for v in variables] + [poly.coeff_monomial(1)]
        require(all(c.is_Rational for c in coeffs), f"constraint {rel} has a coefficient that is not rational")
        rows.append([Fraction(int(c.p), int(c.q)) for c in coeffs[:-1]])
        rhs.append(-Fraction(int(coeffs[-1].p), int(coeffs[-1].q)))
    return rows, rhs


def farkas_certificate(rows, rhs):
    """Multipliers ``y ≥ 0`` with ``yᵀ rows = 0`` and ``yᵀ rhs < 0``, or None when none was found.

    By Farkas' lemma such multipliers exist exactly when ``rows · x ≤ rhs`` has no real solution.  A
    floating-point LP (HiGHS) minimises ``yᵀ rhs`` over ``y ≥ 0``, ``yᵀ rows = 0``, ``Σ y = 1``; its vertex's
    support then determines ``y`` exactly, by solving the same equations in rationals (sympy).  Nothing
    here is trusted: :func:`infeasible` verifies the returned vector in Fractions.
    """
    m, k = len(rows), len(rows[0])
    A_eq = np.array([[float(r[c]) for r in rows] for c in range(k)] + [[1.0] * m])
    b_eq = np.zeros(k + 1)
    b_eq[-1] = 1.0
    res = linprog(np.array([float(b) for b in rhs]), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * m, method="highs")
    if res.status != 0 or res.fun >= 0:
        return None
    support = [i for i in range(m) if res.x[i] > 1e-12]
    system = sp.Matrix([[sp.Rational(rows[i][c].numerator, rows[i][c].denominator) for i in support] for c in range(k)]
                       + [[1] * len(support)])
    target = sp.Matrix([0] * k + [1])
    try:
        sol, params = system.gauss_jordan_solve(target)
    except ValueError:  # the support's equations have no exact solution: no certificate from this vertex
        return None
    if params.shape[0]:  # a degenerate vertex: fix the free multipliers at the LP's values, rounded
        free = {p: sp.Rational(Fraction(float(res.x[support[i]])).limit_denominator(10 ** 6))
                for i, p in zip(range(len(support)), params)}
        sol = sol.subs(free)
    y = [Fraction(0)] * m
    for i, v in zip(support, sol):
        v = sp.Rational(v)
        y[i] = Fraction(int(v.p), int(v.q))
    return y


def infeasible(variables, constraints, what):
    """Require that the linear system ``constraints`` has no real solution, with an exact certificate.

    The negation of an implication between linear inequalities is infeasible over the reals (hence over
    the integers) exactly when nonnegative multipliers combine its rows into ``0 ≤ negative``.  The
    multipliers come from :func:`farkas_certificate` and are verified here, independently, in Fractions.

    Parameters
    ----------
    variables : sequence of sympy.Symbol
    constraints : sequence of sympy relationals (``<=``, ``>=``), linear in the variables, rational coefficients
    what : str
        Description for the evidence line.
    """
    rows, rhs = _linear_rows(variables, constraints)
    y = farkas_certificate(rows, rhs)
    require(y is not None, f"{what}: the negation is feasible (no Farkas certificate)")
    require(all(v >= 0 for v in y), f"{what}: a negative multiplier in {y}")
    combined = [sum(v * r[k] for v, r in zip(y, rows)) for k in range(len(variables))]
    require(all(c == 0 for c in combined), f"{what}: the multipliers leave {combined} on the variables")
    bound = sum(v * b for v, b in zip(y, rhs))
    require(bound < 0, f"{what}: the multipliers give 0 ≤ {bound}, not a contradiction")
    used = ", ".join(f"{v}·({k + 1})" for k, v in enumerate(y) if v)
    return f"{what}: negation infeasible, Farkas multipliers {used} give 0 ≤ {bound} (exact)"


@contextmanager
def interval_dps(dps):
    """Scoped precision for ``mpmath.iv`` (which has no ``workdps``): restored on exit."""
    saved = iv.prec
    iv.dps = dps
    try:
        yield iv
    finally:
        iv.prec = saved
