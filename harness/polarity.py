"""The polarity test of C8, pre-registered: the rules and split fixed in advance, the predictions, the verdicts.

C8 predicts a *direction*. Failure by bottleneck (attention too local, low φ) and failure by
diffusion (attention spread out) move φ in opposite directions. So on a bottleneck-dominated
benchmark hallucinated answers should have lower φ than faithful ones, and on a
diffuse-dominated one higher. The claim can be tested only if it is known beforehand which
benchmark is which. This module fixes everything that decides a verdict before a test item is
scored:

* **The split.** An item belongs to the *calibration* split when the first eight hex digits of
  ``sha256(item_id)``, read as an integer, are divisible by :data:`CALIBRATION_MODULUS` (one
  item in five, whatever the run's ``--limit`` or its order). Every other item is in the
  *test* split. Only calibration items are read to register a prediction.
* **Two rules, both reported.** Neither is chosen after the fact.

  - ``evidence`` (primary; the benchmark's text, no model, no labels): the *evidence share* of a
    prompt is the fraction of its characters inside the sections an answer is checked against:
    ``#Knowledge#``, ``#Document#``, ``#Dialogue History#`` (:data:`EVIDENCE_SECTIONS`). A
    (model, benchmark) is **bottleneck**-dominated when the median evidence share over the
    calibration items is at least 1/2: the evidence sits in the prompt, a faithful answer must
    carry it forward, and failing to reach it is a bottleneck. Otherwise it is
    **diffuse**-dominated: closed-book, nothing in the prompt to lock onto.
  - ``regime`` (secondary; the model's own attention): on the calibration split's *faithful*
    answers, the fraction of heads whose prefix capacity φ lies below the uniform-causal floor
    1/5 (heads with undefined φ left out). When its median over items is at least 1/2, most
    heads are window-like on this text and the failure predicted is the bottleneck kind. Below
    1/2, the diffuse kind.

* **The prediction.** Bottleneck gives sign −1 and diffuse gives sign +1. The sign is that of
  LC-AUROC − 1/2 for the all-heads mean of φ, with the hallucinated answer as the positive class.
* **The verdict** on the test split:
  - ``held``: the item-grouped 95% bootstrap interval excludes 1/2 on the predicted side;
  - ``failed``: the interval excludes 1/2 on the other side;
  - ``inconclusive``: the interval contains 1/2;
  - ``insufficient``: too little support to report a number (:func:`~.report.support`).

  For a model with one benchmark of each kind under a rule, the predicted *reversal* holds when
  both verdicts hold, and fails when either fails.

:func:`register` writes a prediction into a JSON file (one entry per model and benchmark). An
entry, once written, is never changed: registering it again with other numbers is refused. The
file is committed before :func:`score` runs. :func:`score` refuses a file with uncommitted changes
and records the commit that last touched it, so the history shows the prediction came first.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from attention_transport.errors import AttentionTransportError, IncompatibleRun
from attention_transport.harness.data import load_benchmark
from attention_transport.harness.store import atomic_write, content_sha256, feature_path
from attention_transport.provenance import json_ready, utc_now

__all__ = ["RULE_VERSION", "CALIBRATION_MODULUS", "EVIDENCE_SECTIONS", "FLOOR", "MIN_CALIBRATION_ITEMS",
           "in_calibration", "evidence_share", "predict", "register", "score", "verdict", "predictions_commit",
           "markdown"]

#: bumped whenever anything that decides a prediction or a verdict changes
RULE_VERSION = 1
#: one item in this many is a calibration item
CALIBRATION_MODULUS = 5
#: the prompt sections that hold the evidence an answer is checked against
EVIDENCE_SECTIONS = ("Knowledge", "Document", "Dialogue History")
#: the uniform-causal floor (C4) below which a head counts as window-like
FLOOR = Fraction(1, 5)
#: fewest calibration items (faithful answers with features) a prediction is registered on
MIN_CALIBRATION_ITEMS = 50
RULES = ("evidence", "regime")
KINDS = {-1: "bottleneck", 1: "diffuse"}
_SECTION = re.compile(r"^#([A-Za-z ]+)#:", re.MULTILINE)


def in_calibration(item_id):
    """Whether ``item_id`` is a calibration item (one in :data:`CALIBRATION_MODULUS`, by its sha256).

    >>> [in_calibration(f"halueval-qa_{i}") for i in range(8)]
    [False, False, False, False, False, True, True, False]
    """
    return int(hashlib.sha256(str(item_id).encode()).hexdigest()[:8], 16) % CALIBRATION_MODULUS == 0


def evidence_share(prompt):
    """Fraction of ``prompt``'s characters inside its evidence sections (:data:`EVIDENCE_SECTIONS`).

    A section runs from its ``#Name#:`` header to the next header; headers count with their section.

    >>> round(evidence_share("#Knowledge#: abc\\n#Question#: q?\\n#Answer#: "), 3)  # 17 of 42 characters
    0.405
    >>> evidence_share("#Question#: q?\\n#Answer#: ")
    0.0
    """
    if not prompt:
        return 0.0
    heads = list(_SECTION.finditer(prompt))
    inside = sum((heads[k + 1].start() if k + 1 < len(heads) else len(prompt)) - m.start()
                 for k, m in enumerate(heads) if m.group(1) in EVIDENCE_SECTIONS)
    return inside / len(prompt)


def _sign(median):
    return -1 if median >= 0.5 else 1


def _read_run(run):
    path = Path(run) / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run} holds no validation run (no run.json)")
    return json.loads(path.read_text(encoding="utf-8"))


def _examples(manifest, data=None):
    """The benchmark's examples from the run's data file, whose contents must match the manifest's hash."""
    data = Path(data or manifest["data"])
    if not data.exists():
        raise FileNotFoundError(f"the run's data {data} is missing; pass the same file with --data")
    recorded = manifest.get("data_sha256")
    if recorded is not None and content_sha256(data) != recorded:
        raise IncompatibleRun(f"{data} is not the data this run scored (sha256 differs from run.json)")
    examples, _ = load_benchmark(manifest["benchmark"], data)
    return examples


