//! The simulator's control API (contract §8): tests and demos play the phone's side. Mounted
//! only when the server runs `--engine simulator`. A session's calls take its owner's cookie or
//! key, or an admin's; `/simulator/unregistered` applies to every session and is admin-only.

use crate::{
    auth::extract::Caller,
    engine::{
        AnswerVia,
        simulator::{SentRecord, SimError, SimMessage, Simulator},
    },
    error::{ApiError, ApiResult},
    json::Json,
    phone::{self, Chat},
    sessions::store,
    state::AppState,
};
use app::model::{Done, ErrorCode, SessionId};
use axum::{
    Router,
    extract::{Path, State},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/simulator/sessions/{id}/scan", post(scan))
        .route("/simulator/sessions/{id}/enter-code", post(enter_code))
        .route("/simulator/sessions/{id}/incoming", post(incoming))
        .route("/simulator/sessions/{id}/button-reply", post(button_reply))
        .route("/simulator/sessions/{id}/list-reply", post(list_reply))
        .route("/simulator/sessions/{id}/poll-vote", post(poll_vote))
        .route("/simulator/sessions/{id}/disconnect", post(disconnect))
        .route("/simulator/sessions/{id}/logout", post(logout))
        .route("/simulator/sessions/{id}/sent", get(sent))
        .route("/simulator/unregistered", post(unregistered))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Scan {
    phone_number: String,
    #[serde(default)]
    push_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Incoming {
    from: String,
    message: String,
    #[serde(default)]
    push_name: Option<String>,
    #[serde(default)]
    quoted_message_id: Option<String>,
    /// For a group `from`: who wrote it.
    #[serde(default)]
    participant: Option<String>,
    /// Typed on the linked phone itself (to `from`): reported as `message.out`, source `device`.
    #[serde(default)]
    from_me: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ButtonReply {
    from: String,
    message_id: String,
    button_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListReply {
    from: String,
    message_id: String,
    row_id: String,
}

/// A vote in a poll (the interactive `poll` fallback): the chosen option's name, or several.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PollVote {
    from: String,
    message_id: String,
    #[serde(default)]
    option: Option<String>,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    message_id: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Numbers {
    numbers: Vec<String>,
}

/// The simulator and the session `id`, after checking the caller may play its phone.
async fn target(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> ApiResult<(Simulator, SessionId)> {
    let sim = state
        .simulator
        .clone()
        .ok_or_else(|| ApiError::not_found("The simulator is not running."))?;
    let id = SessionId(id);
    store::owned(state, caller, &id).await?;
    Ok((sim, id))
}

fn sim_error(e: SimError) -> ApiError {
    match e {
        SimError::NoSession => crate::sessions::not_found(),
        SimError::NotPairing | SimError::NotConnected => {
            ApiError::new(ErrorCode::SessionNotConnected, e.to_string())
        }
        SimError::WrongCode => ApiError::invalid(e.to_string()),
        SimError::Other(e) => ApiError::Internal(e),
    }
}

fn number(state: &AppState, s: &str, field: &'static str) -> ApiResult<Chat> {
    phone::normalize(s, state.config.default_country_code.as_deref())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, format!("{field}: {e}")))
}

async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Scan>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let Chat::User(phone) = number(&state, &body.phone_number, "phoneNumber")? else {
        return Err(ApiError::new(
            ErrorCode::InvalidPhone,
            "phoneNumber: a person's number, not a group.",
        ));
    };
    let push = body.push_name.unwrap_or_else(|| phone.clone());
    sim.scan(&id, &phone, &push).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnterCode {
    code: String,
    #[serde(default)]
    push_name: Option<String>,
}

async fn enter_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<EnterCode>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    sim.enter_code(&id, &body.code, body.push_name.as_deref())
        .map_err(sim_error)?;
    Ok(Json(Done::OK))
}

async fn incoming(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Incoming>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let from = number(&state, &body.from, "from")?;
    let sender = match (&from, &body.participant) {
        (Chat::User(d), _) => d.clone(),
        (Chat::Group(_), Some(p)) => match number(&state, p, "participant")? {
            Chat::User(d) => d,
            Chat::Group(_) => return Err(ApiError::invalid("participant: a person's number.")),
        },
        (Chat::Group(_), None) => {
            return Err(ApiError::invalid(
                "participant: required for a group message.",
            ));
        }
    };
    let msg = SimMessage {
        from,
        sender,
        text: body.message,
        push_name: body.push_name,
        quoted_id: body.quoted_message_id,
        from_me: body.from_me,
    };
    let message_id = sim.incoming(&id, msg).map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

/// `from` as a person's digits: taps and votes come from people, not groups.
fn person(state: &AppState, s: &str) -> ApiResult<String> {
    match number(state, s, "from")? {
        Chat::User(d) => Ok(d),
        Chat::Group(_) => Err(ApiError::new(
            ErrorCode::InvalidPhone,
            "from: a person's number, not a group.",
        )),
    }
}

async fn button_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ButtonReply>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let from = person(&state, &body.from)?;
    let message_id = sim
        .answer(
            &id,
            &from,
            &body.message_id,
            &body.button_id,
            AnswerVia::Button,
        )
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

async fn list_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ListReply>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let from = person(&state, &body.from)?;
    let message_id = sim
        .answer(
            &id,
            &from,
            &body.message_id,
            &body.row_id,
            AnswerVia::ListRow,
        )
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

async fn poll_vote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PollVote>,
) -> ApiResult<Json<Created>> {
    let (sim, id) = target(&state, &caller, id).await?;
    let from = person(&state, &body.from)?;
    let options: Vec<String> = body.option.into_iter().chain(body.options).collect();
    let message_id = sim
        .poll_vote(&id, &from, &body.message_id, &options)
        .map_err(sim_error)?;
    Ok(Json(Created { message_id }))
}

async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    // The body is optional here: `{}`, `{"reason": …}` or nothing at all.
    let body: Reason = if body.iter().all(u8::is_ascii_whitespace) {
        Reason::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("Invalid request body: {e}")))?
    };
    let reason = body.reason.unwrap_or_else(|| "connection lost".into());
    sim.disconnect(&id, reason).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Done>> {
    let (sim, id) = target(&state, &caller, id).await?;
    sim.logout(&id).map_err(sim_error)?;
    Ok(Json(Done::OK))
}

async fn sent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SentRecord>>> {
    let (sim, id) = target(&state, &caller, id).await?;
    Ok(Json(sim.sent(&id).map_err(sim_error)?))
}

async fn unregistered(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Numbers>,
) -> ApiResult<Json<Done>> {
    caller.require_admin()?;
    let sim = state
        .simulator
        .clone()
        .ok_or_else(|| ApiError::not_found("The simulator is not running."))?;
    let mut digits = Vec::with_capacity(body.numbers.len());
    for n in &body.numbers {
        match number(&state, n, "numbers")? {
            Chat::User(d) => digits.push(d),
            Chat::Group(_) => {
                return Err(ApiError::invalid("numbers: people's numbers, not groups."));
            }
        }
    }
    sim.set_unregistered(digits);
    Ok(Json(Done::OK))
}
