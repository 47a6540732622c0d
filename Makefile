# One-command entry points. Each target creates the virtual environment and
# installs the package with all extras on first use.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup study test test-oldest-sklearn docs lint bench gpu-check clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

study: setup  ## the compression study on the embedded default (digits + a small CNN teacher)
	$(BIN)/sklearn-subspace study

# pytest-xdist: one worker per core, each on one thread (tests/conftest.py);
# a file's tests stay on one worker, which builds its fixtures once.
PYTEST_WORKERS ?= auto
PARALLEL = -n $(PYTEST_WORKERS) --dist loadfile

test: setup  ## the test suite, doctests included
	$(BIN)/python -m pytest $(PARALLEL)

# The oldest scikit-learn that pyproject.toml supports. Its wheel goes into a
# folder put first on the path, so the venv itself keeps the newest.
OLDEST_SKLEARN ?= 1.6.1
OLDEST_DIR = build/oldest-sklearn

# The quick tests, and all of the two that exercise the validation shim most:
# the estimator checks and the bad-input table.
test-oldest-sklearn: setup  ## the quick tests against the oldest supported scikit-learn
	rm -rf $(OLDEST_DIR)
	$(BIN)/python -m pip install --quiet --no-deps --target $(OLDEST_DIR) "scikit-learn==$(OLDEST_SKLEARN)"
	PYTHONPATH=$(abspath $(OLDEST_DIR)) $(BIN)/python -c "import sklearn; assert sklearn.__version__ == '$(OLDEST_SKLEARN)', sklearn.__version__; print('scikit-learn', sklearn.__version__)"
	PYTHONPATH=$(abspath $(OLDEST_DIR)) $(BIN)/python -m pytest -p no:cacheprovider $(PARALLEL) \
	  -m "not slow" --deselect tests/test_estimator_checks.py --deselect tests/reliability/test_bad_input.py
	PYTHONPATH=$(abspath $(OLDEST_DIR)) $(BIN)/python -m pytest -p no:cacheprovider $(PARALLEL) \
	  tests/test_estimator_checks.py tests/reliability/test_bad_input.py

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
