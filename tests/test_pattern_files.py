"""Bring your own pattern: FlexAttention files, their compositions and sparse matrices through ``check``.

Every value ``check`` prints is compared with a direct computation on a dense matrix built here by
definition — a Python loop over (i, j) evaluating the formula of the example's docstring — to 1e-9.
"""
import io
import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_transport.cli import main
from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape
from attention_transport.numerics.operators import asymmetry_coefficient
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.spectral import laplacian_spectrum

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "patterns"


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def by_definition(n, support, score=None):
    W = np.zeros((n, n))
    for i in range(n):
        logits = {j: (score(i, j) if score else 0.0) for j in range(n) if support(i, j)}
        top = max(logits.values())
        for j, s in logits.items():
            W[i, j] = math.exp(s - top)
    return W / W.sum(axis=1, keepdims=True)


_LENGTHS = [1, 300, 120, 517, 64, 1000]
_DOC = np.repeat(np.arange(6 * 256), np.tile(_LENGTHS, 256))


def _hash_link(i, j):
    return ((i * 2654435761 + j * 40503) % 1000003) % 97 == 0


ORACLES = {
    "band_global": (lambda i, j: abs(i - j) <= 64 or i < 4 or j < 4, None),
    "strided_causal": (lambda i, j: j <= i and (i - j < 32 or (i - j) % 32 == 0), None),
    "document_bos": (lambda i, j: j <= i and (_DOC[i] == _DOC[j] or j == 0), None),
    "alibi_sink": (lambda i, j: j <= i, lambda i, j: -(i - j) / 16 + (2.0 if j == 0 else 0.0)),
    "hashed_links": (lambda i, j: j <= i and (i - j < 16 or _hash_link(i, j)), None),
}


def reference(A):
    land = prefix_landscape(A)
    bm = bipartite_minimum(A)
    return {"phi": land.capacity, "phi_bip": bm.phi, "G": asymmetry_coefficient(A),
            "lambda2": float(laplacian_spectrum(A)[1])}


def assert_record(rec, A):
    ref = reference(A)
    for key, value in ref.items():
        assert rec[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert prefix_landscape(A).phi[rec["t_star"] - 1] == pytest.approx(ref["phi"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(ORACLES))
@pytest.mark.parametrize("n, extra", [(130, []), (700, ["--dense-max", "100"])])
def test_flexattention_examples_agree_with_a_direct_computation(name, n, extra):
    pytest.importorskip("torch")
    code, text = run(["check", f"file:{EXAMPLES / name}.py", "--n", str(n), "--json"] + extra)
    assert code == 0, text
    rec = json.loads(text)
    assert rec["spec"] == f"file:{EXAMPLES / name}.py"
    assert rec["structure"] == ("dense" if not extra else "sparse")
    support, score = ORACLES[name]
    assert_record(rec, by_definition(n, support, score))


COMPOSITIONS = [
    ("union(file:{d}/band_global.py, window:w=8)",
     lambda n, F, L: _uniform((F > 0) | (L["window:w=8"] > 0))),
    ("mix(file:{d}/alibi_sink.py@0.5, uniform-causal@0.5)", lambda n, F, L: 0.5 * F + 0.5 * L["uniform-causal"]),
    ("stack(file:{d}/strided_causal.py, window:w=16)", lambda n, F, L: L["window:w=16"] @ F),
    ("repeat(file:{d}/hashed_links.py, 3)", lambda n, F, L: F @ F @ F),
]


def _uniform(mask):
    return mask / mask.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("spec, build", COMPOSITIONS, ids=[c[0].split("(")[0] for c in COMPOSITIONS])
@pytest.mark.parametrize("n, extra", [(90, []), (400, ["--dense-max", "50"])])
def test_compositions_with_pattern_files(spec, build, n, extra):
    pytest.importorskip("torch")
    spec = spec.format(d=EXAMPLES)
    name = spec.split("file:")[1].split("/")[-1].split(".py")[0]
    support, score = ORACLES[name]
    F = by_definition(n, support, score)
    L = {s: parse_pattern(s).dense(n) for s in ("window:w=8", "uniform-causal", "window:w=16")}
    code, text = run(["check", spec, "--n", str(n), "--json"] + extra)
    assert code == 0, text
    assert_record(json.loads(text), build(n, F, L))


# ---------------------------------------------------------------- random predicates and score_mods, numpy files
ATOMS = {
    "causal": ("(q_idx >= kv_idx)", lambda i, j: i >= j),
    "band": ("(abs(q_idx - kv_idx) <= {a})", lambda a: lambda i, j: abs(i - j) <= a),
    "stride": ("((q_idx - kv_idx) % {a} == 0)", lambda a: lambda i, j: (i - j) % a == 0),
    "modular": ("(kv_idx % {a} == {b})", lambda a, b: lambda i, j: j % a == b),
    "global": ("(kv_idx < {a})", lambda a: lambda i, j: j < a),
    "global_rows": ("(q_idx < {a})", lambda a: lambda i, j: i < a),
}


@st.composite
def predicates(draw):
    """A mask_mod source built from bands, strides, modular conditions and global sets, and its oracle."""
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(ATOMS)))
        a = draw(st.integers(1, 6))
        b = draw(st.integers(0, a - 1))
        src, fn = ATOMS[kind]
        if kind == "causal":
            terms.append((src, fn))
        elif kind == "modular":
            terms.append((src.format(a=a, b=b), fn(a, b)))
        else:
            terms.append((src.format(a=a), fn(a)))
    ops = [draw(st.sampled_from(["&", "|"])) for _ in terms[1:]]
    src = terms[0][0]
    expr = lambda i, j, f=terms[0][1]: f(i, j)  # noqa: E731
    for op, (s, f) in zip(ops, terms[1:]):
        src = f"({src} {op} {s})"
        expr = (lambda e, g, o: (lambda i, j: (e(i, j) and g(i, j)) if o == "&" else (e(i, j) or g(i, j))))(expr, f, op)
    # every row keeps its diagonal, as a mask_mod for attention must
    return f"({src}) | (q_idx == kv_idx)", (lambda e: lambda i, j: e(i, j) or i == j)(expr)


