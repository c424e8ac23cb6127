"""λ₂ of a wide band (with or without hub tokens) by Rayleigh–Ritz on a coarse space of hats plus residuals.

A band of width w past :data:`~.structured.CHOLESKY_BAND_MAX_W` has no affordable banded factor (``mistral``,
w = 4096; ``streaming-llm``, w = 1020 beside 4 sinks: 10¹² flops and 8 GB at n = 10⁶), and LOBPCG through its
products crawls: λ₂ sits at the bottom of a cluster.  With sinks every token sends about s/(s + w) of its mass
to them, which lifts the band's smooth modes to nearly the same value, so at n = 10⁶ the gap λ₃ − λ₂ is 6·10⁻⁶
of λ₂ ≈ 0.002 (LOBPCG needed 167 iterations, 79 s, even with a coarse preconditioner).

The smooth eigenvectors of a band are smooth on the scale of w.  Let Z hold the hub indicators and the
``D^{1/2}``-weighted piecewise-linear hats on nodes H ≥ w tokens apart (:class:`HatSpace`; ``D^{1/2} 1`` lies
in its span, so the null vector is represented exactly).  Rayleigh–Ritz on span(Z) alone places λ₂ within
about 10⁻⁶ of itself (relative) at n = 10⁶; what it misses oscillates on the scale of the node spacing, where
L is well conditioned (the band averages such modes away: L ≈ 1 there).  So the iteration keeps all of Z in
its space and adds, at each step, the residual of the current Ritz vector made orthogonal to Z and to the
directions already taken (:func:`two_grid_fiedler`).  The cluster is resolved by the Rayleigh–Ritz on Z, not
by the iteration; the residual directions converge like a Krylov method on a well-conditioned operator.  At
n = 10⁶ ``streaming-llm`` reaches a residual of 9·10⁻¹⁴ in 9 steps (3.6 s) and ``mistral`` in 9 (3.4 s).

The coarse operator ``Zᵀ L Z`` costs 5 + h products: a hat meets only the hats within two nodes (its support
is two spacings, L spreads it by w − 1 < H), so the hats coloured by their index modulo 5 are summed into one
vector each, and each product's entries are read off per hat.  Rayleigh–Ritz values from a subspace bound
the eigenvalues above (Cauchy interlacing): the value returned is an upper bound on λ₂ and the residual says
an eigenvalue lies that close; no lower bound is made (an inertia count would need the banded factor).
"""
from __future__ import annotations

import numpy as np
from scipy import linalg

__all__ = ["HatSpace", "TWO_GRID_MAX_NODES", "TWO_GRID_MAX_STEPS", "two_grid_fiedler"]

#: at most this many hat nodes (the spacing H grows past w when n/w is larger); each step solves a dense
#: generalized eigenproblem of that size
TWO_GRID_MAX_NODES = 2048
#: at most this many residual directions (each one a column of n floats, with its product)
TWO_GRID_MAX_STEPS = 40
#: hats coloured by their index modulo this: two hats three nodes apart never meet through L
_COLOURS = 5


