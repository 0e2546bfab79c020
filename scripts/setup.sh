#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh machine: system packages for the plugin build
# and a Python virtual environment with the nnplug package and its tools.
# Re-running it is cheap: every step checks first whether it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

# System packages: JUCE (with the VST3 SDK) and its dev libraries, a C++ test framework,
# and the tools the tests use (lilv: the LV2 test host is built on liblilv-dev; lv2ls and lv2info
# from lilv-utils show what a lilv host finds). Only asked of apt when one is missing.
APT_PACKAGES=(juce-modules-source lv2-dev libgtest-dev cmake ninja-build pkg-config g++ xvfb espeak-ng
              liblilv-dev lilv-utils)
# `--daw`: also Ardour 7 (Debian's `ardour`, ~90 MB with its data; ardour7-lua runs it headless),
# for `make test-daw` and `nnplug validate --host ardour`. Only asked for on the machines that
# validate in a DAW (CI does): it is large.
if [ "${1:-}" = "--daw" ]; then
    APT_PACKAGES+=(ardour)
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "[setup] installing system packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python environment. torch is pinned exactly: an unpinned torch would pull a multi-GB CUDA build.
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.nnplug-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ tests/requirements-thirdparty.txt -nt "$stamp" ]; then
    echo "[setup] installing nnplug and its dependencies into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[dev]"
    # the public architectures the tests convert; --no-deps: their pins would pull another torch
    "$VENV/bin/pip" install -q --no-deps -r tests/requirements-thirdparty.txt
    touch "$stamp"
fi
# A second, torch-free environment with pedalboard and numpy only: the install test loads the
# installed plugin from it, so the plugin can find libtorch nowhere but in its own bundle.
# Pinned to the versions in the main environment (pedalboard as pyproject.toml pins it).
HOST_VENV=${HOST_VENV:-.venv-host}
mapfile -t HOST_PINS < <("$VENV/bin/python" -c \
    'import importlib.metadata as m; [print(f"{p}=={m.version(p)}") for p in ("pedalboard", "numpy")]')
host_stamp="$HOST_VENV/.nnplug-installed"
if [ ! -f "$host_stamp" ] || [ "$(cat "$host_stamp")" != "${HOST_PINS[*]}" ]; then
    echo "[setup] creating $HOST_VENV (${HOST_PINS[*]}, no torch)"
    [ -x "$HOST_VENV/bin/python" ] || "$PYTHON" -m venv "$HOST_VENV"
    "$HOST_VENV/bin/pip" install -q "${HOST_PINS[@]}"
    echo "${HOST_PINS[*]}" > "$host_stamp"
fi
echo "[setup] ready: $VENV/bin/nnplug"
