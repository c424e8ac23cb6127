"""`attention-transport check`: JSON contract, human table, errors (one line, exit status 2)."""
import io
import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from attention_transport.cli import main
from attention_transport.numerics.exact import exact_prefix_capacity
from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape
from attention_transport.numerics.operators import asymmetry_coefficient
from attention_transport.numerics.patterns import PATTERNS, parse_pattern
from attention_transport.theory import window as window_theory
from attention_transport.numerics.spectral import spectral_gap

REQUIRED = {"n", "phi", "t_star", "phi_bip", "a_star", "b_star", "G", "lambda2"}


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("name", list(PATTERNS))
def test_json_contract_every_pattern(name):
    code, text = run(["check", name, "--n", "24", "--json"])
    assert code == 0
    rec = json.loads(text)
    assert isinstance(rec, dict) and REQUIRED <= rec.keys()
    A = parse_pattern(name).dense(24)
    land, bm = prefix_landscape(A), bipartite_minimum(A)
    assert rec["n"] == 24
    assert rec["phi"] == pytest.approx(land.capacity, rel=1e-12)
    assert rec["t_star"] == land.t_star and rec["t_star_over_n"] == land.t_star / 24
    assert (rec["phi_bip"], rec["a_star"], rec["b_star"]) == (pytest.approx(bm.phi, rel=1e-12), bm.a_star, bm.b_star)
    assert rec["G"] == pytest.approx(asymmetry_coefficient(A), rel=1e-12)
    assert rec["lambda2"] == pytest.approx(spectral_gap(A), rel=1e-9, abs=1e-12)
    assert rec["cheeger_lower"] <= rec["cheeger_upper"] + 1e-12
    assert rec["below_floor"] == (rec["phi"] < 0.2)
    if "phi_exact" in rec:
        assert float(Fraction(rec["phi_exact"])) == pytest.approx(rec["phi"], rel=1e-12)


def test_several_n_give_a_list_with_scaling():
    code, text = run(["check", "window:w=16", "--n", "100", "1000", "10000", "--json"])
    assert code == 0
    recs = json.loads(text)
    assert [r["n"] for r in recs] == [100, 1000, 10000]
    sc = recs[0]["scaling"]
    assert sc["exponent"] == pytest.approx(-1.0, abs=0.05)  # O(w/n)
    # first n with φ < 1/5, recomputed here by brute force on the dense matrices
    # in exact rationals: φ₃₈ = 1/5 exactly (n = 5(w − 1)/2 + 1/2), and float64 rounds it to 0.19999…
    P = parse_pattern("window:w=16")
    first = next(n for n in range(2, 200) if exact_prefix_capacity(P.exact_dense(n))[0] < Fraction(1, 5))
    assert first == 39 and exact_prefix_capacity(P.exact_dense(38))[0] == Fraction(1, 5)
    assert sc["first_n_below_floor"] == first
    # n = 10000 is past the dense route: φ_bip from the exact row-streamed scan, against the closed form (C5)
    assert recs[2]["structure"] == "structural" and recs[1]["structure"] == "dense"
    assert recs[2]["phi_bip"] == pytest.approx(float(window_theory.bipartite_minimum(10000, 16)), rel=1e-12)


def test_uniform_causal_headline():
    code, text = run(["check", "uniform-causal", "--n", "3", "10", "1000", "1000000"])
    assert code == 0
    assert "φ = 5/17 exactly" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("1000000"))
    assert "0.364311" in row and "0.3178" in row
    assert "φ ≥ 1/5 for every n ≤ 4096" in text
    # past the O(n²) scan, the nested-grid search: just above C4b's floor φ_bip* ≈ 0.248061,
    # at (a*, b*) ≈ (0.2168, 0.4517) n
    assert "0.248061" in row and "216849" in row and "451686" in row
    assert "skipped phi_bip" not in text


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_matrix_file(tmp_path, dtype):
    A = parse_pattern("random-softmax:beta=2,seed=1").dense(30).astype(dtype)
    f = tmp_path / "head.npy"
    np.save(f, A)
    code, text = run(["check", "--matrix", str(f), "--json"])
    assert code == 0, text
    rec = json.loads(text)
    assert REQUIRED <= rec.keys() and rec["dtype"] == np.dtype(dtype).name
    assert rec["phi"] == pytest.approx(prefix_landscape(A.astype(np.float64)).capacity, rel=1e-12)
    assert rec["causal"] is True


