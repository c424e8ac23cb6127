"""The fault suite: what a new user can do wrong, and what the package must answer.

One table of (command line, exit status, message fragment), each run through the
command line in-process: a bad input ends in exactly one line on stderr naming
the problem and the value received, status 2, never a traceback; the inputs that
are fine (a huge window width, big-endian floats) end in status 0.  Then the
faults a table cannot hold: a closed pipe, Ctrl-C, ``MemoryError``, a run killed
with SIGKILL at several points whose finished files are then damaged in several
ways, and capacities from 1e-300 to 1 through the command line.

Each row names the defect it guards (issue "Faults found when tried as a new
user would"); the rows that passed before that issue keep them passing.
"""
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from attention_strategies import tiny_capacity_matrices
from attention_transport.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
QA_BAD = FIXTURES / "halueval_qa_bad.jsonl"
MED_CSV = FIXTURES / "medhallu_small.csv"


def _npy(name, arr, **kw):
    def make(tmp):
        np.save(tmp / name, arr, **kw)
        return str(tmp / name)
    return make


def _bytes(name, data):
    def make(tmp):
        (tmp / name).write_bytes(data)
        return str(tmp / name)
    return make


def _npz_under_npy(tmp):
    np.savez(tmp / "a.npz", a=np.eye(3))
    os.replace(tmp / "a.npz", tmp / "a.npy")
    return str(tmp / "a.npy")


def _npy_under_npz(tmp):
    np.save(tmp / "a.npy", np.eye(3))
    os.replace(tmp / "a.npy", tmp / "a.npz")
    return str(tmp / "a.npz")