def _write(tmp, body):
    path = Path(tmp) / f"p{abs(hash(body))}.py"
    path.write_text(textwrap.dedent(body))
    return path


@given(predicates(), st.floats(0, 1), st.floats(-2, 2), st.integers(12, 40), st.booleans())
@settings(max_examples=25, deadline=None)
def test_random_predicates_and_score_mods(tmp_path_factory, pred, slope, bonus, n, with_score):
    source, oracle_mask = pred
    body = f"""
    import numpy as np

    def mask_mod(b, h, q_idx, kv_idx):
        return {source}
    """
    if with_score:
        body += f"""
    def score_mod(score, b, h, q_idx, kv_idx):
        return score - {slope!r} * np.abs(q_idx - kv_idx) + np.where(kv_idx % 3 == 0, {bonus!r}, 0.0)
    """
    path = _write(tmp_path_factory.mktemp("pred"), body)
    score = (lambda i, j: -slope * abs(i - j) + (bonus if j % 3 == 0 else 0.0)) if with_score else None
    A = by_definition(n, oracle_mask, score)
    P = parse_pattern(f"file:{path}")
    np.testing.assert_allclose(P.dense(n), A, rtol=1e-12, atol=1e-300)
    s = P.sums(n)
    np.testing.assert_allclose(s.c, A.sum(axis=0), rtol=1e-12)
    assert P.rational is not with_score


@given(st.floats(0.01, 1).filter(lambda x: x * 2**20 != int(x * 2**20)), st.floats(-3, 3), st.integers(20, 300))
@settings(max_examples=10, deadline=None)
def test_torch_score_mods_are_evaluated_in_float64(tmp_path_factory, slope, bonus, n):
    """``slope * (q_idx - kv_idx)`` on int64 tensors is float32 under torch's default dtype; a score_mod must
    not lose its digits there (a non-dyadic slope shows it: float32 logits are off by ~1e-7 relative)."""
    pytest.importorskip("torch")
    path = _write(tmp_path_factory.mktemp("torch"), f"""
    import torch

    def mask_mod(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    def score_mod(score, b, h, q_idx, kv_idx):
        return score - {slope!r} * (q_idx - kv_idx) + torch.where(kv_idx == 0, {bonus!r}, 0.0)
    """)
    A = by_definition(n, lambda i, j: j <= i, lambda i, j: -slope * (i - j) + (bonus if j == 0 else 0.0))
    np.testing.assert_allclose(parse_pattern(f"file:{path}").dense(n), A, rtol=1e-12, atol=1e-300)
    import torch

    assert torch.get_default_dtype() == torch.float32  # restored after every call


