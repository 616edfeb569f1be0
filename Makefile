# The two commands the README promises: `make run` and `make test`. Both install what is missing
# (scripts/install-deps, Debian packages only) and build with CMake + Ninja (+ ccache).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps deps-test build run blog run-split test test-split test-sanitized fuzz bench chaos chaos-split check-container check-format format clean

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

# Only the server: `make run` does not wait for the tests to compile.
run: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target ticketd
	$(BUILD)/ticketd $(ARGS)

test: deps-test check-format build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -E "^split:"
	$(MAKE) test-sanitized
	$(MAKE) fuzz FUZZ_SECONDS=5

# The blog example (examples/blog/README.md) on port 4000 with ./blog-data, like `make run`.
blog: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target blog
	$(BUILD)/examples/blog/blog $(ARGS)

# Split mode: one process per module on a three-node NATS JetStream cluster behind nginx
# (scripts/run-split). The HTTP flows and the crash test with module and NATS node kills.
SPLIT_PORT ?= 8080
SPLIT_DATA ?= ./data-split
test-split: deps build
	@bash scripts/install-deps --split
	cd $(BUILD) && ctest --output-on-failure --timeout 3000 -R "^split:"
run-split: deps build
	@bash scripts/install-deps --split
	bash scripts/run-split $(SPLIT_DATA) $(SPLIT_PORT)
chaos-split: build
	@bash scripts/install-deps --split
	$(BUILD)/tests/ticketd_chaos $(BUILD)/ticketd --split scripts/run-split --kills 100 --nats-kills 10

# Every C++ file formatted by .clang-format; `make format` reformats them.
check-format:
	@bash scripts/install-deps --format
	@bash scripts/check-format
format:
	@bash scripts/install-deps --format
	@bash scripts/check-format --fix

# The unit and HTTP tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_BUILD ?= build-asan
test-sanitized: deps
	cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTICKETD_SANITIZE=ON
	cmake --build $(SAN_BUILD) -j $(JOBS) --target ticketd_tests blog_tests
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) --timeout 600 -E "^browser:|^chaos:|^power cuts:|^split:|module boundaries|^blog: kill"

# Benchmarks: prints one table of figures (see docs/performance.md). BENCH_SECONDS per scenario;
# BENCH_ONLY=get,purchase,... runs some scenarios only (hello health get list post dogpile refuse
# purchase bus replay blog).
BENCH_SECONDS ?= 5
bench: build
	cmake --build $(BUILD) --target ticketd_hello ticketd_bench blog
	$(BUILD)/ticketd_bench $(BUILD) $(BENCH_SECONDS) $(BENCH_ONLY)

# libFuzzer targets, built with clang in their own directory; FUZZ_SECONDS per target.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/install-deps --fuzz
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
		-DTICKETD_FUZZ=ON -DTICKETD_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_http fuzz_events fuzz_parsers
	@for t in http events parsers; do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t && cp -n tests/fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ ; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus/$$t > $(FUZZ_BUILD)/fuzz_$$t.log 2>&1; \
		status=$$?; grep -E "^(stat::number_of_executed_units|stat::new_units_added|SUMMARY)" $(FUZZ_BUILD)/fuzz_$$t.log; \
		if [ $$status -ne 0 ]; then tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; fi; \
	done

# Crash testing, long form: 100 SIGKILLs under load, then 30 power cuts in each durability mode
# (the short forms run in make test).
chaos: build
	$(BUILD)/tests/ticketd_chaos $(BUILD)/ticketd --kills 100
	$(BUILD)/tests/ticketd_chaos $(BUILD)/tests/ticketd_powercut --power-cuts 30 --durability normal
	$(BUILD)/tests/ticketd_chaos $(BUILD)/tests/ticketd_powercut --power-cuts 30 --durability full

# Builds and runs the Dockerfile with podman, as scripts/check-container describes.
check-container:
	bash scripts/check-container

clean:
	rm -rf $(BUILD)
