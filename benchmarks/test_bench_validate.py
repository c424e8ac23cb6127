"""``validate`` throughput: forced scoring + per-head features of N HaluEval-QA items with SmolLM2-135M.

Target (issue): 1000 items on 2 CPU cores well under an hour.  Baseline in the same run:
the teacher-forced forward passes alone over the same examples; the candidate is the
feature stage of ``validate`` (forward + features + feature files), then the evaluation
(LC-AUROC, probes, bootstrap) on its records.  ``interleaved`` times each example's forward
pass and then its features, in turn: its ``in_run_ratio`` (forward + features over forward)
does not depend on the machine's speed drifting between two separate runs, which moved the
baseline alone by a quarter on this machine.

Full scale needs the fetched model and data (``attention-transport fetch smollm2-135m
halueval``); ``AT_BENCH_VALIDATE_ITEMS`` overrides the item count (default 1000).  The
small scale of the smoke test uses a tiny random Llama and a generated file (no download).
"""
import json
import os
import time

import pytest

pytest.importorskip("torch")  # the harness extra

from conftest import SMALL  # noqa: E402

from attention_transport.harness.data import load_halueval  # noqa: E402
from attention_transport.harness.evaluate import evaluate  # noqa: E402
from attention_transport.harness.features import attention_features  # noqa: E402
from attention_transport.harness.models import forced_attention  # noqa: E402
from attention_transport.harness.validate import RunConfig, run_features  # noqa: E402

ITEMS = 4 if SMALL else int(os.environ.get("AT_BENCH_VALIDATE_ITEMS", "1000"))
_STATE = {}


def _setup(tmp_path_factory):
    if "examples" in _STATE:
        return _STATE
    if SMALL:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from synthetic import write_qa
        from tiny_models import tiny_llama

        data = write_qa(tmp_path_factory.mktemp("data") / "qa.jsonl", ITEMS)
        loaded = tiny_llama()
    else:
        from attention_transport.harness.fetch import fetch
        from attention_transport.harness.models import load_model

        data = fetch("halueval") / "dataset_halueval_qa.jsonl"
        fetch("smollm2-135m")
        loaded = load_model("smollm2-135m")
    examples, _ = load_halueval(data, "qa", limit=ITEMS)
    _STATE.update(examples=examples, loaded=loaded, data=str(data))
    return _STATE


@pytest.mark.parametrize("kind", ["baseline", "candidate", "interleaved", "evaluate"])
def test_validate_throughput(benchmark, kind, tmp_path_factory):
    st = _setup(tmp_path_factory)
    benchmark.group = f"validate-{ITEMS}-items"
    benchmark.extra_info["role"] = "baseline" if kind == "baseline" else kind
    benchmark.extra_info["examples"] = len(st["examples"])
    if kind == "baseline":
        def forward_only():
            for ex in st["examples"]:
                forced_attention(st["loaded"], ex.prompt, ex.response, max_tokens=2048)
        benchmark.pedantic(forward_only, rounds=1, iterations=1)
        return
    if kind == "interleaved":
        def interleaved():
            forward = features = 0.0
            for ex in st["examples"]:
                t0 = time.perf_counter()
                fp = forced_attention(st["loaded"], ex.prompt, ex.response, max_tokens=2048)
                t1 = time.perf_counter()
                attention_features(fp.attention, fp.prompt_len)
                forward, features = forward + t1 - t0, features + time.perf_counter() - t1
            return forward, features
        forward, features = benchmark.pedantic(interleaved, rounds=1, iterations=1)
        benchmark.extra_info.update(forward_s=forward, features_s=features, in_run_ratio=(forward + features) / forward)
        return
    out = tmp_path_factory.mktemp("run")
    cfg = RunConfig(model="smollm2-135m", benchmark="halueval-qa", data=st["data"], out=str(out))
    if kind == "candidate":
        records, info = benchmark.pedantic(run_features, args=(cfg, st["examples"]),
                                           kwargs={"loaded": st["loaded"], "progress": False}, rounds=1,
                                           iterations=1)
        assert info["computed"] + len(info["too_long"]) == len(st["examples"])
        _STATE["records"] = records
        return
    records = _STATE.get("records") or run_features(cfg, st["examples"], loaded=st["loaded"], progress=False)[0]
    t0 = time.perf_counter()
    report = benchmark.pedantic(evaluate, args=(records,), kwargs={"n_boot": 500 if not SMALL else 20,
                                                                   "n_splits": 5 if not SMALL else 2},
                                rounds=1, iterations=1)
    benchmark.extra_info["seconds"] = time.perf_counter() - t0
    assert json.dumps(report.to_json())
