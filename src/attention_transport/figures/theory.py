"""The theory figures F1–F4, one function each, computed from the package's own functions."""
from __future__ import annotations

import numpy as np

from attention_transport.figures.style import LINES, OKABE_ITO, finish, new_figure, style
from attention_transport.provenance import stamp_text

__all__ = ["f1_uniform_causal_landscape", "f2_capacity_scaling", "f3_bipartite_landscape", "f4_orientation_blindness"]


def f1_uniform_causal_landscape(ns=(5, 12, 40, 400), *, stamp=None):
    """F1: ``φ_n(t)`` against ``t/n`` for several n, the continuum curve, ``x*``, ``φ*`` and the floor 1/5.

    The continuum curve is C3's ``continuum_landscape`` (sympy) evaluated by
    ``lambdify``; the finite-n curves come from the structural sums (C1/C2);
    ``x*`` and ``φ*`` from :mod:`attention_transport.numerics.constants`.
    """
    import sympy as sp

    from attention_transport.numerics.constants import phi_star, x_star
    from attention_transport.numerics.landscapes import prefix_landscape_from_sums
    from attention_transport.numerics.patterns import parse_pattern
    from attention_transport.theory import uniform_causal as uc

    phi_expr = uc.continuum_landscape()[0]
    phi_cont = sp.lambdify(uc.x, phi_expr, "numpy")
    xs, ps = float(x_star(20)), float(phi_star(20))
    with style():
        fig, axes = new_figure(2.5)
        ax = axes[0, 0]
        grid = np.linspace(1e-4, 1 - 1e-4, 800)
        ax.plot(grid, phi_cont(grid), color=OKABE_ITO[0], lw=1.3, label="continuum (n → ∞)")
        pattern = parse_pattern("uniform-causal")
        markers = "os^D"
        for k, n in enumerate(ns):
            s = pattern.sums(n)
            land = prefix_landscape_from_sums(s.r, s.c)
            t = land.t
            marks = {"marker": markers[k % 4], "ms": 2.5} if n <= 40 else {}
            ax.plot(t / n, land.phi, lw=0.8, color=LINES[1 + k % 6], label=f"n = {n} (min {land.capacity:.4f})",
                    **marks)
        ax.axhline(0.2, color="#777777", ls="--", lw=0.8, label="floor 1/5 (paper)")
        ax.axvline(xs, color="#777777", ls=":", lw=0.8)
        ax.plot([xs], [ps], marker="*", ms=7, color=OKABE_ITO[0], zorder=5, ls="none",
                label=f"(x*, φ*) = ({xs:.4f}, {ps:.4f})")
        ax.set_xlabel("cut position t/n (fraction of tokens left of the cut)")
        ax.set_ylabel("prefix conductance φ(t)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.legend(loc="lower right", frameon=False)
        ax.set_title("F1  Uniform causal attention: prefix landscape")
        return finish(fig, stamp or stamp_text())


_F2_PATTERNS = ("uniform-causal", "window:w=4", "window:w=16", "window:w=64", "sink-window:s=4,w=16",
                "dilated:w=16,k=2", "exp-decay:m=0.1", "power-law:p=1.0")


def f2_capacity_scaling(patterns=_F2_PATTERNS, ns=None, *, stamp=None):
    """F2: prefix capacity against n on log–log axes, with the floor 1/5 and the C5 asymptote ``(w − 1)/(2n)``.

    Each capacity is computed from the pattern's structural sums; the piercing
    point marked on a curve is the first n of the grid whose capacity is below
    1/5 (the exact first n for windows is ⌊5(w − 1)/2⌋ + 2, proven in C5).
    """
    from attention_transport.numerics.landscapes import prefix_landscape_from_sums
    from attention_transport.numerics.patterns import parse_pattern

    if ns is None:
        ns = np.unique(np.round(np.logspace(np.log10(3), 5, 46)).astype(int))
    with style():
        fig, axes = new_figure(2.9)
        ax = axes[0, 0]
        for k, spec in enumerate(patterns):
            pattern = parse_pattern(spec)
            caps = []
            for n in ns:
                s = pattern.sums(int(n))
                caps.append(prefix_landscape_from_sums(s.r, s.c, s.s, s.u).capacity)
            caps = np.array(caps)
            color = LINES[k % len(LINES)]
            ls = "-" if k < 4 else "-."
            ax.plot(ns, caps, color=color, ls=ls, label=pattern.spec)
            below = np.flatnonzero(caps < 0.2)
            if below.size:
                i = below[0]
                ax.plot([ns[i]], [caps[i]], marker="v", color=color, ms=3.5, ls="none")
            if pattern.name == "window":
                w = pattern.w
                big = ns[ns >= 2 * w]
                ax.plot(big, (w - 1) / (2.0 * big), color="#000000", ls=(0, (1, 2)), lw=0.7, zorder=4)
        ax.axhline(0.2, color="#555555", ls="--", lw=0.8)
        ax.text(ns[-1], 0.21, "floor 1/5", fontsize=6, va="bottom", ha="right")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sequence length n (tokens)")
        ax.set_ylabel("prefix capacity min_t φ(t)")
        ax.set_title("F2  Capacity against n\n(black dotted: C5's (w − 1)/(2n); ▼: first grid n below 1/5)")
        ax.legend(loc="lower left", ncol=2, frameon=False)
        return finish(fig, stamp or stamp_text())


def f3_bipartite_landscape(n=160, *, stamp=None):
    """F3: the bipartite landscape ``φ(a/n, b/n)`` of uniform causal attention as a heat map.

    Marks the finite-n minimum (a*, b*) (:func:`bipartite_minimum`), the
    continuum optimum from :func:`~attention_transport.numerics.constants.bipartite_star`
    and the prefix cuts ``a = b`` with their worst point.
    """
    import matplotlib.colors as mcolors

    from attention_transport.numerics.constants import bipartite_star
    from attention_transport.numerics.landscapes import bipartite_landscape, bipartite_minimum, prefix_landscape
    from attention_transport.numerics.patterns import parse_pattern

    A = parse_pattern("uniform-causal").dense(n)
    M = bipartite_landscape(A)
    best = bipartite_minimum(A)
    pre = prefix_landscape(A)
    phi_c, a_c, b_c = (float(v) for v in bipartite_star(20))
    with style():
        fig, axes = new_figure(3.0)
        ax = axes[0, 0]
        frac = np.arange(n + 1) / n
        im = ax.pcolormesh(frac, frac, np.ma.masked_invalid(M), shading="nearest", cmap="viridis",
                           norm=mcolors.LogNorm(vmin=0.24, vmax=1.0))
        cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
        cb.set_label("conductance φ(a, b) (log scale)")
        cs = ax.contour(frac, frac, np.nan_to_num(M, nan=1.0), levels=[0.26, 0.3, 0.4, 0.6], colors="white",
                        linewidths=0.5)
        ax.clabel(cs, fontsize=5, fmt="%.2f")
        ax.plot([0, 1], [0, 1], color="white", lw=0.8, ls="--", label="prefix cuts a = b")
        ax.plot([pre.t_star / n], [pre.t_star / n], marker="s", mfc="white", mec="black", ms=3.5, ls="none",
                label=f"worst prefix cut: φ = {pre.capacity:.4f}")
        ax.plot([best.a_star / n], [best.b_star / n], marker="o", color=OKABE_ITO[6], mec="black", ms=4,
                ls="none", label=f"(a*, b*)/n at n = {n}: φ_bip = {best.phi:.4f}")
        ax.plot([a_c], [b_c], marker="+", color="black", ms=7, mew=1.2, ls="none",
                label=f"continuum optimum: φ_bip* = {phi_c:.4f}")
        ax.set_xlabel("a/n (fraction of keys left of the cut)")
        ax.set_ylabel("b/n (fraction of queries left of the cut)")
        ax.set_aspect("equal")
        ax.set_title(f"F3  Bipartite landscape, uniform causal, n = {n}")
        ax.legend(loc="lower right", frameon=True, framealpha=0.9, fontsize=5)
        return finish(fig, stamp or stamp_text())


def f4_orientation_blindness(n=24, beta=2.0, seed=0, *, stamp=None):
    """F4: symmetric spectra are orientation-blind (C6) and G carries direction (C7).

    Left: the normalised-Laplacian spectra of a random causal softmax head A and
    of Aᵀ, computed separately.  Right: along ``A_γ = ((1+γ)A + (1−γ)Aᵀ)/2`` the
    Fiedler value, the prefix capacity and the spectral radius of S stay flat
    while ``G(A_γ)`` follows ``|γ| G(A)``.
    """
    from attention_transport.numerics.landscapes import prefix_landscape
    from attention_transport.numerics.operators import asymmetry_coefficient
    from attention_transport.numerics.patterns import parse_pattern
    from attention_transport.numerics.spectral import laplacian_spectrum, spectral_gap

    A = parse_pattern(f"random-softmax:beta={beta},seed={seed}").dense(n)
    spec_a, spec_t = laplacian_spectrum(A), laplacian_spectrum(A.T)
    gammas = np.linspace(-1, 1, 41)
    rows = []
    for g in gammas:
        Ag = ((1 + g) * A + (1 - g) * A.T) / 2
        rows.append((spectral_gap(Ag), prefix_landscape(Ag).capacity, asymmetry_coefficient(Ag)))
    lam2, cap, G = np.array(rows).T
    G1 = asymmetry_coefficient(A)
    with style():
        fig, axes = new_figure(2.2, ncols=2)
        ax = axes[0, 0]
        idx = np.arange(1, n + 1)
        ax.plot(idx, spec_a, marker="o", ms=3, ls="none", mfc="none", color=OKABE_ITO[5], label="A")
        ax.plot(idx, spec_t, marker="x", ms=2.5, ls="none", color=OKABE_ITO[6], label="Aᵀ")
        ax.set_xlabel("eigenvalue index k")
        ax.set_ylabel("λ_k of L = I − S")
        ax.set_title(f"spectra (max |Δ| = {np.max(np.abs(spec_a - spec_t)):.1e})")
        ax.legend(frameon=False, loc="upper left")
        ax = axes[0, 1]
        ax.plot(gammas, G, color=OKABE_ITO[6], label="G(A_γ)")
        ax.plot(gammas, np.abs(gammas) * G1, color=OKABE_ITO[0], ls=":", lw=1.2, label="|γ| G(A)")
        ax.plot(gammas, lam2, color=OKABE_ITO[5], label="λ₂(L)")
        ax.plot(gammas, cap, color=OKABE_ITO[3], ls="--", label="prefix capacity")
        ax.set_xlabel("γ (1: A, −1: Aᵀ)")
        ax.set_ylabel("value (dimensionless)")
        ax.set_title("along A_γ")
        ax.legend(frameon=False, loc="upper center", fontsize=5)
        fig.suptitle(f"F4  Orientation blindness: random causal head, n = {n}", fontsize=7)
        return finish(fig, stamp or stamp_text())


def f8_power_law_map(ps_floor=None, ps_rate=None, *, n=10 ** 5, stamp=None):
    """F8: the law map of the power-law family ``κ(d) = (d + 1)^{−p}`` (C9, L3), with the numerics on top.

    Top: the limit floor ``f(p) = 1 − 2x_b(p)`` for ``0 ≤ p < 1`` (:func:`theory.laws.power_floor`), the
    paper's 1/5 and the critical exponent ``p_c`` where f crosses it, and the structural capacity ``φ_n``
    at ``n`` (dots).  Bottom: the law's exponent ``α(p)`` (0, then ``1 − p``, then −1; logarithmic factors at
    p = 1 and 2) against the measured slope ``d ln φ_n / d ln n`` between ``n/10`` and ``n``.
    """
    import mpmath

    from attention_transport.numerics.patterns import parse_pattern
    from attention_transport.numerics.structured import pattern_prefix_landscape
    from attention_transport.theory import laws

    ps_floor = np.linspace(0.0, 0.95, 39) if ps_floor is None else np.asarray(ps_floor, dtype=float)
    ps_rate = np.linspace(0.0, 4.0, 33) if ps_rate is None else np.asarray(ps_rate, dtype=float)
    floor = [float(laws.power_floor(float(p), 15)) for p in ps_floor]
    p_c = float(laws.critical_exponent("1/5", 15))

    def phi(p, m):
        return pattern_prefix_landscape(parse_pattern(f"power-law:p={p:g}"), int(m)).capacity

    dots = ps_floor[::4]
    measured = [phi(p, n) for p in dots]
    slope = [np.log(phi(p, n) / phi(p, n // 10)) / np.log(10.0) for p in ps_rate]
    alpha = np.where(ps_rate < 1, 0.0, np.where(ps_rate < 2, 1 - ps_rate, -1.0))
    with mpmath.workdps(15), style():
        fig, axes = new_figure(4.2, nrows=2)
        ax = axes[0, 0]
        ax.plot(ps_floor, floor, color=OKABE_ITO[0], label="limit floor f(p) (L3)")
        ax.plot(dots, measured, "o", color=OKABE_ITO[1], ms=3, label=f"φ_n at n = {n:.0e}")
        ax.axhline(0.2, color="#555555", ls="--", lw=0.8)
        ax.axvline(p_c, color="#555555", ls=":", lw=0.8)
        ax.text(p_c, 0.21, f" p_c = {p_c:.4f}", fontsize=6, va="bottom")
        ax.set_xlabel("exponent p of κ(d) = (d + 1)^−p")
        ax.set_ylabel("prefix capacity")
        ax.set_title("F8  The power-law family: floor for p < 1, decay beyond")
        ax.legend(loc="upper right", frameon=False)
        ax = axes[1, 0]
        ax.plot(ps_rate, alpha, color=OKABE_ITO[0], label="law exponent α (ln-factors at p = 1, 2)")
        ax.plot(ps_rate, slope, "o", color=OKABE_ITO[1], ms=3, label=f"measured slope, n = {n // 10:.0e} → {n:.0e}")
        for p0 in (1, 2):
            ax.axvline(p0, color="#555555", ls=":", lw=0.6)
        ax.set_xlabel("exponent p")
        ax.set_ylabel("d ln φ_n / d ln n")
        ax.legend(loc="upper right", frameon=False)
        return finish(fig, stamp or stamp_text())
