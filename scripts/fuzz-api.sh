#!/usr/bin/env bash
# The fuzz pass: schemathesis (PyPI, pinned) generates requests for every operation of
# /openapi.json and checks the answers of an already-built `kabar` on the simulator engine: no
# 5xx, no status, content type, header or body outside the spec, 4xx for schema-invalid input,
# 401 without credentials, 405 for undocumented methods, and the server still alive at the end.
#   scripts/fuzz-api.sh          (after `cargo build -p server --bin kabar`; scripts/test.sh runs it)
# Environment: KABAR_BIN (default target/debug/kabar), KABAR_FUZZ_EXAMPLES (test cases per
# operation and phase, default 100: about 50 s on 2 cores), KABAR_FUZZ_SEED (default 1: the same
# cases every run), KABAR_FUZZ_TIMEOUT (hard limit in seconds, default 600). Reports (JUnit, and
# every request and answer as HAR) go to target/schemathesis-report.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

SCHEMATHESIS_VERSION=4.32.5
venv=target/schemathesis-venv
ensure_python
ensure_python_venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

bin=${KABAR_BIN:-${CARGO_TARGET_DIR:-target}/debug/kabar}
if [ ! -x "$bin" ]; then
  echo "error: $bin is missing; build it first: cargo build -p server --bin kabar" >&2
  exit 1
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Sends are not rate-limited here (--send-rate 0) so that generated sends can succeed; the
# limiter has its own tests. Disconnected sessions come back quickly. Private webhook addresses
# are allowed for the set-up's endpoint (a closed loopback port: deliveries fail fast).
"$bin" --addr "127.0.0.1:$port" --data-dir "$work/data" --engine simulator --send-rate 0 \
  --simulator-reconnect-ms 200 --allow-private-webhooks >"$work/kabar.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Set-up over HTTP: the first admin, two connected sessions, an API key limited to the first,
# a webhook endpoint on it and one delivery (a test event), and a second user with a key.
# `main` serves the REST calls (the key names it); `spare`, the second user and their key are
# what the destructive operations (delete, log out, stop, disable, revoke) get to act on, so the
# run's own key, admin and session keep working to the end.
python3 - "$base" >"$work/env" <<'EOF'
import json, sys, time, urllib.request, urllib.error

base = sys.argv[1]
for _ in range(200):
    try:
        if urllib.request.urlopen(base + "/healthz", timeout=2).status == 200:
            break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("kabar did not become ready")

cookie = None
def call(method, path, body=None, headers=None):
    global cookie
    req = urllib.request.Request(base + path, method=method, headers=dict(headers or {}))
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=10) as r:
        set_cookie = r.headers.get("Set-Cookie")
        if set_cookie:
            cookie = set_cookie.split(";")[0]
        return json.load(r)

call("POST", "/api/auth/register", {"username": "fuzz-admin", "password": "fuzz-password-1"})
main = call("POST", "/api/sessions", {"name": "main"})["id"]
spare = call("POST", "/api/sessions", {"name": "spare"})["id"]
call("POST", f"/simulator/sessions/{main}/scan", {"phoneNumber": "6281234567890", "pushName": "Fuzz"})
call("POST", f"/simulator/sessions/{spare}/scan", {"phoneNumber": "6281234567891", "pushName": "Spare"})
key = call("POST", "/api/keys", {"name": "fuzz", "sessionId": main})["key"]
call("PUT", f"/api/sessions/{main}/webhook", {"url": "http://127.0.0.1:9/hook", "secret": "s3cret"})
call("POST", "/api/webhooks/test", {"sessionId": main})
delivery = call("GET", "/api/webhooks/deliveries")[0]["id"]
victim = call("POST", "/api/users", {"username": "fuzz-victim", "password": "fuzz-password-2"})["id"]
victim_key = call("POST", "/api/keys", {"name": "victim", "ownerId": victim})["id"]
print(f"KEY={key}\nMAIN={main}\nSPARE={spare}\nDELIVERY={delivery}\nVICTIM={victim}\nVICTIM_KEY={victim_key}")
EOF
# shellcheck disable=SC1091
source "$work/env"

# Known ids beside random ones: half the time a path `id` is the main session (so the session,
# webhook and simulator operations get past 404), half the time whatever schemathesis makes up.
cat >"$work/schemathesis.toml" <<EOF
base-url = "$base"
headers = { "X-API-KEY" = "$KEY" }
request-timeout = 20
# GET /api/sessions/{id}/events is a never-ending event stream: read its first event only.
max-stream-events = 1

# Every run starts from nothing (no state kept in .schemathesis/ between runs).
[cache]
enabled = false

