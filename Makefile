# `make run` and `make test` are all a fresh machine needs: both create the
# virtualenv in .venv and install the package with its pinned dependencies
# (constraints.txt) the first time, then reuse it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Extra arguments, e.g. make run ARGS='--data-root /data/flowers'
ARGS ?=
# `make benchmark` runs both benchmarks; ARGS reaches both (e.g. --images), and
# INGEST_ARGS / CHAIN_ARGS replace it for one of them:
#   make benchmark-ingest ARGS='--scale-check'
#   make benchmark-chain ARGS='--images 600'
#   make benchmark INGEST_ARGS='--scale-check' CHAIN_ARGS='--modes workers2'
INGEST_ARGS ?= $(ARGS)
CHAIN_ARGS ?= $(ARGS)

.PHONY: install run train test test-fast test-engines test-engines-ci fuzz benchmark benchmark-ingest benchmark-chain benchmark-million clean

install: $(INSTALLED)

$(INSTALLED): setup.py pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --ignore-requires-python -c constraints.txt -e '.[test]'
	touch $(INSTALLED)

# The commands quiet the libraries' logs and warnings themselves (--verbose
# keeps them), so these run exactly the README's `.venv/bin/python -m ...`.
run: $(INSTALLED)
	$(BIN)/python -m pipelines.image_pipeline $(ARGS)

train: $(INSTALLED)
	$(BIN)/python -m pipelines.train_pipeline $(ARGS)

# A larger differential fuzz campaign than the test suite's (6,000 mutants).
fuzz: $(INSTALLED)
	cd tests && ../$(BIN)/python differential.py --mutants-per-source 300 $(ARGS)

# Everything but the engine tests (real Flink and Spark clusters, below).
test: $(INSTALLED)
	$(BIN)/python -m pytest tests -m 'not engines' $(ARGS)

# The unit tests, without the end-to-end ones (marker `slow`): under a minute.
test-fast: $(INSTALLED)
	$(BIN)/python -m pytest tests -m 'not slow and not engines' $(ARGS)

benchmark: benchmark-ingest benchmark-chain

benchmark-ingest: $(INSTALLED)
	$(BIN)/python -m benchmarks.ingest_benchmark $(INGEST_ARGS)

benchmark-chain: $(INSTALLED)
	PYTHONWARNINGS=ignore::FutureWarning $(BIN)/python -m benchmarks.chain_benchmark $(CHAIN_ARGS)

clean:
	rm -rf out tfx_output .pytest_cache

# Real Flink and Spark clusters (clusters/): `make flink-up` prints the Beam
# arguments that run a pipeline on it. The engine tests start each cluster
# once per session and stop it at the end.
-include clusters/clusters.mk

test-engines: $(INSTALLED)
	$(BIN)/python -m pytest tests/engines -m engines $(ARGS)

# What CI runs of them (.ci/run): the ingest on Flink and on Spark and the
# sample pipeline on Flink, equal to the DirectRunner's (docs/clusters.md
# gives the times; the Spark sample pipeline alone takes about 11 minutes).
test-engines-ci: $(INSTALLED)
	ENGINE_TESTS_REQUIRED=1 $(BIN)/python -m pytest tests/engines -m engines -k 'not (spark and sample_pipeline)' $(ARGS)

# ImageExampleGen alone and the sample chain on 100,000 and 1,000,000 small
# real-photo JPEGs (bench_data/, generated the first time; hours for the whole
# matrix): MILLION_ARGS='--sizes 20000' is the CI-sized check, '--ways
# component --modes in_process --variants default' one run per size.
MILLION_ARGS ?= $(ARGS)

benchmark-million: $(INSTALLED)
	PYTHONWARNINGS=ignore::FutureWarning $(BIN)/python -m benchmarks.million_benchmark $(MILLION_ARGS)
