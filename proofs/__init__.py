"""Machine-checked claims: each claim a statement and an ordered list of checked steps.

The proof modules (and ``attention-transport verify``) are the subject of the
theory-and-proofs issue and land here.
"""
