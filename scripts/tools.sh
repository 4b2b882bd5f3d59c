# Shared by the scripts: install what a fresh Debian 12 machine with only Rust lacks.
# Nothing here downloads from GitHub: crates.io, npm and Debian's archive only.

WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen crate pinned in Cargo.toml

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  if [ -z "${KABAR_APT_UPDATED:-}" ]; then
    as_root apt-get update -qq
    export KABAR_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# The server builds Cisco's OpenH264 decoder from source (video thumbnails): it needs a C++
# compiler, which Debian installs with gcc as g++ (usually already there with Rust's linker).
ensure_cxx() {
  if ! command -v c++ >/dev/null; then
    echo "==> apt-get install g++ (the video thumbnail decoder is C++)"
    apt_install g++
  fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "==> rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_wasm_bindgen() {
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    echo "==> installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes, once)"
    # Not --locked: its lockfile wants a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

# Cuts the dashboard's WebAssembly into lazily loaded chunks (scripts/build-site.sh); the tool
# `cargo leptos --split` runs as a library, here as its own binary.
WASM_SPLIT_VERSION=0.2.4
ensure_wasm_split() {
  if ! command -v wasm-split-cli >/dev/null \
    || ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    echo "==> installing wasm_split_cli_support $WASM_SPLIT_VERSION (about 1 minute, once)"
    cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked
  fi
}

ensure_node() {
  if ! command -v npm >/dev/null; then
    echo "==> installing Node.js and npm from Debian"
    apt_install nodejs npm
  fi
}

# The docs' Python receiver is run by the tests; scripts pick free ports with it.
ensure_python() {
  if ! command -v python3 >/dev/null; then
    echo "==> installing Python 3 from Debian"
    apt_install python3
  fi
}

# The fuzz pass installs schemathesis (PyPI) into a venv; Debian's python3 needs python3-venv
# for that (without it `import venv` works but `ensurepip` does not).
ensure_python_venv() {
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "==> installing python3-venv from Debian"
    apt_install python3-venv
  fi
}

# end2end/ holds the npm packages: Playwright (tests), binaryen (wasm-opt for releases) and
# swagger-ui-dist (the /docs page). SCARF_ANALYTICS=false: swagger-ui-dist's dependency
# @scarf/scarf would otherwise report the install to scarf.sh.
ensure_npm_packages() {
  ensure_node
  if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -f end2end/node_modules/swagger-ui-dist/swagger-ui-bundle.js ] \
    || [ end2end/package-lock.json -nt end2end/node_modules/.stamp ]; then
    echo "==> npm ci (end2end: @playwright/test, binaryen, swagger-ui-dist, openapi-typescript, openapi-fetch, typescript, @types/node)"
    (cd end2end && SCARF_ANALYTICS=false npm ci --no-audit --no-fund && touch node_modules/.stamp)
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Debian's chromium for the browser tests"
    apt_install chromium
  fi
}

# PostgreSQL for the tests that run on it (`KABAR_TEST_POSTGRES_URL`): Debian's server when
# missing, and a throwaway cluster of its own on a free loopback port, run as the `postgres`
# user (initdb refuses root) under target/, stopped by `stop_test_postgres`. fsync is off: the
# cluster holds nothing worth a crash's care, and the tests should not wait on the disk.
as_postgres() {
  # From /: PostgreSQL's programs look for each other through the working directory, which
  # the postgres user may not be allowed into (a clone under /root).
  as_root runuser -u postgres -- env -C / "$@"
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

ensure_postgres() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    echo "==> installing Debian's postgresql for the PostgreSQL tests"
    apt_install postgresql
  fi
}

start_test_postgres() {
  local bin port dir
  bin=$(pg_bin)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dir="$(realpath "${CARGO_TARGET_DIR:-target}")/postgres-test"
  mkdir -p "$(dirname "$dir")"
  # The postgres user must reach the directory: a clone under /root does not let it in.
  as_root rm -rf "$dir"
  if ! as_root install -d -o postgres -m 700 "$dir" ||
    ! as_postgres test -w "$dir"; then
    as_root rm -rf "$dir"
    dir=$(mktemp -d /tmp/kabar-postgres.XXXXXX) # 0700
    as_root chown postgres "$dir"
  fi
  as_postgres "$bin/initdb" -D "$dir/data" -U kabar -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  KABAR_TEST_POSTGRES_DIR="$dir"
  export KABAR_TEST_POSTGRES_URL="postgres://kabar@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests at $KABAR_TEST_POSTGRES_URL"
}

stop_test_postgres() {
  if [ -n "${KABAR_TEST_POSTGRES_DIR:-}" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$KABAR_TEST_POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    as_root rm -rf "$KABAR_TEST_POSTGRES_DIR"
    KABAR_TEST_POSTGRES_DIR=
  fi
}
