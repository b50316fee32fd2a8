# torch-core-models. Students need two commands; instructors a few more.
#   make lab    open JupyterLab on the course (progress bars on)
#   make test   lint, unit tests of helpers/ and instructor/, then every notebook under nbval
#   make run    execute every notebook with papermill into build/ (summary.json, HTML pages)
#   make bench  the source's MNIST pipeline against the in-memory one (ARGS=--quick: smoke run)
#   make e2e    Run All in JupyterLab in headless Chromium; screenshots and report in build/e2e/
# The install is stamped: it reruns only when requirements.txt or pyproject.toml change,
# so a second `make test` needs no network.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nbval runs the notebooks two at a time (each notebook keeps its own kernel); 1 to run them in turn.
NBVAL_WORKERS ?= 2

.PHONY: install run test lint unit nbval lab bench e2e clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Batch runs set COURSE_PROGRESS=0: progress bars would fill executed notebooks with lines.
run: $(STAMP)
	COURSE_PROGRESS=0 $(PY) -m instructor.run $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check helpers instructor tests notebooks

unit: $(STAMP)
	$(PY) -m pytest tests -q -m "not browser" --cov=helpers --cov-report=term-missing:skip-covered --cov-fail-under=90

nbval: $(STAMP)
	COURSE_PROGRESS=0 $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider \
		-n $(NBVAL_WORKERS) --dist loadfile notebooks

test: lint unit nbval

# The student's way in: progress bars on, whatever the shell says.
lab: $(STAMP)
	COURSE_PROGRESS=1 $(PY) -m jupyter lab --notebook-dir=.

bench: $(STAMP)
	$(PY) -m instructor.bench $(ARGS)

# One lesson: ARGS="--only 01" (or -k 01); ARGS=--include-solutions adds the solutions.
e2e: $(STAMP)
	$(PY) -m pytest tests/test_e2e.py -m browser -v -p no:cacheprovider --durations=5 $(ARGS)

clean:
	rm -rf build .pytest_cache .coverage
