# peerwire: `make demo` and `make test` do everything on a fresh Debian 12 machine
# (they install missing packages first). See README.md.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-bench
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build demo test test-unit test-sanitize bench fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)/app/peerwire

# Every test: unit tests, CLI tests and interop tests against real clients (loopback only).
test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j2

test-unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j2 -L unit

# The whole test suite again, built by clang with AddressSanitizer + UBSan.
test-sanitize: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DPEERWIRE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j2

bench: deps
	@cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPEERWIRE_BENCH=ON \
	  -DPEERWIRE_TESTS=OFF >/dev/null
	@cmake --build $(BENCH_BUILD)
	@bench/run-all.sh $(BENCH_BUILD)

# Every fuzz target for FUZZ_SECONDS each, starting from the committed seed corpus.
fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DPEERWIRE_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) --target fuzzers
	@scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
