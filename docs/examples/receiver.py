"""A Kabar webhook receiver for Python 3.11+, standard library only.

    KABAR_WEBHOOK_SECRET=your-secret PORT=3000 python3 receiver.py

It listens on 127.0.0.1:$PORT (3000 by default; 0 picks a free port) and prints
`listening <port>`. For every POST it checks X-Signature, the lowercase hex
HMAC-SHA256 of the raw body keyed with your webhook secret, then answers
  200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, or
  401 and prints {"verified":false}.
"""

import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ.get("KABAR_WEBHOOK_SECRET", "")
if not SECRET:
    print("Set KABAR_WEBHOOK_SECRET to the webhook secret saved in Kabar.", file=sys.stderr)
    sys.exit(2)
PORT = int(os.environ.get("PORT") or 3000)


def verify_signature(raw_body: bytes, signature: str, secret: str) -> bool:
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    # compare_digest takes the same time however much of a forged signature is right.
    return hmac.compare_digest(digest.encode(), (signature or "").encode())


def say(obj: dict) -> None:
    print(json.dumps(obj, separators=(",", ":"), ensure_ascii=False), flush=True)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not verify_signature(raw, self.headers.get("X-Signature"), SECRET):
            say({"verified": False})
            self.send_response(401)
            self.end_headers()
            return
        try:
            event = json.loads(raw)["event"]  # {"event","data","timestamp"}
        except (ValueError, KeyError, TypeError):
            event = ""
        # X-Webhook-Id is the same on every retry of one event: use it to drop duplicates.
        say({"verified": True, "event": event, "id": self.headers.get("X-Webhook-Id", "")})
        self.send_response(200)  # answer quickly; do slow work after answering
        self.end_headers()

    def log_message(self, format, *args):
        pass  # keep stdout to one line per delivery


server = HTTPServer(("127.0.0.1", PORT), Receiver)
print(f"listening {server.server_address[1]}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
