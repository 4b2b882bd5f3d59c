// After wasm-split: which files each lazy group of pages needs, read from the loader it wrote
// (pkg/__wasm_split.js), written to pkg/split-manifest.json for the server, which names them in
// <link rel="preload"> so a first visit fetches a page's chunks beside the main module instead of
// after it (server/src/dashboard.rs reads it, app/src/shell.rs's preload_group names them). Then prints what a first visit downloads for each group
// (main module + the group's files, brotli and gzip: run after precompress.mjs) and exits 2
// when the largest is over the budget given in bytes of brotli.
//   node scripts/split-manifest.mjs PKG_DIR BUDGET
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [pkg, budgetArg] = process.argv.slice(2);
const budget = Number(budgetArg);
const loader = readFileSync(join(pkg, '__wasm_split.js'), 'utf8');
const fetched = String.raw`makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\./([^"]+)\.wasm"`;

// Shared chunks: `const __chunk_N = makeLoad(() => { const src = fetch(new URL("./chunk_N.wasm" …`.
const chunks = new Map();
for (const m of loader.matchAll(new RegExp(String.raw`const (__chunk_\d+) = ` + fetched, 'g'))) {
  chunks.set(m[1], m[2]);
}
// Groups: `export const __wasm_split_load_<name> = wrapAsyncCb(makeLoad(… "./<file>.wasm" …), [deps]));`
const manifest = {};
const group = new RegExp(
  String.raw`export const __wasm_split_load_(\w+) = wrapAsyncCb\(` + fetched + String.raw`[\s\S]*?\n, \[([^\]]*)\]\)\);`,
  'g',
);
for (const m of loader.matchAll(group)) {
  const deps = m[3].split(',').map((d) => d.trim()).filter(Boolean);
  const missing = deps.filter((d) => !chunks.has(d));
  if (missing.length) throw new Error(`${m[1]}: unknown chunks ${missing.join(', ')}`);
  manifest[m[1]] = [m[2], ...deps.map((d) => chunks.get(d))];
}
if (Object.keys(manifest).length === 0) throw new Error(`no lazy groups found in ${pkg}/__wasm_split.js`);
writeFileSync(join(pkg, 'split-manifest.json'), JSON.stringify(manifest, null, 1));

const size = (file) => statSync(join(pkg, file)).size;
const shell = ['kabar.wasm', 'kabar.js', '__wasm_split.js'];
let largest = 0;
for (const [name, stems] of Object.entries(manifest)) {
  const files = [...shell, ...stems.map((s) => `${s}.wasm`)];
  const br = files.reduce((n, f) => n + size(`${f}.br`), 0);
  const gz = files.reduce((n, f) => n + size(`${f}.gz`), 0);
  largest = Math.max(largest, br);
  console.log(
    `==> first visit to a page of ${name.replace(/_\d+$/, '')}: ${files.length} files, ` +
      `${br} bytes brotli (${Math.round(br / 1024)} KiB), ${Math.round(gz / 1024)} KiB gzip`,
  );
}
console.log(`==> largest first visit: ${largest} bytes brotli; budget ${budget}`);
if (largest > budget) process.exit(2);
