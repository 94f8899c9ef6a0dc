# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/lse: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/lse

install: $(BIN)/lse

demo: install
	$(BIN)/lse demo

test: install
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV)
