//! The pure parts of GHL's OAuth install: the chooselocation URL, and a CSRF `state`
//! signed with the client secret, bound to a browser cookie (or, for an install link,
//! to a connection by the caller) and valid for 10 minutes, so any replica can check
//! it without shared session storage. Single use is the
//! caller's part: it spends the state's nonce in the store.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::Millis;

/// The cookie holding the nonce the `state` must carry back.
pub const STATE_COOKIE: &str = "ghl_oauth_state";
/// How long an install may take between the redirect and the callback.
const STATE_TTL_MS: i64 = 10 * 60 * 1000;

/// Why a callback's `state` is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("the state parameter is malformed")]
    Malformed,
    #[error("the state parameter does not match this browser's install")]
    Mismatch,
    #[error("the install took too long; start again")]
    Expired,
}

/// What the install redirect needs.
#[derive(Debug, Clone)]
pub struct InstallRequest<'a> {
    /// `https://marketplace.gohighlevel.com/v2/oauth/chooselocation` or a white-label host.
    pub authorize_url: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    /// Space-separated scopes.
    pub scopes: &'a str,
}

/// The URL the admin's browser is sent to.
pub fn authorize_url(
    request: &InstallRequest<'_>,
    state: &str,
) -> Result<url::Url, url::ParseError> {
    let mut url = url::Url::parse(request.authorize_url)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", request.redirect_uri)
        .append_pair("client_id", request.client_id)
        .append_pair("scope", request.scopes)
        .append_pair("state", state);
    Ok(url)
}

fn signature(secret: &str, payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC-SHA256 accepts keys of any length"));
    mac.update(b"ghl-oauth-state:");
    mac.update(payload.as_bytes());
    mac
}

/// A fresh `(state, cookie nonce)` pair.
pub fn issue_state(secret: &str, now: Millis) -> (String, String) {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let payload = format!("{nonce}.{}", now.0);
    let tag = hex::encode(signature(secret, &payload).finalize().into_bytes());
    (format!("{payload}.{tag}"), nonce)
}

/// A state that passed [`verify_state`]: its nonce and when it stops being accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidState {
    pub nonce: String,
    pub expires_at: Millis,
}

/// Accepts `state` only if it is ours, recent, and carries this browser's nonce. Being
/// stateless, it cannot tell a second use from the first: the caller spends the nonce.
pub fn verify_state(
    secret: &str,
    state: &str,
    cookie_nonce: Option<&str>,
    now: Millis,
) -> Result<ValidState, StateError> {
    let valid = verify_signed(secret, state, now)?;
    if cookie_nonce != Some(valid.nonce.as_str()) {
        return Err(StateError::Mismatch);
    }
    Ok(valid)
}

/// Accepts `state` if it is ours and recent, whoever brings it back: for a state the
/// caller has bound to a connection (an install link), where no cookie takes part.
pub fn verify_signed(secret: &str, state: &str, now: Millis) -> Result<ValidState, StateError> {
    let mut parts = state.splitn(3, '.');
    let (Some(nonce), Some(issued), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(StateError::Malformed);
    };
    let issued: i64 = issued.parse().map_err(|_| StateError::Malformed)?;
    let tag = hex::decode(tag).map_err(|_| StateError::Malformed)?;
    signature(secret, &format!("{nonce}.{issued}"))
        .verify_slice(&tag)
        .map_err(|_| StateError::Mismatch)?;
    if now.0.saturating_sub(issued) > STATE_TTL_MS {
        return Err(StateError::Expired);
    }
    Ok(ValidState {
        nonce: nonce.to_owned(),
        expires_at: expires_at(Millis(issued)),
    })
}

/// When a state issued at `issued` stops being accepted.
pub fn expires_at(issued: Millis) -> Millis {
    Millis(issued.0.saturating_add(STATE_TTL_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = Millis(1_800_000_000_000);

    #[test]
    fn a_state_is_accepted_once_back_from_the_same_browser_in_time() {
        let (state, nonce) = issue_state("secret", T0);
        let valid = verify_state("secret", &state, Some(&nonce), Millis(T0.0 + 60_000));
        assert_eq!(
            valid,
            Ok(ValidState {
                nonce,
                expires_at: Millis(T0.0 + STATE_TTL_MS)
            })
        );
    }

    #[test]
    fn forged_foreign_and_stale_states_are_refused() {
        let (state, nonce) = issue_state("secret", T0);
        assert_eq!(
            verify_state("other", &state, Some(&nonce), T0),
            Err(StateError::Mismatch)
        );
        assert_eq!(
            verify_state("secret", &state, Some("someone-else"), T0),
            Err(StateError::Mismatch)
        );
        assert_eq!(
            verify_state("secret", &state, None, T0),
            Err(StateError::Mismatch)
        );
        let late = Millis(T0.0 + STATE_TTL_MS + 1);
        assert_eq!(
            verify_state("secret", &state, Some(&nonce), late),
            Err(StateError::Expired)
        );
        assert_eq!(
            verify_state("secret", "garbage", None, T0),
            Err(StateError::Malformed)
        );
    }

    #[test]
    fn a_signed_state_needs_no_cookie_but_must_be_ours_and_recent() {
        let (state, nonce) = issue_state("secret", T0);
        let valid = verify_signed("secret", &state, T0).unwrap();
        assert_eq!(valid.nonce, nonce);
        assert_eq!(
            verify_signed("other", &state, T0),
            Err(StateError::Mismatch)
        );
        let late = Millis(T0.0 + STATE_TTL_MS + 1);
        assert_eq!(
            verify_signed("secret", &state, late),
            Err(StateError::Expired)
        );
    }

    #[test]
    fn the_authorize_url_is_the_v2_chooselocation_with_every_parameter() {
        let request = InstallRequest {
            authorize_url: "https://marketplace.gohighlevel.com/v2/oauth/chooselocation",
            client_id: "app-1",
            redirect_uri: "https://bridge.example/oauth/ghl/callback",
            scopes: "contacts.readonly contacts.write",
        };
        let url = authorize_url(&request, "s.1.t").unwrap();
        assert_eq!(url.path(), "/v2/oauth/chooselocation");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "app-1");
        assert_eq!(query["scope"], "contacts.readonly contacts.write");
        assert_eq!(
            query["redirect_uri"],
            "https://bridge.example/oauth/ghl/callback"
        );
        assert_eq!(query["state"], "s.1.t");
    }
}
