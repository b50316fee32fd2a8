# torch-core-models. Students need two commands; instructors a few more.
#   make lab    open JupyterLab on the course (progress bars on)
#   make lab-ko the Korean edition (notebooks/ko/) in JupyterLab with Korean menus
#   make test   lint, unit tests of helpers/ and instructor/, every notebook under nbval, the Korean lessons
#               with no system Hangul font (make hangul), the lessons' claims
#   make run    execute every notebook with papermill into build/ (summary.json, HTML pages)
#   make site   the course as a website from make run's notebooks: build/site/ (English), build/site/ko/ (Korean)
#   make site-test  every page of the site in headless Chromium: console, links, images, math, Hangul, search, phone
#   make bench  the source's MNIST pipeline against the in-memory one (ARGS=--quick: smoke run)
#   make e2e    Run All in JupyterLab in headless Chromium; screenshots and report in build/e2e/
#   make seeds  every lesson at SEED 0-29 (ARGS="--only 02 --seeds 30-59"): do the self-checks hold?
#   make dist   build the wheel and sdist into dist/ offline and check the wheel's metadata
#   make dist-test  each lesson alone in an empty folder, run from the installed wheel (no repository)
#   make hub-test   three students on a real JupyterHub on 127.0.0.1 run lesson 02 at once (deploy/)
#   make oldest     the unit tests and every notebook on the oldest versions pyproject.toml allows
#   make measure    each lesson's kernel memory and CPU seconds; lesson 02 with 1, 2 and 4 students at once
# Students get requirements.txt only (make lab); every other target adds requirements-dev.txt.
# The installs are stamped: they rerun only when those files or pyproject.toml change, so a second
# `make test` needs no network.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# nbval runs the notebooks two at a time (each notebook keeps its own kernel); 1 to run them in turn.
NBVAL_WORKERS ?= 2

.PHONY: install dev-install oldest run site site-test test lint unit nbval hangul claims lab lab-ko bench e2e seeds dist dist-test hub-test measure clean

install: $(STAMP)
dev-install: $(DEV_STAMP)

# The student's install: the lessons' libraries and JupyterLab (requirements.txt), and the course itself.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The developers' tools on top (requirements-dev.txt): tests, lint, batch runs, browser test, build.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install -r requirements-dev.txt
	@touch $(DEV_STAMP)

# Batch runs set COURSE_PROGRESS=0: progress bars would fill executed notebooks with lines.
run: $(DEV_STAMP)
	COURSE_PROGRESS=0 $(PY) -m instructor.run $(ARGS)

# The course website (instructor/site.py; its pages and settings in docs/): Sphinx, MyST-NB and Furo from
# requirements-dev.txt, MathJax from npm into docs/node_modules, so that the math renders offline. It shows the
# notebooks as make run last executed them and stops if one is missing or failed: run make run (or make run
# ARGS=--quick, about 4 minutes) first. Serve it with: $(PY) -m http.server -d build/site
DOCS_NPM := docs/node_modules/.package-lock.json

$(DOCS_NPM): docs/package-lock.json
	npm ci --prefix docs --no-audit --no-fund

site: $(DEV_STAMP) $(DOCS_NPM)
	$(PY) -m instructor.site $(ARGS)

# Every page of build/site in headless Chromium (tests/test_site.py), after make site.
site-test: $(DEV_STAMP)
	$(PY) -m pytest tests/test_site.py -m browser -v -p no:cacheprovider --durations=5 $(ARGS)

lint: $(DEV_STAMP)
	$(PY) -m ruff check helpers instructor tests notebooks deploy docs

unit: $(DEV_STAMP)
	$(PY) -m pytest tests -q -m "not browser and not claims and not dist and not hangul" --cov=helpers --cov-report=term-missing:skip-covered --cov-fail-under=90

nbval: $(DEV_STAMP)
	COURSE_PROGRESS=0 $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider \
		-n $(NBVAL_WORKERS) --dist loadfile notebooks

