"""The architectural signature (fraction of heads below the floors, by landscape shape) and G against the diagonal."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_transport.harness import signature as sg
from attention_transport.harness.evaluate import evaluate
from attention_transport.harness.report import Report, load_report, write_markdown
from synthetic import synthetic_records


def test_thresholds_are_computed_and_match_the_reference_values():
    t = sg.thresholds()
    assert t["floor"] == 0.2 and t["sharp"] == pytest.approx(5 / 17, abs=0)
    assert t["bip"] == pytest.approx(0.2480608780823195711, abs=1e-15)  # THEORY.md C4 (expected, not an input)
    assert t["x_star"] == pytest.approx(0.3178444328993726838, abs=1e-15)


def features(phi, t_star=None, phi_bip=None):
    phi = np.asarray(phi, dtype=np.float64)
    return {"phi": phi, "phi_bip": phi if phi_bip is None else np.asarray(phi_bip, dtype=np.float64),
            "t_star_over_n": np.full(phi.shape, 0.1) if t_star is None else np.asarray(t_star, dtype=np.float64)}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.05, 0.25, 0.3, 0.5, np.nan]), min_size=6, max_size=6), min_size=2,
                max_size=8))
def test_the_fractions_count_heads_below_each_threshold(rows):
    phi = np.array(rows).reshape(len(rows), 2, 3)
    labels = np.zeros(len(rows), dtype=int)
    sig = sg.head_signature(features(phi), labels)
    for name, bound in (("floor", 0.2), ("sharp", 5 / 17)):
        per = [np.mean(r[np.isfinite(r)] < bound) for r in phi.reshape(len(rows), -1) if np.isfinite(r).any()]
        assert sig[name]["overall"]["n"] == len(per)
        if per:
            assert sig[name]["overall"]["mean"] == pytest.approx(np.mean(per))
            assert sig[name]["overall"]["median"] == pytest.approx(np.median(per))
        if name == "floor":
            assert sig["floor"]["per_answer"] == [round(float(v), 4) for v in per]


def test_only_the_faithful_answers_count():
    phi = np.stack([np.full((2, 2), 0.5), np.full((2, 2), 0.05)])  # faithful above, hallucinated below the floor
    sig = sg.head_signature(features(phi), np.array([0, 1]))
    assert sig["answers"] == 1 and sig["floor"]["overall"]["mean"] == 0.0


def test_per_layer_and_the_bipartite_threshold():
    phi = np.array([[[0.1, 0.1], [0.5, 0.5]], [[0.1, 0.5], [0.5, 0.5]]])
    bip = np.array([[[0.24, 0.25], [0.3, 0.3]], [[0.24, 0.24], [0.3, 0.3]]])
    sig = sg.head_signature(features(phi, phi_bip=bip), np.array([0, 0]))
    assert sig["floor"]["per_layer"]["mean"] == [0.75, 0.0]
    assert sig["bip"]["overall"]["mean"] == pytest.approx((0.25 + 0.5) / 2)  # 0.24 < φ_bip* < 0.25


def test_window_and_uniform_like_heads():
    x = sg.thresholds()["x_star"]
    t_star = np.array([[[0.5, 0.52, x, 0.05]]])  # window, window, uniform, neither
    phi = np.array([[[0.01, 0.3, 0.36, 0.1]]])
    shape = sg.head_signature(features(phi, t_star=t_star), np.array([0]))["shape"]
    assert shape["window_like"]["heads"] == 2 and shape["window_like"]["below_floor"] == 0.5
    assert shape["uniform_like"]["heads"] == 1 and shape["uniform_like"]["below_floor"] == 0.0
    assert shape["window_like"]["share"]["mean"] == 0.5 and shape["uniform_like"]["share"]["mean"] == 0.25


def test_separation():
    a = {"floor": {"per_answer": [0.5, 0.6, 0.7]}}
    b = {"floor": {"per_answer": [0.55, 0.65]}}
    auroc, separated = sg.separation(a, b)
    assert auroc == pytest.approx(3 / 6) and not separated
    assert sg.separation(b, {"floor": {"per_answer": [0.1]}}) == (1.0, True)
    assert sg.separation(a, {"floor": {"per_answer": []}}) == (None, False)


def test_the_report_carries_signature_and_direction(tmp_path):
    recs = synthetic_records(n_items=40)
    for r in recs:  # G a decreasing function of the diagonal baseline, head by head
        r["G"] = (-r["attn_score"]).astype(np.float32)
    report = evaluate(recs, n_boot=20)
    assert report.signature["answers"] == 40
    assert report.direction["spearman_all_heads"] == pytest.approx(-1.0)
    assert report.direction["spearman_per_head_median"] == pytest.approx(-1.0)
    assert report.direction["attn_score_plus_G"]["n_features"] == 2 * 3 * 2
    report.write(tmp_path / "r.json")
    again = load_report(tmp_path / "r.json")
    assert again.signature["floor"]["per_answer"] == report.signature["floor"]["per_answer"]
    md = write_markdown(again)
    assert "## Architectural signature (faithful answers)" in md and "## G against the diagonal" in md


def test_a_report_from_before_the_signature_loads_without_it():
    from attention_transport.figures import bundled_reports

    rep = load_report(bundled_reports()[0])
    assert isinstance(rep, Report)
    if not rep.signature:
        assert "Architectural signature" not in write_markdown(rep)
