//! Who may call the admin API: bearer tokens of two kinds (full and read-only), several
//! of each so a token can be rotated without downtime, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::{SecurityConfig, split_tokens};

type HmacSha256 = Hmac<Sha256>;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every admin call.
    Full,
    /// Reads only (dashboards): any other method is refused with 403.
    ReadOnly,
}

/// The authenticated caller of one request, as handlers and the audit log see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The first 8 hex digits of the SHA-256 of the token: names it in the audit log
    /// without revealing it.
    pub token_id: String,
    pub access: Access,
}

/// The configured tokens, each kept only as an HMAC tag under a key made at startup, so
/// checking a presented token is a constant-time tag comparison.
pub struct Tokens {
    key: [u8; 32],
    known: Vec<(Vec<u8>, Caller)>,
}

impl Tokens {
    pub fn from_config(security: &SecurityConfig) -> Self {
        let key: [u8; 32] = rand::random();
        let mut known = Vec::new();
        let kinds = [
            (&security.admin_token, Access::Full),
            (&security.admin_read_tokens, Access::ReadOnly),
        ];
        for (secret, access) in kinds {
            for token in split_tokens(secret.expose().unwrap_or_default()) {
                let caller = Caller {
                    token_id: token_id(token),
                    access,
                };
                known.push((tag(&key, token), caller));
            }
        }
        Self { key, known }
    }

    /// Whether any token is configured; without one the admin API is off.
    pub fn any(&self) -> bool {
        !self.known.is_empty()
    }

    /// The caller a presented token belongs to. Every configured token is compared (the
    /// time taken does not say which one matched or how much of one did).
    pub fn caller(&self, presented: &str) -> Option<Caller> {
        let mut found = None;
        for (tag, caller) in &self.known {
            let mut mac = mac(&self.key);
            mac.update(presented.as_bytes());
            if mac.verify_slice(tag).is_ok() && found.is_none() {
                found = Some(caller.clone());
            }
        }
        found
    }
}

/// The first 8 hex digits of the token's SHA-256.
pub fn token_id(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(&digest[..4])
}

fn mac(key: &[u8; 32]) -> HmacSha256 {
    // HMAC takes a key of any length, so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("any key length"))
}

fn tag(key: &[u8; 32], token: &str) -> Vec<u8> {
    let mut mac = mac(key);
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, OptionalSecret};

    fn tokens(full: &str, read: &str) -> Tokens {
        let mut security = Config::defaults().security;
        security.admin_token = OptionalSecret::new(full);
        security.admin_read_tokens = OptionalSecret::new(read);
        Tokens::from_config(&security)
    }

    #[test]
    fn each_rotated_token_works_with_its_own_access_and_id() {
        let tokens = tokens("old-token, new-token", "dash-token");
        let old = tokens.caller("old-token").unwrap();
        let new = tokens.caller("new-token").unwrap();
        assert_eq!((old.access, new.access), (Access::Full, Access::Full));
        assert_ne!(old.token_id, new.token_id);
        assert_eq!(old.token_id.len(), 8);
        assert_eq!(
            tokens.caller("dash-token").unwrap().access,
            Access::ReadOnly
        );
        assert_eq!(tokens.caller("old-toke"), None);
        assert_eq!(tokens.caller(""), None);
    }

    #[test]
    fn no_token_configured_means_the_api_is_off() {
        assert!(!tokens("", "").any());
        assert!(tokens("", "r").any());
    }

    #[test]
    fn only_a_bearer_header_carries_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
