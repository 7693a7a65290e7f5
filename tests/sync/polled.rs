//! A pushed Tovuti change and the poller: once the worker has applied a pushed event,
//! the poller listing the same state queues nothing more, so GHL sees one write. And a
//! polled enrollment or completion, which names its learner by id only, reaches the
//! learner's contact with their name.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::platforms::tovuti::TovutiError;
use tovuti_ghl_bridge::platforms::tovuti::client::{
    Award, CourseProgress, Page, PageRequest, TovutiClient, TovutiLists,
};
use tovuti_ghl_bridge::platforms::tovuti::payloads::User;
use tovuti_ghl_bridge::poller::{
    Clock, PollContext, PollSettings, Resource, ScanMode, Throttle, Unobserved, scan,
};

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
    poller_of(env, Arc::new(OneUser(user)))
}

fn poller_of(env: &Env, lists: Arc<dyn TovutiLists>) -> PollContext {
    let mut config = env.state.config.poller.clone();
    // "sync" would queue a user.created for a user it had never seen: the strictest case.
    config.initial_scan = InitialScan::Sync;
    PollContext {
        store: env.state.store.clone(),
        lists,
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

pub async fn a_polled_completion_reaches_the_learners_contact_with_their_name(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let id = env.tovuti.seed_enrolled_users(1, &[101]).start;
    env.tovuti.complete_course(id, 101);
    let client = TovutiClient::from_config(&env.state.config.tovuti)
        .unwrap()
        .unwrap();
    // Only the progress list is scanned: the learner's user.created is not synced yet,
    // so no link names their contact, and the progress row names them by id only.
    let seen = scan(
        &poller_of(&env, Arc::new(client)),
        Resource::Progress,
        ScanMode::Poll,
        &mut Unobserved,
    )
    .await
    .unwrap();
    assert_eq!(seen.events, 2, "enrollment.created and course.completed");
    assert_eq!(env.drain().await, 2);

    let email = format!("learner{id}@example.com");
    let contacts: Vec<_> = env
        .ghl
        .contacts()
        .into_iter()
        .filter(|c| c["email"] == email.as_str())
        .collect();
    assert_eq!(contacts.len(), 1, "{:?}", env.ghl.contacts());
    let tags = contacts[0]["tags"].as_array().cloned().unwrap_or_default();
    assert!(tags.contains(&"course-101:enrolled".into()), "{tags:?}");
    let tasks = env
        .ghl
        .activities("tasks", contacts[0]["id"].as_str().unwrap());
    let titles: Vec<_> = tasks.iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(
        titles,
        [format!(
            "[high] Follow up: Learner {id} finished Intro to Sales"
        )]
    );
    env.finish().await;
}
