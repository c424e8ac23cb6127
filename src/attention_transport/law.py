"""The capacity law of a pattern or a kernel, checked against the computed capacity: ``attention-transport law``.

:func:`law_report` asks the pattern for its derived law (``Pattern.capacity_law``, from
``theory/laws.py``); where no theorem applies it *fits* ``φ_n ≈ C n^α`` over the given n and
says ``fitted``, with the fit's standard error and the n range — a fit is never passed off
as a law.  With lengths, every row puts the law (and its next-order form, where derived)
and every bound beside the structural capacity ``φ_n`` computed from the pattern.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from attention_transport.errors import AttentionTransportError, UsageError

__all__ = ["law_report", "kernel_from_text", "crossing", "FIT_N", "format_report"]

#: lengths of the fit when no theorem applies and none are given
FIT_N = (1024, 2048, 4096, 8192, 16384, 32768, 65536)


def _digits(value, dps):
    """``dps`` significant digits of a sympy or mpmath number (converted at ``dps + 5`` digits, never via float)."""
    with mpmath.workdps(dps + 5):
        if isinstance(value, sp.Basic):
            value = mpmath.mpf(str(sp.N(value, dps + 5)))
        return mpmath.nstr(mpmath.mpf(value), dps, strip_zeros=False)


def _capacity(pattern, nv):
    from attention_transport.numerics.structured import pattern_prefix_landscape

    return float(pattern_prefix_landscape(pattern, int(nv)).capacity)


def kernel_from_text(text, params=()):
    """``κ(d)`` from a sympy expression in ``d`` with ``name=value`` parameters; one-line errors.

    >>> kernel_from_text("(d+1)**(-p)", ["p=3/2"])
    (d + 1)**(-3/2)
    """
    from attention_transport.theory.laws import d

    values = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param must be NAME=VALUE; got {item!r}")
        try:
            values[sp.Symbol(name.strip())] = sp.nsimplify(sp.sympify(value, rational=True))
        except (sp.SympifyError, TypeError, SyntaxError) as exc:
            raise UsageError(f"--param {name.strip()} is not a number; got {value!r} ({exc})") from None
    try:
        expr = sp.sympify(text, locals={"d": d, "Piecewise": sp.Piecewise, "exp": sp.exp, "log": sp.log},
                          rational=True)
    except (sp.SympifyError, TypeError, SyntaxError) as exc:
        raise UsageError(f"--kernel is not an expression in d; got {text!r} ({exc})") from None
    expr = expr.subs(values)
    free = expr.free_symbols - {d}
    if free:
        raise UsageError(f"--kernel has parameters without values: {', '.join(sorted(map(str, free)))}; give them "
                         f"with --param NAME=VALUE (got {text!r})")
    for k in range(0, 64):
        val = expr.subs(d, k)
        if not (val.is_real and val.is_finite and val >= 0):
            raise UsageError(f"a kernel must be finite and nonnegative at every d >= 0; got κ({k}) = {val}")
    if all(expr.subs(d, k) == 0 for k in range(64)):
        raise UsageError(f"a kernel must be positive somewhere; got κ(d) = 0 for d = 0..63 ({text!r})")
    return expr


def _fit(pattern, ns):
    """Least squares of ``log φ`` on ``log n``: exponent, coefficient and the exponent's standard error."""
    if len(set(ns)) < 3:
        raise UsageError(f"a fitted law needs at least 3 distinct --n; got {sorted(set(ns))}")
    phis = np.array([_capacity(pattern, m) for m in ns])
    if np.any(phis <= 0):
        return {"alpha": None, "coefficient": None, "alpha_stderr": None, "n_range": [min(ns), max(ns)],
                "n_used": list(ns), "phi": phis.tolist(), "note": "φ_n = 0 at some n: no power law fits"}
    X = np.vstack([np.log(ns), np.ones(len(ns))]).T
    coef, res, *_ = np.linalg.lstsq(X, np.log(phis), rcond=None)
    dof = len(ns) - 2
    resid = np.log(phis) - X @ coef
    sigma2 = float(resid @ resid) / dof if dof > 0 else float("nan")
    cov = sigma2 * np.linalg.inv(X.T @ X)
    return {"alpha": float(coef[0]), "coefficient": float(math.exp(coef[1])),
            "alpha_stderr": float(math.sqrt(cov[0, 0])), "n_range": [int(min(ns)), int(max(ns))],
            "n_used": [int(m) for m in ns], "phi": phis.tolist()}


