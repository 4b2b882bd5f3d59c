#!/usr/bin/env bash
# Builds the dashboard bundle into target/site (what cargo-leptos would do, without its
# 36-minute install; see ARCHITECTURE.md): the frontend crate for wasm32, wasm-bindgen,
# wasm-opt (release only, from npm's binaryen), the CSS and public/, and Swagger UI's JS and CSS
# from npm's swagger-ui-dist for /docs (served from the binary, so /docs works offline).
#   scripts/build-site.sh            debug bundle (fast; used by the tests)
#   scripts/build-site.sh --release  optimised bundle, embedded by `cargo build --release`
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

release=false
[ "${1:-}" = "--release" ] && release=true

ensure_cxx
ensure_wasm_target
ensure_wasm_bindgen
ensure_wasm_split
ensure_npm_packages

if $release; then profile=wasm-release; else profile=dev; fi
out_profile_dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
echo "==> building the dashboard (frontend → wasm32, profile $profile)"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

# The site always goes to ./target/site (the server embeds it from there); cargo's own output
# follows CARGO_TARGET_DIR when it is set.
site=target/site
cargo_target=${CARGO_TARGET_DIR:-target}
rm -rf "$site/pkg"
mkdir -p "$site/pkg"
# Each lazy group of pages (app/src/shell.rs) becomes a file of its own: wasm-split moves the
# code only that group reaches into pkg/split_<group>_<hash>.wasm (code several groups share into
# pkg/chunk_<n>.wasm) and writes the loader pkg/__wasm_split.js; the main module goes on to wasm-bindgen. It needs the
# relocations .cargo/config.toml keeps for wasm32 (what `cargo leptos --split` does).
wasm-split-cli --target web --out-name kabar \
  "$cargo_target/wasm32-unknown-unknown/$out_profile_dir/frontend.wasm" "$site/pkg"
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
  --out-dir "$site/pkg" --out-name kabar "$site/pkg/kabar.wasm"
# Leptos' hydration script loads /pkg/<output-name>.wasm.
mv "$site/pkg/kabar_bg.wasm" "$site/pkg/kabar.wasm"

if $release; then
  echo "==> wasm-opt -Oz --converge (npm binaryen), the main module and every chunk"
  for f in "$site"/pkg/*.wasm; do
    end2end/node_modules/.bin/wasm-opt -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
      "$f" -o "$f"
  done
fi

cp style/main.css "$site/pkg/kabar.css"
cp -r public/. "$site/"
# Every page loads copy.js: it travels with the bundle, under the bundle's hashed directory.
mv "$site/copy.js" "$site/pkg/copy.js"

# /docs: Swagger UI from npm (pinned in end2end/package.json), with its licence and notice.
swagger=end2end/node_modules/swagger-ui-dist
rm -rf "$site/docs"
mkdir -p "$site/docs"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  if [ ! -f "$swagger/$f" ]; then
    echo "error: $swagger/$f is missing; run: (cd end2end && npm ci)" >&2
    exit 1
  fi
  cp "$swagger/$f" "$site/docs/"
done

# Compressed once here, served by Accept-Encoding (server/src/dashboard.rs).
echo "==> precompressing (brotli, gzip)"
fast=$($release || echo --fast)
node scripts/precompress.mjs $fast "$site"/pkg/*.wasm "$site/pkg/kabar.js" "$site/pkg/__wasm_split.js" \
  "$site/pkg/kabar.css" "$site/docs/swagger-ui-bundle.js" "$site/docs/swagger-ui.css" | grep -v chunk_

# The budget is on what a first visit downloads over HTTPS: the brotli copies of the main
# module, its JS, the split loader and the largest group of pages with its shared chunks
# (scripts/split-manifest.mjs, which also writes the list the server preloads from). 363 KiB
# brotli is what the former 500 KiB gzip budget measured on the same bundle before the split
# (gzip -9 moves by ±3 KiB when code is only reordered, too much for a tight budget). Over plain
# HTTP browsers take the gzip copies.
budget=$((363 * 1024))
raw=$(stat -c %s "$site/pkg/kabar.wasm")
br=$(stat -c %s "$site/pkg/kabar.wasm.br")
echo "==> dashboard main module: kabar.wasm $((raw / 1024)) KiB raw, $((br / 1024)) KiB brotli ($profile);" \
  "$(ls "$site"/pkg/*.wasm | wc -l) WebAssembly files in all"
status=0
node scripts/split-manifest.mjs "$site/pkg" "$budget" || status=$?
if [ "$status" = 2 ]; then
  if $release; then echo "warning: a first visit downloads more than $budget bytes brotli" >&2; fi
elif [ "$status" != 0 ]; then
  exit "$status"
fi

# Content-hashed names: the whole bundle moves into pkg/<hash of all its files>/, and
# pkg/build-id names that directory for the server (server/src/dashboard.rs), which points the
# pages there and serves it `immutable` — a browser keeps it for a year and never asks again,
# and a new build is a new directory. One hash for the directory rather than one per file:
# kabar.js and __wasm_split.js import each other by relative name, so per-file hashes would
# depend on each other.
id=$(cd "$site/pkg" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
mv "$site/pkg" "$site/pkg.$id"
mkdir "$site/pkg"
mv "$site/pkg.$id" "$site/pkg/$id"
echo "$id" > "$site/pkg/build-id"
echo "==> bundle in $site/pkg/$id/"
