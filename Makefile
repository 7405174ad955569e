# edgepay — the two commands a newcomer needs:
#   make demo   the gateway + demo page + emulator, running locally
#   make test   everything: format, lint, Rust tests, emulator tests
# Each target installs what it needs first (idempotently): see scripts/setup.sh.

CARGO ?= cargo
NODE  ?= node

.PHONY: all setup test test-rust test-wasm test-node build-wasm lint fmt demo emulator help

all: test

help:
	@echo "make demo    - run the demo locally (emulator; gateway when built)"
	@echo "make test    - fmt check, clippy, all tests"

setup:
	@scripts/setup.sh all

lint:
	@scripts/setup.sh rust
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --lib --features wasm --target wasm32-unknown-unknown -- -D warnings

test-rust:
	@scripts/setup.sh rust
	$(CARGO) test --workspace

# The signing wasm of the npm package, built once into pkg/wasm/ (skipped when up to date).
build-wasm:
	@scripts/setup.sh wasm
	scripts/build-wasm.sh

# The shared vectors inside Debian's Chromium: the wasm target agrees with the native one.
test-wasm: build-wasm
	@scripts/setup.sh chromium
	wasm-pack test --headless --chrome --mode no-install -- --features wasm --test wasm

test-node: build-wasm
	@scripts/setup.sh chromium
	$(NODE) --test tests/sandbox/test/ pkg/test/
	$(NODE) scripts/size-bridge.mjs

test: lint test-rust test-wasm test-node

fmt:
	$(CARGO) fmt --all

emulator:
	@scripts/setup.sh node
	$(NODE) tests/sandbox/server.mjs --port 9100

demo: emulator
