"""attention-transport: self-attention as transport, made checkable.

Subpackages
-----------
theory
    Symbolic (sympy) derivations and exact closed forms.
numerics
    Attention operators, conductance landscapes, spectra (numpy / mpmath).
proofs
    Machine-checked claims.
harness
    Real-model validation (optional extra ``harness``).
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("attention-transport")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
