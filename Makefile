# hookstream — see README.md. `make run` and `make test` are the two commands a newcomer needs.
SHELL := bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: help venv run test lint bench screenshots kafka-start kafka-stop kafka-status clean

help:
	@echo "make run    - start local Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), hookstream and a demo receiver"
	@echo "make test   - run every test (starts Kafka and PostgreSQL itself)"
	@echo "make lint   - ruff, mypy --strict, import-linter"
	@echo "make bench  - throughput and latency against the raw aiohttp ceiling"
	@echo "make screenshots - the web console's pictures in docs/screenshots (the README shows them)"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: venv
	PATH="$(abspath $(BIN)):$$PATH" deploy/local/run.sh

test: venv
	$(PY) -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv
	$(PY) -m bench

# The console's browser tests take the README's pictures as they go.
screenshots: venv
	HOOKSTREAM_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/integration/console

kafka-start:
	deploy/local/kafka.sh start
kafka-stop:
	deploy/local/kafka.sh stop
kafka-status:
	deploy/local/kafka.sh status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
