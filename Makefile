# `make run` and `make test` are all a fresh machine needs: both create the
# virtualenv in .venv and install the package with its pinned dependencies
# (constraints.txt) the first time, then reuse it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Extra arguments, e.g. make run ARGS='--data-root /data/flowers'
ARGS ?=

.PHONY: install run test benchmark clean

install: $(INSTALLED)

$(INSTALLED): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --ignore-requires-python -c constraints.txt -e '.[test]'
	touch $(INSTALLED)

run: $(INSTALLED)
	PYTHONWARNINGS=ignore::FutureWarning $(BIN)/python -m pipelines.image_pipeline $(ARGS)

test: $(INSTALLED)
	$(BIN)/python -m pytest tests $(ARGS)

benchmark: $(INSTALLED)
	$(BIN)/python -m benchmarks.ingest_benchmark $(ARGS)

clean:
	rm -rf out tfx_output .pytest_cache
