#!/usr/bin/env bash
# Generates a TypeScript and a Python client from a running Kabar's /openapi.json with the
# generators docs/clients.md recommends, and runs a small integrator's test with each (sign up,
# API key, simulator session, send, read the message log) against that server.
#   scripts/clients-test.sh       (after `cargo build -p server --bin kabar`; scripts/test.sh runs it)
# Environment: KABAR_BIN (default target/debug/kabar). The generators: openapi-typescript and
# openapi-fetch from end2end/'s npm packages; openapi-python-client from PyPI, in a venv under
# target/ (pinned below).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_npm_packages
ensure_python_venv

OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
target=$(realpath "${CARGO_TARGET_DIR:-target}")
bin=${KABAR_BIN:-$target/debug/kabar}
out=$target/clients
venv=$target/clients-venv
if ! "$venv/bin/openapi-python-client" --version 2>/dev/null | grep -q "$OPENAPI_PYTHON_CLIENT_VERSION"; then
  echo "==> installing openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION (PyPI) into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
fi

# Each client signs up first (and so becomes the admin) on a server of its own.
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
serve() { # serve NAME: starts a fresh simulator server, sets $base
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" --addr "127.0.0.1:$port" --data-dir "$work/$1" --engine simulator --send-rate 0 >"$work/$1.log" 2>&1 &
  pids+=($!)
  base=http://127.0.0.1:$port
  for _ in $(seq 200); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
  cat "$work/$1.log"; exit 1
}
serve typescript
rm -rf "$out" && mkdir -p "$out"
curl -fsS "$base/openapi.json" -o "$out/openapi.json"

echo "==> TypeScript: openapi-typescript + openapi-fetch, type-checked by tsc"
rm -rf end2end/clients/generated
end2end/node_modules/.bin/openapi-typescript "$out/openapi.json" -o end2end/clients/generated/kabar.d.ts
end2end/node_modules/.bin/tsc -p end2end/clients --outDir "$out/ts"
# The compiled test resolves openapi-fetch from end2end/node_modules.
ln -sfn "$PWD/end2end/node_modules" "$out/node_modules"
KABAR_URL=$base node "$out/ts/kabar.test.mjs"

echo "==> Python: openapi-python-client"
serve python
"$venv/bin/openapi-python-client" generate --path "$out/openapi.json" --output-path "$out/kabar_client" \
  --meta none --overwrite >"$out/python-generate.log" 2>&1 || { cat "$out/python-generate.log"; exit 1; }
grep -i "warning" -A3 "$out/python-generate.log" || true
KABAR_URL=$base PYTHONPATH="$out" "$venv/bin/python" end2end/clients/test_kabar_client.py
