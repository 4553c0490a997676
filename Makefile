# Every target does its own set-up: missing Debian packages are installed, the build configured.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
HYDRA := $(BUILD_DIR)/hydra

.PHONY: all deps configure build run demo test bench clean

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

demo: build
	@bash scripts/demo.sh

test: build
	@bash scripts/test.sh

bench: build
	@bash bench/run.sh

clean:
	rm -rf $(BUILD_DIR)
