# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate build, in the manner of wireguard-tools' src/Makefile.
#
#   make            build the three programs
#   make check      unit tests (also under SANITIZE=1) and, as root, integration tests
#   make check-docker  the Docker image, run mode and the compose lab
#   make demo       run the built-in example scenario
#   make fuzz       build and briefly run the libFuzzer harnesses (clang)
#   make bench      run the benchmarks
#   make install    PREFIX=/usr/local DESTDIR=  (programs, profiles, scenarios, man pages, completion)
#   make uninstall  the same variables
#   V=1             show the commands

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKG_CONFIG ?= pkg-config

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -MMD -MP
CFLAGS += -I. -D_GNU_SOURCE -DIDLEGATE_DATADIR='"$(DATADIR)/idlegate"'
CFLAGS += -DIDLEGATE_VERSION='"$(VERSION)"' -DIDLEGATE_COMMIT='"$(COMMIT)"'
# The release (semver): a tag vX.Y.Z gives X.Y.Z, with +N.gHASH after it for
# N commits more; with no tag, the VERSION file's X.Y.Z+gHASH; with no git
# (a tarball, a Debian source package), the VERSION file as it is. COMMIT is
# the short hash, or "unknown" without git. Both can be given: make VERSION=...
VERSION := $(shell scripts/version.sh 2>/dev/null || cat VERSION 2>/dev/null || echo 0.0.0)
COMMIT := $(shell scripts/version.sh --commit 2>/dev/null || echo unknown)

ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD ?= build-san
endif
BUILD ?= build

ifeq ($(V),1)
Q =
else
Q = @
MAKEFLAGS += --no-print-directory
endif

pc = $(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null)
NFQ_CFLAGS = $(call pc,--cflags,libnetfilter_queue libmnl libnftnl libpcap)
NFQ_LIBS = $(call pc,--libs,libnetfilter_queue libmnl libnftnl libpcap)
INIH_LIBS = $(call pc,--libs,inih)
# JSON (common/jsonio.c and its users); the engine neither includes nor links it
JSON_CFLAGS = $(call pc,--cflags,jansson)
JSON_LIBS = $(call pc,--libs,jansson)
CHECK_CFLAGS = $(call pc,--cflags,check)
CHECK_LIBS = $(call pc,--libs,check)

