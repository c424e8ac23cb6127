"""Figures F1–F7 and F9: every file is written, stamped, and plots the package's own numbers."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from attention_transport import figures  # noqa: E402
from attention_transport.cli import main  # noqa: E402
from attention_transport.numerics.constants import phi_star, x_star  # noqa: E402


def _texts(fig):
    return [t.get_text() for t in fig.texts] + [ax.get_title() for ax in fig.axes]


def test_f1_plots_the_exact_landscapes_and_x_star():
    fig = figures.f1_uniform_causal_landscape(ns=(3, 50), stamp="stamp-x")
    ax = fig.axes[0]
    by_label = {line.get_label(): line for line in ax.lines}
    n3 = by_label["n = 3 (min 0.2941)"]  # 5/17 = 0.29411…, the all-n minimum (C4)
    assert np.isclose(np.nanmin(n3.get_ydata()), 5 / 17, rtol=0, atol=1e-15)
    star = [line for line in ax.lines if line.get_label().startswith("(x*, φ*)")][0]
    assert np.isclose(star.get_xdata()[0], float(x_star(20))) and np.isclose(star.get_ydata()[0], float(phi_star(20)))
    cont = by_label["continuum (n → ∞)"]
    assert abs(np.min(cont.get_ydata()) - float(phi_star(20))) < 1e-4
    assert "stamp-x" in _texts(fig)


def test_f2_window_curves_follow_the_c5_asymptote():
    fig = figures.f2_capacity_scaling(patterns=("uniform-causal", "window:w=16"), ns=np.array([10, 100, 1000, 10000]))
    ax = fig.axes[0]
    window = [line for line in ax.lines if line.get_label() == "window:w=16"][0]
    y = window.get_ydata()
    assert np.isclose(y[-1], 15 / 20000, rtol=1e-3)  # (w − 1)/(2n)
    uniform = [line for line in ax.lines if line.get_label() == "uniform-causal"][0]
    assert np.all(uniform.get_ydata() > 0.2)


def test_f3_marks_the_finite_n_minimum():
    fig = figures.f3_bipartite_landscape(n=40)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert any(lab.startswith("(a*, b*)/n at n = 40: φ_bip = 0.25") for lab in labels)
    assert any(lab.startswith("continuum optimum: φ_bip* = 0.2481") for lab in labels)


def test_f4_spectra_coincide_and_g_is_linear():
    fig = figures.f4_orientation_blindness(n=12)
    left, right = fig.axes[:2]
    a, t = (line.get_ydata() for line in left.lines[:2])
    np.testing.assert_allclose(a, t, atol=1e-12)
    lines = {line.get_label(): line.get_ydata() for line in right.lines}
    np.testing.assert_allclose(lines["G(A_γ)"], lines["|γ| G(A)"], atol=1e-12)
    assert np.ptp(lines["λ₂(L)"]) < 1e-10 and np.ptp(lines["prefix capacity"]) < 1e-10


def synthetic_report(tmp_path, name, bench, shift, **kw):
    pytest.importorskip("sklearn")
    from synthetic import synthetic_records

    from attention_transport.harness.evaluate import evaluate

    rep = evaluate(synthetic_records(effect=shift, **kw), n_boot=30, n_splits=4, model="tiny", benchmark=bench)
    rep.provenance = {"date": "d", "commit": "c"}
    path = tmp_path / f"{name}.json"
    rep.write(path)
    return path


def test_write_figures_all_eight(tmp_path):
    reports = [synthetic_report(tmp_path, "a", "halueval-qa", 2.0), synthetic_report(tmp_path, "b", "medhallu", -2.0)]
    paths = figures.write_figures(tmp_path / "out", formats=("png", "pdf"), reports=reports)
    names = sorted(p.name for p in paths)
    assert len(names) == 2 * (5 + 2 + 3)  # F1–F4, F8, F5 per report, F6, F7, F9; two formats
    for stem in ("F1_uniform_causal_landscape", "F2_capacity_scaling", "F3_bipartite_landscape",
                 "F4_orientation_blindness", "F5_two_axis_tiny_halueval-qa", "F5_two_axis_tiny_medhallu",
                 "F6_polarity", "F7_lc_auroc", "F9_signature"):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names
    assert all(p.stat().st_size > 5000 for p in paths)


def test_f6_draws_the_reports_signs(tmp_path):
    reps = figures.load_reports([synthetic_report(tmp_path, "a", "x", 2.0), synthetic_report(tmp_path, "b", "y", -2.0)])
    fig = figures.f6_polarity(reps)
    per_layer = fig.axes[1].lines
    assert per_layer[0].get_ydata()[0] > 0.2 and per_layer[1].get_ydata()[0] < -0.2


def test_f7_marks_insufficient_scores_instead_of_plotting_them(tmp_path):
    """Regression: a report from a handful of pairs drew 1.000 [1.000–1.000]; now it is a grey × at 1/2."""
    thin = figures.load_reports([synthetic_report(tmp_path, "t", "x", 5.0, n_items=6, lengths=(3, 5))])[0]
    assert thin.features["phi"].insufficient and thin.probes["transport"].insufficient
    fig = figures.f7_lc_auroc([thin])
    ax = fig.axes[0]
    crosses = [line for line in ax.lines if line.get_label() == "insufficient support"]
    assert crosses and set(crosses[0].get_xdata()) == {0.5}
    assert len(crosses[0].get_xdata()) == len(figures.f7_rows())  # every row of this report is too thin


def test_f9_draws_each_reports_spread_and_layers(tmp_path):
    reps = figures.load_reports([synthetic_report(tmp_path, "a", "x", 2.0), synthetic_report(tmp_path, "b", "y", 0.0)])
    for rep, model in zip(reps, ("minilm-l6", "smollm2-135m")):
        rep.model = model
    assert [r[1] for r in figures.signature_order(reps)] == ["decoder", "encoder"]  # decoders first
    fig = figures.f9_signature(reps)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["smollm2-135m, y", "minilm-l6, x"]
    medians = [line.get_ydata()[0] for line in fig.axes[0].lines if line.get_gid() == "median"]
    expected = [np.median(rep.signature["floor"]["per_answer"]) for rep in (reps[1], reps[0])]
    assert medians == pytest.approx(expected)
    curves = {line.get_label(): line.get_ydata() for line in fig.axes[1].lines}
    assert curves["minilm-l6 (encoder)"] == pytest.approx(reps[0].signature["floor"]["per_layer"]["mean"])
    old = figures.f9_signature([rep for rep in reps if False])
    assert "no report carries a signature" in old.axes[0].texts[0].get_text()


def test_f7_rows_follow_the_feature_registry():
    from attention_transport.harness.features import FEATURES, probe_groups

    rows = figures.f7_rows()
    assert {(s, k) for s, k, _ in rows if s in ("probes", "baselines")} == {
        ("probes" if kind == "transport" else "baselines", g) for g, (kind, _) in probe_groups().items()}
    assert {k for s, k, _ in rows if s == "features"} == {n for n, f in FEATURES.items() if f.headline}
    assert rows[-1][1] == "length"


def test_bundled_reports_carry_provenance():
    from attention_transport.harness.models import MODELS

    paths = figures.bundled_reports()
    assert len(paths) >= 6
    for rep in figures.load_reports(paths):
        prov = rep.provenance
        lost = {t.split("/")[0] for t in rep.too_long + rep.unscorable}  # items that lost an answer
        # fewer items than the limit only when the data set has no more (PubMedQA: 945 pairable items in all)
        assert rep.n_items + len(lost) == rep.items_loaded <= rep.limit and rep.items_loaded >= 30
        assert prov["command"].startswith("attention-transport validate")
        assert prov["date"] and prov["commit"] and rep.model in MODELS  # a registered model, so `--rerun` can fetch it
        length = rep.baselines["length_unsupervised"]
        assert length.lc_auroc == 0.5 or (length.insufficient and length.n_pairs < 20)
        assert "t_star_over_n" in rep.features and "lambda2" in rep.settings  # schema 1 read as schema 2


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"only": ["F10"]}, ValueError, "unknown figure 'F10'; known figures: F1, F2"),
    ({"formats": ["jpg"]}, ValueError, "figure format must be one or more of png, pdf, svg; got 'jpg'."),
    ({"formats": []}, ValueError, "figure format must be one or more of png, pdf, svg; got ''."),
    ({"only": ["F7"], "reports": ["missing.json"]}, FileNotFoundError, "report file not found: missing.json"),
])
def test_write_figures_errors(tmp_path, kwargs, exc, message):
    with pytest.raises(exc, match=message.replace("(", r"\(").replace(")", r"\)")):
        figures.write_figures(tmp_path, **kwargs)


def test_load_reports_rejects_foreign_json(tmp_path):
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="is not a validation report"):
        figures.load_reports([tmp_path / "x.json"])


def test_figures_cli(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path), "--only", "F1", "--format", "png,svg"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["F1_uniform_causal_landscape.png",
                                                          "F1_uniform_causal_landscape.svg"]
    assert main(["figures", "--out", str(tmp_path), "--only", "F10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown figure 'F10'" in err
    for bad in (",", ""):  # regression: wrote nothing and exited 0
        assert main(["figures", "--out", str(tmp_path / "none"), "--only", "F1", "--format", bad]) == 2
        assert "figure format must be one or more of png, pdf, svg" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_figures_rerun_recomputes_each_shipped_report(tmp_path, monkeypatch, capsys):
    """--rerun calls validate once per shipped report with that report's settings, then draws from the new ones."""
    import shutil

    from attention_transport.harness import validate as validate_mod
    from attention_transport.harness.fetch import MARKER

    from attention_transport.harness.benchmarks import benchmark

    paths = {p.stem: p for p in figures.bundled_reports()}
    shipped = {stem: figures.load_reports([p])[0] for stem, p in paths.items()}
    for component in {benchmark(rep.benchmark).component for rep in shipped.values()}:  # every benchmark's data
        cache = tmp_path / "cache" / component
        cache.mkdir(parents=True)
        (cache / MARKER).write_text("{}")
    seen = []

    def fake_validate(config, *, cache=None, progress=True, figures=True):
        stem = f"{config.model}_{config.benchmark}"
        seen.append((stem, config.limit, config.seed, config.lapeig_k, config.lambda2, config.bip_grid, figures))
        shutil.copy(paths[stem], config.out + "/report.json")
        return shipped[stem]

    monkeypatch.setattr(validate_mod, "validate", fake_validate)
    out = tmp_path / "figs"
    for stem in shipped:
        (out / "runs" / stem).mkdir(parents=True)
    assert main(["figures", "--rerun", "--only", "F7", "--out", str(out), "--cache", str(tmp_path / "cache")]) == 0
    assert sorted(s[0] for s in seen) == sorted(shipped)
    for stem, limit, seed, k, lambda2, grid, figs in seen:
        rep = shipped[stem]
        assert (limit, seed, k, lambda2, grid, figs) == (rep.limit, rep.seed, rep.settings["lapeig_k"],
                                                         rep.settings["lambda2"], rep.settings.get("bip_grid", 1024),
                                                         False)
    assert capsys.readouterr().out.strip().endswith("F7_lc_auroc.png")
