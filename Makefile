# Thin wrapper around CMake.  The two commands a new user needs:
#   make demo    build and show hive on a private loopback broker
#   make test    build and run every test (installs packages as root)
#   make test-openclaw   the end-to-end test against a real OpenClaw

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# seconds per harness in make fuzz-smoke
FUZZ_TIME ?= 20

.PHONY: all deps build test test-asan fuzz-smoke test-openclaw bench demo \
	install clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) >$(BUILD)/build.log 2>&1 || \
	    { cat $(BUILD)/build.log; exit 1; }

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) fuzz-smoke

# The whole suite again under AddressSanitizer and UBSan.
test-asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug \
	    -DHIVE_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS) >$(BUILD)-asan/build.log 2>&1 || \
	    { cat $(BUILD)-asan/build.log; exit 1; }
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS)

# Every libFuzzer harness of fuzz/ for FUZZ_TIME seconds (clang,
# ASan+UBSan); fails on any crash.  Longer runs: docs/security.md.
fuzz-smoke: deps
	@CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DHIVE_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzzers \
	    >$(BUILD)-fuzz/build.log 2>&1 || \
	    { cat $(BUILD)-fuzz/build.log; exit 1; }
	scripts/fuzz-smoke.sh $(BUILD)-fuzz $(FUZZ_TIME)

# hive against a real OpenClaw gateway: Node 24 and the openclaw CLI
# from the npm registry, cached outside the tree (docs/openclaw.md).
# Run by CI after make test; not part of it, which needs only Debian.
test-openclaw: build
	HIVE_BIN=$(CURDIR)/$(BUILD) scripts/openclaw-e2e

# Speed and memory goals, measured as ratios (bench/README.md); not
# tests.  Data files and plots of the bus benchmarks: $(BUILD)/bench-out.
BENCH_FLAGS ?=
bench: build
	$(BUILD)/bench/hive-bench-spawn
	HIVE_BIN=$(CURDIR)/$(BUILD) bench/bus.sh -o $(BUILD)/bench-out $(BENCH_FLAGS)
	bench/plot.sh $(BUILD)/bench-out

demo: build
	@HIVE_BIN=$(CURDIR)/$(BUILD) HIVE_DEMO_KEEP=$(KEEP) scripts/demo.sh

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
