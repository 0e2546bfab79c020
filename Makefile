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

.PHONY: setup setup-daw demo test test-python test-daw build bench clean

setup:
	@bash scripts/setup.sh

build: setup
	@$(NNPLUG) build --config $(CONFIG) --build-dir $(BUILD_DIR)

demo: setup
	@bash scripts/demo.sh

test: setup build
	@$(VENV)/bin/ruff check python tests
	@$(PY) -m pytest -q -m "not daw"
	@cd $(BUILD_DIR) && ctest --output-on-failure -C $(CONFIG)
	@$(MAKE) --no-print-directory test-asan

# The engine tests under sanitizers, each in its own build dir (libtorch is not instrumented:
# tests/cpp/sanitizers/*.supp). make test runs ASan+UBSan; make sanitize adds ThreadSanitizer.
SAN_CMAKE = cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNNPLUG_BUILD_BENCH=OFF -DNNPLUG_PYTHON=$(abspath $(PY))
test-asan: setup
	@[ -f build-asan/CMakeCache.txt ] || $(SAN_CMAKE) -B build-asan -DNNPLUG_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan --target nnplug_engine_tests
	@cd build-asan && ctest --output-on-failure -j2

test-tsan: setup
	@[ -f build-tsan/CMakeCache.txt ] || $(SAN_CMAKE) -B build-tsan -DNNPLUG_SANITIZE=thread >/dev/null
	@cmake --build build-tsan --target nnplug_engine_tests
	@cd build-tsan && ctest --output-on-failure -j2

sanitize: test-asan test-tsan

# One hour of audio through one pedalboard instance (CI runs 2 minutes in test_robustness.py)
soak: setup build
	@$(NNPLUG) soak --minutes $(or $(MINUTES),60)

# The pure-Python tests, without building the plugin (make test runs them all)
test-python: setup
	@$(VENV)/bin/ruff check python tests
	@$(PY) -m pytest -q -m "not needs_plugin and not daw"

# The plugin in a real DAW: headless Ardour 7 sessions (tests marked `daw`, tests/python/test_ardour.py).
# setup-daw installs Ardour (apt) on top of what `make setup` installs.
setup-daw:
	@bash scripts/setup.sh --daw

test-daw: setup-daw build
	@$(PY) -m pytest -q -m daw

bench: setup build
	@$(NNPLUG) bench streaming --markdown docs/bench-streaming.md
	@PYTHONPATH=tests/python/support $(NNPLUG) bench streaming --models thirdparty:rave_autoencoder_bench --buffer-sizes 512,2048,8192 \
		--seconds 3 --rounds 3 --markdown docs/bench-streaming-thirdparty.md
	@$(NNPLUG) bench plugin --model python/nnplug/data/default.ts --model rave-v2 --markdown docs/bench-plugin.md
	@$(NNPLUG) bench plugin --model rave-v2 --model rave-v2-fp16 --model rave-v2-int8 --buffer-sizes 2048,4096,8192,16384 \
		--block-sizes 512 \
		--modes sync --runners libtorch-cpp,libtorch-python,pedalboard --channels 1 --no-memory \
		--seconds 6 --rounds 3 --markdown docs/bench-plugin-buffers.md
	@$(NNPLUG) bench ops --model python/nnplug/data/default.ts --model rave-v2 --model rave-v2-fp16 --model rave-v2-int8 \
		--buffer-sizes 2048 --rounds 5 --markdown docs/bench-ops.md
	@$(NNPLUG) bench readme docs/performance.md docs/bench-plugin.md docs/bench-plugin-buffers.md docs/bench-ops.md \
		docs/bench-streaming.md docs/bench-streaming-thirdparty.md

clean:
	rm -rf $(BUILD_DIR)
