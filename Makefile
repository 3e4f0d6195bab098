# jointops — build, test and benchmark. `make test` is what CI runs.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: all build build-release man run install uninstall systemd-test test test-deps swift-test schema-test bench validate interfaces clean

## Where `make run` keeps the daemon's state and socket.
JOINTOPS_HOME ?= .jointops

all: build

build:
	$(SWIFT) build

test-deps:
	./scripts/install-test-deps.sh

## Installs what is missing, builds, and runs jointopsd in the foreground with its SQLite
## state in $(JOINTOPS_HOME)/state/, the control socket in $(JOINTOPS_HOME)/ and Workflows/ loaded. Ctrl-C stops it.
run: test-deps
	$(SWIFT) build --product jointopsd
	$(SWIFT) build --product jointopsctl
	mkdir -p $(JOINTOPS_HOME)
	@echo "jointopsd: state in $(JOINTOPS_HOME)/state/, socket $(JOINTOPS_HOME)/control.sock; in another terminal:"
	@echo "  export PATH=$$PWD/.build/debug:\$$PATH JOINTOPS_SOCKET=$$PWD/$(JOINTOPS_HOME)/control.sock"
	exec .build/debug/jointopsd --config /dev/null --state-directory $(JOINTOPS_HOME)/state \
		--socket $(JOINTOPS_HOME)/control.sock --workflows Workflows --regions Regions/tianjin.yaml --units Regions/units.yaml

## Installation: `make build-release` as yourself, then `sudo make install` (PREFIX, DESTDIR,
## and BUILD=release|debug for which binaries).
PREFIX ?= /usr/local
BUILD ?= release
BINDIR = $(PREFIX)/bin
DOCDIR = $(PREFIX)/share/doc/jointops
UNITDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
CATALOGDIR = $(PREFIX)/lib/systemd/catalog
MANDIR = $(PREFIX)/share/man
CONFDIR ?= /etc/jointops
BINARIES = .build/$(BUILD)/jointopsd .build/$(BUILD)/jointopsctl
## Their manual pages, made from their own --help texts (ArgumentParser's generate-manual
## plugin), so a page cannot say other than the binary it comes with.
MANPAGES = .build/$(BUILD)/man/jointopsd.1 .build/$(BUILD)/man/jointopsctl.1
## Non-empty when a configuration is in place already: `make install` is then an upgrade.
UPGRADE := $(wildcard $(DESTDIR)$(CONFDIR)/jointopsd.yaml)

## The binaries `make install` installs. Built as yourself: `sudo` drops Swift from PATH
## (Debian's secure_path), and a build as root would leave root's files in .build.
build-release: $(BINARIES) $(MANPAGES)

## The manual pages alone (`man -l .build/debug/man/jointopsctl.1` reads one uninstalled).
man: $(MANPAGES)

$(BINARIES): .build/$(BUILD)/%: $(shell find Sources -name '*.swift' -o -name '*.[ch]' -o -name '*.modulemap') Package.swift $(wildcard Package.resolved)
	@if [ -n "$$SUDO_USER" ]; then \
		echo "$@ is missing or older than the sources: build it as $$SUDO_USER first (make build-release$(if $(filter-out release,$(BUILD)), BUILD=$(BUILD))), then sudo make install again" >&2; \
		exit 1; \
	fi
	$(SWIFT) build -c $(BUILD) --product $*
	touch $@

## Both pages from one run of the plugin (a grouped target), dated by the last commit, so
## the same sources give the same pages.
$(MANPAGES) &: $(BINARIES)
	@if [ -n "$$SUDO_USER" ]; then \
		echo "$(MANPAGES) are missing or older than the binaries: make them as $$SUDO_USER first (make build-release$(if $(filter-out release,$(BUILD)), BUILD=$(BUILD))), then sudo make install again" >&2; \
		exit 1; \
	fi
	$(SWIFT) package generate-manual --configuration $(BUILD) --date $$(git log -1 --format=%cs 2>/dev/null || date +%F)
	for page in jointopsd jointopsctl; do \
		install -D -m 0644 .build/plugins/GenerateManual/outputs/$$page/$$page.1 .build/$(BUILD)/man/$$page.1; \
	done

