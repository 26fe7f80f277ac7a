# Thin wrapper over scripts/install-deps, meson and tests/run.
#   make run    install deps, build, start `build/tribune --dev`
#   make test   install deps (incl. test peers), build, run every suite
#   make build  build only
BUILD ?= build
MESON_OPTS ?=

.PHONY: all build deps test-deps run test clean

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	@ninja -C $(BUILD)

run: deps
	@$(MAKE) --no-print-directory build
	./$(BUILD)/tribune --dev

test: test-deps
	@$(MAKE) --no-print-directory build
	@tests/run $(BUILD)

clean:
	rm -rf $(BUILD)
