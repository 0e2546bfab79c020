# nnplug — the two entry points are `make demo` and `make test`; both set up what is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
NNPLUG := $(VENV)/bin/nnplug
BUILD_DIR ?= build
CONFIG ?= Release
# One intra-op thread, as in the plugin: on 2 cores shared by pytest, hosts and libtorch, more
# threads oversubscribe (measured 7-12 s per training step instead of 0.3 s) and gain nothing.
export OMP_NUM_THREADS ?= 1

.PHONY: setup demo test test-python build bench clean

setup:
	@bash scripts/setup.sh

build: setup
	@$(NNPLUG) build --config $(CONFIG) --build-dir $(BUILD_DIR)

demo: setup
	@bash scripts/demo.sh

test: setup build
	@$(PY) -m pytest -q
	@cd $(BUILD_DIR) && ctest --output-on-failure -C $(CONFIG)

test-python: setup
	@$(PY) -m pytest -q

bench: setup build
	@$(NNPLUG) bench streaming --markdown docs/bench-streaming.md
	@$(NNPLUG) bench plugin --model python/nnplug/data/default.ts --model rave-v2 --markdown docs/bench-plugin.md
	@$(PY) -m nnplug.bench.readme README.md docs/bench-streaming.md docs/bench-plugin.md

clean:
	rm -rf $(BUILD_DIR)
