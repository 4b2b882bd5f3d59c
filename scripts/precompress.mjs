// Writes <file>.br and <file>.gz beside each file given, so the server can answer a browser's
// Accept-Encoding with bytes compressed once, at build time, at the highest levels (brotli 11,
// gzip 9) — too slow to do per request, and nothing to do at run time. Node's own zlib: no
// package to install. `--fast` (debug bundles) trades size for build time.
//   node scripts/precompress.mjs [--fast] FILE…
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const args = process.argv.slice(2);
const fast = args[0] === '--fast';
const files = fast ? args.slice(1) : args;
for (const file of files) {
  const data = readFileSync(file);
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: fast ? 4 : 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  const gz = gzipSync(data, { level: fast ? 6 : 9 });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  console.log(`${file}: ${data.length} → br ${br.length}, gzip ${gz.length}`);
}