# The layers, each its own archive; dependencies point one way (the
# allowed includes are listed in scripts/check-layers.sh, which `make`
# runs): common <- engine <- simulator; common <- probes; common <- runner,
# and inside runner util <- model <- report <- run <- cmd, tune <- cmd.
# docs/architecture.md has the picture.
COMMON_SRC = $(wildcard common/*.c)
ENGINE_SRC = $(wildcard simulator/engine/*.c)
SIM_SRC = $(filter-out simulator/main.c,$(wildcard simulator/*.c))
PROBE_SRC = $(filter-out probes/main.c,$(wildcard probes/*.c))
RUNNER_LAYERS = cmd run tune report model util
UNIT_SRC = $(wildcard tests/unit/test_*.c)
BENCH_SRC = $(wildcard bench/*.c)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
COMMON_LIB = $(BUILD)/libcommon.a
ENGINE_LIB = $(BUILD)/libengine.a
SIM_LIB = $(BUILD)/libsim.a
PROBE_LIB = $(BUILD)/libprobe.a
RUNNER_LIBS = $(foreach l,$(RUNNER_LAYERS),$(BUILD)/librunner-$(l).a)
ALL_LIBS = $(RUNNER_LIBS) $(SIM_LIB) $(ENGINE_LIB) $(PROBE_LIB) $(COMMON_LIB)
EXT_LIBS = $(NFQ_LIBS) $(INIH_LIBS) $(JSON_LIBS) -lm
PROGS = $(BUILD)/idlegate $(BUILD)/idlegate-sim $(BUILD)/idlegate-probe $(BUILD)/libidlegate-scale.so
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_BINS = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

all: $(PROGS) $(BUILD)/layers.ok
	@true

# Only the code that talks to netfilter gets its flags, only the code that
# reads or writes JSON gets jansson's; the engine is pure.
$(call obj,$(SIM_SRC) simulator/main.c bench/minimal_nfq.c): EXTRA_CFLAGS = $(NFQ_CFLAGS) $(JSON_CFLAGS)
$(call obj,$(COMMON_SRC) $(PROBE_SRC) probes/main.c $(wildcard runner/*.c runner/*/*.c)): EXTRA_CFLAGS = $(JSON_CFLAGS)
$(call obj,$(UNIT_SRC)): EXTRA_CFLAGS = $(CHECK_CFLAGS) $(JSON_CFLAGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

# A test binary's object is not an intermediate to delete after linking
.SECONDARY:

define archive
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  AR      $$@";)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(eval $(call archive,$(COMMON_LIB),$(COMMON_SRC)))
$(eval $(call archive,$(ENGINE_LIB),$(ENGINE_SRC)))
$(eval $(call archive,$(SIM_LIB),$(SIM_SRC)))
$(eval $(call archive,$(PROBE_LIB),$(PROBE_SRC)))
$(foreach l,$(RUNNER_LAYERS),$(eval $(call archive,$(BUILD)/librunner-$(l).a,$(wildcard runner/$(l)/*.c))))

$(BUILD)/idlegate-sim: $(BUILD)/simulator/main.o $(SIM_LIB) $(ENGINE_LIB) $(COMMON_LIB)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(EXT_LIBS)

$(BUILD)/idlegate-probe: $(BUILD)/probes/main.o $(PROBE_LIB) $(COMMON_LIB)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(EXT_LIBS)

$(BUILD)/idlegate: $(BUILD)/runner/main.o $(RUNNER_LIBS) $(COMMON_LIB)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(EXT_LIBS)

# LD_PRELOADed into a command flow with scale_program = yes (preload/scale.c)
$(BUILD)/libidlegate-scale.so: preload/scale.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -fPIC -shared -o $@ $< -ldl

# Fails the build when an include points up a layer (see the list above).
$(BUILD)/layers.ok: scripts/check-layers.sh $(shell find common simulator probes runner -name '*.[ch]')
	$(Q)scripts/check-layers.sh
	@mkdir -p $(dir $@) && touch $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(EXT_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(EXT_LIBS)

unit: $(UNIT_BINS)
	$(Q)scripts/run-unit.sh $(UNIT_BINS)

# The README's test command: dependencies, unit tests plain and sanitized,
# a short fuzz run, then the root-only integration tests.
check: deps
	$(Q)$(MAKE) all unit
	$(Q)$(MAKE) SANITIZE=1 unit
	$(Q)$(MAKE) fuzz FUZZ_SECONDS=$(or $(CHECK_FUZZ_SECONDS),15)
	$(Q)$(MAKE) all
	$(Q)scripts/run-integration.sh
	$(Q)$(MAKE) check-docker

# The image, a scenario in run mode and a probe exchange through the compose
# lab (docs/docker.md); skips, with a message, where no Docker engine runs.
check-docker:
	$(Q)tests/docker/check-docker.sh

deps:
	$(Q)scripts/deps.sh

demo: deps
	$(Q)$(MAKE) all
	$(Q)./build/idlegate run scenarios/examples/quickstart.ini

FUZZ_SECONDS ?= 60
FUZZ_BINS = $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
# Each harness links the pure library plus the sources its "// FUZZ-SOURCES:"
# line names (a name that does not exist fails the build).
fuzz_sources = $(shell sed -n 's|^// FUZZ-SOURCES: ||p' tests/fuzz/$(1).c)
.SECONDEXPANSION:
build-fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(ENGINE_SRC) $$(call fuzz_sources,$$*)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@";)
	$(Q)clang -std=gnu11 -g -O1 -I. -D_GNU_SOURCE -DIDLEGATE_DATADIR='"$(DATADIR)/idlegate"' -DIDLEGATE_VERSION='"fuzz"' \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ $< $(COMMON_SRC) $(ENGINE_SRC) $(call fuzz_sources,$*) $(JSON_CFLAGS) $(INIH_LIBS) $(JSON_LIBS) -lm
# Each harness for FUZZ_SECONDS, FUZZ_JOBS at a time (one per core).
FUZZ_JOBS ?= 2
fuzz: $(FUZZ_BINS)
	$(Q)printf '%s\n' $(FUZZ_BINS) | xargs -P $(FUZZ_JOBS) -I{} sh -c '\
		n=$$(basename {}); mkdir -p build-fuzz/corpus-$$n; \
		echo "  RUN     $$n ($(FUZZ_SECONDS)s)"; \
		{} -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build-fuzz/corpus-$$n tests/fuzz/seeds-$$n 2>build-fuzz/$$n.log \
			|| { tail -n 40 build-fuzz/$$n.log; echo "  FAIL    $$n"; exit 255; }'

bench: $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do $$b || exit 1; done
	$(Q)if [ -x bench/datapath.sh ]; then bench/datapath.sh; fi

# Installs what `make` built (it does not rebuild with other flags: the
# programs find their data relative to themselves, whatever PREFIX they were
# built with). Scenarios (the suite in scenarios/, and its folders other
# than profiles) go to DATADIR/idlegate/scenarios/, profiles to
# DATADIR/idlegate/profiles/.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SCENARIO_DIRS = scenarios $(filter-out scenarios/profiles,$(patsubst %/,%,$(wildcard scenarios/*/)))
MAN_PAGES = $(wildcard docs/man/*.[1-8])
COMPLETIONS = $(wildcard completion/*.bash)
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/idlegate/profiles
	install -m 0755 $(BUILD)/idlegate $(BUILD)/idlegate-probe $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/idlegate-sim $(DESTDIR)$(SBINDIR)/
	install -d $(DESTDIR)$(PREFIX)/lib/idlegate
	install -m 0644 $(BUILD)/libidlegate-scale.so $(DESTDIR)$(PREFIX)/lib/idlegate/
	install -m 0644 scenarios/profiles/*.ini $(DESTDIR)$(DATADIR)/idlegate/profiles/
	$(Q)for d in $(SCENARIO_DIRS); do \
		set -- $$d/*.ini; [ -e "$$1" ] || continue; \
		echo "install -m 0644 $$d/*.ini $(DESTDIR)$(DATADIR)/idlegate/$$d/"; \
		install -d $(DESTDIR)$(DATADIR)/idlegate/$$d && \
		install -m 0644 "$$@" $(DESTDIR)$(DATADIR)/idlegate/$$d/ || exit 1; \
		set -- $$d/*.sh; [ -e "$$1" ] || continue; \
		install -m 0755 "$$@" $(DESTDIR)$(DATADIR)/idlegate/$$d/ || exit 1; \
	done
	$(Q)for m in $(MAN_PAGES); do \
		s=$${m##*.}; echo "install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/"; \
		install -d $(DESTDIR)$(MANDIR)/man$$s && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done
	$(Q)for c in $(COMPLETIONS); do \
		n=$$(basename $$c .bash); echo "install -m 0644 $$c $(DESTDIR)$(BASHCOMPDIR)/$$n"; \
		install -d $(DESTDIR)$(BASHCOMPDIR) && install -m 0644 $$c $(DESTDIR)$(BASHCOMPDIR)/$$n || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/idlegate $(DESTDIR)$(BINDIR)/idlegate-probe $(DESTDIR)$(SBINDIR)/idlegate-sim
	rm -rf $(DESTDIR)$(DATADIR)/idlegate $(DESTDIR)$(PREFIX)/lib/idlegate
	$(if $(MAN_PAGES),rm -f $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))))
	$(if $(COMPLETIONS),rm -f $(foreach c,$(COMPLETIONS),$(DESTDIR)$(BASHCOMPDIR)/$(basename $(notdir $(c)))))

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check unit deps demo fuzz bench install uninstall clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The Debian package (debian/): `make deb` installs the packaging tools
# (scripts/deps.sh packaging), builds with `dpkg-buildpackage -us -uc -b` in
# a copy of the tree under build/deb/src (its outputs land next to the
# source, so in build/deb/, not in the parent of this tree), then runs
# lintian, which fails the target on errors (LINTIAN=0 skips it). The plain
# unit tests run inside the package build only with DEB_CHECK=1: `make check`
# runs them, and more, anyway. Result: build/deb/idlegate_VERSION_ARCH.deb.
DEB_DIR = build/deb
DEB_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
LINTIAN ?= 1
deb:
	$(Q)sh scripts/deps.sh packaging
	$(Q)v=$$(dpkg-parsechangelog -S Version); up=$${v%-*}; \
	if [ "$$up" != "$$(cat VERSION)" ]; then \
		echo "deb: debian/changelog is at $$v but VERSION says $$(cat VERSION): add a changelog entry (dch -v $$(cat VERSION)-1)" >&2; exit 1; \
	fi
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -e .git ]; then \
		git ls-files -z --cached --others --exclude-standard | \
			xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' _ | \
			tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/src; \
	else \
		tar --exclude=./build --exclude=./build-san --exclude=./build-fuzz -cf - . | tar -xf - -C $(DEB_DIR)/src; \
	fi
	$(Q)cd $(DEB_DIR)/src && IDLEGATE_COMMIT=$(COMMIT) \
		DEB_BUILD_OPTIONS="$(if $(DEB_CHECK),,nocheck) $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -us -uc -b -j$(DEB_JOBS) >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; echo "deb: dpkg-buildpackage failed, log in $(DEB_DIR)/build.log" >&2; exit 1; }
	$(Q)rm -rf $(DEB_DIR)/src
	$(Q)ls $(DEB_DIR)/*.deb
	$(Q)if [ "$(LINTIAN)" = 1 ]; then \
		echo "  LINTIAN $$(ls $(DEB_DIR)/idlegate_*.deb)"; \
		lintian --fail-on error --display-info $(DEB_DIR)/idlegate_*.deb; \
	fi

.PHONY: deb

# The programs print VERSION and COMMIT: their main.o are rebuilt when either
# changes (a stamp rewritten, when different, as the Makefile is read; no
# FORCE, so `make -q` stays exact).
VERSION_STAMP = $(BUILD)/version.stamp
_version_stamp := $(shell mkdir -p $(BUILD) && echo '$(VERSION) $(COMMIT)' | cmp -s - $(VERSION_STAMP) 2>/dev/null || echo '$(VERSION) $(COMMIT)' >$(VERSION_STAMP))
$(call obj,runner/main.c simulator/main.c probes/main.c): $(VERSION_STAMP)