def _truncated_npy(tmp):
    np.save(tmp / "t.npy", np.eye(40))
    data = (tmp / "t.npy").read_bytes()
    (tmp / "t.npy").write_bytes(data[: len(data) // 2])
    return str(tmp / "t.npy")


def _directory(tmp):
    (tmp / "d.npy").mkdir()
    return str(tmp / "d.npy")


def _huge_npy(tmp):  # a header promising 50 GB: refused before numpy allocates
    from numpy.lib.format import open_memmap

    del_me = open_memmap(tmp / "huge.npy", mode="w+", dtype=np.float64, shape=(80000, 80000))
    del del_me
    return str(tmp / "huge.npy")


def _report(mutate):
    def make(tmp):
        shipped = Path(__file__).parents[1] / "src/attention_transport/data/reports/smollm2-135m_halueval-qa.json"
        d = json.loads(shipped.read_text())
        d = mutate(d)
        (tmp / "r.json").write_text(json.dumps(d))
        return str(tmp / "r.json")
    return make


def _drop(key, *path):
    def mutate(d):
        node = d
        for p in path:
            node = node[p]
        del node[key]
        return d
    return mutate


def _set(value, *path):
    def mutate(d):
        node = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
        return d
    return mutate


def _medhallu(rows):
    def make(tmp):
        head, *body = MED_CSV.read_bytes().split(b"\n")
        (tmp / "m.csv").write_bytes(b"\n".join([head, body[0], *rows]) + b"\n")
        return str(tmp / "m.csv")
    return make


def _not_a_model(tmp):
    (tmp / "mdl").mkdir()
    (tmp / "mdl" / "weights.txt").write_text("x")
    return str(tmp / "mdl")


def _run_json(text):
    def make(tmp):
        (tmp / "out").mkdir(exist_ok=True)
        (tmp / "out" / "run.json").write_text(text)
        return str(tmp / "out")
    return make


_VALIDATE = ["validate", "--benchmark", "halueval-qa", "--data", str(QA_BAD), "--skip-bad"]

#: (argv with callables building files in tmp_path, exit status, message fragment or None)
FAULTS = [
    # --- silent wrong numbers and hangs: now refused, clamped or right ---
    (["check", "window:w=1000000000000", "--n", "50"], 0, None),  # clamped to n: full causal rows
    (["check", "dilated:w=1000000000,k=2", "--n", "50"], 0, None),
    (["check", "sink-window:s=4,w=1000000000000", "--n", "50"], 0, None),
    (["check", "bidirectional-window:w=1000000000000", "--n", "50"], 0, None),
    (["check", "window:w=1e20", "--n", "10"], 2, "parameter w of 'window' must be int; got '1e20'"),
    (["check", "block-causal:b=100000000000000000000000", "--n", "10"], 2, "must be <= 2^62"),
    (["figures", "--format", ","], 2, "figure format must be one or more of png, pdf, svg; got ''"),
    (["figures", "--format", ""], 2, "figure format must be one or more of png, pdf, svg"),
    # --- memory, checked before allocating ---
    (["check", "uniform-causal", "--n", "10000000000"], 2, "check uniform-causal at n = 10000000000 needs about"),
    (["check", "uniform-causal", "--n", "60000", "--dense-max", "60000"], 2, "needs about"),
    (["check", "--matrix", _huge_npy], 2, "huge.npy needs about 47.7 GiB of memory"),
    # --- matrix files: one line naming the file and what it is ---
    (["check", "--matrix", _npz_under_npy], 2, "a.npy is named .npy but holds a .npz (zip) archive; rename it to .npz"),
    (["check", "--matrix", _npy_under_npz], 2, "a.npz is named .npz but holds a .npy array; rename it to .npy"),
    (["check", "--matrix", _bytes("text.npy", b"0.5 0.5\n0.5 0.5\n")], 2,
     "text.npy is not a .npy file: it is a text file (it begins with '0.5 0.5')"),
    (["check", "--matrix", _bytes("accents.npy", ("a" + "é" * 40).encode())], 2,  # 64 bytes end inside a character
     "accents.npy is not a .npy file: it is a text file (it begins with 'aééé"),
    (["check", "--matrix", _bytes("empty.npy", b"")], 2, "empty.npy is not a .npy file: it is an empty file"),
    (["check", "--matrix", _bytes("bin.npy", b"\x00\x01\x02\x03garbage")], 2,
     "bin.npy is not a .npy file: it is binary data of another format"),
    (["check", "--matrix", _directory], 2, "d.npy is a directory, not a matrix file"),
    (["check", "--matrix", _npy("obj.npy", np.array([[1, None], [0, 1]], dtype=object), allow_pickle=True)], 2,
     "obj.npy is not a readable .npy array file: it holds pickled Python objects"),
    (["check", "--matrix", _truncated_npy], 2, "t.npy is not a readable .npy array file"),
    (["check", "--matrix", _npy("big.npy", (np.eye(3) * 1.0).astype(">f8"))], 0, None),  # big-endian: accepted
    (["check", "--matrix", _npy("int.npy", np.eye(3, dtype=np.int64))], 2,
     "dtype must be float16, float32 or float64; got int64"),
    (["check", "--matrix", _npy("ok.npy", np.eye(3)), "--key", "a"], 2, "--key applies to .npz archives"),
    (["check", "--matrix", "missing.npy"], 2, "matrix file not found: missing.npy"),
    # --- figures on malformed reports: the file and the key ---
    (["figures", "--only", "F6", "--reports", _bytes("n.json", b"3")], 2,
     "is not a validation report: it holds a JSON int, not an object"),
    (["figures", "--only", "F6", "--reports", _bytes("n.json", b"null")], 2, "it holds a JSON null"),
    (["figures", "--only", "F6", "--reports", _bytes("n.json", b"{not json")], 2, "n.json is not JSON"),
    (["figures", "--only", "F6", "--reports", _report(_drop("features"))], 2, "missing key features"),
    (["figures", "--only", "F6", "--reports", _report(_drop("lc_auroc", "features", "phi"))], 2,
     "r.json: missing key features.phi.lc_auroc"),
    (["figures", "--only", "F6", "--reports", _report(_set("x", "features", "phi", "lc_auroc"))], 2,
     'r.json: key features.phi.lc_auroc must be a number or null; got "x"'),
    (["figures", "--only", "F6", "--reports", _report(_set(5, "features"))], 2, "key features must be an object; got 5"),
    (["figures", "--only", "F6", "--reports", _report(_drop("heads"))], 2, "missing key heads"),
    (["figures", "--only", "F6", "--reports", _report(_set(None, "strata", "n_pairs"))], 2,
     "key strata.n_pairs must be an integer; got null"),
    # --- datasets: file:line, skippable ---
    (["validate", "--model", "x", "--benchmark", "medhallu", "--data",
      _medhallu([b'Q?,"[""' + b"y" * (17 << 20) + b'""]",A,B,Easy,Misinterpretation'])], 2,
     "m.csv:3: malformed CSV (a field is longer than 16 MiB)"),
    (["validate", "--model", "x", "--benchmark", "medhallu", "--data",
      _medhallu([b'Q \xff?,"[""k""]",A,B,Easy,Misinterpretation'])], 2, "m.csv:3: not UTF-8 text (byte 0xff"),
    (["validate", "--model", "no-such-model", "--benchmark", "medhallu", "--skip-bad", "--data",
      _medhallu([b'Q?,"[""' + b"y" * (200 << 10) + b'""]",A,B,Easy,Misinterpretation',
                 b'Q \xff?,"[""k""]",A,B,Easy,Misinterpretation'])], 2, "unknown model 'no-such-model'"),
    (["validate", "--model", "x", "--benchmark", "halueval-qa", "--data", _bytes("q.jsonl", b'{"a": "\xff"}\n')], 2,
     "q.jsonl:1: not UTF-8 text (byte 0xff at column 8)"),
    (["validate", "--model", "x", "--benchmark", "halueval-qa", "--data", str(QA_BAD)], 2, "halueval_qa_bad.jsonl:"),
    # --- validate: settings before anything runs, the model checked before anything is written ---
    (_VALIDATE + ["--model", "x", "--seed", "-1"], 2, "argument --seed: must be >= 0; got -1"),
    (_VALIDATE + ["--model", "x", "--limit", "2"], 2, "--limit 2 keeps fewer items than the 5 cross-validation folds"),
    (_VALIDATE + ["--model", "x", "--lapeig-k", "100000"], 2, "--lapeig-k must be in 1..512"),
    (_VALIDATE + ["--model", "x", "--lapeig-k", "100", "--max-tokens", "50"], 2, "--lapeig-k must be in 1..50"),
    (_VALIDATE + ["--model", _not_a_model], 2, "mdl is not a model directory: it has no config.json"),
    (_VALIDATE + ["--model", "no-such-model"], 2, "unknown model 'no-such-model'"),
    (_VALIDATE + ["--model", "missing/model.gguf"], 2, "model path not found: missing/model.gguf"),
    (_VALIDATE + ["--model", "smollm2-135m", "--cache", ".", "--offline"], 2, "smollm2-135m is not in the cache"),
    # --- unknown names ---
    (["check", "nosuch", "--n", "5"], 2, "unknown pattern 'nosuch'"),
    (["verify", "--only", "C99"], 2, "unknown claim 'C99'"),
    (["fetch", "nosuch"], 2, "unknown component 'nosuch'"),
    (["figures", "--only", "F99"], 2, "unknown figure 'F99'"),
    (["check", "file:missing.py", "--n", "5"], 2, "pattern file not found: missing.py"),
]


def run_cli(argv, tmp_path, capsys):
    argv = [a(tmp_path) if callable(a) else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, status, message", FAULTS, ids=lambda v: None)
def test_fault_table(argv, status, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(argv, tmp_path, capsys)
    assert code == status, err
    assert "Traceback" not in err
    if message is None:
        assert err == ""
    else:
        assert message in err and err.count("\n") == 1, err


def test_a_malformed_manifest_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")  # passes the model check; the manifest is read next
    for text, says in (("{not json", "is not a run manifest (JSONDecodeError"), ("[1, 2]", "holds a JSON list")):
        out = _run_json(text)(tmp_path)
        code, err = run_cli(_VALIDATE + ["--model", "m", "--out", out], tmp_path, capsys)
        assert code == 2 and "run.json" in err and says in err and err.count("\n") == 1, err


def test_a_refused_run_leaves_no_manifest(tmp_path, capsys):
    """A bad --model used to write run.json first and lock the folder against the corrected command."""
    out = tmp_path / "out"
    code, err = run_cli(_VALIDATE + ["--model", "no-such-model", "--out", str(out)], tmp_path, capsys)
    assert code == 2 and not (out / "run.json").exists()
    code, err = run_cli(_VALIDATE + ["--model", "x", "--limit", "2", "--out", str(out)], tmp_path, capsys)
    assert code == 2 and not (out / "run.json").exists()


def test_memory_error_and_interrupt_are_one_line(monkeypatch, capsys):
    from attention_transport.cli import COMMANDS

    def boom(exc):
        def run(args, out):
            raise exc
        return run

    monkeypatch.setattr(COMMANDS["patterns"], "run", boom(MemoryError()))
    assert main(["patterns"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("attention-transport: error: out of memory") and err.count("\n") == 1
    monkeypatch.setattr(COMMANDS["patterns"], "run", boom(KeyboardInterrupt()))
    assert main(["patterns"]) == 130
    assert capsys.readouterr().err == "attention-transport: interrupted\n"


CLI = [sys.executable, "-m", "attention_transport"]


def test_a_closed_pipe_ends_quietly():
    """`check … | head -c 100`: status 141 (SIGPIPE's), nothing on stderr."""
    argv = CLI + ["check", "window:w=4", "--json", "--n"] + [str(n) for n in range(2, 150)]  # more than a pipe holds
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141 and err == ""


SWALLOWED_AT_IMPORT = """
import builtins, os, signal, sys
from attention_transport import __main__ as entry
real = builtins.__import__
def swallowing(name, *args, **kwargs):
    if name == "attention_transport.cli" and not getattr(swallowing, "done", False):
        swallowing.done = True
        try:  # what mpmath's bare `except:` around its backend import does to a Ctrl-C landing there
            os.kill(os.getpid(), signal.SIGINT)
            [0 for _ in range(10 ** 6)]
        except BaseException:
            pass
    return real(name, *args, **kwargs)
builtins.__import__ = swallowing
sys.argv = ["attention-transport", "verify"]
entry.run()
"""


def test_ctrl_c_swallowed_during_the_imports_still_stops_the_command():
    p = subprocess.run([sys.executable, "-c", SWALLOWED_AT_IMPORT], capture_output=True, text=True, timeout=120)
    assert p.returncode == 130 and p.stderr == "attention-transport: interrupted\n"


def test_ctrl_c_in_verify_is_one_line():
    p = subprocess.Popen(CLI + ["verify"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and err == "attention-transport: interrupted\n"


# --- capacities from 1e-300 to 1, through the command line ---------------------------------------------------------

def _exact_capacity(A):
    F = [[Fraction(float(x)) for x in row] for row in A]
    n = len(F)
    total = 2 * sum(map(sum, F))
    best = None
    for t in range(1, n):
        cut = sum(F[i][j] for i in range(n) for j in range(n) if (i < t) != (j < t))
        vol = sum(sum(F[i]) for i in range(t)) + sum(F[i][j] for i in range(n) for j in range(t))
        phi = cut / min(vol, total - vol)
        best = phi if best is None else min(best, phi)
    return best


@settings(max_examples=25, deadline=None)
@given(tiny_capacity_matrices(max_n=7))
def test_tiny_capacities_through_the_command_line(tmp_path_factory, A):
    path = tmp_path_factory.mktemp("m") / "a.npy"
    np.save(path, A)
    from io import StringIO

    out = StringIO()
    assert main(["check", "--matrix", str(path), "--json", "--row-tol", "none"], out=out) == 0
    rec = json.loads(out.getvalue())
    rec = rec["records"][0] if "records" in rec else rec
    exact = _exact_capacity(A)
    if exact == 0:
        assert rec["phi"] == 0
    else:
        assert abs(Fraction(rec["phi"]) - exact) <= Fraction(1e-6) * exact
    assert rec["phi_rel_error"] <= 1e-6


# --- a run killed with SIGKILL, its files damaged, resumed -----------------------------------------------------------

_KILLABLE = """
import sys, time
sys.path.insert(0, {tests!r})
from tiny_models import tiny_llama
from attention_transport.harness.data import load_halueval
from attention_transport.harness.store import FeatureStore
from attention_transport.harness.validate import RunConfig, run_features

save = FeatureStore.save
def slow_save(self, example, record):  # time to be killed between (and inside) examples
    time.sleep(0.05)
    save(self, example, record)
FeatureStore.save = slow_save
cfg = RunConfig(model="tiny", benchmark="halueval-qa", data={data!r}, out={out!r}, n_boot=20, n_splits=3,
                max_tokens=120, model_sha256="tiny-0")
examples, _ = load_halueval({data!r}, "qa")
run_features(cfg, examples, loaded=tiny_llama(), progress=False)
"""


def _damage(path, how):
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    else:  # one flipped byte in the array data
        k = len(data) // 3
        path.write_bytes(data[:k] + bytes([data[k] ^ 0xFF]) + data[k + 1:])


def test_killed_and_damaged_runs_resume_to_the_uninterrupted_result(tmp_path):
    pytest.importorskip("torch")
    from synthetic import write_qa
    from tiny_models import tiny_llama

    from attention_transport.harness.data import load_halueval
    from attention_transport.harness.features import FEATURES
    from attention_transport.harness.validate import RunConfig, run_features

    data = write_qa(tmp_path / "qa.jsonl", 12)
    examples, _ = load_halueval(data, "qa")

    def config(out):
        return RunConfig(model="tiny", benchmark="halueval-qa", data=str(data), out=str(out), n_boot=20,
                         n_splits=3, max_tokens=120, model_sha256="tiny-0")

    fresh, _ = run_features(config(tmp_path / "fresh"), examples, loaded=tiny_llama(), progress=False)
    out = tmp_path / "killed"
    tests = str(Path(__file__).parent)
    for kill_after in (1, 6, 15):  # files finished when the kill comes; the last run is killed at a random moment
        p = subprocess.Popen([sys.executable, "-c", _KILLABLE.format(tests=tests, data=str(data), out=str(out))])
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            done = list((out / "features").glob("*.npz")) if (out / "features").is_dir() else []
            if len(done) >= kill_after:
                break
            time.sleep(0.01)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finished = sorted((out / "features").glob("*.npz"))
    assert 0 < len(finished) < 24, "the kills came too late to interrupt anything"
    damaged = dict(zip(finished[:3], ("truncate", "empty", "flip")))
    for path, how in damaged.items():
        _damage(path, how)
    records, info = run_features(config(out), examples, loaded=tiny_llama(), progress=False)
    assert sorted(info["corrupt"]) == sorted(f"{p.stem.rsplit('_', 1)[0].replace('_', ':', 1)}/{p.stem[-1]}"
                                             for p in damaged)
    assert info["computed"] == 24 - len(finished) + 3
    assert [str(r["item_id"]) for r in records] == [str(r["item_id"]) for r in fresh]
    for a, b in zip(records, fresh):
        for key in FEATURES:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_forward_pass_that_would_not_fit_is_refused_before_it_runs(tmp_path, monkeypatch):
    """validate checks each pass's whole footprint first; the examples finished before it are kept."""
    pytest.importorskip("torch")
    from synthetic import write_qa
    from tiny_models import tiny_llama

    from attention_transport.errors import WontFit
    from attention_transport.harness.data import load_halueval
    from attention_transport.harness.validate import RunConfig, run_features

    data = write_qa(tmp_path / "qa.jsonl", 3)
    examples, _ = load_halueval(data, "qa")
    cfg = RunConfig(model="tiny", benchmark="halueval-qa", data=str(data), out=str(tmp_path / "o"), n_splits=2,
                    attention="eager", model_sha256="tiny-0")
    run_features(cfg, examples[:2], loaded=tiny_llama(), progress=False)
    monkeypatch.setattr("attention_transport.memory.available_bytes", lambda: 1000)
    with pytest.raises(WontFit, match=r"halueval-qa:2/0 through the eager attention path at n = \d+ needs about "
                                      r"[\d.]+ GiB of memory; 0 MiB available. Finished examples are kept"):
        run_features(cfg, examples, loaded=tiny_llama(), progress=False)
    assert len(list((tmp_path / "o" / "features").glob("*.npz"))) == 2


def test_other_weights_under_the_same_model_path_are_refused(tmp_path):
    """The manifest holds the model's content hash: a directory whose files changed is another model."""
    from attention_transport.errors import IncompatibleRun
    from attention_transport.harness.models import model_sha256
    from attention_transport.harness.store import FeatureStore
    from attention_transport.harness.validate import RunConfig

    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"weights one")
    data = QA_BAD
    first = RunConfig(model=str(model), benchmark="halueval-qa", data=str(data), out=str(tmp_path / "o"),
                      model_sha256=model_sha256(str(model)))
    FeatureStore(first.out, first.manifest()).commit()
    FeatureStore(first.out, first.manifest())  # the same model resumes
    (model / "model.safetensors").write_bytes(b"weights two")
    second = RunConfig(**{**first.__dict__, "model_sha256": model_sha256(str(model))})
    with pytest.raises(IncompatibleRun, match="holds a run with model_sha256 = '[0-9a-f]{64}', not '[0-9a-f]{64}'"):
        FeatureStore(second.out, second.manifest())
