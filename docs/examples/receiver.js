// A Kabar webhook receiver for Node.js 20+, with no dependencies.
//
//   KABAR_WEBHOOK_SECRET=your-secret PORT=8080 node receiver.js
//
// It listens on 127.0.0.1:$PORT (8080 by default, since Kabar itself uses 3000; 0 picks a free
// port) and prints `listening <port>`. For every POST it checks the signatures, keyed with your
// webhook secret: X-Signature (the lowercase hex HMAC-SHA256 of the raw body) or Standard
// Webhooks' webhook-signature (base64 HMAC-SHA256 of "id.timestamp.body", at most 5 minutes
// old). If either one is right, it answers
//   200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, otherwise
//   401 and prints {"verified":false}.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

const secret = process.env.KABAR_WEBHOOK_SECRET;
if (!secret) {
  console.error('Set KABAR_WEBHOOK_SECRET to the webhook secret saved in Kabar.');
  process.exit(2);
}
const port = Number(process.env.PORT || 8080);

// The original's snippet hashed JSON.stringify(req.body); Kabar sends compact JSON, so that
// gives the same bytes, but hashing the raw body is simpler and safer. timingSafeEqual does not
// reveal, through timing, how much of a forged signature was right.
function verifySignature(rawBody, signature, secret) {
  const digest = crypto.createHmac('sha256', secret).update(rawBody).digest('hex');
  const given = Buffer.from(String(signature || ''));
  const expected = Buffer.from(digest);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

// Standard Webhooks: the signature also covers the id and the time of the attempt, so a request
// recorded and sent again later than toleranceSecs is refused.
function verifyStandard(rawBody, headers, secret, toleranceSecs = 300) {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  if (!id || !/^\d+$/.test(ts || '')) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > toleranceSecs) return false;
  const expected = Buffer.from(
    crypto.createHmac('sha256', secret).update(`${id}.${ts}.`).update(rawBody).digest('base64'));
  return String(headers['webhook-signature'] || '').split(' ').some((entry) => {
    const [version, sig] = entry.split(',');
    const given = Buffer.from(sig || '');
    return version === 'v1' && given.length === expected.length
      && crypto.timingSafeEqual(given, expected);
  });
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { Allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks); // the exact bytes Kabar signed
    // Either signature will do. To refuse replays outright, drop the X-Signature check.
    if (!verifySignature(raw, req.headers['x-signature'], secret)
      && !verifyStandard(raw, req.headers, secret)) {
      console.log(JSON.stringify({ verified: false }));
      res.writeHead(401).end();
      return;
    }
    let event = '';
    try {
      event = JSON.parse(raw.toString('utf8')).event; // {"event","data","timestamp"}
    } catch {}
    // X-Webhook-Id is the same on every retry of one event: use it to drop duplicates.
    const id = req.headers['x-webhook-id'] || '';
    console.log(JSON.stringify({ verified: true, event, id }));
    res.writeHead(200).end(); // answer quickly; do slow work after answering
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