def _load(run, example):
    with np.load(feature_path(run, example.item_id, example.label), allow_pickle=False) as z:
        return {"phi": z["phi"].astype(np.float64), "response_len": int(z["response_len"])}


def predict(run, *, data=None):
    """The prediction of both rules for one run folder, from its calibration split only.

    Returns
    -------
    dict
        ``model``, ``benchmark``, the hashes of model and data, ``calibration_items``, and per rule
        its statistic (the median), ``kind`` (bottleneck or diffuse) and predicted ``sign``.

    Raises
    ------
    AttentionTransportError
        Fewer than :data:`MIN_CALIBRATION_ITEMS` calibration items with a faithful feature file.
    """
    manifest = _read_run(run)
    faithful = [e for e in _examples(manifest, data) if e.label == 0 and in_calibration(e.item_id)
                and feature_path(run, e.item_id, 0).is_file()]
    if len(faithful) < MIN_CALIBRATION_ITEMS:
        raise AttentionTransportError(f"{run}: a prediction needs at least {MIN_CALIBRATION_ITEMS} calibration "
                                      f"items with features; got {len(faithful)}.")
    shares = [evidence_share(e.prompt) for e in faithful]
    below = []
    for e in faithful:
        phi = _load(run, e)["phi"]
        finite = phi[np.isfinite(phi)]
        if finite.size:
            below.append(float(np.mean(finite < float(FLOOR))))
    if not below:
        raise AttentionTransportError(f"{run}: no calibration answer has a head with a defined φ")
    stats = {"evidence": float(np.median(shares)), "regime": float(np.median(below))}
    return {"model": manifest["model"], "benchmark": manifest["benchmark"],
            "model_sha256": manifest.get("model_sha256"), "data_sha256": manifest.get("data_sha256"),
            "calibration_items": len(faithful), "rule_version": RULE_VERSION,
            "rules": {rule: {"median": stats[rule], "kind": KINDS[_sign(stats[rule])], "sign": _sign(stats[rule])}
                      for rule in RULES}}


def _key(entry):
    return f"{entry['model']}/{entry['benchmark']}"


