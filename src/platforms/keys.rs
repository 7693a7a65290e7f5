//! Loading public keys given as configuration text: PEM, or bare base64 of the DER.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::KeyError;

/// Key text as found in configuration, normalised.
pub(crate) enum KeyText {
    Pem(String),
    Der(Vec<u8>),
}

impl KeyText {
    /// Environment variables and Kubernetes secrets often carry PEM with literal `\n`
    /// sequences instead of newlines; both forms are accepted.
    pub(crate) fn parse(text: &str, what: &'static str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return Ok(Self::Pem(text.replace("\\n", "\n")));
        }
        let compact: String = text.split_whitespace().collect();
        STANDARD
            .decode(compact)
            .map(Self::Der)
            .map_err(|_| KeyError::Encoding { what })
    }
}
