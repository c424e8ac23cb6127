"""The figures, one function per figure; the CLI (``attention-transport figures``) and the notebooks only call them.

=====  =============================================================  ===========================
id     what it shows                                                  computed from
=====  =============================================================  ===========================
F1     uniform-causal landscape φ(t/n): continuum and finite n,       theory (C2, C3), constants
       worst cut x*, φ*, the floor 1/5
F2     prefix capacity against n (log–log) for the pattern library,   structural sums (C1), C5
       the floor, the (w − 1)/(2n) asymptote, where each pierces
F3     bipartite landscape φ(a/n, b/n) of uniform causal attention,   dense landscape, constants
       its minimum (a*, b*), the continuum optimum, the prefix cuts
F4     orientation blindness: spectra of A and Aᵀ; along A_γ the      numerics (C6, C7)
       symmetric diagnostics stay flat while G = |γ| G(A)
F5     the two-axis diagnostic (φ, G) per head, by label and layer    a validation report
       group
F6     polarity: φ's LC-AUROC − 1/2 per benchmark and layer           validation reports
F7     LC-AUROC of transport features against the baselines, with     validation reports
       bootstrap intervals
=====  =============================================================  ===========================

Every figure is sized for a single paper column (3.4 in), uses the Okabe–Ito
colour-blind-safe palette, labels its axes with units (positions as fractions
of the sequence length, counts in tokens), and carries a stamp with the
package version and commit.  Every plotted number is computed here from the
package's own functions or read from a validation report; nothing is typed in.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

__all__ = ["FIGURES", "OKABE_ITO", "git_commit", "stamp_text", "f1_uniform_causal_landscape", "f2_capacity_scaling",
           "f3_bipartite_landscape", "f4_orientation_blindness", "f5_two_axis", "f6_polarity", "f7_lc_auroc",
           "write_figures", "real_model_figures", "load_reports", "bundled_reports"]

#: Okabe & Ito (2008) colour-blind-safe palette (black first).
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: the palette for lines and markers on white: Okabe–Ito without yellow (too faint)
LINES = tuple(c for c in OKABE_ITO if c != "#F0E442")
COLUMN_WIDTH = 3.4  #: inches, one column of a two-column paper

FIGURES = {
    "F1": "uniform-causal prefix landscape",
    "F2": "prefix capacity against n",
    "F3": "bipartite landscape",
    "F4": "orientation blindness",
    "F5": "two-axis diagnostic (φ, G) per head",
    "F6": "polarity of φ per benchmark and layer",
    "F7": "LC-AUROC of transport features and baselines",
}
THEORY_FIGURES = ("F1", "F2", "F3", "F4")
REPORT_FIGURES = ("F5", "F6", "F7")

_RC = {"font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "legend.fontsize": 6, "xtick.labelsize": 6,
       "ytick.labelsize": 6, "lines.linewidth": 1.0, "axes.prop_cycle": None, "savefig.dpi": 200,
       "figure.dpi": 100}


def _style():
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=LINES[1:] + LINES[:1])
    return mpl.rc_context(rc)


def git_commit():
    """Short commit of the source tree the package runs from, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def stamp_text():
    """``attention-transport <version> · <commit>``: the stamp every figure carries."""
    from attention_transport import __version__

    return f"attention-transport {__version__} · {git_commit() or 'no-git'}"


def _figure(height, ncols=1, nrows=1, **kw):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH, height), squeeze=False, **kw)
    return fig, axes


def _finish(fig, stamp):
    fig.text(0.995, 0.003, stamp, ha="right", va="bottom", fontsize=4.5, color="#555555")
    fig.tight_layout(rect=(0, 0.025, 1, 1))
    return fig


