//! Checks that a well-typed configuration also makes sense, reporting every problem.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Config, ConfigProblem};

/// Shortest admin token accepted: long enough that the failed-authentication limit makes
/// guessing hopeless, and that a short placeholder left in a manifest is refused.
const MIN_ADMIN_TOKEN: usize = 16;

/// Every semantic problem of `config`.
pub fn validate(config: &Config) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, key: &str, message: String| {
        if !ok {
            problems.push(ConfigProblem {
                key: key.to_owned(),
                message,
            });
        }
    };
    let server = &config.server;
    check(
        server.listen.parse::<SocketAddr>().is_ok(),
        "server.listen",
        format!(
            "`{}` is not a host:port address such as 0.0.0.0:8080",
            server.listen
        ),
    );
    check(
        server.body_limit_bytes > 0,
        "server.body_limit_bytes",
        "must be at least 1".into(),
    );
    check(
        server.request_timeout_secs > 0,
        "server.request_timeout_secs",
        "must be at least 1".into(),
    );
    for (value, key) in [
        (server.readiness_timeout_ms, "server.readiness_timeout_ms"),
        (
            server.header_read_timeout_secs,
            "server.header_read_timeout_secs",
        ),
    ] {
        check(value > 0, key, "must be at least 1".into());
    }
    check(
        server.max_connections > 0,
        "server.max_connections",
        "must be at least 1".into(),
    );

    let admin = &config.admin;
    check(
        admin.listen.is_empty() || admin.listen.parse::<SocketAddr>().is_ok(),
        "admin.listen",
        format!(
            "`{}` is not a host:port address such as 127.0.0.1:9090",
            admin.listen
        ),
    );
    for (secret, key) in [
        (&config.security.admin_token, "security.admin_token"),
        (
            &config.security.admin_read_tokens,
            "security.admin_read_tokens",
        ),
    ] {
        let tokens = super::split_tokens(secret.expose().unwrap_or_default());
        check(
            tokens
                .into_iter()
                .all(|t| t.chars().count() >= MIN_ADMIN_TOKEN),
            key,
            format!(
                "each token must be at least {MIN_ADMIN_TOKEN} characters (a placeholder such \
                 as CHANGE-ME would open the admin API); generate one with `openssl rand -hex 32`"
            ),
        );
    }
    check(
        admin.auth_failures_per_minute > 0,
        "admin.auth_failures_per_minute",
        "must be at least 1".into(),
    );

    let store = &config.store;
    let scheme = store.url.expose().split(':').next().unwrap_or_default();
    check(
        matches!(scheme, "sqlite" | "postgres" | "postgresql"),
        "store.url",
        format!("unsupported scheme `{scheme}`; use sqlite://PATH or postgres://USER:PASS@HOST/DB"),
    );
    let url = store.url.expose();
    check(
        scheme != "sqlite" || !(url.contains(":memory:") || url.contains("mode=memory")),
        "store.url",
        "an in-memory SQLite database would lose every stored event at exit, and the inbox \
         writer opens the file on a connection of its own; use sqlite://PATH"
            .into(),
    );
    check(
        store.max_connections > 0,
        "store.max_connections",
        "must be at least 1".into(),
    );
    check(
        store.acquire_timeout_secs > 0,
        "store.acquire_timeout_secs",
        "must be at least 1".into(),
    );
    check(
        store.write_batch_max > 0,
        "store.write_batch_max",
        "must be at least 1".into(),
    );
    check(
        store.write_queue_capacity > 0,
        "store.write_queue_capacity",
        "must be at least 1".into(),
    );

    check(
        tracing_subscriber::EnvFilter::try_new(&config.telemetry.log_level).is_ok(),
        "telemetry.log_level",
        format!(
            "`{}` is not a log filter such as info or tovuti_ghl_bridge=debug",
            config.telemetry.log_level
        ),
    );

    if let Some(key) = config.security.encryption_key.expose() {
        let len = STANDARD.decode(key.trim()).map(|k| k.len());
        check(
            len == Ok(32),
            "security.encryption_key",
            "must be 32 bytes in base64 (generate one with `tovuti-ghl-bridge keys generate`)"
                .into(),
        );
    }
    // Without a key the OAuth callback would spend the admin's one-time authorization
    // code and then have nowhere to keep the tokens.
    check(
        config.ghl.client_id.is_empty() || config.security.encryption_key.is_set(),
        "security.encryption_key",
        "OAuth (ghl.client_id) stores tokens encrypted, so it needs an encryption key \
         (generate one with `tovuti-ghl-bridge keys generate`)"
            .into(),
    );

    check(
        is_http_url(&config.ghl.base_url),
        "ghl.base_url",
        "must be an http(s) URL".into(),
    );
    check(
        config.ghl.client_id.is_empty() != config.ghl.client_secret.is_set(),
        "ghl.client_secret",
        "OAuth needs both ghl.client_id and ghl.client_secret".into(),
    );
    problems_in_ghl_client(&config.ghl, &mut check);
    let tovuti_url = &config.tovuti.base_url;
    check(
        tovuti_url.is_empty() || is_http_url(tovuti_url),
        "tovuti.base_url",
        "must be an http(s) URL".into(),
    );
    check(
        config.worker.lease_secs > 0,
        "worker.lease_secs",
        "must be at least 1".into(),
    );
    check(
        config.worker.concurrency > 0,
        "worker.concurrency",
        "must be at least 1".into(),
    );
    check(
        config.worker.poll_interval_ms > 0,
        "worker.poll_interval_ms",
        "must be at least 1".into(),
    );
    problems_in_reconcile(&config.reconcile, &mut check);
    problems_in_poller(&config.poller, &mut check);
    problems.extend(super::webhooks::problems(&config.webhooks));
    problems.extend(problems_in_tovuti_lists(&config.tovuti.lists));
    problems
}

