"""The transport report behind ``attention-transport check``.

One record per (pattern or matrix, n), with the quantities of docs/theory.md §1:
prefix capacity φ and worst cut t*, bipartite capacity φ_bip and (a*, b*),
asymmetry coefficient G, Fiedler value λ₂ and the Cheeger sandwich.

Two routes, the same keys: up to ``dense_max`` the pattern's dense matrix is
built and every quantity comes from it (dense eigensolver, exact Cheeger
enumeration for n ≤ 14); beyond, :mod:`attention_transport.numerics.structured`
computes them from what the pattern owns (structural sums, products, its sparse
matrix, row blocks) without the n×n matrix.  A quantity that is not affordable
at n is skipped, and the record says which and why.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from attention_transport.errors import AttentionTransportError
from attention_transport.memory import available_bytes, require
from attention_transport.numerics.exact import exact_prefix_capacity
from attention_transport.numerics.landscapes import (
    BIP_DIRECT_MAX_N,
    bipartite_minimum,
    prefix_landscape,
    prefix_landscape_from_sums,
)
from attention_transport.numerics.operators import asymmetry_coefficient, validate_attention
from attention_transport.numerics.patterns import parse_pattern
from attention_transport.numerics.patterns.base import SPARSE_MAX_NNZ
from attention_transport.numerics.patterns.matrix import MATERIALISE_MAX_BYTES, materialised_pattern
from attention_transport.numerics.spectral import CHEEGER_EXACT_AUTO_N, cheeger_bounds
from attention_transport.numerics.strided import strided_route_fits
from attention_transport.numerics.structured import (
    CHOLESKY_BAND_MAX_W,
    DIRECT_CUT_MAX_N,
    HUB_MAX,
    SPARSIFY_MAX_NNZ,
    SPARSIFY_PER_ROW,
    SWEEP_BAND_MAX_VALUES,
    SWEEP_BLOCKED_MAX_N,
    pattern_asymmetry,
    pattern_bipartite_minimum,
    pattern_cheeger_bounds,
    pattern_prefix_landscape,
)

__all__ = [
    "FLOOR",
    "DENSE_MAX_N",
    "SPECTRAL_MAX_N",
    "BIP_MAX_N",
    "EXACT_MAX_N",
    "check_pattern",
    "check_matrix",
    "load_matrix",
    "memory_needed",
    "scaling_summary",
    "floor_decision",
]

#: The paper's capacity floor for uniform causal attention (C4).
FLOOR = 0.2
#: Largest n for which a pattern's dense matrix is built (every quantity from it, dense eigensolver).
DENSE_MAX_N = 2048
#: Largest n for λ₂ and the Cheeger sandwich (dense eigensolver up to DENSE_MAX_N, Lanczos beyond).
SPECTRAL_MAX_N = 2_000_000
#: Largest n for the exact O(n²) bipartite scan beyond the dense route.
BIP_MAX_N = 16384
#: Largest n for the exact rational prefix capacity of mask-uniform patterns.
EXACT_MAX_N = 64
#: ``|φ − 1/5|`` below this is a tie that float64 cannot decide.
FLOOR_TIE = 1e-12
#: Ties with the floor are decided in exact arithmetic up to this n.
EXACT_DECIDE_MAX_N = 400
#: The floor-crossing scan visits every n up to this bound (random-softmax: less).
SCAN_MAX_N = 4096


#: φ and φ_bip are reported only when their rounding bound (docs/theory.md §1, accuracy) is below this
#: relative error; a dense matrix always meets it (its uncertain cuts are summed directly).
PHI_RTOL = 1e-3


def _prefix_fields(land, n, skipped):
    rel = land.capacity_rel_error
    rec = {
        "phi": land.capacity,
        "phi_rel_error": rel,
        "t_star": land.t_star,
        "t_star_over_n": land.t_star / n,
        "causal": bool(land.causal),
    }
    if not rel <= PHI_RTOL:
        skipped["phi"] = (f"φ is below what the in-degree identity resolves at n = {n} (relative error bound "
                          f"{rel:.1e} on φ = {land.capacity:.3g}); the direct sum of its cuts needs n <= "
                          f"{DIRECT_CUT_MAX_N}")
        rec.update(phi=None, t_star=None, t_star_over_n=None)
    return rec


def floor_decision(pattern, n, phi):
    """Whether ``φ < 1/5``, decided in exact arithmetic when float64 is within rounding.

    Parameters
    ----------
    pattern : Pattern or None
        Exact arithmetic needs a mask-uniform pattern (``pattern.rational``).
    n : int
    phi : float
        The float64 prefix capacity.

    Returns
    -------
    bool or None
        ``None`` when ``|φ − 1/5| ≤ FLOOR_TIE`` and no exact decision is available.

    Examples
    --------
    >>> from attention_transport.numerics.patterns import parse_pattern
    >>> floor_decision(parse_pattern("window:w=16"), 38, 0.19999999999999998)  # φ₃₈ = 1/5 exactly
    False
    """
    if abs(phi - FLOOR) > FLOOR_TIE:
        return bool(phi < FLOOR)
    if pattern is not None and pattern.rational and n <= min(EXACT_DECIDE_MAX_N, pattern.exact_max_n):
        return exact_prefix_capacity(pattern.exact_dense(n))[0] < Fraction(1, 5)
    return None


_BIP_KEYS = ("phi_bip", "a_star", "b_star", "a_star_over_n", "b_star_over_n")


def _bip_fields(bm, n, rec, skipped):
    if not bm.rel_error <= PHI_RTOL:
        skipped.update(dict.fromkeys(_BIP_KEYS, f"φ_bip is below what the scan's differences resolve at n = {n} "
                                                f"(relative error bound {bm.rel_error:.1e} on {bm.phi:.3g}); the "
                                                f"direct sums need n <= {BIP_DIRECT_MAX_N}"))
        return
    rec.update(phi_bip=bm.phi, phi_bip_rel_error=bm.rel_error, a_star=bm.a_star, b_star=bm.b_star,
               a_star_over_n=bm.a_star / n, b_star_over_n=bm.b_star / n, phi_bip_method=bm.method)


def _dense_fields(A, rec, skipped, spectral_max):
    n = A.shape[0]
    _bip_fields(bipartite_minimum(A), n, rec, skipped)
    try:
        rec["G"] = asymmetry_coefficient(A)
    except ValueError as exc:  # zero-degree vertex: N undefined
        skipped["G"] = str(exc)
    if n > spectral_max:
        reason = f"n = {n} exceeds the spectral limit {spectral_max}"
        for key in ("lambda2", "cheeger_lower", "cheeger_upper", "cheeger_exact"):
            skipped[key] = reason
        return
    try:
        cb = cheeger_bounds(A, exact_max_n=CHEEGER_EXACT_AUTO_N)
    except ValueError as exc:
        for key in ("lambda2", "cheeger_lower", "cheeger_upper", "cheeger_exact"):
            skipped[key] = str(exc)
        return
    rec.update(lambda2=cb.lambda2, cheeger_lower=cb.lower, cheeger_upper=cb.upper,
               cheeger_upper_spectral=cb.upper_spectral, cheeger_upper_sweep=cb.upper_sweep,
               cheeger_exact=cb.exact)
    if cb.exact is None:
        skipped["cheeger_exact"] = f"n = {n} exceeds the enumeration limit {CHEEGER_EXACT_AUTO_N}"


def _structured_fields(pattern, n, sums, rec, skipped, spectral_max, bip_max, landscape=None):
    """The dense route's quantities from the pattern's structure (docs in the module docstring)."""
    try:
        _bip_fields(pattern_bipartite_minimum(pattern, n, sums, landscape=landscape, scan_max=bip_max), n, rec,
                    skipped)
    except AttentionTransportError as exc:
        skipped.update(dict.fromkeys(_BIP_KEYS, str(exc)))
    try:
        rec["G"] = pattern_asymmetry(pattern, n, sums)
    except AttentionTransportError as exc:
        skipped["G"] = str(exc)
    spectral = ("lambda2", "cheeger_lower", "cheeger_upper")
    if n > spectral_max:
        skipped.update(dict.fromkeys(spectral, f"n = {n} exceeds the spectral limit {spectral_max}"))
    else:
        try:
            cb = pattern_cheeger_bounds(pattern, n, sums, landscape=landscape)
            rec.update(lambda2=cb.lambda2, cheeger_lower=cb.lower, cheeger_upper=cb.upper,
                       cheeger_upper_spectral=cb.upper_spectral, cheeger_upper_sweep=cb.upper_sweep,
                       lambda2_residual=cb.residual, lambda2_converged=cb.converged, lambda2_method=cb.method)
            if cb.lambda2_lower is not None:
                rec["lambda2_lower"] = cb.lambda2_lower
            if cb.lower is None:  # λ₂ is then an upper bound: √(2λ₂) still bounds h above, λ₂/2 no longer below
                skipped["cheeger_lower"] = (f"λ₂ did not converge (residual {cb.residual:.1e}); its value is an upper "
                                            "bound, so λ₂/2 is not a certified lower bound on h")
            if cb.upper_sweep is None:
                skipped["cheeger_upper_sweep"] = ("the sweep cut needs a sparse form of the pattern, factors, a "
                                                  "binning of its own (the Sparse Transformer presets), a band (or "
                                                  f"a band off its hubs) of at most {SWEEP_BAND_MAX_VALUES:.0e} "
                                                  f"band-row values, or n <= {SWEEP_BLOCKED_MAX_N} (an O(n²) pass)")
        except AttentionTransportError as exc:
            skipped.update(dict.fromkeys(spectral, str(exc)))
    skipped["cheeger_exact"] = f"n = {n} exceeds the enumeration limit {CHEEGER_EXACT_AUTO_N}"


_DENSE_KEYS = ("phi_bip", "a_star", "b_star", "a_star_over_n", "b_star_over_n", "G", "lambda2",
               "cheeger_lower", "cheeger_upper", "cheeger_exact")


_KEY_ORDER = ("source", "spec", "structure", "n", "dtype", "causal", "phi", "phi_rel_error", "phi_exact", "t_star",
              "t_star_exact", "t_star_over_n", "below_floor") + _DENSE_KEYS[:1] + (
              "phi_bip_rel_error", "phi_bip_method") + _DENSE_KEYS[1:] + (
              "cheeger_upper_spectral", "cheeger_upper_sweep", "lambda2_lower", "lambda2_residual", "lambda2_converged",
              "lambda2_method", "skipped")


def _empty_record(source, n):
    rec = {"source": source, "n": n}
    rec.update({k: None for k in _DENSE_KEYS})
    return rec


def _ordered(rec):
    keys = [k for k in _KEY_ORDER if k in rec] + [k for k in rec if k not in _KEY_ORDER]
    return {k: rec[k] for k in keys}


#: Bytes per matrix entry the dense route holds at its peak (the matrix, its float64 copy, W, L, the
#: eigensolver's workspace and the bipartite tables of the direct recomputation), rounded up.
DENSE_BYTES_PER_ENTRY = 112
#: Bytes per token of the structured route: sums and landscapes; with λ₂, the eigensolver's block of 8
#: vectors and its products and the sweep; per stored nonzero of a sparse form (CSR, its symmetrisation, LU).
STRUCTURED_BYTES_PER_N, SPECTRAL_BYTES_PER_N, SPARSE_BYTES_PER_NNZ = 320, 1280, 48


def memory_needed(pattern, n, *, dense_max=DENSE_MAX_N, spectral_max=SPECTRAL_MAX_N):
    """Bytes ``check`` will hold at its peak for ``pattern`` at n (an estimate on the high side).

    >>> from attention_transport.numerics.patterns import parse_pattern
    >>> memory_needed(parse_pattern("uniform-causal"), 10**10) / 2**40 > 1  # terabytes: refused up front
    True
    """
    if n <= dense_max:
        return DENSE_BYTES_PER_ENTRY * n * n
    need = STRUCTURED_BYTES_PER_N * n
    blocked = pattern.structure(n) == "blocked"
    if n <= spectral_max:
        need += SPECTRAL_BYTES_PER_N * n
        nnz = pattern.nnz(n) if not blocked else None
        if nnz is not None and nnz <= SPARSE_MAX_NNZ:  # a sparse form is built only up to this size
            need += SPARSE_BYTES_PER_NNZ * nnz
        factors = pattern.factors(n) if nnz is None and not blocked else None
        if factors is not None:  # Φ, Ψ and the 2m problem of λ₂ hold about as much again
            need += SPARSE_BYTES_PER_NNZ * sum(int(M.nnz) for M in factors)
        graph = pattern.strided_graph(n) if not blocked else None
        if graph is not None and strided_route_fits(graph, n, available_bytes()):  # else the route declines
            # λ₂'s strided route: one buffer of w + l rows for the congruent band and its factor, assembled in
            # chunks (sparse-strided:l=128 at n = 10⁶: 2.0 GB, and the whole check peaks at 2.4 GB)
            need += 8 * (graph.w + graph.l) * n
        if blocked:  # λ₂'s preconditioner: the largest entries, in sparse form
            need += SPARSE_BYTES_PER_NNZ * min(SPARSIFY_MAX_NNZ, SPARSIFY_PER_ROW * n)
        elif nnz is None and factors is None:
            hub = pattern.hub_band(n)
            if hub is not None and 0 < hub[0] <= HUB_MAX and hub[1] <= CHOLESKY_BAND_MAX_W < n:
                # λ₂'s hub-band route: the non-hub block in banded storage, its shifted copy and the factor (the
                # default longformer at n = 10⁶: 8.2 GB estimated, 6.3 GB at its peak)
                need += 4 * 8 * hub[1] * n
    return need


def _materialise(pattern, n, need, dense_max):
    """Whether ``check`` evaluates ``pattern`` once into a float64 matrix at n: a pattern without structure or a
    sparse form past the dense route, at most ``MATERIALISE_MAX_BYTES``, and only when that matrix fits in the
    memory left beside the route's own ``need`` (else its passes stream row blocks, O(n · block) memory)."""
    if n <= dense_max or 8 * n * n > MATERIALISE_MAX_BYTES or pattern.structure(n) != "blocked":
        return False
    have = available_bytes()
    return have is None or need + 8 * n * n <= have


