"""The validation report: one object with a schema version, written and read as JSON, rendered as Markdown.

A :class:`Report` holds what one ``validate`` run found: the run (model,
benchmark, items used and skipped, attention paths), the length strata, and a
:class:`Score` per feature (unsupervised, all heads and per layer), per probe
group and per baseline.  Figures, the Markdown writer and the command line read
its attributes; :meth:`Report.to_json` and :meth:`Report.from_json` are the only
places that know the file layout.

Support.  A length-controlled AUROC from a handful of pairs is not evidence:
one pair gives 0 or 1 and an interval that collapses onto it.  A score is
reported only with at least :data:`MIN_PAIRS` within-stratum pairs drawn from at
least :data:`MIN_ITEMS` distinct items; below that, :attr:`Score.insufficient`
says why and the value, its interval and its polarity are ``None`` (``null``
in JSON, "insufficient" in Markdown and figures).  Reports written before the
schema recorded items (schema 1) are judged on their pairs alone.

Schema versions: 1, the reports shipped before this module (no
``schema_version`` key; feature ``t_star_frac``; settings key ``spectral``);
2, this layout.  Reading converts 1 to 2.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from attention_transport.errors import AttentionTransportError
from attention_transport.provenance import json_ready

__all__ = ["SCHEMA_VERSION", "MIN_PAIRS", "MIN_ITEMS", "Score", "Strata", "Report", "support", "load_report",
           "write_markdown"]

SCHEMA_VERSION = 2
#: fewest within-stratum (hallucinated, faithful) pairs behind a reported LC-AUROC
MIN_PAIRS = 20
#: fewest distinct items contributing to those pairs
MIN_ITEMS = 10

_LEGACY_FEATURES = {"t_star_frac": "t_star_over_n"}
_LEGACY_SETTINGS = {"spectral": "lambda2"}


def support(n_pairs, n_items=None):
    """Why a score with this support is not reported, or None when it is.

    >>> support(6, 4)
    '6 within-stratum pairs from 4 items; at least 20 pairs from 10 items are needed'
    >>> support(400, 180) is None
    True
    """
    short = n_pairs < MIN_PAIRS or (n_items is not None and n_items < MIN_ITEMS)
    if not short:
        return None
    items = "" if n_items is None else f" from {n_items} items"
    return f"{n_pairs} within-stratum pairs{items}; at least {MIN_PAIRS} pairs from {MIN_ITEMS} items are needed"


def _num(v):
    return None if v is None or v != v else v


@dataclass
class Score:
    """A length-controlled AUROC with its interval and its support.

    Attributes
    ----------
    lc_auroc, ci_low, ci_high : float or None
        ``None`` when undefined or insufficient.
    polarity : int or None
        Sign of ``LC-AUROC − 1/2``.
    n_pairs : int
        Within-stratum pairs compared.
    n_items : int or None
        Distinct items contributing to those pairs (None in schema-1 reports).
    insufficient : str or None
        Why the value is not reported (see :func:`support`).
    auroc : float or None
        Plain AUROC (probes; the length baseline without length control).
    n_features, n_splits, n_used : int or None
        Probe width and folds; examples with a defined value.
    per_layer : list of Score
        Per-layer scores (unsupervised features), each with its ``layer``.
    layer : int or None
    coarse : Score or None
        Sensitivity analysis: the same LC-AUROC on coarsened length strata
        (:func:`~.metrics.coarse_lengths`), with its own interval and support.
    adjusted_auroc : float or None
        Sensitivity analysis: plain AUROC of the scores residualised on a cubic spline of
        length fitted on training folds (:func:`~.metrics.length_adjusted_auroc`); None
        below :data:`MIN_ITEMS` items.
    """

    lc_auroc: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    polarity: int | None = None
    n_pairs: int = 0
    n_items: int | None = None
    insufficient: str | None = None
    auroc: float | None = None
    n_features: int | None = None
    n_splits: int | None = None
    n_used: int | None = None
    per_layer: list = field(default_factory=list)
    layer: int | None = None
    coarse: Score | None = None
    adjusted_auroc: float | None = None

    def __post_init__(self):
        for name in ("lc_auroc", "ci_low", "ci_high", "polarity", "auroc", "adjusted_auroc"):
            setattr(self, name, _num(getattr(self, name)))
        if self.insufficient is None:
            self.insufficient = support(self.n_pairs, self.n_items)
        if self.insufficient is not None:
            self.lc_auroc = self.ci_low = self.ci_high = self.polarity = None

    @property
    def reported(self):
        """True when the score has a value (defined and with enough support)."""
        return self.lc_auroc is not None

    @property
    def ci_excludes_half(self):
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0.5 or self.ci_high < 0.5)

    def to_json(self):
        optional = ("per_layer", "layer", "coarse", "adjusted_auroc")  # written only when present
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in optional}
        if self.layer is not None:
            out["layer"] = self.layer
        if self.per_layer:
            out["per_layer"] = [s.to_json() for s in self.per_layer]
        if self.coarse is not None:
            out["coarse"] = self.coarse.to_json()
        if self.adjusted_auroc is not None:
            out["adjusted_auroc"] = self.adjusted_auroc
        return out

    @classmethod
    def from_json(cls, d):
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known and k not in ("per_layer", "coarse")}
        coarse = cls.from_json(d["coarse"]) if isinstance(d.get("coarse"), dict) else None
        return cls(**kw, per_layer=[cls.from_json(x) for x in d.get("per_layer", [])], coarse=coarse)


_NUMBER = (int, float)
#: Score keys and the JSON types they may hold (None: null).
_SCORE_TYPES = {"lc_auroc": (_NUMBER, None), "ci_low": (_NUMBER, None), "ci_high": (_NUMBER, None),
                "polarity": (int, None), "n_pairs": (int,), "n_items": (int, None), "insufficient": (str, None),
                "auroc": (_NUMBER, None), "n_features": (int, None), "n_splits": (int, None),
                "n_used": (int, None), "layer": (int, None), "per_layer": (list,), "coarse": (dict, None),
                "adjusted_auroc": (_NUMBER, None)}
_STRATA_TYPES = {"coverage": (_NUMBER, None), "n_pairs": (int,), "n_strata": (int,), "strata": (list,)}
_REQUIRED_SCORE = ("lc_auroc", "n_pairs")


def _type_ok(v, allowed):
    for t in allowed:
        if t is None and v is None:
            return True
        if t is not None and isinstance(v, t) and not isinstance(v, bool):
            return True
    return False


def _type_name(allowed):
    names = {_NUMBER: "a number", int: "an integer", str: "a string", list: "a list", dict: "an object"}
    return " or ".join("null" if t is None else names[t] for t in allowed)


def _check_layout(d, source):
    """One line naming the file, the key and what it holds, for a report whose layout is broken."""
    def bad(key, allowed, v):
        shown = json.dumps(v) if not isinstance(v, (dict, list)) else type(v).__name__
        raise AttentionTransportError(f"{source}: key {key} must be {_type_name(allowed)}; got {shown}.")

    def missing(key):
        raise AttentionTransportError(f"{source}: missing key {key} (is it a report.json written by validate?).")

    def score(key, v):
        if not isinstance(v, dict):
            bad(key, (dict,), v)
        for k in _REQUIRED_SCORE:
            if k not in v:
                missing(f"{key}.{k}")
        for k, allowed in _SCORE_TYPES.items():
            if k in v and not _type_ok(v[k], allowed):
                bad(f"{key}.{k}", allowed, v[k])
        for i, x in enumerate(v.get("per_layer", [])):
            score(f"{key}.per_layer[{i}]", x)

    for key in ("model", "benchmark"):
        if not isinstance(d[key], str):
            bad(key, (str,), d[key])
    for group in ("features", "probes", "baselines"):
        if not isinstance(d[group], dict):
            bad(group, (dict,), d[group])
        for name, v in d[group].items():
            score(f"{group}.{name}", v)
    if "strata" not in d:
        missing("strata")
    if not isinstance(d["strata"], dict):
        bad("strata", (dict,), d["strata"])
    for k, allowed in _STRATA_TYPES.items():
        if k not in d["strata"]:
            missing(f"strata.{k}")
        if not _type_ok(d["strata"][k], allowed):
            bad(f"strata.{k}", allowed, d["strata"][k])
    for key in ("n_items", "n_examples"):
        if key not in d:
            missing(key)
        if not _type_ok(d[key], (int,)):
            bad(key, (int,), d[key])
    for name, v in d["features"].items():
        if not v.get("per_layer"):
            missing(f"features.{name}.per_layer (one score per layer)")
    if "heads" not in d:
        missing("heads")
    for key in ("phi", "G"):
        part = d["heads"].get(key) if isinstance(d["heads"], dict) else None
        if not isinstance(part, dict):
            bad(f"heads.{key}", (dict,), part)
        for side in ("faithful", "hallucinated"):
            if not isinstance(part.get(side), list):
                bad(f"heads.{key}.{side}", (list,), part.get(side))


@dataclass
class Strata:
    """The response-length strata of LC-AUROC: those holding both classes, their coverage and pairs."""

    coverage: float | None
    n_pairs: int
    n_strata: int
    strata: list  #: dicts with length, n_hallucinated, n_faithful

    @classmethod
    def from_json(cls, d):
        return cls(coverage=_num(d["coverage"]), n_pairs=d["n_pairs"], n_strata=d["n_strata"], strata=d["strata"])


@dataclass
class Report:
    """What one validation run found (see the module docstring)."""

    model: str
    benchmark: str
    data: str
    seed: int
    limit: int | None
    n_items: int
    n_examples: int
    strata: Strata
    features: dict  #: name → Score (unsupervised, mean over all heads; per_layer filled)
    probes: dict  #: transport probe group → Score
    baselines: dict  #: baseline probe group or ``<feature>_unsupervised`` → Score
    heads: dict  #: "phi"/"G" → {"faithful": (layers, heads) list, "hallucinated": ...}
    items_loaded: int = 0
    records_skipped: int = 0
    skipped_lines: list = field(default_factory=list)
    too_long: list = field(default_factory=list)
    unscorable: list = field(default_factory=list)
    corrupt: list = field(default_factory=list)  #: feature files that could not be read and were computed again
    #: well-formed records the benchmark's pairing rule leaves out: reason → count
    excluded: dict = field(default_factory=dict)
    #: examples no shard computed (``validate --merge`` over an incomplete set of shards)
    not_computed: list = field(default_factory=list)
    max_tokens: int | None = None
    prompt_truncated: int = 0
    computed: int = 0
    resumed: int = 0
    attention: str = "auto"
    attention_paths: dict = field(default_factory=dict)
    phi_bip_lattice: int = 0
    seconds_per_example: float | None = None
    #: the architectural signature of the faithful answers (:func:`~.signature.head_signature`); {} before it existed
    signature: dict = field(default_factory=dict)
    #: G against the diagonal (the attention-score baseline): rank correlations and the probe with both
    direction: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def settings(self):
        """The settings that fixed the feature files (from the provenance)."""
        return self.provenance.get("settings", {})

    @property
    def lc_auroc(self):
        """Feature → all-heads LC-AUROC (None where not reported)."""
        return {k: s.lc_auroc for k, s in self.features.items()}

    @property
    def polarity(self):
        return {k: s.polarity for k, s in self.features.items()}

    def to_json(self):
        """A JSON-ready dict (snake_case keys; non-finite numbers as null)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Strata):
                v = asdict(v)
            elif f.name in ("features", "probes", "baselines"):
                v = {k: s.to_json() for k, s in v.items()}
            out[f.name] = v
        out["lc_auroc"], out["polarity"] = self.lc_auroc, self.polarity  # flat views for quick reading
        return json_ready(out)

    def write(self, path):
        """Write the JSON report atomically."""
        from attention_transport.harness.store import atomic_write

        atomic_write(path, json.dumps(self.to_json(), indent=1).encode())

    @classmethod
    def from_json(cls, d, source="report"):
        """A report from its JSON dict, converting earlier schema versions.

        Raises
        ------
        AttentionTransportError
            Not a validation report, or a schema newer than this package reads.
        """
        if not isinstance(d, dict):
            raise AttentionTransportError(f"{source} is not a validation report: it holds a JSON "
                                          f"{type(d).__name__ if d is not None else 'null'}, not an object.")
        absent = [k for k in ("model", "benchmark", "features", "probes", "baselines") if k not in d]
        if absent:
            raise AttentionTransportError(f"{source} is not a validation report: missing key {absent[0]} (a report "
                                          "needs model, benchmark, features, probes and baselines).")
        version = d.get("schema_version", 1)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise AttentionTransportError(f"{source} has report schema {version!r}; this package reads schema "
                                          f"<= {SCHEMA_VERSION}.")
        _check_layout(d, source)
        d = dict(d)
        d["features"] = {_LEGACY_FEATURES.get(k, k): v for k, v in d["features"].items()}
        d["baselines"] = {k: ({**v, "auroc": v.get("auroc", v.get("auroc_without_length_control"))}
                              if k == "length_unsupervised" else v) for k, v in d["baselines"].items()}
        prov = dict(d.get("provenance", {}))
        if "settings" in prov:
            prov["settings"] = {_LEGACY_SETTINGS.get(k, k): v for k, v in prov["settings"].items()}
        d["provenance"] = prov
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["strata"] = Strata.from_json(d["strata"])
        for name in ("features", "probes", "baselines"):
            kw[name] = {k: Score.from_json(v) for k, v in d[name].items()}
        kw["schema_version"] = SCHEMA_VERSION
        return cls(**kw)


