# Two commands: `make run` (install, migrate, seed demo data, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/lms db upgrade
	$(BIN)/lms demo seed
	$(BIN)/lms notify run
	@echo "Open http://127.0.0.1:$(PORT)/ and sign in with a demo account above."
	$(BIN)/lms run --port $(PORT)

AXE := .cache/node/node_modules/axe-core/axe.min.js

# axe-core (accessibility rules) for the browser tests, from the npm registry when npm exists.
$(AXE):
	@if command -v npm >/dev/null; then npm install --silent --prefix .cache/node axe-core@4 --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

# The suite runs on SQLite; when LMS_TEST_DATABASE_URL is set it runs again on PostgreSQL.
test: $(VENV)/.installed-test $(AXE)
	$(BIN)/ruff check .
	LMS_TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$LMS_TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ---"; $(BIN)/pytest; \
	elif [ -n "$$CI" ]; then \
		echo "CI must run the suite on PostgreSQL too: LMS_TEST_DATABASE_URL is not set" >&2; exit 1; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .cache