def check_pattern(spec, n, *, dense_max=DENSE_MAX_N, spectral_max=SPECTRAL_MAX_N, bip_max=BIP_MAX_N,
                  source=None):
    """Transport report of a pattern at one n.

    Parameters
    ----------
    spec : str or Pattern
        Any pattern spec: a library family, a preset, ``file:PATH.py``, a
        composition (``"stack(repeat(window:w=16, 5), uniform-causal)"``).
    n : int
        Number of tokens, ``n ≥ 2``.
    dense_max : int
        Up to this n the dense matrix is built and every quantity comes from it.
    spectral_max, bip_max : int
        Beyond the dense route: the largest n for λ₂ (and the Cheeger sandwich)
        and for the exact O(n²) bipartite scan.
    source : str, optional
        What the record names as its source (default: the canonical spec).

    Returns
    -------
    dict
        JSON-ready record; ``spec`` is the canonical spec, ``structure`` how the
        pattern's quantities are computed at n; ``skipped`` maps each omitted
        quantity to the reason.
    """
    pattern = parse_pattern(spec)
    need = memory_needed(pattern, n, dense_max=dense_max, spectral_max=spectral_max)
    require(need, f"check {pattern.spec} at n = {n}")
    # a pattern without structure is evaluated once into memory where it fits; its passes read that matrix
    work = materialised_pattern(pattern, n) if _materialise(pattern, n, need, dense_max) else pattern
    sums = work.sums(n)
    land = pattern_prefix_landscape(work, n, sums)
    rec = _empty_record(source or pattern.spec, n)
    rec["spec"] = pattern.spec
    rec["structure"] = "dense" if n <= dense_max else "materialised" if work is not pattern else pattern.structure(n)
    skipped = {}
    rec.update(_prefix_fields(land, n, skipped))
    if pattern.rational and n <= min(EXACT_MAX_N, pattern.exact_max_n):
        phi_q, t_q = exact_prefix_capacity(pattern.exact_dense(n))
        rec["phi_exact"] = f"{phi_q.numerator}/{phi_q.denominator}"
        rec["t_star_exact"] = t_q
        rec["below_floor"] = phi_q < Fraction(1, 5)
    elif rec["phi"] is None:
        rec["below_floor"] = None
    else:
        rec["below_floor"] = floor_decision(pattern, n, land.capacity)
        if rec["below_floor"] is None:
            skipped["below_floor"] = f"φ is within {FLOOR_TIE:g} of 1/5; float64 cannot decide"
    if n <= dense_max:
        _dense_fields(pattern.dense(n), rec, skipped, spectral_max)
    else:
        _structured_fields(work, n, sums, rec, skipped, spectral_max, bip_max, land)
    if work is not pattern:  # the materialised matrix: its reach masses are read, streamed, from memory
        _certified_fields(work._A, work.causal, None, rec, skipped)
    else:
        _certified_fields(pattern.dense(n) if n <= dense_max else None, pattern.causal,
                          pattern.bandwidth(n) if pattern.causal else None, rec, skipped)
    rec["skipped"] = skipped
    return _ordered(rec)


