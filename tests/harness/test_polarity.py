"""The pre-registered polarity test: split, rules, immutable registration, commit check, verdicts."""
import json
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attention_transport.cli import main
from attention_transport.errors import AttentionTransportError, IncompatibleRun
from attention_transport.harness import polarity
from attention_transport.harness.data import load_benchmark
from attention_transport.harness.store import content_sha256, feature_path
from synthetic import write_qa

N_ITEMS = 400


def make_run(root, data, *, effect, level=0.4, model="m", seed=0, benchmark="halueval-qa"):
    """A run folder whose hallucinated answers have φ shifted by ``effect``; faithful heads sit near ``level``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    (root / "run.json").write_text(json.dumps({"model": model, "benchmark": benchmark, "data": str(data),
                                               "data_sha256": content_sha256(data), "model_sha256": "abc"}))
    (root / "features").mkdir()
    examples, _ = load_benchmark(benchmark, data)
    lengths = {}
    for e in examples:
        length = lengths.setdefault(e.item_id, int(rng.integers(1, 4)))
        phi = level + 0.05 * rng.normal(size=(3, 4)) + effect * e.label
        np.savez(feature_path(root, e.item_id, e.label), phi=phi.astype(np.float32), item_id=np.array(e.item_id),
                 label=np.array(e.label), response_len=np.array(length))
    return root


def write_grounded_qa(path, n_items):
    """HaluEval-QA-shaped items whose knowledge passage is most of the prompt."""
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n_items):
            k = 2 + i % 3
            fh.write(json.dumps({"knowledge": f"fact {i} " * 8, "question": f"q{i}?", "right_answer": "ab" * k,
                                 "hallucinated_answer": "ba" * k}) + "\n")
    return path


@pytest.fixture
def data(tmp_path):
    return write_grounded_qa(tmp_path / "qa.jsonl", N_ITEMS)


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    return folder


def commit(repo, path):
    git(repo, "add", path.name)
    git(repo, "commit", "-q", "-m", "predictions")


def test_the_split_is_one_in_five_and_fixed_by_the_item():
    ids = [f"halueval-qa_{i}" for i in range(5000)]
    share = np.mean([polarity.in_calibration(i) for i in ids])
    assert 0.18 < share < 0.22
    assert [polarity.in_calibration(i) for i in ids[:50]] == [polarity.in_calibration(i) for i in ids[:50]]


@given(st.lists(st.tuples(st.sampled_from(["Knowledge", "Document", "Dialogue History", "Question", "Answer",
                                           "Options"]), st.text(alphabet="abc \n", max_size=30)), max_size=6))
def test_evidence_share_is_the_evidence_sections_share_of_characters(sections):
    parts = [f"#{name}#: {body.replace(chr(10), ' ')}\n" for name, body in sections]
    prompt = "".join(parts)
    expected = sum(len(p) for p, (name, _) in zip(parts, sections) if name in polarity.EVIDENCE_SECTIONS)
    assert polarity.evidence_share(prompt) == pytest.approx(expected / len(prompt) if prompt else 0.0)


def test_the_prediction_reads_the_calibration_split_only(tmp_path, data):
    run = make_run(tmp_path / "run", data, effect=-0.1, level=0.1)
    full = polarity.predict(run)
    examples, _ = load_benchmark("halueval-qa", data)
    for e in examples:  # the test split and every hallucinated answer go away: nothing changes
        if e.label == 1 or not polarity.in_calibration(e.item_id):
            feature_path(run, e.item_id, e.label).unlink()
    assert polarity.predict(run) == full
    assert full["rules"]["evidence"]["kind"] == "bottleneck"  # the knowledge fills most of each prompt
    assert full["rules"]["regime"] == {"median": 1.0, "kind": "bottleneck", "sign": -1}  # every head near 0.1
    assert full["calibration_items"] == sum(polarity.in_calibration(e.item_id) for e in examples) // 2


def test_the_regime_rule_follows_the_faithful_heads(tmp_path, data):
    assert polarity.predict(make_run(tmp_path / "a", data, effect=0, level=0.4))["rules"]["regime"]["sign"] == 1
    assert polarity.predict(make_run(tmp_path / "b", data, effect=0, level=0.1))["rules"]["regime"]["sign"] == -1


def test_too_few_calibration_items_is_refused(tmp_path):
    small = write_qa(tmp_path / "small.jsonl", 40)
    with pytest.raises(AttentionTransportError, match="at least 50 calibration items"):
        polarity.predict(make_run(tmp_path / "run", small, effect=0))


def test_changed_data_is_refused(tmp_path, data):
    run = make_run(tmp_path / "run", data, effect=0)
    with open(data, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"knowledge": "k", "question": "q", "right_answer": "a", "hallucinated_answer": "b"})
                 + "\n")
    with pytest.raises(IncompatibleRun, match="not the data this run scored"):
        polarity.predict(run)


def test_a_registered_prediction_is_never_changed(tmp_path, data):
    run = make_run(tmp_path / "run", data, effect=0, level=0.4)
    book = tmp_path / "predictions.json"
    assert polarity.register([run], book) == [("m/halueval-qa", "added")]
    assert polarity.register([run], book) == [("m/halueval-qa", "unchanged")]
    examples, _ = load_benchmark("halueval-qa", data)
    for e in examples:  # the calibration heads now pierce the floor: the regime sign would flip
        if e.label == 0 and polarity.in_calibration(e.item_id):
            np.savez(feature_path(run, e.item_id, 0), phi=np.full((3, 4), 0.1, np.float32),
                     item_id=np.array(e.item_id), label=np.array(0), response_len=np.array(1))
    before = book.read_text()
    with pytest.raises(AttentionTransportError, match="never changed"):
        polarity.register([run], book)
    assert book.read_text() == before


@pytest.mark.parametrize("effect, expected", [(-0.1, "held"), (0.1, "failed"), (0.0, "inconclusive")])
def test_the_verdict_on_the_test_split(tmp_path, data, repo, effect, expected):
    run = make_run(tmp_path / "run", data, effect=effect, level=0.4)  # evidence: bottleneck (−1)
    book = repo / "predictions.json"
    polarity.register([run], book)
    commit(repo, book)
    result = polarity.score([run], book, n_boot=200)
    row = result["runs"][0]
    assert str(tmp_path) not in json.dumps(result)  # the result names runs by model and benchmark, not by path
    assert row["verdicts"]["evidence"] == expected
    assert row["verdicts"]["regime"] == {"held": "failed", "failed": "held"}.get(expected, expected)  # sign +1
    n_test = sum(not polarity.in_calibration(e.item_id) for e in load_benchmark("halueval-qa", data)[0]) // 2
    assert row["test_items"] == n_test
    if expected != "inconclusive":
        assert row["observed_sign"] == (1 if effect > 0 else -1)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert result["predictions"]["commit"] == head


def test_scoring_refuses_uncommitted_or_unregistered(tmp_path, data, repo):
    run = make_run(tmp_path / "run", data, effect=-0.1)
    book = repo / "predictions.json"
    polarity.register([run], book)
    with pytest.raises(AttentionTransportError, match="not committed"):
        polarity.score([run], book, n_boot=50)
    assert polarity.score([run], book, n_boot=50, require_commit=False)["predictions"]["commit"] is None
    commit(repo, book)
    other = make_run(tmp_path / "other", data, effect=0, model="m2")
    with pytest.raises(AttentionTransportError, match="m2/halueval-qa has no registered prediction"):
        polarity.score([other], book, n_boot=50)
    manifest = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**manifest, "model_sha256": "def"}))
    with pytest.raises(IncompatibleRun, match="model_sha256 differs"):
        polarity.score([run], book, n_boot=50)


@pytest.fixture
def opposite(tmp_path, data, repo):
    """Two registered, committed runs of one model predicted opposite: grounded QA (bottleneck, φ lower when
    hallucinated) and closed-book multiple choice (no evidence section, so diffuse, φ higher)."""
    mc = tmp_path / "mc.jsonl"
    with open(mc, "w", encoding="utf-8") as fh:
        for i in range(N_ITEMS):
            gold, wrong = "ab" * (1 + i % 3), "ba" * (1 + i % 3)
            fh.write(json.dumps({"question": f"q{i}?", "options": f"A. {gold}\nB. {wrong}", "answer": f"A. {gold}"})
                     + "\n")
    qa = make_run(tmp_path / "qa", data, effect=-0.1)
    closed = make_run(tmp_path / "mc", mc, effect=0.1, benchmark="medqa")
    book = repo / "predictions.json"
    polarity.register([qa, closed], book)
    commit(repo, book)
    return qa, closed, book


def test_a_predicted_reversal(opposite):
    qa, closed, book = opposite
    result = polarity.score([qa, closed], book, n_boot=200)
    assert [r["rules"]["evidence"]["sign"] for r in result["runs"]] == [-1, 1]
    evidence = [v for v in result["reversals"] if v["rule"] == "evidence"]
    assert evidence == [{"rule": "evidence", "model": "m", "benchmarks": ["halueval-qa", "medqa"], "verdict": "held"}]
    assert "| evidence | m | halueval-qa vs medqa | held |" in polarity.markdown(result)


def test_rows_scored_earlier_are_kept_only_while_they_match(opposite):
    qa, closed, book = opposite
    first = json.loads(json.dumps(polarity.score([qa], book, n_boot=100)))
    first["runs"][0]["scored"] = "2026-01-01T00:00:00Z"
    both = polarity.score([closed], book, n_boot=100, earlier=first)
    assert [polarity._key(r) for r in both["runs"]] == ["m/halueval-qa", "m/medqa"]
    assert both["runs"][0] == first["runs"][0]
    assert [v["verdict"] for v in both["reversals"] if v["rule"] == "evidence"] == ["held"]
    assert "Kept as scored on 2026-01-01T00:00:00Z against predictions commit" in polarity.markdown(both)
    rescored = polarity.score([qa, closed], book, n_boot=100, earlier=first)
    assert {r["scored"] for r in rescored["runs"]} == {rescored["date"]}
    with pytest.raises(AttentionTransportError, match="n_boot 100, not 50"):
        polarity.score([closed], book, n_boot=50, earlier=first)
    first["runs"][0]["rules"]["evidence"]["sign"] = 1
    with pytest.raises(AttentionTransportError, match="m/halueval-qa does not match its registered prediction"):
        polarity.score([closed], book, n_boot=100, earlier=first)
    with pytest.raises(AttentionTransportError, match="same model and benchmark"):
        polarity.score([closed, closed], book, n_boot=100)


def test_cli(tmp_path, data, repo, capsys):
    run = make_run(tmp_path / "run", data, effect=-0.1)
    book = repo / "predictions.json"
    assert main(["polarity", "register", str(run), "--predictions", str(book)]) == 0
    assert main(["polarity", "test", str(run), "--predictions", str(book), "--n-boot", "50"]) == 2
    assert "not committed" in capsys.readouterr().err
    commit(repo, book)
    assert main(["polarity", "test", str(run), "--predictions", str(book), "--n-boot", "50"]) == 0
    assert json.loads((repo / "polarity-test.json").read_text())["runs"][0]["verdicts"]["evidence"] == "held"
    assert "| m | halueval-qa |" in (repo / "polarity-test.md").read_text()
    assert main(["polarity", "register", str(tmp_path / "none"), "--predictions", str(book)]) == 2
    assert "no run.json" in capsys.readouterr().err
    assert main(["polarity", "test", str(run), str(run), "--data", str(data), "--predictions", str(book)]) == 2
    assert "--data names one run's data file; got 2 runs" in capsys.readouterr().err
    assert main(["polarity", "test", str(run), "--predictions", str(book), "--n-boot", "50", "--keep"]) == 0
    assert main(["polarity", "test", str(run), "--predictions", str(book), "--keep", "--out", str(tmp_path)]) == 2
    assert "--keep: there is no earlier" in capsys.readouterr().err
