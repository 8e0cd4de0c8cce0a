# make bench: socks5d side by side with Dante's sockd and microsocks.
# Included by GNUmakefile (which declares .PHONY: bench); never part of
# `make check`.  Everything goes to $(BUILD)/bench/ and $(BUILD)/bench.txt.
#
#   make bench                    3 runs of every figure (12-22 minutes)
#   BENCH_RUNS=5 make bench       more runs
#   BENCH_QUICK=1 make bench      one short run: a smoke test of the harness
#
# Also writes $(BUILD)/bench.svg (tests/bench/plot.sh, with gnuplot-nox).

BENCH_SRCS := $(addprefix tests/bench/,socksbench.c sb_net.c sb_proc.c \
              sb_serve.c sb_sessions.c sb_stream.c sb_first.c)
BENCH_HDRS := $(wildcard tests/bench/*.h)
BENCH_RULES_SRC := $(wildcard tests/bench/bench_rules.c)

# The load generator is built -O2 whatever CFLAGS says, so a debug build of
# the daemon does not slow the client down.
$(BUILD)/bench/socksbench: $(BENCH_SRCS) $(BENCH_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(filter-out -MMD -MP,$(CFLAGS)) -O2 -pthread $(LDFLAGS) -o $@ \
	    $(BENCH_SRCS)

# The fork floor: static, so it is as small a process as there can be.
# The same program linked as socks5d is (dynamic, PIE) says what the
# loader's and libc's own mappings add to every fork on this host.
$(BUILD)/bench/forkfloor: tests/bench/forkfloor.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -O2 -static -o $@ $<
$(BUILD)/bench/forkfloor-dyn: tests/bench/forkfloor.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -O2 -fPIE -pie -Wl,-z,relro,-z,now -o $@ $<

# Rule loading and matching micro-benchmark: a standalone main() against
# the daemon's own library.
$(BUILD)/bench/bench_rules: tests/bench/bench_rules.c $(BUILD)/libsocks5d.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -O2 $(LDFLAGS) -o $@ $^ $(LDLIBS)

# socks5d and bench_rules are built if they can be: the daemon is allowed to
# be unfinished, and the bench then reports the peers alone (bench.sh says
# so), hence the leading '-'.  The packages come first: on a fresh machine
# the daemon's build needs libwrap's and libseccomp's headers, which
# deps.sh bench installs along with the peers.
bench: deps-bench
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/socksbench $(BUILD)/bench/forkfloor
	-$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/forkfloor-dyn
	-$(Q)$(MAKE) --no-print-directory $(BUILD)/socks5d $(IMAGE_BIN)
	$(if $(BENCH_RULES_SRC),-$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/bench_rules)
	$(Q)BUILD=$(BUILD) sh tests/bench/bench.sh

deps-bench:
	-$(Q)sh contrib/deps.sh bench
