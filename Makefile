# SPDX-License-Identifier: GPL-2.0-or-later
#
# make              build librosnap and rosnap into $(BUILD)
# make check        install test dependencies, build, run the test suite
# make demo         show rosnap at work (in the test VM unless this kernel
#                   has device-mapper and you are root)
# make udev-all     every integration test that runs under systemd-udevd
# make lint         cppcheck and clang-tidy on lib/ and cmd/
# make fuzz         run the libFuzzer targets (FUZZ_TIME seconds each)
# make bench        measure rosnap against the raw disk, overlayfs on tmpfs,
#                   and a loop-on-tmpfs snapshot (in the test VM), and as a
#                   booted system against overlayroot and bilibop-lockfs
# make deb          build the Debian packages (dpkg-buildpackage, lintian)
# make install      install under $(DESTDIR)$(PREFIX), plus the udev and
#                   initramfs files where those tools look for them
#
# Variables: PREFIX (/usr/local), DESTDIR, BUILD (build), WERROR=1,
# SANITIZE=address,undefined (a separate build directory is advisable),
# FAULT_INJECTION=1 (test builds only).

VERSION := 0.1.0
SOVERSION := 1

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
# udev, initramfs-tools and dracut read these paths and no others: they
# do not follow PREFIX.
UDEVRULESDIR ?= /usr/lib/udev/rules.d
INITRAMFSTOOLSDIR ?= /usr/share/initramfs-tools
DRACUTMODDIR ?= /usr/lib/dracut/modules.d/90rosnap
SYSTEMDUNITDIR ?= /usr/lib/systemd/system
# Where bash-completion looks, under PREFIX (it reads /usr/local's too).
BASHCOMPDIR ?= $(or $(shell $(PKG_CONFIG) --define-variable=prefix=$(PREFIX) \
	--variable=completionsdir bash-completion 2>/dev/null), \
	$(PREFIX)/share/bash-completion/completions)

BUILD ?= build
# A build directory remembers how it was configured, so that a later
# "make install BUILD=build-san" installs that build instead of
# rebuilding it with other flags.
-include $(BUILD)/config.mk
SANITIZE ?=
WERROR ?=
# Test builds only: lets ROSNAP_TEST_FAIL_AT make librosnap fail on purpose.
FAULT_INJECTION ?=
$(shell mkdir -p $(BUILD) && printf 'SANITIZE ?= %s\nWERROR ?= %s\nFAULT_INJECTION ?= %s\n' \
	'$(SANITIZE)' '$(WERROR)' '$(FAULT_INJECTION)' >$(BUILD)/config.mk)

CC ?= cc
PKG_CONFIG ?= pkg-config
LIB_PKGS := devmapper blkid mount libudev libkmod zlib libcryptsetup
CMD_PKGS := smartcols
TEST_PKGS := cmocka

# Evaluated once, when first used: "make check" installs pkg-config files
# before a sub-make needs them.
lazy = $(eval $(1) := $$(shell $(2)))$($(1))
LIB_PKG_CFLAGS = $(call lazy,LIB_PKG_CFLAGS,$(PKG_CONFIG) --cflags $(LIB_PKGS))
LIB_PKG_LIBS = $(call lazy,LIB_PKG_LIBS,$(PKG_CONFIG) --libs $(LIB_PKGS))
CMD_PKG_CFLAGS = $(call lazy,CMD_PKG_CFLAGS,$(PKG_CONFIG) --cflags $(CMD_PKGS))
CMD_PKG_LIBS = $(call lazy,CMD_PKG_LIBS,$(PKG_CONFIG) --libs $(CMD_PKGS))
TEST_PKG_LIBS = $(call lazy,TEST_PKG_LIBS,$(PKG_CONFIG) --libs $(TEST_PKGS))

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wformat=2 -Wundef -Wpointer-arith -Wcast-align \
	-Wno-format-nonliteral
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

ifeq ($(SANITIZE),)
OPTFLAGS ?= -O2 -g
HARDEN := -D_FORTIFY_SOURCE=2
else
# FORTIFY's checked functions hide accesses from AddressSanitizer.
OPTFLAGS ?= -O1 -g
HARDEN := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
endif
HARDEN += -fstack-protector-strong -fstack-clash-protection -fcf-protection

CPPFLAGS ?=
CFLAGS ?=
LDFLAGS ?=
BASE_CFLAGS = -std=gnu11 $(OPTFLAGS) $(WARNINGS) $(HARDEN) -D_GNU_SOURCE \
	-DVERSION=\"$(VERSION)\" -Ilib -MMD -MP $(CPPFLAGS) $(CFLAGS)
