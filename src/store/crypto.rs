//! Encryption of credentials at rest: XChaCha20-Poly1305 with a random nonce per value
//! and the owning row's identity as associated data, so a ciphertext cannot be moved
//! to another connection or kind unnoticed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

use super::StoreError;

/// First byte of every ciphertext: the format, so a later key or algorithm change can
/// tell old values apart.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// The configured key, ready to seal and open values.
#[derive(Clone)]
pub struct Cipher(XChaCha20Poly1305);

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    /// From the base64 of 32 bytes (`security.encryption_key`).
    pub fn from_base64(key: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| "the encryption key is not base64".to_owned())?;
        XChaCha20Poly1305::new_from_slice(&bytes)
            .map(Self)
            .map_err(|_| "the encryption key must be 32 bytes".to_owned())
    }

    /// A fresh random key in base64, for `keys generate`.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn seal(&self, plaintext: &SecretString, aad: &str) -> Result<Vec<u8>, StoreError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.expose_secret().as_bytes(),
            aad: aad.as_bytes(),
        };
        let sealed = self
            .0
            .encrypt(&nonce, payload)
            .map_err(|_| StoreError::Decrypt)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, ciphertext: &[u8], aad: &str) -> Result<SecretString, StoreError> {
        let Some((&FORMAT_V1, rest)) = ciphertext.split_first() else {
            return Err(StoreError::Corrupt("unknown credential format".into()));
        };
        if rest.len() < NONCE_LEN {
            return Err(StoreError::Corrupt("truncated credential".into()));
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: aad.as_bytes(),
        };
        let plain = self
            .0
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| StoreError::Decrypt)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| StoreError::Decrypt)
    }
}

/// Associated data binding a credential to its row.
pub fn credential_aad(connection_id: &str, kind: &str) -> String {
    format!("credential/{connection_id}/{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::from_base64(&Cipher::generate_key()).unwrap()
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_aad() {
        let c = cipher();
        let sealed = c
            .seal(&SecretString::from("refresh-token-1"), "credential/a/ghl")
            .unwrap();
        assert_eq!(
            c.open(&sealed, "credential/a/ghl").unwrap().expose_secret(),
            "refresh-token-1"
        );
    }

    #[test]
    fn a_value_moved_to_another_row_or_key_does_not_open() {
        let c = cipher();
        let sealed = c
            .seal(&SecretString::from("token"), "credential/a/ghl")
            .unwrap();
        assert!(matches!(
            c.open(&sealed, "credential/b/ghl"),
            Err(StoreError::Decrypt)
        ));
        assert!(matches!(
            cipher().open(&sealed, "credential/a/ghl"),
            Err(StoreError::Decrypt)
        ));
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(Cipher::from_base64("not base64!").is_err());
        assert!(Cipher::from_base64(&STANDARD.encode([0u8; 16])).is_err());
    }
}