def _certified_fields(A, causal, bandwidth, rec, skipped):
    """``certified_bounds``: what L1 (band width), L2 (reach-back masses, causal) and L6 (two-sided reach masses,
    not causal) certify for this matrix at its n."""
    from attention_transport.theory.laws import structural_bounds

    n = rec["n"]
    if not causal and A is None:
        skipped["certified_bounds"] = ("L6 reads the reach masses from a matrix in memory (n ≤ --dense-max, or a "
                                          "pattern without structure evaluated into memory)")
        return
    bounds = structural_bounds(A, bandwidth=bandwidth, n=n, causal=causal)
    if A is None:
        skipped["certified_lower_bound"] = ("L2 reads the reach-back masses from a matrix in memory (n ≤ --dense-max, "
                                            "or a pattern without structure evaluated into memory)")
    rec["certified_bounds"] = bounds


def _unreadable(path, read):
    """``read()``, with numpy's errors on a corrupt file turned into the package's one-line error."""
    import zipfile

    try:
        return read()
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
        if isinstance(exc, AttentionTransportError):
            raise
        why = " ".join(str(exc).split()) or type(exc).__name__
        if "allow_pickle" in why or "pickled" in why:
            why = "it holds pickled Python objects (an object array), which are never loaded; save a float array"
        raise AttentionTransportError(f"{path} is not a readable {path.suffix} array file: {why}.") from None


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _what_it_is(path):
    """``"npy"``, ``"npz"``, or a one-phrase description of what the file actually holds."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGIC):
        return "npz"
    if not head:
        return "an empty file"
    text = None
    for cut in range(4):  # the 64 bytes may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    if text is None or not all(ch.isprintable() or ch.isspace() for ch in text):
        return f"binary data of another format (it begins with {head[:8]!r})"
    first = text.strip().splitlines()[0][:30] if text.strip() else ""
    return f"a text file (it begins with {first!r})"


def _npy_bytes(path):
    """Bytes of the array in a ``.npy`` file, from its header (0 when the header cannot be read: the load
    then fails with its own message)."""
    try:
        with open(path, "rb") as fh:
            fmt = np.lib.format
            reader = fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = reader(fh)
        return int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    except (ValueError, OSError, EOFError):
        return 0


def load_matrix(path, key=None):
    """Read an attention matrix from ``.npy`` or ``.npz`` (float16/32/64, either byte order), or a
    scipy sparse matrix saved by ``scipy.sparse.save_npz`` (returned as a sparse matrix; validated by
    the caller).

    The file's content decides what it is, not its name: a ``.npz`` archive saved under a ``.npy``
    name, a ``.npy`` renamed ``.npz``, a text file or an empty file each get one line naming the file
    and what it actually holds.  Pickled (object) arrays are never loaded.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    AttentionTransportError
        A directory, an unknown extension, a file whose content does not match it, a corrupt
        file, a missing or ambiguous ``.npz`` key, or a dtype other than float16/32/64.
    """
    path = Path(path)
    if path.is_dir():
        raise AttentionTransportError(f"{path} is a directory, not a matrix file (.npy or .npz).")
    if not path.is_file():
        raise FileNotFoundError(f"matrix file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise AttentionTransportError(f"matrix file must be .npy or .npz; got {path.name!r}.")
    kind = _what_it_is(path)
    if kind in ("npy", "npz") and kind != suffix[1:]:
        what = {"npy": "a .npy array", "npz": "a .npz (zip) archive"}[kind]
        raise AttentionTransportError(f"{path} is named {suffix} but holds {what}; rename it to .{kind}.")
    if kind not in ("npy", "npz"):
        raise AttentionTransportError(f"{path} is not a {suffix} file: it is {kind}.")
    if suffix == ".npy":
        if key is not None:
            raise AttentionTransportError(f"--key applies to .npz archives; got --key {key!r} for {path}.")
        require(_npy_bytes(path), f"reading {path}")
        arr = _unreadable(path, lambda: np.load(path, allow_pickle=False))
    else:
        with _unreadable(path, lambda: np.load(path, allow_pickle=False)) as archive:
            names = list(archive.files)
            if "format" in names and "shape" in names and key is None:  # scipy.sparse.save_npz
                from scipy import sparse

                return _unreadable(path, lambda: sparse.load_npz(path))
            if key is None:
                if len(names) != 1:
                    raise AttentionTransportError(f"{path} holds {len(names)} arrays ({', '.join(names) or 'none'}); "
                                                  "choose one with --key.")
                key = names[0]
            if key not in names:
                raise AttentionTransportError(f"{path} has no array {key!r}; it holds: {', '.join(names)}.")
            require(archive.zip.getinfo(key + ".npy").file_size, f"reading {key!r} from {path}")
            arr = _unreadable(path, lambda: archive[key])
    if arr.dtype.kind == "f" and not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))  # the other byte order: the same numbers
    if arr.dtype not in (np.float16, np.float32, np.float64):
        raise AttentionTransportError(f"matrix dtype must be float16, float32 or float64; got {arr.dtype} in {path}.")
    return arr


def check_matrix(A, *, source="matrix", row_tol="auto", dense_max=DENSE_MAX_N, spectral_max=SPECTRAL_MAX_N,
                 bip_max=BIP_MAX_N):
    """Transport report of a given attention matrix.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Row-stochastic within ``row_tol`` (``"auto"``: by dtype, see
        :data:`~attention_transport.numerics.operators.ROW_SUM_TOLERANCE`;
        ``None``: unchecked).
    dense_max, spectral_max, bip_max : int
        As for :func:`check_pattern`: beyond ``dense_max`` λ₂ is iterative (the
        O(n³) eigensolver is never run) and the bipartite scan stops at ``bip_max``.
    """
    from attention_transport.numerics.patterns.matrix import dense_matrix_pattern

    shape = np.shape(A)
    if len(shape) == 2:
        n = shape[0]
        extra = DENSE_BYTES_PER_ENTRY * n * n if n <= dense_max else 16 * n * n + STRUCTURED_BYTES_PER_N * n
        require(extra, f"check of the {n}×{n} matrix {source}")
    A = validate_attention(A, row_tol=row_tol, dtype=None)
    n = A.shape[0]
    rec = _empty_record(source, n)
    rec["dtype"] = str(A.dtype)
    rec["structure"] = "dense" if n <= dense_max else "dense-matrix"
    skipped = {}
    rec.update(_prefix_fields(prefix_landscape(A), n, skipped))
    rec["below_floor"] = floor_decision(None, n, rec["phi"])
    if rec["below_floor"] is None:
        skipped["below_floor"] = f"φ is within {FLOOR_TIE:g} of 1/5; float64 cannot decide"
    if n <= dense_max:
        _dense_fields(A.astype(np.float64), rec, skipped, spectral_max)
    else:
        if A.dtype != np.float64 and 8 * n * n <= MATERIALISE_MAX_BYTES:
            A = A.astype(np.float64)  # exact; products are then BLAS on the matrix itself (the memory was required)
        P = dense_matrix_pattern(A, source)
        _structured_fields(P, n, P.sums(n), rec, skipped, spectral_max, bip_max)
    causal, width = _support_shape(A)
    if row_tol is None:  # the theorems need row sums of 1
        skipped["certified_bounds"] = "L1, L2 and L6 need row-stochastic rows; --row-tol none skipped that check"
    else:
        _certified_fields(A, causal, width, rec, skipped)
    rec["skipped"] = skipped
    return _ordered(rec)


def _support_shape(A, block_bytes=8 << 20):
    """``(causal, width)`` of a dense matrix's support, in row blocks (no index arrays of its nonzeros): causal when
    nothing is stored above the diagonal, width ``max(i − j) + 1`` over its nonzeros (L1's band width)."""
    n = A.shape[0]
    causal, width = True, 1
    step = max(1, block_bytes // max(1, A.itemsize * n))
    for i0 in range(0, n, step):
        R = A[i0:i0 + step] != 0
        causal = causal and not np.triu(R, 1 + i0).any()
        has = R.any(axis=1)
        reach = (np.arange(i0, i0 + R.shape[0]) - np.argmax(R, axis=1))[has]
        width = max(width, int(reach.max(initial=-1)) + 1)
    return causal, width


def scaling_summary(spec, records, *, scan_max=SCAN_MAX_N):
    """Scaling of φ(n) over several records of one pattern.

    Returns
    -------
    dict
        ``exponent``: least-squares slope of log φ against log n over the given
        n (``None`` with fewer than two distinct n or a zero φ);
        ``first_n_below_floor``: the first n with φ(n) < 1/5 in an exhaustive
        scan of ``n = 2..scanned_up_to`` (``None`` if none there), where
        ``scanned_up_to = min(max n, scan_max)``, ties with 1/5 decided by
        :func:`floor_decision` (``undecided_n`` lists those it could not);
        ``given_n_below_floor``: the given n with φ < 1/5.
    """
    pattern = parse_pattern(spec) if isinstance(spec, str) else spec
    ns = np.array([r["n"] for r in records], dtype=float)
    phis = np.array([r["phi"] for r in records], dtype=float)
    exponent = None
    if len(set(ns)) >= 2 and np.all(phis > 0):
        exponent = float(np.polyfit(np.log(ns), np.log(phis), 1)[0])
    limit = scan_max if pattern.structure(int(ns.max())) != "blocked" else min(scan_max, 256)
    top = int(min(ns.max(), limit))
    first = None
    undecided = []
    for m in range(2, top + 1):
        s = pattern.sums(m)
        below = floor_decision(pattern, m, prefix_landscape_from_sums(s.r, s.c, s.s, s.u).capacity)
        if below is None:
            undecided.append(m)
        elif below:
            first = m
            break
    return {
        "exponent": exponent,
        "first_n_below_floor": first,
        "scanned_up_to": top,
        "undecided_n": undecided,
        "given_n_below_floor": [int(r["n"]) for r in records if r["below_floor"]],
    }
