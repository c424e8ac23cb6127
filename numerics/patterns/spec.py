"""Spec strings: one grammar for library families, presets, files and compositions.

::

    spec    := family | family ":" key "=" value ("," key "=" value)*
             | "file:" PATH ".py" [":" NAME ("+" NAME)*]
             | "union(" spec ("," spec)* ")" | "stack(" spec ("," spec)* ")"
             | "mix(" spec "@" weight ("," spec "@" weight)* ")" | "repeat(" spec "," k ")"

Whitespace around commas is allowed; arguments nest.  A bare ``key=value`` after
a family's spec continues that family's parameters, so
``stack(sink-window:s=4,w=8, window:w=4)`` has two layers.
"""
from __future__ import annotations

from fractions import Fraction

from attention_transport.errors import AttentionTransportError, UnknownName
from attention_transport.numerics.patterns.base import REGISTRY, Pattern
from attention_transport.numerics.patterns.compose import COMPOSITIONS, Mix, Repeat, Stack, Union
from attention_transport.numerics.patterns.files import load_file_pattern

__all__ = ["parse_pattern", "split_arguments"]


def split_arguments(text, spec):
    """Split a composition's argument list at top-level commas, joining ``key=value`` continuations."""
    depth, cur, parts = 0, [], []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    out = []
    for part in parts:
        key, eq, _ = part.partition("=")
        if eq and key.strip().isidentifier() and out and ":" in out[-1] and "(" not in out[-1].rsplit(",", 1)[-1]:
            out[-1] = out[-1] + "," + part
        else:
            out.append(part)
    if any(not p for p in out):
        raise AttentionTransportError(f"empty argument in {spec!r}.")
    return out


def _family(spec):
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise UnknownName(f"unknown pattern {name!r}; known patterns: {known}; compositions: "
                          f"{', '.join(COMPOSITIONS)}; files: file:PATH.py.")
    cls = REGISTRY[name]
    values = {}
    for item in filter(None, (x.strip() for x in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq:
            raise AttentionTransportError(f"pattern parameter must be key=value; got {item!r} in {spec!r}.")
        if key not in cls.params:
            known = ", ".join(cls.params) if cls.params else "none"
            raise UnknownName(f"unknown parameter {key!r} for pattern {name!r}; its parameters: {known}.")
        values[key] = cls.params[key].parse(raw, key, name)
    return cls(**values)


def parse_pattern(spec):
    """Parse a spec into a :class:`Pattern` (a pattern passes through unchanged).

    Raises
    ------
    AttentionTransportError
        Unknown name or parameter, malformed ``key=value`` or composition, a value
        of the wrong type or out of range, mix weights that do not sum to 1.  The
        message names what exists.

    Examples
    --------
    >>> parse_pattern("window:w=64").spec
    'window:w=64'
    >>> parse_pattern("sink-window").spec
    'sink-window:s=4,w=16'
    >>> parse_pattern("stack( repeat(window:w=16, 2),uniform-causal )").spec
    'stack(repeat(window:w=16, 2), uniform-causal)'
    >>> parse_pattern("mix(window:w=4@0.25, uniform-causal@3/4)").spec
    'mix(window:w=4@0.25, uniform-causal@0.75)'
    """
    if isinstance(spec, Pattern):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise AttentionTransportError(f"pattern spec must be a non-empty string; got {spec!r}.")
    text = spec.strip()
    head, paren, _ = text.partition("(")
    if paren and head.strip() in COMPOSITIONS and ":" not in head:
        if not text.endswith(")"):
            raise AttentionTransportError(f"composition must end with ')'; got {spec!r}.")
        return _composition(head.strip(), text[len(head) + 1:-1], spec)
    if text.startswith("file:"):
        return load_file_pattern(text[len("file:"):])
    if "(" in text or ")" in text:
        raise AttentionTransportError(f"unknown composition in {spec!r}; compositions: {', '.join(COMPOSITIONS)}.")
    return _family(text)


def _composition(name, body, spec):
    args = split_arguments(body, spec)
    if name == "union":
        return Union(parts=tuple(parse_pattern(a) for a in args))
    if name == "stack":
        return Stack(parts=tuple(parse_pattern(a) for a in args))
    if name == "repeat":
        if len(args) != 2:
            raise AttentionTransportError(f"repeat takes (pattern, k); got {len(args)} arguments in {spec!r}.")
        try:
            k = int(args[1])
        except ValueError:
            raise AttentionTransportError(f"repeat's layer count must be an integer; got {args[1]!r}.") from None
        return Repeat(pattern=parse_pattern(args[0]), k=k)
    parts, weights = [], []
    for a in args:
        sub, at, w = a.rpartition("@")
        if not at or ")" in w:
            raise AttentionTransportError(f"mix arguments are PATTERN@WEIGHT; got {a!r} in {spec!r}.")
        try:
            weights.append(Fraction(w.strip()))
        except (ValueError, ZeroDivisionError):
            raise AttentionTransportError(f"mix weight must be a decimal or a fraction; got {w.strip()!r}.") from None
        parts.append(parse_pattern(sub))
    return Mix(parts=tuple(parts), weights=tuple(weights))
