"""Symbolic derivations (sympy) of the claims C1–C7 of docs/theory.md.

This subpackage holds derivations that return sympy expressions.  The exact
rational tier that the numerics are checked against today lives in
:mod:`attention_transport.numerics.exact`; the symbolic derivations of C1–C7
are the subject of the theory-and-proofs issue and land here.
"""
