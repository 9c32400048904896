# The README's two commands: `make demo` and `make test`. Each installs what it needs:
# Debian packages through scripts/system-deps.sh, Python packages into .venv.
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell sha1sum pyproject.toml | cut -c1-12)
BASE   := $(VENV)/.base-$(HASH)
FULL   := $(VENV)/.full-$(HASH)

.PHONY: demo test test-unit bench lint deps-runtime deps-test

# First, so that python3-venv is there before the venv is made.
deps-runtime:
	@scripts/system-deps.sh runtime

deps-test:
	@scripts/system-deps.sh test

$(BASE): | deps-runtime
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.base-* && touch $@

# The test and lint tools (pytest, SeaweedFS, ruff, mypy) are not needed by the demo.
$(FULL): $(BASE)
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.full-* && touch $@

demo: deps-runtime $(BASE)
	$(BIN)/bdr demo

test: deps-test $(FULL)
	$(BIN)/pytest -q

test-unit: $(FULL)
	$(BIN)/pytest -q tests/unit

bench: deps-runtime $(BASE)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/samples.py
	$(BIN)/python bench/snapshots.py
	$(BIN)/python bench/find.py
	$(BIN)/python bench/detection.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/scale.py  # BDR_BENCH_SCALE=1: the million-file tree, about an hour

lint: $(FULL)
	$(BIN)/ruff format --check bdr tests bench dashboards
	$(BIN)/ruff check bdr tests bench dashboards
	$(BIN)/mypy
	$(BIN)/mypy tests/unit/fake_restic.py  # the typed fake is a gateway
	$(BIN)/lint-imports
