"""The landscape plot of ``check PATTERN --n N --plot FILE``: one pattern at one n."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from attention_transport.errors import UsageError
from attention_transport.figures.style import LINES, OKABE_ITO, finish, new_figure, style
from attention_transport.provenance import stamp_text

__all__ = ["pattern_landscape_figure", "write_pattern_plot", "BIPARTITE_PLOT_MAX_N"]

#: the bipartite landscape is drawn as a heat map up to this n ((n + 1)² cells)
BIPARTITE_PLOT_MAX_N = 400


def pattern_landscape_figure(pattern, n, *, stamp=None):
    """The prefix landscape ``φ(t)`` over ``t/n`` with the floor 1/5 and, for a causal pattern, the
    uniform-causal reference at the same n; beside it the bipartite landscape when n allows.

    Every curve comes from the package's functions: the structural sums of the
    pattern (:func:`~attention_transport.numerics.structured.pattern_prefix_landscape`)
    and :func:`~attention_transport.numerics.landscapes.bipartite_landscape` on its
    dense matrix.
    """
    import matplotlib.colors as mcolors

    from attention_transport.numerics.landscapes import bipartite_landscape
    from attention_transport.numerics.patterns import parse_pattern
    from attention_transport.numerics.structured import pattern_prefix_landscape

    land = pattern_prefix_landscape(pattern, n)
    with_bip = n <= BIPARTITE_PLOT_MAX_N
    with style():
        fig, axes = new_figure(2.6 if not with_bip else 5.2, nrows=2 if with_bip else 1)
        ax = axes[0, 0]
        frac = land.t / n
        ax.plot(frac, land.phi, color=LINES[1], lw=1.0, label=f"{pattern.spec}")
        ax.plot([land.t_star / n], [land.capacity], marker="v", color=LINES[1], ms=4, ls="none",
                label=f"worst cut t*/n = {land.t_star / n:.3f}, φ = {land.capacity:.4g}")
        if land.causal:
            ref = pattern_prefix_landscape(parse_pattern("uniform-causal"), n)
            ax.plot(frac, ref.phi, color=OKABE_ITO[0], lw=0.7, ls=":", label="uniform-causal at the same n")
        ax.axhline(0.2, color="#555555", ls="--", lw=0.8)
        ax.text(1.0, 0.205, "floor 1/5", fontsize=6, va="bottom", ha="right", transform=ax.get_yaxis_transform())
        ax.set_xlabel("t/n (fraction of tokens left of the cut)")
        ax.set_ylabel("prefix conductance φ(t)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"Prefix landscape, n = {n}")
        ax.legend(loc="upper right", frameon=False, fontsize=5)
        if with_bip:
            ax2 = axes[1, 0]
            M = bipartite_landscape(pattern.dense(n))
            grid = np.arange(n + 1) / n
            positive = M[np.isfinite(M) & (M > 0)]
            norm = mcolors.LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
            im = ax2.pcolormesh(grid, grid, np.ma.masked_invalid(np.where(M > 0, M, np.nan)), shading="nearest",
                                cmap="viridis", norm=norm)
            fig.colorbar(im, ax=ax2, fraction=0.05, pad=0.02).set_label("φ(a, b) (log scale)")
            b, a = np.unravel_index(np.nanargmin(M), M.shape)
            ax2.plot([a / n], [b / n], marker="o", color=OKABE_ITO[6], mec="black", ms=4, ls="none",
                     label=f"(a*, b*)/n: φ_bip = {M[b, a]:.4g}")
            ax2.plot([0, 1], [0, 1], color="white", lw=0.6, ls="--")
            ax2.set_xlabel("a/n (keys left of the cut)")
            ax2.set_ylabel("b/n (queries left of the cut)")
            ax2.set_aspect("equal")
            ax2.set_title("Bipartite landscape")
            ax2.legend(loc="lower right", fontsize=5, framealpha=0.9)
        return finish(fig, stamp or stamp_text())


def write_pattern_plot(pattern, n, path):
    """Draw :func:`pattern_landscape_figure` into ``path`` (format from the suffix: png, pdf or svg)."""
    from attention_transport.figures.style import FORMATS, save

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise UsageError(f"--plot needs a file ending in {', '.join('.' + f for f in FORMATS)}; got {path.name!r}.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory for --plot not found: {path.parent}")
    return save(pattern_landscape_figure(pattern, n), path.parent, path.stem, (fmt,))[0]
