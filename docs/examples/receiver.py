"""A Kabar webhook receiver for Python 3.11+, standard library only.

    KABAR_WEBHOOK_SECRET=your-secret PORT=8080 python3 receiver.py

It listens on 127.0.0.1:$PORT (8080 by default, since Kabar itself uses 3000; 0 picks a free
port) and prints `listening <port>`. For every POST it checks the signatures, keyed with your
webhook secret: X-Signature (the lowercase hex HMAC-SHA256 of the raw body) or Standard
Webhooks' webhook-signature (base64 HMAC-SHA256 of "id.timestamp.body", at most 5 minutes
old). If either one is right, it answers
  200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, otherwise
  401 and prints {"verified":false}.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ.get("KABAR_WEBHOOK_SECRET", "")
if not SECRET:
    print("Set KABAR_WEBHOOK_SECRET to the webhook secret saved in Kabar.", file=sys.stderr)
    sys.exit(2)
PORT = int(os.environ.get("PORT") or 8080)


def verify_signature(raw_body: bytes, signature: str, secret: str) -> bool:
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    # compare_digest takes the same time however much of a forged signature is right.
    return hmac.compare_digest(digest.encode(), (signature or "").encode())


def verify_standard(raw_body: bytes, headers, secret: str, tolerance_secs: int = 300) -> bool:
    # Standard Webhooks: the signature also covers the id and the time of the attempt, so a
    # request recorded and sent again later than tolerance_secs is refused.
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    # isascii(): isdigit() alone takes digits such as "²", which int() refuses.
    if not msg_id or not (ts.isascii() and ts.isdigit()):
        return False
    if abs(time.time() - int(ts)) > tolerance_secs:
        return False
    mac = hmac.new(secret.encode(), f"{msg_id}.{ts}.".encode() + raw_body, hashlib.sha256)
    expected = base64.b64encode(mac.digest())
    entries = headers.get("webhook-signature", "").split()
    return any(
        version == "v1" and hmac.compare_digest(sig.encode(), expected)
        for version, _, sig in (entry.partition(",") for entry in entries)
    )


def say(obj: dict) -> None:
    print(json.dumps(obj, separators=(",", ":"), ensure_ascii=False), flush=True)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # Either signature will do. To refuse replays outright, drop the X-Signature check.
        if not verify_signature(
            raw, self.headers.get("X-Signature"), SECRET
        ) and not verify_standard(raw, self.headers, SECRET):
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
