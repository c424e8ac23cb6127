"""The house style of the figures: one paper column, the Okabe–Ito palette, a provenance stamp, saving."""
from __future__ import annotations

from pathlib import Path

from attention_transport.errors import AttentionTransportError

__all__ = ["OKABE_ITO", "LINES", "COLUMN_WIDTH", "FORMATS", "style", "new_figure", "finish", "save", "check_formats"]

#: Okabe & Ito (2008) colour-blind-safe palette (black first).
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: the palette for lines and markers on white: Okabe–Ito without yellow (too faint)
LINES = tuple(c for c in OKABE_ITO if c != "#F0E442")
COLUMN_WIDTH = 3.4  #: inches, one column of a two-column paper
#: the file formats figures are written in
FORMATS = ("png", "pdf", "svg")

_RC = {"font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "legend.fontsize": 6, "xtick.labelsize": 6,
       "ytick.labelsize": 6, "lines.linewidth": 1.0, "axes.prop_cycle": None, "savefig.dpi": 200,
       "figure.dpi": 100}


def style():
    """The figures' matplotlib settings, as a context manager."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=LINES[1:] + LINES[:1])
    return mpl.rc_context(rc)


def new_figure(height, ncols=1, nrows=1, **kw):
    """A figure one column wide and ``height`` inches tall, with a 2-D array of axes."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH, height), squeeze=False, **kw)
    return fig, axes


def finish(fig, stamp):
    """Stamp the figure with the package version and commit, and lay it out."""
    fig.text(0.995, 0.003, stamp, ha="right", va="bottom", fontsize=4.5, color="#555555")
    fig.tight_layout(rect=(0, 0.025, 1, 1))
    return fig


def save(fig, out, stem, formats):
    """Write ``fig`` as ``out/stem.<format>`` for each format, close it; returns the paths."""
    import matplotlib.pyplot as plt

    paths = []
    for fmt in formats:
        path = Path(out) / f"{stem}.{fmt}"
        fig.savefig(path, dpi=200 if fmt == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def check_formats(formats):
    """Raise unless ``formats`` is a non-empty list of known formats."""
    formats = tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise AttentionTransportError(f"figure format must be one or more of {', '.join(FORMATS)}; got "
                                      f"{(bad[0] if bad else ','.join(formats))!r}.")
    return formats