def test_a_numpy_file_works_without_torch_and_names_pick_functions(tmp_path):
    path = _write(tmp_path, """
    def sliding(b, h, q_idx, kv_idx):
        return (q_idx >= kv_idx) & (q_idx - kv_idx < 4)

    def decay(score, b, h, q_idx, kv_idx):
        return score - 0.5 * (q_idx - kv_idx)
    """)
    P = parse_pattern(f"file:{path}:sliding+decay")
    n = 20
    A = by_definition(n, lambda i, j: 0 <= i - j < 4, lambda i, j: -0.5 * (i - j))
    np.testing.assert_allclose(P.dense(n), A, rtol=1e-13)
    assert P.spec == f"file:{path}:sliding+decay"
    only_mask = parse_pattern(f"file:{path}:sliding")
    np.testing.assert_allclose(only_mask.dense(n), by_definition(n, lambda i, j: 0 <= i - j < 4), rtol=1e-13)


def test_editing_the_file_makes_a_new_pattern(tmp_path):
    path = tmp_path / "edit.py"
    path.write_text("def mask_mod(b, h, q_idx, kv_idx):\n    return q_idx >= kv_idx\n")
    first = parse_pattern(f"file:{path}")
    path.write_text("def mask_mod(b, h, q_idx, kv_idx):\n    return (q_idx >= kv_idx) & (q_idx - kv_idx < 2)\n")
    second = parse_pattern(f"file:{path}")
    assert first != second
    assert second.dense(5)[4, 0] == 0 and first.dense(5)[4, 0] == pytest.approx(0.2)


# ---------------------------------------------------------------- errors in the user's file: one line, exit 2
BAD = [
    ("nothing.py", "x = 1\n", None, "defines neither mask_mod(b, h, q_idx, kv_idx) nor score_mod"),
    ("signature.py", "def mask_mod(q_idx, kv_idx):\n    return q_idx >= kv_idx\n", None,
     "mask_mod must take (b, h, q_idx, kv_idx) as a mask_mod"),
    ("nonbool.py", "def mask_mod(b, h, q_idx, kv_idx):\n    return q_idx - kv_idx\n", None,
     "mask_mod must return booleans; got dtype int64 at (i, j) = (0, 0)"),
    ("empty.py", "def mask_mod(b, h, q_idx, kv_idx):\n    return q_idx < kv_idx\n", None,
     "mask_mod: row 7 is empty"),
    ("nan.py", "import numpy as np\ndef score_mod(score, b, h, q_idx, kv_idx):\n"
               "    return np.where((q_idx == 3) & (kv_idx == 2), np.nan, 0.0)\n", None,
     "score_mod: the score must be finite or -inf; got nan at (i, j) = (3, 2)"),
    ("raises.py", "def mask_mod(b, h, q_idx, kv_idx):\n    raise KeyError('boom')\n", None,
     "mask_mod raised KeyError on rows 0..7: 'boom'"),
    ("syntax.py", "def mask_mod(b, h, q_idx, kv_idx)\n    return True\n", None,
     "loading the pattern file raised SyntaxError"),
    ("named.py", "def mask_mod(b, h, q_idx, kv_idx):\n    return q_idx >= kv_idx\n", "other",
     "has no function 'other'"),
]