## Installs the binaries built for $(BUILD); builds them first only when they are missing or
## older than the sources, and not under sudo (see above).
install: $(BINARIES) $(MANPAGES)
	install -D -m 0755 .build/$(BUILD)/jointopsd $(DESTDIR)$(BINDIR)/jointopsd
	install -D -m 0755 .build/$(BUILD)/jointopsctl $(DESTDIR)$(BINDIR)/jointopsctl
	install -D -m 0644 -t $(DESTDIR)$(MANDIR)/man1 $(MANPAGES)
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(CATALOGDIR) $(DESTDIR)$(DOCDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/jointopsd.service.in > $(DESTDIR)$(UNITDIR)/jointopsd.service
	sed -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/jointopsd.socket > $(DESTDIR)$(UNITDIR)/jointopsd.socket
	install -m 0644 systemd/jointops.sysusers $(DESTDIR)$(SYSUSERSDIR)/jointops.conf
	sed -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/jointops.catalog > $(DESTDIR)$(CATALOGDIR)/jointops.catalog
	# The documents keep the repository's layout, so that their links hold where installed.
	install -d $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/systemd $(DESTDIR)$(DOCDIR)/examples/workflows
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 systemd/metrics.conf.example systemd/jointopsd.yaml $(DESTDIR)$(DOCDIR)/systemd/
	install -m 0644 Regions/tianjin.yaml Regions/units.yaml $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 Workflows/*.yaml $(DESTDIR)$(DOCDIR)/examples/workflows/
	# A first installation gets the configuration, the workflows and the sample jurisdiction and
	# roster in place; an upgrade changes none of /etc/jointops (a jurisdiction appearing would
	# start refusing regions; a workflow an operator removed would come back).
	@if test -n "$(UPGRADE)"; then \
		echo "upgrade: $(CONFDIR) kept as it is; samples in $(DOCDIR)/examples; see README, Upgrading"; \
	else \
		install -d $(DESTDIR)$(CONFDIR)/workflows; \
		install -m 0644 systemd/jointopsd.yaml $(DESTDIR)$(CONFDIR)/jointopsd.yaml; \
		for file in Workflows/*.yaml; do \
			test -e $(DESTDIR)$(CONFDIR)/workflows/$$(basename $$file) || install -m 0644 $$file $(DESTDIR)$(CONFDIR)/workflows/; \
		done; \
		test -e $(DESTDIR)$(CONFDIR)/regions.yaml || install -m 0644 Regions/tianjin.yaml $(DESTDIR)$(CONFDIR)/regions.yaml; \
		test -e $(DESTDIR)$(CONFDIR)/units.yaml || install -m 0644 Regions/units.yaml $(DESTDIR)$(CONFDIR)/units.yaml; \
	fi
	if [ -z "$(DESTDIR)" ]; then systemd-sysusers $(SYSUSERSDIR)/jointops.conf && systemctl daemon-reload && journalctl --update-catalog; fi
	@echo "$(if $(UPGRADE),installed; restart it to run the new binary: systemctl restart jointopsd (not enabled yet? systemctl enable --now jointopsd),installed; start it now and at every boot with: systemctl enable --now jointopsd)"

## Removes what `make install` put in place; keeps the state and the configuration.
uninstall:
	-if [ -z "$(DESTDIR)" ]; then systemctl disable --now jointopsd.socket jointopsd.service; fi
	rm -f $(DESTDIR)$(BINDIR)/jointopsd $(DESTDIR)$(BINDIR)/jointopsctl
	rm -f $(DESTDIR)$(MANDIR)/man1/jointopsd.1 $(DESTDIR)$(MANDIR)/man1/jointopsctl.1
	rm -f $(DESTDIR)$(UNITDIR)/jointopsd.service $(DESTDIR)$(UNITDIR)/jointopsd.socket
	rm -f $(DESTDIR)$(SYSUSERSDIR)/jointops.conf $(DESTDIR)$(CATALOGDIR)/jointops.catalog
	rm -rf $(DESTDIR)$(DOCDIR)
	if [ -z "$(DESTDIR)" ]; then systemctl daemon-reload && journalctl --update-catalog; fi
	@echo "removed; state in /var/lib/jointops, configuration in $(CONFDIR), and the jointops user and groups are kept"

## jointopsd under a real, throwaway systemd (root only; see Tests/systemd/systemd-test.sh).
systemd-test:
	Tests/systemd/systemd-test.sh

## Re-embeds the .varlink interface definitions after an edit.
interfaces:
	$(PYTHON) scripts/generate-interfaces.py

## Installs what the tests need, builds everything and runs every test.
test: test-deps
	$(SWIFT) build --build-tests
	$(MAKE) man BUILD=debug
	$(MAKE) swift-test schema-test validate systemd-test

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