def _read_predictions(path):
    path = Path(path)
    if not path.is_file():
        return {"rule_version": RULE_VERSION, "predictions": {}}
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AttentionTransportError(f"{path} is not a predictions file: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(book, dict) or not isinstance(book.get("predictions"), dict):
        raise AttentionTransportError(f"{path} is not a predictions file (no 'predictions' object)")
    return book


def register(runs, predictions, *, data=None):
    """Add the predictions of ``runs`` to the file ``predictions``; returns ``[(key, "added"|"unchanged"), ...]``.

    Raises
    ------
    AttentionTransportError
        A (model, benchmark) already registered with different numbers: a pre-registered
        prediction is never changed (use a new rule version and say why).
    """
    book = _read_predictions(predictions)
    if book.get("rule_version") != RULE_VERSION:
        raise AttentionTransportError(f"{predictions} holds rule version {book.get('rule_version')}, "
                                      f"not {RULE_VERSION}; start a new predictions file")
    done = []
    for run in runs:
        entry = predict(run, data=data)
        key = _key(entry)
        old = book["predictions"].get(key)
        if old is not None:
            same = all(old.get(k) == entry[k] for k in ("model_sha256", "data_sha256", "calibration_items")) and \
                all(old["rules"][r]["sign"] == entry["rules"][r]["sign"] for r in RULES)
            if not same:
                raise AttentionTransportError(f"{key} is already registered in {predictions} with other numbers "
                                              "(calibration items, hashes or signs); a registered prediction is "
                                              "never changed")
            done.append((key, "unchanged"))
            continue
        book["predictions"][key] = {**entry, "registered": utc_now()}
        done.append((key, "added"))
    atomic_write(Path(predictions), (json.dumps(json_ready(book), indent=1) + "\n").encode())
    return done


def predictions_commit(path):
    """``(commit, clean)``: the last commit that touched ``path`` and whether the file equals it; None outside git."""
    path = Path(path).resolve()
    try:
        run = {"capture_output": True, "text": True, "timeout": 10, "cwd": path.parent}
        commit = subprocess.run(["git", "log", "-1", "--format=%H", "--", path.name], **run).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", path.name], **run).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, False
    return (commit or None), bool(commit) and not dirty


def verdict(predicted, low, high):
    """``held``, ``failed`` or ``inconclusive`` for a predicted sign and an interval (None: ``insufficient``).

    >>> verdict(-1, 0.40, 0.47), verdict(-1, 0.53, 0.60), verdict(1, 0.45, 0.55), verdict(1, None, None)
    ('held', 'failed', 'inconclusive', 'insufficient')
    """
    if low is None or high is None:
        return "insufficient"
    if low > 0.5 or high < 0.5:
        observed = 1 if low > 0.5 else -1
        return "held" if observed == predicted else "failed"
    return "inconclusive"


def _test_score(run, manifest, entry, *, data, n_boot, seed):
    from attention_transport.harness.evaluate import score_vector

    by_item = {}
    for e in _examples(manifest, data):
        if not in_calibration(e.item_id) and feature_path(run, e.item_id, e.label).is_file():
            by_item.setdefault(e.item_id, []).append(e)
    pairs = [v for v in by_item.values() if {e.label for e in v} == {0, 1}]
    examples = [e for v in pairs for e in v]
    records = [_load(run, e) for e in examples]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a record with no defined φ is NaN, dropped
        phi = np.array([np.nanmean(r["phi"]) for r in records])
    s = score_vector(phi, np.array([e.label for e in examples]), np.array([r["response_len"] for r in records]),
                     np.array([e.item_id for e in examples]), n_boot=n_boot, seed=seed)
    out = {"test_items": len(pairs), "lc_auroc": s.lc_auroc, "ci_low": s.ci_low, "ci_high": s.ci_high,
           "observed_sign": s.polarity, "n_pairs": s.n_pairs, "insufficient": s.insufficient}
    out["verdicts"] = {r: verdict(entry["rules"][r]["sign"], s.ci_low, s.ci_high) for r in RULES}
    return out


def _reversals(rows):
    """Per model and rule: every pair of benchmarks predicted to have opposite signs, and the pair's verdict."""
    found = []
    for rule in RULES:
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a["model"] != b["model"] or a["rules"][rule]["sign"] == b["rules"][rule]["sign"]:
                    continue
                va, vb = a["verdicts"][rule], b["verdicts"][rule]
                both = "failed" if "failed" in (va, vb) else "held" if va == vb == "held" else "inconclusive"
                found.append({"rule": rule, "model": a["model"], "benchmarks": [a["benchmark"], b["benchmark"]],
                              "verdict": both})
    return found


def _kept_rows(earlier, book, *, fresh, n_boot, seed):
    """The rows of an earlier result that still stand: not rescored now, scored under this rule version with the
    same bootstrap, and still matching their registered prediction (same registration and signs)."""
    if earlier is None:
        return []
    for key, want in (("rule_version", RULE_VERSION), ("n_boot", n_boot), ("seed", seed)):
        if earlier.get(key) != want:
            raise AttentionTransportError(f"the earlier polarity test has {key} {earlier.get(key)!r}, not {want!r}; "
                                          "rescore its runs instead of keeping them")
    kept = []
    for row in earlier.get("runs", []):
        key = _key(row)
        if key in fresh:
            continue
        entry = book["predictions"].get(key)
        if entry is None or entry.get("registered") != row.get("registered") or \
                any(entry["rules"][r]["sign"] != row["rules"][r]["sign"] for r in RULES):
            raise AttentionTransportError(f"the earlier polarity test's row {key} does not match its registered "
                                          "prediction; rescore that run instead of keeping it")
        kept.append({**row, "scored": row.get("scored", earlier.get("date")),
                     "predictions_commit": row.get("predictions_commit", earlier["predictions"].get("commit"))})
    return kept


def score(runs, predictions, *, data=None, n_boot=1000, seed=0, require_commit=True, earlier=None):
    """Score the test split of each run against its registered prediction.

    ``earlier`` is a result this function returned before (the parsed ``polarity-test.json``): its
    rows for runs not given here are kept as scored then, so a run folder that is gone (a new
    machine) still counts in the reversals. A kept row must match its registered prediction and
    have been scored under the same rule version, ``n_boot`` and ``seed``; each row records when it
    was scored and against which commit of the predictions.

    Returns
    -------
    dict
        ``rule_version``, ``predictions`` (file, sha256, commit), ``runs`` (per run: the entry's
        statistics and signs, the test LC-AUROC of φ with its interval, the verdict per rule,
        ``scored`` and ``predictions_commit``), ``reversals`` (per model and rule, the benchmark
        pairs predicted opposite) and ``date``.

    Raises
    ------
    AttentionTransportError
        A run without a registered prediction, or one registered for other model or data
        bytes; with ``require_commit``, a predictions file that is not committed as it stands;
        an ``earlier`` row that no longer matches its prediction or was scored otherwise.
    """
    book = _read_predictions(predictions)
    commit, clean = predictions_commit(predictions)
    if require_commit and not clean:
        raise AttentionTransportError(f"{predictions} is not committed as it stands; commit the predictions "
                                      "before the test split is scored")
    rows, now = [], utc_now()
    for run in runs:
        manifest = _read_run(run)
        key = f"{manifest['model']}/{manifest['benchmark']}"
        entry = book["predictions"].get(key)
        if entry is None:
            raise AttentionTransportError(f"{key} has no registered prediction in {predictions}; "
                                          "run `attention-transport polarity register` and commit first")
        for k in ("model_sha256", "data_sha256"):
            if entry.get(k) != manifest.get(k):
                raise IncompatibleRun(f"{run}: {k} differs from the registered prediction of {key}")
        rows.append({**{k: entry[k] for k in ("model", "benchmark", "calibration_items", "rules", "registered")},
                     **_test_score(run, manifest, entry, data=data, n_boot=n_boot, seed=seed),
                     "scored": now, "predictions_commit": commit})
    fresh = {_key(r) for r in rows}
    if len(fresh) < len(rows):
        raise AttentionTransportError("two runs given are the same model and benchmark; score each once")
    rows = _kept_rows(earlier, book, fresh=fresh, n_boot=n_boot, seed=seed) + rows
    return json_ready({"rule_version": RULE_VERSION,
                       "predictions": {"file": Path(predictions).name, "sha256": content_sha256(predictions),
                                       "commit": commit},
                       "n_boot": n_boot, "seed": seed, "date": now, "runs": rows,
                       "reversals": _reversals(rows)})


def markdown(result, *, title=True):
    """The scored test as a Markdown table (one row per run) and the reversals; ``title``: with a heading."""
    def num(v):
        return "—" if v is None else f"{v:.3f}"

    lines = [f"# Pre-registered polarity test (rule version {result['rule_version']})", ""] if title else []
    lines += [f"Predictions: `{result['predictions']['file']}` at commit {result['predictions']['commit'] or 'none'}"
              f" (sha256 {result['predictions']['sha256'][:12]}…). Test split only; {result['n_boot']} item "
              "resamples.", "",
              "| model | benchmark | evidence share → sign | heads below 1/5 → sign | test items | LC-AUROC of φ "
              "| 95% CI | observed | evidence rule | regime rule |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        ev, rg = r["rules"]["evidence"], r["rules"]["regime"]
        obs = "—" if r["observed_sign"] is None else f"{r['observed_sign']:+d}"
        lines.append(f"| {r['model']} | {r['benchmark']} | {ev['median']:.2f} → {ev['sign']:+d} ({ev['kind']}) | "
                     f"{rg['median']:.2f} → {rg['sign']:+d} ({rg['kind']}) | {r['test_items']} | "
                     f"{num(r['lc_auroc'])} | [{num(r['ci_low'])}, {num(r['ci_high'])}] | {obs} | "
                     f"{r['verdicts']['evidence']} | {r['verdicts']['regime']} |")
    earlier = {}
    for r in result["runs"]:
        if r.get("scored", result.get("date")) != result.get("date"):
            earlier.setdefault((r["scored"], r.get("predictions_commit")), []).append(f"{r['model']}/{r['benchmark']}")
    for (when, commit), keys in sorted(earlier.items()):
        lines += ["", f"Kept as scored on {when} against predictions commit {(commit or 'none')[:12]}: "
                  f"{', '.join(keys)}."]
    if result["reversals"]:
        lines += ["", "| rule | model | benchmarks predicted opposite | reversal |", "|---|---|---|---|"]
        lines += [f"| {v['rule']} | {v['model']} | {' vs '.join(v['benchmarks'])} | {v['verdict']} |"
                  for v in result["reversals"]]
    return "\n".join(lines) + "\n"
