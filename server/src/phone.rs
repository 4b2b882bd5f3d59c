//! Phone numbers and chat addresses as clients write them, made canonical (contract §4):
//! digits with an optional `+`, spaces, dashes, dots and parentheses ignored; a full JID
//! (`…@s.whatsapp.net`, `…@c.us`, `…@g.us`) accepted; a leading `0` replaced by the
//! configured default country code.

use std::fmt;

/// Where a message goes: one person (by number) or a group (by its JID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Chat {
    /// International digits without `+`, e.g. `6281234567890`.
    User(String),
    /// A full group JID, e.g. `120363025246125486@g.us`.
    Group(String),
}

impl Chat {
    /// What webhooks and responses show: digits for a person, the full JID for a group.
    pub fn display(&self) -> &str {
        match self {
            Chat::User(d) | Chat::Group(d) => d,
        }
    }

    /// The WhatsApp JID.
    pub fn jid(&self) -> String {
        match self {
            Chat::User(d) => format!("{d}@s.whatsapp.net"),
            Chat::Group(g) => g.clone(),
        }
    }

    /// Reads back what [`Chat::display`] wrote.
    pub fn from_display(s: &str) -> Chat {
        if s.ends_with("@g.us") {
            Chat::Group(s.to_string())
        } else {
            Chat::User(s.to_string())
        }
    }
}

impl fmt::Display for Chat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display())
    }
}

/// Why a string is not a phone number, without naming the field: [`PhoneError::in_field`]
/// says which one (`to`, `phoneNumber`, `from`…), so every caller names its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PhoneError(pub &'static str);

impl PhoneError {
    /// "`phoneNumber` must have 7 to 15 digits…"
    pub fn in_field(&self, field: &str) -> String {
        format!("`{field}` {}", self.0)
    }
}

const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15; // E.164

pub fn normalize(input: &str, default_country_code: Option<&str>) -> Result<Chat, PhoneError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(PhoneError(
            "is empty: give a phone number such as 6281234567890.",
        ));
    }
    if let Some((local, server)) = s.split_once('@') {
        return match server {
            "s.whatsapp.net" | "c.us" => {
                // A device suffix (`628…:12@s.whatsapp.net`) addresses the same person.
                let local = local.split(':').next().unwrap_or_default();
                digits_in_range(local).map(|d| Chat::User(d.to_string()))
            }
            "g.us" => {
                let ok = !local.is_empty()
                    && local.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                    && local.len() <= 64;
                if ok {
                    Ok(Chat::Group(s.to_string()))
                } else {
                    Err(PhoneError("is not a valid group JID (digits@g.us)."))
                }
            }
            _ => Err(PhoneError(
                "must be a phone number or a JID ending in @s.whatsapp.net or @g.us.",
            )),
        };
    }
    let (plus, rest) = match s.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(PhoneError(
                    "may hold only digits, an optional +, spaces, dashes, dots and parentheses.",
                ));
            }
        }
    }
    if !plus && digits.starts_with('0') {
        match default_country_code {
            Some(cc) => digits = format!("{cc}{}", digits.trim_start_matches('0')),
            None => {
                return Err(PhoneError(
                    "starts with 0: write it with its country code (e.g. 62812…), or configure --default-country-code.",
                ));
            }
        }
    }
    digits_in_range(&digits).map(|d| Chat::User(d.to_string()))
}

fn digits_in_range(d: &str) -> Result<&str, PhoneError> {
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneError("is not a phone number."));
    }
    if d.starts_with('0') {
        return Err(PhoneError("must start with a country code, not 0."));
    }
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&d.len()) {
        return Err(PhoneError(
            "must have 7 to 15 digits including the country code.",
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_people_write() {
        let user = |s: &str| Chat::User(s.to_string());
        let n = |s| normalize(s, Some("62"));
        assert_eq!(n("6281234567890"), Ok(user("6281234567890")));
        assert_eq!(n("+62 812-3456-7890"), Ok(user("6281234567890")));
        assert_eq!(n(" (62) 812.3456.7890 "), Ok(user("6281234567890")));
        assert_eq!(n("081234567890"), Ok(user("6281234567890")));
        assert_eq!(n("6281234567890@s.whatsapp.net"), Ok(user("6281234567890")));
        assert_eq!(
            n("6281234567890:3@s.whatsapp.net"),
            Ok(user("6281234567890"))
        );
        assert_eq!(n("6281234567890@c.us"), Ok(user("6281234567890")));
        let g = n("120363025246125486@g.us").expect("group");
        assert_eq!(g, Chat::Group("120363025246125486@g.us".into()));
        assert_eq!(g.jid(), "120363025246125486@g.us");
        assert_eq!(user("6281").jid(), "6281@s.whatsapp.net");
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for bad in [
            "",
            "  ",
            "abc",
            "62812x4567890",
            "+",
            "123",
            "1234567890123456",
            "62812@example.com",
            "@s.whatsapp.net",
            "abc@g.us",
            "++6281234567890",
            "0@s.whatsapp.net",
        ] {
            assert!(normalize(bad, Some("62")).is_err(), "{bad:?}");
        }
        assert!(
            normalize("081234567890", None).is_err(),
            "leading 0 without a country code"
        );
        assert!(
            normalize("+081234567890", Some("62")).is_err(),
            "+0 is never valid"
        );
    }
}

/// Property tests (bounded case counts): any input at all never panics the normaliser, and what
/// it accepts is a valid, stable address.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn normalize_never_panics_and_is_stable(
            input in prop_oneof![
                "\\PC{0,40}",
                "[+0-9 ().-]{0,24}",
                "[0-9:]{0,20}@(s\\.whatsapp\\.net|c\\.us|g\\.us|lid|x)",
            ],
            cc in prop::option::of("[0-9]{1,3}"),
        ) {
            if let Ok(chat) = normalize(&input, cc.as_deref()) {
                let shown = chat.display().to_string();
                if let Chat::User(digits) = &chat {
                    prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{digits}");
                    prop_assert!((MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()), "{digits}");
                }
                // Normalising what we show (and store) gives the same chat again.
                prop_assert_eq!(normalize(&shown, cc.as_deref()).map(|c| c.display().to_string()), Ok(shown));
            }
        }
    }
}
