# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The browser tests drive Debian's headless Chromium (never a browser downloaded by a tool).
CHROMIUM ?= /usr/bin/chromium
# Tests wait on sandboxes and subprocesses more than on the CPU: two workers halve the wall time.
TEST_WORKERS ?= 2

.PHONY: demo test lint install clean chromium

$(BIN)/lse: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/lse

install: $(BIN)/lse

demo: install
	$(BIN)/lse demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Installs Chromium when it is missing and we are root (CI, containers); otherwise says how.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "error: the browser tests need Chromium at $(CHROMIUM): install it as root with 'apt-get install -y chromium'," >&2; \
	  echo "       or point CHROMIUM=/path/to/chromium at one (make test CHROMIUM=...)" >&2; \
	  exit 1; \
	fi

test: lint chromium
	LSE_TEST_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV)
