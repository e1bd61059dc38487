# tests/bench/bench.mk: programs for `make bench`, included by the top
# Makefile.  Uses the caller's CC, CPPFLAGS and ALLCFLAGS (falling back
# to CFLAGS); each program is one C file plus benchlib.c, libc only.

BENCH_BINS =	build/bench/spliceproxy build/bench/idealclient \
		build/bench/target build/bench/drive build/bench/swarm \
		build/bench/cutter

BENCH_CFLAGS ?=	$(if $(ALLCFLAGS),$(ALLCFLAGS),-std=c11 $(CFLAGS))

build/bench/%: tests/bench/%.c build/bench/benchlib.o
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $< \
	    build/bench/benchlib.o $(LDLIBS)

build/bench/benchlib.o: tests/bench/benchlib.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BENCH_CFLAGS) -c -o $@ $<

-include $(BENCH_BINS:=.d) build/bench/benchlib.d
