//! argon2id password hashing, off the async runtime (it is deliberately slow).

use crate::error::ApiResult;
use anyhow::Context;
use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use std::sync::LazyLock;

/// A PHC-format argon2id hash. Not `Serialize` and its `Debug` hides the value, so it cannot
/// end up in a response or a log by accident.
#[derive(Clone)]
pub struct PasswordHashString(pub String);

impl std::fmt::Debug for PasswordHashString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashString(..)")
    }
}

pub async fn hash(password: String) -> ApiResult<PasswordHashString> {
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await
    .context("hashing task")??;
    Ok(PasswordHashString(hash))
}

pub async fn verify(password: String, hash: PasswordHashString) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash.0)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Burns the same time as [`verify`] for a username that does not exist.
pub async fn verify_dummy(password: String) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a real password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let _ = verify(password, PasswordHashString(DUMMY.clone())).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse".into()).await.expect("hash");
        let b = hash("correct horse".into()).await.expect("hash");
        assert!(a.0.starts_with("$argon2id$"), "{}", a.0);
        assert_ne!(a.0, b.0, "salted");
        assert!(verify("correct horse".into(), a.clone()).await);
        assert!(!verify("Correct horse".into(), a.clone()).await);
        assert!(!verify("x".into(), PasswordHashString("garbage".into())).await);
        assert_eq!(format!("{a:?}"), "PasswordHashString(..)");
    }
}
