"""The figures, one function per figure; the CLI (``attention-transport figures``) and the notebooks only call them.

Modules: :mod:`.theory` (F1–F4, F8), :mod:`.real_model` (F5–F7 and F9, from validation reports), :mod:`.style`.

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
F8     the law map of the power-law family: floor f(p) for p < 1,     theory.laws (L3), structural
       p_c, the exponent beyond, with the measured capacities         capacities
F5     the two-axis diagnostic (φ, G) per head, by label and layer    a validation report
       group
F6     polarity: φ's LC-AUROC − 1/2 per benchmark and layer           validation reports
F7     LC-AUROC of transport features against the baselines, with     validation reports
       bootstrap intervals
F9     the architectural signature: fraction of heads below the       validation reports with a
       floor 1/5 per answer and per layer, decoders vs encoders        signature
=====  =============================================================  ===========================

Every figure is sized for a single paper column (3.4 in), uses the Okabe–Ito
colour-blind-safe palette, labels its axes with units (positions as fractions
of the sequence length, counts in tokens), and carries a stamp with the
package version and commit.  Every plotted number is computed here from the
package's own functions or read from a validation report; nothing is typed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from attention_transport.errors import AttentionTransportError, UnknownName
from attention_transport.figures.real_model import (
    bundled_reports,
    f5_two_axis,
    f6_polarity,
    f7_lc_auroc,
    f7_rows,
    f9_signature,
    load_reports,
    signature_order,
    short_name,
)
from attention_transport.figures.style import COLUMN_WIDTH, FORMATS, LINES, OKABE_ITO, check_formats, save
from attention_transport.figures.theory import (
    f1_uniform_causal_landscape,
    f2_capacity_scaling,
    f3_bipartite_landscape,
    f4_orientation_blindness,
    f8_power_law_map,
)
from attention_transport.provenance import git_commit, stamp_text

__all__ = ["Figure", "FIGURES", "THEORY_FIGURES", "REPORT_FIGURES", "OKABE_ITO", "LINES", "COLUMN_WIDTH", "FORMATS",
           "git_commit", "stamp_text", "f1_uniform_causal_landscape", "f2_capacity_scaling", "f3_bipartite_landscape",
           "f4_orientation_blindness", "f8_power_law_map", "f5_two_axis", "f6_polarity", "f7_rows", "f7_lc_auroc", "f9_signature",
           "signature_order", "write_figures",
           "real_model_figures", "load_reports", "bundled_reports"]


@dataclass(frozen=True)
class Figure:
    """One figure: its id, title, file stem and drawing function.

    ``per`` says what it is drawn from: ``"theory"`` (no input), ``"report"`` (one
    figure per validation report) or ``"reports"`` (one figure of all reports).
    """

    id: str
    title: str
    stem: str
    draw: object
    per: str = "theory"


FIGURES = {f.id: f for f in (
    Figure("F1", "uniform-causal prefix landscape", "F1_uniform_causal_landscape", f1_uniform_causal_landscape),
    Figure("F2", "prefix capacity against n", "F2_capacity_scaling", f2_capacity_scaling),
    Figure("F3", "bipartite landscape", "F3_bipartite_landscape", f3_bipartite_landscape),
    Figure("F4", "orientation blindness", "F4_orientation_blindness", f4_orientation_blindness),
    Figure("F8", "law map of the power-law family", "F8_power_law_map", f8_power_law_map),
    Figure("F5", "two-axis diagnostic (φ, G) per head", "F5_two_axis", f5_two_axis, per="report"),
    Figure("F6", "polarity of φ per benchmark and layer", "F6_polarity", f6_polarity, per="reports"),
    Figure("F7", "LC-AUROC of transport features and baselines", "F7_lc_auroc", f7_lc_auroc, per="reports"),
    Figure("F9", "fraction of heads below the floor (architectural signature)", "F9_signature", f9_signature,
           per="reports"),
)}
THEORY_FIGURES = tuple(k for k, f in FIGURES.items() if f.per == "theory")
REPORT_FIGURES = tuple(k for k, f in FIGURES.items() if f.per != "theory")


def _known(only):
    only = tuple(FIGURES) if not only else tuple(only)
    unknown = [f for f in only if f not in FIGURES]
    if unknown:
        raise UnknownName(f"unknown figure {unknown[0]!r}; known figures: {', '.join(FIGURES)}.")
    return only


def real_model_figures(report_paths, out, *, formats=("png",), only=REPORT_FIGURES, stamp=None):
    """F5 (one per report), F6, F7 and F9 from validation reports; returns the written paths."""
    import matplotlib

    matplotlib.use("Agg")
    formats = check_formats(formats)
    reports = load_reports(report_paths)
    if not reports:
        raise AttentionTransportError("no validation reports given for the real-model figures (F5–F7, F9).")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fid in _known(only):
        fig = FIGURES[fid]
        if fig.per == "report":
            for rep in reports:
                stem = f"{fig.stem}_{short_name(rep.model)}_{rep.benchmark}".replace(".", "-")
                paths += save(fig.draw(rep, stamp=stamp), out, stem, formats)
        elif fig.per == "reports":
            paths += save(fig.draw(reports, stamp=stamp), out, fig.stem, formats)
    return paths


def write_figures(out, *, only=None, formats=("png",), reports=None):
    """Write the requested figures (default: all eight) into ``out``; returns the written paths.

    Parameters
    ----------
    only : iterable of str, optional
        Figure ids (``F1`` … ``F7``, ``F9``).
    formats : iterable of {"png", "pdf", "svg"}
    reports : list of path, optional
        Validation reports for F5–F7 and F9; default :func:`bundled_reports`.

    Raises
    ------
    UnknownName
        Unknown figure id.
    AttentionTransportError
        Unknown or no format.
    """
    import matplotlib

    matplotlib.use("Agg")
    only = _known(only)
    formats = check_formats(formats)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = stamp_text()
    paths = []
    for fid in only:
        fig = FIGURES[fid]
        if fig.per == "theory":
            paths += save(fig.draw(stamp=stamp), out, fig.stem, formats)
    wanted = tuple(f for f in only if f in REPORT_FIGURES)
    if wanted:
        paths += real_model_figures(reports if reports is not None else bundled_reports(), out, formats=formats,
                                    only=wanted, stamp=stamp)
    return paths
