"""Patterns written for FlexAttention: ``file:PATH.py`` (or ``file:PATH.py:NAME``).

The file defines ``mask_mod(b, h, q_idx, kv_idx)`` and/or
``score_mod(score, b, h, q_idx, kv_idx)`` with FlexAttention's meaning: 0-based
indices; row i's weights are the softmax over its support (``mask_mod`` true) of
``score_mod(0, 0, 0, i, j)``, uniform when there is no score_mod; no mask_mod
means every key.  ``file:PATH.py:NAME`` picks the function NAME instead of the
default names (``NAME1+NAME2`` picks two; each is a mask_mod or a score_mod by
its number of parameters, 4 or 5).

The functions run unchanged: they receive broadcast int64 index tensors — torch
tensors when the file imports torch, numpy arrays otherwise — for a block of rows
against all keys, never an n×n array.  Scores are float64: the score argument is a
float64 zero, and torch's default dtype is float64 while a function runs, so
``score - 0.1 * (q_idx - kv_idx)`` is not rounded to float32 on the way.  Errors in the file (a missing function, a
wrong signature, a non-boolean mask, an empty row, a NaN score, an exception in
the function) are one line naming the file, the function and the first
offending (i, j).

The pattern's identity includes the sha256 of the file's bytes: editing the file
gives a new pattern (no stale cached normalisers).
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from attention_transport.errors import AttentionTransportError, UsageError
from attention_transport.numerics.patterns.masked import MaskPattern

__all__ = ["FilePattern", "load_file_pattern"]

_ARITY = {4: "mask_mod", 5: "score_mod"}


def _load_module(path, digest):
    name = f"_attention_transport_pattern_{digest[:16]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: report it in one line
        raise AttentionTransportError(f"{path}: loading the pattern file raised {type(exc).__name__}: "
                                      f"{' '.join(str(exc).split())}") from None
    sys.modules[name] = module
    return module


def _arity(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return sum(p.default is inspect.Parameter.empty for p in params)


@dataclass(frozen=True)
class FilePattern(MaskPattern):
    """A pattern from a FlexAttention-style ``mask_mod`` / ``score_mod`` file."""

    name: ClassVar[str] = "file"
    path: str = ""
    names: tuple = ()
    digest: str = ""
    _fns: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self):
        path = Path(self.path)
        if path.suffix != ".py":
            raise UsageError(f"a pattern file must be a .py file; got {self.path!r}.")
        if not path.is_file():
            raise FileNotFoundError(f"pattern file not found: {self.path}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        object.__setattr__(self, "digest", digest)
        module = _load_module(path, digest)
        wanted = self.names or tuple(k for k in ("mask_mod", "score_mod") if hasattr(module, k))
        if not wanted:
            raise AttentionTransportError(f"{self.path}: defines neither mask_mod(b, h, q_idx, kv_idx) nor "
                                          "score_mod(score, b, h, q_idx, kv_idx).")
        fns = {}
        for fname in wanted:
            fn = getattr(module, fname, None)
            if fn is None or not callable(fn):
                raise AttentionTransportError(f"{self.path}: has no function {fname!r}.")
            role = _ARITY.get(_arity(fn)) if self.names else fname
            if role is None or _arity(fn) != {"mask_mod": 4, "score_mod": 5}[role]:
                raise AttentionTransportError(
                    f"{self.path}: {fname} must take (b, h, q_idx, kv_idx) as a mask_mod or (score, b, h, q_idx, "
                    f"kv_idx) as a score_mod; got {fname}{inspect.signature(fn) if callable(fn) else ''}.")
            if role in fns:
                raise AttentionTransportError(f"{self.path}: two {role} functions given ({fns[role][0]} and "
                                              f"{fname}); give at most one of each.")
            fns[role] = (fname, fn)
        object.__setattr__(self, "_fns", fns)
        object.__setattr__(self, "_torch", "torch" in vars(module))

    @property
    def has_score(self):
        return "score_mod" in self._fns

    @property
    def rational(self):
        return not self.has_score

    @property
    def spec(self):
        return f"file:{self.path}" + (f":{'+'.join(self.names)}" if self.names else "")

    def _where(self, role="mask_mod"):
        fname = self._fns.get(role, (role,))[0]
        return f"{self.path}: {fname}"

    def _call(self, role, q, kv, *lead):
        fname, fn = self._fns[role]
        if self._torch:
            import torch

            zero = torch.tensor(0)
            args = [torch.zeros((), dtype=torch.float64)] * len(lead) + [zero, zero,
                                                                         torch.from_numpy(q), torch.from_numpy(kv)]
        else:
            args = [np.zeros(())] * len(lead) + [np.int64(0), np.int64(0), q, kv]
        try:
            if self._torch:  # Python floats and int → float promotions in the file become float64, not float32
                previous = torch.get_default_dtype()
                torch.set_default_dtype(torch.float64)
                try:
                    out = fn(*args)
                finally:
                    torch.set_default_dtype(previous)
            else:
                out = fn(*args)
        except Exception as exc:
            raise AttentionTransportError(f"{self.path}: {fname} raised {type(exc).__name__} on rows "
                                          f"{q.min()}..{q.max()}: {' '.join(str(exc).split())}") from None
        if self._torch and hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        return np.asarray(out)

    def mask(self, n, q, kv):
        if "mask_mod" not in self._fns:
            return np.ones((q.shape[0], kv.shape[1]), dtype=bool)
        m = self._call("mask_mod", q, kv)
        if m.dtype != np.bool_:
            raise AttentionTransportError(f"{self._where()} must return booleans; got dtype {m.dtype} at (i, j) = "
                                          f"({int(q.ravel()[0])}, {int(kv.ravel()[0])}).")
        try:
            return np.broadcast_to(m, (q.shape[0], kv.shape[1]))
        except ValueError:
            raise AttentionTransportError(f"{self._where()} must broadcast over (q_idx, kv_idx); got shape "
                                          f"{m.shape} for {q.shape[0]} rows and {kv.shape[1]} keys.") from None

    def score(self, n, q, kv):
        s = self._call("score_mod", q, kv, "score")
        if not np.issubdtype(s.dtype, np.number) or np.issubdtype(s.dtype, np.complexfloating):
            raise AttentionTransportError(f"{self._where('score_mod')} must return real numbers; got dtype "
                                          f"{s.dtype}.")
        return s.astype(np.float64)

    def _logits(self, n, i0, i1, j0, j1, m):
        try:
            return super()._logits(n, i0, i1, j0, j1, m)
        except AttentionTransportError as exc:
            raise AttentionTransportError(str(exc).replace(self._where(), self._where("score_mod"))) from None


def load_file_pattern(body):
    """``file:`` spec body ``PATH.py`` or ``PATH.py:NAME[+NAME]`` → :class:`FilePattern`."""
    head, sep, tail = body.rpartition(".py:")
    if sep:
        path, names = head + ".py", tuple(x.strip() for x in tail.split("+"))
        if not all(x.isidentifier() for x in names):
            raise UsageError(f"file pattern names must be Python identifiers; got {tail!r}.")
    else:
        path, names = body, ()
    return FilePattern(path=path.strip(), names=names)
