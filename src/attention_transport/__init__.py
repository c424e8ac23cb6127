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
__all__ = ["__version__"]


def __getattr__(name):
    """``__version__`` is read on first use: importing the package stays instant (the console command
    catches Ctrl-C only once its entry point runs)."""
    if name != "__version__":
        raise AttributeError(f"module 'attention_transport' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("attention-transport")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
