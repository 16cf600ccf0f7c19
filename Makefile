# calib: one non-recursive Makefile.  `make` builds ./calib; `make V=1` shows
# the commands; `make DEVELOPER=1` turns warnings into errors; `make check
# SANITIZE=1` builds with address and undefined-behaviour sanitizers.

PREFIX	?= /usr/local
CC	?= cc
CFLAGS	?= -O2 -g
VERSION	:= 0.1.0

# Debian packages calib builds and tests with; `make deps` installs the
# missing ones.
DEB_BUILD := gcc make pkg-config libyaml-dev libhdf5-dev liblapacke-dev \
	libopenblas-dev libgsl-dev libjansson-dev libxml2-dev \
	libplplot-dev plplot-driver-cairo libxxhash-dev libcurl4-openssl-dev
DEB_CHECK := libcmocka-dev mandoc perl bsdextrautils python3 python3-numpy \
	python3-h5py python3-yaml slurm-wlm slurm-wlm-torque iproute2 procps clang \
	strace

PKGS	:= yaml-0.1 hdf5 lapacke openblas gsl jansson libxml-2.0 plplot libxxhash \
	libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# GSL's pkg-config pulls in its reference CBLAS; OpenBLAS provides CBLAS, so
# leave gslcblas out to keep a single BLAS in the process.
# PLplot is not linked: lib/figures.c loads it when calib report draws, by
# the soname of the library pkg-config names.
PKG_LIBS = $(filter-out -lgslcblas -lplplot,$(shell pkg-config --libs $(PKGS) 2>/dev/null)) \
	-lhdf5_hl -ldl
PLPLOT_SONAME = $(shell objdump -p $(shell pkg-config --variable=libdir plplot \
	2>/dev/null)/libplplot.so 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN	:= -Wall -Wextra -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARN	+= -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
endif
ifeq ($(SANITIZE),1)
# Without asan-globals=0, every file's globals are registered with ASan and
# --gc-sections can no longer keep the front free of the core's libraries.
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	--param asan-globals=0
LDFLAGS	+= -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DCALIB_VERSION='"$(VERSION)"' \
	-DCALIB_DATADIR='"$(PREFIX)/share/calib"' \
	$(if $(PLPLOT_SONAME),-DPLPLOT_SONAME='"$(PLPLOT_SONAME)"') \
	-fPIC -fvisibility=hidden -ffunction-sections -fdata-sections \
	-I. $(WARN) $(PKG_CFLAGS) $(CFLAGS)

ifneq ($(V),1)
Q_CC	= @echo "  CC      $@";
Q_LD	= @echo "  LD      $@";
endif

LIB_SRC := $(wildcard lib/*.c) $(wildcard schedulers/*.c)
CMD_SRC := $(wildcard cmd/*.c)
LIB_OBJ := $(LIB_SRC:.c=.o)
CMD_OBJ := $(CMD_SRC:.c=.o)
UNIT_SRC := $(wildcard test/unit/*.c)
UNIT_BIN := $(UNIT_SRC:.c=)
EXAMPLE_BIN := share/examples/linear/model share/examples/lorenz96/model

# calib is a front and a core (cmd/main.c): the front runs members and
# links only what that needs; the linker drops the rest of the objects it
# is given (--gc-sections), and would fail on any HDF5 or BLAS call left
# reachable from it.  The core, calib-core.so, has every command.
FRONT_OBJ := cmd/main.o cmd/exec.o cmd/common.o \
	$(filter-out lib/vech5.o lib/priormatch.o,$(LIB_OBJ))
FRONT_LIBS = $(shell pkg-config --libs yaml-0.1 libxxhash 2>/dev/null) -ldl -lm
CORE_OBJ := $(filter-out cmd/main.o,$(CMD_OBJ)) $(LIB_OBJ)
ifneq ($(SANITIZE),1)
CORE_LDFLAGS := -Wl,-z,defs
endif

all: calib calib-core.so $(EXAMPLE_BIN)

# Every object depends on the flags it was built with: a change of CFLAGS,
# SANITIZE or DEVELOPER rewrites CALIB-CFLAGS and so rebuilds everything.
# Header dependencies come from the compiler (-MMD -MP).
TRACK_FLAGS = $(CC) $(ALL_CFLAGS) $(LDFLAGS)
CALIB-CFLAGS: FORCE
	@flags='$(subst ','\'',$(TRACK_FLAGS))'; \
	if test "$$flags" != "`cat $@ 2>/dev/null`"; then \
		echo "  FLAGS   $@"; echo "$$flags" >$@; \
	fi

calib: $(FRONT_OBJ)
	$(Q_LD)$(CC) $(LDFLAGS) -Wl,--gc-sections -Wl,--as-needed -o $@ \
	    $(FRONT_OBJ) $(FRONT_LIBS)

calib-core.so: $(CORE_OBJ)
	$(Q_LD)$(CC) $(LDFLAGS) $(CORE_LDFLAGS) -shared -o $@ $(CORE_OBJ) \
	    $(PKG_LIBS) -lm

%.o: %.c CALIB-CFLAGS
	$(Q_CC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)

# The default job script templates are compiled into calib, so that calib
# and its core, copied to a cluster, need no other installed files.
TEMPLATES := $(wildcard templates/*/*)
lib/template.o: lib/templates.inc
lib/templates.inc: $(TEMPLATES) Makefile
	@echo "  GEN     $@"
	@awk 'BEGIN { print "/* Generated from templates/ by the Makefile. */"; \
	    print "static const struct builtin builtins[] = {" } \
	    FNR == 1 { if (NR > 1) print "\" },"; \
	        f = FILENAME; sub(/^templates\//, "", f); \
	        printf "\t{ \"%s\", \"", f } \
	    { gsub(/\\/, "&&"); gsub(/"/, "\\\""); printf "%s\\n", $$0 } \
	    END { if (NR > 0) print "\" },"; print "\t{ NULL, NULL }"; print "};" }' \
	    $(TEMPLATES) >$@.tmp && mv $@.tmp $@

share/examples/%/model: share/examples/%/model.c CALIB-CFLAGS
	$(Q_CC)$(CC) -std=c11 -O2 $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< -lm

test/unit/%: test/unit/%.c $(LIB_OBJ) test/unit/testutil.h CALIB-CFLAGS
	$(Q_CC)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(CMOCKA_LIBS) $(PKG_LIBS) -lm

deps:
	@sh test/deps.sh $(DEB_BUILD)

deps-check:
	@sh test/deps.sh $(DEB_BUILD) $(DEB_CHECK)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh share/examples/lorenz96/demo.sh

check: deps-check
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@sh test/run-unit.sh $(UNIT_BIN)
	@prove test/t[0-9]*.sh

bench: deps
	@$(MAKE) --no-print-directory all test/bench/bench_update
	@sh test/bench/run.sh

compare: deps-check
	@$(MAKE) --no-print-directory all
	@sh test/compare.sh

test/bench/bench_update: test/bench/bench_update.c $(LIB_OBJ) CALIB-CFLAGS
	$(Q_CC)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(PKG_LIBS) -lm

# libFuzzer harnesses for the parsers of untrusted input (test/fuzz/).  The
# library is compiled again, with clang and the fuzzer, address and
# undefined-behaviour sanitizers, into test/fuzz/obj/: never lib/*.o, which
# are gcc's with other flags.  `make fuzz` runs each harness FUZZ_SECONDS.
FUZZ_CC		:= clang
FUZZ_SECONDS	?= 90
FUZZ_FLAGS	:= -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DCALIB_VERSION='"$(VERSION)"' \
	-DCALIB_DATADIR='"$(PREFIX)/share/calib"' -I. $(WARN) $(PKG_CFLAGS) \
	$(FUZZ_FLAGS)
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:.c=)
FUZZ_OBJ := $(addprefix test/fuzz/obj/,$(LIB_SRC:.c=.o))

