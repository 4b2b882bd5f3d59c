#!/usr/bin/env bash
# Builds and runs Kabar on a fresh Debian 12 machine with only the Rust toolchain: the release
# dashboard bundle (wasm32 + wasm-bindgen + npm binaryen), then the release `kabar` binary
# with the bundle embedded, on the real WhatsApp engine with SQLite in ./data.
# Arguments are passed to kabar, e.g. `scripts/serve.sh --addr 0.0.0.0:3000`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

bash scripts/build-site.sh --release
echo "==> building kabar (release)"
cargo build --release -p server --bin kabar
echo "==> the binary is target/release/kabar (self-contained: copy it anywhere)"
exec target/release/kabar "$@"