# --------------------------------------------------------------------------------------------- theory
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
    with _style():
        fig, axes = _figure(2.5)
        ax = axes[0, 0]
        grid = np.linspace(1e-4, 1 - 1e-4, 800)
        ax.plot(grid, phi_cont(grid), color=OKABE_ITO[0], lw=1.3, label="continuum (n → ∞)")
        pattern = parse_pattern("uniform-causal")
        markers = "os^D"
        for k, n in enumerate(ns):
            s = pattern.sums(n)
            land = prefix_landscape_from_sums(s.r, s.c)
            t = land.t
            style = {"marker": markers[k % 4], "ms": 2.5} if n <= 40 else {}
            ax.plot(t / n, land.phi, lw=0.8, color=LINES[1 + k % 6], label=f"n = {n} (min {land.capacity:.4f})",
                    **style)
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
        return _finish(fig, stamp or stamp_text())


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
    with _style():
        fig, axes = _figure(2.9)
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
                w = pattern.params["w"]
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
        return _finish(fig, stamp or stamp_text())


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
    with _style():
        fig, axes = _figure(3.0)
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
        return _finish(fig, stamp or stamp_text())


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
    with _style():
        fig, axes = _figure(2.2, ncols=2)
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
        return _finish(fig, stamp or stamp_text())


# ------------------------------------------------------------------------------------------ reports
def bundled_reports():
    """Paths of the validation reports shipped with the package (with their provenance)."""
    root = Path(__file__).resolve().parent / "data" / "reports"
    return sorted(root.glob("*.json"))


def load_reports(paths):
    """Read validation reports (``report.json`` files), with a clear error for a missing or foreign file."""
    reports = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise FileNotFoundError(f"report file not found: {p}")
        try:
            rep = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p} is not JSON ({exc.msg}).") from None
        missing = [k for k in ("model", "benchmark", "features", "probes", "baselines", "heads") if k not in rep]
        if missing:
            raise ValueError(f"{p} is not a validation report; missing key(s) {', '.join(missing)}.")
        reports.append(rep)
    return reports


def _none_to_nan(x):
    return np.array([[np.nan if v is None else v for v in row] for row in x], dtype=float)


def _short(model):
    return Path(model).name if ("/" in model or model.endswith(".gguf")) else model


def f5_two_axis(report, *, stamp=None):
    """F5: per head, the class means of (φ, G), faithful and hallucinated, one panel per third of the layers."""
    heads = report["heads"]
    phi = {k: _none_to_nan(v) for k, v in heads["phi"].items()}
    G = {k: _none_to_nan(v) for k, v in heads["G"].items()}
    n_layers = phi["faithful"].shape[0]
    n_groups = min(3, n_layers)
    thirds = np.array_split(np.arange(n_layers), n_groups)
    names = {1: ("all",), 2: ("early", "late"), 3: ("early", "middle", "late")}[n_groups]
    with _style():
        fig, axes = _figure(1.6, ncols=n_groups, sharey=True)
        for ax, layers, name in zip(axes[0], thirds, names):
            for label, color, marker in (("faithful", OKABE_ITO[5], "o"), ("hallucinated", OKABE_ITO[6], "^")):
                ax.scatter(phi[label][layers].ravel(), G[label][layers].ravel(), s=3, marker=marker, color=color,
                           alpha=0.6, linewidths=0, label=label)
            ax.set_title(f"{name} layers {layers[0]}–{layers[-1]}")
            ax.set_xlabel("capacity φ")
        axes[0, 0].set_ylabel("asymmetry G")
        axes[0, 0].legend(frameon=False, loc="lower left", markerscale=2, fontsize=4.5, handletextpad=0.1)
        fig.suptitle(f"F5  (φ, G) per head, class means: {_short(report['model'])}, {report['benchmark']}, "
                     f"{report['n_items']} items", fontsize=7)
        return _finish(fig, stamp or stamp_text())


