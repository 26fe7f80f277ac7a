# Thin wrapper over scripts/install-deps, meson and tests/run.
#   make run    install deps, build, start `build/tribune --dev`
#   make test   install deps (incl. test peers), build, run every suite
#   make build  build only
#   make web    bundle the debate room page (web/) into web/dist/, served at /app/
#   make bench  release build, then the media forwarding benchmark (bench/README.md)
BUILD ?= build
MESON_OPTS ?=

.PHONY: all build deps test-deps run test clean bench bench-turn web

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	@ninja -C $(BUILD)

# The page: npm ci only when web/node_modules is missing or older than the
# lock file, then esbuild (web/package.json's "build" script).
WEB_SRC := $(wildcard web/src/*.js web/src/*.html web/src/*.css)

web: web/dist/app.js
	@:

web/node_modules: web/package-lock.json
	@command -v npm >/dev/null || { echo "make web: npm is missing (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	cd web && npm ci --silent --no-audit --no-fund
	@touch $@

web/dist/app.js: web/node_modules $(WEB_SRC)
	@mkdir -p web/dist
	@cd web && npm run --silent build

run: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory web
	./$(BUILD)/tribune --dev

test: test-deps
	@$(MAKE) --no-print-directory build
	@tests/run $(BUILD)

# Media forwarding benchmark: tribune (release build) driven by tribune-load,
# against a bare UDP relay in the same run; see bench/README.md. Results:
# bench/results/latest.json
BENCH_BUILD ?= build-release

bench: test-deps
	@test -f $(BENCH_BUILD)/build.ninja || meson setup $(BENCH_BUILD) --buildtype=release -Dtests=false
	@ninja -C $(BENCH_BUILD)
	@bash bench/bench.sh $(BENCH_BUILD)

# TURN relay benchmark, tribune vs coturn (needs Debian's coturn package);
# see bench/README.md. Results: bench/results/turn-latest.json
bench-turn: build
	@bash bench/turn.sh $(BUILD)

clean:
	rm -rf $(BUILD)