[generation]
max-examples = ${KABAR_FUZZ_EXAMPLES:-100}
database = "none"
# The key above is the credential; made-up X-API-KEY / api_key / cookie values would only test
# the 401 path (the ignored_auth check does that on purpose).
with-security-parameters = false

[dictionaries.main]
values = ["$MAIN"]

[dictionaries.spare]
values = ["$SPARE"]

[dictionaries.delivery]
values = ["$DELIVERY"]

[dictionaries.victim]
values = ["$VICTIM"]

[dictionaries.victim-key]
values = ["$VICTIM_KEY"]

[parameters]
"path.id" = { dictionary = "main", probability = 0.5 }
"query.session" = { dictionary = "main", probability = 0.5 }
"header.X-Session-Id" = { dictionary = "main", probability = 0.5 }

# The destructive operations never get ids seen in earlier answers (those include the run's
# own key, admin and main session: revoking, deleting, disabling or logging out one of them
# would turn the rest of the run into 401s, 404s and 409s). They get made-up ids, or the ones
# made for them above.
[[operations]]
include-operation-id = ["deleteSession", "logoutSession", "stopSession", "simulatorLogout"]
parameters = { "path.id" = { dictionary = "spare", probability = 0.5 } }
phases.examples.extra-data-sources.responses = false
phases.coverage.extra-data-sources.responses = false
phases.fuzzing.extra-data-sources.responses = false
phases.stateful.enabled = false

[[operations]]
include-operation-id = ["deleteUser", "updateUser"]
parameters = { "path.id" = { dictionary = "victim", probability = 0.5 } }
phases.examples.extra-data-sources.responses = false
phases.coverage.extra-data-sources.responses = false
phases.fuzzing.extra-data-sources.responses = false
phases.stateful.enabled = false

[[operations]]
include-operation-id = "revokeKey"
parameters = { "path.id" = { dictionary = "victim-key", probability = 0.5 } }
phases.examples.extra-data-sources.responses = false
phases.coverage.extra-data-sources.responses = false
phases.fuzzing.extra-data-sources.responses = false
phases.stateful.enabled = false

[[operations]]
include-operation-id = ["getDelivery", "retryDelivery"]
parameters = { "path.id" = { dictionary = "delivery", probability = 0.5 } }

# A media url that cannot be fetched is the contract's 502 MEDIA_FETCH_FAILED (documented):
# the server did its job, the other one did not. Any other 5xx still fails.
[[operations]]
include-operation-id = "sendMedia"
checks.not_a_server_error.expected-statuses = ["2XX", "3XX", "4XX", "502"]
EOF

echo "==> schemathesis $SCHEMATHESIS_VERSION against $base/openapi.json (kabar pid $pid)"
started=$(date +%s)
status=0
# All checks but positive_data_acceptance: a schema cannot say every rule the server applies
# (a username's characters, a phone number, a reachable webhook URL), so schema-valid input
# is rightly refused with a documented 400 at times.
timeout "${KABAR_FUZZ_TIMEOUT:-600}" \
  "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance \
  --seed "${KABAR_FUZZ_SEED:-1}" --workers 2 --no-color \
  --report junit,har --report-dir target/schemathesis-report || status=$?
echo "==> fuzz pass took $(($(date +%s) - started)) s"

if ! kill -0 "$pid" 2>/dev/null; then
  echo "error: kabar died during the fuzz pass; its log:" >&2
  tail -n 50 "$work/kabar.log" >&2
  exit 1
fi
if grep -q "panicked" "$work/kabar.log"; then
  echo "error: a handler panicked during the fuzz pass:" >&2
  grep -B2 -A10 "panicked" "$work/kabar.log" | head -n 60 >&2
  exit 1
fi
# A run whose credential or session stopped working would pass while testing nothing.
alive=$(python3 - "$base" "$KEY" <<'EOF'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/status", headers={"X-API-KEY": sys.argv[2]})
try:
    print(json.load(urllib.request.urlopen(req, timeout=10))["status"])
except Exception as e:
    print(f"unreachable ({e})")
EOF
)
if [ "$alive" != connected ]; then
  echo "error: after the run, GET /status with the run's key answers: $alive" >&2
  exit 1
fi
if [ "$status" = 124 ]; then
  echo "error: the fuzz pass took longer than ${KABAR_FUZZ_TIMEOUT:-600} s" >&2
  exit 1
fi
if [ "$status" != 0 ]; then
  echo "error: schemathesis found problems (above; requests and answers in target/schemathesis-report)" >&2
  grep -E "ERROR|error" "$work/kabar.log" | tail -n 20 >&2 || true
  exit "$status"
fi
