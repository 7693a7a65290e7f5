//! The console's Backfill page on both backends: read-only sessions see but cannot start,
//! forms need their CSRF token, a start shows the run's bar and its progress JSON, a
//! second start is 409, and Cancel stops the run; starts and cancels are audited.

use crate::admin_support::{AdminApp, FULL, READ};
use crate::backfill_support::{audit_actions, hold_users_scan, release_users_scan};
use crate::console_support::{csrf, form, page, sign_in};

crate::backfill_support::on_both_backends_with_a_tenant!(
    the_console_starts_shows_and_cancels_runs_with_its_guards,
);

async fn the_console_starts_shows_and_cancels_runs_with_its_guards(app: &AdminApp) {
    let path = "/console/connections/default/backfills";
    let reader = sign_in(app, READ).await;
    let seen = app.send(page(path, &reader)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(seen.text.contains("No backfill has run"), "{}", seen.text);
    assert!(
        !seen.text.contains("Start the backfill"),
        "no form when read-only"
    );
    let refused = app
        .send(form(
            path,
            Some(&reader),
            &format!("csrf={}&from=tovuti", csrf(&seen)),
        ))
        .await;
    assert_eq!(refused.status, 403);
    let cookie = sign_in(app, FULL).await;
    let shown = app.send(page(path, &cookie)).await;
    assert!(shown.text.contains("Start the backfill"), "{}", shown.text);
    let forged = app
        .send(form(path, Some(&cookie), "csrf=forged&from=tovuti"))
        .await;
    assert_eq!(forged.status, 403);
    let token = csrf(&shown);
    let bad = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&from=tovuti&limit=many"),
        ))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let runs = app.get("/api/v1/connections/default/backfills", READ).await;
    assert!(
        runs.ids().is_empty(),
        "refusals start nothing: {}",
        runs.text
    );

    hold_users_scan(app).await;
    let started = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&from=tovuti&limit=2&dry_run=yes"),
        ))
        .await;
    assert_eq!(started.status, 303, "{}", started.text);
    let runs = app.get("/api/v1/connections/default/backfills", READ).await;
    let id = runs.ids().pop().unwrap();
    assert_eq!(runs.json["items"][0]["options"]["dry_run"], true);
    let running = app.send(page(path, &cookie)).await;
    assert!(
        running.text.contains(r#"role="progressbar""#),
        "{}",
        running.text
    );
    assert!(
        running
            .text
            .contains(&format!("/console/backfills/{id}/progress"))
    );
    assert!(
        running
            .text
            .contains(&format!("/console/backfills/{id}/cancel"))
    );
    let twice = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&from=tovuti"),
        ))
        .await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    let progress = app
        .send(page(&format!("/console/backfills/{id}/progress"), &cookie))
        .await;
    assert_eq!(progress.json["state"], "running", "{}", progress.text);

    let cancel = format!("/console/backfills/{id}/cancel");
    let cancelled = app
        .send(form(&cancel, Some(&cookie), &format!("csrf={token}")))
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.text);
    app.state.backfills.wait(&id).await;
    let ended = app.send(page(path, &cookie)).await;
    assert!(
        ended.text.contains(r#"data-state="cancelled""#),
        "{}",
        ended.text
    );
    assert!(!ended.text.contains(r#"role="progressbar""#));
    let actions = audit_actions(app).await;
    let full_id = tovuti_ghl_bridge::http::admin::token_id(FULL);
    for action in ["backfill.start", "backfill.cancel"] {
        assert!(
            actions.contains(&(action.into(), id.clone(), full_id.clone())),
            "{action}: {actions:?}"
        );
    }
    release_users_scan(app).await;
}
