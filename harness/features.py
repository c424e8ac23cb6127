"""Per-head features of attention maps: transport features and the published baselines.

Input: the attention of one teacher-forced pass, shape ``(layers, heads, n, n)``
(rows = queries), and the prompt length ``p`` (response rows are ``p..n−1``).

Transport features (THEORY.md §1; computed by :mod:`attention_transport.numerics`)
-----------------------------------------------------------------------------------
``phi``            prefix capacity ``min_t φ_A(t)``
``t_star_frac``    worst cut position ``t*/n``
``phi_boundary``   ``φ_A(p)``: the cut between prompt and response
``phi_response``   prefix capacity of the response block ``A[p:, p:]`` with rows renormalised
``phi_bip``        bipartite capacity
``G``              asymmetry coefficient ``‖K‖_F / ‖S‖_F``
``lambda2``        Fiedler value of ``L = I − S`` (optional: O(n³) per head)
``prompt_mass``    mean attention of response rows on prompt keys

Baselines (BASELINES.md)
------------------------
``lapeig``         LapEigvals: eigenvalues of ``L = D − A`` with ``d_i = Σ_{u≥i} a_ui / (n − i)``,
                   for causal A the diagonal ``d_i − a_ii``, top-k per head, descending
``attn_score``     LLM-Check: mean over response rows of ``log a_ii``
``kl_uniform``     mean over response rows of ``KL(a_i ‖ U_{i+1}) = log(i+1) − H(a_i)``
"""
from __future__ import annotations

import numpy as np

from attention_transport.numerics.landscapes import bipartite_minimum, prefix_landscape
from attention_transport.numerics.operators import asymmetry_coefficient
from attention_transport.numerics.spectral import spectral_gap

__all__ = ["TRANSPORT_FEATURES", "BASELINE_FEATURES", "head_features", "attention_features", "lapeig_values"]

TRANSPORT_FEATURES = ("phi", "t_star_frac", "phi_boundary", "phi_response", "phi_bip", "G", "lambda2", "prompt_mass")
BASELINE_FEATURES = ("lapeig", "attn_score", "kl_uniform")


def lapeig_values(A, k):
    """LapEigvals of one causal head: ``d_i − a_ii`` sorted descending, top k (zero-padded).

    ``d_i = Σ_{u ≥ i} a_ui / (n − i)``: the attention key i receives, divided by the
    number of queries that can see it (Binkowski et al. 2025).
    """
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    d = A.sum(axis=0) / (n - np.arange(n))
    lam = np.sort(d - np.diag(A))[::-1]
    out = np.zeros(k)
    out[: min(k, n)] = lam[:k]
    return out


def head_features(A, prompt_len, *, spectral=True, lapeig_k=10):
    """Features of one head ``A`` (n × n) with ``prompt_len`` prompt tokens.

    Returns
    -------
    dict
        Scalars for the transport features and ``attn_score``, ``kl_uniform``;
        ``lapeig`` is an array of length ``lapeig_k``.  Undefined values are ``nan``
        (e.g. ``phi_boundary`` when there is no response).

    Raises
    ------
    ValueError
        For an invalid attention matrix or ``prompt_len`` outside ``[1, n]``.
    """
    A = np.asarray(A)
    n = A.shape[-1]
    if not 1 <= prompt_len <= n:
        raise ValueError(f"prompt_len must be in [1, n = {n}]; got {prompt_len}.")
    land = prefix_landscape(A)
    A64 = A.astype(np.float64)
    p = prompt_len
    f = {
        "phi": land.capacity,
        "t_star_frac": land.t_star / n,
        "phi_boundary": float(land.phi[p - 1]) if p < n else float("nan"),
        "phi_bip": bipartite_minimum(A).phi,
        "G": asymmetry_coefficient(A64),
        "lambda2": spectral_gap(A64) if spectral else float("nan"),
    }
    resp = A64[p:]
    if n - p >= 2:
        block = A64[p:, p:]
        rows = block.sum(axis=1, keepdims=True)
        f["phi_response"] = prefix_landscape(block / rows).capacity if np.all(rows > 0) else float("nan")
    else:
        f["phi_response"] = float("nan")
    if n - p >= 1:
        i = np.arange(p, n)
        f["prompt_mass"] = float(resp[:, :p].sum(axis=1).mean())
        with np.errstate(divide="ignore"):
            f["attn_score"] = float(np.mean(np.log(A64[i, i])))
            plogp = np.where(resp > 0, resp * np.log(np.where(resp > 0, resp, 1.0)), 0.0)
        entropy = -plogp.sum(axis=1)
        f["kl_uniform"] = float(np.mean(np.log(i + 1.0) - entropy))
    else:
        f["prompt_mass"] = f["attn_score"] = f["kl_uniform"] = float("nan")
    f["lapeig"] = lapeig_values(A64, lapeig_k)
    return f


def attention_features(attn, prompt_len, *, spectral=True, lapeig_k=10):
    """Features of every head of one example.

    Parameters
    ----------
    attn : array_like, shape (layers, heads, n, n)
    prompt_len : int

    Returns
    -------
    dict
        name → array of shape (layers, heads), and ``lapeig`` → (layers, heads, lapeig_k).
    """
    attn = np.asarray(attn)
    if attn.ndim != 4 or attn.shape[-1] != attn.shape[-2]:
        raise ValueError(f"attention must have shape (layers, heads, n, n); got {attn.shape}.")
    L, Hh = attn.shape[:2]
    out = {name: np.empty((L, Hh)) for name in TRANSPORT_FEATURES + ("attn_score", "kl_uniform")}
    out["lapeig"] = np.empty((L, Hh, lapeig_k))
    for layer in range(L):
        for head in range(Hh):
            f = head_features(attn[layer, head], prompt_len, spectral=spectral, lapeig_k=lapeig_k)
            for name, value in f.items():
                out[name][layer, head] = value
    return out
