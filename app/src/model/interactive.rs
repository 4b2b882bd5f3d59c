//! Interactive messages (contract §4 `POST /send-interactive`): the two request forms of the
//! original, the one typed model both parse into, WhatsApp's limits, and the plain-text and
//! poll renderings of the fallback.
//!
//! - [`InteractiveForm`]: what a client sends — the native form (`interactiveButtons` with
//!   `name` + `buttonParamsJson`) or the simple form (`type` + `buttons` | `buttonText` +
//!   `sections`). [`SendInteractive`] adds `to` and `reply_to_id`.
//! - [`Interactive`]: the checked model, stored with every sent message so that a reply can be
//!   resolved to its button text or row title ([`Interactive::options`]).
//! - [`Interactive::text_menu`] / [`Interactive::poll`]: the `fallback` renderings, and
//!   [`pick_from_text`]: how a typed reply ("2", "Ya") picks an option.

use super::ErrorBody;
use super::ErrorCode;
use serde::{Deserialize, Serialize};

/// WhatsApp's limits for interactive messages (what its apps render without cutting).
pub mod limits {
    /// Quick-reply buttons per message (the original's rule: "Maximum 3 buttons").
    pub const BUTTONS: usize = 3;
    pub const BUTTON_TEXT: usize = 20;
    pub const ID: usize = 256;
    pub const BODY: usize = 1024;
    pub const TITLE: usize = 60;
    pub const FOOTER: usize = 60;
    /// Rows in a list, across all its sections.
    pub const ROWS: usize = 10;
    pub const SECTIONS: usize = 10;
    pub const SECTION_TITLE: usize = 24;
    pub const ROW_TITLE: usize = 24;
    pub const ROW_DESCRIPTION: usize = 72;
    pub const URL: usize = 2000;
    /// `expiresIn`: at most a week.
    pub const EXPIRES_IN_SECS: u64 = 7 * 24 * 3600;
}

/// The message the original answers when a message has too many buttons.
pub const BUTTON_LIMIT_MESSAGE: &str = "Maximum 3 buttons allowed per message";

/// How an interactive message is rendered for phones that do not show buttons (contract §4,
/// beyond the original): per request, else the session's setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    all(feature = "hydrate", not(feature = "ssr")),
    serde(try_from = "String")
)]
pub enum Fallback {
    /// Native buttons/list only.
    #[default]
    None,
    /// A plain text message with the choices as a numbered menu; a reply "2" or the option's
    /// text resolves as a tap would.
    Text,
    /// A single-choice poll whose options are the choices; a vote resolves as a tap would.
    Poll,
}

named_enum!(Fallback: Fallback::None, Fallback::Text, Fallback::Poll);

impl Fallback {
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::None => "none",
            Fallback::Text => "text",
            Fallback::Poll => "poll",
        }
    }

    pub fn parse(s: &str) -> Option<Fallback> {
        match s {
            "none" => Some(Fallback::None),
            "text" => Some(Fallback::Text),
            "poll" => Some(Fallback::Poll),
            _ => None,
        }
    }
}

/// `button` or `list`: the response's `type`, and which `interaction.*` event a reply makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    all(feature = "hydrate", not(feature = "ssr")),
    serde(try_from = "String")
)]
pub enum InteractiveKind {
    Button,
    List,
}

named_enum!(InteractiveKind: InteractiveKind::Button, InteractiveKind::List);

impl InteractiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InteractiveKind::Button => "button",
            InteractiveKind::List => "list",
        }
    }
}

/// One entry of the native form: `{"name": "quick_reply", "buttonParamsJson": "{…}"}`.
/// `buttonParamsJson` is a JSON string as in the original; an object is accepted too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NativeButton {
    /// `quick_reply`, `single_select`, `cta_url`, `cta_call` or `cta_copy`.
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = super::schema::button_params_json))]
    pub button_params_json: serde_json::Value,
}

/// A button of the simple form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SimpleButton {
    pub id: String,
    pub text: String,
}

/// A list section (both forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Required when a list has more than one section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<Row>,
}

/// A list row (both forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

/// An interactive message as a client describes it, in either form (everything but the
/// recipient). Also what an auto-reply rule stores to open a menu.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InteractiveForm {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// The native form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive_buttons: Option<Vec<NativeButton>>,
    /// The simple form: `button` or `list`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<SimpleButton>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<Section>>,
    /// Overrides the session's fallback for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Seconds to wait for an answer before `interaction.timeout` is emitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// `POST /send-interactive`: a recipient, an optional quote, and the form.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendInteractive {
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
    #[serde(flatten)]
    pub form: InteractiveForm,
}

