#!/usr/bin/env bash
# Builds the dashboard bundle into target/site (what cargo-leptos would do, without its
# 36-minute install; see ARCHITECTURE.md): the frontend crate for wasm32, wasm-bindgen,
# wasm-opt (release only, from npm's binaryen), the CSS and public/.
#   scripts/build-site.sh            debug bundle (fast; used by the tests)
#   scripts/build-site.sh --release  optimised bundle, embedded by `cargo build --release`
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

release=false
[ "${1:-}" = "--release" ] && release=true

ensure_wasm_target
ensure_wasm_bindgen

if $release; then profile=wasm-release; else profile=dev; fi
out_profile_dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
echo "==> building the dashboard (frontend → wasm32, profile $profile)"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

site=target/site
rm -rf "$site/pkg"
mkdir -p "$site/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name kabar \
  "target/wasm32-unknown-unknown/$out_profile_dir/frontend.wasm"
# Leptos' hydration script loads /pkg/<output-name>.wasm.
mv "$site/pkg/kabar_bg.wasm" "$site/pkg/kabar.wasm"

if $release; then
  ensure_npm_packages
  echo "==> wasm-opt -Oz --converge (npm binaryen)"
  end2end/node_modules/.bin/wasm-opt -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$site/pkg/kabar.wasm" -o "$site/pkg/kabar.wasm"
fi

cp style/main.css "$site/pkg/kabar.css"
cp -r public/. "$site/"

raw=$(stat -c %s "$site/pkg/kabar.wasm")
gz=$(gzip -9 -c "$site/pkg/kabar.wasm" | wc -c)
echo "==> dashboard bundle: kabar.wasm $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzip ($profile)"
