"""Streaming transport features: each head's sums accumulated from Q and K, never its n × n map.

The in-degree identity (C1) makes the prefix landscape of a causal head a function of
its row and column sums.  Those, and every other per-head statistic the harness
reports except the Fiedler value, can be accumulated over blocks of query rows:
a block of ``B`` rows of ``A = softmax(QKᵀ·scale + mask)`` is computed from the
queries and keys the model already holds (after rotary embedding, grouped-query
heads expanded), reduced, and dropped.  Memory is one block (``heads × B × n``
floats, about :data:`BLOCK_BYTES`) plus O(n) per head.

What streams and how
--------------------
=================  =====================================================================
feature            accumulated per head
=================  =====================================================================
``phi``,           row sums r, column sums c (and for a non-causal map the strictly upper
``t_star_frac``,   row and column sums s, u): the landscape is
``phi_boundary``   :func:`~attention_transport.numerics.landscapes.prefix_landscape_from_sums`
``phi_response``   ``ρ_i = Σ_{j≥p} a_ij`` is complete with its row, so the column sums of
                   the renormalised response block ``Σ_i a_ij / ρ_i`` stream too
``prompt_mass``    ``Σ_{j<p} a_ij`` per response row
``attn_score``     the diagonal ``a_ii``
``kl_uniform``     the row entropies ``−Σ_j a_ij log a_ij`` of the response rows
``lapeig``         ``c_i / (n − i) − a_ii``: column sums and diagonal
``G``              ``ΣN² = Σ a_ij² / (d_i d_j)`` needs ``d = (r + c)/2``.  Causal map: the
                   blocks run from the last rows to the first; when a block is done, every
                   column from its first row on has all its mass (only later rows attend to
                   it), so the block's own ``d_i`` are final and ``w_j = Σ_{i≠j} a_ij²/d_i``
                   accumulates in the same pass; ``ΣN²`` off the diagonal is ``Σ_j w_j/d_j``
                   at the end, the diagonal part ``Σ a_ii²/d_i²`` separately (no
                   cancellation).  One pass.  Non-causal map: every ``d_j`` is final only
                   after the last row, and ``Σ N_ij N_ji`` needs the transposed block, so a
                   second pass rebuilds each block and its transpose from Q, K and the row
                   log-sum-exps of pass 1 (no storage of A).
``phi_bip``        the 2-D prefix sums ``M_{b,a}`` at the lattice of cuts ``a, b ∈ {0, s,
                   2s, …, n}``, ``s = ⌈n / bip_grid⌉``: each block adds its column-segment
                   sums; the minimum of ``(R_b + C_a − 2M)/min(vol, volᶜ)`` is taken at the
                   end.  Exact (s = 1) while ``n ≤ bip_grid``; beyond, the minimum over the
                   lattice, an upper bound on the exact value.  Memory ``(n/s + 1)²`` per
                   head: bounded by the grid, not by n.
``lambda2``        needs an eigenvector of the full ``S``: not streamed, ``nan``
=================  =====================================================================

Pass 1 also produces the layer's output ``A V`` from the same blocks, so the
model's forward pass runs on these blocks in place of its own attention kernel;
the blocks are exactly eager attention's ``softmax(QKᵀ·scale + mask)`` in float32.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["StreamConfig", "STREAMED", "NOT_STREAMED", "layer_features", "streaming_pass", "ATTN_KEY", "BLOCK_BYTES"]

#: features the streaming path computes (``phi_bip`` exactly only up to ``bip_grid`` tokens)
STREAMED = ("phi", "t_star_frac", "phi_boundary", "phi_response", "phi_bip", "G", "prompt_mass", "lapeig",
            "attn_score", "kl_uniform")
#: features that need the full map and are ``nan`` on the streaming path
NOT_STREAMED = ("lambda2",)
#: bytes of one block of attention rows (all heads of a layer) held at a time
BLOCK_BYTES = 16 << 20
#: the name under which the streaming attention function is registered with transformers
ATTN_KEY = "attention_transport_streaming"


@dataclass
class StreamConfig:
    """Settings of one streaming pass."""

    prompt_len: int
    asymmetry: bool = True  #: G (one pass for causal maps, a second pass for non-causal ones)
    bipartite: bool = True  #: phi_bip on the lattice of cuts
    bip_grid: int = 1024  #: phi_bip is exact up to this many tokens, on a stride-⌈n/grid⌉ lattice beyond
    lapeig_k: int = 10
    block_bytes: int = BLOCK_BYTES

    def stride(self, n):
        """Lattice stride of the bipartite cuts for n tokens (1: every cut, exact)."""
        return max(1, math.ceil(n / self.bip_grid))


class _Blocks:
    """Row blocks of one head group's attention, recomputed on demand from Q and K."""

    def __init__(self, q, k, scaling, causal, mask, block_bytes):
        import torch

        self.q, self.k, self.scaling, self.causal = q, k, scaling, causal
        self.qs = q * scaling  # (q·s)kᵀ: n × d products instead of B × n per block
        self.H, self.n = q.shape[0], q.shape[1]
        self.mask = mask
        self.rows = max(16, min(self.n, block_bytes // (4 * self.H * self.n)))
        self.torch = torch

    def ranges(self):
        for a in range(0, self.n, self.rows):
            b = min(self.n, a + self.rows)
            yield a, b, (b if self.causal else self.n)

    def logits(self, a, b, cols):
        z = self.torch.matmul(self.qs[:, a:b], self.k[:, :cols].transpose(1, 2))
        self._mask(z, a, b, cols)
        return z

    def attention(self, a, b, cols):
        """``A[:, a:b, :cols]`` as eager attention computes it (float32 softmax of scaled logits), and the
        rows' log-sum-exps ``m − log max_j a_ij`` (the row maximum of A is at least 1/n: no underflow)."""
        torch = self.torch
        z = self.logits(a, b, cols)
        A = torch.softmax(z, dim=-1, dtype=torch.float32)
        return A, z.amax(-1) - torch.log(A.amax(-1))

    def rebuilt(self, a, b, cols, lse):
        """``A[:, a:b, :cols]`` as ``exp(z − lse)`` from the row log-sum-exps of pass 1: one exp."""
        return self.logits(a, b, cols).sub_(lse[:, a:b, None]).exp_()

    def _mask(self, z, a, b, cols):
        torch = self.torch
        if self.mask is not None:
            m = self.mask[a:b, :cols]
            if m.dtype == torch.bool:
                z.masked_fill_(~m, float("-inf"))
            else:
                z.add_(m)
        elif self.causal:
            above = torch.ones(b - a, b - a, dtype=torch.bool).triu_(1)
            z[:, :, a:b].masked_fill_(above, float("-inf"))

    def transposed(self, a, b, lse):
        """``A[:, :, a:b]ᵀ``: entry ``[h, i − a, j] = a_ji`` from the row log-sum-exps of pass 1."""
        torch = self.torch
        zt = torch.matmul(self.k[:, a:b], self.qs.transpose(1, 2))
        if self.mask is not None:
            m = self.mask[:, a:b].T
            if m.dtype == torch.bool:
                zt.masked_fill_(~m, float("-inf"))
            else:
                zt.add_(m)
        return torch.exp(zt - lse[:, None, :])

    def upper(self, a, b, cols):
        """Boolean ``j > i`` over the block's rows a..b−1 and columns 0..cols−1."""
        torch = self.torch
        return torch.arange(cols)[None, :] > torch.arange(a, b)[:, None]


def layer_features(q, k, v, *, scaling, causal, mask, config):
    """Attention output and per-head features of one layer, streamed over row blocks.

    Parameters
    ----------
    q : torch.Tensor, shape (heads, n, d)
        Queries after rotary embedding.
    k, v : torch.Tensor, shape (heads, n, d)
        Keys (after rotary embedding) and values, grouped-query heads already expanded.
    scaling : float
    causal : bool
        Keys ``j > i`` masked; ignored when ``mask`` is given.
    mask : torch.Tensor or None, shape (n, n)
        Boolean (True = attend) or additive float mask shared by the heads.
    config : StreamConfig

    Returns
    -------
    (torch.Tensor, dict)
        The output ``A V`` of shape (heads, n, d), and name → array (heads,)
        (``lapeig`` → (heads, lapeig_k)).
    """
    import torch

    H, n, _ = q.shape
    p = config.prompt_len
    if not 1 <= p <= n:
        raise ValueError(f"prompt_len must be in [1, n = {n}]; got {p}.")
    if mask is not None:
        above = torch.ones(n, n, dtype=torch.bool).triu_(1)
        allowed = mask[above] if mask.dtype == torch.bool else mask[above] > torch.finfo(mask.dtype).min / 2
        causal = not bool(allowed.any())
    blocks = _Blocks(q, k, scaling, causal, mask, config.block_bytes)
    f64 = dict(dtype=torch.float64)
    r, c, diag = torch.empty(H, n, **f64), torch.zeros(H, n, **f64), torch.empty(H, n, **f64)
    s, u = torch.zeros(H, n, **f64), torch.zeros(H, n, **f64)
    pm, ent, rho = torch.zeros(H, n, **f64), torch.zeros(H, n, **f64), torch.ones(H, n, **f64)
    cb, sb, ub = torch.zeros(H, n, **f64), torch.zeros(H, n, **f64), torch.zeros(H, n, **f64)
    lse = torch.empty(H, n, dtype=torch.float32)
    w_off, dg = torch.zeros(H, n, **f64), torch.zeros(H, **f64)  # causal G, see below
    lattice = _Lattice(H, n, config) if config.bipartite else None
    out = torch.empty_like(q)
    # Causal maps run from the last block of rows to the first: once a block is done, every column
    # j ≥ its first row has all its mass (only rows i ≥ j attend to j), so the block's own degrees
    # d_i = (r_i + c_i)/2 are final and w_j = Σ_{i≠j} a_ij² / d_i accumulates in this one pass;
    # ΣN² off the diagonal is then Σ_j w_j / d_j.
    for a, b, cols in (reversed(list(blocks.ranges())) if causal else blocks.ranges()):
        A, lse[:, a:b] = blocks.attention(a, b, cols)
        out[:, a:b] = torch.matmul(A, v[:, :cols])
        r[:, a:b] = A.sum(-1)
        c[:, :cols] += A.sum(-2)
        diag[:, a:b] = torch.diagonal(A, offset=a, dim1=1, dim2=2)
        if causal and config.asymmetry:
            inv = 1.0 / (0.5 * (r[:, a:b] + c[:, a:b]))
            dg += (diag[:, a:b] * inv).square().sum(-1)
            A2 = A * A
            torch.diagonal(A2, offset=a, dim1=1, dim2=2).zero_()
            w_off[:, :cols] += torch.matmul(inv.to(torch.float32)[:, None, :], A2)[:, 0]
            del A2
        if lattice is not None:
            lattice.add(A, a, b, cols)
        if not causal:
            up = A * blocks.upper(a, b, cols)
            s[:, a:b] = up.sum(-1)
            u[:, :cols] += up.sum(-2)
        lo = max(a, p)
        if lo < b:
            Ar = A[:, lo - a:]
            pm[:, lo:b] = Ar[..., :p].sum(-1)
            ent[:, lo:b] = -torch.special.xlogy(Ar, Ar).sum(-1)
            rho_blk = Ar[..., p:].sum(-1)
            rho[:, lo:b] = rho_blk
            Bn = Ar[..., p:] / torch.where(rho_blk > 0, rho_blk, 1.0)[..., None]
            cb[:, p:cols] += Bn.sum(-2)
            if not causal:
                upb = Bn * blocks.upper(lo, b, cols)[:, p:]
                sb[:, lo:b] = upb.sum(-1)
                ub[:, p:cols] += upb.sum(-2)
    feats = _pass1_features(r, c, s, u, diag, pm, ent, rho, cb, sb, ub, causal, p, config.lapeig_k)
    feats["G"] = feats["phi_bip"] = np.full(H, np.nan)
    if config.asymmetry:
        if causal:
            off = (w_off / (0.5 * (r + c))).sum(-1)
            feats["G"] = torch.sqrt(off / (off + 2.0 * dg)).numpy()
        else:
            feats["G"] = _bidirectional_G(blocks, r, c, lse)
    if lattice is not None:
        feats["phi_bip"] = lattice.minimum()
    feats["lambda2"] = np.full(H, np.nan)
    return out, feats


class _Lattice:
    """2-D prefix sums ``M_{b,a} = Σ_{i<b, j<a} a_ij`` on the lattice ``a, b ∈ {0, s, 2s, …} ∪ {n}``.

    Each block of rows (in any order) contributes its column-segment sums: its
    total over the rows, and its running sums at the lattice rows b inside it.
    At the end ``M_b`` = (totals of the blocks above b) + (running sum within
    b's block).  Memory ``heads × (n/s + 1)²`` float64 plus one total per block:
    bounded by the grid, not by n.
    """

    def __init__(self, H, n, config):
        import torch

        self.n, self.s = n, config.stride(n)
        self.g = math.ceil(n / self.s)
        self.b_grid = [min(k * self.s, n) for k in range(self.g + 1)]
        self.within = torch.zeros(H, self.g + 1, self.g + 1, dtype=torch.float64)  # [h, k_b, k_a]
        self.owner = [0] * (self.g + 1)  # first row of the block holding lattice row k (row b_k − 1)
        self.totals = {}
        self.torch = torch

    def add(self, A, a, b, cols):
        torch = self.torch
        H, g, st = A.shape[0], self.g, self.s
        full = cols // st
        segs = torch.zeros(H, b - a, g, dtype=torch.float64)
        segs[..., :full] = A[..., : full * st].unflatten(-1, (full, st)).sum(-1)
        if full * st < cols:
            segs[..., full] = A[..., full * st: cols].sum(-1)
        P = torch.zeros(H, b - a, g + 1, dtype=torch.float64)
        torch.cumsum(segs, -1, out=P[..., 1:])  # P_i(a_k) = Σ_{j<a_k} a_ij
        run = torch.cumsum(P, 1)  # run[i − a] = Σ_{a ≤ i' ≤ i} P_i'
        self.totals[a] = run[:, -1].clone()
        ks = [k for k, bk in enumerate(self.b_grid) if a < bk <= b]
        if ks:
            self.within[:, ks] = run[:, [self.b_grid[k] - a - 1 for k in ks]]
            for k in ks:
                self.owner[k] = a

    def minimum(self):
        """``φ_bip`` per head, the minimum over the lattice; R and C are read off the lattice itself
        (``R_b = M_{b,n}``, ``C_a = M_{n,a}``), so cut and volumes come from the same sums and a
        near-empty side (a sink head's cut of size 1e-6) is not drowned by rounding."""
        torch = self.torch
        starts = sorted(self.totals)
        above, acc = {}, torch.zeros_like(self.totals[starts[0]])
        for a in starts:  # totals of the blocks before each block
            above[a] = acc
            acc = acc + self.totals[a]
        M = self.within.clone()
        for k in range(1, self.g + 1):
            M[:, k] += above[self.owner[k]]
        Rb, Ca = M[:, :, -1:], M[:, -1:, :]
        Rc, Cc = M[:, -1:, -1:] - Rb, M[:, -1:, -1:] - Ca
        best = torch.full((M.shape[0],), float("inf"), dtype=torch.float64)
        for k0 in range(0, M.shape[1], 64):  # rows of the lattice in chunks: temporaries stay in cache
            vol = Rb[:, k0: k0 + 64] + Ca
            cut = vol - 2.0 * M[:, k0: k0 + 64]
            denom = torch.minimum(vol, Rc[:, k0: k0 + 64] + Cc)
            phi = cut.div_(denom).masked_fill_(denom <= 0, float("inf"))
            best = torch.minimum(best, phi.flatten(1).amin(-1))
        return torch.where(torch.isfinite(best), best.clamp(min=0.0), torch.full_like(best, float("nan"))).numpy()


def _pass1_features(r, c, s, u, diag, pm, ent, rho, cb, sb, ub, causal, p, lapeig_k):
    from attention_transport.numerics.landscapes import prefix_landscape_from_sums

    r, c, s, u, diag, pm, ent, rho, cb, sb, ub = (x.numpy() for x in (r, c, s, u, diag, pm, ent, rho, cb, sb, ub))
    H, n = r.shape
    names = ("phi", "t_star_frac", "phi_boundary", "phi_response", "prompt_mass", "attn_score", "kl_uniform")
    f = {name: np.full(H, np.nan) for name in names}
    f["lapeig"] = np.zeros((H, lapeig_k))
    i = np.arange(p, n)
    for h in range(H):
        extra = {} if causal else {"upper": s[h], "lower": u[h]}
        land = prefix_landscape_from_sums(r[h], c[h], **extra)
        f["phi"][h], f["t_star_frac"][h] = land.capacity, land.t_star / n
        if p < n:
            f["phi_boundary"][h] = land.phi[p - 1]
            f["prompt_mass"][h] = pm[h, p:].mean()
            with np.errstate(divide="ignore"):
                f["attn_score"][h] = np.mean(np.log(diag[h, p:]))
            f["kl_uniform"][h] = np.mean(np.log(i + 1.0) - ent[h, p:])
        if n - p >= 2 and np.all(rho[h, p:] > 0):
            extra = {} if causal else {"upper": sb[h, p:], "lower": ub[h, p:]}
            f["phi_response"][h] = prefix_landscape_from_sums(np.ones(n - p), cb[h, p:], **extra).capacity
        lam = np.sort(c[h] / (n - np.arange(n)) - diag[h])[::-1]
        f["lapeig"][h, : min(lapeig_k, n)] = lam[:lapeig_k]
    return f


def _bidirectional_G(blocks, r, c, lse):
    """G of a non-causal map: a second pass, since every degree is final only after the last row.

    ``‖N − Nᵀ‖²/2 = Σ a_ij (a_ij − a_ji)/(d_i d_j)`` and ``‖N + Nᵀ‖²/2 = Σ a_ij (a_ij + a_ji)/(d_i d_j)``,
    entrywise (no cancellation between two large sums); ``a_ji`` comes from the
    transposed block, rebuilt from the row log-sum-exps of pass 1.
    """
    import torch

    inv_d = 1.0 / (0.5 * (r + c))
    inv32 = inv_d.to(torch.float32)[:, :, None]
    num = torch.zeros(r.shape[0], dtype=torch.float64)
    den = torch.zeros(r.shape[0], dtype=torch.float64)
    for a, b, cols in blocks.ranges():
        A = blocks.rebuilt(a, b, cols, lse)
        At = blocks.transposed(a, b, lse)
        num += (torch.matmul(A * (A - At), inv32)[..., 0].double() * inv_d[:, a:b]).sum(-1)
        den += (torch.matmul(A * (A + At), inv32)[..., 0].double() * inv_d[:, a:b]).sum(-1)
    return torch.sqrt(num / den).numpy()


class _Collector:
    """Per-layer features of one streaming forward pass, in layer order."""

    def __init__(self, config):
        self.config = config
        self.layers = []


_ACTIVE = []  # the collector of the streaming pass in progress (a stack: one at a time in practice)


def _streaming_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    """transformers attention function: eager attention computed in row blocks, features on the side."""
    import torch

    if query.shape[0] != 1:
        raise ValueError(f"the streaming path scores one sequence at a time; got batch {query.shape[0]}.")
    if kwargs.get("softcap") is not None or kwargs.get("sliding_window") is not None:
        raise ValueError("the streaming path supports plain softmax attention only (no softcap or sliding window); "
                         "use --attention per-layer.")
    n_rep = query.shape[1] // key.shape[1]
    q = query[0].to(torch.float32)
    k = key[0].to(torch.float32).repeat_interleave(n_rep, dim=0)
    v = value[0].to(torch.float32).repeat_interleave(n_rep, dim=0)
    scaling = scaling if scaling is not None else q.shape[-1] ** -0.5
    mask = None
    if attention_mask is not None:
        mask = attention_mask[0]
        if mask.shape[0] != 1:
            raise ValueError(f"the streaming path needs one mask shared by the heads; got shape "
                             f"{tuple(attention_mask.shape)}.")
        mask = mask[0]
    causal = bool(getattr(module, "is_causal", True)) and query.shape[2] > 1
    config = _ACTIVE[-1].config if _ACTIVE else StreamConfig(prompt_len=1, asymmetry=False, bipartite=False)
    out, feats = layer_features(q, k, v, scaling=scaling, causal=causal, mask=mask, config=config)
    if _ACTIVE:
        _ACTIVE[-1].layers.append(feats)
    return out.to(query.dtype).transpose(0, 1)[None].contiguous(), None


def _register():
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTN_KEY, _streaming_attention)
    AttentionMaskInterface.register(ATTN_KEY, sdpa_mask)


def streaming_pass(model, inputs, config):
    """Run ``model(**inputs)`` with streaming attention; the per-head features of every layer.

    Returns
    -------
    dict
        name → array (layers, heads) (``lapeig`` → (layers, heads, k)).
    """
    import torch

    _register()
    previous = model.config._attn_implementation
    collector = _Collector(config)
    model.set_attn_implementation(ATTN_KEY)
    _ACTIVE.append(collector)
    try:
        with torch.no_grad():
            model(**inputs)
    finally:
        _ACTIVE.pop()
        model.set_attn_implementation(previous)
    if not collector.layers:
        raise ValueError(f"{type(model).__name__} never called the streaming attention function; use the eager path.")
    return {name: np.stack([f[name] for f in collector.layers]) for name in collector.layers[0]}
