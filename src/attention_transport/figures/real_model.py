"""The real-model figures F5–F7 and F9, drawn from validation reports alone."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from attention_transport.figures.style import LINES, OKABE_ITO, finish, new_figure, style
from attention_transport.provenance import stamp_text

__all__ = ["bundled_reports", "load_reports", "short_name", "f5_two_axis", "f6_polarity", "f7_rows", "f7_lc_auroc",
           "f9_signature", "signature_order"]


def bundled_reports():
    """Paths of the validation reports shipped with the package (with their provenance)."""
    root = Path(__file__).resolve().parent.parent / "data" / "reports"
    return sorted(root.glob("*.json"))


def load_reports(paths):
    """Read validation reports (``report.json`` files, any known schema) as :class:`~attention_transport.harness.
    report.Report` objects, with a clear error for a missing or foreign file."""
    from attention_transport.harness.report import load_report

    reports = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise FileNotFoundError(f"report file not found: {p}")
        reports.append(load_report(p))
    return reports


def _none_to_nan(x):
    return np.array([[np.nan if v is None else v for v in row] for row in x], dtype=float)


def short_name(model):
    """A model's name for legends and file names (a path's last part)."""
    return Path(model).name if ("/" in model or model.endswith(".gguf")) else model


def _legend(rep):
    return f"{short_name(rep.model)}, {rep.benchmark.replace('halueval-', 'HE-')}"


def f5_two_axis(report, *, stamp=None):
    """F5: per head, the class means of (φ, G), faithful and hallucinated, one panel per third of the layers."""
    phi = {k: _none_to_nan(v) for k, v in report.heads["phi"].items()}
    G = {k: _none_to_nan(v) for k, v in report.heads["G"].items()}
    n_layers = phi["faithful"].shape[0]
    n_groups = min(3, n_layers)
    thirds = np.array_split(np.arange(n_layers), n_groups)
    names = {1: ("all",), 2: ("early", "late"), 3: ("early", "middle", "late")}[n_groups]
    with style():
        fig, axes = new_figure(1.6, ncols=n_groups, sharey=True)
        for ax, layers, name in zip(axes[0], thirds, names):
            for label, color, marker in (("faithful", OKABE_ITO[5], "o"), ("hallucinated", OKABE_ITO[6], "^")):
                ax.scatter(phi[label][layers].ravel(), G[label][layers].ravel(), s=3, marker=marker, color=color,
                           alpha=0.6, linewidths=0, label=label)
            ax.set_title(f"{name} layers {layers[0]}–{layers[-1]}")
            ax.set_xlabel("capacity φ")
        axes[0, 0].set_ylabel("asymmetry G")
        axes[0, 0].legend(frameon=False, loc="lower left", markerscale=2, fontsize=4.5, handletextpad=0.1)
        fig.suptitle(f"F5  (φ, G) per head, class means: {short_name(report.model)}, {report.benchmark}, "
                     f"{report.n_items} items", fontsize=7)
        return finish(fig, stamp or stamp_text())


def _minus_half(v):
    return np.nan if v is None else v - 0.5


def f6_polarity(reports, feature="phi", *, stamp=None):
    """F6: the sign and size of φ's effect (LC-AUROC − 1/2) per benchmark, all heads (with CI) and per layer.

    A score without enough support (:data:`~attention_transport.harness.report.MIN_PAIRS`) is drawn as a
    grey × on the zero line and its legend entry says "insufficient".
    """
    with style():
        fig, axes = new_figure(3.2, ncols=2, gridspec_kw={"width_ratios": [1, 1.6]})
        ax = axes[0, 0]
        for k, rep in enumerate(reports):
            s = rep.features[feature]
            if s.insufficient:
                ax.plot([k], [0.0], marker="x", ms=3, color="#777777", ls="none")
                continue
            v, lo, hi = _minus_half(s.lc_auroc), _minus_half(s.ci_low), _minus_half(s.ci_high)
            ax.errorbar([k], [v], yerr=[[v - lo], [hi - v]], fmt="o", ms=3, color=LINES[1 + k % 6], capsize=2)
        ax.axhline(0, color="#555555", lw=0.7)
        ax.set_xticks(range(len(reports)))
        ax.set_xticklabels([str(k + 1) for k in range(len(reports))])
        ax.set_xlabel("report (see legend)")
        ax.set_ylabel(f"LC-AUROC − 1/2 of mean {feature}")
        ax.set_title("all heads (95% CI)")
        ax = axes[0, 1]
        for k, rep in enumerate(reports):
            rows = rep.features[feature].per_layer
            depth = np.array([r.layer for r in rows], dtype=float)
            depth = depth / max(depth.max(), 1)
            vals = np.array([_minus_half(r.lc_auroc) for r in rows])
            note = ", insufficient" if rep.features[feature].insufficient else ""
            ax.plot(depth, vals, color=LINES[1 + k % 6], marker=".", ms=2, label=f"{k + 1}: {_legend(rep)}{note}")
        ax.axhline(0, color="#555555", lw=0.7)
        ax.set_xlabel("layer depth (layer / last layer)")
        ax.set_title("per layer (mean over heads)")
        fig.suptitle(f"F6  Polarity of {feature}: > 0 means hallucinated answers score higher", fontsize=7)
        finish(fig, stamp or stamp_text())
        fig.subplots_adjust(bottom=0.3)
        fig.legend(*ax.get_legend_handles_labels(), frameon=False, fontsize=4.5, loc="lower center", ncol=2,
                   bbox_to_anchor=(0.5, 0.02))
        return fig


def f7_rows():
    """The rows of F7, derived from the feature registry: (section, key, label).

    Transport probe groups, then the headline transport features unsupervised,
    then the baseline probe groups and headline baseline features, response length last.
    """
    from attention_transport.harness.features import FEATURES, group_label, probe_groups

    groups = probe_groups()
    rows = []
    for kind, section in (("transport", "probes"), ("baseline", "baselines")):
        rows += [(section, g, f"probe: {group_label(g)}") for g, (k, _) in groups.items()
                 if k == kind and g != "length"]
        rows += [("features", f.name, f"{f.label} (mean, unsupervised)") for f in FEATURES.values()
                 if f.headline and f.family == kind]
    rows.append(("baselines", "length", f"probe: {group_label('length')}"))
    return tuple(rows)


def f7_lc_auroc(reports, *, stamp=None):
    """F7: LC-AUROC with 95% bootstrap intervals of transport features and baselines, one marker per report.

    Rows come from :func:`f7_rows`; a score without enough support is a grey × at 1/2.
    """
    rows = f7_rows()
    with style():
        fig, axes = new_figure(0.9 + 0.24 * len(rows))
        ax = axes[0, 0]
        offsets = np.linspace(-0.3, 0.3, max(len(reports), 1)) if len(reports) > 1 else [0.0]
        markers = "osD^vP"
        short = []
        for k, rep in enumerate(reports):
            ys, xs, los, his = [], [], [], []
            for row, (section, key, _) in enumerate(rows):
                e = getattr(rep, section).get(key)
                if e is None:
                    continue
                if e.insufficient:
                    short.append(row + offsets[k])
                    continue
                if e.lc_auroc is None:
                    continue
                ys.append(row + offsets[k])
                xs.append(e.lc_auroc)
                los.append(e.lc_auroc - (e.ci_low if e.ci_low is not None else e.lc_auroc))
                his.append((e.ci_high if e.ci_high is not None else e.lc_auroc) - e.lc_auroc)
            ax.errorbar(xs, ys, xerr=[los, his], fmt=markers[k % len(markers)], ms=2.5, capsize=1.5, lw=0.7,
                        color=LINES[1 + k % 6], label=f"{_legend(rep)}, {rep.n_items} items")
        if short:
            ax.plot([0.5] * len(short), short, marker="x", ms=2.5, color="#777777", ls="none",
                    label="insufficient support")
        ax.axvline(0.5, color="#555555", lw=0.7, ls="--")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r[2] for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("length-controlled AUROC (0.5 = chance)")
        ax.set_title("F7  Transport features vs baselines (95% bootstrap CI)")
        ax.legend(frameon=False, fontsize=4.5, loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2)
        return finish(fig, stamp or stamp_text())


def signature_order(reports):
    """The reports that carry a signature, decoders by size first, then encoders, then other models;
    each as ``(report, kind, parameters in millions or None)``."""
    from attention_transport.harness.models import MODELS

    rows = []
    for rep in reports:
        if not rep.signature:
            continue
        spec = MODELS.get(rep.model)
        kind = spec.kind if spec else "other"
        rows.append((rep, kind, spec.parameters if spec else None))
    rank = {"decoder": 0, "encoder-decoder": 1, "encoder": 2, "other": 3}
    return sorted(rows, key=lambda r: (rank.get(r[1], 3), r[2] or 0, r[0].model, r[0].benchmark))


def f9_signature(reports, *, stamp=None):
    """F9: the fraction of heads below the floor 1/5 on faithful answers, per model and benchmark (boxes: the
    spread over answers) and per layer (mean over answers), decoders by size, then encoders.

    Reports without a signature (written before it existed) are left out; with none left the figure
    says so instead of drawing empty axes."""
    rows = signature_order(reports)
    with style():
        fig, axes = new_figure(3.0, ncols=2, gridspec_kw={"width_ratios": [1.5, 1]})
        ax = axes[0, 0]
        if not rows:
            ax.text(0.5, 0.5, "no report carries a signature", ha="center", va="center", transform=ax.transAxes)
            return finish(fig, stamp or stamp_text())
        colours = {"decoder": LINES[1], "encoder": LINES[2], "encoder-decoder": LINES[3], "other": LINES[4]}
        data = [rep.signature["floor"]["per_answer"] for rep, _, _ in rows]
        box = ax.boxplot(data, whis=(5, 95), showfliers=False, patch_artist=True, widths=0.6,
                         medianprops={"color": "black", "lw": 0.8})
        for median in box["medians"]:
            median.set_gid("median")
        for patch, (_, kind, _) in zip(box["boxes"], rows):
            patch.set_facecolor(colours.get(kind, LINES[4]))
            patch.set_alpha(0.6)
        ax.set_xticks(range(1, len(rows) + 1))
        ax.set_xticklabels([_legend(rep) for rep, _, _ in rows], rotation=60, ha="right", fontsize=4.5)
        ax.set_ylabel("fraction of heads with φ < 1/5")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("per answer (box: quartiles, whiskers: 5–95%)")
        ax = axes[0, 1]
        by_model = {}
        for rep, kind, _ in rows:
            by_model.setdefault((rep.model, kind), []).append(np.array(_none_to_nan([rep.signature["floor"]
                                                                                     ["per_layer"]["mean"]])[0]))
        for k, ((model, kind), curves) in enumerate(by_model.items()):
            mean = np.nanmean(np.stack(curves), axis=0)
            depth = np.arange(len(mean)) / max(len(mean) - 1, 1)
            ax.plot(depth, mean, color=colours.get(kind, LINES[4]), ls=("-", "--", ":", "-.")[k % 4], lw=0.9,
                    label=f"{short_name(model)} ({kind})")
        ax.set_xlabel("layer depth (layer / last layer)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("per layer (mean over answers, benchmarks)")
        ax.legend(frameon=False, fontsize=4.5)
        fig.suptitle("F9  Heads piercing the uniform floor: an architectural signature", fontsize=7)
        return finish(fig, stamp or stamp_text())
