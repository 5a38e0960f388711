# kpilib: two commands set everything up on a fresh machine (Python 3.11 + pip/venv only).
#   make report   - bootstrap .venv, then run the main job on the embedded sample data
#   make test     - bootstrap .venv, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FY     ?= 2567
QUARTER ?= 1
JOBS   ?=

.DEFAULT_GOAL := help
.PHONY: help venv report test lint format lab sample clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The stamp depends on pyproject.toml: a second call with nothing changed does nothing.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name kpilib --display-name "kpilib (Python 3.11)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install the project (idempotent)

sample: $(STAMP) ## generate the sample data set (data/sample) if missing
	$(BIN)/kpi sample-data --fy $(FY)

report: $(STAMP) ## render every unit's report for the sample data (FY/QUARTER/JOBS overridable)
	$(BIN)/kpi sample-data --fy $(FY)
	@# exit 3: reports rendered, some KPIs not certified (the sample data has deliberate defects)
	$(BIN)/kpi run --fy $(FY) --quarter $(QUARTER) --data data/sample $(if $(JOBS),--jobs $(JOBS),) || [ $$? -eq 3 ]

test: $(STAMP) ## run the test suite
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check kpilib tests benchmarks notebooks
	$(BIN)/ruff format --check kpilib tests benchmarks notebooks

format: $(STAMP) ## ruff format and autofix
	$(BIN)/ruff format kpilib tests benchmarks notebooks
	$(BIN)/ruff check --fix kpilib tests benchmarks notebooks

lab: $(STAMP) ## open JupyterLab with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean: ## remove outputs and generated data
	rm -rf outputs/* data/sample data/processed

distclean: clean ## also remove .venv
	rm -rf $(VENV)