@pytest.mark.parametrize("fname, body, name, message", BAD, ids=[b[0] for b in BAD])
def test_errors_in_pattern_files_are_one_line(tmp_path, capsys, fname, body, name, message):
    path = tmp_path / fname
    path.write_text(body)
    spec = f"file:{path}" + (f":{name}" if name else "")
    code = main(["check", spec, "--n", "8"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and str(path) in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("spec, message", [
    ("file:/no/such/file.py", "pattern file not found: /no/such/file.py"),
    ("file:pattern.txt", "a pattern file must be a .py file; got 'pattern.txt'"),
    ("stack(window:w=4, mix(window@0.5))", "mix weights must be nonnegative and sum to exactly 1"),
])
def test_spec_errors_exit_2(capsys, spec, message):
    assert main(["check", spec, "--n", "8"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ---------------------------------------------------------------- sparse matrices
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_matrix_files_equal_the_dense_route(tmp_path, fmt):
    n = 300
    A = parse_pattern("union(bigbird:b=8,g=1,r=2,seed=3, window:w=5)").dense(n)
    path = tmp_path / "m.npz"
    sp.save_npz(path, getattr(sp, f"{fmt}_matrix")(A))
    code, text = run(["check", "--matrix", str(path), "--json", "--dense-max", "10"])
    assert code == 0, text
    rec = json.loads(text)
    assert rec["dtype"] == f"sparse {fmt} float64" and rec["n"] == n
    assert_record(rec, A)


def test_bad_sparse_matrices_are_one_line(tmp_path, capsys):
    bad = sp.csr_matrix(np.array([[1.0, 0.0], [0.5, -0.5]]))
    path = tmp_path / "neg.npz"
    sp.save_npz(path, bad)
    assert main(["check", "--matrix", str(path)]) == 2
    assert "entries must be finite and nonnegative; got A[1, 1] = -0.5" in capsys.readouterr().err
    rect = tmp_path / "rect.npz"
    sp.save_npz(rect, sp.csr_matrix(np.ones((2, 3)) / 3))
    assert main(["check", "--matrix", str(rect)]) == 2
    assert "the matrix must be square; got shape (2, 3)" in capsys.readouterr().err


def test_patterns_lists_families_presets_compositions_and_files():
    code, text = run(["patterns"])
    assert code == 0
    for needle in ("window:w=16", "longformer:w=512,g=1", "Beltagy", "stack(P1, ..., Pk)", "mix(P@w1, Q@w2, ...)",
                   "repeat(P, k)", "union(P, Q, ...)", "file:PATH.py", "mask_mod(b, h, q_idx, kv_idx)"):
        assert needle in text, needle
    for line in text.splitlines():  # every example listed parses
        if "e.g. " in line:
            parse_pattern(line.split("e.g. ", 1)[1])


def test_plot_draws_the_landscape_of_any_pattern(tmp_path, capsys):
    path = tmp_path / "landscape.png"
    code, _ = run(["check", "stack(sink-window:s=2,w=8, window:w=8)", "--n", "100", "--plot", str(path)])
    assert code == 0 and path.stat().st_size > 10_000
    big = tmp_path / "big.svg"
    code, _ = run(["check", "window:w=16", "--n", "5000", "--plot", str(big), "--json"])
    assert code == 0 and "Prefix landscape, n = 5000" in big.read_text() and "Bipartite" not in big.read_text()
    assert main(["check", "window", "--n", "10", "--plot", str(tmp_path / "x.gif")]) == 2
    assert "--plot needs a file ending in .png, .pdf, .svg; got 'x.gif'" in capsys.readouterr().err


def test_the_symmetrised_product_evaluates_each_row_block_once(monkeypatch):
    """Without a sparse form, λ₂'s eigensolver applies (A + Aᵀ) through one pass over the row blocks (each block
    used twice), not two: half the evaluations of the user's functions per iteration."""
    P = parse_pattern(f"file:{EXAMPLES}/alibi_sink.py")
    monkeypatch.setattr(type(P), "sparse_from_blocks_max_n", 1)  # no sparse form: the blocked route
    n = 70
    A = by_definition(n, lambda i, j: j <= i, lambda i, j: -(i - j) / 16 + (2.0 if j == 0 else 0.0))
    assert P.sparse(n) is None
    passes = []
    blocks = type(P).row_blocks
    monkeypatch.setattr(type(P), "row_blocks", lambda self, m, *a: (passes.append(m), blocks(self, m, *a))[1])
    x = np.random.default_rng(4).standard_normal((n, 3))
    np.testing.assert_allclose(P.symmetric_product(n, x), (A + A.T) @ x, atol=1e-12)
    assert len(passes) == 1