# The five Korean lessons at their quick settings in kernels that cannot see the machine's Hangul fonts
# (tests/test_korean_lessons.py): the bundled font draws every figure, no glyph missing. About 40 s.
hangul: $(DEV_STAMP)
	$(PY) -m pytest tests/test_korean_lessons.py -q -m hangul -p no:cacheprovider --durations=4

# The lessons' split-dependent claims ("in most splits ..."), each measured over 30+ seeds.
# pytest exits 5 when no test is selected (a typo in a marker): that fails too.
claims: $(DEV_STAMP)
	$(PY) -m pytest tests -q -m claims -p no:cacheprovider -n $(NBVAL_WORKERS) --dist loadfile --durations=5

test: lint unit nbval hangul claims

# The student's way in: progress bars on, whatever the shell says.
lab: $(STAMP)
	COURSE_PROGRESS=1 $(PY) -m jupyterlab --notebook-dir=.

# The Korean edition: JupyterLab's Korean language pack (menus 실행, 커널), opened on notebooks/ko. The
# locale is a user setting, written into a settings folder of the course's own so that make lab stays English.
LAB_KO_SETTINGS := build/lab-ko/settings
lab-ko: $(STAMP)
	@mkdir -p "$(LAB_KO_SETTINGS)/@jupyterlab/translation-extension"
	@echo '{"locale": "ko_KR"}' > "$(LAB_KO_SETTINGS)/@jupyterlab/translation-extension/plugin.jupyterlab-settings"
	COURSE_PROGRESS=1 JUPYTERLAB_SETTINGS_DIR="$(LAB_KO_SETTINGS)" $(PY) -m jupyterlab --notebook-dir=. \
		--LabApp.default_url=/lab/tree/notebooks/ko

# Run lessons at many SEED values (ARGS="--only 02 --seeds 0-29"): does every self-check hold?
seeds: $(DEV_STAMP)
	COURSE_PROGRESS=0 $(PY) -m instructor.seeds $(ARGS)

bench: $(DEV_STAMP)
	$(PY) -m instructor.bench $(ARGS)

# One lesson: ARGS="--only 01" (or -k 01); ARGS=--include-solutions adds the solutions.
e2e: $(DEV_STAMP)
	$(PY) -m pytest tests/test_e2e.py -m browser -v -p no:cacheprovider --durations=5 $(ARGS)

# The package as pip gets it: wheel and sdist built offline (no build isolation), then the wheel's
# metadata, file list and bundled data are checked.
dist: $(DEV_STAMP)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .
	$(PY) -m pytest tests/test_dist.py -q -p no:cacheprovider -m dist -k built

# Each lesson copied alone into an empty folder and run with papermill from the installed wheel in a
# fresh virtual environment; a copied clone run without installing the package.
dist-test: dist
	COURSE_PROGRESS=0 $(PY) -m pytest tests/test_dist.py -q -p no:cacheprovider -m dist -k "not built"

# A real JupyterHub with three students (deploy/hub_test.py): JupyterHub and nbgitpuller from PyPI
# into .venv (the servers' environment), the proxy from npm into deploy/node_modules.
HUB_STAMP := $(VENV)/.hub-installed

$(HUB_STAMP): $(DEV_STAMP) deploy/requirements-hub.txt deploy/package-lock.json
	$(PY) -m pip install -r deploy/requirements-hub.txt
	npm ci --prefix deploy --no-audit --no-fund
	@touch $(HUB_STAMP)

hub-test: $(HUB_STAMP)
	$(PY) -m deploy.hub_test $(ARGS)

# Each lesson's kernel peak memory and CPU seconds, and lesson 02 with 1, 2 and 4 students at once.
measure: $(DEV_STAMP)
	COURSE_PROGRESS=0 $(PY) -m deploy.measure $(ARGS)

clean:
	rm -rf build dist .pytest_cache .coverage

# The oldest versions pyproject.toml allows (requires-python and every dependency's lower bound),
# installed exactly into .venv-oldest: the unit tests and every notebook on its quick settings there.
oldest: $(DEV_STAMP)
	$(PY) -m instructor.oldest $(ARGS)
