# jointops — build, test and benchmark. `make test` is what CI runs.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: all build run test test-deps swift-test schema-test bench validate interfaces clean

## Where `make run` keeps the daemon's state and socket.
JOINTOPS_HOME ?= .jointops

all: build

build:
	$(SWIFT) build

test-deps:
	./scripts/install-test-deps.sh

## Installs what is missing, builds, and runs jointopsd in the foreground with its SQLite
## state in $(JOINTOPS_HOME)/, the control socket beside it and Workflows/ loaded. Ctrl-C stops it.
run: test-deps
	$(SWIFT) build --product jointopsd
	$(SWIFT) build --product jointopsctl
	mkdir -p $(JOINTOPS_HOME)
	@echo "jointopsd: state in $(JOINTOPS_HOME)/, socket $(JOINTOPS_HOME)/control.sock; in another terminal:"
	@echo "  export PATH=$$PWD/.build/debug:\$$PATH JOINTOPS_SOCKET=$$PWD/$(JOINTOPS_HOME)/control.sock"
	exec .build/debug/jointopsd --config /dev/null --state-directory $(JOINTOPS_HOME)/state \
		--socket $(JOINTOPS_HOME)/control.sock --workflows Workflows

## Re-embeds the .varlink interface definitions after an edit.
interfaces:
	$(PYTHON) scripts/generate-interfaces.py

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
