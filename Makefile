# Two entry points (README.md): `make study` and `make test`. Each creates .venv if missing.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.minas-installed
PROFILE ?= default

.PHONY: study test env lab bench clean-outputs

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

env: $(STAMP)  ## create/refresh the virtual environment

study: $(STAMP)  ## run the notebook series on the default profile (resumes from the store)
	$(VENV)/bin/python -m minas run --profile $(PROFILE)

test: $(STAMP)  ## unit tests plus the smoke run of the notebook series
	$(VENV)/bin/python -m pytest -q

lab: $(STAMP)  ## open the notebooks in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)  ## run every benchmark script
	for b in benchmarks/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done
