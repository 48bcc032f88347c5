# Two set-up commands: `make run` (install + serve) and `make test` (install + tests).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint index eval bench reliability local-model clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -c "from retrieval.tokens import install_offline_rank_files as f; f()"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/policybot serve

test: $(STAMP)
	$(BIN)/ruff check bot retrieval evals tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot retrieval evals tests
	$(BIN)/ruff format --check bot retrieval evals tests

index: $(STAMP)
	$(BIN)/policybot index

eval: $(STAMP)
	$(BIN)/policybot eval

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
