# The two commands the README promises: `make run` and `make test`. Both install what is missing
# (scripts/install-deps, Debian packages only) and build with CMake + Ninja (+ ccache).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps deps-test build run test test-sanitized bench chaos check-container clean

all: build

deps:
	@bash scripts/install-deps

# Tests also need Chromium and Node for the browser tests.
deps-test:
	@bash scripts/install-deps --web

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/ticketd $(ARGS)

test: deps-test build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	$(MAKE) test-sanitized

# The unit and HTTP tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_BUILD ?= build-asan
test-sanitized: deps
	cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTICKETD_SANITIZE=ON
	cmake --build $(SAN_BUILD) -j $(JOBS) --target ticketd_tests
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) --timeout 600 -E "^browser:|^chaos:|module boundaries"

# Benchmarks: prints one table of figures (see docs/performance.md). BENCH_SECONDS per scenario.
BENCH_SECONDS ?= 5
bench: build
	cmake --build $(BUILD) --target ticketd_hello ticketd_bench
	$(BUILD)/ticketd_bench $(BUILD) $(BENCH_SECONDS)

# Crash testing, long form: 100 SIGKILLs under load (the short form runs in make test).
chaos: build
	$(BUILD)/tests/ticketd_chaos $(BUILD)/ticketd --kills 100

# Builds and runs the Dockerfile with podman, as scripts/check-container describes.
check-container:
	bash scripts/check-container

clean:
	rm -rf $(BUILD)