def f6_polarity(reports, feature="phi", *, stamp=None):
    """F6: the sign and size of φ's effect (LC-AUROC − 1/2) per benchmark, all heads (with CI) and per layer."""
    with _style():
        fig, axes = _figure(3.2, ncols=2, gridspec_kw={"width_ratios": [1, 1.6]})
        ax = axes[0, 0]
        for k, rep in enumerate(reports):
            f = rep["features"][feature]
            v = np.nan if f["lc_auroc"] is None else f["lc_auroc"] - 0.5
            lo = np.nan if f["ci_low"] is None else f["ci_low"] - 0.5
            hi = np.nan if f["ci_high"] is None else f["ci_high"] - 0.5
            color = LINES[1 + k % 6]
            ax.errorbar([k], [v], yerr=[[v - lo], [hi - v]], fmt="o", ms=3, color=color, capsize=2)
        ax.axhline(0, color="#555555", lw=0.7)
        ax.set_xticks(range(len(reports)))
        ax.set_xticklabels([str(k + 1) for k in range(len(reports))])
        ax.set_xlabel("report (see legend)")
        ax.set_ylabel(f"LC-AUROC − 1/2 of mean {feature}")
        ax.set_title("all heads (95% CI)")
        ax = axes[0, 1]
        for k, rep in enumerate(reports):
            rows = rep["features"][feature]["per_layer"]
            depth = np.array([r["layer"] for r in rows], dtype=float)
            depth = depth / max(depth.max(), 1)
            vals = np.array([np.nan if r["lc_auroc"] is None else r["lc_auroc"] - 0.5 for r in rows])
            ax.plot(depth, vals, color=LINES[1 + k % 6], marker=".", ms=2,
                    label=f"{k + 1}: {_short(rep['model'])}, {rep['benchmark'].replace('halueval-', 'HE-')}")
        ax.axhline(0, color="#555555", lw=0.7)
        ax.set_xlabel("layer depth (layer / last layer)")
        ax.set_title("per layer (mean over heads)")
        fig.suptitle(f"F6  Polarity of {feature}: > 0 means hallucinated answers score higher", fontsize=7)
        _finish(fig, stamp or stamp_text())
        fig.subplots_adjust(bottom=0.3)
        fig.legend(*ax.get_legend_handles_labels(), frameon=False, fontsize=4.5, loc="lower center", ncol=2,
                   bbox_to_anchor=(0.5, 0.02))
        return fig


_F7_ROWS = (("probes", "transport", "probe: transport (all)"), ("probes", "phi", "probe: φ, t*/n"),
            ("probes", "G", "probe: G"), ("probes", "two_axis", "probe: φ and G"),
            ("features", "phi", "φ (mean, unsupervised)"), ("features", "G", "G (mean, unsupervised)"),
            ("baselines", "lapeig", "probe: LapEigvals"), ("baselines", "attn_score", "probe: attention score"),
            ("baselines", "kl_uniform", "probe: KL from uniform"),
            ("features", "attn_score", "attention score (unsupervised)"),
            ("baselines", "length", "probe: response length"))


def f7_lc_auroc(reports, *, stamp=None):
    """F7: LC-AUROC with 95% bootstrap intervals of transport features and baselines, one marker per report."""
    with _style():
        fig, axes = _figure(0.9 + 0.24 * len(_F7_ROWS))
        ax = axes[0, 0]
        offsets = np.linspace(-0.3, 0.3, max(len(reports), 1)) if len(reports) > 1 else [0.0]
        markers = "osD^vP"
        for k, rep in enumerate(reports):
            ys, xs, los, his = [], [], [], []
            for row, (section, key, _) in enumerate(_F7_ROWS):
                e = rep[section].get(key)
                if not e or e.get("lc_auroc") is None:
                    continue
                ys.append(row + offsets[k])
                xs.append(e["lc_auroc"])
                los.append(e["lc_auroc"] - (e["ci_low"] if e.get("ci_low") is not None else e["lc_auroc"]))
                his.append((e["ci_high"] if e.get("ci_high") is not None else e["lc_auroc"]) - e["lc_auroc"])
            ax.errorbar(xs, ys, xerr=[los, his], fmt=markers[k % len(markers)], ms=2.5, capsize=1.5, lw=0.7,
                        color=LINES[1 + k % 6],
                        label=f"{_short(rep['model'])}, {rep['benchmark'].replace('halueval-', 'HE-')}, "
                              f"{rep['n_items']} items")
        ax.axvline(0.5, color="#555555", lw=0.7, ls="--")
        ax.set_yticks(range(len(_F7_ROWS)))
        ax.set_yticklabels([r[2] for r in _F7_ROWS])
        ax.invert_yaxis()
        ax.set_xlabel("length-controlled AUROC (0.5 = chance)")
        ax.set_title("F7  Transport features vs baselines (95% bootstrap CI)")
        ax.legend(frameon=False, fontsize=4.5, loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2)
        return _finish(fig, stamp or stamp_text())


