# The README's two commands: `make demo` and `make test`. Each installs what it needs.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test test-unit bench lint system-deps system-deps-test

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

system-deps:
	@scripts/system-deps.sh runtime

system-deps-test:
	@scripts/system-deps.sh test

demo: system-deps $(STAMP)
	$(BIN)/bdr demo

test: system-deps-test $(STAMP)
	$(BIN)/pytest -q

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: system-deps $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff format --check bdr tests bench
	$(BIN)/ruff check bdr tests bench
	$(BIN)/mypy
