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
    infeasibility of its negation over the reals (``scipy.optimize.linprog``),
    valid for every n, t.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import sympy as sp
from mpmath import iv
from scipy.optimize import linprog

__all__ = ["KINDS", "CheckFailed", "require", "Context", "Step", "Claim", "StepResult", "ClaimResult",
           "run_claim", "symbolic_zero", "infeasible", "interval_dps"]

KINDS = ("symbolic", "exact", "interval", "enumeration", "linear-arithmetic")


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
class Step:
    """One checked step of a claim."""

    statement: str
    kind: str
    method: str
    check: Callable[[Context], str]

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"step kind must be one of {', '.join(KINDS)}; got {self.kind!r}.")


@dataclass(frozen=True)
class Claim:
    """A claim of docs/theory.md: identifier, title, statement and its ordered steps."""

    id: str
    title: str
    statement: str
    steps: tuple
    notes: str = ""

    @property
    def kinds(self):
        """Checker kinds used, in first-use order."""
        return tuple(dict.fromkeys(s.kind for s in self.steps))


@dataclass
class StepResult:
    step: Step
    ok: bool
    evidence: str
    seconds: float


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


def run_claim(claim, context=None):
    """Run every step of ``claim``; a failing or crashing checker fails its step only."""
    context = context or Context()
    result = ClaimResult(claim)
    for step in claim.steps:
        start = time.perf_counter()
        try:
            evidence, ok = step.check(context), True
        except CheckFailed as exc:
            evidence, ok = f"FAILED: {exc}", False
        except Exception as exc:  # a crashing checker is a failed check, reported, never hidden
            evidence, ok = f"ERROR: {type(exc).__name__}: {exc}", False
        result.steps.append(StepResult(step, ok, evidence, time.perf_counter() - start))
    return result


def symbolic_zero(expr, what):
    """Require that sympy simplifies ``expr`` to 0; return the evidence string."""
    simplified = sp.simplify(expr)
    if simplified != 0:  # harmonic numbers of shifted arguments need their recurrence expanded
        simplified = sp.simplify(sp.expand_func(expr))
    require(simplified == 0, f"{what}: simplifies to {simplified}, not 0")
    return f"{what}: simplify(lhs − rhs) = 0"


def infeasible(variables, constraints, what):
    """Require that the linear system ``constraints`` has no real solution.

    Parameters
    ----------
    variables : sequence of sympy.Symbol
    constraints : sequence of sympy relationals (``<=``, ``>=``), linear in the variables
    what : str
        Description for the evidence line.
    """
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
        rows.append([float(poly.coeff_monomial(v)) for v in variables])
        rhs.append(-float(poly.coeff_monomial(1)))
    res = linprog(np.zeros(len(variables)), A_ub=np.array(rows), b_ub=np.array(rhs),
                  bounds=[(None, None)] * len(variables), method="highs")
    require(res.status == 2, f"{what}: the negation is feasible (linprog status {res.status})")
    return f"{what}: negation infeasible over the reals"


@contextmanager
def interval_dps(dps):
    """Scoped precision for ``mpmath.iv`` (which has no ``workdps``): restored on exit."""
    saved = iv.prec
    iv.dps = dps
    try:
        yield iv
    finally:
        iv.prec = saved
