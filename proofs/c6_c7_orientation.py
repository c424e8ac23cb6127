"""C6 — symmetric diagnostics are orientation-blind; C7 — G controls the direction margin.

Both are proven for every n with sympy matrix expressions of symbolic size (``MatrixSymbol``): ``D`` stands for
the positive diagonal ``D^{-1/2}`` (symmetric and invertible), ``1`` for the all-ones vector.  The identities on
generic 3×3 matrices with symbolic entries stay as cross-checks.
"""
from __future__ import annotations

import random
from fractions import Fraction

import sympy as sp

from attention_transport.numerics.exact import exact_block_sums
from attention_transport.proofs.core import Checked, Claim, Step, require, symbolic_zero
from attention_transport.proofs.scope import Region, Scope
from attention_transport.theory import orientation as ot

N_SYM = 3  #: size of the generic symbolic matrices
INSTANCE = Scope(Region.box(n=N_SYM), "instances")
EVERY_N = Scope(Region.box(n=(1, None)), "symbolic")

size = sp.Symbol("n", integer=True, positive=True)
A = sp.MatrixSymbol("A", size, size)
Dh = sp.MatrixSymbol("D", size, size)  #: D^{-1/2}: positive diagonal
ONES = sp.MatrixSymbol("1", size, 1)
I_n, Z_n = sp.Identity(size), sp.ZeroMatrix(size, size)
gamma = sp.Symbol("gamma", real=True)


def _diag(expr):
    """Use that D^{-1/2} is diagonal, hence symmetric."""
    return sp.refine(expr, sp.Q.symmetric(Dh))


def _N(M):
    return Dh * M * Dh


def _same(lhs, rhs, what):
    diff = sp.simplify(sp.expand(_diag(lhs - rhs)))
    require(diff == sp.ZeroMatrix(*diff.shape) or diff == 0, f"{what}: the difference is {diff}")
    return f"{what} (matrix expressions, n symbolic)"


def _bipartite(M):
    return sp.BlockMatrix([[Z_n, M], [M.T, Z_n]])


def _graph(ctx):
    swap = sp.BlockMatrix([[Z_n, I_n], [I_n, Z_n]])
    moved = sp.block_collapse(swap * _bipartite(A) * swap.T)
    target = _bipartite(A.T)
    require(hasattr(moved, "blocks") and moved.blocks == target.blocks, f"P B(A) Pᵀ = {moved}, not B(Aᵀ)")
    return ("P B(A) Pᵀ = B(Aᵀ) for the query–key swap P (block matrices of symbolic size): the bipartite graph of "
            "Aᵀ is that of A with q_i and k_i exchanged, so every quantity of the graph up to relabelling is equal; "
            "the prefix sets {q_1..q_t, k_1..k_t} are fixed by the swap, a set of a keys and b queries becomes one of "
            "b keys and a queries")


def _degrees(ctx):
    d = lambda M: (M * ONES + M.T * ONES) / 2  # noqa: E731 - the merged degrees
    e = [_same(d(A.T), d(A), "d(Aᵀ) = d(A)"), _same(_N(A.T), _N(A).T, "N(Aᵀ) = D^{-1/2}AᵀD^{-1/2} = N(A)ᵀ")]
    return "; ".join(e)


def _symmetric_part(ctx):
    N, NT = _N(A), _diag(_N(A).T)
    e = [_same((NT + NT.T) / 2, (N + N.T) / 2, "S(Aᵀ) = S(A)"), _same((NT - NT.T) / 2, -(N - N.T) / 2, "K(Aᵀ) = −K(A)")]
    return "; ".join(e) + "; L = I − S and W = (A + Aᵀ)/2 are therefore the same for A and Aᵀ"


def _spectra(ctx):
    U, S, V = (sp.MatrixSymbol(name, size, size) for name in "USV")
    swapped = sp.refine((U * S * V.T).T, sp.Q.diagonal(S))
    require(swapped == V * S * U.T, f"(UΣVᵀ)ᵀ = {swapped}")
    return ("det(λI − Nᵀ) = det((λI − N)ᵀ) = det(λI − N) (the determinant is transpose-invariant: Leibniz formula), "
            "so N and Nᵀ have one characteristic polynomial; an SVD N = UΣVᵀ gives Nᵀ = VΣUᵀ (sympy, Σ diagonal), "
            "an SVD of Nᵀ with the same Σ")


