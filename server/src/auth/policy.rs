//! The one authorization decision: may this caller do this? Every REST handler, server
//! function, SSE stream, simulator call and service asks here, so they cannot disagree.
//!
//! Three things decide (contract §1–2): the caller's role, whether they came with a cookie or
//! an API key, and the key's scope. A key scoped to one session acts with its owner's rights
//! narrowed to that session: it reaches that session and what belongs to it, and nothing that
//! belongs to the whole account (rules, keys, new sessions) or to the server (users, settings,
//! metrics, the global webhook) — even when its owner is an admin.
//!
//! The matrix test (`tests/it/authz.rs`) tries every operation of `/openapi.json` and every
//! server function with every kind of caller against this.

use super::extract::{Caller, Via};
use crate::error::{ApiError, ApiResult};
use app::model::{Role, SessionId, UserId};

/// Whose rows a list may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// Everything (an admin through a cookie or an unscoped key).
    All,
    /// The sessions (and their records) of one owner.
    Owner(UserId),
    /// One session of the owner (a scoped key).
    Session(UserId, SessionId),
}

impl Visible {
    /// `(all, owner, session)` to bind into `(? = 1 OR owner = ?) AND (? IS NULL OR session = ?)`.
    pub fn binds(&self) -> (bool, &str, Option<&str>) {
        match self {
            Visible::All => (true, "", None),
            Visible::Owner(u) => (false, u.as_str(), None),
            Visible::Session(u, s) => (false, u.as_str(), Some(s.as_str())),
        }
    }
}

impl Caller {
    /// The session a scoped API key is limited to.
    pub fn scope(&self) -> Option<&SessionId> {
        match &self.via {
            Via::ApiKey {
                session: Some(s), ..
            } => Some(s),
            _ => None,
        }
    }

    /// Administrator rights: an admin's cookie or unscoped key. A scoped key never has them.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.scope().is_none()
    }

    /// 403 unless the caller has administrator rights.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else if self.scope().is_some() {
            Err(scoped_key_refused())
        } else {
            Err(ApiError::forbidden("Only an administrator can do this."))
        }
    }

    /// 403 for a scoped key: the call acts on the whole account (rules, keys, new sessions),
    /// not on one session.
    pub fn require_account(&self) -> ApiResult<()> {
        match self.scope() {
            Some(_) => Err(scoped_key_refused()),
            None => Ok(()),
        }
    }

    /// Whether the caller may act on session `id`, owned by `owner`. Another user's session is
    /// a 404, never revealed; a scoped key is refused every other session (before any lookup,
    /// so the answer does not tell whether it exists).
    pub fn may_use_session(&self, id: &SessionId, owner: &str) -> ApiResult<()> {
        self.check_scope(id)?;
        if self.is_admin() || self.id.as_str() == owner {
            Ok(())
        } else {
            Err(crate::sessions::not_found())
        }
    }

    /// 403 when a scoped key names a session other than its own.
    pub fn check_scope(&self, id: &SessionId) -> ApiResult<()> {
        match self.scope() {
            Some(scope) if scope != id => Err(ApiError::forbidden(format!(
                "This API key is limited to session {scope}."
            ))),
            _ => Ok(()),
        }
    }

    /// Whose records the caller's lists show.
    pub fn visible(&self) -> Visible {
        match self.scope() {
            Some(s) => Visible::Session(self.id.clone(), s.clone()),
            None if self.is_admin() => Visible::All,
            None => Visible::Owner(self.id.clone()),
        }
    }
}

fn scoped_key_refused() -> ApiError {
    ApiError::forbidden(
        "This API key is limited to one session; use your sign-in or an unscoped key for this.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::ApiKeyId;

    fn caller(role: Role, scope: Option<&str>) -> Caller {
        Caller {
            id: UserId("u1".into()),
            username: "u".into(),
            role,
            via: match scope {
                None => Via::Login {
                    login_id: "l".into(),
                },
                Some(s) => Via::ApiKey {
                    key_id: ApiKeyId("k".into()),
                    session: Some(SessionId(s.into())),
                },
            },
        }
    }

    #[test]
    fn a_scoped_admin_key_is_not_an_admin() {
        let k = caller(Role::Admin, Some("s1"));
        assert!(!k.is_admin());
        assert!(k.require_admin().is_err());
        assert!(k.require_account().is_err());
        assert_eq!(
            k.visible(),
            Visible::Session(UserId("u1".into()), SessionId("s1".into()))
        );
        assert!(caller(Role::Admin, None).is_admin());
    }

    #[test]
    fn a_scoped_key_reaches_only_its_session() {
        let k = caller(Role::User, Some("s1"));
        assert!(k.may_use_session(&SessionId("s1".into()), "u1").is_ok());
        assert!(k.may_use_session(&SessionId("s2".into()), "u1").is_err());
        // Even an admin's scoped key does not reach another user's session.
        let a = caller(Role::Admin, Some("s1"));
        assert!(a.may_use_session(&SessionId("s9".into()), "u2").is_err());
    }

    #[test]
    fn users_reach_their_own_sessions_and_admins_all() {
        let u = caller(Role::User, None);
        assert!(u.may_use_session(&SessionId("s1".into()), "u1").is_ok());
        assert!(u.may_use_session(&SessionId("s2".into()), "u2").is_err());
        assert!(
            caller(Role::Admin, None)
                .may_use_session(&SessionId("s2".into()), "u2")
                .is_ok()
        );
        assert_eq!(u.visible(), Visible::Owner(UserId("u1".into())));
    }
}