def test_matrix_npz_with_key(tmp_path):
    f = tmp_path / "heads.npz"
    np.savez(f, a=parse_pattern("window:w=3").dense(12), b=parse_pattern("bidirectional-uniform").dense(12))
    code, text = run(["check", "--matrix", str(f), "--key", "b", "--json"])
    assert code == 0
    rec = json.loads(text)
    assert rec["G"] == 0.0 and rec["phi"] == pytest.approx(0.5) and rec["causal"] is False


ERRORS = [
    (["check", "nope"], "unknown pattern 'nope'; known patterns:"),
    (["check", "window:w=0"], "parameter w of 'window' must be >= 1; got 0"),
    (["check", "window", "--n", "1"], "n must be >= 2; got 1"),
    (["check", "window", "--n", "x"], "must be an integer; got 'x'"),
    (["check"], "check needs exactly one of PATTERN or --matrix FILE"),
    (["check", "--matrix", "missing.npy"], "matrix file not found: missing.npy"),
    (["bogus"], "invalid choice: 'bogus'"),
]


@pytest.mark.parametrize("argv, message", ERRORS)
def test_errors_one_line_exit_2(argv, message, capsys):
    code, _ = run(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("attention-transport: error: ")
    assert message in err


def _save(tmp_path, name, arr):
    f = tmp_path / name
    np.save(f, arr)
    return str(f)


@pytest.mark.parametrize("make, message", [
    (lambda p: _save(p, "rect.npy", np.ones((2, 3)) / 3), "must be square; got shape (2, 3)"),
    (lambda p: _save(p, "neg.npy", np.array([[1.5, -0.5], [0.5, 0.5]])), "nonnegative; got A[0, 1] = -0.5"),
    (lambda p: _save(p, "nan.npy", np.array([[np.nan, 1.0], [0.5, 0.5]])), "finite; got A[0, 0] = nan"),
    (lambda p: _save(p, "rows.npy", np.array([[0.6, 0.6], [0.5, 0.5]])), "rows of A must sum to 1 within 1e-09; got row 0"),
    (lambda p: _save(p, "int.npy", np.eye(2, dtype=np.int64)), "dtype must be float16, float32 or float64; got int64"),
    (lambda p: _save(p, "one.npy", np.ones((1, 1))), "needs n >= 2 tokens"),
    (lambda p: _save(p, "zero.npy", np.array([[1.0, 0, 0], [0, 0, 0], [0.5, 0, 0.5]])), None),
    (lambda p: str(p / "x.txt"), "matrix file not found"),
    (lambda p: (p / "bad.npy").write_bytes(b"not an array") and str(p / "bad.npy"),
     "bad.npy is not a .npy file: it is a text file"),
    (lambda p: (p / "bad.npz").write_bytes(b"PK\x03\x04 junk") and str(p / "bad.npz"), "bad.npz is not a readable .npz"),
    (lambda p: _save(p, "obj.npy", np.array([None, 1], dtype=object)), "obj.npy is not a readable .npy array"),
])
def test_matrix_errors(tmp_path, make, message, capsys):
    path = make(tmp_path)
    tol = "none" if message is None else "auto"  # a stochastic row never has zero degree
    code, out = run(["check", "--matrix", path, "--row-tol", tol, "--json"])
    err = capsys.readouterr().err
    if message is None:  # zero-degree vertex: G and λ₂ are skipped with the reason, not invented
        rec = json.loads(out)
        assert code == 0 and rec["G"] is None and "zero-degree vertex" in rec["skipped"]["G"]
        assert rec["lambda2"] is None
        return
    assert code == 2 and err.count("\n") == 1 and message in err


def test_npz_ambiguous_key(tmp_path, capsys):
    f = tmp_path / "two.npz"
    np.savez(f, a=np.eye(2), b=np.eye(2))
    assert run(["check", "--matrix", str(f)])[0] == 2
    assert "holds 2 arrays (a, b); choose one with --key" in capsys.readouterr().err


def test_console_script_process():
    """The installed command: exit status 2, one stderr line, no traceback."""
    exe = os.path.join(os.path.dirname(sys.executable), "attention-transport")
    bad = subprocess.run([exe, "check", "window:w=zero"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
    good = subprocess.run([exe, "check", "uniform-causal", "--n", "3", "--json"], capture_output=True, text=True)
    assert good.returncode == 0 and json.loads(good.stdout)["phi_exact"] == "5/17"
