# The two commands: `make up` (install what is missing, start everything, return when
# healthy) and `make test` (bring up what the tests need, run every test suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Python packages of the repo, installed editable into one virtualenv, in dependency order.
PACKAGES := common auth-validator auth-service chat-service aggregator cli
PRESENT := $(foreach p,$(PACKAGES),$(if $(wildcard $(p)/pyproject.toml),$(p)))
STAMP := $(VENV)/.installed

.PHONY: up down status clean test unit lint venv constraints demo bench \
	cqlsh psql kafka-topics kafka-console-consumer

up: $(STAMP)
	@$(PY) -m infra.stack up

down:
	@if [ -x $(PY) ]; then $(PY) -m infra.stack down; else echo "Nothing was running."; fi

status: $(STAMP)
	@$(PY) -m infra.stack status

clean: down
	@rm -rf .state
	@echo "Removed .state (server data, logs, keys)."

venv: $(STAMP)

# Reinstall when constraints or any package's metadata change.
$(STAMP): constraints.txt tests/requirements.txt bench/requirements.txt infra/tools/requirements.txt $(foreach p,$(PRESENT),$(p)/pyproject.toml)
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing Python packages: $(PRESENT)"
	@$(PY) -m pip install -q --upgrade pip -c constraints.txt 2>/dev/null || true
	@$(PY) -m pip install -q -c constraints.txt -r tests/requirements.txt -r bench/requirements.txt \
	  -r infra/tools/requirements.txt \
	  $(foreach p,$(PRESENT),-e ./$(p)[dev])
	@touch $@

lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy $(foreach p,$(PRESENT),$(p)/src) infra/stack infra/rights bench

# Every benchmark on the running system, one report: bench/results/<time>/report.md with
# charts and figures.json. Options (sizes, durations, --quick) in BENCH_ARGS; bench/README.md.
bench: up
	@$(PY) -m bench $(BENCH_ARGS)

# Two people chatting through every service, on the running system.
demo: up
	@$(PY) -m chat_cli.demo

# The stores' own tools on the running stack (docs/stores.md): `make cqlsh`, `make psql`,
# `make kafka-topics ARGS=--list`, `make kafka-console-consumer TOPIC=chat-messages`.
cqlsh psql kafka-topics: $(STAMP)
	@$(PY) -m infra.stack.store_tools $@ $(ARGS)

kafka-console-consumer: $(STAMP)
	@test -n "$(TOPIC)" || { echo "usage: make kafka-console-consumer TOPIC=<topic> [ARGS=...]"; exit 2; }
	@$(PY) -m infra.stack.store_tools $@ --topic $(TOPIC) $(ARGS)

# Every package's tests, then the cross-service tests; all run, any failure fails the target.
test: up lint
	@bash infra/tools/install-chromium.sh
	@bash infra/run-tests.sh $(PRESENT)

# Every package's unit tests: no server needed (none is started), well under a minute.
unit: $(STAMP)
	@bash infra/run-tests.sh --unit $(PRESENT)

# Re-pin every dependency from a fresh virtualenv (after editing a pyproject).
constraints:
	@rm -rf /tmp/chat-constraints-venv && $(PYTHON) -m venv /tmp/chat-constraints-venv
	@/tmp/chat-constraints-venv/bin/pip install -q -r tests/requirements.txt -r bench/requirements.txt -r infra/tools/requirements.txt $(foreach p,$(PRESENT),./$(p)[dev])
	@{ head -n 2 constraints.txt; /tmp/chat-constraints-venv/bin/pip freeze --exclude-editable \
	  | grep -v -E '^(chat-common|auth-validator|auth-service|chat-service|aggregator|chat-cli)[= ]'; } > constraints.new
	@mv constraints.new constraints.txt && echo "constraints.txt updated"