# ------------------------------------------------------------------------------------------- writing
def _save(fig, out, stem, formats):
    import matplotlib.pyplot as plt

    paths = []
    for fmt in formats:
        path = Path(out) / f"{stem}.{fmt}"
        fig.savefig(path, dpi=200 if fmt == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def _check_formats(formats):
    bad = [f for f in formats if f not in ("png", "pdf", "svg")]
    if bad:
        raise ValueError(f"figure format must be png, pdf or svg; got {bad[0]!r}.")


def real_model_figures(report_paths, out, *, formats=("png",), only=REPORT_FIGURES, stamp=None):
    """F5 (one per report), F6 and F7 from validation reports; returns the written paths."""
    import matplotlib

    matplotlib.use("Agg")
    _check_formats(formats)
    reports = load_reports(report_paths)
    if not reports:
        raise ValueError("no validation reports given for the real-model figures (F5–F7).")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    if "F5" in only:
        for rep in reports:
            stem = f"F5_two_axis_{_short(rep['model'])}_{rep['benchmark']}".replace(".", "-")
            paths += _save(f5_two_axis(rep, stamp=stamp), out, stem, formats)
    if "F6" in only:
        paths += _save(f6_polarity(reports, stamp=stamp), out, "F6_polarity", formats)
    if "F7" in only:
        paths += _save(f7_lc_auroc(reports, stamp=stamp), out, "F7_lc_auroc", formats)
    return paths


_THEORY = {"F1": ("F1_uniform_causal_landscape", f1_uniform_causal_landscape),
           "F2": ("F2_capacity_scaling", f2_capacity_scaling),
           "F3": ("F3_bipartite_landscape", f3_bipartite_landscape),
           "F4": ("F4_orientation_blindness", f4_orientation_blindness)}


def write_figures(out, *, only=None, formats=("png",), reports=None):
    """Write the requested figures (default: all seven) into ``out``; returns the written paths.

    Parameters
    ----------
    only : iterable of str, optional
        Figure ids (``F1`` … ``F7``).
    formats : iterable of {"png", "pdf", "svg"}
    reports : list of path, optional
        Validation reports for F5–F7; default :func:`bundled_reports`.

    Raises
    ------
    ValueError
        Unknown figure id or format.
    """
    import matplotlib

    matplotlib.use("Agg")
    only = tuple(FIGURES) if not only else tuple(only)
    unknown = [f for f in only if f not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; known figures: {', '.join(FIGURES)}.")
    formats = tuple(formats)
    _check_formats(formats)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = stamp_text()
    paths = []
    for fid in only:
        if fid in _THEORY:
            stem, fn = _THEORY[fid]
            paths += _save(fn(stamp=stamp), out, stem, formats)
    wanted = tuple(f for f in only if f in REPORT_FIGURES)
    if wanted:
        paths += real_model_figures(reports if reports is not None else bundled_reports(), out, formats=formats,
                                    only=wanted, stamp=stamp)
    return paths