def _flows(ctx):
    i, j, t = sp.symbols("i j t", integer=True)
    back = sp.Sum(A[i, j], (j, 0, t - 1), (i, t, size - 1))  # queries right of the cut → keys left of it, in A
    forward = sp.Sum(A.T[j, i], (j, 0, t - 1), (i, t, size - 1))  # query j (left) → key i (right), in Aᵀ
    require(back == forward, f"{back} ≠ {forward}")
    return "Σ_{i ≥ t, j < t} A_ij = Σ_{j < t, i ≥ t} (Aᵀ)_ji entry by entry, for symbolic n and t"


def _gamma(ctx):
    Ag = ((1 + gamma) * A + (1 - gamma) * A.T) / 2
    d = lambda M: (M * ONES + M.T * ONES) / 2  # noqa: E731
    N, Ng = _N(A), _N(Ag)
    e = [_same(d(Ag), d(A), "d(A_γ) = d(A)"),
         _same((Ng + Ng.T) / 2, (N + N.T) / 2, "S(A_γ) = S(A)"),
         _same((Ng - Ng.T) / 2, gamma * (N - N.T) / 2, "K(A_γ) = γK(A)")]
    return "; ".join(e) + "; hence G(A_γ) = ‖γK‖/‖S‖ = |γ| G(A)"


def _exact_phi_table(M):
    """``φ(a, b)`` for every a keys and b queries on the left, exact (a, b) ≠ (0, 0), (n, n)."""
    n = len(M)
    P = exact_block_sums(M)
    total = 2 * P[n][n]
    out = {}
    for a in range(n + 1):
        for b in range(n + 1):
            if (a, b) in ((0, 0), (n, n)):
                continue
            vol = P[b][n] + P[n][a]
            cut = vol - 2 * P[b][a]
            denom = min(vol, total - vol)
            out[a, b] = cut / denom if denom else None
    return out


def _landscapes(ctx):
    rng = random.Random(20261206)
    visited, differs = [], False
    for n in range(2, 8):
        M = [[Fraction(rng.randint(0, 5), 5) for _ in range(n)] for _ in range(n)]
        M[0][0] += 1  # a nonzero entry, so every volume is positive somewhere
        T = [list(r) for r in zip(*M)]
        phi, phiT = _exact_phi_table(M), _exact_phi_table(T)
        require(all(phiT[a, b] == phi[b, a] for a, b in phi), f"n = {n}: φ_Aᵀ(a, b) ≠ φ_A(b, a)")
        values = [v for v in phi.values() if v is not None]
        require(min(values) == min(v for v in phiT.values() if v is not None), f"n = {n}: the minima differ")
        differs = differs or any(phiT[key] != phi[key] for key in phi)
        visited.append(n)
    require(differs, "the landscapes of A and Aᵀ never differed: the check would not see a missing transpose")
    return Checked("random exact 2 ≤ n ≤ 7: φ_Aᵀ(a, b) = φ_A(b, a) at every (a, b), the minima agree, and the "
                   "landscapes themselves differ", Region.points("n", visited))


def _zero_matrix(M, what):
    for entry in M:
        require(sp.simplify(entry) == 0, f"{what}: entry {entry} ≠ 0")
    return f"{what}: every entry simplifies to 0"


def _degrees_3(ctx):
    A = ot.generic_matrix(N_SYM)
    dA, dT = ot.degrees(A), ot.degrees(A.T)
    require(all(sp.expand(p - q) == 0 for p, q in zip(dA, dT)), "d(Aᵀ) ≠ d(A)")
    e = _zero_matrix(ot.normalised(A.T) - ot.normalised(A).T, "N(Aᵀ) − N(A)ᵀ")
    return f"d(Aᵀ) = d(A); {e}"


def _symmetric_part_3(ctx):
    A = ot.generic_matrix(N_SYM)
    N, NT = ot.normalised(A), ot.normalised(A.T)
    e1 = _zero_matrix(ot.symmetric(NT) - ot.symmetric(N), "S(Aᵀ) − S(A)")
    e2 = _zero_matrix(ot.antisymmetric(NT) + ot.antisymmetric(N), "K(Aᵀ) + K(A)")
    return f"{e1}; {e2}; L = I − S and W = (A + Aᵀ)/2 are therefore the same for A and Aᵀ"


