# torch-core-models: two commands to run and test the course.
#   make run    create .venv (once), install, execute every notebook into build/
#   make test   create .venv (once), install, run the unit tests and nbval over every notebook
#   make lab    open JupyterLab on the course
#   make bench  time the usual MNIST pipeline against the in-memory one (ARGS="--quick" for a smoke run)
# The install is stamped: it reruns only when requirements.txt or pyproject.toml change,
# so a second `make test` needs no network.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# Batch runs: no progress bars (they would fill executed notebooks with lines).
export COURSE_PROGRESS ?= 0

.PHONY: install run test unit nbval lab bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m helpers.course run $(ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests --cov=helpers --cov-report=term-missing --cov-fail-under=90

nbval: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

test: unit nbval

lab: $(STAMP)
	$(PY) -m jupyter lab --notebook-dir=.

bench: $(STAMP)
	$(PY) benchmarks/bench.py $(ARGS)

clean:
	rm -rf build .pytest_cache .coverage
