# Every target does its own set-up: missing Debian packages are installed, the build configured.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
HYDRA := $(BUILD_DIR)/hydra

.PHONY: all deps configure build run demo test bench check fuzz fuzz-deps package profile clean
# `make check`: the whole test suite again, built with ASan+UBSan (scripts/check.sh); -O1 -g1
# (line tables) compiles about twice as fast as -O2 -g and keeps asserts on.
ASAN_DIR ?= build-asan
# ...and the gateway's integration tests against a ThreadSanitizer build of `hydra` serving on
# four worker threads (scripts/check_tsan.sh).
TSAN_DIR ?= build-tsan
# `make fuzz`: clang-15 + libFuzzer targets (fuzz/), each run FUZZ_S seconds (scripts/fuzz.sh).
FUZZ_DIR ?= build-fuzz
FUZZ_S ?= 60
# `make profile`: pgo/ anew, the counts the release build is optimised by (cmake/pgo.cmake), from
# an instrumented build serving scripts/pgo_train.sh's requests. Commit pgo/ with the code.
PGO_GEN_DIR ?= build-pgo-gen

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@$(HYDRA) serve

# `make package`: $(BUILD_DIR)/hydra_VERSION_amd64.deb (cmake/packaging.cmake, packaging/).
package: build
	@cd $(BUILD_DIR) && cpack -G DEB

demo: build
	@bash scripts/demo.sh

test: build
	@bash scripts/test.sh

bench: build
	@bash bench/run.sh

profile: build
	@cmake -S . -B $(PGO_GEN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
	  -DHYDRA_PGO_GENERATE=$(CURDIR)/$(PGO_GEN_DIR)/counts >/dev/null
	@cmake --build $(PGO_GEN_DIR) -j $(JOBS) --target hydra
	@rm -rf $(PGO_GEN_DIR)/counts
	@bash scripts/pgo_train.sh $(PGO_GEN_DIR)/hydra $(HYDRA) $(BUILD_DIR)/bench/loadgen
	@ls $(PGO_GEN_DIR)/counts/*.gcda >/dev/null  # no counts: pgo/ stays as it was
	@mkdir -p pgo && rm -f pgo/*.gcda && cp $(PGO_GEN_DIR)/counts/*.gcda pgo/ \
	  && rm -f pgo/*hydra_sim.dir* pgo/*hydra_agent.dir* && ls pgo/*.gcda | wc -l | xargs echo "pgo/: counts of files:"

$(ASAN_DIR)/build.ninja: | deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Check -DCMAKE_CXX_FLAGS_CHECK="-O1 -g1" \
	  -DHYDRA_SANITIZE=ON >/dev/null

$(TSAN_DIR)/build.ninja: | deps
	@cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Check -DCMAKE_CXX_FLAGS_CHECK="-O1 -g1" \
	  -DHYDRA_TSAN=ON -DBUILD_TESTING=OFF >/dev/null

check: build $(ASAN_DIR)/build.ninja $(TSAN_DIR)/build.ninja
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@BUILD_DIR=$(ASAN_DIR) bash scripts/check.sh
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target hydra
	@TSAN_DIR=$(TSAN_DIR) bash scripts/check_tsan.sh

fuzz-deps:
	@bash scripts/install-deps.sh fuzz

$(FUZZ_DIR)/build.ninja: | deps fuzz-deps
	@CC=clang-15 CXX=clang++-15 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Fuzz \
	  -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" -DHYDRA_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null

fuzz: fuzz-deps $(FUZZ_DIR)/build.ninja
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_S=$(FUZZ_S) bash scripts/fuzz.sh $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR) $(PGO_GEN_DIR)
