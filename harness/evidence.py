"""The evidence tables of the README, computed from validation reports (and the scored polarity test).

One function per table; :func:`evidence_markdown` joins them. ``attention-transport evidence``
prints them, and a test checks that the README's evidence section equals what this module
writes from the shipped reports, so every number there traces to a report.

* :func:`compute_table`: what each run cost, measured (seconds per example × examples).
* :func:`lc_table` (claim: LC-AUROC 0.62–0.84 across architectures): per report, φ alone, the
  transport probe and every baseline, with intervals.
* :func:`signature_table` (claim: the fraction of heads piercing the floor is an architectural
  signature): per report, the fractions below 1/5, 5/17 and φ_bip*, the landscape shapes; and
  :func:`separation_table`, every pair of models on a common benchmark, separated or not beyond
  the item-to-item spread.
* :func:`direction_table` (C7d on real heads): G against the diagonal.
* :func:`polarity_table`: the pre-registered test's verdicts, from ``polarity-test.json``.
"""
from __future__ import annotations

from attention_transport.harness.signature import SEPARATED, separation

__all__ = ["compute_table", "lc_table", "signature_table", "separation_table", "direction_table", "polarity_table",
           "evidence_markdown"]


def _f(v, spec="{:.2f}"):
    return "—" if v is None or v != v else spec.format(v)


def _score(s):
    """``0.77 [0.71, 0.84]``, or why there is no number."""
    if s is None:
        return "—"
    if s.insufficient:
        return f"insufficient ({s.n_pairs} pairs)"
    if s.lc_auroc is None:
        return "—"
    return f"{_f(s.lc_auroc)} [{_f(s.ci_low)}, {_f(s.ci_high)}]"


def _kind(model):
    from attention_transport.harness.models import MODELS

    spec = MODELS.get(model)
    return (spec.kind, spec.parameters) if spec else ("other", None)


def _order(reports):
    rank = {"decoder": 0, "encoder-decoder": 1, "encoder": 2, "other": 3}
    return sorted(reports, key=lambda r: (rank[_kind(r.model)[0]], _kind(r.model)[1] or 0, r.model, r.benchmark))


def compute_table(reports):
    """Per report: examples scored, measured seconds per example (forced pass and features, 2 cores) and the total."""
    lines = ["| model | benchmark | examples | attention path | s per example | minutes |", "|---|---|---|---|---|---|"]
    for rep in _order(reports):
        sec = rep.seconds_per_example
        paths = ", ".join(sorted(rep.attention_paths)) or rep.attention
        lines.append(f"| {rep.model} | {rep.benchmark} | {rep.n_examples} | {paths} | {_f(sec)} | "
                     f"{_f(None if sec is None else sec * rep.n_examples / 60, '{:.0f}')} |")
    return "\n".join(lines)


def lc_table(reports):
    """Per report: items, length-strata coverage, φ (all heads), the transport probe, the baselines' probes."""
    cols = [("probes", "transport", "transport probe"), ("probes", "phi", "φ probe"),
            ("baselines", "lapeig", "LapEigvals"), ("baselines", "attn_score", "attention score"),
            ("baselines", "kl_uniform", "KL from uniform"), ("baselines", "lookback", "Lookback Lens")]
    lines = ["| model | kind | benchmark | items | coverage | φ, all heads | "
             + " | ".join(c[2] for c in cols) + " |", "|" + "---|" * (6 + len(cols))]
    for rep in _order(reports):
        cells = [_score(getattr(rep, section).get(key)) for section, key, _ in cols]
        lines.append(f"| {rep.model} | {_kind(rep.model)[0]} | {rep.benchmark} | {rep.n_items} | "
                     f"{_f(rep.strata.coverage)} | {_score(rep.features.get('phi'))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def signature_table(reports):
    """Per report with a signature: mean ± sd over faithful answers of the fraction of heads below each threshold."""
    def spread(o):
        return f"{_f(o['mean'])} ± {_f(o['sd'])}"

    lines = ["| model | kind | size (M) | benchmark | answers | φ < 1/5 | φ < 5/17 | φ_bip < φ_bip* | window-like "
             "share (of which < 1/5) | uniform-like share (of which < 1/5) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    chosen = _order([r for r in reports if r.signature])
    if not chosen:
        return "No report carries an architectural signature (reports written before it existed)."
    for rep in chosen:
        sig, (kind, size) = rep.signature, _kind(rep.model)
        w, u = sig["shape"]["window_like"], sig["shape"]["uniform_like"]
        lines.append(f"| {rep.model} | {kind} | {size or '—'} | {rep.benchmark} | {sig['answers']} | "
                     f"{spread(sig['floor']['overall'])} | {spread(sig['sharp']['overall'])} | "
                     f"{spread(sig['bip']['overall'])} | {_f(w['share']['mean'])} ({_f(w['below_floor'])}) | "
                     f"{_f(u['share']['mean'])} ({_f(u['below_floor'])}) |")
    return "\n".join(lines)


def separation_table(reports):
    """Every pair of models on a common benchmark: the AUROC between their per-answer floor fractions."""
    lines = ["| benchmark | model A | model B | P(A pierces more) | separated beyond the spread |",
             "|---|---|---|---|---|"]
    with_sig = _order([r for r in reports if r.signature])
    for i, a in enumerate(with_sig):
        for b in with_sig[i + 1:]:
            if a.benchmark != b.benchmark or a.model == b.model:
                continue
            auroc, apart = separation(a.signature, b.signature)
            lines.append(f"| {a.benchmark} | {a.model} | {b.model} | {_f(auroc)} | {'yes' if apart else 'no'} |")
    return "\n".join(lines) if len(lines) > 2 else "No two models with signatures share a benchmark yet."


def direction_table(reports):
    """Per report: G's LC-AUROC, the attention-score probe with and without G, the rank correlations."""
    from attention_transport.harness.report import Score

    lines = ["| model | kind | benchmark | G, all heads | G probe | attention-score probe | with G added | "
             "rank corr. G vs attention score (pooled / per head) |", "|---|---|---|---|---|---|---|---|"]
    chosen = _order([r for r in reports if r.direction])
    if not chosen:
        return "No report carries the G-against-diagonal analysis (reports written before it existed)."
    for rep in chosen:
        d = rep.direction
        lines.append(f"| {rep.model} | {_kind(rep.model)[0]} | {rep.benchmark} | {_score(rep.features.get('G'))} | "
                     f"{_score(rep.probes.get('G'))} | {_score(rep.baselines.get('attn_score'))} | "
                     f"{_score(Score.from_json(d['attn_score_plus_G']))} | {_f(d['spearman_all_heads'])} / "
                     f"{_f(d['spearman_per_head_median'])} |")
    return "\n".join(lines)


def polarity_table(result):
    """The pre-registered test (a :func:`~.polarity.score` result): predictions, observed signs, verdicts."""
    from attention_transport.harness.polarity import markdown

    return markdown(result, title=False).rstrip("\n")


def evidence_markdown(reports, polarity=None):
    """All tables, each under a heading, as one Markdown text."""
    parts = ["##### Runs and their cost", "", compute_table(reports), "",
             "##### LC-AUROC per run", "", lc_table(reports), "",
             "##### Heads below the floor (faithful answers)", "", signature_table(reports), "",
             f"Pairs of models (|P − 1/2| ≥ {SEPARATED} counts as separated):", "", separation_table(reports), "",
             "##### G against the diagonal", "", direction_table(reports), ""]
    if polarity is not None:
        parts += ["##### The pre-registered polarity test", "", polarity_table(polarity), ""]
    return "\n".join(parts)
