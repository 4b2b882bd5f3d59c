//! WhatsApp's groups ⇄ contract §12, kept pure so each mapping is unit-tested on real
//! whatsapp-rust values: group metadata → [`GroupView`], participant-change answers →
//! [`ParticipantResult`], `w:gp2` notifications → [`GroupEvent`], group errors →
//! [`EngineError`].

use crate::engine::{EngineError, GroupEvent};
use app::model::{GroupMember, GroupView, MemberRole, ParticipantResult};
use whatsapp_rust::{
    GroupError, GroupMetadata, ParticipantChangeResponse, ParticipantType,
    prelude::*,
    request::IqError,
    types::events::GroupUpdate,
    wacore::stanza::groups::{GroupNotificationAction, GroupParticipantInfo},
};

/// A person's number: the JID's digits when it is a phone number, else the phone number
/// WhatsApp sent beside it, else (a hidden `@lid` member) the JID as it is.
fn number(jid: &Jid, phone: Option<&Jid>) -> String {
    known_number(jid, phone, &Known::new())
}

/// Hidden ids (`…@lid`) the client could resolve to numbers, by id.
pub type Known = std::collections::HashMap<String, String>;

/// [`number`], with the numbers the client knows for hidden ids.
fn known_number(jid: &Jid, phone: Option<&Jid>, known: &Known) -> String {
    if jid.is_pn() {
        jid.user.to_string()
    } else if let Some(p) = phone.filter(|p| p.is_pn()) {
        p.user.to_string()
    } else {
        let id = jid.to_string();
        known.get(&id).cloned().unwrap_or(id)
    }
}

/// The hidden ids in a notification that came without their numbers: the client resolves
/// them (its LID → phone mapping) before [`event`] decides, e.g., whether a removal was a
/// leave.
pub fn hidden_ids(u: &GroupUpdate) -> Vec<Jid> {
    let mut ids: Vec<Jid> = u
        .participant
        .iter()
        .filter(|p| !p.is_pn() && u.participant_pn.is_none())
        .cloned()
        .collect();
    let list = match &u.action {
        GroupNotificationAction::Add { participants, .. }
        | GroupNotificationAction::Remove { participants, .. }
        | GroupNotificationAction::Promote { participants }
        | GroupNotificationAction::Demote { participants } => participants.as_slice(),
        _ => &[],
    };
    ids.extend(
        list.iter()
            .filter(|p| !p.jid.is_pn() && p.phone_number.is_none())
            .map(|p| p.jid.clone()),
    );
    ids
}

pub fn view(meta: &GroupMetadata) -> GroupView {
    GroupView {
        id: meta.id.to_string(),
        subject: meta.subject.clone(),
        description: meta.description.clone().filter(|d| !d.is_empty()),
        owner: meta
            .creator
            .as_ref()
            .map(|c| number(c, meta.creator_pn.as_ref())),
        participants: meta
            .participants
            .iter()
            .map(|p| GroupMember {
                phone_number: number(&p.jid, p.phone_number.as_ref()),
                role: match p.participant_type {
                    ParticipantType::SuperAdmin => MemberRole::Superadmin,
                    ParticipantType::Admin => MemberRole::Admin,
                    _ => MemberRole::Member,
                },
            })
            .collect(),
        created_at: meta.creation_time.map(|t| t as i64 * 1000),
    }
}

/// One result per number asked (digits), in order, from WhatsApp's per-participant answers.
/// WhatsApp's codes become words: 409 `already`, 404 `not_found`, 403 `forbidden` (or
/// `invite_needed` when WhatsApp sent an invite instead, the member's privacy settings
/// allowing only that); others stay as WhatsApp's code.
pub fn member_results(
    asked: &[String],
    answers: &[ParticipantChangeResponse],
) -> Vec<ParticipantResult> {
    asked
        .iter()
        .map(|digits| {
            let answer = answers.iter().find(|a| {
                a.jid.user == digits.as_str()
                    || a.phone_number
                        .as_ref()
                        .is_some_and(|p| p.user == digits.as_str())
            });
            let error = match answer {
                None => Some("not_found".to_string()),
                Some(a) => a.error.as_deref().map(|code| {
                    match code {
                        "409" => "already",
                        "404" => "not_found",
                        "403" if a.add_request.is_some() => "invite_needed",
                        "403" => "forbidden",
                        other => other,
                    }
                    .to_string()
                }),
            };
            ParticipantResult {
                input: digits.clone(),
                phone_number: digits.clone(),
                success: error.is_none(),
                error,
            }
        })
        .collect()
}

