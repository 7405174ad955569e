# edgepay — the two commands a newcomer needs:
#   make demo   the gateway + demo shop + upstream emulator, running locally (prints one URL)
#   make test   everything: format, lint, Rust tests, wasm in Chromium, npm package, emulator,
#               gateway integration and end-to-end browser tests
# Each target installs what it needs first, idempotently (scripts/setup.sh), and each artifact is
# built once (scripts/build-wasm.sh, scripts/build-worker.sh skip when up to date).

CARGO ?= cargo
NODE  ?= node

.PHONY: all help setup fmt lint lint-worker test test-rust test-worker-unit test-wasm test-node \
        test-gateway test-e2e build-wasm build-worker demo emulator bench

all: test

help:
	@echo "make demo    - gateway + demo shop + emulator on http://127.0.0.1:8787/"
	@echo "make test    - fmt check, clippy, every test suite"
	@echo "make bench   - the benchmarks recorded in BENCHMARKS.md"

setup:
	@scripts/setup.sh all

fmt:
	$(CARGO) fmt --all
	cd worker && $(CARGO) fmt

lint:
	@scripts/setup.sh wasm
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --lib --features wasm --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy --lib --features wasm-rsa --target wasm32-unknown-unknown -- -D warnings

lint-worker:
	@scripts/setup.sh worker
	cd worker && $(CARGO) fmt -- --check
	cd worker && $(CARGO) clippy --target wasm32-unknown-unknown --all-targets -- -D warnings

test-rust:
	@scripts/setup.sh rust
	$(CARGO) test --workspace

test-worker-unit:
	@scripts/setup.sh worker
	cd worker && $(CARGO) test --lib

# The signing wasm of the npm package, built once into pkg/wasm/.
build-wasm:
	@scripts/setup.sh wasm
	scripts/build-wasm.sh

# The Worker, built once into worker/build/.
build-worker:
	@scripts/setup.sh worker
	scripts/build-worker.sh

# The shared vectors inside Debian's Chromium: the wasm target agrees with the native one.
test-wasm: build-wasm
	@scripts/setup.sh chromium
	wasm-pack test --headless --chrome --mode no-install -- --features wasm-rsa --test wasm

# Emulator, npm package (signing + bridge in Chromium), bridge size budget.
test-node: build-wasm
	@scripts/setup.sh chromium
	$(NODE) --test tests/sandbox/test/ pkg/test/
	$(NODE) scripts/size-budget.mjs

# The Worker in workerd (wrangler dev) against the emulator, one suite at a time (2 cores).
test-gateway: build-worker
	$(NODE) --test --test-concurrency=1 tests/gateway/

# The demo shop in Chromium: pay, cancel and retry, reconciliation.
test-e2e: build-worker
	@scripts/setup.sh chromium
	$(NODE) --test --test-concurrency=1 tests/e2e/

test: lint lint-worker test-rust test-worker-unit test-wasm test-node test-gateway test-e2e

# Every benchmark in one run; refreshes the tables in BENCHMARKS.md (not part of make test).
bench:
	scripts/bench.sh

emulator:
	@scripts/setup.sh node
	$(NODE) tests/sandbox/server.mjs --port 9100

demo:
	@$(NODE) scripts/demo.mjs
