//! The group API (contract §12) under `/api/sessions/{id}/groups`: list, read, create, manage
//! members, rename, invite links, join, leave. Each call checks the caller may use the
//! session (a key scoped to another session gets 404, as for every session call), validates
//! what it is given, and asks the session's engine; sending to a group is the send endpoints'
//! (`to` a group's JID), and what happens in groups arrives as webhooks
//! (`group.participants`, `group.update`, `message.in` with `chat`/`isGroup`).

use crate::{
    auth::extract::Caller,
    error::{ApiError, ApiResult},
    json::Json,
    openapi::{
        BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized,
    },
    outbound::engine_error,
    phone::{self, Chat},
    sessions::{SessionHandle, store},
    state::AppState,
};
use app::model::{
    Done, GroupPatch, GroupSummary, GroupView, InviteLink, JoinGroup, Joined, MemberRole, NewGroup,
    ParticipantsChange, ParticipantsResponse, SessionId,
};
use axum::{
    Router,
    extract::{Path, State},
    routing::{get, post},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/sessions/{id}/groups",
            get(list_handler).post(create_handler),
        )
        .route("/api/sessions/{id}/groups/join", post(join_handler))
        .route(
            "/api/sessions/{id}/groups/{gid}",
            get(get_handler).patch(update_handler),
        )
        .route(
            "/api/sessions/{id}/groups/{gid}/participants",
            post(participants_handler),
        )
        .route(
            "/api/sessions/{id}/groups/{gid}/invite",
            get(invite_handler),
        )
        .route("/api/sessions/{id}/groups/{gid}/leave", post(leave_handler))
}

/// WhatsApp's longest group subject and description.
const MAX_SUBJECT_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 2048;
/// The most numbers one participants call takes (WhatsApp caps groups at 1024 members).
const MAX_PARTICIPANTS: usize = 256;

/// A subject as WhatsApp takes it: trimmed, 1–100 characters.
pub fn subject(s: &str) -> ApiResult<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ApiError::invalid("subject: empty."));
    }
    if s.chars().count() > MAX_SUBJECT_CHARS {
        return Err(ApiError::invalid("subject: at most 100 characters."));
    }
    Ok(s.to_string())
}

/// Numbers as digits (each once, in order), naming the first that is not a person's number.
fn people(state: &AppState, numbers: &[String]) -> ApiResult<Vec<String>> {
    Ok(once_each(&digits(state, numbers)?))
}

/// Numbers as digits, one for each given (at most 256).
fn digits(state: &AppState, numbers: &[String]) -> ApiResult<Vec<String>> {
    if numbers.len() > MAX_PARTICIPANTS {
        return Err(ApiError::invalid("participants: at most 256 numbers."));
    }
    crate::outbound::people(state, numbers, "participants")
}

fn once_each(digits: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(digits.len());
    for d in digits {
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    out
}

/// The group named in the path: its full JID (`120363…@g.us`, as the list answers it).
fn group_id(gid: &str) -> ApiResult<String> {
    match phone::normalize(gid, None) {
        Ok(Chat::Group(g)) => Ok(g),
        _ => Err(ApiError::invalid(
            "The group id is its JID as GET /api/sessions/{id}/groups lists it (digits@g.us).",
        )),
    }
}

/// The caller's connected session.
async fn session(state: &AppState, caller: &Caller, id: String) -> ApiResult<SessionHandle> {
    let id = SessionId(id);
    store::owned(state, caller, &id).await?;
    state.sessions.require(&id)
}

/// The groups the session's number is in, oldest first.
#[utoipa::path(
    get, path = "/api/sessions/{id}/groups", operation_id = "listGroups", tag = "groups",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The groups.", body = Vec<GroupSummary>, example = json!([{"id": "120363025246125486@g.us", "subject": "Pesanan", "size": 3, "isAdmin": true}])),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn list_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<GroupSummary>>> {
    let s = session(&state, &caller, id).await?;
    let me = s.snapshot().phone_number.unwrap_or_default();
    let groups = all(&s).await?;
    Ok(Json(
        groups
            .into_iter()
            .map(|g| GroupSummary {
                is_admin: g
                    .participants
                    .iter()
                    .any(|p| p.phone_number == me && p.role != MemberRole::Member),
                size: g.participants.len() as u32,
                id: g.id,
                subject: g.subject,
            })
            .collect(),
    ))
}