fuzz-build: $(FUZZ_BIN)

fuzz: deps-check fuzz-build
	@sh test/fuzz/run.sh $(FUZZ_SECONDS)

test/fuzz/obj/CFLAGS: FORCE
	@mkdir -p $(@D); flags='$(subst ','\'',$(FUZZ_CC) $(FUZZ_CFLAGS))'; \
	if test "$$flags" != "`cat $@ 2>/dev/null`"; then \
		echo "  FLAGS   $@"; echo "$$flags" >$@; \
	fi

test/fuzz/obj/%.o: %.c test/fuzz/obj/CFLAGS
	@mkdir -p $(@D)
	$(Q_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

test/fuzz/obj/lib/template.o: lib/templates.inc

$(FUZZ_BIN): test/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz.h $(FUZZ_OBJ) test/fuzz/obj/CFLAGS
	$(Q_LD)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS) -lm

-include $(FUZZ_OBJ:.o=.d)

# The examples the man pages point to go to share/calib/examples, built;
# the bash completion where bash-completion looks for it.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/calib \
		$(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/calib/templates/slurm \
		$(DESTDIR)$(PREFIX)/share/calib/templates/pbs \
		$(DESTDIR)$(PREFIX)/share/calib/examples/linear \
		$(DESTDIR)$(PREFIX)/share/calib/examples/lorenz96 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	for d in linear lorenz96; do \
		for f in share/examples/$$d/*; do \
			case $$f in */output) continue ;; esac; \
			install -m 644 $$f $(DESTDIR)$(PREFIX)/share/calib/examples/$$d || exit; \
		done; \
		install -m 755 share/examples/$$d/model $(DESTDIR)$(PREFIX)/share/calib/examples/$$d; \
	done
	install -m 755 share/examples/lorenz96/demo.sh $(DESTDIR)$(PREFIX)/share/calib/examples/lorenz96
	install -m 644 share/completion/calib.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/calib
	install -m 755 calib $(DESTDIR)$(PREFIX)/bin/calib
	install -m 644 calib-core.so $(DESTDIR)$(PREFIX)/lib/calib/calib-core.so
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 templates/slurm/* $(DESTDIR)$(PREFIX)/share/calib/templates/slurm
	install -m 644 templates/pbs/* $(DESTDIR)$(PREFIX)/share/calib/templates/pbs

clean:
	rm -f calib calib-core.so $(CMD_OBJ) $(LIB_OBJ) $(UNIT_BIN) $(EXAMPLE_BIN) test/bench/bench_update \
		lib/templates.inc CALIB-CFLAGS $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)
	rm -rf test/trash share/examples/*/output share/examples/*/.output.lock
	rm -rf test/fuzz/obj $(FUZZ_BIN)

.PHONY: FORCE all deps deps-check demo check bench compare install clean \
	fuzz fuzz-build
