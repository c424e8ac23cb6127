"""C6 — symmetric diagnostics are orientation-blind; C7 — G controls the direction margin."""
from __future__ import annotations

import sympy as sp

from attention_transport.proofs.core import Claim, Step, require, symbolic_zero
from attention_transport.theory import orientation as ot

N_SYM = 3  #: size of the generic symbolic matrices


def _zero_matrix(M, what):
    for entry in M:
        require(sp.simplify(entry) == 0, f"{what}: entry {entry} ≠ 0")
    return f"{what}: every entry simplifies to 0"


def _degrees(ctx):
    A = ot.generic_matrix(N_SYM)
    dA, dT = ot.degrees(A), ot.degrees(A.T)
    require(all(sp.expand(p - q) == 0 for p, q in zip(dA, dT)), "d(Aᵀ) ≠ d(A)")
    e = _zero_matrix(ot.normalised(A.T) - ot.normalised(A).T, "N(Aᵀ) − N(A)ᵀ")
    return f"d(Aᵀ) = d(A); {e}"


def _symmetric_part(ctx):
    A = ot.generic_matrix(N_SYM)
    N, NT = ot.normalised(A), ot.normalised(A.T)
    e1 = _zero_matrix(ot.symmetric(NT) - ot.symmetric(N), "S(Aᵀ) − S(A)")
    e2 = _zero_matrix(ot.antisymmetric(NT) + ot.antisymmetric(N), "K(Aᵀ) + K(A)")
    return f"{e1}; {e2}; L = I − S and W = (A + Aᵀ)/2 are therefore the same for A and Aᵀ"


def _spectra(ctx):
    M = ot.generic_matrix(N_SYM, "m")
    lam = sp.Symbol("lambda")
    e1 = symbolic_zero(M.charpoly(lam).as_expr() - M.T.charpoly(lam).as_expr(), "charpoly(M) = charpoly(Mᵀ)")
    e2 = symbolic_zero((M.T * M).charpoly(lam).as_expr() - (M * M.T).charpoly(lam).as_expr(),
                       "charpoly(MᵀM) = charpoly(MMᵀ)")
    return f"{e1}; {e2}: eigenvalues and singular values of N and Nᵀ = N(Aᵀ) coincide"


def _flows(ctx):
    A = ot.generic_matrix(4)
    for t in range(1, 4):
        back = sum(A[i, j] for i in range(t, 4) for j in range(t))  # right queries → left keys
        fwd_T = sum(A.T[i, j] for i in range(t) for j in range(t, 4))  # left queries → right keys, in Aᵀ
        require(sp.expand(back - fwd_T) == 0, f"flow at t = {t}")
    return "for n = 4 and every t, the right-to-left flow of A is the left-to-right flow of Aᵀ"


def _gamma(ctx):
    A = ot.generic_matrix(N_SYM)
    g = sp.Symbol("gamma", real=True)
    Ag = ot.gamma_family(A, g)
    dA, dG = ot.degrees(A), ot.degrees(Ag)
    require(all(sp.expand(p - q) == 0 for p, q in zip(dA, dG)), "d(A_γ) ≠ d(A)")
    N, Ng = ot.normalised(A), ot.normalised(Ag, d=dA)
    e1 = _zero_matrix(ot.symmetric(Ng) - ot.symmetric(N), "S(A_γ) − S(A)")
    e2 = _zero_matrix(ot.antisymmetric(Ng) - g * ot.antisymmetric(N), "K(A_γ) − γK(A)")
    return f"d(A_γ) = d(A); {e1}; {e2}; hence G(A_γ) = ‖γK‖/‖S‖ = |γ| G(A)"


