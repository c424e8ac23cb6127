"""Batching equal-length examples: one forward pass for several sequences, no padding, so each sequence's features
equal its one-at-a-time features (to rounding), on every path and model kind; ``validate --batch`` writes the same
feature files and report as a run without it."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthetic import write_qa  # noqa: E402
from tiny_models import tiny_bert, tiny_llama, tiny_t5  # noqa: E402

import attention_transport.harness.models as models  # noqa: E402
from attention_transport.cli import main  # noqa: E402
from attention_transport.errors import AttentionTransportError  # noqa: E402
from attention_transport.harness.models import encode, features_from_batch, features_from_inputs  # noqa: E402
from attention_transport.harness.paths import PATHS  # noqa: E402
from attention_transport.harness.validate import RunConfig, validate  # noqa: E402

#: (prompt, response) pairs of equal total length and different prompt lengths (the tiny models' tokenizer reads
#: characters)
PAIRS = [("the cat sat on the mat.", "a dog ran"), ("the cat sat on the mat. a", "dog ran"),
         ("a dog sat on a mat, not a cat", "yes")]
BUILDERS = {"decoder": tiny_llama, "encoder": tiny_bert, "encoder-decoder": tiny_t5}


@pytest.mark.parametrize("kind", BUILDERS)
@pytest.mark.parametrize("path", list(PATHS))
def test_a_batch_equals_one_example_at_a_time(kind, path):
    lm = BUILDERS[kind]()
    if kind == "encoder-decoder":  # equal encoder and equal decoder lengths: one prompt, responses of one length
        pairs = [(PAIRS[0][0], r) for r in ("a dog ran", "a cat sat", "no dog ran"[:9])]
    else:
        pairs = PAIRS
    encoded = [encode(lm, p, r, None) for p, r in pairs]
    inputs, prompt_lens = [e[2] for e in encoded], [e[1] for e in encoded]
    assert len({tuple(x["input_ids"].shape) for x in inputs}) == 1
    if kind == "encoder-decoder" and path == "streaming":
        with pytest.raises(AttentionTransportError, match="encoder–decoder"):
            features_from_batch(lm, inputs, prompt_lens, attention=path, lambda2=False, lapeig_k=4)
        return
    lambda2 = PATHS[path].full_maps
    batched = features_from_batch(lm, inputs, prompt_lens, attention=path, lambda2=lambda2, lapeig_k=4)
    assert len(batched) == len(pairs)
    for x, p, got in zip(inputs, prompt_lens, batched):
        alone = features_from_inputs(lm, x, p, attention=path, lambda2=lambda2, lapeig_k=4)
        assert set(got) == set(alone)
        for name in alone:
            np.testing.assert_allclose(got[name], alone[name], rtol=0, atol=1e-5, equal_nan=True, err_msg=name)


def test_a_batch_of_different_lengths_is_refused():
    lm = tiny_llama()
    a, b = encode(lm, "abc", "de", None), encode(lm, "abcd", "de", None)
    with pytest.raises(AttentionTransportError, match=r"a batch needs inputs of one shape .* got shapes"):
        features_from_batch(lm, [a[2], b[2]], [a[1], b[1]], attention="eager")


def test_validate_batch_writes_the_same_files_and_report(tmp_path, monkeypatch):
    data = write_qa(tmp_path / "qa.jsonl", 12)
    sizes = []
    original = models.features_from_batch

    def spy(loaded, inputs, *args, **kwargs):
        sizes.append(len(inputs))
        return original(loaded, inputs, *args, **kwargs)

    monkeypatch.setattr(models, "features_from_batch", spy)
    runs = {}
    for batch in (1, 4):
        out = tmp_path / f"b{batch}"
        cfg = RunConfig(model="tiny", benchmark="halueval-qa", data=str(data), out=str(out), n_boot=20, n_splits=3,
                        max_tokens=120, lapeig_k=4, batch=batch)
        sizes.clear()
        validate(cfg, loaded=tiny_llama(2), progress=False, figures=False)
        runs[batch] = (json.loads((out / "report.json").read_text()), sorted(out.glob("features/*.npz")),
                       list(sizes))
    (one, files_one, sizes_one), (four, files_four, sizes_four) = runs[1], runs[4]
    assert set(sizes_one) == {1} and max(sizes_four) > 1 and sum(sizes_four) == sum(sizes_one) == 24
    assert files_one and [f.name for f in files_one] == [f.name for f in files_four]
    for a, b in zip(files_one, files_four):
        fa, fb = np.load(a), np.load(b)
        for key in fa.files:
            if key != "seconds" and fa[key].dtype.kind == "f":
                np.testing.assert_allclose(fa[key], fb[key], rtol=0, atol=1e-5, err_msg=f"{a.name}: {key}")
    assert (one["n_items"], one["computed"]) == (four["n_items"], four["computed"]) == (12, 24)
    assert json.dumps(one["lc_auroc"]) == json.dumps(four["lc_auroc"])  # same files to 1e-5: the same ranks


def test_batch_must_be_positive(capsys, tmp_path):
    data = write_qa(tmp_path / "qa.jsonl", 5)
    assert main(["validate", "--model", "tiny", "--benchmark", "halueval-qa", "--data", str(data), "--batch", "0"]) == 2
    assert "--batch" in capsys.readouterr().err
