# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
CLI    := $(VENV)/bin/attention-transport

.PHONY: demo test bench clean

# Strict editable mode: the installed package is a tree of links to the source files, which editors, type
# checkers and jedi resolve (attention_transport.numerics -> numerics/). A new module needs `make` to run the
# install again: touch pyproject.toml (or delete .venv) after adding one.
EDITABLE := --config-settings editable_mode=strict

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e . $(EDITABLE)
	touch $@

$(VENV)/.full: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[harness,test]' $(EDITABLE)
	touch $(VENV)/.core $@

## demo: create .venv, install the core, run the main job on embedded defaults
##       (verify, check on the canonical patterns, all figures into figures/)
demo: $(VENV)/.core
	$(CLI) verify
	$(CLI) check uniform-causal --n 3 10 100 1000 1000000
	$(CLI) check window:w=16 --n 100 1000 10000
	$(CLI) check sink-window:s=4,w=16 --n 1000
	$(CLI) check bidirectional-window:w=16 --n 1000
	$(CLI) figures --out figures

## test: create .venv, install everything (harness and test extras), run the whole suite on both cores
##       (one worker per test file: module fixtures such as the fetched components are built once)
test: $(VENV)/.full
	$(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --dist loadfile

## bench: performance benchmarks (ratios against baselines measured in the same run)
bench: $(VENV)/.full
	$(VENV)/bin/pytest benchmarks -q -p no:cacheprovider --benchmark-only \
		--benchmark-json=benchmarks/results.json
	$(PY) benchmarks/report.py benchmarks/results.json

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis
