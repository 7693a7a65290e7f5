//! A pushed Tovuti change and the poller: once the worker has applied a pushed event,
//! the poller listing the same state queues nothing more, so GHL sees one write.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::platforms::tovuti::TovutiError;
use tovuti_ghl_bridge::platforms::tovuti::client::{
    Award, CourseProgress, Page, PageRequest, TovutiLists,
};
use tovuti_ghl_bridge::platforms::tovuti::payloads::User;
use tovuti_ghl_bridge::poller::{
    Clock, PollContext, PollSettings, Resource, ScanMode, Throttle, Unobserved, scan,
};
use tovuti_ghl_bridge::startup::DEFAULT_CONNECTION;

use crate::support::{Backend, Env, tovuti_event};

/// A tenant with one user and nothing else.
struct OneUser(User);

#[async_trait]
impl TovutiLists for OneUser {
    async fn users_page(&self, _: PageRequest) -> Result<Page<User>, TovutiError> {
        Ok(Page {
            items: vec![self.0.clone()],
            unreadable: 0,
            last: true,
        })
    }
    async fn progress_page(&self, _: PageRequest) -> Result<Page<CourseProgress>, TovutiError> {
        Ok(Page {
            items: Vec::new(),
            unreadable: 0,
            last: true,
        })
    }
    async fn awards_page(&self, _: PageRequest) -> Result<Page<Award>, TovutiError> {
        Ok(Page {
            items: Vec::new(),
            unreadable: 0,
            last: true,
        })
    }
}

fn poller(env: &Env, user: User) -> PollContext {
    let mut config = env.state.config.poller.clone();
    // "sync" would queue a user.created for a user it had never seen: the strictest case.
    config.initial_scan = InitialScan::Sync;
    PollContext {
        store: env.state.store.clone(),
        lists: Arc::new(OneUser(user)),
        connection: DEFAULT_CONNECTION.to_owned(),
        owner: "poller".to_owned(),
        settings: PollSettings::from_config(&config, false),
        metrics: env.state.metrics.clone(),
        throttle: Throttle::none(),
        clock: Clock::System,
        shutdown: CancellationToken::new(),
    }
}

pub async fn a_pushed_user_update_the_poller_sees_later_is_not_synced_twice(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let body = tovuti_event("user.updated", "evt_pushed_1");
    assert_eq!(env.send_tovuti(&body).await.status, 200);
    assert_eq!(env.drain().await, 1);
    let after_push = env.ghl_requests();
    assert!(!after_push.is_empty(), "the pushed update reached GHL");
    let user: User = serde_json::from_value(body["data"]["user"].clone()).unwrap();

    let seen = scan(
        &poller(&env, user.clone()),
        Resource::Users,
        ScanMode::Poll,
        &mut Unobserved,
    )
    .await
    .unwrap();

    assert_eq!((seen.scanned, seen.events), (1, 0));
    assert_eq!(env.drain().await, 0);
    assert_eq!(env.ghl_requests(), after_push, "no second GHL write");

    // A real change after the push is still found and synced.
    let mut renamed = user;
    renamed.name = Some("Renamed Learner".to_owned());
    let changed = scan(
        &poller(&env, renamed),
        Resource::Users,
        ScanMode::Poll,
        &mut Unobserved,
    )
    .await
    .unwrap();
    assert_eq!(changed.events, 1);
    assert_eq!(env.drain().await, 1);
    assert!(env.ghl_requests().len() > after_push.len());
    env.finish().await;
}
