"""`attention-transport verify`: the whole run, against its smallest claim (C7) in the same run.

Target: every claim within a few minutes on 2 cores.
"""
import io

import pytest
from conftest import SMALL

from attention_transport.cli import main


@pytest.mark.parametrize("kind", ["baseline", "candidate"])
def test_verify(benchmark, kind):
    benchmark.group = "verify"
    benchmark.extra_info["role"] = kind
    argv = ["verify", "--only", "C7"] if kind == "baseline" or SMALL else ["verify"]
    code = benchmark.pedantic(main, args=(argv,), kwargs={"out": io.StringIO()}, rounds=1, iterations=1)
    assert code == 0
