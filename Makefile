# The two commands of the README: `make demo` and `make test`. Both work on a fresh Debian machine.
PYTHON ?= python3
VENV ?= .venv
DEMO_VENV ?= .venv-demo
BIN := $(VENV)/bin
PACKAGES := confo-core confo-file confo-redis confo-zookeeper confo-etcd confo-cli confo-web
# The templates for new backends (a local store, a network store): installed, typed and tested
# with the rest, never published.
TEMPLATE := template/confo-sqlite template/confo-postgres
# confo-core with its extras: the suite tests typed settings (pydantic) too.
EDITABLE := -e "./confo-core[pydantic,testing]" $(foreach p,$(filter-out confo-core,$(PACKAGES)) $(TEMPLATE),-e ./$(p))

.PHONY: demo test test-fast lint typecheck pytest servers venv bench dist pythons lowest clean

## demo: install confo-core and confo-file into a fresh venv and run the quickstart (no server)
demo:
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install -q --upgrade pip
	$(DEMO_VENV)/bin/python -m pip install -q ./confo-core ./confo-file
	$(DEMO_VENV)/bin/python tools/rundoc.py --verbose README.md

## test: install the servers and every package, lint, type-check, run every test
test: servers venv lint typecheck pytest

## test-fast: lint, types and the tests that need no server and build nothing (seconds)
test-fast: venv lint typecheck
	$(BIN)/pytest -q -m "not servers and not slow"

servers:
	tools/install-servers.sh

venv: $(BIN)/.installed

$(BIN)/.installed: $(foreach p,$(PACKAGES) $(TEMPLATE),$(p)/pyproject.toml) requirements-dev.txt requirements-bench.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(EDITABLE) -r requirements-dev.txt
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy --strict $(foreach p,$(PACKAGES) $(TEMPLATE),$(p)/src)

pytest: venv
	$(BIN)/pytest -q -n 4 --dist loadgroup

## bench: run benchmarks/ against real servers; writes docs/benchmarks.md and its plot
bench: servers venv
	$(BIN)/python benchmarks/run.py

## dist: build every distribution's sdist and wheel into dist/, and check them as the index would
dist: venv
	rm -rf dist
	$(foreach p,$(PACKAGES),$(BIN)/python -m build -q --outdir dist ./$(p) &&) true
	$(BIN)/twine check --strict dist/*

## pythons: the whole suite on every Python from 3.10 to 3.13 found on this machine (nox)
pythons: servers venv
	$(BIN)/nox --no-error-on-missing-interpreters

## lowest: the whole suite on Python 3.10 (python3.10 on PATH) with the oldest release of each
## dependency the distributions admit (nox)
lowest: servers venv
	$(BIN)/nox --error-on-missing-interpreters -s lowest

clean:
	rm -rf $(VENV) $(DEMO_VENV) .pytest_cache .mypy_cache .ruff_cache .nox dist
