# jointops — build, test and benchmark. `make test` is what CI runs.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: all build test test-deps swift-test schema-test bench validate clean

all: build

build:
	$(SWIFT) build

test-deps:
	./scripts/install-test-deps.sh

## Installs what the tests need, builds everything and runs every test.
test: test-deps
	$(SWIFT) build --build-tests
	$(MAKE) swift-test schema-test validate

swift-test:
	$(SWIFT) test --skip-build

schema-test:
	$(PYTHON) -m pytest schema/tests Tests/Python -q

## The shipped workflows must validate cleanly.
validate:
	$(SWIFT) run --skip-build jointopsctl workflow validate --quiet Workflows/

## Engine and validator throughput (release build).
bench:
	$(SWIFT) run -c release jointops-bench engine

clean:
	rm -rf .build
