# The two commands a newcomer needs (see README.md):
#   make course   set everything up and start JupyterLab on notebooks/
#   make test     set everything up and run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: course test test-browser release grade check-env bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[course,test,instructor,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

course: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks

test: $(STAMP)
	$(BIN)/python tools/check_environment.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -p no:cacheprovider tests/ \
		--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/ solutions/

test-browser: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -m browser tests/browser

# Instructors: regenerate the student release from solutions/, and grade a folder of submissions.
release: $(STAMP)
	$(BIN)/python -m tools.release

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [OUT=grades.csv] [TIMEOUT=60]"; exit 2; }
	$(BIN)/python -m tools.grade "$(SUBMISSIONS)" --out "$(or $(OUT),grades.csv)" --timeout $(or $(TIMEOUT),60)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

check-env: $(STAMP)
	$(BIN)/python tools/check_environment.py

clean:
	rm -rf $(VENV) build .pytest_cache