def load_report(path):
    """Read one ``report.json`` (any schema this package knows)."""
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AttentionTransportError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}.") from None
    return Report.from_json(d, source=str(path))


def _f(v, spec="{:.3f}"):
    return "—" if v is None or v != v else spec.format(v)


def _sign(p):
    return {1: "+1", -1: "−1", 0: "0"}.get(p, "—")


def _value(s):
    """LC-AUROC as a table cell: the number, or why there is none."""
    if s.insufficient:
        return f"insufficient ({s.n_pairs} pairs)"
    return _f(s.lc_auroc)


def _interval(s):
    return "—" if s.ci_low is None else f"{_f(s.ci_low)}–{_f(s.ci_high)}"


def _coarse(score):
    """The coarse-strata sensitivity value with its interval, '—' when not computed."""
    c = score.coarse
    if c is None:
        return "—"
    return f"{_value(c)} {_interval(c)} ({c.n_pairs} pairs)"


def write_markdown(report):
    """The report's tables as Markdown (what ``report.md`` holds)."""
    s = report.strata
    lines = [f"# {report.model} on {report.benchmark}", "",
             f"{report.n_items} items ({report.n_examples} examples), seed {report.seed}; "
             f"LC-AUROC strata: {s.n_strata} response lengths hold both classes, "
             f"coverage {_f(s.coverage)} of examples, {s.n_pairs} pairs. A score needs at least {MIN_PAIRS} "
             f"within-stratum pairs from {MIN_ITEMS} items; below that it is marked insufficient.", "",
             "## Unsupervised features (mean over all heads)", "",
             "| feature | LC-AUROC | 95% CI | polarity | pairs | best layer | its LC-AUROC | coarse strata [CI] "
             "| length-adjusted AUROC |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, f in report.features.items():
        layers = [r for r in f.per_layer if r.reported]
        best = max(layers, key=lambda r: abs(r.lc_auroc - 0.5)) if layers else None
        lines.append(f"| {name} | {_value(f)} | {_interval(f)} | {_sign(f.polarity)} | {f.n_pairs} | "
                     f"{best.layer if best else '—'} | {_f(best.lc_auroc) if best else '—'} | {_coarse(f)} | "
                     f"{_f(f.adjusted_auroc)} |")
    lines += ["", "## Probes (grouped cross-validation, out-of-fold LC-AUROC)", "",
              "| group | kind | features | LC-AUROC | 95% CI | pairs | plain AUROC | coarse strata [CI] "
              "| length-adjusted AUROC |", "|---|---|---|---|---|---|---|---|---|"]
    for kind, block in (("transport", report.probes), ("baseline", report.baselines)):
        for group, e in block.items():
            if e.n_features is None:
                continue
            lines.append(f"| {group} | {kind} | {e.n_features} | {_value(e)} | {_interval(e)} | {e.n_pairs} | "
                         f"{_f(e.auroc)} | {_coarse(e)} | {_f(e.adjusted_auroc)} |")
    ln = report.baselines["length_unsupervised"]
    lines += ["", f"Response length alone: LC-AUROC {_value(ln)} (1/2 by construction), "
              f"AUROC without length control {_f(ln.auroc)}.", ""]
    return "\n".join(lines + _signature_lines(report.signature) + _direction_lines(report))


def _signature_lines(sig):
    if not sig:
        return []
    t = sig["thresholds"]
    lines = ["## Architectural signature (faithful answers)", "",
             f"Fraction of heads per answer below each threshold, over {sig['answers']} answers.", "",
             "| heads with | mean | sd | quartiles |", "|---|---|---|---|"]
    for name, what in (("floor", "φ < 1/5"), ("sharp", f"φ < 5/17 = {_f(t['sharp'], '{:.4f}')}"),
                       ("bip", f"φ_bip < φ_bip* = {_f(t['bip'], '{:.4f}')}")):
        o = sig[name]["overall"]
        lines.append(f"| {what} | {_f(o['mean'])} | {_f(o['sd'])} | {_f(o['q25'])} / {_f(o['median'])} / "
                     f"{_f(o['q75'])} |")
    lines += ["", "| landscape shape | share of heads (mean) | heads | of which φ < 1/5 |", "|---|---|---|---|"]
    for cls, what in (("window_like", f"window-like (t*/n within {sig['band']} of 1/2)"),
                      ("uniform_like", f"uniform-like (t*/n within {sig['band']} of x*)")):
        c = sig["shape"][cls]
        lines.append(f"| {what} | {_f(c['share']['mean'])} | {c['heads']} | {_f(c['below_floor'])} |")
    return lines + [""]


def _direction_lines(report):
    d = report.direction
    if not d:
        return []
    both = Score.from_json(d["attn_score_plus_G"])
    alone = report.baselines.get("attn_score")
    return ["## G against the diagonal", "",
            f"Rank correlation over answers of G with the attention score (mean log a_ii): all heads pooled "
            f"{_f(d['spearman_all_heads'])}, per head (median) {_f(d['spearman_per_head_median'])}. Probe on the "
            f"attention score {_value(alone) if alone else '—'}, with G added {_value(both)} {_interval(both)}. "
            "On a causal head G is a function of the diagonal energy share alone (C7d).", ""]
