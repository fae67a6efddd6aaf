# Every target sets itself up: a fresh machine needs only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest browser bench bench-smoke golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check snapshot replay cluster_hook tests benchmarks scripts
	$(VENV)/bin/ruff format --check snapshot replay cluster_hook tests benchmarks scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) browser
	$(PY) -m pytest -q -p no:cacheprovider

# tests/browser drives Debian's chromium through playwright; a clean machine
# gets it from apt (sudo when not root). A missing browser fails those tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }

bench: $(STAMP)
	$(PY) -m benchmarks

bench-smoke: $(STAMP)
	$(PY) -m benchmarks --smoke

golden: $(STAMP)
	$(PY) tests/snapshot/generate_golden.py

clean:
	rm -rf $(VENV) build *.egg-info
