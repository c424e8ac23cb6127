"""High-precision constants of uniform causal attention (C3, C4), at any precision.

* ``x*`` — the continuum worst prefix cut, root in (0, 1) of ``x (2 − ln x) = 1``:
  ``x* = exp(2 + W₋₁(−e^{−2}))``;
* ``φ*  = −x* ln x* = 1 − 2x*`` — the continuum prefix capacity;
* ``(a*, b*)`` — the continuum worst bipartite cut (key and query fractions),
  solving ``b = 1 − a + a ln a`` (volume balance) and ``ln a · (1 − a/b) = ln b``
  (stationarity along the balance curve); ``φ_bip* = 1 − 2a + 2a ln(a/b)``, the
  continuum cut there (the volume is 1).

Every function takes ``dps`` and works inside ``mpmath.workdps``; global
precision is never touched.  Results are ``mpmath.mpf`` at the requested
precision (computed with guard digits).
"""
from __future__ import annotations

import mpmath

from attention_transport.errors import AttentionTransportError

__all__ = ["x_star", "phi_star", "bipartite_star", "constants"]

_GUARD = 10


def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 5:
        raise AttentionTransportError(f"dps must be an integer >= 5; got {dps!r}.")


def x_star(dps=30):
    """``x* = exp(2 + W₋₁(−e^{−2}))`` at ``dps`` significant digits.

    Examples
    --------
    >>> mpmath.nstr(x_star(20), 20)
    '0.31784443289937268383'
    """
    _check_dps(dps)
    with mpmath.workdps(dps + _GUARD):
        x = mpmath.exp(2 + mpmath.lambertw(-mpmath.exp(-2), -1).real)
    with mpmath.workdps(dps):
        return +x


def phi_star(dps=30):
    """``φ* = 1 − 2x*`` (equal to ``−x* ln x*`` by the balance equation)."""
    _check_dps(dps)
    with mpmath.workdps(dps + _GUARD):
        phi = 1 - 2 * x_star(dps + _GUARD)
    with mpmath.workdps(dps):
        return +phi


def bipartite_star(dps=30):
    """``(φ_bip*, a*, b*)`` by ``mpmath.findroot`` on the balance and stationarity equations.

    Returns
    -------
    tuple of mpmath.mpf
    """
    _check_dps(dps)
    with mpmath.workdps(dps + _GUARD):
        def balance(a, b):
            return b - (1 - a + a * mpmath.log(a))

        def stationary(a, b):
            return mpmath.log(a) * (1 - a / b) - mpmath.log(b)

        a, b = mpmath.findroot([balance, stationary], (mpmath.mpf("0.2168"), mpmath.mpf("0.4517")))
        phi = 1 - 2 * a + 2 * a * mpmath.log(a / b)
    with mpmath.workdps(dps):
        return +phi, +a, +b


def constants(dps=30):
    """All constants as decimal strings of exactly ``dps`` significant digits."""
    phi_b, a, b = bipartite_star(dps)
    def digits(v):
        return mpmath.nstr(v, dps, strip_zeros=False)

    return {
        "x_star": digits(x_star(dps)),
        "phi_star": digits(phi_star(dps)),
        "phi_bip_star": digits(phi_b),
        "a_star": digits(a),
        "b_star": digits(b),
    }