/// Parsed by hand so that unknown fields are still refused: `to` and `reply_to_id` are taken
/// out, the rest must be an [`InteractiveForm`] exactly.
impl<'de> Deserialize<'de> for SendInteractive {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let to = match map.remove("to") {
            Some(serde_json::Value::String(s)) => s,
            Some(_) => return Err(D::Error::custom("to: expected a string")),
            None => return Err(D::Error::missing_field("to")),
        };
        let reply_to_id = match map
            .remove("reply_to_id")
            .or_else(|| map.remove("replyToId"))
        {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(_) => return Err(D::Error::custom("reply_to_id: expected a string")),
        };
        let form = serde_path_to_error::deserialize(serde_json::Value::Object(map))
            .map_err(D::Error::custom)?;
        Ok(SendInteractive {
            to,
            reply_to_id,
            form,
        })
    }
}

/// The answer to `POST /send-interactive`, exactly the original's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendInteractiveResponse {
    pub success: bool,
    pub message_id: String,
    pub to: String,
    #[serde(rename = "type")]
    pub kind: InteractiveKind,
    pub timestamp: i64,
}

/// A checked interactive message: what is sent and what replies are resolved against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Interactive {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    pub body: Body,
}

/// Buttons or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Body {
    Button {
        buttons: Vec<Button>,
    },
    #[serde(rename_all = "camelCase")]
    List {
        /// The text of the button that opens the list.
        button_text: String,
        sections: Vec<Section>,
    },
}

/// One button. Only quick replies are choices a contact answers with; the others act on the
/// phone (open a link, call, copy a code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Button {
    QuickReply { id: String, text: String },
    CtaUrl { text: String, url: String },
    CtaCall { text: String, phone: String },
    CtaCopy { text: String, code: String },
}

impl Button {
    pub fn text(&self) -> &str {
        match self {
            Button::QuickReply { text, .. }
            | Button::CtaUrl { text, .. }
            | Button::CtaCall { text, .. }
            | Button::CtaCopy { text, .. } => text,
        }
    }

    /// The native-flow name WhatsApp knows the button by.
    pub fn native_name(&self) -> &'static str {
        match self {
            Button::QuickReply { .. } => "quick_reply",
            Button::CtaUrl { .. } => "cta_url",
            Button::CtaCall { .. } => "cta_call",
            Button::CtaCopy { .. } => "cta_copy",
        }
    }

    /// The native-flow `buttonParamsJson` for this button.
    pub fn native_params(&self) -> String {
        let v = match self {
            Button::QuickReply { id, text } => serde_json::json!({"display_text": text, "id": id}),
            Button::CtaUrl { text, url } => {
                serde_json::json!({"display_text": text, "url": url, "merchant_url": url})
            }
            Button::CtaCall { text, phone } => {
                serde_json::json!({"display_text": text, "phone_number": phone})
            }
            Button::CtaCopy { text, code } => {
                serde_json::json!({"display_text": text, "copy_code": code})
            }
        };
        v.to_string()
    }
}

/// A choice a contact can answer with: a quick reply or a list row, numbered from 1 in the
/// order shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
}

impl Interactive {
    pub fn kind(&self) -> InteractiveKind {
        match self.body {
            Body::Button { .. } => InteractiveKind::Button,
            Body::List { .. } => InteractiveKind::List,
        }
    }

