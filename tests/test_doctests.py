"""The docstring examples of every public module run as tests."""
import doctest
import importlib

import pytest

MODULES = [
    "attention_transport.numerics.operators",
    "attention_transport.numerics.landscapes",
    "attention_transport.numerics.spectral",
    "attention_transport.numerics.patterns",
    "attention_transport.numerics.exact",
    "attention_transport.check",
    "attention_transport.numerics.constants",
    "attention_transport.harness.data",
    "attention_transport.harness.features",
    "attention_transport.harness.metrics",
    "attention_transport.harness.fetch",
    "attention_transport.harness.models",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
