"""A Python client generated from Kabar's /openapi.json (openapi-python-client), used as an
integrator would: sign up, make an API key, link a simulator session, send a message and read it
back from the message log. Run by scripts/clients-test.sh: KABAR_URL is a fresh
`kabar --engine simulator`, and `kabar_client` the package it generated."""

import os
import time

from kabar_client import AuthenticatedClient, Client
from kabar_client.api.accounts import login, register
from kabar_client.api.keys import create_key
from kabar_client.api.messages import get_status, list_messages, send_message
from kabar_client.api.sessions import create_session
from kabar_client.api.simulator import simulator_scan
from kabar_client.models import (
    Credentials, ErrorBody, NewApiKey, NewSession, Scan, SendMessage, SendMessageResponse,
)

BASE = os.environ["KABAR_URL"]


def check(ok, what):
    if not ok:
        raise SystemExit(f"client test: {what}")


anonymous = Client(base_url=BASE)
credentials = Credentials(username="py-admin", password="a-long-password")
answer = register.sync_detailed(client=anonymous, body=credentials)
check(answer.status_code == 200, f"register answered {answer.status_code} {answer.content!r}")
signed_in = login.sync(client=anonymous, body=credentials)
check(signed_in is not None and signed_in.token, f"login answered {signed_in!r}")

browser = Client(base_url=BASE, cookies={"auth-token": signed_in.token})
key = create_key.sync(client=browser, body=NewApiKey(name="py-client"))
check(not isinstance(key, ErrorBody) and key.key.startswith("kbr_"), f"key answered {key!r}")

# The API key goes in X-API-KEY, as docs/clients.md shows.
api = AuthenticatedClient(base_url=BASE, token=key.key, auth_header_name="X-API-KEY", prefix="")
session = create_session.sync(client=api, body=NewSession(name="Toko Py"))
check(session is not None and session.id, f"session answered {session!r}")
scanned = simulator_scan.sync_detailed(
    session.id, client=api, body=Scan(phone_number="6281200000002", push_name="Toko Py"))
check(scanned.status_code == 200, f"scan answered {scanned.status_code} {scanned.content!r}")
for _ in range(100):
    status = get_status.sync(client=api, session=session.id)
    if getattr(status, "is_connected", False):
        break
    time.sleep(0.1)
else:
    raise SystemExit(f"client test: the session did not connect: {status!r}")

sent = send_message.sync(client=api, session=session.id,
                         body=SendMessage(to="6289876543210", message="Halo dari Python!"))
check(isinstance(sent, SendMessageResponse) and sent.success, f"send answered {sent!r}")

# A typed error: the contract's code comes back as an ErrorBody.
bad = send_message.sync_detailed(client=api, session=session.id,
                                 body=SendMessage(to="not a number", message="x"))
check(bad.status_code == 400 and isinstance(bad.parsed, ErrorBody)
      and str(bad.parsed.error) == "INVALID_PHONE", f"a bad number answered {bad.parsed!r}")

log = list_messages.sync(client=api, session=session.id, direction="out", limit=10)
check(isinstance(log, list), f"messages answered {log!r}")
mine = [m for m in log if m.id == sent.message_id]
check(mine and mine[0].message == "Halo dari Python!", f"the log holds {log!r}")
print(f"python client: sent {sent.message_id} and read it back")