/// A group with its members.
#[utoipa::path(
    get, path = "/api/sessions/{id}/groups/{gid}", operation_id = "getGroup", tag = "groups",
    params(
        ("id" = String, Path, description = "The session's id."),
        ("gid" = String, Path, description = "The group's JID, e.g. `120363025246125486@g.us`."),
    ),
    responses(
        (status = 200, description = "The group.", body = GroupView, example = json!({"id": "120363025246125486@g.us", "subject": "Pesanan", "description": "Pesanan toko", "owner": "6281234567890", "participants": [{"phoneNumber": "6281234567890", "role": "superadmin"}, {"phoneNumber": "6282222222222", "role": "member"}], "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn get_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<Json<GroupView>> {
    let s = session(&state, &caller, id).await?;
    let gid = group_id(&gid)?;
    Ok(Json(s.conn.group(&gid).await.map_err(engine_error)?))
}

/// Create a group: the session's number is its creator, `participants` its first members
/// (numbers not on WhatsApp are left out; see the answer's `participants`).
#[utoipa::path(
    post, path = "/api/sessions/{id}/groups", operation_id = "createGroup", tag = "groups",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = NewGroup, example = json!({"subject": "Pesanan", "participants": ["6282222222222", "6283333333333"]})),
    responses(
        (status = 200, description = "The new group.", body = GroupView, example = json!({"id": "120363025246125486@g.us", "subject": "Pesanan", "description": null, "owner": "6281234567890", "participants": [{"phoneNumber": "6281234567890", "role": "superadmin"}, {"phoneNumber": "6282222222222", "role": "member"}, {"phoneNumber": "6283333333333", "role": "member"}], "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn create_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewGroup>,
) -> ApiResult<Json<GroupView>> {
    let s = session(&state, &caller, id).await?;
    let subject = subject(&body.subject)?;
    let participants = people(&state, &body.participants)?;
    let group = s
        .conn
        .create_group(&subject, &participants)
        .await
        .map_err(engine_error)?;
    s.forget_group_names();
    Ok(Json(group))
}

/// Add, remove, promote or demote members (the session's number must be an admin). One
/// result per number, in the order given: a refusal for one number does not stop the others.
#[utoipa::path(
    post, path = "/api/sessions/{id}/groups/{gid}/participants", operation_id = "changeGroupParticipants", tag = "groups",
    params(
        ("id" = String, Path, description = "The session's id."),
        ("gid" = String, Path, description = "The group's JID."),
    ),
    request_body(content = ParticipantsChange, example = json!({"action": "add", "participants": ["6284444444444", "6285555555555"]})),
    responses(
        (status = 200, description = "What became of each number.", body = ParticipantsResponse, example = json!({"success": true, "results": [{"input": "6284444444444", "phoneNumber": "6284444444444", "success": true}, {"input": "+62 855-5555-5555", "phoneNumber": "6285555555555", "success": false, "error": "already"}]})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn participants_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, gid)): Path<(String, String)>,
    Json(body): Json<ParticipantsChange>,
) -> ApiResult<Json<ParticipantsResponse>> {
    let s = session(&state, &caller, id).await?;
    let gid = group_id(&gid)?;
    if body.participants.is_empty() {
        return Err(ApiError::invalid("participants: at least one number."));
    }
    // One result per number as given, duplicates included; WhatsApp is asked once for each.
    let digits = digits(&state, &body.participants)?;
    let unique = once_each(&digits);
    let answers = s
        .conn
        .change_members(&gid, body.action, &unique)
        .await
        .map_err(engine_error)?;
    let results = body
        .participants
        .iter()
        .zip(&digits)
        .map(|(input, d)| {
            let mut r = answers
                .iter()
                .find(|a| &a.phone_number == d)
                .cloned()
                .unwrap_or_else(|| app::model::ParticipantResult {
                    input: String::new(),
                    phone_number: d.clone(),
                    success: false,
                    error: Some("not_found".into()),
                });
            r.input = input.clone();
            r
        })
        .collect();
    Ok(Json(ParticipantsResponse {
        success: true,
        results,
    }))
}

/// Change the subject and/or the description (`""` removes it); answers the group after.
#[utoipa::path(
    patch, path = "/api/sessions/{id}/groups/{gid}", operation_id = "updateGroup", tag = "groups",
    params(
        ("id" = String, Path, description = "The session's id."),
        ("gid" = String, Path, description = "The group's JID."),
    ),
    request_body(content = GroupPatch, example = json!({"subject": "Pesanan Desember", "description": "Kirim pesanan sebelum jam 3 sore."})),
    responses(
        (status = 200, description = "The group after the change.", body = GroupView, example = json!({"id": "120363025246125486@g.us", "subject": "Pesanan Desember", "description": "Kirim pesanan sebelum jam 3 sore.", "owner": "6281234567890", "participants": [{"phoneNumber": "6281234567890", "role": "superadmin"}], "createdAt": 1735460000000_i64})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn update_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, gid)): Path<(String, String)>,
    Json(mut patch): Json<GroupPatch>,
) -> ApiResult<Json<GroupView>> {
    let s = session(&state, &caller, id).await?;
    let gid = group_id(&gid)?;
    if patch.subject.is_none() && patch.description.is_none() {
        return Err(ApiError::invalid("Give `subject`, `description`, or both."));
    }
    if let Some(sub) = &patch.subject {
        patch.subject = Some(subject(sub)?);
    }
    if let Some(d) = &patch.description
        && d.chars().count() > MAX_DESCRIPTION_CHARS
    {
        return Err(ApiError::invalid("description: at most 2048 characters."));
    }
    s.conn
        .update_group(&gid, &patch)
        .await
        .map_err(engine_error)?;
    s.forget_group_names();
    Ok(Json(s.conn.group(&gid).await.map_err(engine_error)?))
}

/// The group's invite link (admins only, as in WhatsApp).
#[utoipa::path(
    get, path = "/api/sessions/{id}/groups/{gid}/invite", operation_id = "groupInviteLink", tag = "groups",
    params(
        ("id" = String, Path, description = "The session's id."),
        ("gid" = String, Path, description = "The group's JID."),
    ),
    responses(
        (status = 200, description = "The link.", body = InviteLink, example = json!({"link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv"})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn invite_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<Json<InviteLink>> {
    let s = session(&state, &caller, id).await?;
    let gid = group_id(&gid)?;
    let link = s.conn.invite_link(&gid).await.map_err(engine_error)?;
    Ok(Json(InviteLink { link }))
}

/// The groups the session's number is in, with their members (the list and the dashboard).
pub async fn all(s: &SessionHandle) -> ApiResult<Vec<GroupView>> {
    s.conn.groups().await.map_err(engine_error)
}

/// The invite code of a link (`https://chat.whatsapp.com/CODE`, with or without `invite/`),
/// or a bare code.
fn invite_code(link: &str) -> ApiResult<String> {
    let l = link.trim();
    let code = ["https://", "http://", ""]
        .iter()
        .find_map(|scheme| l.strip_prefix(scheme)?.strip_prefix("chat.whatsapp.com/"))
        .map(|rest| rest.strip_prefix("invite/").unwrap_or(rest))
        .unwrap_or(l)
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let ok = (8..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(code.to_string())
    } else {
        Err(ApiError::invalid(
            "link: an invite link such as https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv, or its code.",
        ))
    }
}

/// Join a group by its invite link.
#[utoipa::path(
    post, path = "/api/sessions/{id}/groups/join", operation_id = "joinGroup", tag = "groups",
    params(("id" = String, Path, description = "The session's id.")),
    request_body(content = JoinGroup, example = json!({"link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv"})),
    responses(
        (status = 200, description = "Joined (or asked to, when the group's admins approve members).", body = Joined, example = json!({"success": true, "id": "120363025246125486@g.us", "pendingApproval": false})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn join_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<JoinGroup>,
) -> ApiResult<Json<Joined>> {
    let s = session(&state, &caller, id).await?;
    let code = invite_code(&body.link)?;
    let joined = s.conn.join_group(&code).await.map_err(engine_error)?;
    s.forget_group_names();
    Ok(Json(joined))
}

/// Leave the group.
#[utoipa::path(
    post, path = "/api/sessions/{id}/groups/{gid}/leave", operation_id = "leaveGroup", tag = "groups",
    params(
        ("id" = String, Path, description = "The session's id."),
        ("gid" = String, Path, description = "The group's JID."),
    ),
    responses(
        (status = 200, description = "Left.", body = Done, example = json!({"success": true})),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn leave_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<Json<Done>> {
    let s = session(&state, &caller, id).await?;
    let gid = group_id(&gid)?;
    s.conn.leave_group(&gid).await.map_err(engine_error)?;
    s.forget_group_names();
    Ok(Json(Done::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_come_out_of_every_link_shape() {
        for link in [
            "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv",
            "http://chat.whatsapp.com/invite/AbCdEfGhIjKlMnOpQrStUv",
            "chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv/",
            " https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv?utm=x ",
            "AbCdEfGhIjKlMnOpQrStUv",
        ] {
            assert_eq!(
                invite_code(link).ok().as_deref(),
                Some("AbCdEfGhIjKlMnOpQrStUv"),
                "{link}"
            );
        }
        for bad in ["", "https://example.com/x", "short", "has space in it ok"] {
            assert!(invite_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subjects_are_trimmed_and_bounded() {
        assert_eq!(subject("  Pesanan ").ok().as_deref(), Some("Pesanan"));
        assert!(subject("   ").is_err());
        assert!(subject(&"x".repeat(101)).is_err());
        assert!(subject(&"é".repeat(100)).is_ok());
    }
}
