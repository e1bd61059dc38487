# tests/fuzz/fuzz.mk: coverage-guided fuzzing with clang's libFuzzer,
# included by the top Makefile.  `make fuzz` builds every harness and runs
# each for FUZZTIME seconds on a corpus under build/fuzz/corpus, seeded from
# tests/fuzz/seeds; it fails on the first crash, leak, hang or UB report.
# `make fuzz-build` only builds; `make fuzz-regress` replays the saved
# reproducers in tests/fuzz/crashes.  A finding leaves its input in
# build/fuzz/artifacts/NAME/; shrink it with
#	build/fuzz/NAME -minimize_crash=1 -runs=100000 FILE
# and save it as tests/fuzz/crashes/NAME-what.  FUZZ_CC must be clang.

FUZZ_CC	?= clang
FUZZTIME ?= 30
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	     -fno-sanitize-recover=undefined
FUZZ_OBJFLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	     -fno-sanitize-recover=undefined
FUZZ_RUNFLAGS ?= -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2

FUZZ_NAMES = fuzz_head fuzz_handshake fuzz_challenge fuzz_ntlm \
	     fuzz_noproxy fuzz_proxyurl
FUZZ_BINS = $(FUZZ_NAMES:%=build/fuzz/%)
FUZZ_OBJS = $(patsubst src/%.c,build/fuzz/obj/%.o,$(filter-out src/main.c,$(SRCS)))

# Input size limits, a little above what each parser accepts.
FUZZ_MAXLEN_fuzz_head	   = 70000
FUZZ_MAXLEN_fuzz_handshake = 8192
FUZZ_MAXLEN_fuzz_challenge = 16384
FUZZ_MAXLEN_fuzz_ntlm	   = 4096
FUZZ_MAXLEN_fuzz_noproxy   = 2048
FUZZ_MAXLEN_fuzz_proxyurl  = 2048

.PHONY: fuzz-build fuzz-regress
# Keep the objects: they are shared by every harness.
.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -pthread $(FUZZ_OBJFLAGS) -MMD -MP \
	    -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -pthread $(WARN) $(FUZZ_FLAGS) -MMD -MP \
	    -o $@ $< $(FUZZ_OBJS)

# One run per harness on a corpus seeded from tests/fuzz/seeds plus what
# earlier runs found.  libFuzzer exits non-zero on any finding, which
# fails the target and leaves the input in build/fuzz/artifacts/NAME/.
fuzz: $(FUZZ_NAMES:%=fuzz-run-%)

fuzz-run-%: build/fuzz/%
	@mkdir -p build/fuzz/corpus/$* build/fuzz/artifacts/$*
	@if [ -d tests/fuzz/seeds/$* ]; then \
	    cp -f tests/fuzz/seeds/$*/* build/fuzz/corpus/$*/; fi
	@echo "fuzz: $* for $(FUZZTIME)s, log in build/fuzz/$*.log"
	@build/fuzz/$* -max_total_time=$(FUZZTIME) -max_len=$(FUZZ_MAXLEN_$*) \
	    $(FUZZ_RUNFLAGS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/artifacts/$*/ \
	    build/fuzz/corpus/$* >build/fuzz/$*.log 2>&1 || { \
	    tail -n 60 build/fuzz/$*.log; \
	    echo "fuzz: $* FAILED; see build/fuzz/$*.log and" \
	        "build/fuzz/artifacts/$*/" >&2; exit 1; }
	@grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' \
	    build/fuzz/$*.log | sed 's/^/fuzz: $*: /'

# The same harnesses without libFuzzer: each linked by $(CC) with the
# normal flags, tests/fuzz/replay.c and the library objects into
# $(O)/replay/NAME, which calls it once per file given and prints TAP.
# `make unit` builds them, so the sanitizer build (O=build/asan) has
# them too, and tests/run replays every seed and saved reproducer in
# each pass; `make fuzz-replay` does the same on its own.
REPLAY_BINS = $(FUZZ_NAMES:%=$(O)/replay/%)

.PHONY: fuzz-replay-build fuzz-replay

fuzz-replay-build: $(REPLAY_BINS)

$(O)/replay/replay.o: tests/fuzz/replay.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ tests/fuzz/replay.c

$(O)/replay/%: tests/fuzz/%.c $(O)/replay/replay.o $(LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< \
	    $(O)/replay/replay.o $(LIBOBJS) $(LDLIBS)

fuzz-replay: $(REPLAY_BINS)
	@rc=0; for n in $(FUZZ_NAMES); do \
	    set --; \
	    for f in tests/fuzz/seeds/$$n/* tests/fuzz/crashes/$$n-*; do \
		[ -f "$$f" ] && set -- "$$@" "$$f"; \
	    done; \
	    $(O)/replay/$$n "$$@" || rc=1; \
	done; exit $$rc

# Replay the saved reproducers, tests/fuzz/crashes/NAME-*; fails while
# any of the bugs they found is still there.
fuzz-regress: $(FUZZ_BINS)
	@rc=0; for n in $(FUZZ_NAMES); do \
	    for f in tests/fuzz/crashes/$$n-*; do \
		[ -f "$$f" ] || continue; \
		if build/fuzz/$$n "$$f" >build/fuzz/regress.log 2>&1; then \
		    echo "fuzz-regress: ok   $$f"; \
		else echo "fuzz-regress: FAIL $$f"; rc=1; fi; \
	    done; \
	done; exit $$rc

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d) $(REPLAY_BINS:=.d) \
	 $(O)/replay/replay.d
