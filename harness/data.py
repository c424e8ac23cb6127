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

Malformed records raise :class:`DatasetError` naming the file and line, or,
with ``skip_bad=True``, are skipped and counted in the returned report.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from attention_transport.errors import DatasetError, UnknownName

__all__ = ["Example", "LoadReport", "DatasetError", "HALUEVAL_TASKS", "load_halueval", "load_medhallu",
           "load_benchmark"]


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


def load_benchmark(name, path, *, limit=None, skip_bad=False):
    """Dispatch on a benchmark name: ``halueval-qa``, ``halueval-dialogue``, ``halueval-summarization``, ``medhallu``."""
    if name == "medhallu":
        return load_medhallu(path, limit=limit, skip_bad=skip_bad)
    if name.startswith("halueval-") and name[len("halueval-"):] in HALUEVAL_TASKS:
        return load_halueval(path, name[len("halueval-"):], limit=limit, skip_bad=skip_bad)
    known = [f"halueval-{t}" for t in HALUEVAL_TASKS] + ["medhallu"]
    raise UnknownName(f"unknown benchmark {name!r}; known benchmarks: {', '.join(known)}.")
