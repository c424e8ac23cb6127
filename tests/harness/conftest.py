"""Shared fixtures of the harness tests."""
import numpy as np
import pytest

from attention_transport.harness.accumulators import RowColumnSums
from attention_transport.harness.features import FEATURES, Feature, register


@pytest.fixture
def diag_mass():
    """A feature added the way a user adds one: one class, registered; removed again after the test.

    ``diag_mass``: the mean of ``a_ii`` over the response rows (dense, and streamed from the
    diagonal that :class:`RowColumnSums` already gathers).
    """

    @register
    class DiagMass(Feature):
        name, label, probes = "diag_mass", "diag", ("diag",)
        accumulators = (RowColumnSums,)

        def dense(self, head):
            i = np.arange(head.p, head.n)
            return float(head.A64[i, i].mean()) if head.n > head.p else float("nan")

        def streamed(self, stream):
            if stream.p >= stream.n:
                return np.full(stream.H, np.nan)
            return stream[RowColumnSums].diag[:, stream.p:].mean(axis=1)

    try:
        yield FEATURES["diag_mass"]
    finally:
        del FEATURES["diag_mass"]