class HatSpace:
    """The coarse space Z of the hub tokens ``0 … h − 1`` (unit indicators) and ``D^{1/2}``-weighted, unit
    piecewise-linear hats on K evenly spaced nodes over the tokens ``h … n − 1``, every gap at least ``spacing``
    tokens (the last node is the last token).  Coarse coordinates: hubs first, then the hats in order.

    Token ``h + p`` between nodes ``k`` and ``k + 1`` has weight ``1 − θ`` in hat k and θ in hat k + 1
    (``θ = (p − node_k)/(node_{k+1} − node_k)``); the hats sum to 1, so ``D^{1/2} 1`` is Z times the coarse vector
    of the hub roots and the hats' norms (:attr:`null`).
    """

    def __init__(self, d, h, spacing):
        d = np.asarray(d, dtype=np.float64)
        self.n, self.h = d.size, int(h)
        m = self.n - self.h
        gaps = max(1, (m - 1) // int(spacing))
        nodes = np.rint(np.linspace(0, m - 1, gaps + 1)).astype(np.int64)
        self.K = nodes.size
        pos = np.arange(m)
        self.left = np.minimum(np.searchsorted(nodes, pos, side="right") - 1, self.K - 2)
        theta = (pos - nodes[self.left]) / (nodes[self.left + 1] - nodes[self.left])
        root = np.sqrt(d[self.h:])
        wl, wr = root * (1.0 - theta), root * theta
        norm2 = np.bincount(self.left, weights=wl * wl, minlength=self.K) + \
            np.bincount(self.left + 1, weights=wr * wr, minlength=self.K)
        self.norms = np.sqrt(norm2)
        self.wl, self.wr = wl / self.norms[self.left], wr / self.norms[self.left + 1]
        self.spacing = int(np.diff(nodes).min())
        self.size = self.h + self.K
        self.null = np.concatenate([np.sqrt(d[:self.h]), self.norms])

    def lift(self, C):
        """``Z C`` for coarse vectors C, shape (h + K, k) → (n, k)."""
        C = np.asarray(C, dtype=np.float64).reshape(self.size, -1)
        out = np.empty((self.n, C.shape[1]))
        out[:self.h] = C[:self.h]
        hats = C[self.h:]
        out[self.h:] = self.wl[:, None] * hats[self.left] + self.wr[:, None] * hats[self.left + 1]
        return out

    def restrict(self, Y):
        """``Zᵀ Y``, shape (n, k) → (h + K, k)."""
        Y = np.asarray(Y, dtype=np.float64).reshape(self.n, -1)
        out = np.empty((self.size, Y.shape[1]))
        out[:self.h] = Y[:self.h]
        rest = Y[self.h:]
        for j in range(Y.shape[1]):
            out[self.h:, j] = np.bincount(self.left, weights=self.wl * rest[:, j], minlength=self.K) + \
                np.bincount(self.left + 1, weights=self.wr * rest[:, j], minlength=self.K)
        return out

    def gram(self):
        """``Zᵀ Z``: the identity on the hubs, tridiagonal on the hats (neighbouring hats overlap)."""
        G = np.eye(self.size)
        off = np.bincount(self.left, weights=self.wl * self.wr, minlength=self.K)[:self.K - 1]
        k = self.h + np.arange(self.K - 1)
        G[k, k + 1] = G[k + 1, k] = off
        return G

    def galerkin(self, apply_l, w):
        """``Zᵀ L Z`` from 5 + h products, for L of bandwidth w off the hubs (``w ≤`` the node spacing): the hats
        of each colour (index mod 5) summed into one vector, and one product per hub."""
        if w > self.spacing:
            raise ValueError(f"the hats are {self.spacing} tokens apart, under the bandwidth {w}")
        h, K = self.h, self.K
        E = np.zeros((self.size, _COLOURS + h))
        for c in range(_COLOURS):
            E[h + np.arange(c, K, _COLOURS), c] = 1.0
        E[np.arange(h), _COLOURS + np.arange(h)] = 1.0
        G = self.restrict(apply_l(self.lift(E)))
        Lc = np.zeros((self.size, self.size))
        r = np.arange(K)
        for c in range(_COLOURS):  # hat r meets the one hat of colour c among r − 2 … r + 2
            k = r - 2 + (c - (r - 2)) % _COLOURS
            ok = (k >= 0) & (k < K)
            Lc[h + r[ok], h + k[ok]] = G[h + r[ok], c]
        Lc[:, :h] = G[:, _COLOURS:]
        Lc[:h, :] = G[:, _COLOURS:].T
        return 0.5 * (Lc + Lc.T)


def two_grid_fiedler(apply_l, d, v1, h, w, tol, max_steps=TWO_GRID_MAX_STEPS):
    """``(vector, λ, residual, steps, description)`` for λ₂ of the normalised Laplacian L (product ``apply_l`` on
    (n, k) blocks, degrees d, unit null vector v1) of a band of width w off its first h tokens: Rayleigh–Ritz on
    the hats of :class:`HatSpace` plus the residual directions taken so far (module notes), until the residual
    of the unit Ritz vector is at most ``tol`` or ``max_steps`` directions were added (then the best vector, with
    its residual).  The λ and residual are the Rayleigh quotient and ``‖L v − λ v‖`` of the returned unit vector,
    through ``apply_l``."""
    d = np.asarray(d, dtype=np.float64)
    n = d.size
    spacing = max(int(w), -(-(n - h - 1) // (TWO_GRID_MAX_NODES - 1)))
    Z = HatSpace(d, h, spacing)
    Lc, Gm = Z.galerkin(apply_l, w), Z.gram()
    gram = linalg.cho_factor(Gm)
    m = Z.size

    def orthogonal(x, X):
        for _ in range(2):  # twice: one pass leaves rounding of the size of the removed part
            x = x - Z.lift(linalg.cho_solve(gram, Z.restrict(x)))[:, 0]
            if X.shape[1]:
                x = x - X @ (X.T @ x)
        return x

    X, LX, ZLX = np.zeros((n, 0)), np.zeros((n, 0)), np.zeros((m, 0))
    best = None
    for step in range(max_steps + 1):
        k = X.shape[1]
        A = np.zeros((m + k, m + k))
        A[:m, :m], A[:m, m:], A[m:, :m] = Lc, ZLX, ZLX.T
        A[m:, m:] = 0.5 * (X.T @ LX + LX.T @ X)
        B = np.eye(m + k)
        B[:m, :m] = Gm
        _, C = linalg.eigh(A, B, subset_by_index=[0, 1])  # the null vector first: it lies in span(Z)
        u = Z.lift(C[:m, 1])[:, 0] + X @ C[m:, 1]
        u = u - v1 * (v1 @ u)
        u /= np.linalg.norm(u)
        Lu = apply_l(u[:, None])[:, 0]
        lam = float(u @ Lu)
        r = Lu - lam * u
        res = float(np.linalg.norm(r))
        if best is None or res < best[2]:
            best = (u, lam, res, step)
        if res <= tol or step == max_steps:
            break
        x = orthogonal(r, X)
        size = np.linalg.norm(x)
        if not size > 1e-3 * res:  # the residual lies in the space already: no new direction
            break
        x /= size
        lx = apply_l(x[:, None])[:, 0]
        X, LX = np.column_stack([X, x]), np.column_stack([LX, lx])
        ZLX = np.column_stack([ZLX, Z.restrict(lx)[:, 0]])
    u, lam, res, steps = best
    what = (f"Rayleigh–Ritz on {Z.K} piecewise-linear hats {Z.spacing}+ tokens apart"
            f"{f' and {h} hub token(s)' if h else ''}, plus {steps} residual direction(s) (two grids)")
    return u, lam, res, steps, what
