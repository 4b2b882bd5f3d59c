#!/usr/bin/env bash
# Runs every test Kabar has, on a fresh Debian 12 machine with only the Rust toolchain:
# formatting, clippy (host and wasm32), the browser tests in Debian's Chromium, the API fuzz
# pass (schemathesis against /openapi.json), the docs test, the generated clients' tests, then
# the unit and integration tests with nextest (those that run on PostgreSQL too on a throwaway
# cluster of Debian's server), whose summary line ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

step() { echo; echo "==> $*"; }

# A fresh CI clone gains nothing from incremental compilation; it only costs disk and time.
[ -n "${CI:-}" ] && export CARGO_INCREMENTAL=0

step "tools"
ensure_cxx
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_packages
ensure_python
ensure_chromium
ensure_postgres
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

step "cargo fmt --check"
cargo fmt --all -- --check

step "the shipped build has no test-only features"
# whatsapp-rust's danger-skip-cert-chain-verify lets the protocol test's fake WhatsApp server
# through; it is a dev-dependency feature and must never reach `cargo build`/`cargo run`.
shipped=$(cargo tree -p server -e no-dev -f '{p} {f}' | grep -c danger || true)
in_tests=$(cargo tree -p server -f '{p} {f}' | grep -c danger || true)
if [ "$shipped" != 0 ] || [ "$in_tests" = 0 ]; then
  echo "danger-* features: $shipped in the shipped build (want 0), $in_tests in tests (want >0)" >&2
  exit 1
fi

step "dashboard bundle (release: the browser tests and the slow-3G figure run on what ships)"
bash scripts/build-site.sh --release

step "clippy (server and shared code, host)"
cargo clippy --workspace --all-targets -- -D warnings
step "clippy (browser code, wasm32)"
cargo clippy -p app -p frontend --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

step "browser tests (Playwright, Debian's Chromium)"
cargo build -p server --bin kabar
# The binary cargo just built, also when CARGO_TARGET_DIR points elsewhere.
export KABAR_BIN=${KABAR_BIN:-$(realpath "${CARGO_TARGET_DIR:-target}")/debug/kabar}
e2e_data=$(mktemp -d)
trap 'rm -rf "$e2e_data"; stop_test_postgres' EXIT
export KABAR_E2E_DATA="$e2e_data"
export KABAR_E2E_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd end2end && npx playwright test)

step "API fuzz pass (schemathesis against /openapi.json, simulator engine)"
bash scripts/fuzz-api.sh

step "docs test (every documented command, run as written)"
python3 scripts/docs-test.py

step "generated clients (TypeScript and Python, from /openapi.json)"
bash scripts/clients-test.sh

step "unit and integration tests (nextest; the PostgreSQL ones on a throwaway cluster)"
start_test_postgres
cargo nextest run --workspace --no-fail-fast