    /// The choices, in the order shown (and numbered in the text fallback).
    pub fn options(&self) -> Vec<Choice<'_>> {
        match &self.body {
            Body::Button { buttons } => buttons
                .iter()
                .filter_map(|b| match b {
                    Button::QuickReply { id, text } => Some(Choice {
                        id,
                        title: text,
                        description: None,
                    }),
                    _ => None,
                })
                .collect(),
            Body::List { sections, .. } => sections
                .iter()
                .flat_map(|s| &s.rows)
                .map(|r| Choice {
                    id: &r.id,
                    title: &r.title,
                    description: r.description.as_deref(),
                })
                .collect(),
        }
    }

    /// The `native_flow` buttons: each button, or the one `single_select` of a list.
    pub fn native_buttons(&self) -> Vec<(&'static str, String)> {
        match &self.body {
            Body::Button { buttons } => buttons
                .iter()
                .map(|b| (b.native_name(), b.native_params()))
                .collect(),
            Body::List {
                button_text,
                sections,
            } => {
                let sections: Vec<serde_json::Value> = sections
                    .iter()
                    .map(|s| {
                        let rows: Vec<serde_json::Value> = s
                            .rows
                            .iter()
                            .map(|r| {
                                serde_json::json!({
                                    "header": r.header.clone().unwrap_or_default(),
                                    "title": r.title,
                                    "description": r.description.clone().unwrap_or_default(),
                                    "id": r.id,
                                })
                            })
                            .collect();
                        serde_json::json!({"title": s.title.clone().unwrap_or_default(), "rows": rows})
                    })
                    .collect();
                let params = serde_json::json!({"title": button_text, "sections": sections});
                vec![("single_select", params.to_string())]
            }
        }
    }

    /// The `text` fallback: the message with its choices as a numbered menu, for phones that
    /// do not show buttons. Link, call and copy buttons are written out.
    pub fn text_menu(&self) -> String {
        let mut out = String::new();
        if let Some(title) = &self.title {
            out.push_str(&format!("*{title}*\n\n"));
        }
        out.push_str(&self.text);
        out.push('\n');
        let mut n = 0;
        match &self.body {
            Body::Button { buttons } => {
                out.push('\n');
                for b in buttons {
                    match b {
                        Button::QuickReply { text, .. } => {
                            n += 1;
                            out.push_str(&format!("{n}. {text}\n"));
                        }
                        Button::CtaUrl { text, url } => {
                            out.push_str(&format!("🔗 {text}: {url}\n"))
                        }
                        Button::CtaCall { text, phone } => {
                            out.push_str(&format!("📞 {text}: {phone}\n"))
                        }
                        Button::CtaCopy { text, code } => {
                            out.push_str(&format!("📋 {text}: {code}\n"))
                        }
                    }
                }
            }
            Body::List { sections, .. } => {
                for s in sections {
                    out.push('\n');
                    if let Some(t) = &s.title {
                        out.push_str(&format!("*{t}*\n"));
                    }
                    for r in &s.rows {
                        n += 1;
                        match &r.description {
                            Some(d) if !d.is_empty() => {
                                out.push_str(&format!("{n}. {} — {d}\n", r.title))
                            }
                            _ => out.push_str(&format!("{n}. {}\n", r.title)),
                        }
                    }
                }
            }
        }
        if let Some(footer) = &self.footer {
            out.push_str(&format!("\n_{footer}_"));
        }
        out.trim_end().to_string()
    }

    /// The `poll` fallback: the question and the option names (unique, as WhatsApp requires).
    pub fn poll(&self) -> Result<(String, Vec<String>), ErrorBody> {
        if let Body::Button { buttons } = &self.body
            && buttons
                .iter()
                .any(|b| !matches!(b, Button::QuickReply { .. }))
        {
            return Err(invalid(
                "fallback: a poll cannot carry link, call or copy buttons; use \"text\".",
            ));
        }
        let options: Vec<String> = self.options().iter().map(|c| c.title.to_string()).collect();
        if options.len() < 2 {
            return Err(invalid(
                "fallback: a poll needs at least two choices; use \"text\" for one.",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = options.iter().find(|o| !seen.insert(super::fold(o))) {
            return Err(invalid(format!(
                "fallback: a poll needs distinct option titles; \"{dup}\" appears twice."
            )));
        }
        let question = match &self.title {
            Some(t) => format!("{t}\n{}", self.text),
            None => self.text.clone(),
        };
        Ok((question, options))
    }
}

/// Which option a typed reply picks: its number ("2", "2.", "(2)") or its title, compared
/// case-insensitively and trimmed. `None` when the text is anything else.
pub fn pick_from_text(options: &[Choice<'_>], text: &str) -> Option<usize> {
    let folded = super::fold(text);
    let digits = folded
        .trim_start_matches(['(', '#'])
        .trim_end_matches(['.', ')']);
    if let Ok(n) = digits.parse::<usize>()
        && (1..=options.len()).contains(&n)
    {
        return Some(n - 1);
    }
    options.iter().position(|c| super::fold(c.title) == folded)
}

fn invalid(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::InvalidRequest, message)
}

fn bad_params(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::InvalidButtonParams, message)
}

/// Checks a text field against its limit; answers it trimmed.
fn text_field(field: &str, value: &str, max: usize, required: bool) -> Result<String, ErrorBody> {
    let v = value.trim();
    if v.is_empty() && required {
        return Err(invalid(format!("{field}: required and not empty.")));
    }
    let n = v.chars().count();
    if n > max {
        return Err(invalid(format!(
            "{field}: at most {max} characters (got {n})."
        )));
    }
    Ok(v.to_string())
}

fn optional(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>, ErrorBody> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text_field(field, v, max, true).map(Some),
    }
}

fn id_field(field: &str, value: &str) -> Result<String, ErrorBody> {
    text_field(field, value, limits::ID, true)
}

