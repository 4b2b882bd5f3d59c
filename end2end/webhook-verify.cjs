// Verifies real Kabar deliveries the way receivers do, run by the Rust integration tests:
//  1. the original product's Node.js snippet: hmac(JSON.stringify(req.body)) === X-Signature,
//     where req.body is the parsed JSON (as Express' json() middleware gives it);
//  2. the Standard Webhooks library (npm `standardwebhooks`) with "whsec_" + base64(secret).
// Usage: node webhook-verify.cjs deliveries.json  — a list of {body, headers, secret}.
// Prints one line "N passed, M failed" and exits non-zero on any failure.
const crypto = require('crypto');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const digest = hmac.update(JSON.stringify(payload)).digest('hex');
  return signature === digest;
}

const deliveries = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let passed = 0;
let failed = 0;
for (const d of deliveries) {
  const body = JSON.parse(d.body); // what express.json() hands the handler
  const original = verifySignature(body, d.headers['x-signature'], d.secret);
  let standard = false;
  try {
    const wh = new Webhook('whsec_' + Buffer.from(d.secret, 'utf8').toString('base64'));
    wh.verify(d.body, {
      'webhook-id': d.headers['webhook-id'],
      'webhook-timestamp': d.headers['webhook-timestamp'],
      'webhook-signature': d.headers['webhook-signature'],
    });
    standard = true;
  } catch (e) {
    console.error('standardwebhooks:', e.message);
  }
  if (original && standard) {
    passed++;
  } else {
    failed++;
    console.error(`FAILED original=${original} standard=${standard}: ${d.body}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
