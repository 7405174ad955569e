# edgepay — the two commands a newcomer needs:
#   make demo   the gateway + demo page + emulator, running locally
#   make test   everything: format, lint, Rust tests, emulator tests
# Each target installs what it needs first (idempotently): see scripts/setup.sh.

CARGO ?= cargo
NODE  ?= node

.PHONY: all setup test test-rust test-node lint fmt demo emulator clean-state help

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

test-rust:
	@scripts/setup.sh rust
	$(CARGO) test --workspace

test-node:
	@scripts/setup.sh node
	@scripts/setup.sh chromium
	$(NODE) --test tests/sandbox/test/ pkg/test/
	$(NODE) scripts/size-bridge.mjs

test: lint test-rust test-node

fmt:
	$(CARGO) fmt --all

emulator:
	@scripts/setup.sh node
	$(NODE) tests/sandbox/server.mjs --port 9100

demo: emulator
