"""High-precision constants: precision ladders, independent evaluations, no global precision changes."""
import mpmath
import pytest
import sympy as sp

from attention_transport.numerics.constants import bipartite_star, constants, phi_star, x_star


@pytest.mark.parametrize("p", [15, 30, 60])
def test_precision_ladder(p):
    lo, hi = constants(p), constants(2 * p)
    for key in lo:
        a, b = mpmath.mpf(lo[key]), mpmath.mpf(hi[key])
        assert abs(a - b) <= mpmath.mpf(10) ** (-p + 1), key


def test_x_star_against_sympy():
    with mpmath.workdps(50):
        ref = mpmath.mpf(str(sp.N(sp.exp(2 + sp.LambertW(-sp.exp(-2), -1)), 50)))
        assert abs(x_star(45) - ref) < mpmath.mpf(10) ** -44
        assert abs(phi_star(45) - (-ref * mpmath.log(ref))) < mpmath.mpf(10) ** -44


def test_bipartite_against_sympy_nsolve():
    a, b = sp.symbols("a b", positive=True)
    sol = sp.nsolve([b - (1 - a + a * sp.log(a)), sp.log(a) * (1 - a / b) - sp.log(b)], [a, b],
                    [0.2, 0.45], prec=50)
    phi, a_s, b_s = bipartite_star(40)
    with mpmath.workdps(45):
        assert abs(a_s - mpmath.mpf(str(sol[0]))) < mpmath.mpf(10) ** -39
        assert abs(b_s - mpmath.mpf(str(sol[1]))) < mpmath.mpf(10) ** -39


def test_bipartite_constant_is_the_grid_minimum_of_the_continuum():
    """Brute-force oracle: minimise the continuum bipartite landscape on a grid."""
    import numpy as np
    a = np.linspace(0.01, 0.99, 981)[:, None]
    b = np.linspace(0.01, 0.99, 981)[None, :]
    C = a - a * np.log(a)
    M = np.where(a < b, a + a * np.log(b / a), b)
    vol = b + C
    phi = (vol - 2 * M) / np.minimum(vol, 2 - vol)
    k = np.unravel_index(np.argmin(phi), phi.shape)
    phi_b, a_s, b_s = bipartite_star(20)
    # a grid overestimates the infimum, by O(spacing²)
    assert float(phi_b) - 1e-12 <= phi.min() <= float(phi_b) + 5e-5
    assert (a[k[0], 0], b[0, k[1]]) == (pytest.approx(float(a_s), abs=2e-3), pytest.approx(float(b_s), abs=2e-3))


def test_global_precision_untouched():
    before = mpmath.mp.prec
    constants(80)
    assert mpmath.mp.prec == before


@pytest.mark.parametrize("bad", [4, 2.5, True, "30"])
def test_dps_validation(bad):
    with pytest.raises(ValueError, match="dps must be an integer >= 5"):
        x_star(bad)


def test_exact_number_of_digits():
    assert all(len(v) == 32 for v in constants(30).values())  # "0." + 30 digits
