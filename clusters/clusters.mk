# Local Flink and Spark clusters for Beam (see clusters/README.md).
# Included from the main Makefile; the logic is in clusters/cluster.py.
#
#   make flink-up      # last line: the Beam pipeline arguments
#   make flink-down
#   make spark-up
#   make spark-down
#   make clusters-status
#
# CLUSTER_ARGS reaches `up`, e.g. make flink-up CLUSTER_ARGS=--engine-only

CLUSTER_PYTHON ?= python3
CLUSTER_ARGS ?=
CLUSTER := $(CLUSTER_PYTHON) clusters/cluster.py

.PHONY: flink-up flink-down spark-up spark-down clusters-status

# `up` builds the package's wheel with the project venv's pip, so it needs
# the project installed.
flink-up: $(INSTALLED)
	@$(CLUSTER) up flink $(CLUSTER_ARGS)

flink-down:
	@$(CLUSTER) down flink

spark-up: $(INSTALLED)
	@$(CLUSTER) up spark $(CLUSTER_ARGS)

spark-down:
	@$(CLUSTER) down spark

clusters-status:
	@$(CLUSTER) status
