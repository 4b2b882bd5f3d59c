//! Groups (contract §12): what the group API answers and takes, and the `group.*` webhook
//! events. Phone numbers are plain digits, as everywhere; a group is named by its full JID
//! (`120363025246125486@g.us`).

use super::SessionId;
use serde::{Deserialize, Serialize};

/// Where a contact's message or answer happened: the chat (a contact's digits, or a group's
/// JID) and whether it is a group. Flattened into every event that has a `from`, which is
/// then always the author's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatOf {
    /// The group's JID, or (one-to-one) the contact's digits, equal to `from`.
    pub chat: String,
    pub is_group: bool,
}

/// One group in `GET /api/sessions/{id}/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    /// The group's JID.
    pub id: String,
    pub subject: String,
    /// How many members it has.
    pub size: u32,
    /// Whether the session's number is an admin (it can then manage members).
    pub is_admin: bool,
}

/// A member's standing in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Member,
    Admin,
    /// The group's creator (an admin nobody can demote).
    Superadmin,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Member => "member",
            MemberRole::Admin => "admin",
            MemberRole::Superadmin => "superadmin",
        }
    }
}

/// What the dashboard's page of a session shows: the session and, once it is linked, the groups
/// its number is in, each as one list of strings — its JID, its subject, then each member as
/// `"<digits> <role>"` (a tuple of plain lists: the browser parses it far more cheaply than
/// structs).
pub type SessionPage = (super::SessionView, Vec<Vec<String>>);

/// A group as the session page lists it (see [`SessionPage`]).
#[cfg(feature = "ssr")]
pub fn group_row(g: GroupView) -> Vec<String> {
    let mut row = vec![g.id, g.subject];
    row.extend(
        g.participants
            .into_iter()
            .map(|p| format!("{} {}", p.phone_number, p.role.as_str())),
    );
    row
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    /// The member's number (digits); WhatsApp's hidden id (`…@lid`) only when the number
    /// cannot be resolved.
    pub phone_number: String,
    pub role: MemberRole,
}

/// `GET /api/sessions/{id}/groups/{gid}`: a group with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub id: String,
    pub subject: String,
    pub description: Option<String>,
    /// Who created it (digits), when WhatsApp says.
    pub owner: Option<String>,
    pub participants: Vec<GroupMember>,
    /// When it was created (ms since the epoch), when WhatsApp says.
    pub created_at: Option<i64>,
}

/// `POST /api/sessions/{id}/groups`: a new group with the session's number as its creator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    /// 1–100 characters.
    pub subject: String,
    /// Numbers to add (they must be on WhatsApp); may be empty.
    #[serde(default)]
    pub participants: Vec<String>,
}

/// What to do with members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MemberAction {
    Add,
    Remove,
    Promote,
    Demote,
}

impl MemberAction {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberAction::Add => "add",
            MemberAction::Remove => "remove",
            MemberAction::Promote => "promote",
            MemberAction::Demote => "demote",
        }
    }
}

/// `POST /api/sessions/{id}/groups/{gid}/participants`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParticipantsChange {
    pub action: MemberAction,
    /// 1–256 numbers.
    pub participants: Vec<String>,
}

/// What became of one number in a participants change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParticipantResult {
    /// The number as asked.
    pub input: String,
    /// Its digits.
    pub phone_number: String,
    pub success: bool,
    /// Why not, when WhatsApp refused: `not_found` (not on WhatsApp or not in the group),
    /// `forbidden` (their privacy settings or not allowed), `already` (already a member),
    /// `invite_needed` (WhatsApp sent them an invite instead), or WhatsApp's own code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer of a participants change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParticipantsResponse {
    pub success: bool,
    pub results: Vec<ParticipantResult>,
}

/// `PATCH /api/sessions/{id}/groups/{gid}`: only the given fields change; `description: ""`
/// removes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPatch {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `GET /api/sessions/{id}/groups/{gid}/invite`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InviteLink {
    /// `https://chat.whatsapp.com/…`
    pub link: String,
}

/// `POST /api/sessions/{id}/groups/join`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinGroup {
    /// An invite link (`https://chat.whatsapp.com/CODE`) or its code.
    pub link: String,
}

/// The answer of a join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Joined {
    pub success: bool,
    /// The group's JID.
    pub id: String,
    /// `true` when the group's admins must approve the request first.
    pub pending_approval: bool,
}

/// `data` of `group.participants`: members joined, left, were added, removed, promoted or
/// demoted — by the session itself (through the API or on the phone) or by someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupParticipantsData {
    pub session_id: SessionId,
    /// The group's JID.
    pub group: String,
    /// `add`, `remove`, `promote`, `demote`, `leave` or `join`.
    pub action: String,
    /// Whose standing changed (digits).
    pub participants: Vec<String>,
    /// Who made the change (digits), when WhatsApp says.
    pub by: Option<String>,
    pub timestamp: i64,
}

/// `data` of `group.update`: the group's subject or description changed (`description: ""`:
/// removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupUpdateData {
    pub session_id: SessionId,
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub by: Option<String>,
    pub timestamp: i64,
}
