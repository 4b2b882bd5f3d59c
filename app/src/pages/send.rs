//! Send: a text, an interactive message, a file, a poll, a place or contact cards from one of
//! your sessions, with the request checked live by the same model the API uses
//! (`InteractiveForm::parse`), a preview of the text fallback, the API's answer, and the
//! equivalent `curl` command. A file goes to `/send-media` as a multipart upload (the browser
//! streams it; no base64 in between); a poll, a place or cards go to `/send-poll`,
//! `/send-location` or `/send-contact` as JSON, with the login cookie.

use super::common::{
    ActionError, CopyButton, ErrorBox, FieldError, coordinate, invalid, on_earth, session_label,
    session_status_text,
};
#[cfg(feature = "hydrate")]
use super::common::{browser_failed, post};
use crate::api::{dash_send_interactive, dash_send_message, list_sessions};
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// How many button slots the builder offers (WhatsApp's limit).
const SLOTS: usize = 3;

/// What the form describes: a text, or an interactive message as the API would receive it.
#[derive(Clone, Debug, PartialEq)]
enum Request {
    Text(SendMessage),
    Interactive(SendInteractive),
    /// A file (chosen in the form, not part of the request value) with `message` as caption.
    File(SendMessage),
    Poll(SendPoll),
    Place(SendLocation),
    Contact(SendContact),
}

impl Request {
    fn path(&self) -> &'static str {
        match self {
            Request::Text(_) => "/send-message",
            Request::Interactive(_) => "/send-interactive",
            Request::File(_) => "/send-media",
            Request::Poll(_) => "/send-poll",
            Request::Place(_) => "/send-location",
            Request::Contact(_) => "/send-contact",
        }
    }

    fn json(&self) -> String {
        match self {
            Request::Text(r) | Request::File(r) => serde_json::to_string(r),
            Request::Interactive(r) => serde_json::to_string(r),
            Request::Poll(r) => serde_json::to_string(r),
            Request::Place(r) => serde_json::to_string(r),
            Request::Contact(r) => serde_json::to_string(r),
        }
        .unwrap_or_default()
    }
}

/// Uploads `file` to `/send-media` as the signed-in person; answers the API's answer,
/// pretty-printed, or its error.
#[cfg(feature = "hydrate")]
async fn upload(
    session: String,
    to: String,
    caption: String,
    file: send_wrapper::SendWrapper<web_sys::File>,
) -> Result<String, ErrorBody> {
    let form = web_sys::FormData::new().map_err(|_| browser_failed())?;
    let fill = || -> Result<(), wasm_bindgen::JsValue> {
        form.append_with_str("to", &to)?;
        if !caption.trim().is_empty() {
            form.append_with_str("caption", &caption)?;
        }
        form.append_with_blob_and_filename("file", &file, &file.name())
    };
    fill().map_err(|_| browser_failed())?;
    post(&format!("/send-media?session={session}"), &form, None).await
}

/// A poll's options, one per line.
fn parse_options(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Contact cards typed one per line as `name | number`.
fn parse_contacts(text: &str) -> Vec<ContactEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (name, number) = l.split_once('|').unwrap_or((l, ""));
            ContactEntry {
                name: name.trim().to_string(),
                phone_number: number.trim().to_string(),
            }
        })
        .collect()
}

/// Rows typed one per line as `id | title | description`.
fn parse_rows(text: &str) -> Vec<interactive::Row> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '|').map(str::trim);
            interactive::Row {
                id: parts.next().unwrap_or_default().to_string(),
                title: parts.next().unwrap_or_default().to_string(),
                description: parts.next().filter(|d| !d.is_empty()).map(str::to_string),
                header: None,
            }
        })
        .collect()
}

/// Where the curl command puts the caller's API key (the page links to where keys are made).
const KEY_PLACEHOLDER: &str = "YOUR_API_KEY";

