"""The benchmarks run end to end at small sizes, and the report turns them into ratios."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_small(tmp_path):
    out = tmp_path / "bench.json"
    # a clean pytest environment: under pytest-xdist the worker's variables would switch the benchmarks off
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "XDIST"))}
    env["AT_BENCH_SCALE"] = "small"
    run = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "benchmarks"), "-q", "-p", "no:cacheprovider",
                          "--benchmark-min-rounds=1", "--benchmark-max-time=0.01", "--benchmark-warmup=off",
                          f"--benchmark-json={out}"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), str(out)],
                            capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    lines = [line for line in report.stdout.splitlines() if line.startswith("| ")]
    groups = {line.split("|")[1].strip() for line in lines[2:]}
    assert {"prefix-n64", "prefix-n128", "bipartite-n64", "naive-n24"} <= groups
    assert all(float(line.split("|")[4]) > 0 for line in lines[2:])
