# One-command entry points. Each target creates the virtual environment and
# installs the package with all extras on first use.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup study test docs lint bench gpu-check clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

study: setup  ## the compression study on the embedded default (digits + a small CNN teacher)
	$(BIN)/sklearn-subspace study

test: setup  ## the test suite, doctests included
	$(BIN)/python -m pytest

docs: setup  ## the HTML documentation, with the executed gallery
	$(MAKE) -C docs html SPHINXBUILD=$(abspath $(BIN))/sphinx-build

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/bench_projection.py

gpu-check: setup  ## every CUDA path once, one table of figures (CPU parts only without CUDA)
	$(BIN)/python benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build docs/auto_examples docs/generated
