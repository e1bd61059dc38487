# culvert: carry a byte stream through an HTTP or SOCKS proxy.
# Plain GNU make; see README.md.

VERSION	= 0.1.0

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC	?= cc
O	?= build
BIN	?= culvert
WARN	= -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wformat=2 \
	  -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	  -Wcast-qual -Wvla -Wimplicit-fallthrough
WERROR	?=
CFLAGS	?= -O2 -g
CPPFLAGS += -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DVERSION='"$(VERSION)"'
ALLCFLAGS = -std=c11 -pthread $(WARN) $(WERROR) $(CFLAGS) -MMD -MP
SAN	= -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined

SRCS	= $(wildcard src/*.c src/*/*.c)
OBJS	= $(SRCS:src/%.c=$(O)/%.o)
LIBOBJS	= $(filter-out $(O)/main.o,$(OBJS))
UNITSRC	= $(wildcard tests/unit/test_*.c)
UNITS	= $(UNITSRC:tests/unit/%.c=$(O)/unit/%)

.PHONY: all demo check check-deps test unit helpers bench bench-build install \
	uninstall clean lint fuzz asan

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(O)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ $<

$(O)/unit/%: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS)

unit: $(UNITS) fuzz-replay-build

# C helpers of the bats suite, built against the library like the unit
# tests (the sanitizer pass gets its own under build/asan/helpers).
HELPERSRC = $(wildcard tests/helpers/*.c)
HELPERS	= $(HELPERSRC:tests/helpers/%.c=$(O)/helpers/%)

$(O)/helpers/%: tests/helpers/%.c $(LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS)

helpers: $(HELPERS)

# The sanitizer build lives in its own tree and binary.
asan:
	$(MAKE) O=build/asan BIN=build/asan/culvert \
	    CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" all unit helpers

demo:
	sh tests/deps.sh demo
	$(MAKE) all
	sh tests/demo.sh

check-deps:
	sh tests/deps.sh

check: check-deps
	$(MAKE) all unit helpers bench-build
	$(MAKE) asan
	sh tests/run

test: all unit helpers
	sh tests/run

lint:
	sh tests/layers.sh
	mandoc -Tlint -Wwarning man/culvert.1
	shellcheck -s sh tests/run tests/deps.sh tests/demo.sh tests/layers.sh \
	    tests/bench/run .ci/run
	cppcheck --quiet --error-exitcode=1 --std=c11 \
	    --suppress=missingIncludeSystem -Isrc src

-include tests/bench/bench.mk
-include tests/fuzz/fuzz.mk

bench-build: $(BENCH_BINS)

bench: $(BIN) bench-build
	sh tests/bench/run

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/culvert
	install -m 644 man/culvert.1 $(DESTDIR)$(MANDIR)/man1/culvert.1
	install -m 644 completions/culvert.bash $(DESTDIR)$(BASHCOMPDIR)/culvert
	install -m 644 completions/_culvert $(DESTDIR)$(ZSHCOMPDIR)/_culvert
	install -m 644 completions/culvert.fish $(DESTDIR)$(FISHCOMPDIR)/culvert.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/culvert $(DESTDIR)$(MANDIR)/man1/culvert.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/culvert $(DESTDIR)$(ZSHCOMPDIR)/_culvert \
	    $(DESTDIR)$(FISHCOMPDIR)/culvert.fish

clean:
	rm -rf build culvert

-include $(OBJS:.o=.d)