def law_report(pattern=None, *, kernel=None, ns=None, dps=20):
    """The law of ``pattern`` (or of the causal ``kernel``, a sympy expression in ``d``) as a JSON-ready dict.

    A kernel becomes a :class:`~attention_transport.numerics.patterns.kernels.SymbolicKernel`, so it is
    fitted when no theorem applies and its φ_n is computed at ``ns`` like any pattern's.

    Keys: ``alpha``, ``beta``, ``coefficient`` (φ_n ~ coefficient · n^alpha · (ln n)^beta),
    ``law``, ``derivation`` (``certified`` when certified upper and lower bounds for every large n pin the
    law, ``symbolic`` when it is derived but not pinned so, ``fitted`` when no theorem applies), ``limit_x_star``,
    ``next_order``, ``regime``, ``claim``, ``bounds`` and, with ``ns``, ``rows``: per n the computed φ_n
    (patterns only), the law, its next-order form where derived, each bound and whether it holds.
    """
    if (pattern is None) == (kernel is None):
        raise UsageError("law needs exactly one of SPEC or --kernel")
    if kernel is not None:
        from attention_transport.numerics.patterns.kernels import SymbolicKernel

        pattern = SymbolicKernel(kernel)
    law = pattern.capacity_law()
    spec = pattern.spec
    if law is None:
        fit = _fit(pattern, sorted(set(ns or FIT_N)))
        from attention_transport.theory.laws import rate_floor

        from attention_transport.theory.laws import sink_share_floor

        rate, share = pattern.reach_back_rate(), pattern.sink_share()
        bounds = [rate_floor(rate)] if rate is not None else []
        bounds += [sink_share_floor(*share)] if share is not None else []
        rec = {"pattern": spec, "derivation": "fitted", "alpha": fit["alpha"], "beta": 0,
               "coefficient": fit["coefficient"], "law": None if fit["alpha"] is None else
               f"{fit['coefficient']:.6g} · n^{fit['alpha']:.4f}", "limit_x_star": None,
               "bounds": [b.to_json() for b in bounds], "fit": fit,
               "note": "no theorem of theory/laws.py applies to this pattern: a least-squares fit over the n "
                       "range, not a law"}
        rec["rows"] = [{"n": int(m), "phi": phi, "bounds": [_bound_row(b, m, phi, dps) for b in bounds]}
                       for m, phi in zip(fit["n_used"], fit["phi"])]
        return rec
    pinned, order = _pinned(law)
    derivation = "certified" if pinned else "symbolic"
    rec = {"pattern": spec, "derivation": derivation, "regime": law.regime,
           "alpha": str(law.alpha), "beta": law.beta, "coefficient": _digits(law.coefficient, dps),
           "coefficient_exact": str(law.coefficient) if isinstance(law.coefficient, sp.Basic) else None,
           "law": law.law, "limit_x_star": None if law.x_star is None else _digits(law.x_star, dps),
           "next_order": law.next_order, "claim": law.claim, "order_certified": order,
           "bounds": [b.to_json() for b in law.bounds]}
    if ns:
        rows = []
        for m in ns:
            row = {"n": int(m), "law": _digits(law.value(m, dps), dps)}
            if law.corrected is not None:
                row["law_next_order"] = _digits(law.value(m, dps, corrected=True), dps)
            row["phi"] = _capacity(pattern, m)
            row["relative_error"] = float(mpmath.mpf(row["law"]) / row["phi"] - 1) if row["phi"] > 0 else None
            row["bounds"] = [_bound_row(b, m, row["phi"], dps) for b in law.bounds]
            rows.append(row)
        rec["rows"] = rows
    return rec