impl InteractiveForm {
    /// Checks the form against the contract's rules and WhatsApp's limits and builds the model.
    /// Errors name the field: `buttons[1].text`, `interactiveButtons[0].buttonParamsJson`, ….
    pub fn parse(&self) -> Result<Interactive, ErrorBody> {
        let text = text_field("text", &self.text, limits::BODY, true)?;
        let title = optional("title", &self.title, limits::TITLE)?;
        let footer = optional("footer", &self.footer, limits::FOOTER)?;
        if let Some(secs) = self.expires_in
            && !(1..=limits::EXPIRES_IN_SECS).contains(&secs)
        {
            return Err(invalid(format!(
                "expiresIn: between 1 and {} seconds.",
                limits::EXPIRES_IN_SECS
            )));
        }
        let (body, fields) = match &self.interactive_buttons {
            Some(native) => {
                if self.buttons.is_some() || self.sections.is_some() || self.button_text.is_some() {
                    return Err(invalid(
                        "interactiveButtons: use either interactiveButtons (native form) or \
                         type with buttons/sections (simple form), not both.",
                    ));
                }
                let body = parse_native(native)?;
                if let Some(kind) = self.kind.as_deref() {
                    let parsed = match body {
                        Body::Button { .. } => "button",
                        Body::List { .. } => "list",
                    };
                    if kind != parsed {
                        return Err(invalid(format!(
                            "type: \"{kind}\" does not match interactiveButtons, which make a {parsed}."
                        )));
                    }
                }
                (
                    body,
                    (
                        "interactiveButtons",
                        "interactiveButtons[0].buttonParamsJson.sections",
                    ),
                )
            }
            None => (self.parse_simple()?, ("buttons", "sections")),
        };
        check_body(&body, fields.0, fields.1)?;
        Ok(Interactive {
            text,
            title,
            footer,
            body,
        })
    }

