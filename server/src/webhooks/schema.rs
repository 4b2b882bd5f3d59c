//! The OpenAPI 3.1 `webhooks` section: every event Kabar delivers, with its payload schema, the
//! headers that sign it and an example, so code generators can type the receiver's side too.
//! utoipa has no `webhooks` yet, so this section is added to the generated document as JSON;
//! the `data` schemas are the payload types' own (`components/schemas`), and a test validates
//! real deliveries against them.

use app::model::event;
use serde_json::{Value, json};

/// `(event, data schema, summary, example data)`.
fn events() -> Vec<(&'static str, Value, &'static str, Value)> {
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    vec![
        (
            event::MESSAGE_IN,
            schema("MessageInData"),
            "A contact wrote to the session (`type`: text, interactive, image, …).",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0C0FFEE000001", "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "pushName": "Budi", "type": "text", "message": "Halo, masih buka?", "timestamp": 1735460000000_i64}),
        ),
        (
            event::MESSAGE_OUT,
            schema("MessageOutData"),
            "The session sent a message (`source`: api, auto_reply, or device — typed on the phone).",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0ABCDEF0123456789", "to": "6281234567890", "type": "text", "message": "Masih, kak!", "source": "api", "timestamp": 1735460001000_i64}),
        ),
        (
            event::INTERACTION_BUTTON,
            schema("InteractionButtonData"),
            "A contact answered an interactive message with a button (a tap, a typed number, a poll vote).",
            json!({"sessionId": "9f8e7d6c5b4a3921", "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "messageId": "3EB0ABCDEF0123456789", "buttonId": "order_yes", "buttonText": "Ya, Lanjut", "timestamp": 1735460002000_i64}),
        ),
        (
            event::INTERACTION_LIST,
            schema("InteractionListData"),
            "A contact picked a row of a list message.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "messageId": "3EB0ABCDEF0123456789", "rowId": "help_order", "rowTitle": "Cek Pesanan", "rowDescription": "Lihat status pesanan terakhir", "timestamp": 1735460003000_i64}),
        ),
        (
            event::INTERACTION_TIMEOUT,
            schema("InteractionTimeoutData"),
            "Nobody answered an interactive message within its `expiresIn`.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0ABCDEF0123456789", "to": "6281234567890", "timestamp": 1735460300000_i64}),
        ),
        (
            event::CONNECTION_UPDATE,
            schema("ConnectionUpdateData"),
            "The session's link changed: connected, disconnected, logged out, or waiting for a scan.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "status": "connected", "phoneNumber": "6281234567890", "pushName": "Toko Budi", "reason": null}),
        ),
        (
            event::MESSAGE_REACTION,
            schema("MessageReactionData"),
            "A contact reacted to a message (`emoji` \"\": the reaction was taken back).",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0ABCDEF0123456789", "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "emoji": "👍", "timestamp": 1735460004000_i64}),
        ),
        (
            event::MESSAGE_EDITED,
            schema("MessageEditedData"),
            "A contact edited one of their messages.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0C0FFEE000001", "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "message": "Halo, besok masih buka?", "timestamp": 1735460005000_i64}),
        ),
        (
            event::MESSAGE_REVOKED,
            schema("MessageRevokedData"),
            "A contact deleted one of their messages for everyone.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0C0FFEE000001", "from": "6281234567890", "chat": "6281234567890", "isGroup": false, "timestamp": 1735460006000_i64}),
        ),
        (
            event::MESSAGE_STATUS,
            schema("MessageStatusData"),
            "A message the session sent was delivered, read or played.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0ABCDEF0123456789", "to": "6281234567890", "status": "read", "timestamp": 1735460007000_i64}),
        ),
        (
            event::POLL_VOTE,
            schema("PollVoteData"),
            "A contact voted in a poll sent with /send-poll.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "messageId": "3EB0ABCDEF0123456789", "from": "6282222222222", "chat": "120363025246125486@g.us", "isGroup": true, "options": ["Pagi"], "participant": "6282222222222", "timestamp": 1735460008000_i64}),
        ),
        (
            event::GROUP_PARTICIPANTS,
            schema("GroupParticipantsData"),
            "Members of a group the session is in were added, removed, promoted or demoted, or joined or left (also by the session itself).",
            json!({"sessionId": "9f8e7d6c5b4a3921", "group": "120363025246125486@g.us", "action": "add", "participants": ["6282222222222"], "by": "6281234567890", "timestamp": 1735460009000_i64}),
        ),
        (
            event::GROUP_UPDATE,
            schema("GroupUpdateData"),
            "A group's subject or description changed (`description` \"\": removed).",
            json!({"sessionId": "9f8e7d6c5b4a3921", "group": "120363025246125486@g.us", "subject": "Pesanan Desember", "by": "6281234567890", "timestamp": 1735460010000_i64}),
        ),
        (
            event::WEBHOOK_TEST,
            json!({
                "type": "object",
                "required": ["sessionId", "message"],
                "properties": {
                    "sessionId": {"type": ["string", "null"], "description": "The session whose endpoint was tested; null for the global one."},
                    "message": {"type": "string"}
                }
            }),
            "Sent by the \"send test event\" button or POST /api/webhooks/test.",
            json!({"sessionId": "9f8e7d6c5b4a3921", "message": "This is a test event from Kabar."}),
        ),
    ]
}

fn header(name: &str, description: &str, required: bool) -> Value {
    json!({"name": name, "in": "header", "required": required, "description": description, "schema": {"type": "string"}})
}

/// The `webhooks` object: one `post` per event.
pub fn section() -> Value {
    let headers = json!([
        header("X-Webhook-Event", "The event's name, as in the body.", true),
        header(
            "X-Webhook-Id",
            "The event's id: the same on every retry of one event.",
            true
        ),
        header(
            "X-Signature",
            "Lowercase hex HMAC-SHA256 of the raw body with the endpoint's secret (when one is set).",
            false
        ),
        header("webhook-id", "Standard Webhooks: the event's id.", true),
        header(
            "webhook-timestamp",
            "Standard Webhooks: seconds since the Unix epoch.",
            true
        ),
        header(
            "webhook-signature",
            "Standard Webhooks: `v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">` (when a secret is set).",
            false
        ),
    ]);
    let mut out = serde_json::Map::new();
    for (name, data, summary, example) in events() {
        let operation = name
            .split('.')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<String>();
        out.insert(
            name.to_string(),
            json!({"post": {
                "operationId": format!("webhook{operation}"),
                "summary": summary,
                "tags": ["webhooks"],
                "parameters": headers,
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["event", "data", "timestamp"],
                        "properties": {
                            "event": {"type": "string", "const": name},
                            "data": data,
                            "timestamp": {"type": "integer", "description": "When the event happened, ms since the Unix epoch."}
                        }
                    },
                    "example": {"event": name, "data": example, "timestamp": 1735460000123_i64}
                }}},
                "responses": {
                    "2XX": {"description": "Received. Anything else (or no answer in time) is retried with backoff; 410 Gone disables the endpoint."}
                }
            }}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_event_has_a_webhook_entry() {
        let section = super::section();
        for name in app::model::event::ALL {
            assert!(section.get(name).is_some(), "{name}");
        }
        assert_eq!(
            section["message.in"]["post"]["operationId"],
            "webhookMessageIn"
        );
    }
}
