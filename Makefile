# SecureFace — every entry point a developer or CI needs.
#   make dev    start the whole system locally with demo data (Ctrl-C stops it)
#   make test   lint, type-check and run every test (starts the servers it needs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The package and the dev tooling import without installation (as the Lambda layer does).
export PYTHONPATH := $(CURDIR)/layers/secureface:$(CURDIR)/tools:$(CURDIR)
REQS := requirements-dev.txt layers/secureface/requirements.txt layers/ml/requirements.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQS) | sha256sum | cut -c1-16)
NPM_STAMP := frontend/node_modules/.installed-$(shell cat frontend/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)

.PHONY: dev test unit lint typecheck pytest bench load models frontend clean

$(STAMP): $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	rm -f frontend/node_modules/.installed-* && touch $@

frontend: $(NPM_STAMP)
	cd frontend && npm run build

dev: $(STAMP) frontend
	$(PY) -m devstack up

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	# Each function's handler on its own (all four are named app.py: one module name per run).
	for f in functions/*/app.py; do $(VENV)/bin/mypy --strict "$$f" || exit 1; done

test: $(STAMP) frontend lint
	cd frontend && npm test
	$(VENV)/bin/pytest

# The fast inner loop: the package's unit tests (no servers, no browser), about a minute.
unit: $(STAMP)
	$(VENV)/bin/pytest tests/unit -q

bench: $(STAMP) frontend
	$(PY) -m bench

# Many people at once against a fresh local stack (locust, loopback only): one person alone
# for 60 s (the baseline), then 20 at once for 3 minutes; docs/BENCHMARKS.md "Load".
load: $(STAMP) frontend
	$(PY) -m bench.load --baseline 60 --users 20 --spawn-rate 5 --duration 180

models: $(STAMP)
	$(PY) tools/build_models.py --update

clean:
	rm -rf .aws-sam .dev frontend/dist