/// What a list read cannot do without: its paths, paging parameters and the ids that
/// name an item. The other field names may be empty (the tenant has no such field).
fn problems_in_tovuti_lists(lists: &crate::config::TovutiListsConfig) -> Vec<ConfigProblem> {
    let required = [
        (&lists.users_path, "tovuti.users_path"),
        (&lists.progress_path, "tovuti.progress_path"),
        (&lists.awards_path, "tovuti.awards_path"),
        (&lists.page_param, "tovuti.page_param"),
        (&lists.page_size_param, "tovuti.page_size_param"),
        (&lists.progress_user_field, "tovuti.progress_user_field"),
        (&lists.progress_course_field, "tovuti.progress_course_field"),
        (&lists.award_user_field, "tovuti.award_user_field"),
        (&lists.award_id_field, "tovuti.award_id_field"),
    ];
    let mut problems: Vec<ConfigProblem> = required
        .into_iter()
        .filter(|(value, _)| value.trim().is_empty())
        .map(|(_, key)| ConfigProblem {
            key: key.to_owned(),
            message: "must not be empty".into(),
        })
        .collect();
    let params = [&lists.page_param, &lists.page_size_param];
    if params.contains(&&lists.changed_since_param) || lists.page_param == lists.page_size_param {
        problems.push(ConfigProblem {
            key: "tovuti.page_size_param".to_owned(),
            message: "page, page size and changed-since parameters must differ".into(),
        });
    }
    problems
}

fn problems_in_reconcile(
    reconcile: &crate::config::ReconcileConfig,
    check: &mut impl FnMut(bool, &str, String),
) {
    check(
        reconcile.interval_secs > 0,
        "reconcile.interval_secs",
        "must be at least 1".into(),
    );
    let share = reconcile.quota_share;
    check(
        share > 0.0 && share <= 1.0,
        "reconcile.quota_share",
        "must be above 0 and at most 1".into(),
    );
    check(
        (1..=500).contains(&reconcile.page_size),
        "reconcile.page_size",
        "must be between 1 and 500 (GHL's page limit)".into(),
    );
}

fn problems_in_poller(
    poller: &crate::config::PollerConfig,
    check: &mut impl FnMut(bool, &str, String),
) {
    for (value, key) in [
        (poller.users_interval_secs, "poller.users_interval_secs"),
        (
            poller.progress_interval_secs,
            "poller.progress_interval_secs",
        ),
        (poller.awards_interval_secs, "poller.awards_interval_secs"),
        (poller.lease_secs, "poller.lease_secs"),
    ] {
        check(value > 0, key, "must be at least 1".into());
    }
    check(
        (1..=1000).contains(&poller.page_size),
        "poller.page_size",
        "must be between 1 and 1000".into(),
    );
    check(
        poller.requests_per_second.is_finite() && poller.requests_per_second >= 0.0,
        "poller.requests_per_second",
        "must be 0 (unthrottled) or more".into(),
    );
}

fn problems_in_ghl_client(
    ghl: &crate::config::GhlConfig,
    check: &mut impl FnMut(bool, &str, String),
) {
    for (value, key) in [
        (ghl.timeout_ms, "ghl.timeout_ms"),
        (ghl.connect_timeout_ms, "ghl.connect_timeout_ms"),
        (ghl.rate_limit_interval_ms, "ghl.rate_limit_interval_ms"),
        (u64::from(ghl.rate_limit_max), "ghl.rate_limit_max"),
        (u64::from(ghl.retry_attempts), "ghl.retry_attempts"),
    ] {
        check(value > 0, key, "must be at least 1".into());
    }
    check(
        is_http_url(&ghl.oauth_authorize_url),
        "ghl.oauth_authorize_url",
        "must be an http(s) URL".into(),
    );
    check(
        ghl.oauth_redirect_url.is_empty() || is_http_url(&ghl.oauth_redirect_url),
        "ghl.oauth_redirect_url",
        "must be this service's public http(s) callback URL".into(),
    );
    check(
        (0.0..0.9).contains(&ghl.rate_limit_safety_margin),
        "ghl.rate_limit_safety_margin",
        "must be a share between 0 and 0.9 (e.g. 0.02)".into(),
    );
}

fn is_http_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}
