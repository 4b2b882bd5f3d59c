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

ensure_wasm_target
ensure_wasm_bindgen
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
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name kabar \
  "$cargo_target/wasm32-unknown-unknown/$out_profile_dir/frontend.wasm"
# Leptos' hydration script loads /pkg/<output-name>.wasm.
mv "$site/pkg/kabar_bg.wasm" "$site/pkg/kabar.wasm"

if $release; then
  echo "==> wasm-opt -Oz --converge (npm binaryen)"
  end2end/node_modules/.bin/wasm-opt -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$site/pkg/kabar.wasm" -o "$site/pkg/kabar.wasm"
fi

cp style/main.css "$site/pkg/kabar.css"
cp -r public/. "$site/"

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

raw=$(stat -c %s "$site/pkg/kabar.wasm")
gz=$(gzip -9 -c "$site/pkg/kabar.wasm" | wc -c)
echo "==> dashboard bundle: kabar.wasm $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzip ($profile)"
