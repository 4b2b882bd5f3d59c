//! Login tokens: HS256 JWTs carrying the user id and the login's id (`jti`). The secret comes
//! from `--jwt-secret` or is generated on first start and kept in the database, so restarts
//! do not sign everyone out.

use crate::{config::Config, db::Db};
use anyhow::Context;
use app::model::UserId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The login id; the `logins` row must still exist.
    pub jti: String,
    pub iat: i64,
    /// Seconds since the epoch.
    pub exp: i64,
}

/// The signing keys. Deliberately not `Debug`.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// Uses the configured secret, or the stored one, or stores a new random one.
    pub async fn load(config: &Config, db: &Db) -> anyhow::Result<Self> {
        if let Some(secret) = &config.jwt_secret {
            return Ok(Self::from_secret(secret.as_bytes()));
        }
        let fresh = {
            use base64::Engine;
            let bytes: [u8; 48] = rand::random();
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        // INSERT OR IGNORE + SELECT: two servers starting at once on one database agree.
        sqlx::query("INSERT INTO settings (key, value) VALUES ('jwt_secret', ?) ON CONFLICT (key) DO NOTHING")
            .bind(&fresh)
            .execute(db)
            .await
            .context("storing the JWT secret")?;
        let (secret,): (String,) =
            sqlx::query_as("SELECT value FROM settings WHERE key = 'jwt_secret'")
                .fetch_one(db)
                .await
                .context("reading the JWT secret")?;
        Ok(Self::from_secret(secret.as_bytes()))
    }

    pub fn issue(&self, user: &UserId, login_id: &str, expires_ms: i64) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user.0.clone(),
            jti: login_id.to_string(),
            iat: crate::db::now_ms() / 1000,
            exp: expires_ms / 1000,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing a token")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_forgeries_and_expiry() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let future = crate::db::now_ms() + 60_000;
        let t = keys
            .issue(&UserId("u1".into()), "l1", future)
            .expect("issue");
        let c = keys.verify(&t).expect("verify");
        assert_eq!((c.sub.as_str(), c.jti.as_str()), ("u1", "l1"));

        let other = TokenKeys::from_secret(b"another secret another secret 12");
        assert!(other.verify(&t).is_err(), "signed with another secret");

        let expired = keys
            .issue(&UserId("u1".into()), "l1", crate::db::now_ms() - 5_000)
            .expect("issue");
        assert!(keys.verify(&expired).is_err(), "expired");

        let mut tampered = t.clone();
        tampered.insert(t.len() / 2, 'x');
        assert!(keys.verify(&tampered).is_err());
        assert!(keys.verify("not.a.jwt").is_err());
    }
}
