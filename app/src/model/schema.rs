//! OpenAPI schemas (server only, `ssr`) that `#[derive(ToSchema)]` cannot write because the
//! type's `Deserialize` is more than its fields: `SendMessage` also takes `replyToId`, and
//! `SendInteractive` is parsed by hand (`to` and `reply_to_id` beside an [`InteractiveForm`]).
//! Each schema describes exactly what the server accepts, so a request the spec allows is never
//! refused as malformed, and one it forbids (an unknown field) is.

use super::{InteractiveForm, SendInteractive, SendMessage};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr, Type,
        schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, SchemaType},
    },
};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// `to`, `reply_to_id` and its camelCase spelling, shared by both send requests.
fn recipient_properties() -> [(&'static str, RefOr<Schema>); 3] {
    [
        (
            "to",
            string(
                "The recipient: digits with an optional `+` (spaces, dashes, dots and \
                 parentheses are ignored; a leading `0` takes the default country code), or a \
                 JID (`…@s.whatsapp.net`, `…@g.us`).",
            )
            .examples(["6281234567890"])
            .into(),
        ),
        (
            "reply_to_id",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(
                    "Quotes an earlier message of this chat (its `messageId`).",
                ))
                .into(),
        ),
        (
            "replyToId",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some("`reply_to_id` in camelCase; either spelling works."))
                .into(),
        ),
    ]
}

impl PartialSchema for SendMessage {
    fn schema() -> RefOr<Schema> {
        let [to, reply, reply_camel] = recipient_properties();
        ObjectBuilder::new()
            .description(Some(
                "`POST /send-message`. `reply_to_id` as the original spells it; `replyToId` \
                 is accepted too.",
            ))
            .property(to.0, to.1)
            .required("to")
            .property(
                "message",
                string("The text (not blank; at most 65,536 characters).")
                    .examples(["Halo dari API!"]),
            )
            .required("message")
            .property(reply.0, reply.1)
            .property(reply_camel.0, reply_camel.1)
            .property(
                "mentions",
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(string("A number (digits with an optional `+`)."))
                    .description(Some(
                        "People the text mentions, in a group: write each in the text as \
                         `@<digits>` so their phones highlight it (at most 256).",
                    ))
                    .examples([serde_json::json!(["6281234567890"])]),
            )
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .into()
    }
}

impl ToSchema for SendMessage {}

impl PartialSchema for SendInteractive {
    fn schema() -> RefOr<Schema> {
        let RefOr::T(Schema::Object(mut form)) = InteractiveForm::schema() else {
            unreachable!("InteractiveForm derives an object schema")
        };
        for (i, (name, schema)) in recipient_properties().into_iter().enumerate() {
            form.properties.shift_insert(i, name.to_string(), schema);
        }
        form.required.insert(0, "to".to_string());
        form.description = Some(
            "`POST /send-interactive`: a recipient and an interactive message in either form \
             of the original. Native: `text` and `interactiveButtons` (`quick_reply`, \
             `single_select`, `cta_url`, `cta_call`, `cta_copy`). Simple: `type: \"button\"` \
             with `buttons`, or `type: \"list\"` with `buttonText` and `sections`. Which fields \
             go together, and WhatsApp's limits, are checked by the server (400 naming the \
             field)."
                .into(),
        );
        RefOr::T(Schema::Object(form))
    }
}

impl ToSchema for SendInteractive {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <InteractiveForm as ToSchema>::schemas(schemas);
    }
}

/// `buttonParamsJson`: a JSON string as in the original, or the same object unquoted.
pub fn button_params_json() -> Schema {
    OneOfBuilder::new()
        .item(string(
            "The button's parameters as a JSON string, e.g. \
             `{\"display_text\":\"Ya\",\"id\":\"btn_1\"}`.",
        ))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("The same parameters as an object.")),
        )
        .description(Some(
            "quick_reply `{display_text, id}`; single_select `{title, sections:[{title, \
             rows:[{header, title, description, id}]}]}`; cta_url `{display_text, url}`; \
             cta_call `{display_text, phone_number}`; cta_copy `{display_text, copy_code}`.",
        ))
        .into()
}
