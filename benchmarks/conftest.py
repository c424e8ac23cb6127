"""Benchmark sizes.  ``AT_BENCH_SCALE=small`` shrinks every size so the suite's
smoke test can run the benchmarks end to end in seconds."""
import os

SMALL = os.environ.get("AT_BENCH_SCALE") == "small"


def size(full, small):
    return small if SMALL else full
