# The README's commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo serve test unit integration e2e lint typecheck bench clean tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/channel demo --database sqlite:///var/demo.db --fresh

serve: $(STAMP)
	$(BIN)/channel serve

lint: $(STAMP)
	$(BIN)/ruff check domain projections services infra tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

# LibreOffice reads the xlsx exports back in the integration tests (CI runs as root).
tools:
	@command -v soffice >/dev/null || { apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui; }

integration: $(STAMP) tools
	$(BIN)/pytest tests/integration -q

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e -q

test: lint typecheck $(STAMP) tools
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.db var/*.db-*