    fn parse_simple(&self) -> Result<Body, ErrorBody> {
        match self.kind.as_deref() {
            Some("button") => {
                if self.sections.is_some() || self.button_text.is_some() {
                    return Err(invalid(
                        "type: a \"button\" message takes buttons, not buttonText or sections.",
                    ));
                }
                let buttons = self
                    .buttons
                    .as_ref()
                    .ok_or_else(|| invalid("buttons: required for type \"button\"."))?;
                if buttons.is_empty() {
                    return Err(invalid("buttons: at least one button."));
                }
                if buttons.len() > limits::BUTTONS {
                    return Err(ErrorBody::new(
                        ErrorCode::ButtonLimitExceeded,
                        BUTTON_LIMIT_MESSAGE,
                    ));
                }
                let buttons = buttons
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        Ok(Button::QuickReply {
                            id: id_field(&format!("buttons[{i}].id"), &b.id)?,
                            text: text_field(
                                &format!("buttons[{i}].text"),
                                &b.text,
                                limits::BUTTON_TEXT,
                                true,
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, ErrorBody>>()?;
                Ok(Body::Button { buttons })
            }
            Some("list") => {
                if self.buttons.is_some() {
                    return Err(invalid(
                        "type: a \"list\" message takes buttonText and sections, not buttons.",
                    ));
                }
                let button_text = self
                    .button_text
                    .as_deref()
                    .ok_or_else(|| invalid("buttonText: required for type \"list\"."))?;
                let sections = self
                    .sections
                    .as_ref()
                    .ok_or_else(|| invalid("sections: required for type \"list\"."))?;
                list_body("buttonText", button_text, "sections", sections, invalid)
            }
            Some(other) => Err(invalid(format!(
                "type: \"button\" or \"list\" (got \"{other}\")."
            ))),
            None => Err(invalid(
                "type: required (\"button\" or \"list\"), or send interactiveButtons.",
            )),
        }
    }
}

/// Builds a list body, checking its texts. `missing` makes the error for absent or mistyped
/// parts: `INVALID_REQUEST` in the simple form, `INVALID_BUTTON_PARAMS` inside a
/// `buttonParamsJson`.
fn list_body(
    button_field: &str,
    button_text: &str,
    sections_field: &str,
    sections: &[Section],
    missing: fn(String) -> ErrorBody,
) -> Result<Body, ErrorBody> {
    if button_text.trim().is_empty() {
        return Err(missing(format!("{button_field}: required and not empty.")));
    }
    let button_text = text_field(button_field, button_text, limits::BUTTON_TEXT, true)?;
    if sections.is_empty() {
        return Err(invalid(format!(
            "{sections_field}: a list needs at least one section with a row."
        )));
    }
    if sections.len() > limits::SECTIONS {
        return Err(invalid(format!(
            "{sections_field}: at most {} sections.",
            limits::SECTIONS
        )));
    }
    let many = sections.len() > 1;
    let mut out = Vec::with_capacity(sections.len());
    for (i, s) in sections.iter().enumerate() {
        let field = format!("{sections_field}[{i}]");
        let title = optional(&format!("{field}.title"), &s.title, limits::SECTION_TITLE)?;
        if many && title.is_none() {
            return Err(invalid(format!(
                "{field}.title: required when a list has more than one section."
            )));
        }
        if s.rows.is_empty() {
            return Err(invalid(format!("{field}.rows: at least one row.")));
        }
        let mut rows = Vec::with_capacity(s.rows.len());
        for (j, r) in s.rows.iter().enumerate() {
            let f = format!("{field}.rows[{j}]");
            rows.push(Row {
                id: id_field(&format!("{f}.id"), &r.id)?,
                title: text_field(&format!("{f}.title"), &r.title, limits::ROW_TITLE, true)?,
                description: optional(
                    &format!("{f}.description"),
                    &r.description,
                    limits::ROW_DESCRIPTION,
                )?,
                header: optional(&format!("{f}.header"), &r.header, limits::ROW_TITLE)?,
            });
        }
        out.push(Section { title, rows });
    }
    let total: usize = out.iter().map(|s| s.rows.len()).sum();
    if total > limits::ROWS {
        return Err(invalid(format!(
            "{sections_field}: at most {} rows in all sections together (got {total}).",
            limits::ROWS
        )));
    }
    Ok(Body::List {
        button_text,
        sections: out,
    })
}

/// The native form: quick replies and call-to-action buttons, or one `single_select`.
fn parse_native(native: &[NativeButton]) -> Result<Body, ErrorBody> {
    if native.is_empty() {
        return Err(invalid("interactiveButtons: at least one button."));
    }
    if native.len() > limits::BUTTONS && native.iter().all(|b| b.name != "single_select") {
        return Err(ErrorBody::new(
            ErrorCode::ButtonLimitExceeded,
            BUTTON_LIMIT_MESSAGE,
        ));
    }
    let mut buttons = Vec::with_capacity(native.len());
    for (i, b) in native.iter().enumerate() {
        let field = format!("interactiveButtons[{i}].buttonParamsJson");
        let params = params_object(&field, &b.button_params_json)?;
        let get = |key: &str| -> Result<String, ErrorBody> {
            match params.get(key) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(serde_json::Value::Number(n)) if key == "id" => Ok(n.to_string()),
                _ => Err(bad_params(format!(
                    "{field}: \"{key}\" is required (a non-empty string) for {}.",
                    b.name
                ))),
            }
        };
        let display = |field: &str| -> Result<String, ErrorBody> {
            text_field(
                &format!("{field}.display_text"),
                &get("display_text")?,
                limits::BUTTON_TEXT,
                true,
            )
        };
        match b.name.as_str() {
            "quick_reply" => buttons.push(Button::QuickReply {
                text: display(&field)?,
                id: id_field(&format!("{field}.id"), &get("id")?)?,
            }),
            "cta_url" => {
                let url = get("url").or_else(|_| get("merchant_url"))?;
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://"))
                    || url.len() > limits::URL
                {
                    return Err(bad_params(format!(
                        "{field}.url: an http(s) URL of at most {} characters.",
                        limits::URL
                    )));
                }
                buttons.push(Button::CtaUrl {
                    text: display(&field)?,
                    url,
                });
            }
            "cta_call" => buttons.push(Button::CtaCall {
                text: display(&field)?,
                phone: get("phone_number")?,
            }),
            "cta_copy" => buttons.push(Button::CtaCopy {
                text: display(&field)?,
                code: get("copy_code")?,
            }),
            "single_select" => {
                if native.len() > 1 {
                    return Err(invalid(
                        "interactiveButtons: a single_select list is sent alone, without other buttons.",
                    ));
                }
                let title = get("title")?;
                let sections: Vec<Section> = match params.get("sections") {
                    Some(v) => serde_json::from_value(v.clone())
                        .map_err(|e| bad_params(format!("{field}.sections: {e}")))?,
                    None => {
                        return Err(bad_params(format!(
                            "{field}: \"sections\" is required for single_select."
                        )));
                    }
                };
                return list_body(
                    &format!("{field}.title"),
                    &title,
                    &format!("{field}.sections"),
                    &sections,
                    bad_params,
                );
            }
            other => {
                return Err(invalid(format!(
                    "interactiveButtons[{i}].name: \"{other}\" is not a button WhatsApp knows \
                     (quick_reply, single_select, cta_url, cta_call, cta_copy)."
                )));
            }
        }
    }
    Ok(Body::Button { buttons })
}

/// `buttonParamsJson` as an object: a JSON string that parses to one (the original's form),
/// or an object given directly.
fn params_object(
    field: &str,
    v: &serde_json::Value,
) -> Result<serde_json::Map<String, serde_json::Value>, ErrorBody> {
    let parsed = match v {
        serde_json::Value::String(s) => serde_json::from_str::<serde_json::Value>(s)
            .map_err(|e| bad_params(format!("{field}: not valid JSON ({e}).")))?,
        other => other.clone(),
    };
    match parsed {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(bad_params(format!("{field}: must be a JSON object."))),
    }
}

/// Ids unique within the message (buttons, or rows across sections). The fields name where
/// the buttons and sections came from, so the error points into the client's request.
fn check_body(body: &Body, buttons_field: &str, sections_field: &str) -> Result<(), ErrorBody> {
    let mut seen = std::collections::HashSet::new();
    match body {
        Body::Button { buttons } => {
            for (i, b) in buttons.iter().enumerate() {
                if let Button::QuickReply { id, .. } = b
                    && !seen.insert(id.as_str())
                {
                    return Err(invalid(format!(
                        "{buttons_field}[{i}].id: \"{id}\" is used twice; button ids must be unique."
                    )));
                }
            }
        }
        Body::List { sections, .. } => {
            for (i, s) in sections.iter().enumerate() {
                for (j, r) in s.rows.iter().enumerate() {
                    if !seen.insert(r.id.as_str()) {
                        return Err(invalid(format!(
                            "{sections_field}[{i}].rows[{j}].id: \"{}\" is used twice; row ids must be unique.",
                            r.id
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(v: serde_json::Value) -> InteractiveForm {
        serde_json::from_value(v).expect("form")
    }

    fn code(v: serde_json::Value) -> (ErrorCode, String) {
        let e = form(v).parse().expect_err("should fail");
        (e.error, e.message)
    }

    #[test]
    fn the_originals_native_buttons_parse() {
        let m = form(json!({
            "text": "Pilih opsi di bawah:",
            "footer": "Silakan pilih salah satu",
            "interactiveButtons": [
                {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Ya\",\"id\":\"btn_1\"}"},
                {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Tidak\",\"id\":\"btn_2\"}"},
                {"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Nanti\",\"id\":\"btn_3\"}"}
            ]
        }))
        .parse()
        .expect("valid");
        assert_eq!(m.kind(), InteractiveKind::Button);
        let ids: Vec<_> = m.options().iter().map(|c| (c.id, c.title)).collect();
        assert_eq!(
            ids,
            [("btn_1", "Ya"), ("btn_2", "Tidak"), ("btn_3", "Nanti")]
        );
        assert_eq!(m.footer.as_deref(), Some("Silakan pilih salah satu"));
    }

    #[test]
    fn both_forms_of_a_list_give_the_same_model() {
        let native = form(json!({
            "text": "Silakan pilih menu:", "title": "Menu Utama",
            "interactiveButtons": [{"name": "single_select", "buttonParamsJson":
                "{\"title\":\"Lihat Opsi\",\"sections\":[{\"title\":\"Layanan Kami\",\"rows\":[{\"header\":\"Produk\",\"title\":\"Produk\",\"description\":\"Lihat katalog produk kami\",\"id\":\"service_1\"}]}]}"}]
        }))
        .parse()
        .expect("native");
        let simple = form(json!({
            "type": "list", "text": "Silakan pilih menu:", "title": "Menu Utama",
            "buttonText": "Lihat Opsi",
            "sections": [{"title": "Layanan Kami", "rows": [
                {"id": "service_1", "title": "Produk", "description": "Lihat katalog produk kami", "header": "Produk"}
            ]}]
        }))
        .parse()
        .expect("simple");
        assert_eq!(native, simple);
        assert_eq!(native.kind(), InteractiveKind::List);
        let opt = &native.options()[0];
        assert_eq!(opt.description, Some("Lihat katalog produk kami"));
    }

    #[test]
    fn errors_carry_the_contracts_codes_and_name_the_field() {
        let four: Vec<_> = (1..=4)
            .map(|i| json!({"name": "quick_reply", "buttonParamsJson": format!("{{\"display_text\":\"B{i}\",\"id\":\"b{i}\"}}")}))
            .collect();
        let (c, m) = code(json!({"text": "x", "interactiveButtons": four}));
        assert_eq!(
            (c, m.as_str()),
            (ErrorCode::ButtonLimitExceeded, BUTTON_LIMIT_MESSAGE)
        );
        let (c, _) = code(json!({"text": "x", "type": "button", "buttons": [
            {"id": "a", "text": "a"}, {"id": "b", "text": "b"}, {"id": "c", "text": "c"}, {"id": "d", "text": "d"}]}));
        assert_eq!(c, ErrorCode::ButtonLimitExceeded);

        let (c, m) = code(
            json!({"text": "x", "interactiveButtons": [{"name": "quick_reply", "buttonParamsJson": "{not json"}]}),
        );
        assert_eq!(c, ErrorCode::InvalidButtonParams);
        assert!(m.contains("interactiveButtons[0].buttonParamsJson"), "{m}");
        let (c, m) = code(
            json!({"text": "x", "interactiveButtons": [{"name": "quick_reply", "buttonParamsJson": "{\"display_text\":\"Ya\"}"}]}),
        );
        assert_eq!(c, ErrorCode::InvalidButtonParams);
        assert!(m.contains("\"id\""), "{m}");
        let (c, _) = code(
            json!({"text": "x", "interactiveButtons": [{"name": "single_select", "buttonParamsJson": "{\"title\":\"Menu\"}"}]}),
        );
        assert_eq!(c, ErrorCode::InvalidButtonParams);

        let (c, m) = code(
            json!({"text": "x", "type": "button", "buttons": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}]}),
        );
        assert_eq!(c, ErrorCode::InvalidRequest);
        assert!(m.contains("buttons[1].id"), "{m}");
        let (_, m) = code(
            json!({"text": "x", "type": "button", "buttons": [{"id": "a", "text": "123456789012345678901"}]}),
        );
        assert!(m.contains("buttons[0].text") && m.contains("20"), "{m}");
        let (_, m) =
            code(json!({"text": "x", "type": "list", "buttonText": "Menu", "sections": []}));
        assert!(m.starts_with("sections"), "{m}");
        let (_, m) = code(
            json!({"text": "x", "type": "list", "buttonText": "Menu", "sections": [{"title": "A", "rows": []}]}),
        );
        assert!(m.starts_with("sections[0].rows"), "{m}");
        let rows: Vec<_> = (0..11)
            .map(|i| json!({"id": format!("r{i}"), "title": format!("Row {i}")}))
            .collect();
        let (_, m) = code(
            json!({"text": "x", "type": "list", "buttonText": "Menu", "sections": [{"title": "A", "rows": rows}]}),
        );
        assert!(m.contains("at most 10 rows"), "{m}");
        let (_, m) = code(
            json!({"text": "x", "type": "list", "buttonText": "Menu", "sections": [
            {"title": "A", "rows": [{"id": "1", "title": "a"}]}, {"rows": [{"id": "2", "title": "b"}]}]}),
        );
        assert!(m.starts_with("sections[1].title"), "{m}");
        let (_, m) = code(
            json!({"text": "x", "type": "list", "buttonText": "Menu", "sections": [
            {"title": "A section title too long!", "rows": [{"id": "1", "title": "a"}]}]}),
        );
        assert!(m.starts_with("sections[0].title"), "{m}");
        let (_, m) =
            code(json!({"text": "", "type": "button", "buttons": [{"id": "a", "text": "A"}]}));
        assert!(m.starts_with("text"), "{m}");
        let (_, m) = code(json!({"text": "x"}));
        assert!(m.starts_with("type"), "{m}");
        let (_, m) = code(
            json!({"text": "x", "interactiveButtons": [{"name": "bogus", "buttonParamsJson": "{}"}]}),
        );
        assert!(m.contains("interactiveButtons[0].name"), "{m}");
        let (_, m) = code(
            json!({"text": "x", "type": "button", "buttons": [{"id": "a", "text": "A"}], "expiresIn": 0}),
        );
        assert!(m.starts_with("expiresIn"), "{m}");
    }

    #[test]
    fn unknown_fields_and_the_recipient() {
        let ok: SendInteractive = serde_json::from_value(json!({
            "to": "6281", "replyToId": "Q1", "text": "x", "type": "button", "buttons": [{"id": "a", "text": "A"}]
        }))
        .expect("parses");
        assert_eq!(
            (ok.to.as_str(), ok.reply_to_id.as_deref()),
            ("6281", Some("Q1"))
        );
        let err =
            serde_json::from_value::<SendInteractive>(json!({"to": "1", "text": "x", "bogus": 1}))
                .expect_err("unknown field");
        assert!(err.to_string().contains("bogus"), "{err}");
        assert!(serde_json::from_value::<SendInteractive>(json!({"text": "x"})).is_err());
    }

    #[test]
    fn text_menu_and_typed_replies() {
        let m = form(json!({
            "type": "list", "text": "Apa yang bisa kami bantu?", "title": "Layanan", "footer": "Balas dengan angka",
            "buttonText": "Pilih Menu",
            "sections": [
                {"title": "Bantuan", "rows": [{"id": "help_order", "title": "Cek Pesanan", "description": "Status pesanan"}]},
                {"title": "Produk", "rows": [{"id": "help_product", "title": "Info Produk"}]}
            ]
        }))
        .parse()
        .expect("valid");
        assert_eq!(
            m.text_menu(),
            "*Layanan*\n\nApa yang bisa kami bantu?\n\n*Bantuan*\n1. Cek Pesanan — Status pesanan\n\n*Produk*\n2. Info Produk\n\n_Balas dengan angka_"
        );
        let opts = m.options();
        assert_eq!(pick_from_text(&opts, " 2 "), Some(1));
        assert_eq!(pick_from_text(&opts, "1."), Some(0));
        assert_eq!(pick_from_text(&opts, "info PRODUK"), Some(1));
        assert_eq!(pick_from_text(&opts, "3"), None);
        assert_eq!(pick_from_text(&opts, "0"), None);
        assert_eq!(pick_from_text(&opts, "halo"), None);
    }

    #[test]
    fn poll_fallback_needs_plain_distinct_choices() {
        let m = form(json!({"text": "Lanjut?", "type": "button", "buttons": [{"id": "y", "text": "Ya"}, {"id": "n", "text": "Tidak"}]}))
            .parse()
            .expect("valid");
        assert_eq!(
            m.poll().expect("poll"),
            ("Lanjut?".into(), vec!["Ya".into(), "Tidak".into()])
        );
        let cta = form(json!({"text": "x", "interactiveButtons": [
            {"name": "cta_url", "buttonParamsJson": "{\"display_text\":\"Buka\",\"url\":\"https://example.com\"}"}]}))
        .parse()
        .expect("valid");
        assert!(cta.poll().is_err());
        assert!(cta.text_menu().contains("🔗 Buka: https://example.com"));
        let dup = form(json!({"text": "x", "type": "list", "buttonText": "M", "sections": [
            {"title": "A", "rows": [{"id": "1", "title": "Sama"}]}, {"title": "B", "rows": [{"id": "2", "title": "sama"}]}]}))
        .parse()
        .expect("valid");
        assert!(dup.poll().is_err());
        let one =
            form(json!({"text": "x", "type": "button", "buttons": [{"id": "y", "text": "Ya"}]}))
                .parse()
                .expect("valid");
        assert!(one.poll().expect_err("one choice").message.contains("two"));
    }

    #[test]
    fn native_params_round_trip() {
        let m = form(json!({"text": "x", "interactiveButtons": [
            {"name": "quick_reply", "buttonParamsJson": {"display_text": "Ya", "id": "y"}},
            {"name": "cta_copy", "buttonParamsJson": "{\"display_text\":\"Kode\",\"copy_code\":\"ABC\"}"}]}))
        .parse()
        .expect("valid");
        let native = m.native_buttons();
        assert_eq!(native[0].0, "quick_reply");
        let p: serde_json::Value = serde_json::from_str(&native[0].1).expect("json");
        assert_eq!(p, json!({"display_text": "Ya", "id": "y"}));
        assert_eq!(native[1].0, "cta_copy");
        assert_eq!(m.options().len(), 1, "only quick replies are choices");
    }
}

/// Property tests of the request parsers (bounded: a fixed number of cases each): arbitrary
/// JSON built from the fields the parsers look at, plus random text, never panics them, and
/// whatever they accept stays within WhatsApp's limits.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    const KEYS: &[&str] = &[
        "to",
        "text",
        "title",
        "footer",
        "type",
        "buttons",
        "id",
        "sections",
        "rows",
        "buttonText",
        "button_text",
        "interactiveButtons",
        "name",
        "buttonParamsJson",
        "display_text",
        "url",
        "phone_number",
        "copy_code",
        "description",
        "header",
        "fallback",
        "expiresIn",
        "reply_to_id",
        "replyToId",
        "message",
    ];

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![
                Just("button".to_string()),
                Just("list".to_string()),
                Just("quick_reply".to_string()),
                Just("cta_url".to_string()),
                Just("poll".to_string()),
                Just(r#"{"display_text":"Ya","id":"y"}"#.to_string()),
                "\\PC{0,30}",
                "[a-z ]{0,300}",
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                    Value::Object(
                        kv.into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect::<Map<_, _>>(),
                    )
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn interactive_requests_never_panic_and_accepted_ones_fit_whatsapp(v in json()) {
            if let Ok(req) = serde_json::from_value::<SendInteractive>(v.clone())
                && let Ok(m) = req.form.parse()
            {
                let n = m.options().len();
                prop_assert!(n >= 1);
                match m.kind() {
                    InteractiveKind::Button => prop_assert!(n <= limits::BUTTONS),
                    InteractiveKind::List => prop_assert!(n <= limits::ROWS * limits::SECTIONS),
                }
                prop_assert!(!m.text_menu().is_empty());
                let _ = m.poll();
                let _ = m.native_buttons();
                let _ = pick_from_text(&m.options(), "1");
            }
            let _ = serde_json::from_value::<InteractiveForm>(v.clone());
            let _ = serde_json::from_value::<crate::model::SendMessage>(v);
        }

        #[test]
        fn typed_answers_never_panic(text in "\\PC{0,40}", n in 1usize..4) {
            let form = InteractiveForm {
                text: "Pilih".into(),
                kind: Some("button".into()),
                buttons: Some((0..n).map(|i| SimpleButton { id: format!("b{i}"), text: format!("Opsi {i}") }).collect()),
                ..Default::default()
            };
            let m = form.parse().expect("valid");
            if let Some(i) = pick_from_text(&m.options(), &text) {
                prop_assert!(i < n);
            }
        }
    }
}