def _spectra_3(ctx):
    M = ot.generic_matrix(N_SYM, "m")
    lam = sp.Symbol("lambda")
    e1 = symbolic_zero(M.charpoly(lam).as_expr() - M.T.charpoly(lam).as_expr(), "charpoly(M) = charpoly(Mᵀ)")
    e2 = symbolic_zero((M.T * M).charpoly(lam).as_expr() - (M * M.T).charpoly(lam).as_expr(),
                       "charpoly(MᵀM) = charpoly(MMᵀ)")
    return f"{e1}; {e2}: eigenvalues and singular values of N and Nᵀ = N(Aᵀ) coincide"


def _flows_4(ctx):
    A = ot.generic_matrix(4)
    for t in range(1, 4):
        back = sum(A[i, j] for i in range(t, 4) for j in range(t))  # right queries → left keys
        fwd_T = sum(A.T[i, j] for i in range(t) for j in range(t, 4))  # left queries → right keys, in Aᵀ
        require(sp.expand(back - fwd_T) == 0, f"flow at t = {t}")
    return "for n = 4 and every t, the right-to-left flow of A is the left-to-right flow of Aᵀ"


def _gamma_3(ctx):
    A = ot.generic_matrix(N_SYM)
    g = sp.Symbol("gamma", real=True)
    Ag = ot.gamma_family(A, g)
    dA, dG = ot.degrees(A), ot.degrees(Ag)
    require(all(sp.expand(p - q) == 0 for p, q in zip(dA, dG)), "d(A_γ) ≠ d(A)")
    N, Ng = ot.normalised(A), ot.normalised(Ag, d=dA)
    e1 = _zero_matrix(ot.symmetric(Ng) - ot.symmetric(N), "S(A_γ) − S(A)")
    e2 = _zero_matrix(ot.antisymmetric(Ng) - g * ot.antisymmetric(N), "K(A_γ) − γK(A)")
    return f"d(A_γ) = d(A); {e1}; {e2}; hence G(A_γ) = ‖γK‖/‖S‖ = |γ| G(A)"


def _instances(ctx):
    e = [_degrees_3(ctx), _symmetric_part_3(ctx), _spectra_3(ctx), _flows_4(ctx), _gamma_3(ctx)]
    return Checked("; ".join(e), Region.points("n", [N_SYM]))


CLAIM_C6 = Claim(
    id="C6",
    title="Orientation blindness",
    statement=("For every $n$: the bipartite graph of $A^\\top$ is that of $A$ with queries and keys exchanged. Hence "
               "every function of $S$ — Laplacian spectrum, Fiedler value, heat traces, top-$k$ features — and the "
               "prefix landscape take the same value on $A$ and $A^\\top$, although every cut flow reverses; the "
               "bipartite landscape transposes pointwise, $\\varphi_{A^\\top}(a, b) = \\varphi_A(b, a)$ ($a$ keys and "
               "$b$ queries on the left), so only its minimum — like every minimum over vertex sets — is invariant; "
               "and the eigenvalues and singular values of $N$ and $N^\\top = N(A^\\top)$ coincide. The family "
               "$A_\\gamma = ((1+\\gamma)A + (1-\\gamma)A^\\top)/2$ shares one $S$ while $G(A_\\gamma) = "
               "|\\gamma| G(A)$."),
    steps=(
        Step("With $B(A) = \\begin{pmatrix} 0 & A \\\\ A^\\top & 0 \\end{pmatrix}$ and the swap "
             "$P = \\begin{pmatrix} 0 & I \\\\ I & 0 \\end{pmatrix}$: $P B(A) P^\\top = B(A^\\top)$.", "symbolic",
             "sympy `block_collapse` on block matrices of symbolic size", _graph, scope=EVERY_N, key="graph"),
        Step("$d(A^\\top) = d(A)$, hence $N(A^\\top) = N(A)^\\top$.", "symbolic",
             "sympy matrix expressions, $D^{-1/2}$ symmetric", _degrees, scope=EVERY_N, key="degrees"),
        Step("$S(A^\\top) = S(A)$ and $K(A^\\top) = -K(A)$; so $W$, $L = I - S$ and every function of them are "
             "unchanged.",
             "symbolic", "sympy matrix expressions", _symmetric_part, scope=EVERY_N, key="symmetric"),
        Step("$N$ and $N^\\top$ have the same characteristic polynomial ($\\det M^\\top = \\det M$) and, through an "
             "SVD, the same singular values.", "symbolic",
             "the transpose-invariance of the determinant (cited: Leibniz formula); sympy for the SVD", _spectra,
             scope=Scope(Region.box(n=(1, None)), "cited"), key="spectra"),
        Step("The flow from queries right of a cut to keys left of it in $A$ is the opposite flow in $A^\\top$.",
             "symbolic", "sympy `Sum` over symbolic index ranges", _flows, scope=EVERY_N, key="flows"),
        Step("$d(A_\\gamma) = d(A)$, $S(A_\\gamma) = S(A)$ and $K(A_\\gamma) = \\gamma K(A)$, so "
             "$G(A_\\gamma) = |\\gamma| G(A)$ sweeps $[0, G(A)]$ with every symmetric diagnostic fixed.",
             "symbolic", "sympy matrix expressions with symbolic $\\gamma$", _gamma, scope=EVERY_N, key="gamma"),
        Step("The bipartite landscapes of $A$ and $A^\\top$ on random matrices: transposed pointwise, equal minima.",
             "exact", "exact rationals, every $(a, b)$", _landscapes, scope=Scope(Region.box(n=(2, 7)), "each"),
             key="landscapes", role="check"),
        Step(f"The identities of the previous steps on generic ${N_SYM} \\times {N_SYM}$ matrices with symbolic "
             "entries (and $4 \\times 4$ for the flows).", "symbolic", "sympy `simplify` entry by entry, `charpoly`",
             _instances, scope=INSTANCE, key="instances", role="check"),
    ),
    domain=Region.box(n=(1, None)),
)


