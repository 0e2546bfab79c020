# nnplug — the two entry points are `make demo` and `make test`; both set up what is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
NNPLUG := $(VENV)/bin/nnplug
BUILD_DIR ?= build
CONFIG ?= Release

.PHONY: setup demo test test-python test-cpp build bench clean

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

bench: setup
	@$(NNPLUG) bench streaming --markdown docs/bench-streaming.md

clean:
	rm -rf $(BUILD_DIR)
