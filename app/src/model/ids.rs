//! Typed ids, so a user id can never be passed where a session id is meant.
//! On the wire and in the database they are plain strings (contract §9: "Ids are strings").

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
    };
}

typed_id!(
    /// An account.
    UserId
);
typed_id!(
    /// An API key (its record, not its secret).
    ApiKeyId
);
typed_id!(
    /// A linked WhatsApp account; URL-safe.
    SessionId
);