fn people(list: &[GroupParticipantInfo], known: &Known) -> Vec<String> {
    list.iter()
        .map(|p| known_number(&p.jid, p.phone_number.as_ref(), known))
        .collect()
}

/// A `w:gp2` notification as `group.participants` / `group.update`, numbers in place of the
/// hidden ids in `known`; `None` for what the contract does not report (settings, ephemeral
/// timers, membership requests, …).
pub fn event(u: &GroupUpdate, known: &Known) -> Option<GroupEvent> {
    let group = u.group_jid.to_string();
    let by = u
        .participant
        .as_ref()
        .map(|p| known_number(p, u.participant_pn.as_ref(), known));
    let timestamp_ms = u.timestamp.timestamp_millis();
    let members = |action: &'static str, list: &[GroupParticipantInfo]| {
        let participants = people(list, known);
        // Someone who removes (or adds) only themselves left (or joined, by a link).
        let own = by.as_ref().is_some_and(|b| participants == [b.clone()]);
        let action = match (action, own) {
            ("remove", true) => "leave",
            ("add", true) => "join",
            (a, _) => a,
        };
        Some(GroupEvent::Participants {
            group: group.clone(),
            action,
            participants,
            by: by.clone(),
            timestamp_ms,
        })
    };
    match &u.action {
        GroupNotificationAction::Add {
            participants,
            reason,
        } => {
            let joined = reason
                .as_deref()
                .is_some_and(|r| r.contains("invite") || r.contains("link"));
            members(if joined { "join" } else { "add" }, participants)
        }
        GroupNotificationAction::Remove { participants, .. } => members("remove", participants),
        GroupNotificationAction::Promote { participants } => members("promote", participants),
        GroupNotificationAction::Demote { participants } => members("demote", participants),
        GroupNotificationAction::Subject { subject, .. } => Some(GroupEvent::Update {
            group,
            subject: Some(subject.clone()),
            description: None,
            by,
            timestamp_ms,
        }),
        GroupNotificationAction::Description { description, .. } => Some(GroupEvent::Update {
            group,
            subject: None,
            description: Some(description.clone().unwrap_or_default()),
            by,
            timestamp_ms,
        }),
        _ => None,
    }
}

