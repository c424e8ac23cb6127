"""Synthetic inputs for the harness tests: HaluEval-shaped files and feature records with a planted effect."""
import json
import zlib

import numpy as np

from attention_transport.harness.features import FEATURES, FeatureSettings


def write_qa(path, n_items, *, long_item=None):
    """A HaluEval-QA-shaped file; answers of varied length so that strata hold both classes."""
    rng = np.random.default_rng(0)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n_items):
            k = int(rng.integers(2, 5))
            rec = {"knowledge": f"fact {i} " * (6 if i == long_item else 1), "question": f"q{i}?",
                   "right_answer": "ab" * k, "hallucinated_answer": "ba" * k + ("x" if i % 3 == 0 else "")}
            if i == long_item:
                rec["knowledge"] = "long " * 40
            fh.write(json.dumps(rec) + "\n")
    return path


def synthetic_records(n_items=40, effect=2.0, seed=0, layers=3, heads=2, lengths=(1, 6), lapeig_k=4):
    """Feature records of every registered feature, where hallucinated answers have larger φ in layer 0 only.

    Each feature draws from its own stream (seeded by ``seed`` and its name), so registering a feature
    does not change the values of the others."""
    rng = np.random.default_rng(seed)
    streams = {name: np.random.default_rng([seed, zlib.crc32(name.encode())]) for name in FEATURES}
    settings = FeatureSettings(lapeig_k=lapeig_k)
    recs = []
    for i in range(n_items):
        length = int(rng.integers(*lengths))
        for label in (0, 1):
            f = {}
            for name, feat in FEATURES.items():
                w = feat.width(settings)
                f[name] = streams[name].normal(size=(layers, heads) + (() if w is None else (w,))).astype(np.float32)
            f["phi"][0] += effect * label
            f["phi_response"][:] = np.nan if length == 1 else f["phi_response"]
            f.update(item_id=np.array(f"it:{i}"), label=np.array(label), response_len=np.array(length))
            recs.append(f)
    return recs
