//! Secrets at rest: webhook signing secrets are stored encrypted (XChaCha20-Poly1305), with a
//! key kept outside the database, so a copied `kabar.db` (a backup, a stolen disk image) does
//! not let anyone forge Kabar's webhook signatures.
//!
//! The key is `KABAR_SECRET_KEY` (any string; hashed to 32 bytes) or, when that is not set, a
//! random key in `<data dir>/secret.key` (created on first start, mode 0600). Lose the key and
//! the stored webhook secrets are lost with it: back the file up with the database (README,
//! Security). Values written before encryption existed are read as they are and encrypted at
//! start ([`encrypt_stored`]).

use anyhow::Context;
use base64::Engine;
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit},
};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Marks an encrypted value: `enc:v1:` + base64(nonce ‖ ciphertext).
const PREFIX: &str = "enc:v1:";
const KEY_FILE: &str = "secret.key";

/// The cipher for secrets at rest. Not `Debug`: it holds the key.
#[derive(Clone)]
pub struct Secrets(XChaCha20Poly1305);

impl Secrets {
    /// From `KABAR_SECRET_KEY` when given, else the key file in `data_dir` (made when missing).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let key: [u8; 32] = match configured.filter(|k| !k.is_empty()) {
            Some(k) => Sha256::digest(k.as_bytes()).into(),
            None => key_file(&data_dir.join(KEY_FILE))?,
        };
        Ok(Secrets(XChaCha20Poly1305::new(
            &chacha20poly1305::Key::from(key),
        )))
    }

    /// Encrypts `plain`; the empty string stays empty (no secret set).
    pub fn seal(&self, plain: &str) -> String {
        if plain.is_empty() {
            return String::new();
        }
        let nonce_bytes: [u8; 24] = rand::random();
        let nonce = XNonce::from(nonce_bytes);
        // Encryption with a fresh nonce cannot fail for inputs this small.
        let sealed = self.0.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    /// The plain secret of a stored value (a value from before encryption is returned as it is).
    pub fn open(&self, stored: &str) -> anyhow::Result<String> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .context("a stored secret is not valid base64")?;
        anyhow::ensure!(bytes.len() > 24, "a stored secret is truncated");
        let (nonce, sealed) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().context("a stored secret is truncated")?;
        let plain = self
            .0
            .decrypt(&XNonce::from(nonce), sealed)
            .map_err(|_| {
                anyhow::anyhow!(
                    "a stored webhook secret cannot be decrypted: KABAR_SECRET_KEY or data/secret.key changed"
                )
            })?;
        String::from_utf8(plain).context("a stored secret is not UTF-8")
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

fn key_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .with_context(|| format!("{} is not a hex key", path.display()))?;
            bytes.try_into().map_err(|_| {
                anyhow::anyhow!("{} must hold 32 bytes (64 hex digits)", path.display())
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            write_private(path, hex::encode(key).as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Encrypts every webhook secret still stored in clear (databases from before encryption).
pub async fn encrypt_stored(db: &crate::db::Db, secrets: &Secrets) -> anyhow::Result<usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, secret FROM webhook_endpoints WHERE secret <> ''")
            .fetch_all(db)
            .await?;
    let mut n = 0;
    for (id, secret) in rows {
        if Secrets::is_sealed(&secret) {
            continue;
        }
        sqlx::query("UPDATE webhook_endpoints SET secret = ? WHERE id = ? AND secret = ?")
            .bind(secrets.seal(&secret))
            .bind(&id)
            .bind(&secret)
            .execute(db)
            .await?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_never_repeat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Secrets::load(None, dir.path()).expect("key");
        let a = s.seal("whsec-ünïcode");
        let b = s.seal("whsec-ünïcode");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("whsec"));
        assert_eq!(s.open(&a).expect("open"), "whsec-ünïcode");
        assert_eq!(s.seal(""), "");
        assert_eq!(s.open("legacy-plain").expect("legacy"), "legacy-plain");
        // The same key file on the next start opens what the last one sealed.
        let again = Secrets::load(None, dir.path()).expect("key again");
        assert_eq!(again.open(&a).expect("open"), "whsec-ünïcode");
        // Another key does not.
        let other = Secrets::load(Some("another key"), dir.path()).expect("key");
        assert!(other.open(&a).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        Secrets::load(None, dir.path()).expect("key");
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
