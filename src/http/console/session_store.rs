//! The console's sessions, kept in the database so that a sign-in on one replica is
//! honoured by every other and a sign-out on one ends the session everywhere. A session
//! is a random 256-bit id in the cookie; the database holds only its SHA-256, the token
//! id and access, and its clocks. It ends after `LIFETIME`, after `IDLE_TIMEOUT` without
//! a request, or at sign-out; each sign-in first deletes the sessions that ended. The
//! CSRF token is derived from the id, so it is stored nowhere and no replica needs it
//! sent to it.

use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::session::{IDLE_TIMEOUT, LIFETIME, Session};
use crate::http::admin::{Access, Caller};
use crate::store::{Millis, NewConsoleSession, Store, StoreResult};

/// Where the sessions' "now" comes from: the wall clock, or a test's own.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Millis + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Millis::now))
    }

    /// A clock that reads `now` (tests move it by hand).
    #[cfg(test)]
    pub fn manual(now: Arc<std::sync::atomic::AtomicI64>) -> Self {
        Self(Arc::new(move || {
            Millis(now.load(std::sync::atomic::Ordering::SeqCst))
        }))
    }

    fn now(&self) -> Millis {
        (self.0)()
    }
}

/// The console's sessions over the store.
pub struct Sessions {
    store: Arc<dyn Store>,
    clock: Clock,
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// Opens a session for `caller`; returns its id, for the cookie.
    pub async fn open(&self, caller: &Caller) -> StoreResult<String> {
        let id = hex::encode(rand::random::<[u8; 32]>());
        let now = self.clock.now();
        let session = NewConsoleSession {
            id_hash: id_hash(&id),
            token_id: caller.token_id.clone(),
            access: access_name(caller.access).to_owned(),
            created_at: now,
            expires_at: now.plus(LIFETIME),
        };
        self.store
            .open_console_session(&session, idle_before(now))
            .await?;
        Ok(id)
    }

    /// The live session `id` names; using it resets its idle clock.
    pub async fn touch(&self, id: &str) -> StoreResult<Option<Session>> {
        let now = self.clock.now();
        let found = self
            .store
            .touch_console_session(&id_hash(id), now, idle_before(now))
            .await?;
        Ok(found.and_then(|row| {
            let access = access_of(&row.access)?;
            Some(Session {
                caller: Caller {
                    token_id: row.token_id,
                    access,
                },
                csrf: csrf_token(id),
            })
        }))
    }

    /// Ends the session `id` names, on every replica.
    pub async fn revoke(&self, id: &str) -> StoreResult<()> {
        self.store.end_console_session(&id_hash(id)).await
    }
}

fn idle_before(now: Millis) -> Millis {
    let idle = i64::try_from(IDLE_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
    Millis(now.0.saturating_sub(idle))
}

/// What the database keys a session by: its id's SHA-256, so a copy of the table opens
/// nothing.
fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The session's CSRF token: a hash of its id under a label of its own, so it differs
/// from the stored hash and reveals nothing of the id.
fn csrf_token(id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"bridge console csrf\0");
    hasher.update(id.as_bytes());
    hex::encode(hasher.finalize())
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Full => "full",
        Access::ReadOnly => "read_only",
    }
}

/// A stored access name; an unknown one opens nothing.
fn access_of(name: &str) -> Option<Access> {
    match name {
        "full" => Some(Access::Full),
        "read_only" => Some(Access::ReadOnly),
        _ => None,
    }
}

#[cfg(test)]
#[path = "session_store_tests.rs"]
mod tests;