def _g_zero(ctx):
    N = _N(A)
    K = (N - _diag(N.T)) / 2
    e = [_same(K, Dh * (A - A.T) * Dh / 2, "K = D^{-1/2}(A − Aᵀ)D^{-1/2}/2")]
    back = sp.simplify(sp.Inverse(Dh) * (Dh * (A - A.T) * Dh) * sp.Inverse(Dh))
    require(sp.expand(back - (A - A.T)) == sp.ZeroMatrix(size, size), f"D⁻¹(D X D)D⁻¹ = {back}")
    return e[0] + "; D invertible: D⁻¹(DXD)D⁻¹ = X, so K = 0 ⇔ A − Aᵀ = 0"


def _lipschitz(ctx):
    N = _N(A)
    K = (N - _diag(N.T)) / 2
    e = _same(N - _diag(N.T), 2 * K, "N − Nᵀ = 2K")
    return e + "; so ‖N − Nᵀ‖_F = 2‖K‖_F and an L-Lipschitz F gives |F(N) − F(Nᵀ)| ≤ 2L‖K‖ = 2L G ‖S‖"


def _attained(ctx):
    p, q, r, lam = sp.symbols("p q r lambda", real=True)
    u, v = sp.MatrixSymbol("u", size, 1), sp.MatrixSymbol("v", size, 1)
    square = sp.expand((u - lam * v).T * (u - lam * v))  # ‖u − λv‖² ≥ 0, by bilinearity
    scalars = {u.T * u: p, v.T * v: r, u.T * v: q, v.T * u: q}  # vᵀu = (uᵀv)ᵀ = uᵀv: a 1×1 product
    total = 0
    for term in (square.args if isinstance(square, sp.MatAdd) else (square,)):
        coeff, product = term.as_coeff_mmul()
        require(product in scalars, f"unexpected term {term} in ‖u − λv‖²")
        total += coeff * scalars[product]
    e = [symbolic_zero(total - (p - 2 * lam * q + lam ** 2 * r), "‖u − λv‖² = ‖u‖² − 2λ⟨u, v⟩ + λ²‖v‖²"),
         symbolic_zero((p - 2 * lam * q + lam ** 2 * r).subs(lam, q / r) - (p * r - q ** 2) / r,
                       "at λ = ⟨u, v⟩/‖v‖² it is (‖u‖²‖v‖² − ⟨u, v⟩²)/‖v‖²")]
    N = _N(A)
    K = (N - _diag(N.T)) / 2
    e.append(_same(N - _diag(N.T), 2 * K, "⟨K, N − Nᵀ⟩ = ⟨K, 2K⟩ = 2‖K‖²"))
    return ("; ".join(e) + ": Cauchy–Schwarz in every dimension (n × n matrices are vectors of n² entries), so "
            "F(N) = ⟨K/‖K‖, N⟩ is 1-Lipschitz and F(N) − F(Nᵀ) = 2‖K‖ attains the bound")


