"""The docstring examples of every module of the package run as tests (the list is walked, not kept by hand)."""
import doctest
import importlib
import pkgutil

import pytest

import attention_transport

def _modules():
    names = [attention_transport.__name__]
    for info in pkgutil.walk_packages(attention_transport.__path__, prefix="attention_transport."):
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_the_walk_finds_every_subpackage():
    for sub in ("numerics", "theory", "proofs", "harness", "cli", "figures"):
        assert f"attention_transport.{sub}" in MODULES
    assert "attention_transport.harness.features" in MODULES and "attention_transport.cli.base" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    """Every module imports without the optional extras (they are imported inside functions)."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