CLAIM_C6 = Claim(
    id="C6",
    title="Orientation blindness",
    statement=("Every function of $S$ — Laplacian spectrum, Fiedler value, heat traces, top-$k$ features — and every "
               "conductance or Cheeger quantity takes the same value on $A$ and $A^\\top$, although every cut flow "
               "reverses; so does every transpose-invariant spectral function of $N$ (eigenvalues, singular values). "
               "The family $A_\\gamma = ((1+\\gamma)A + (1-\\gamma)A^\\top)/2$ shares one $S$ while "
               "$G(A_\\gamma) = |\\gamma| G(A)$."),
    steps=(
        Step("$d(A^\\top) = d(A)$, hence $N(A^\\top) = N(A)^\\top$.", "symbolic",
             f"generic {N_SYM}×{N_SYM} symbolic matrix", _degrees),
        Step("$S(A^\\top) = S(A)$ and $K(A^\\top) = -K(A)$; so $W$, $L = I - S$ and every conductance are unchanged.",
             "symbolic", f"generic {N_SYM}×{N_SYM} symbolic matrix", _symmetric_part),
        Step("$N$ and $N^\\top$ have the same characteristic polynomial, and $N^\\top N$, $N N^\\top$ too: "
             "eigenvalues and singular values agree.", "symbolic", "sympy `charpoly` of a generic matrix",
             _spectra),
        Step("The flow from queries right of a cut to keys left of it in $A$ is the opposite flow in $A^\\top$.",
             "symbolic", "generic 4×4 matrix, every prefix cut", _flows),
        Step("$d(A_\\gamma) = d(A)$, $S(A_\\gamma) = S(A)$ and $K(A_\\gamma) = \\gamma K(A)$, so "
             "$G(A_\\gamma) = |\\gamma| G(A)$ sweeps $[0, G(A)]$ with every symmetric diagnostic fixed.",
             "symbolic", f"generic {N_SYM}×{N_SYM} symbolic matrix and symbolic $\\gamma$", _gamma),
    ),
)


def _g_zero(ctx):
    A = ot.generic_matrix(N_SYM)
    d = ot.degrees(A)
    K = ot.antisymmetric(ot.normalised(A))
    expected = sp.Matrix(N_SYM, N_SYM, lambda i, j: (A[i, j] - A[j, i]) / (2 * sp.sqrt(d[i] * d[j])))
    return _zero_matrix(K - expected, "K − D^{-1/2}(A − Aᵀ)D^{-1/2}/2") + "; D invertible, so K = 0 ⇔ A = Aᵀ"


def _lipschitz(ctx):
    M = ot.generic_matrix(N_SYM, "m")
    K = ot.antisymmetric(M)
    e1 = symbolic_zero(ot.frobenius_sq(M - M.T) - 4 * ot.frobenius_sq(K), "‖N − Nᵀ‖² = 4‖K‖²")
    return e1 + "; an L-Lipschitz F gives |F(N) − F(Nᵀ)| ≤ L‖N − Nᵀ‖ = 2L‖K‖ = 2L G ‖S‖"


def _attained(ctx):
    M = ot.generic_matrix(N_SYM, "m")
    K = ot.antisymmetric(M)
    e1 = symbolic_zero(ot.frobenius_inner(K, M - M.T) - 2 * ot.frobenius_sq(K), "⟨K, N − Nᵀ⟩ = 2‖K‖²")
    u = sp.symbols("u1:10", real=True)
    v = sp.symbols("v1:10", real=True)
    lagrange = (sum(x * x for x in u) * sum(y * y for y in v) - sum(x * y for x, y in zip(u, v)) ** 2
                - sum((u[i] * v[j] - u[j] * v[i]) ** 2 for i in range(9) for j in range(i + 1, 9)))
    e2 = symbolic_zero(sp.expand(lagrange), "Lagrange identity (Cauchy–Schwarz) in 9 = 3×3 coordinates")
    return f"{e1}: F(N) = ⟨K/‖K‖, N⟩ has F(N) − F(Nᵀ) = 2‖K‖; {e2}: F is 1-Lipschitz"


CLAIM_C7 = Claim(
    id="C7",
    title="G is the control parameter for direction",
    statement=("(i) $G = 0 \\iff A = A^\\top$. (ii) Every diagnostic $F$ that is $L$-Lipschitz in Frobenius norm on "
               "$N$ obeys $|F(N) - F(N^\\top)| \\le 2L\\|K\\|_F = 2L\\,G\\,\\|S\\|_F$. (iii) The bound is attained by "
               "$F(N) = \\langle K/\\|K\\|_F, N\\rangle$: the best orientation margin is exactly $2G\\|S\\|_F$."),
    steps=(
        Step("$K = D^{-1/2}(A - A^\\top)D^{-1/2}/2$, so $K = 0$ (i.e. $G = 0$) iff $A = A^\\top$.", "symbolic",
             f"generic {N_SYM}×{N_SYM} symbolic matrix", _g_zero),
        Step("$\\|N - N^\\top\\|_F = 2\\|K\\|_F$, which gives the Lipschitz bound.", "symbolic",
             "sympy expansion of the Frobenius norms", _lipschitz),
        Step("$\\langle K, N - N^\\top\\rangle = 2\\|K\\|_F^2$, so $F(N) = \\langle K/\\|K\\|, N\\rangle$ reaches the "
             "bound with $L = 1$; it is 1-Lipschitz by Cauchy–Schwarz.", "symbolic",
             "sympy expansion; Lagrange's identity", _attained),
    ),
)