#[component]
pub fn SendPage() -> impl IntoView {
    let t = t();
    // The sessions to send from: the caller's own (linked or not, so a dropped one shows) and,
    // for an admin, other users' linked ones; an unlinked session of someone else is no choice.
    let me = StoredValue::new(use_context::<Me>().map(|m| m.id));
    let sessions = Resource::new(|| (), |_| list_sessions(None));
    // `?session=…&to=…` (a session's Groups list links here) fills both in.
    let query = leptos_router::hooks::use_query_map();
    let param = |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    let session = RwSignal::new(param("session"));
    let to = RwSignal::new(param("to"));
    let kind = RwSignal::new("text".to_string());
    let text = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let footer = RwSignal::new(String::new());
    let fallback = RwSignal::new(String::new());
    let ids: [RwSignal<String>; SLOTS] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let labels: [RwSignal<String>; SLOTS] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let list_button = RwSignal::new(String::new());
    let section = RwSignal::new(String::new());
    let rows = RwSignal::new(String::new());
    let file_input = NodeRef::<leptos::html::Input>::new();
    // The chosen file's name: the form is complete only with one.
    let file_name = RwSignal::new(String::new());
    // A picture's preview: an object URL of the chosen file (browser only).
    let preview = RwSignal::new(String::new());
    // The file the input now holds, chosen or dropped: its name, and a preview if a picture.
    let chosen = move || {
        #[cfg(feature = "hydrate")]
        {
            let file = file_input
                .get_untracked()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0));
            let old = preview.get_untracked();
            if !old.is_empty() {
                let _ = web_sys::Url::revoke_object_url(&old);
            }
            let picture = file.as_ref().filter(|f| f.type_().starts_with("image/"));
            preview.set(
                picture
                    .and_then(|f| web_sys::Url::create_object_url_with_blob(f).ok())
                    .unwrap_or_default(),
            );
            file_name.set(file.map(|f| f.name()).unwrap_or_default());
        }
    };
    let options = RwSignal::new(String::new());
    let multiple = RwSignal::new(false);
    let latitude = RwSignal::new(String::new());
    let longitude = RwSignal::new(String::new());
    let place_name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let cards = RwSignal::new(String::new());

    let request = Memo::new(move |_| {
        let opt = |s: String| (!s.trim().is_empty()).then_some(s);
        match kind.get().as_str() {
            "text" => Request::Text(SendMessage {
                to: to.get(),
                message: text.get(),
                reply_to_id: None,
                mentions: Vec::new(),
            }),
            "file" => Request::File(SendMessage {
                to: to.get(),
                message: text.get(),
                reply_to_id: None,
                mentions: Vec::new(),
            }),
            "poll" => Request::Poll(SendPoll {
                to: to.get(),
                question: text.get(),
                options: parse_options(&options.get()),
                multiple_answers: multiple.get().then_some(true),
                reply_to_id: None,
            }),
            "place" => Request::Place(SendLocation {
                to: to.get(),
                latitude: coordinate(&latitude.get()),
                longitude: coordinate(&longitude.get()),
                name: opt(place_name.get()),
                address: opt(address.get()),
                reply_to_id: None,
            }),
            "contact" => Request::Contact(SendContact {
                to: to.get(),
                contacts: parse_contacts(&cards.get()),
                reply_to_id: None,
            }),
            k => {
                let mut form = InteractiveForm {
                    text: text.get(),
                    title: opt(title.get()),
                    footer: opt(footer.get()),
                    kind: Some(k.to_string()),
                    fallback: Fallback::parse(&fallback.get()),
                    ..Default::default()
                };
                if k == "button" {
                    form.buttons = Some(
                        (0..SLOTS)
                            .filter(|i| {
                                !labels[*i].get().trim().is_empty()
                                    || !ids[*i].get().trim().is_empty()
                            })
                            .map(|i| interactive::SimpleButton {
                                id: ids[i].get(),
                                text: labels[i].get(),
                            })
                            .collect(),
                    );
                } else {
                    form.button_text = Some(list_button.get());
                    form.sections = Some(vec![interactive::Section {
                        title: opt(section.get()),
                        rows: parse_rows(&rows.get()),
                    }]);
                }
                Request::Interactive(SendInteractive {
                    to: to.get(),
                    reply_to_id: None,
                    form,
                })
            }
        }
    });
    // The same checks the server makes, before anything is sent.
    let checked = Memo::new(move |_| match request.get() {
        Request::Text(r) if r.message.trim().is_empty() => Err(t.empty_text.to_string()),
        Request::Text(_) => Ok(None),
        Request::File(_) if file_name.get().is_empty() => Err(t.choose_file.to_string()),
        Request::File(_) => Ok(None),
        Request::Interactive(r) => r.form.parse().map(Some).map_err(|e| e.message),
        Request::Poll(r) => {
            let distinct = r
                .options
                .iter()
                .enumerate()
                .all(|(i, o)| !r.options[..i].contains(o));
            let fits =
                !r.question.trim().is_empty() && (2..=12).contains(&r.options.len()) && distinct;
            fits.then_some(None).ok_or_else(|| t.poll_check.to_string())
        }
        Request::Place(r) => on_earth(r.latitude, r.longitude)
            .then_some(None)
            .ok_or_else(|| t.place_check.to_string()),
        Request::Contact(r) => ((1..=10).contains(&r.contacts.len())
            && r.contacts
                .iter()
                .all(|c| !c.name.is_empty() && !c.phone_number.is_empty()))
        .then_some(None)
        .ok_or_else(|| t.contact_check.to_string()),
    });

    let send = Action::new_local(move |(session, req): &(String, Request)| {
        let (session, req) = (SessionId(session.clone()), req.clone());
        async move {
            match req {
                Request::Text(body) => dash_send_message(session, body)
                    .await
                    .map(|r| serde_json::to_string_pretty(&r).unwrap_or_default()),
                Request::Interactive(body) => dash_send_interactive(session, body)
                    .await
                    .map(|r| serde_json::to_string_pretty(&r).unwrap_or_default()),
                #[cfg(feature = "hydrate")]
                Request::File(body) => {
                    let file = file_input
                        .get_untracked()
                        .and_then(|input| input.files())
                        .and_then(|files| files.get(0))
                        .map(send_wrapper::SendWrapper::new);
                    match file {
                        Some(file) => upload(session.0, body.to, body.message, file).await,
                        None => Err(ErrorBody::new(ErrorCode::InvalidRequest, t.choose_file)),
                    }
                }
                #[cfg(feature = "hydrate")]
                json @ (Request::Poll(_) | Request::Place(_) | Request::Contact(_)) => {
                    let url = format!("{}?session={}", json.path(), session.0);
                    let body = wasm_bindgen::JsValue::from_str(&json.json());
                    post(&url, &body, Some("application/json")).await
                }
                #[cfg(not(feature = "hydrate"))]
                Request::File(_) | Request::Poll(_) | Request::Place(_) | Request::Contact(_) => {
                    Err(ErrorBody::new(ErrorCode::InvalidRequest, t.choose_file))
                }
            }
        }
    });
    let curl = move || {
        let req = request.get();
        if let Request::File(r) = &req {
            let caption = if r.message.trim().is_empty() {
                String::new()
            } else {
                format!(" -F 'caption={}'", r.message.replace('\'', "'\\''"))
            };
            let name = file_name.get();
            let name = if name.is_empty() {
                "FILE".to_string()
            } else {
                name
            };
            return format!(
                "curl -X POST \"$KABAR_URL/send-media?session={}\" \\\n  -H 'X-API-KEY: {KEY_PLACEHOLDER}' -F 'to={}'{caption} -F 'file=@{}'",
                session.get(),
                r.to.replace('\'', "'\\''"),
                name.replace('\'', "'\\''")
            );
        }
        format!(
            "curl -X POST \"$KABAR_URL{}?session={}\" \\\n  -H 'X-API-KEY: {KEY_PLACEHOLDER}' -H 'Content-Type: application/json' \\\n  -d '{}'",
            req.path(),
            session.get(),
            req.json().replace('\'', "'\\''")
        )
    };

    view! {
        <Title text=t.send_nav_title/>
        <h1>{t.send_title}</h1>
        <Transition fallback=move || view! { <p class="loading">{t.loading_sessions}</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Err(err) => view! { <ErrorBox err/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="card empty">{t.send_no_sessions}</p>
                    }.into_any(),
                    Ok(list) => {
                        let list: Vec<_> = list.into_iter()
                            .filter(|s| me.with_value(|me| me.as_ref().is_none_or(|me| &s.owner_id == me))
                                || s.status == SessionStatus::Connected)
                            .collect();
                        if session.get_untracked().is_empty() {
                            // A linked one first: the others cannot send yet.
                            let first = list.iter()
                                .find(|s| s.status == SessionStatus::Connected)
                                .unwrap_or(&list[0]);
                            session.set(first.id.0.clone());
                        }
                        view! {
                            <fieldset class="card">
                                <legend>{t.from_session}</legend>
                                {list.into_iter().map(|s| {
                                    let id = s.id.0.clone();
                                    let checked = id == session.get_untracked();
                                    view! {
                                        <label class="check">
                                            <input type="radio" name="session" form="send-form" value=id.clone() checked=checked
                                                on:change=move |_| session.set(id.clone())/>
                                            {session_label(&s.name, s.phone_number.as_deref())}
                                            " " <span class="muted">"(" {session_status_text(s.status)} ")"</span>
                                        </label>
                                    }
                                }).collect_view()}
                            </fieldset>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <form method="post" id="send-form" class="card send-form" on:submit=move |ev| {
            ev.prevent_default();
            // One send per press, however fast the clicks come.
            if checked.get_untracked().is_ok() && !send.pending().get_untracked() {
                send.dispatch((session.get_untracked(), request.get_untracked()));
            }
        }>
            <label>{t.to} <input name="to" required inputmode="tel" placeholder="6281234567890" bind:value=to
                aria-invalid=invalid(send, "to")/> <FieldError action=send name="to"/></label>
            <fieldset class="row-form">
                <legend>{t.kind}</legend>
                <label class="check"><input type="radio" name="kind" value="text" checked on:change=move |_| kind.set("text".into())/> {t.kind_text}</label>
                <label class="check"><input type="radio" name="kind" value="button" on:change=move |_| kind.set("button".into())/> {t.kind_buttons}</label>
                <label class="check"><input type="radio" name="kind" value="list" on:change=move |_| kind.set("list".into())/> {t.kind_list}</label>
                <label class="check"><input type="radio" name="kind" value="file" on:change=move |_| kind.set("file".into())/> {t.kind_file}</label>
                <label class="check"><input type="radio" name="kind" value="poll" on:change=move |_| kind.set("poll".into())/> {t.kind_poll}</label>
                <label class="check"><input type="radio" name="kind" value="place" on:change=move |_| kind.set("place".into())/> {t.kind_place}</label>
                <label class="check"><input type="radio" name="kind" value="contact" on:change=move |_| kind.set("contact".into())/> {t.kind_contact}</label>
            </fieldset>
            <div class="builder only-file dropzone" data-testid="dropzone"
                on:dragover=move |ev| ev.prevent_default()
                on:drop=move |ev| {
                    // A file dropped anywhere on the box goes into the input, as if chosen.
                    ev.prevent_default();
                    #[cfg(feature = "hydrate")]
                    if let (Some(input), Some(files)) = (
                        file_input.get_untracked(),
                        ev.data_transfer().and_then(|d| d.files()),
                    ) {
                        input.set_files(Some(&files));
                        chosen();
                    }
                }>
                <label class="wide">{t.file}
                    <input type="file" name="file" node_ref=file_input on:change=move |_| chosen()/>
                </label>
                <p class="muted">{t.drop_hint}</p>
                <img class="preview-image" alt="" hidden=move || preview.get().is_empty()
                    src=move || Some(preview.get()).filter(|p| !p.is_empty())
                    data-testid="file-preview"/>
                <p class="muted">{t.file_caption_hint}</p>
            </div>
            <div class="builder only-place">
                <div class="row-form">
                    <label>{t.latitude} <input name="latitude" inputmode="decimal" placeholder="-6.1825" bind:value=latitude/></label>
                    <label>{t.longitude} <input name="longitude" inputmode="decimal" placeholder="106.8284" bind:value=longitude/></label>
                </div>
                <div class="row-form">
                    <label>{t.place_name} <input name="placeName" bind:value=place_name/></label>
                    <label>{t.place_address} <input name="address" bind:value=address/></label>
                </div>
            </div>
            <label class="wide only-contact">{t.contacts_help}
                <textarea name="contacts" rows="3" bind:value=cards placeholder="Budi | 6281234567890"></textarea>
            </label>
            <label class="wide has-text">
                <span class="not-poll">{t.message}</span><span class="only-poll">{t.question}</span>
                <textarea name="message" rows="3" bind:value=text aria-invalid=invalid(send, "message")></textarea>
                <FieldError action=send name="message"/>
            </label>
            <div class="builder only-poll">
                <label class="wide">{t.poll_options}
                    <textarea name="options" rows="4" bind:value=options placeholder="Pagi\nSiang\nSore"></textarea>
                </label>
                <label class="check"><input type="checkbox" name="multipleAnswers" bind:checked=multiple/> {t.poll_multiple}</label>
            </div>
            <div class="row-form only-menu">
                <label>{t.title_optional} <input name="title" bind:value=title/></label>
                <label>{t.footer_optional} <input name="footer" bind:value=footer/></label>
                <label>{t.fallback}
                    <select name="fallback" on:change:target=move |ev| fallback.set(ev.target().value())>
                        <option value="">{t.fallback_session}</option>
                        <option value="none">{t.fallback_buttons_only}</option>
                        <option value="text">{t.fallback_numbered}</option>
                        <option value="poll">{t.fallback_poll_short}</option>
                    </select>
                </label>
            </div>
            <div class="builder only-button">
                {(0..SLOTS).map(|i| view! {
                    <div class="row-form">
                        <label>{(t.button_text)(i + 1)} <input bind:value=labels[i]/></label>
                        <label>{(t.button_id)(i + 1)} <input bind:value=ids[i]/></label>
                    </div>
                }).collect_view()}
            </div>
            <div class="builder only-list">
                <div class="row-form">
                    <label>{t.list_button_text} <input name="buttonText" bind:value=list_button/></label>
                    <label>{t.section_title} <input name="section" bind:value=section/></label>
                </div>
                <label class="wide">{t.rows_help}
                    <textarea name="rows" rows="4" bind:value=rows placeholder="help_order | Cek Pesanan | Status pesanan terakhir"></textarea>
                </label>
            </div>
            <p class="error" role="alert" data-testid="send-check"
                hidden=move || checked.get().is_ok() || (text.get().is_empty() && kind.get() == "text")>
                {move || checked.get().err().unwrap_or_default()}
            </p>
            <div hidden=move || !matches!(checked.get(), Ok(Some(_)))>
                <p class="muted">{t.preview_intro}</p>
                <pre class="preview" data-testid="send-preview">{move || match checked.get() {
                    Ok(Some(m)) => m.text_menu(),
                    _ => String::new(),
                }}</pre>
            </div>
            <button type="submit" class="primary"
                // Enabled on first render (the server's and hydration's): without the script
                // the form posts as plain HTML (a text, checked by the server), which a
                // disabled button would block. The first edit sets the real state; until then
                // on:submit refuses what the check refuses.
                disabled={
                    let first = std::sync::atomic::AtomicBool::new(true);
                    move || {
                        let off = checked.get().is_err() || session.get().is_empty() || send.pending().get();
                        !first.swap(false, std::sync::atomic::Ordering::Relaxed) && off
                    }
                }>{t.send}</button>
        </form>
        <ActionError action=send fields=&["to", "message"]/>
        <section class="card" hidden=move || !matches!(send.value().get(), Some(Ok(_)))>
            <h2>{t.answer}</h2>
            <pre data-testid="send-answer">{move || send.value().get().and_then(Result::ok).unwrap_or_default()}</pre>
        </section>
        <section class="card">
            <h2>{t.same_with_curl}</h2>
            <pre class="curl" data-testid="send-curl">{curl}</pre>
            <CopyButton from="[data-testid=send-curl]"/>
            <p class="muted"><code>{KEY_PLACEHOLDER}</code> ": " {t.your_api_key_hint} " "
                <a href="/keys">{t.nav_keys}</a></p>
        </section>
    }
}
