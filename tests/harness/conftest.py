"""Shared fixtures of the harness tests."""
import os

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


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory):
    """One cache for the real-component test files of a run.  Under pytest-xdist it is the workers' common
    temporary folder of this run, so a component is fetched, and a GGUF file converted, once: both are atomic
    and idempotent, and a folder another worker finished first is kept (:func:`~.fetch.install`)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "at-real-cache"
    root.mkdir(exist_ok=True)
    return root