/// A group call's failure as the API says it: WhatsApp's 404 (no such group, or not in it)
/// and 403/401 (not an admin, not allowed) have their own codes.
pub fn error(e: GroupError) -> EngineError {
    match e {
        GroupError::Iq(IqError::ServerError { code: 404, .. }) => EngineError::GroupNotFound,
        GroupError::Iq(IqError::ServerError {
            code: 401 | 403, ..
        }) => EngineError::NotGroupAdmin,
        GroupError::Iq(IqError::NotConnected) => EngineError::NotConnected,
        GroupError::InvalidRequest(why) => EngineError::Refused(why),
        other => EngineError::Other(anyhow::anyhow!("WhatsApp refused the group call: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::GroupParticipant;

    fn participant(jid: &str, pn: Option<&str>, t: ParticipantType) -> GroupParticipant {
        GroupParticipant {
            jid: jid.parse().expect("jid"),
            phone_number: pn.map(|p| p.parse().expect("pn")),
            lid: None,
            username: None,
            participant_type: t,
            details: None,
        }
    }

    #[test]
    fn metadata_becomes_a_view_with_numbers_not_lids() {
        let meta = GroupMetadata {
            id: "120363025246125486@g.us".parse().expect("jid"),
            subject: "Pesanan".into(),
            description: Some("Grup pesanan toko".into()),
            creator: Some("99887766@lid".parse().expect("lid")),
            creator_pn: Some("6281111111111@s.whatsapp.net".parse().expect("pn")),
            creation_time: Some(1_735_460_000),
            participants: vec![
                participant(
                    "6281111111111@s.whatsapp.net",
                    None,
                    ParticipantType::SuperAdmin,
                ),
                participant(
                    "12345@lid",
                    Some("6282222222222@s.whatsapp.net"),
                    ParticipantType::Admin,
                ),
                participant("777@lid", None, ParticipantType::Member),
            ],
            ..Default::default()
        };
        let v = view(&meta);
        assert_eq!(v.id, "120363025246125486@g.us");
        assert_eq!(v.owner.as_deref(), Some("6281111111111"));
        assert_eq!(v.created_at, Some(1_735_460_000_000));
        assert_eq!(v.description.as_deref(), Some("Grup pesanan toko"));
        let members: Vec<(&str, MemberRole)> = v
            .participants
            .iter()
            .map(|m| (m.phone_number.as_str(), m.role))
            .collect();
        assert_eq!(
            members,
            [
                ("6281111111111", MemberRole::Superadmin),
                ("6282222222222", MemberRole::Admin),
                // No number known: the hidden id, never an empty string.
                ("777@lid", MemberRole::Member),
            ]
        );
    }

    /// A `<participant>` of WhatsApp's answer, parsed as whatsapp-rust parses it.
    fn answer(jid: &str, error: Option<&str>) -> ParticipantChangeResponse {
        use whatsapp_rust::wacore::protocol::ProtocolNode;
        let mut node = whatsapp_rust::NodeBuilder::new("participant").attr("jid", jid);
        if let Some(e) = error {
            node = node.attr("error", e);
        }
        ParticipantChangeResponse::try_from_node(&node.build()).expect("a participant answer")
    }

    #[test]
    fn participant_answers_map_to_one_result_per_number_in_order() {
        let asked = [
            "6281".repeat(3),
            "6282".repeat(3),
            "6283".repeat(3),
            "6284".repeat(3),
        ];
        let asked: Vec<String> = asked.into_iter().collect();
        let answers = [
            answer(&format!("{}@s.whatsapp.net", asked[1]), Some("409")),
            answer(&format!("{}@s.whatsapp.net", asked[0]), None),
            answer(&format!("{}@s.whatsapp.net", asked[2]), Some("403")),
        ];
        let r = member_results(&asked, &answers);
        let got: Vec<(bool, Option<&str>)> =
            r.iter().map(|r| (r.success, r.error.as_deref())).collect();
        assert_eq!(
            got,
            [
                (true, None),
                (false, Some("already")),
                (false, Some("forbidden")),
                // WhatsApp said nothing about it.
                (false, Some("not_found")),
            ]
        );
        assert_eq!(r[0].input, asked[0]);
    }

    fn info(jid: &str) -> GroupParticipantInfo {
        GroupParticipantInfo {
            jid: jid.parse().expect("jid"),
            phone_number: None,
            display_name: None,
            r#type: None,
            lid: None,
            username: None,
            join_time: None,
            group_history_sent_state: None,
        }
    }

    fn update(by: &str, action: GroupNotificationAction) -> GroupUpdate {
        GroupUpdate::builder()
            .group_jid("120363025246125486@g.us".parse().expect("jid"))
            .participant(by.parse().expect("jid"))
            .timestamp(
                whatsapp_rust::wacore::chrono::DateTime::from_timestamp(1_735_460_000, 0)
                    .expect("time"),
            )
            .is_lid_addressing_mode(false)
            .action(action)
            .build()
    }

    fn event_of(u: &GroupUpdate) -> Option<GroupEvent> {
        event(u, &Known::new())
    }

    #[test]
    fn notifications_become_group_events() {
        let admin = "6281111111111@s.whatsapp.net";
        let member = "6282222222222@s.whatsapp.net";
        let added = event_of(&update(
            admin,
            GroupNotificationAction::Add {
                participants: vec![info(member)],
                reason: None,
            },
        ));
        assert_eq!(
            added,
            Some(GroupEvent::Participants {
                group: "120363025246125486@g.us".into(),
                action: "add",
                participants: vec!["6282222222222".into()],
                by: Some("6281111111111".into()),
                timestamp_ms: 1_735_460_000_000,
            })
        );
        let action = |e: Option<GroupEvent>| match e {
            Some(GroupEvent::Participants { action, .. }) => action,
            other => panic!("not a participants event: {other:?}"),
        };
        // Removing oneself is leaving; adding oneself (by a link) is joining.
        let left = update(
            member,
            GroupNotificationAction::Remove {
                participants: vec![info(member)],
                reason: None,
            },
        );
        assert_eq!(action(event_of(&left)), "leave");
        let joined = update(
            member,
            GroupNotificationAction::Add {
                participants: vec![info(member)],
                reason: None,
            },
        );
        assert_eq!(action(event_of(&joined)), "join");
        let promoted = update(
            admin,
            GroupNotificationAction::Promote {
                participants: vec![info(member)],
            },
        );
        assert_eq!(action(event_of(&promoted)), "promote");

        let renamed = event_of(&update(
            admin,
            GroupNotificationAction::Subject {
                subject: "Pesanan Baru".into(),
                subject_owner: None,
                subject_time: None,
            },
        ));
        assert!(matches!(
            renamed,
            Some(GroupEvent::Update { subject: Some(ref s), description: None, .. }) if s == "Pesanan Baru"
        ));
        let cleared = event_of(&update(
            admin,
            GroupNotificationAction::Description {
                id: "d1".into(),
                description: None,
            },
        ));
        assert!(matches!(
            cleared,
            Some(GroupEvent::Update { description: Some(ref d), .. }) if d.is_empty()
        ));
        // Settings are not reported.
        assert_eq!(
            event_of(&update(admin, GroupNotificationAction::Unlocked)),
            None
        );
    }

    #[test]
    fn hidden_ids_are_resolved_before_a_leave_is_told_from_a_removal() {
        // A LID-addressed group: the member who leaves is named by their hidden id, both as
        // the one who acted and as the one removed.
        let lid = "12345@lid";
        let left = update(
            lid,
            GroupNotificationAction::Remove {
                participants: vec![info(lid)],
                reason: None,
            },
        );
        assert_eq!(
            hidden_ids(&left)
                .iter()
                .map(|j| j.to_string())
                .collect::<Vec<_>>(),
            [lid, lid]
        );
        let known = Known::from([(lid.to_string(), "6282222222222".to_string())]);
        assert_eq!(
            event(&left, &known),
            Some(GroupEvent::Participants {
                group: "120363025246125486@g.us".into(),
                action: "leave",
                participants: vec!["6282222222222".into()],
                by: Some("6282222222222".into()),
                timestamp_ms: 1_735_460_000_000,
            })
        );
        // Unknown: the hidden id stays, never an empty number.
        assert!(matches!(
            event(&left, &Known::new()),
            Some(GroupEvent::Participants { ref by, .. }) if by.as_deref() == Some(lid)
        ));
    }

    #[test]
    fn group_errors_map_to_the_api_codes() {
        let server = |code| {
            GroupError::Iq(IqError::ServerError {
                code,
                text: "x".into(),
                error_type: None,
                backoff: None,
            })
        };
        assert!(matches!(error(server(404)), EngineError::GroupNotFound));
        assert!(matches!(error(server(403)), EngineError::NotGroupAdmin));
        assert!(matches!(
            error(GroupError::InvalidRequest(
                "invalid or empty invite code".into()
            )),
            EngineError::Refused(_)
        ));
        assert!(matches!(error(server(500)), EngineError::Other(_)));
    }
}
