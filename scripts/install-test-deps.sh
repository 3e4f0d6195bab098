#!/usr/bin/env bash
# Installs what `make test` needs beyond Swift on a fresh Debian 12 machine:
# Graphviz (the DOT graphs must render), the SQLite and libsystemd headers (the store links
# the system libsqlite3, the daemon libsystemd) and the Python test tools (pytest, PyYAML, jsonschema for the JSON Schema
# tests). Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
[ -f /usr/include/systemd/sd-daemon.h ] || missing+=(libsystemd-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-test-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import pytest, yaml, jsonschema, varlink' >/dev/null 2>&1; then
    echo "install-test-deps: installing Python test packages"
    python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
fi
