"""The evidence tables: computed from reports, and the README's evidence section equals them."""
import re
from pathlib import Path

import pytest

from attention_transport.cli import main
from attention_transport.figures import bundled_reports, load_reports
from attention_transport.harness import evidence
from attention_transport.harness.evaluate import evaluate
from synthetic import synthetic_records

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def reports():
    out = []
    for model, bench, effect in (("minilm-l6", "halueval-qa", 0.0), ("smollm2-135m", "halueval-qa", 2.0),
                                 ("gemma3-270m", "medqa", -2.0)):
        rep = evaluate(synthetic_records(effect=effect, seed=len(out)), n_boot=20, n_splits=4, model=model,
                       benchmark=bench)
        out.append(rep)
    return out


def test_lc_table_orders_decoders_by_size_then_encoders(reports):
    rows = [line for line in evidence.lc_table(reports).splitlines()[2:]]
    assert [r.split(" | ")[0].strip("| ") for r in rows] == ["smollm2-135m", "gemma3-270m", "minilm-l6"]
    phi = reports[1].features["phi"]
    assert f"{phi.lc_auroc:.2f} [{phi.ci_low:.2f}, {phi.ci_high:.2f}]" in rows[0]


def test_compute_table(reports):
    reports[0].seconds_per_example = 1.5
    row = [r for r in evidence.compute_table(reports).splitlines() if r.startswith("| minilm-l6")][0]
    assert row.endswith(f"| 1.50 | {1.5 * reports[0].n_examples / 60:.0f} |")


def test_signature_and_separation_tables(reports):
    table = evidence.signature_table(reports)
    o = reports[0].signature["floor"]["overall"]
    assert f"{o['mean']:.2f} ± {o['sd']:.2f}" in table.splitlines()[-1]  # minilm last
    pairs = evidence.separation_table(reports).splitlines()[2:]
    assert len(pairs) == 1 and "| halueval-qa | smollm2-135m | minilm-l6 |" in pairs[0]  # gemma is on medqa alone


def test_tables_say_when_nothing_carries_the_analysis(reports):
    old = [r for r in load_reports(bundled_reports()) if not r.signature]
    if old:
        assert evidence.signature_table(old).startswith("No report carries")
        assert evidence.direction_table(old).startswith("No report carries")
    assert evidence.separation_table(reports[2:]).startswith("No two models")


def test_polarity_table():
    result = {"predictions": {"commit": "abc", "file": "p.json", "sha256": "0" * 64}, "n_boot": 100,
              "rule_version": 1, "reversals": [
        {"rule": "evidence", "model": "m", "benchmarks": ["a", "b"], "verdict": "held"}],
        "runs": [{"model": "m", "benchmark": "a",
                  "rules": {"evidence": {"sign": -1, "kind": "bottleneck", "median": 0.9},
                            "regime": {"sign": 1, "kind": "diffuse", "median": 0.1}},
                  "test_items": 800, "lc_auroc": 0.4, "ci_low": 0.35, "ci_high": 0.45, "observed_sign": -1,
                  "verdicts": {"evidence": "held", "regime": "failed"}}]}
    table = evidence.polarity_table(result)
    assert ("| m | a | 0.90 → -1 (bottleneck) | 0.10 → +1 (diffuse) | 800 | 0.400 | [0.350, 0.450] | -1 | held | "
            "failed |") in table
    assert "| evidence | m | a vs b | held |" in table and "at commit abc" in table and not table.startswith("#")


def test_the_readme_evidence_section_is_what_the_command_prints(capsys, monkeypatch):
    monkeypatch.chdir(README.parent)  # the default polarity test file is relative to the repository root
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- evidence:start -->\n(.*?)<!-- evidence:end -->", text, re.S)
    assert found, "README.md has no evidence section between its markers"
    assert main(["evidence"]) == 0
    assert found.group(1) == capsys.readouterr().out, "README evidence section is stale: paste `attention-transport " \
        "evidence`"


def test_cli_errors(capsys):
    assert main(["evidence", "--polarity", "missing.json"]) == 2
    assert "polarity test file not found: missing.json" in capsys.readouterr().err
