"""Scopes: the parameter values a step (or a claim) is proven for, as regions that can be compared.

A :class:`Region` is a finite union of integer boxes over named parameters (``n``, ``w``, …); an
upper end ``None`` means unbounded.  Regions are what makes coverage *computed*: a claim's
statement has a region, each case of its argument has a region, each step proves a region, and
:meth:`Region.covers` decides, by box subtraction, whether the pieces leave a gap.  A finite check
reports the region it actually ran (:meth:`Region.points` builds it from the values its loop
visited), so a loop that skips a value leaves a hole that the coverage step finds.

A :class:`Scope` pairs a region with its *basis*: why the step holds there.

>>> r = Region.box(n=(2, 99)) | Region.box(n=(100, None))
>>> r.covers(Region.box(n=(2, None)))
True
>>> Region.points("n", [2, 3, 4, 6]).describe()
'2 ≤ n ≤ 4; n = 6'
>>> Region.box(n=(2, None)).minus(Region.points("n", range(2, 99)) | Region.box(n=(100, None))).describe()
'n = 99'
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

__all__ = ["Region", "Scope", "BASES", "one_of"]

#: why a step holds on its region
BASES = {
    "symbolic": "symbolic in the parameters: one argument for every value",
    "induction": "induction on the parameter",
    "monotone": "rigorous interval values at the end of a range on which the quantity is proven monotone",
    "cited": "a cited textbook theorem (named in the method), for every value",
    "each": "checked value by value; the region is what the loop actually visited",
    "instances": "checked on the listed instances only",
}


def one_of(value, allowed, what):
    """Raise the package's one-line error unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}.")


def _fmt(name, lo, hi):
    if hi is None:
        return f"{name} ≥ {lo}"
    if lo == hi:
        return f"{name} = {lo}"
    return f"{lo} ≤ {name} ≤ {hi}"


@dataclass(frozen=True)
class Region:
    """A finite union of integer boxes; each box is a tuple of ``(name, lo, hi)`` sorted by name."""

    boxes: tuple = ()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def box(cls, **sides):
        """One box, ``Region.box(n=(2, None), w=(3, 3))``; a bare int is a single value."""
        parts = []
        for name, side in sorted(sides.items()):
            lo, hi = (side, side) if isinstance(side, int) else side
            if hi is not None and hi < lo:
                return cls(())
            parts.append((name, int(lo), None if hi is None else int(hi)))
        return cls((tuple(parts),))

    @classmethod
    def everything(cls):
        """The region of a statement without integer parameters (one point, always covered)."""
        return cls(((),))

    @classmethod
    def points(cls, names, values):
        """The region of the visited values: ``names`` one name or a tuple, ``values`` ints or tuples.

        Runs of consecutive values of the last name become one box, so a gap stays a gap.
        """
        names = (names,) if isinstance(names, str) else tuple(names)
        pts = sorted({(v,) if isinstance(v, int) else tuple(v) for v in values})
        boxes = []
        for head, group in groupby(pts, key=lambda p: p[:-1]):
            last = [p[-1] for p in group]
            start = prev = last[0]
            for v in last[1:] + [None]:
                if v is not None and v == prev + 1:
                    prev = v
                    continue
                sides = dict(zip(names[:-1], [(h, h) for h in head]))
                sides[names[-1]] = (start, prev)
                boxes += cls.box(**sides).boxes
                if v is not None:
                    start = prev = v
        return cls(tuple(boxes))

    # ------------------------------------------------------------------ algebra
    def __or__(self, other):
        return Region(self.boxes + other.boxes)

    @property
    def empty(self):
        return not self.boxes

    @property
    def bounded(self):
        """True when every box has every upper end finite."""
        return all(hi is not None for b in self.boxes for _, _, hi in b)

    def minus(self, other):
        """The part of this region outside ``other``."""
        rest = list(self.boxes)
        for cut in other.boxes:
            rest = [piece for b in rest for piece in _subtract(b, cut)]
        return Region(tuple(rest))

    def covers(self, other):
        """True when every point of ``other`` lies in this region."""
        return other.minus(self).empty

    def describe(self):
        if self.empty:
            return "nothing"
        return "; ".join(", ".join(_fmt(*s) for s in b) or "no parameter" for b in self.boxes)


def _subtract(box, cut):
    """``box − cut`` as disjoint boxes (integer intervals, ``None`` = unbounded above)."""
    names = [s[0] for s in box]
    if names != [s[0] for s in cut]:
        raise ValueError(f"regions over different parameters: {names} and {[s[0] for s in cut]}")
    current = list(box)
    out = []
    for k, ((name, lo, hi), (_, clo, chi)) in enumerate(zip(box, cut)):
        top = hi if hi is not None else float("inf")
        ctop = chi if chi is not None else float("inf")
        if clo > top or ctop < lo:  # disjoint in this side: nothing removed
            return [box]
        if lo < clo:
            piece = list(current)
            piece[k] = (name, lo, clo - 1)
            out.append(tuple(piece))
        if ctop < top:
            piece = list(current)
            piece[k] = (name, chi + 1, hi)
            out.append(tuple(piece))
        current[k] = (name, max(lo, clo), hi if ctop >= top else chi)
    return out


@dataclass(frozen=True)
class Scope:
    """What a step proves: a region, the basis it holds on (a key of :data:`BASES`) and, optionally,
    words for the region when its boxes would be long to list."""

    region: Region
    basis: str
    text: str = ""

    def __post_init__(self):
        one_of(self.basis, tuple(BASES), "scope basis")
        if self.basis in ("each", "instances") and not self.region.bounded:
            raise ValueError(f"a {self.basis!r} scope must be bounded; got {self.region.describe()}.")

    @property
    def finite(self):
        """Checked value by value: the checker must report the region it visited."""
        return self.basis in ("each", "instances")

    def describe(self):
        where = self.text or self.region.describe()
        return {"symbolic": f"{where} (symbolic)", "induction": f"{where} (induction)",
                "monotone": f"{where} (interval, monotone)", "cited": f"{where} (cited theorem)",
                "each": f"{where} (each value checked)", "instances": f"{where} (instances only)"}[self.basis]
