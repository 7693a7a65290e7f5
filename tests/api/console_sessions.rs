//! Console sessions live in the database: behind two replicas on one database a sign-in
//! on one is honoured by the other, a form posted to either works with the session's
//! CSRF token, and a sign-out on one ends the session on both — on SQLite and
//! PostgreSQL. (The idle timeout and lifetime are tested on a hand-moved clock beside
//! the session store.)

use axum::http::header;

use crate::admin_support::{AdminApp, FULL, READ};
use crate::console_support::{csrf, form, page, sign_in};

crate::admin_support::on_both_backends!(
    a_session_made_on_one_replica_is_honoured_and_ended_on_the_other,
    a_read_only_session_stays_read_only_on_the_other_replica,
);

async fn a_session_made_on_one_replica_is_honoured_and_ended_on_the_other(one: &AdminApp) {
    let other = one.replica().await;
    let cookie = sign_in(one, FULL).await;

    // The other replica knows the session and its CSRF token.
    let overview = other.send(page("/console", &cookie)).await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    let token = csrf(&overview);
    let first = one.send(page("/console/audit", &cookie)).await;
    assert_eq!(
        csrf(&first),
        token,
        "one token per session, on every replica"
    );

    // Signed out on the other replica: the first no longer opens anything either.
    let out = other
        .send(form(
            "/console/sign-out",
            Some(&cookie),
            &format!("csrf={token}"),
        ))
        .await;
    assert_eq!(out.status, 303, "{}", out.text);
    for replica in [one, &other] {
        let answer = replica.send(page("/console", &cookie)).await;
        assert_eq!(answer.status, 303);
        assert_eq!(answer.headers[header::LOCATION], "/console/sign-in");
    }
    other.finish().await;
}

async fn a_read_only_session_stays_read_only_on_the_other_replica(one: &AdminApp) {
    let other = one.replica().await;
    let cookie = sign_in(one, READ).await;
    let overview = other.send(page("/console", &cookie)).await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    assert!(overview.text.contains("(read-only)"));
    let body = format!("csrf={}&id=acme&ghl_location_id=loc-1", csrf(&overview));
    let refused = other
        .send(form("/console/connections", Some(&cookie), &body))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    other.finish().await;
}
