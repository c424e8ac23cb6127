"""The output folder of a validation run: one feature file per example, and the manifest ``run.json``.

``OUT/features/<item>_<label>.npz`` holds one example's per-head features,
written by an atomic rename: an interrupted run leaves finished files and at
most a ``.part`` file, and resumes where it stopped.  ``OUT/run.json``, the
manifest, records everything that fixes the contents of those files: the
schema version, the model and its content hash (``model_sha256``), the
benchmark, the data file and the sha256 of its contents, the feature settings,
the φ_bip grid, and the *feature set* (the registered features that were
wanted).  Resuming with anything different is refused with
:class:`~attention_transport.errors.IncompatibleRun`, naming the first
difference: the finished files would otherwise mix with new ones (an added
feature would be missing from the old files; a changed setting would change
their numbers silently).  To compute with other settings or features, use
another output folder.  Folders written before the manifest recorded the data
hash (schema 1) are resumed on the strength of the data file's path.

A feature file that cannot be read (a truncated, emptied or overwritten ``.npz``:
any error while loading it) is set aside as ``<file>.corrupt`` and its example
computed again (:meth:`FeatureStore.load_readable`), so a resume equals a fresh
run.  Files and the manifest are written through a flushed ``.part`` file and a
rename, with the folder synced, and the manifest only with the first finished
example (:meth:`FeatureStore.commit`): a run refused before it computed
anything leaves no ``run.json`` behind.  Manifests written before
``model_sha256`` existed resume on their other keys.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from attention_transport.errors import IncompatibleRun
from attention_transport.harness.features import LEGACY_NAMES

__all__ = ["MANIFEST_SCHEMA", "FeatureStore", "atomic_write", "file_sha256", "content_sha256", "feature_path"]

#: version of the manifest and feature-file layout (1: before the manifest recorded it)
MANIFEST_SCHEMA = 2
#: what a manifest without a key meant when it was written (runs from before the key existed)
_V1 = {"schema_version": 1, "bip_grid": 1024,
       "features": ["G", "attn_score", "kl_uniform", "lambda2", "lapeig", "phi", "phi_bip", "phi_boundary",
                    "phi_response", "prompt_mass", "t_star_over_n"]}
#: keys a schema-1 manifest lacks and that cannot be reconstructed: not compared for such a folder
_V1_UNKNOWN = {"data_sha256"}
#: keys added to schema 2 after its first runs: a manifest without them is resumed on the rest
_ADDED = {"model_sha256"}
#: keys added later whose absence had one meaning: a run without ``dtype`` ran the model in float32
_ADDED_DEFAULTS = {"dtype": "float32"}
_RENAMED = {"spectral": "lambda2"}
_RECORD_RENAMED = {"path": "attention", **LEGACY_NAMES}


def feature_path(out, item_id, label):
    """Where a run folder ``out`` keeps the feature file of ``item_id``'s answer ``label``."""
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", str(item_id))
    return Path(out) / "features" / f"{stem}_{label}.npz"


def file_sha256(path, chunk=1 << 20):
    """The sha256 of a file's contents, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(path):
    """The sha256 of a file, or of a folder: of every file's relative name and sha256, in name order."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{f.relative_to(path).as_posix()}\0{file_sha256(f)}\n".encode())
    return digest.hexdigest()


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` through a flushed ``.part`` file and a rename, then sync the folder."""
    tmp = Path(str(path) + ".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _sync_dir(Path(path).parent)


def _sync_dir(folder):
    """Make a rename in ``folder`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_manifest(path):
    """The manifest as a dict, or one line saying why ``run.json`` is not one."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IncompatibleRun(f"{path} is not a run manifest ({type(exc).__name__}: {exc}); move it away or use "
                              "another --out directory.") from None
    if not isinstance(d, dict):
        raise IncompatibleRun(f"{path} is not a run manifest: it holds a JSON {type(d).__name__}, not an object; "
                              "move it away or use another --out directory.")
    return {_RENAMED.get(k, k): v for k, v in d.items()}


class FeatureStore:
    """One ``.npz`` per example under ``OUT/features``, written atomically; ``OUT/run.json`` is the manifest.

    Parameters
    ----------
    out : path
    manifest : dict
        The settings that fix the feature files (see the module docstring); must
        include ``features``, the sorted names of the wanted features.

    Raises
    ------
    IncompatibleRun
        ``out`` holds a run with a different manifest.
    """

    def __init__(self, out, manifest):
        self.root = Path(out)
        self.dir = self.root / "features"
        self.manifest = {"schema_version": MANIFEST_SCHEMA, **manifest}
        manifest = self.manifest
        path = self.root / "run.json"
        if path.is_file():
            old = _read_manifest(path)
            old = {**{k: v for k, v in _V1.items() if k not in old}, **_ADDED_DEFAULTS, **old}
            if old["schema_version"] == 1 and not old.get("lambda2"):  # λ₂ was computed only when asked for
                old["features"] = [f for f in old["features"] if f != "lambda2"]
            skip = set()
            if old["schema_version"] == 1:
                old["schema_version"] = MANIFEST_SCHEMA  # same files; only the manifest was thinner
                skip = {k for k in _V1_UNKNOWN if k not in old}
            skip |= {k for k in _ADDED if old.get(k) is None}  # not recorded then: compared on the rest
            for key, value in manifest.items():
                if key not in skip and old.get(key) != value:
                    raise IncompatibleRun(f"{self.root} holds a run with {_difference(key, old.get(key), value)}; "
                                          "use another --out directory to start a new run.")

    def commit(self):
        """Write ``run.json`` if the folder has none: called with the first finished example, so a run
        refused before it computed anything leaves the folder as it was."""
        path = self.root / "run.json"
        if not path.is_file():
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(self.manifest, indent=1).encode())

    def path(self, example):
        return feature_path(self.root, example.item_id, example.label)

    def has(self, example):
        return self.path(example).is_file()

    def save(self, example, record):
        """Write one example's record: a ``.part`` file flushed to disk, renamed, and the rename made durable
        (the folder synced), so a finished file survives a crash or power loss whole or not at all."""
        self.commit()
        path = self.path(example)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            np.savez(fh, **record)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _sync_dir(self.dir)

    def load_readable(self, example):
        """The example's record, or None when its file cannot be read (then moved to ``<file>.corrupt``)."""
        path = self.path(example)
        try:
            return self.load(example)
        except (IncompatibleRun, MemoryError):  # a sound file that could not be read now stays
            raise
        except Exception:  # noqa: BLE001 — whatever a damaged zip raises (BadZipFile, EOFError, struct.error, ...)
            os.replace(path, path.with_name(path.name + ".corrupt"))
            return None

    def load(self, example):
        """The example's record; keys of earlier releases are read under their current names."""
        with np.load(self.path(example), allow_pickle=False) as z:
            rec = {_RECORD_RENAMED.get(k, k): z[k] for k in z.files}
        if str(rec["item_id"]) != example.item_id or int(rec["label"]) != example.label:
            raise IncompatibleRun(f"feature file {self.path(example)} belongs to {rec['item_id']} / {rec['label']}, "
                                  f"not {example.item_id} / {example.label}.")
        return rec


def _difference(key, old, new):
    if key == "features" and isinstance(old, list):
        added, lost = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        parts = ([f"without {', '.join(added)}"] if added else []) + ([f"with {', '.join(lost)}"] if lost else [])
        return "another feature set (" + "; ".join(parts) + ")"
    return f"{key} = {old!r}, not {new!r}"
