//! Auto-reply: the switch, the ordered rules (add, enable/disable, move, delete), a box to
//! try a message against the rules, matched in the browser by the same code the server runs
//! (`MatchMode::matches`), and for admins everyone's rules. A rule's reply may open a menu
//! (the `/send-interactive` form as JSON, checked by the same model as the API), send a file
//! with the reply as its caption (chosen on the computer and sent as base64 to the REST route,
//! whose body limit is the media limit; or a link the server fetches once), or be a place.

use super::common::{
    ActionError, ErrorBox, FieldError, Saved, confirmed, coordinate, invalid, on_earth,
};

/// The rule inputs a refusal can name; an error about one shows beside it, not under the form.
const RULE_FIELDS: &[&str] = &["keyword", "reply"];
#[cfg(feature = "hydrate")]
use super::common::{browser_failed, post};
use crate::api::*;
use crate::i18n::t;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AutoReplyPage() -> impl IntoView {
    let t = t();
    let toggle = Action::new(|on: &bool| set_auto_reply(*on));
    // A file chosen on the computer is read when the action runs (see `create_with_file`).
    let rule_file = NodeRef::<leptos::html::Input>::new();
    let answer = RwSignal::new("text".to_string());
    let create = Action::new_local(move |input: &RuleInput| {
        let input = input.clone();
        async move {
            #[cfg(feature = "hydrate")]
            if answer.get_untracked() == "file" && input.media.is_none() {
                let file = rule_file
                    .get_untracked()
                    .and_then(|i| i.files())
                    .and_then(|f| f.get(0));
                if let Some(file) = file {
                    return create_with_file(input, file).await;
                }
            }
            create_rule(input).await.map(|_| ())
        }
    });
    let update =
        Action::new(|(id, input): &(String, RuleInput)| update_rule(id.clone(), input.clone()));
    let remove = Action::new(|id: &String| delete_rule(id.clone()));
    // The rule being edited inline, if any. It stays open until its save succeeds, so a refused
    // edit shows why beside what was typed: the list (which would put the stored values back)
    // reloads after every change except such a refusal.
    let editing = RwSignal::new(None::<String>);
    // Whether the update that last ended was the edit form's save (not a switch or a move).
    let edit_save = RwSignal::new(false);
    let reload = RwSignal::new(0u32);
    Effect::new(move |_| {
        let Some(result) = update.value().get() else {
            return;
        };
        let from_edit = edit_save.get_untracked();
        edit_save.set(false);
        match result {
            Ok(rule) => {
                reload.update(|n| *n += 1);
                if from_edit && editing.get_untracked().as_deref() == Some(rule.id.as_str()) {
                    editing.set(None);
                }
            }
            Err(_) if from_edit => {}
            Err(_) => reload.update(|n| *n += 1),
        }
    });
    let switch = Resource::new(move || toggle.version().get(), |_| get_auto_reply());
    let me = Resource::new(|| (), |_| get_me());
    let all = RwSignal::new(false);
    let rules = Resource::new(
        move || {
            (
                create.version().get(),
                reload.get(),
                remove.version().get(),
                all.get(),
            )
        },
        // The whole ordered list, not a page: "Try a message" answers what the first matching
        // rule of all of them would, and the move buttons need each owner's count.
        |(_, _, _, all)| list_rules(all, None),
    );
    let menu = RwSignal::new(String::new());
    let menu_error = RwSignal::new(String::new());
    let keyword = RwSignal::new(String::new());
    let mode = RwSignal::new(MatchMode::Contains);
    let reply = RwSignal::new(String::new());
    let file_url = RwSignal::new(String::new());
    let latitude = RwSignal::new(String::new());
    let longitude = RwSignal::new(String::new());
    let place_name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let groups = RwSignal::new(false);
    let probe = RwSignal::new(String::new());
    // A rule added: the form empties, so the same rule is not added twice by a second click.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            for field in [
                keyword, reply, menu, file_url, latitude, longitude, place_name, address,
            ] {
                field.set(String::new());
            }
            #[cfg(feature = "hydrate")]
            if let Some(input) = rule_file.get_untracked() {
                input.set_value("");
            }
        }
    });

    view! {
        <Title text=t.nav_auto_reply/>
        <h1>{t.nav_auto_reply}</h1>
        <Transition>
            {move || Suspend::new(async move {
                let on = switch.await.map(|s| s.enabled).unwrap_or(false);
                view! {
                    <label class="check card">
                        <input type="checkbox" name="autoReply" prop:checked=on
                            on:change:target=move |ev| { toggle.dispatch(ev.target().checked()); }/>
                        {t.auto_reply_switch}
                    </label>
                }
            })}
        </Transition>
        <ActionError action=toggle/>
        <form method="post" class="card row-form rule-form" data-testid="add-rule" on:submit=move |ev| {
            ev.prevent_default();
            let opt = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
            let mut input = RuleInput {
                keyword: Some(keyword.get()),
                match_mode: Some(mode.get()),
                reply: Some(reply.get()),
                enabled: Some(true),
                allow_groups: Some(groups.get()),
                ..Default::default()
            };
            match answer.get().as_str() {
                "place" => {
                    let (lat, lon) = (coordinate(&latitude.get()), coordinate(&longitude.get()));
                    if !on_earth(lat, lon) {
                        menu_error.set(t.place_check.into());
                        return;
                    }
                    input.reply = Some(String::new());
                    input.location = Some(Some(Location {
                        latitude: lat,
                        longitude: lon,
                        name: opt(place_name.get()),
                        address: opt(address.get()),
                    }));
                }
                "file" => {
                    // The handler runs in the browser only; the server's build has no FileList.
                    #[cfg(feature = "hydrate")]
                    let chosen = rule_file
                        .get()
                        .and_then(|i| i.files())
                        .is_some_and(|f| f.length() > 0);
                    #[cfg(not(feature = "hydrate"))]
                    let chosen = rule_file.get().is_some();
                    match opt(file_url.get()) {
                        Some(url) => {
                            input.media = Some(Some(RuleMediaInput { url: Some(url), ..Default::default() }));
                        }
                        None if chosen => {}
                        None => {
                            menu_error.set(t.choose_file.into());
                            return;
                        }
                    }
                }
                _ => match menu.get().trim() {
                    "" => {}
                    // from_str, as every decoder in the bundle (crate::codec): one copy of the parser.
                    json => match serde_json::from_str::<InteractiveForm>(json) {
                        Ok(form) => input.interactive = Some(Some(form)),
                        Err(e) => {
                            menu_error.set(format!("{}{e}", t.menu_error));
                            return;
                        }
                    },
                },
            }
            menu_error.set(String::new());
            create.dispatch(input);
        }>
            <label>{t.keyword} <input name="keyword" required maxlength="200" bind:value=keyword
                aria-invalid=invalid(create, "keyword")/> <FieldError action=create name="keyword"/></label>
            <label>{t.match_mode}
                <select name="match" on:change:target=move |ev| {
                    mode.set(MatchMode::parse(&ev.target().value()).unwrap_or(MatchMode::Contains))
                }>
                    <option value="contains" selected>{t.match_contains}</option>
                    <option value="exact">{t.match_exact}</option>
                    <option value="starts_with">{t.match_starts_with}</option>
                    <option value="word">{t.match_word}</option>
                </select>
            </label>
            <fieldset class="wide">
                <legend>{t.answer_with}</legend>
                <label class="check"><input type="radio" name="answer" value="text" checked on:change=move |_| answer.set("text".into())/> {t.answer_text}</label>
                <label class="check"><input type="radio" name="answer" value="file" on:change=move |_| answer.set("file".into())/> {t.kind_file}</label>
                <label class="check"><input type="radio" name="answer" value="place" on:change=move |_| answer.set("place".into())/> {t.kind_place}</label>
            </fieldset>
            <label class="has-text">{t.reply} <input name="reply" bind:value=reply
                aria-invalid=invalid(create, "reply")/> <FieldError action=create name="reply"/></label>
            <label class="check"><input type="checkbox" bind:checked=groups/> {t.also_groups}</label>
            <div class="wide only-file">
                <p class="muted">{t.rule_file_hint}</p>
                <div class="row-form">
                    <label>{t.file} <input type="file" name="ruleFile" node_ref=rule_file/></label>
                    <label>{t.file_link} <input type="url" name="ruleUrl" placeholder="https://example.com/menu.pdf" bind:value=file_url/></label>
                </div>
            </div>
            <div class="wide row-form only-place">
                <label>{t.latitude} <input name="latitude" inputmode="decimal" placeholder="-6.1825" bind:value=latitude/></label>
                <label>{t.longitude} <input name="longitude" inputmode="decimal" placeholder="106.8284" bind:value=longitude/></label>
                <label>{t.place_name} <input name="placeName" bind:value=place_name/></label>
                <label>{t.place_address} <input name="address" bind:value=address/></label>
            </div>
            <label class="wide only-text">{t.menu_optional}
                <textarea name="menu" rows="3" bind:value=menu
                    placeholder=r#"{"type":"button","buttons":[{"id":"yes","text":"Ya"},{"id":"no","text":"Tidak"}]}"#></textarea>
            </label>
            <button type="submit" class="primary" disabled=move || create.pending().get()>{t.add_rule}</button>
        </form>
        <p class="error" role="alert" hidden=move || menu_error.get().is_empty()>{move || menu_error.get()}</p>
        <ActionError action=create fields=RULE_FIELDS/>
        <ActionError action=update fields=RULE_FIELDS/>
        <Saved action=update/>
        <ActionError action=remove/>
        <Transition>
            {move || Suspend::new(async move {
                let admin = me.await.ok().flatten().is_some_and(|m| m.role == Role::Admin);
                view! {
                    <label class="check" hidden=!admin>
                        <input type="checkbox" name="all" bind:checked=all/> {t.every_users_rules}
                    </label>
                }
            })}
        </Transition>
        <label class="card">{t.try_message}
            <input name="probe" placeholder=t.try_placeholder bind:value=probe/>
        </label>
        <Transition fallback=move || view! { <p class="loading">{t.loading_rules}</p> }>
            {move || Suspend::new(async move {
                let list = match rules.await {
                    Ok(list) => list,
                    Err(err) => return view! { <ErrorBox err/> }.into_any(),
                };
                if list.is_empty() {
                    return view! { <p class="card empty">{t.no_rules}</p> }.into_any();
                }
                // Positions are per user: in everyone's list, count each owner's rules.
                let count_of = {
                    let mut counts = std::collections::HashMap::<String, i64>::new();
                    for r in &list {
                        *counts.entry(r.username.clone()).or_default() += 1;
                    }
                    counts
                };
                let everyone = all.get_untracked();
                let probe_list = list.clone();
                let answer = move || {
                    let text = fold(&probe.get());
                    if text.is_empty() {
                        return String::new();
                    }
                    probe_list
                        .iter()
                        .find(|r| r.enabled && r.match_mode.matches(&fold(&r.keyword), &text))
                        .map(|r| (t.rule_answers)(r.position + 1, &answer_summary(r)))
                        .unwrap_or_else(|| t.no_rule_answers.into())
                };
                view! {
                    <p class="muted" data-testid="probe-result">{answer}</p>
                    <div class="table-wrap"><table class="list" data-testid="rules">
                        <thead><tr><th hidden=!everyone>{t.user}</th><th>"#"</th><th>{t.keyword}</th><th>{t.match_mode}</th><th>{t.reply}</th><th>{t.menu}</th><th>{t.groups}</th><th>{t.on}</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|r| {
                                let (id1, id2, id3, id4) = (r.id.clone(), r.id.clone(), r.id.clone(), r.id.clone());
                                let id5 = r.id.clone();
                                let edit_row = view! { <EditRule rule=r.clone() editing edit_save update/> };
                                let (pos, enabled) = (r.position, r.enabled);
                                let count = count_of.get(&r.username).copied().unwrap_or_default();
                                let menu = menu_summary(r.interactive.as_ref());
                                let summary = answer_summary(&r);
                                let move_to = |p: i64| RuleInput { position: Some(p), ..Default::default() };
                                view! {
                                    <tr class:disabled=!enabled>
                                        <td hidden=!everyone data-label=t.user>{r.username}</td>
                                        <td data-label="#">{pos + 1}</td>
                                        <td data-label=t.keyword>{r.keyword}</td>
                                        <td data-label=t.match_mode>{match r.match_mode {
                                            MatchMode::Contains => t.match_contains,
                                            MatchMode::Exact => t.match_exact,
                                            MatchMode::StartsWith => t.match_starts_with,
                                            MatchMode::Word => t.match_word,
                                        }}</td>
                                        <td data-label=t.reply>{summary}</td>
                                        <td data-label=t.menu>{menu}</td>
                                        <td data-label=t.groups>{if r.allow_groups { t.yes } else { t.no }}</td>
                                        <td data-label=t.on><input type="checkbox" aria-label=t.enabled prop:checked=enabled
                                            on:change:target=move |ev| { update.dispatch((id1.clone(), RuleInput { enabled: Some(ev.target().checked()), ..Default::default() })); }/></td>
                                        <td class="actions">
                                            <button class="small" aria-label=t.move_up disabled={pos == 0}
                                                on:click=move |_| { update.dispatch((id2.clone(), move_to(pos - 1))); }>"↑"</button>
                                            <button class="small" aria-label=t.move_down disabled={pos + 1 >= count}
                                                on:click=move |_| { update.dispatch((id3.clone(), move_to(pos + 1))); }>"↓"</button>
                                            <button class="small" on:click=move |_| {
                                                // Another rule's refusal is not this one's.
                                                update.value().set(None);
                                                editing.set(Some(id5.clone()));
                                            }>{t.edit}</button>
                                            <button class="small danger" on:click=move |_| if confirmed(t.confirm_delete_rule) { remove.dispatch(id4.clone()); }>{t.delete}</button>
                                        </td>
                                    </tr>
                                    {edit_row}
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            })}
        </Transition>
    }
}

/// A rule's keyword, match mode, reply and groups switch, edited in place below its row (always
/// rendered, hidden unless it is the one being edited: server and browser agree on the markup).
#[component]
fn EditRule(
    rule: RuleView,
    editing: RwSignal<Option<String>>,
    edit_save: RwSignal<bool>,
    update: Action<(String, RuleInput), Result<RuleView, ErrorBody>>,
) -> impl IntoView {
    let t = t();
    let keyword = RwSignal::new(rule.keyword.clone());
    let mode = RwSignal::new(rule.match_mode);
    let reply = RwSignal::new(rule.reply.clone());
    let groups = RwSignal::new(rule.allow_groups);
    let (id, id2) = (rule.id.clone(), rule.id.clone());
    let selected = |m: MatchMode| rule.match_mode == m;
    view! {
        <tr class="edit-row" hidden=move || editing.get().as_deref() != Some(id2.as_str())>
            <td colspan="9">
                <form method="post" class="row-form" data-testid="edit-rule" on:submit=move |ev| {
                    ev.prevent_default();
                    edit_save.set(true);
                    update.dispatch((id.clone(), RuleInput {
                        keyword: Some(keyword.get()),
                        match_mode: Some(mode.get()),
                        reply: Some(reply.get()),
                        allow_groups: Some(groups.get()),
                        ..Default::default()
                    }));
                }>
                    <label>{t.keyword} <input name="editKeyword" required maxlength="200" bind:value=keyword
                        aria-invalid=invalid(update, "keyword")/> <FieldError action=update name="keyword"/></label>
                    <label>{t.match_mode}
                        <select name="editMatch" on:change:target=move |ev| {
                            mode.set(MatchMode::parse(&ev.target().value()).unwrap_or(MatchMode::Contains))
                        }>
                            <option value="contains" selected=selected(MatchMode::Contains)>{t.match_contains}</option>
                            <option value="exact" selected=selected(MatchMode::Exact)>{t.match_exact}</option>
                            <option value="starts_with" selected=selected(MatchMode::StartsWith)>{t.match_starts_with}</option>
                            <option value="word" selected=selected(MatchMode::Word)>{t.match_word}</option>
                        </select>
                    </label>
                    <label>{t.reply} <input name="editReply" bind:value=reply
                        aria-invalid=invalid(update, "reply")/> <FieldError action=update name="reply"/></label>
                    <label class="check"><input type="checkbox" bind:checked=groups/> {t.also_groups}</label>
                    <button type="submit" class="primary">{t.save}</button>
                    <button type="button" on:click=move |_| editing.set(None)>{t.cancel}</button>
                </form>
            </td>
        </tr>
    }
}

/// What a rule answers, in a line: its reply, a file (📎 its name, then the caption) or a
/// place (📍 its name or address).
fn answer_summary(r: &RuleView) -> String {
    if let Some(place) = &r.location {
        let name = place.name.as_ref().or(place.address.as_ref());
        return format!("📍 {}", name.cloned().unwrap_or_default());
    }
    match &r.media {
        Some(file) => {
            let name = file.filename.as_deref().unwrap_or(&file.kind);
            format!("📎 {name} {}", r.reply).trim_end().to_string()
        }
        None => r.reply.clone(),
    }
}

/// Reads `file` in the browser and creates the rule with it as base64, through the REST
/// route (its body limit is the media limit; the server functions' is the JSON one).
#[cfg(feature = "hydrate")]
async fn create_with_file(mut input: RuleInput, file: web_sys::File) -> Result<(), ErrorBody> {
    let reader = web_sys::FileReader::new().map_err(|_| browser_failed())?;
    let loaded = js_sys::Promise::new(&mut |done, _| reader.set_onloadend(Some(&done)));
    reader
        .read_as_data_url(&file)
        .map_err(|_| browser_failed())?;
    wasm_bindgen_futures::JsFuture::from(loaded)
        .await
        .map_err(|_| browser_failed())?;
    // `data:<type>;base64,<bytes>`
    let data = reader
        .result()
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let (_, base64) = data.split_once(";base64,").ok_or_else(browser_failed)?;
    input.media = Some(Some(RuleMediaInput {
        base64: Some(base64.to_string()),
        filename: Some(file.name()),
        ..Default::default()
    }));
    let body = wasm_bindgen::JsValue::from_str(&serde_json::to_string(&input).unwrap_or_default());
    post("/api/auto-reply/rules", &body, Some("application/json"))
        .await
        .map(|_| ())
}

/// "3 buttons", "list, 4 rows" or "—" for the rules table.
fn menu_summary(form: Option<&InteractiveForm>) -> String {
    let t = t();
    let Some(form) = form else {
        return "—".into();
    };
    // The stored form has no text; any will do to read its choices.
    let mut probe = form.clone();
    probe.text = "·".into();
    match probe.parse() {
        Ok(m) => match m.kind() {
            InteractiveKind::Button => (t.n_buttons)(m.options().len()),
            InteractiveKind::List => (t.list_rows)(m.options().len()),
        },
        Err(_) => t.menu.into(),
    }
}