def _pinned(law):
    """``(pinned, order)``: certified upper and lower bounds both asymptotic to the law (pinned), or both of
    its order ``n^α (ln n)^β`` (the order is proven).

    Each bound is judged by ``lim bound/law`` as n → ∞, taken by sympy (:func:`_ratio_limit`): a finite positive
    limit proves the order, a limit of 1 pins the law.  Where sympy gives no number, the ratio is judged
    numerically instead: it must settle between n = 10¹⁰⁰ and 10²⁰⁰.  So far out, corrections of relative size
    ``n^−0.05`` or ``1/ln n`` have settled, and a ratio that grows like ``ln n`` or ``ln ln n`` has not; a slower
    correction (``n^−0.01``, as the power law's near p = 1 or 2) has not settled either, which is why the limit
    comes first."""
    judged = {"upper": [], "lower": []}  # (settled, limit) per certified bound
    for b in law.bounds:
        if b.certified:
            judged[b.side].append(_order_ratio(b, law))
    if sp.sympify(law.alpha) == 0 and law.beta == 0 and judged["lower"] and not judged["upper"]:
        judged["upper"].append((True, float(1 / law.value(10 ** 100))))  # a floor's order: φ_n ≤ 1 always
    order = all(any(settled for settled, _ in judged[side]) for side in ("upper", "lower"))
    pinned = order and all(any(settled and abs(limit - 1) < 1e-3 for settled, limit in judged[side])
                           for side in ("upper", "lower"))
    return pinned, order


