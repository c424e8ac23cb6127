"""The GPU benchmark script (``benchmarks/gpu_streaming.py``) stays ready to run: on a tiny random Llama on the
CPU it produces every entry at every n with ratios against the SDPA forward of the same n, refuses bad input in
one line (exit 2), and finds the package from the repository when it is not installed (the GPU machine)."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_streaming.py"


def _script():
    spec = importlib.util.spec_from_file_location("gpu_streaming", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_entry_at_every_n_with_ratios(tmp_path):
    bench = _script()
    out = tmp_path / "gpu.json"
    assert bench.main(["--shape", "tiny", "--device", "cpu", "--dtype", "float32", "--n", "48", "160",
                       "--layers", "2", "--repeats", "1", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["gpu"] is None and report["layers"] == 2
    rows = report["rows"]
    assert [(r["n"], r["entry"]) for r in rows] == [(n, e) for n in (48, 160) for e in bench.ENTRIES]
    for n in (48, 160):
        base = next(r for r in rows if r["n"] == n and r["entry"] == "sdpa")
        for r in (r for r in rows if r["n"] == n):
            assert r["seconds"] > 0 and r["peak_mb"] > 0
            assert r["ratio"] == pytest.approx(r["seconds"] / base["seconds"])


@pytest.mark.parametrize("args,message", [
    (["--shape", "huge", "--device", "cpu"], "error: shape must be one of llama-3-8b, tiny; got 'huge'."),
    (["--shape", "tiny", "--device", "cpu", "--n", "4"], "error: every n must be at least 8; got 4."),
])
def test_bad_input_is_one_line(args, message, capsys):
    assert _script().main(args) == 2
    assert capsys.readouterr().err.strip() == message


def test_runs_from_the_repository_without_the_package_installed():
    """The GPU machine has torch and transformers but not this package: the script maps the repository."""
    code = (
        "import sys\n"
        "sys.path = [p for p in sys.path if '__editable__' not in p]\n"
        "sys.meta_path = [f for f in sys.meta_path if 'editable' not in type(f).__module__]\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('attention_transport') is None, 'the installed package is still visible'\n"
        f"sys.argv = ['gpu_streaming.py', '--shape', 'tiny', '--device', 'cpu', '--n', '32', '--repeats', '1',"
        " '--dtype', 'float32']\n"
        f"sys.path.insert(0, {str(SCRIPT.parent)!r})\n"
        "import gpu_streaming\n"
        "assert gpu_streaming.main() == 0\n"
        "import attention_transport.harness as h\n"
        "print(h.__file__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(done.stdout.strip().splitlines()[-1]) == SCRIPT.parents[1] / "harness" / "__init__.py"
