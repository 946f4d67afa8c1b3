# The two commands a newcomer needs (see README.md):
#   make course   set up the student's environment and open the first notebook in JupyterLab
#   make test     set up the developer's environment and run every test
# `make help` lists every target.
PYTHON ?= python3

# Two environments. The student's, .venv-course: the course and nothing else (no nbgrader, no test tools).
# The developer's, .venv: everything the tests, the instructor tools, the benchmarks and the site need.
COURSE_VENV   := .venv-course
COURSE_BIN    := $(COURSE_VENV)/bin
COURSE_STAMP  := $(COURSE_VENV)/.installed
COURSE_EXTRAS := course,gym
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := course,gym,test,instructor,dev,book
PY_EXTRAS := course,gym,test,instructor
# JupyterLab settings for the course (no news popup): installed as the venv's app settings.
LAB_SETTINGS := share/jupyter/lab/settings/overrides.json
ENTRY        := notebooks/00_welcome_mdps.ipynb
ALLOW_ROOT   := $(if $(filter 0,$(shell id -u)),--allow-root)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/ solutions/

.DEFAULT_GOAL := help
.PHONY: help course test test-browser test-py release grade check-env bench clean lint book explore

# $(call make-venv,DIR,EXTRAS,PYTHON): a venv with the package installed editable with EXTRAS, its kernel,
# and the course's JupyterLab settings.
define make-venv
	$(3) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -e '.[$(2)]'
	$(1)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	install -D -m 644 $(LAB_SETTINGS) $(1)/share/jupyter/lab/settings/overrides.json
	touch $(1)/.installed
endef

help: ## list the targets
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(COURSE_STAMP): pyproject.toml $(LAB_SETTINGS)
	$(call make-venv,$(COURSE_VENV),$(COURSE_EXTRAS),$(PYTHON))

$(STAMP): pyproject.toml $(LAB_SETTINGS)
	$(call make-venv,$(VENV),$(EXTRAS),$(PYTHON))

course: $(COURSE_STAMP) ## set up the student's environment (.venv-course) and open the first notebook in JupyterLab
	$(COURSE_BIN)/python -m jupyterlab --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/$(ENTRY) $(ALLOW_ROOT)

explore: $(COURSE_STAMP) ## the explorers as an app (Voila, code hidden) on http://127.0.0.1:8866/ [PORT=8866]
	$(COURSE_BIN)/python -m tools.explore --port $(or $(PORT),8866)

book: $(STAMP) ## the course website, from the stored notebook outputs, into build/book/html/ (offline)
	$(BIN)/python -m tools.book

lint: $(STAMP) ## ruff with the project's config (pyproject [tool.ruff]) on the package, tools, tests, benchmarks
	$(BIN)/ruff check pgcourse tools tests benchmarks

test: $(STAMP) $(COURSE_STAMP) lint ## set everything up, lint, and run every test: package, notebooks (nbval), exercises, browser
	$(BIN)/python -m tools.check_environment
	$(BIN)/python -m tools.check_environment binder/environment.yml
	PATH="$(CURDIR)/$(BIN):$$PATH" PGCOURSE_COURSE_VENV="$(CURDIR)/$(COURSE_VENV)" \
		$(BIN)/python -m pytest -p no:cacheprovider tests/ $(NBVAL)

test-browser: $(STAMP) $(COURSE_STAMP) ## only the browser test: every notebook in JupyterLab, every control, latency table
	PGCOURSE_COURSE_VENV="$(CURDIR)/$(COURSE_VENV)" $(BIN)/python -m pytest -p no:cacheprovider -m browser tests/browser

# Another interpreter, in its own venv (.venv-py310, .venv-py313, ...): everything but the browser test.
PYV = $(shell "$(PYTHON)" -c 'import sys; print("%d%d" % sys.version_info[:2])' 2>/dev/null)
test-py: ## package tests + nbval on another Python: make test-py PYTHON=/path/to/python3.13
	@test -n "$(PYV)" || { echo "test-py: cannot run PYTHON=$(PYTHON)"; exit 2; }
	@$(MAKE) --no-print-directory .venv-py$(PYV)/.installed
	@.venv-py$(PYV)/bin/python -c 'import sys, numpy; print("test-py: Python", sys.version.split()[0], "numpy", numpy.__version__)'
	PATH="$(CURDIR)/.venv-py$(PYV)/bin:$$PATH" .venv-py$(PYV)/bin/python -m pytest -p no:cacheprovider -m "not browser" \
		tests/ $(NBVAL)

.venv-py%/.installed: pyproject.toml $(LAB_SETTINGS)
	$(call make-venv,.venv-py$*,$(PY_EXTRAS),$(PYTHON))

# Instructors: regenerate the student release from solutions/, and grade a folder of submissions.
release: $(STAMP) ## regenerate exercises/ from solutions/
	$(BIN)/python -m tools.release

grade: $(STAMP) ## grade submissions in a sandbox: make grade SUBMISSIONS=folder [OUT=grades.csv] [FEEDBACK=feedback] [TIMEOUT=30]
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [OUT=grades.csv] [FEEDBACK=feedback] [TIMEOUT=30]"; exit 2; }
	@command -v bwrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }
	$(BIN)/python -m tools.grade "$(SUBMISSIONS)" --out "$(or $(OUT),grades.csv)" --feedback "$(or $(FEEDBACK),feedback)" --timeout $(or $(TIMEOUT),30)

bench: $(STAMP) ## the performance table (ratios against baselines timed in the same run)
	$(BIN)/python -m benchmarks.run

check-env: $(STAMP) ## check that environment.yml and binder/environment.yml (the student's) resolve
	$(BIN)/python -m tools.check_environment
	$(BIN)/python -m tools.check_environment binder/environment.yml

clean: ## remove every environment and build/
	rm -rf $(VENV) $(COURSE_VENV) .venv-py* build .pytest_cache