ifeq ($(FAULT_INJECTION),1)
BASE_CFLAGS += -DROSNAP_FAULT_INJECTION
endif
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now -Wl,--as-needed
ifneq ($(SANITIZE),)
HARDEN_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Rebuild everything when the flags change (e.g. FAULT_INJECTION=1).
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(BASE_CFLAGS) $(HARDEN_LDFLAGS)' | \
	cmp -s - $(FLAGS_STAMP) || echo '$(BASE_CFLAGS) $(HARDEN_LDFLAGS)' >$(FLAGS_STAMP))

LIB_SRCS := $(sort $(wildcard lib/*.c))
CMD_SRCS := $(sort $(wildcard cmd/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Programs the integration tests run in the guest.
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

SONAME := librosnap.so.$(SOVERSION)
LIBSO := $(BUILD)/librosnap.so.$(VERSION)

.PHONY: all programs check demo bench lint fuzz fuzz-targets install uninstall \
	clean unit deps signals crash udev-all deb
all: programs $(BUILD)/librosnap.a $(UNIT_BINS) $(TOOL_BINS)
# What is installed: no test needs building for it.
programs: $(LIBSO) $(BUILD)/$(SONAME) $(BUILD)/librosnap.so $(BUILD)/rosnap \
	$(BUILD)/install/rosnap

$(BUILD)/lib/%.o: lib/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fPIC -fvisibility=hidden $(LIB_PKG_CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fPIE $(CMD_PKG_CFLAGS) -c -o $@ $<

$(LIBSO): $(LIB_OBJS) lib/librosnap.sym
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/librosnap.sym \
		$(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIB_PKG_LIBS)

$(BUILD)/$(SONAME) $(BUILD)/librosnap.so: $(LIBSO)
	ln -sf $(notdir $(LIBSO)) $@

# Internal archive: the unit tests reach functions the .so does not export.
$(BUILD)/librosnap.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# In the build tree rosnap finds the librosnap beside it ($$ORIGIN); the
# one installed is linked again without, and finds the system's.
$(BUILD)/rosnap: $(CMD_OBJS) $(BUILD)/$(SONAME) $(BUILD)/librosnap.so
	$(CC) -pie $(HARDEN_LDFLAGS) $(LDFLAGS) -Wl,-rpath,'$$ORIGIN' -o $@ \
		$(CMD_OBJS) -L$(BUILD) -lrosnap $(CMD_PKG_LIBS)

$(BUILD)/install/rosnap: $(CMD_OBJS) $(BUILD)/$(SONAME) $(BUILD)/librosnap.so
	@mkdir -p $(@D)
	$(CC) -pie $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJS) -L$(BUILD) \
		-lrosnap $(CMD_PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librosnap.a $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fPIE -pie $(LIB_PKG_CFLAGS) $(HARDEN_LDFLAGS) \
		-o $@ $< $(BUILD)/librosnap.a $(LIB_PKG_LIBS) $(TEST_PKG_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fPIE -pie $(HARDEN_LDFLAGS) -o $@ $<

# libFuzzer targets, in a clang build: see "make fuzz".
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz-targets: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/librosnap.a $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fsanitize=fuzzer $(LIB_PKG_CFLAGS) $(HARDEN_LDFLAGS) \
		-o $@ $< $(BUILD)/librosnap.a $(LIB_PKG_LIBS)

unit: all
	tests/unit/run $(BUILD)

deps:
	tests/deps.sh

check: deps
	$(MAKE) all WERROR=1
	$(MAKE) all WERROR=1 BUILD=build-san SANITIZE=address,undefined FAULT_INJECTION=1
	tests/check.sh

# Exhaustive runs that make check samples: every signal at every step of
# every table change (make check sends one signal per step, in turn).
signals: deps
	$(MAKE) all WERROR=1 BUILD=build-san SANITIZE=address,undefined FAULT_INJECTION=1
	tests/vm/run --build build-san --san --exhaustive transition-signals

# Every crash state of a journaled merge (make check replays a sample).
crash: deps
	$(MAKE) all WERROR=1 BUILD=build-san SANITIZE=address,undefined FAULT_INJECTION=1
	tests/vm/run --build build-san --san --exhaustive --show crash-replay

# Every test that can run under systemd-udevd (make check runs those
# marked "udev", the ones where udev's own work can interfere).
udev-all: deps
	$(MAKE) all WERROR=1
	tests/vm/run --build build --udev --all

demo: deps
	$(MAKE) all
	tests/demo.sh

# Static analysis of lib/ and cmd/: both must be silent (.clang-tidy).
lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--enable=warning,style,portability,performance \
		--suppress=variableScope --suppress=missingIncludeSystem \
		-D_GNU_SOURCE -Ilib -Icmd lib cmd
	clang-tidy --quiet $(LIB_SRCS) $(CMD_SRCS) -- -std=gnu11 -D_GNU_SOURCE \
		-DVERSION=\"$(VERSION)\" -Ilib -Icmd $(LIB_PKG_CFLAGS) $(CMD_PKG_CFLAGS)

# Every fuzz target for FUZZ_TIME seconds (default 60), from the seed
# corpus in tests/fuzz/corpus; findings are kept in build-fuzz/fuzz.
FUZZ_TIME ?= 60
fuzz:
	tests/deps.sh fuzz
	$(MAKE) fuzz-targets BUILD=build-fuzz CC=clang \
		SANITIZE=address,undefined,fuzzer-no-link
	tests/fuzz/run build-fuzz $(FUZZ_TIME)

bench:
	tests/deps.sh bench
	$(MAKE) all
	tests/bench/run

# The Debian packages (debian/): dpkg-buildpackage on a copy of the
# source in $(BUILD)/deb, where the .deb files are left, then lintian,
# which must find nothing to warn of.
DEB_SRC := Makefile README.md cmd debian initramfs lib man tests udev
deb:
	tests/deps.sh deb
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); [ "$$v" = $(VERSION) ] || \
		{ echo "debian/changelog is at $$v, the Makefile at $(VERSION): add an entry (dch -v $(VERSION))" >&2; exit 1; }
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/rosnap-$(VERSION)
	cp -a $(DEB_SRC) $(BUILD)/deb/rosnap-$(VERSION)/
	cd $(BUILD)/deb/rosnap-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --pedantic $(BUILD)/deb/rosnap_$(VERSION)_*.changes

# Scripts for the system's tools name our installed paths.
define install_script
	@mkdir -p $(dir $(DESTDIR)$(2))
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@UDEVRULESDIR@|$(UDEVRULESDIR)|g' \
		$(1) >$(DESTDIR)$(2)
	chmod 0755 $(DESTDIR)$(2)
endef

UDEV_RULES = udev/12-rosnap-layers.rules udev/56-rosnap.rules
MAN8 := man/rosnap.8
MAN3 := man/librosnap.3
MAN7 := man/rosnap-boot.7

install: programs
	install -D -m 0755 $(BUILD)/install/rosnap $(DESTDIR)$(SBINDIR)/rosnap
	install -D -m 0755 $(LIBSO) $(DESTDIR)$(LIBDIR)/$(notdir $(LIBSO))
	ln -sf $(notdir $(LIBSO)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librosnap.so
	install -D -m 0644 lib/librosnap.h $(DESTDIR)$(INCLUDEDIR)/librosnap.h
	@# The paths of this install: PREFIX may differ from the build's.
	@mkdir -p $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(LIB_PKGS)|' lib/librosnap.pc.in \
		>$(DESTDIR)$(PKGCONFIGDIR)/librosnap.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/librosnap.pc
	install -D -m 0644 -t $(DESTDIR)$(MANDIR)/man8 $(MAN8)
	install -D -m 0644 -t $(DESTDIR)$(MANDIR)/man3 $(MAN3)
	install -D -m 0644 -t $(DESTDIR)$(MANDIR)/man7 $(MAN7)
	install -D -m 0644 -t $(DESTDIR)$(UDEVRULESDIR) $(UDEV_RULES)
	install -D -m 0644 cmd/rosnap.bash $(DESTDIR)$(BASHCOMPDIR)/rosnap
	$(call install_script,udev/rosnap-monitor.service,$(SYSTEMDUNITDIR)/rosnap-monitor.service)
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/rosnap-monitor.service
	$(call install_script,udev/rosnap-save.service,$(SYSTEMDUNITDIR)/rosnap-save.service)
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/rosnap-save.service
	$(call install_script,initramfs/initramfs-tools/hooks/rosnap,$(INITRAMFSTOOLSDIR)/hooks/rosnap)
	$(call install_script,initramfs/initramfs-tools/scripts/local-premount/rosnap,$(INITRAMFSTOOLSDIR)/scripts/local-premount/rosnap)
	$(call install_script,initramfs/dracut/90rosnap/module-setup.sh,$(DRACUTMODDIR)/module-setup.sh)
	$(call install_script,initramfs/dracut/90rosnap/rosnap-root.sh,$(DRACUTMODDIR)/rosnap-root.sh)
	$(call install_script,initramfs/dracut/90rosnap/rosnap-generator,$(DRACUTMODDIR)/rosnap-generator)
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rosnap
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(LIBSO)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/librosnap.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/librosnap.h $(DESTDIR)$(PKGCONFIGDIR)/librosnap.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))
	rm -f $(addprefix $(DESTDIR)$(UDEVRULESDIR)/,$(notdir $(UDEV_RULES)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/rosnap
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/rosnap-monitor.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/rosnap-save.service
	rm -f $(DESTDIR)$(INITRAMFSTOOLSDIR)/hooks/rosnap \
		$(DESTDIR)$(INITRAMFSTOOLSDIR)/scripts/local-premount/rosnap
	rm -rf $(DESTDIR)$(DRACUTMODDIR)
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)
