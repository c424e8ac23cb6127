"""One source for every formula: interval and exact evaluators generated from the sympy expressions that
the symbolic steps check, and a sign prover for general lemmas.

A proof step that checks an identity symbolically and a step that evaluates the same expression on
interval boxes or on rationals must use *one* expression.  :func:`interval_function` compiles a sympy
expression to a function of mpmath intervals (rationals become outward-rounded interval quotients,
floats are refused), :func:`exact_function` evaluates it in :class:`fractions.Fraction` with harmonic
numbers from a table, and :func:`nonnegative` proves ``expr ≥ 0`` (or ``> 0``) for every integer point
of a polyhedron by factoring it into linear factors whose signs an exact Farkas certificate settles.

>>> import sympy as sp
>>> n, k = sp.symbols("n k", integer=True)
>>> nonnegative(1 / k - 1 / n, [k >= 1, k <= n], [n, k]).split(":")[0]
'-1/n + 1/k ≥ 0 on k ≥ 1, k ≤ n'
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from mpmath import iv
from sympy.printing.pycode import PythonCodePrinter

from attention_transport.proofs.core import CheckFailed, infeasible, require

__all__ = ["XLOGX", "with_xlogx", "interval_function", "interval_value", "exact_value", "exact_function",
           "nonnegative"]

#: ``x ln x`` as one function, so that interval evaluation can use a tight enclosure (0 ln 0 = 0)
XLOGX = sp.Function("xlogx")


def with_xlogx(expr, *variables):
    """``expr`` with every ``v ln v`` (v in ``variables``) written as :data:`XLOGX` ``(v)``; the rewrite is
    checked to be an identity."""
    out = expr
    for v in variables:
        out = out.subs(v * sp.log(v), XLOGX(v))
    back = out
    for v in variables:
        back = back.subs(XLOGX(v), v * sp.log(v))
    require(sp.expand(back - expr) == 0, "the x ln x rewrite is not an identity")
    return out


def _iv_xlogx(X):
    """Rigorous enclosure of x ln x on an interval inside [0, 1] (decreasing up to 1/e, then increasing)."""
    lo, hi = X.a, X.b
    require(lo >= 0 and hi <= 1, f"x ln x enclosure needs [0, 1]; got {X}")

    def f(v):
        return iv.mpf(0) if v == 0 else iv.mpf(v) * iv.log(iv.mpf(v))

    e = 1 / iv.e
    flo, fhi = f(lo), f(hi)
    if hi <= e.a:
        return iv.mpf([fhi.a, flo.b])
    if lo >= e.b:
        return iv.mpf([flo.a, fhi.b])
    return iv.mpf([(-(1 / iv.e)).a, max(flo.b, fhi.b)])


_IV_NAMESPACE = {"mpf": iv.mpf, "log": iv.log, "exp": iv.exp, "sqrt": iv.sqrt, "pi": iv.pi, "e": iv.e,
                 "xlogx": _iv_xlogx, "matrix": list, "ImmutableDenseMatrix": list,
                 "MutableDenseMatrix": list}  # a sympy Matrix becomes nested lists


def interval_function(expr, args):
    """Compile ``expr`` to a function of mpmath intervals (call it inside :func:`interval_dps`).

    Rationals become interval quotients ``mpf(p)/mpf(q)``, so no constant is rounded inward; an
    expression with a floating-point number is refused, because its value would not be the one the
    symbolic steps checked.
    """
    floats = expr.atoms(sp.Float)
    if floats:
        raise ValueError(f"a proof formula must be exact; got the float(s) {sorted(map(str, floats))}.")
    return sp.lambdify(args, expr, modules=[_IV_NAMESPACE, "mpmath"])


def interval_value(expr, values):
    """Rigorous interval enclosure of ``expr`` at exact values (``{symbol: Fraction | int}``); call it inside
    :func:`interval_dps`.  The same sympy object the symbolic steps check, evaluated — never re-typed."""
    point = expr.subs({k: sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else sp.Integer(v)
                       for k, v in values.items()})
    free = point.free_symbols
    if free:
        raise ValueError(f"no value for {sorted(map(str, free))} in {expr}.")
    return interval_function(point, ())()


def exact_value(expr, values, harmonic=None):
    """``expr`` evaluated in Fractions at ``values`` (``{symbol: int | Fraction}``).

    Supports sums, products, integer powers, ``min``/``max`` and ``harmonic(k)`` (looked up in the
    table ``harmonic``); anything else (a logarithm, a symbol without a value) is an error.
    """
    if isinstance(expr, sp.Rational):
        return Fraction(int(expr.p), int(expr.q))
    if isinstance(expr, sp.Symbol):
        if expr not in values:
            raise ValueError(f"no value for {expr}.")
        return Fraction(values[expr])
    if isinstance(expr, sp.Add):
        return sum((exact_value(a, values, harmonic) for a in expr.args), Fraction(0))
    if isinstance(expr, sp.Mul):
        out = Fraction(1)
        for a in expr.args:
            out *= exact_value(a, values, harmonic)
        return out
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        return exact_value(expr.base, values, harmonic) ** int(expr.exp)
    if isinstance(expr, (sp.Min, sp.Max)):
        pick = min if isinstance(expr, sp.Min) else max
        return pick(exact_value(a, values, harmonic) for a in expr.args)
    if isinstance(expr, sp.harmonic) and len(expr.args) == 1 and harmonic is not None:
        k = exact_value(expr.args[0], values, harmonic)
        if k.denominator != 1 or k < 0:
            raise ValueError(f"harmonic number of a non-integer {k}.")
        return harmonic[int(k)]
    raise ValueError(f"cannot evaluate {expr!r} in rationals.")


class _FractionPrinter(PythonCodePrinter):
    """Python code in which every rational constant is a ``Fraction`` (integers stay ints)."""

    def _print_Rational(self, expr):
        return f"Fraction({expr.p}, {expr.q})"

    def _print_Half(self, expr):
        return "Fraction(1, 2)"

    def _print_harmonic(self, expr):
        return f"harmonic({self._print(expr.args[0])})"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"


def exact_function(expr, args, harmonic=None):
    """``expr`` compiled to a function of ``args`` computing in Fractions (arguments: ints or Fractions).

    Harmonic numbers are looked up in the table ``harmonic``; a float, a logarithm or any function other
    than ``harmonic``, ``min`` and ``max`` is refused.
    """
    if expr.atoms(sp.Float):
        raise ValueError(f"an exact formula cannot hold floats; got {expr}.")
    allowed = (sp.harmonic, sp.Min, sp.Max)
    others = [f for f in expr.atoms(sp.Function) if not isinstance(f, allowed)]
    if others:
        raise ValueError(f"cannot evaluate {others[0]} in rationals.")

    def lookup(k):
        if Fraction(k).denominator != 1 or k < 0:
            raise ValueError(f"harmonic number of {k}.")
        return harmonic[int(k)]

    f = sp.lambdify(args, expr, modules=[{"Fraction": Fraction, "harmonic": lookup}], printer=_FractionPrinter)

    def exact(*vals):
        out = f(*vals)
        if not isinstance(out, (int, Fraction)):  # e.g. int/int became a float: never a silent rounding
            raise TypeError(f"{expr} at {vals} gave {out!r}, not an exact rational; pass Fractions.")
        return out
    return exact


def _linear_sign(factor, hypotheses, variables, strict):
    """Prove ``factor > 0`` (strict) or ``≥ 0`` on the integer points of ``hypotheses`` (factor linear with
    integer coefficients): the negation ``factor ≤ 0``, resp. ``factor ≤ −1``, must be infeasible."""
    negation = factor <= 0 if strict else factor <= -1
    infeasible(variables, list(hypotheses) + [negation], f"{factor} {'>' if strict else '≥'} 0")


def nonnegative(expr, hypotheses, variables, strict=False):
    """Prove ``expr ≥ 0`` (``> 0`` with ``strict``) on every integer point satisfying ``hypotheses``.

    ``expr`` is factored (sympy ``factor``) into a rational constant times powers of factors linear in
    ``variables`` with integer coefficients; each factor is shown positive or nonnegative by an exact
    Farkas certificate (an even power needs nothing, a denominator must be positive).

    Raises
    ------
    CheckFailed
        If a factor is not linear or its sign does not follow from the hypotheses.
    """
    num, den = sp.fraction(sp.factor(sp.together(expr)))
    signs = []
    for part, is_den in ((num, False), (den, True)):
        const, factors = sp.factor_list(part, *variables)
        require(const != 0 or is_den, f"{expr} is identically 0")
        if const < 0:
            signs.append(-1)
        for base, power in factors:
            poly = sp.Poly(base, *variables)
            require(poly.total_degree() == 1, f"the factor {base} of {expr} is not linear")
            if power % 2 == 0 and not is_den:
                continue  # an even power is ≥ 0; it only matters for strictness, handled below
            try:  # positive, or (numerator only) nonnegative
                _linear_sign(base, hypotheses, variables, strict=is_den or strict)
                continue
            except CheckFailed:
                pass
            try:
                _linear_sign(-base, hypotheses, variables, strict=is_den or strict)
                signs.append(-1)
            except CheckFailed:
                raise CheckFailed(f"the sign of the factor {base} of {expr} does not follow from the hypotheses")
        if strict and not is_den:
            for base, power in factors:
                if power % 2 == 0:  # an even power is > 0 when its base keeps one strict sign
                    try:
                        _linear_sign(base, hypotheses, variables, strict=True)
                    except CheckFailed:
                        _linear_sign(-base, hypotheses, variables, strict=True)
    require(len(signs) % 2 == 0, f"{expr} is ≤ 0 on the hypotheses, not ≥ 0")
    where = ", ".join(str(h).replace(">=", "≥").replace("<=", "≤") for h in hypotheses)
    return f"{expr} {'>' if strict else '≥'} 0 on {where}: each linear factor's sign has a Farkas certificate"
