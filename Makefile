# One command sets everything up and does the job; nothing needs installing by hand but python3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint rehearse sandbox clean bench

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## The main job: start the bot when a token is set, otherwise the rehearsal on the local Bot API server.
run: $(STAMP)
	$(PY) -m bot start

## Set everything up and pass the test suite (PostgreSQL's server installed when missing).
test: $(STAMP)
	./.ci/ensure-postgres
	$(PY) -m pytest -q -n 4 --dist loadgroup --durations=25

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

rehearse: $(STAMP)
	$(PY) -m bot rehearse

sandbox: $(STAMP)
	$(PY) -m bot sandbox

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV)