def _g_zero_3(ctx):
    A = ot.generic_matrix(N_SYM)
    d = ot.degrees(A)
    K = ot.antisymmetric(ot.normalised(A))
    expected = sp.Matrix(N_SYM, N_SYM, lambda i, j: (A[i, j] - A[j, i]) / (2 * sp.sqrt(d[i] * d[j])))
    return _zero_matrix(K - expected, "K − D^{-1/2}(A − Aᵀ)D^{-1/2}/2") + "; D invertible, so K = 0 ⇔ A = Aᵀ"


def _lipschitz_3(ctx):
    M = ot.generic_matrix(N_SYM, "m")
    K = ot.antisymmetric(M)
    e1 = symbolic_zero(ot.frobenius_sq(M - M.T) - 4 * ot.frobenius_sq(K), "‖N − Nᵀ‖² = 4‖K‖²")
    return e1 + "; an L-Lipschitz F gives |F(N) − F(Nᵀ)| ≤ L‖N − Nᵀ‖ = 2L‖K‖ = 2L G ‖S‖"


def _attained_3(ctx):
    M = ot.generic_matrix(N_SYM, "m")
    K = ot.antisymmetric(M)
    e1 = symbolic_zero(ot.frobenius_inner(K, M - M.T) - 2 * ot.frobenius_sq(K), "⟨K, N − Nᵀ⟩ = 2‖K‖²")
    u = sp.symbols("u1:10", real=True)
    v = sp.symbols("v1:10", real=True)
    lagrange = (sum(x * x for x in u) * sum(y * y for y in v) - sum(x * y for x, y in zip(u, v)) ** 2
                - sum((u[i] * v[j] - u[j] * v[i]) ** 2 for i in range(9) for j in range(i + 1, 9)))
    e2 = symbolic_zero(sp.expand(lagrange), "Lagrange identity (Cauchy–Schwarz) in 9 = 3×3 coordinates")
    return f"{e1}: F(N) = ⟨K/‖K‖, N⟩ has F(N) − F(Nᵀ) = 2‖K‖; {e2}: F is 1-Lipschitz"


def _instances_c7(ctx):
    return Checked("; ".join([_g_zero_3(ctx), _lipschitz_3(ctx), _attained_3(ctx)]), Region.points("n", [N_SYM]))


CLAIM_C7 = Claim(
    id="C7",
    title="G is the control parameter for direction",
    statement=("For every $n$: (i) $G = 0 \\iff A = A^\\top$. (ii) Every diagnostic $F$ that is $L$-Lipschitz in "
               "Frobenius norm on $N$ obeys $|F(N) - F(N^\\top)| \\le 2L\\|K\\|_F = 2L\\,G\\,\\|S\\|_F$. (iii) The "
               "bound is attained by $F(N) = \\langle K/\\|K\\|_F, N\\rangle$: the best orientation margin is exactly "
               "$2G\\|S\\|_F$."),
    steps=(
        Step("$K = D^{-1/2}(A - A^\\top)D^{-1/2}/2$, so $K = 0$ (i.e. $G = 0$) iff $A = A^\\top$.", "symbolic",
             "sympy matrix expressions of symbolic size; $D^{-1/2}$ symmetric and invertible", _g_zero, scope=EVERY_N,
             key="g-zero"),
        Step("$N - N^\\top = 2K$, so $\\|N - N^\\top\\|_F = 2\\|K\\|_F$, which gives the Lipschitz bound.", "symbolic",
             "sympy matrix expressions", _lipschitz, scope=EVERY_N, key="lipschitz"),
        Step("$\\langle K, N - N^\\top\\rangle = 2\\|K\\|_F^2$, so $F(N) = \\langle K/\\|K\\|, N\\rangle$ reaches the "
             "bound with $L = 1$; it is 1-Lipschitz by Cauchy–Schwarz ($0 \\le \\|u - \\lambda v\\|^2$ at "
             "$\\lambda = \\langle u, v\\rangle/\\|v\\|^2$).", "symbolic",
             "sympy expansion of $\\|u - \\lambda v\\|^2$ for vectors of symbolic size", _attained, scope=EVERY_N,
             key="attained"),
        Step(f"The same on generic ${N_SYM} \\times {N_SYM}$ matrices with symbolic entries (Lagrange's identity in 9 "
             "coordinates).", "symbolic", "sympy `simplify` entry by entry", _instances_c7, scope=INSTANCE,
             key="instances", role="check"),
    ),
    domain=Region.box(n=(1, None)),
)