def _ratio_limit(bound, law):
    """``lim_{n→∞} bound/law`` as a float (``inf`` for a bound of larger order), or None where sympy gives no
    number (an expression it cannot take the limit of, such as a ``Min``)."""
    from attention_transport.theory.laws import n

    try:
        rate = sp.sympify(law.coefficient) * n ** sp.sympify(law.alpha) * sp.log(n) ** law.beta
        lim = sp.limit(sp.sympify(bound.expression) / rate, n, sp.oo)
    except (NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    if lim in (sp.oo, -sp.oo):
        return float("inf")
    return float(lim) if lim.is_real and lim.is_finite else None


def _order_ratio(bound, law):
    """``(settled, limit)`` of bound/law: the symbolic limit where there is one, else the numeric judgement."""
    lim = _ratio_limit(bound, law)
    if lim is not None:
        return 0 < lim < float("inf"), lim
    near, far = (float(bound.value(m) / law.value(m)) for m in (10 ** 100, 10 ** 200))
    return far > 0 and abs(near / far - 1) < 1e-2, far


def _bound_row(b, m, phi, dps):
    """One bound at one n: its value and whether the computed φ_n obeys it (None below its n_min)."""
    entry = {"side": b.side, "expression": str(b.expression)}
    if m < b.n_min:
        entry["value"], entry["holds"], entry["note"] = None, None, f"applies from n = {b.n_min}"
        return entry
    entry["value"] = _digits(b.value(m, dps), dps)
    val = float(b.value(m, dps))
    entry["holds"] = bool(phi <= val * (1 + 1e-12)) if b.side == "upper" else bool(phi >= val * (1 - 1e-12))
    return entry


def crossing(spec, target, dps=20):
    """The value of the parameter marked ``?`` in ``spec`` at which the limit capacity equals ``target``.

    Families whose limit is a floor depending on the parameter: ``power-law:p=?`` (the critical exponent,
    :func:`~attention_transport.theory.laws.critical_exponent`, to ``dps`` digits) and ``sink-window`` in s
    or w (solved exactly by sympy from the C5s floor).
    """
    from attention_transport.theory import laws

    name, _, body = spec.partition(":")
    items = [it.strip() for it in body.split(",") if it.strip()] if body else []
    marked = [it.split("=")[0].strip() for it in items if it.split("=", 1)[-1].strip() == "?"]
    if len(marked) != 1:
        raise UsageError(f"--crossing needs exactly one parameter written as NAME=? in the spec; got {spec!r}")
    param = marked[0]
    target_q = sp.nsimplify(target, rational=True)
    if name.strip() == "power-law" and param == "p":
        value = laws.critical_exponent(str(target_q), dps)
        return {"param": "p", "value": mpmath.nstr(value, dps, strip_zeros=False), "target": str(target_q),
                "method": "root of cut_p((1 − c)/2) = c (theory.laws.critical_exponent)"}
    if name.strip() == "sink-window" and param in ("s", "w"):
        from attention_transport.theory import sink_window as sw

        known = {}
        for it in items:
            k, _, val = it.partition("=")
            if k.strip() != param:
                known[getattr(sw, k.strip())] = sp.Integer(int(val))
        sym = getattr(sw, param)
        roots = [r for r in sp.solve(sp.Eq(sw.limit_capacity().subs(known), target_q), sym) if r.is_positive]
        if not roots:
            raise AttentionTransportError(f"the sink-window floor never equals {target_q} for positive {param}.")
        return {"param": param, "value": mpmath.nstr(mpmath.mpf(sp.N(roots[0], dps + 5)), dps, strip_zeros=False),
                "exact": str(roots[0]), "target": str(target_q), "method": "sympy solve of s/(s + 2w) = c (C5s)"}
    raise UsageError(f"--crossing knows power-law:p=? and sink-window:s=?/w=? (families whose limit is a floor in "
                     f"the parameter); got {spec!r}")


def _bound_line(b):
    tag = f"certified, {b['claim']}" if b["certified"] else "not certified"
    sign = "≤" if b["side"] == "upper" else "≥"
    return f"{b['side']} bound: φ_n {sign} {b['expression']} for every n ≥ {b['n_min']} ({tag})"


def format_report(rec):
    """Human-readable lines of :func:`law_report`."""
    what = rec["pattern"]
    lines = [f"{what}: {rec.get('law')}  [{rec['derivation']}"
             + (f", {rec['regime']}, claim {rec['claim']}]" if rec.get("regime") else "]")]
    if rec["derivation"] == "fitted":
        fit = rec["fit"]
        lines.append(f"fitted over n = {fit['n_range'][0]}..{fit['n_range'][1]}: " + (
            fit.get("note") or f"α = {fit['alpha']:.4f} ± {fit['alpha_stderr']:.4f} (standard error)"))
        lines.append(rec["note"])
        lines += [_bound_line(b) for b in rec["bounds"]]
    else:
        lines.append(f"φ_n ~ {rec['coefficient']} · n^{rec['alpha']} · (ln n)^{rec['beta']}; "
                     f"x* = {rec['limit_x_star']}; {rec['next_order']}")
        if rec["order_certified"] and rec["derivation"] != "certified":
            lines.append("the order n^α (ln n)^β is certified: certified upper and lower bounds of that order for "
                         "every n; the constant is derived")
        lines += [_bound_line(b) for b in rec["bounds"]]
        if not rec["bounds"]:
            lines.append("no certified bound for every n applies to this family (L1 needs a finite band, L2 a "
                         "reach-back mass per cut, L4 a summable kernel)")
    for row in rec.get("rows", []):
        parts = [f"n = {row['n']}"]
        if "phi" in row:
            parts.append(f"φ_n = {row['phi']:.10g}")
        if "law" in row:
            parts.append(f"law {float(row['law']):.10g}")
        if "law_next_order" in row:
            parts.append(f"next order {float(row['law_next_order']):.10g}")
        if row.get("relative_error") is not None:
            parts.append(f"law/φ − 1 = {row['relative_error']:.3e}")
        for b in row.get("bounds", []):
            if b["value"] is None:
                parts.append(f"{b['side']} bound {b['note']}")
            else:
                ok = "" if "holds" not in b else (" ✓" if b["holds"] else " VIOLATED")
                parts.append(f"{b['side']} {float(b['value']):.10g}{ok}")
        lines.append("  ".join(parts))
    return "\n".join(lines)
