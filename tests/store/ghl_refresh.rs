//! GHL OAuth refresh against the fake GHL, with the tokens and the refresh lock in the
//! store: single-use refresh tokens must never be spent twice, even by two replicas.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use tovuti_ghl_bridge::config::{Config, GhlConfig, OptionalSecret};
use tovuti_ghl_bridge::platforms::ErrorClass;
use tovuti_ghl_bridge::platforms::ghl::client::{
    Auth, CREDENTIAL_KIND, ClientSettings, ContactInput, GhlClient, LocationApi,
    LocationTokenSession, OAuthSession, TokenGrant, save_grant,
};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::store::{ConnectionStatus, NewConnection, Store};
use tovuti_ghl_bridge::telemetry::Metrics;

use crate::support::TestDb;

const LOC: &str = "loc-1";
const CONN: &str = "conn-1";

fn ghl_config(fake: &FakeGhl) -> GhlConfig {
    let mut config = Config::defaults().ghl;
    config.base_url = fake.base_url();
    config.client_id = "fake-client-id".into();
    config.client_secret = OptionalSecret::new("fake-client-secret");
    config
}

/// A client instance (as one replica has) with an OAuth session on `store`.
fn replica(fake: &FakeGhl, store: Arc<dyn Store>, metrics: &Arc<Metrics>) -> LocationApi {
    let config = ghl_config(fake);
    let client = GhlClient::new(ClientSettings::from_config(&config), metrics.clone()).unwrap();
    let app = client.oauth_app(&config).unwrap();
    let margin = Duration::from_secs(300);
    let session = OAuthSession::new(store, CONN, app, margin, metrics.clone());
    client.location(LOC, Auth::OAuth(Arc::new(session)))
}

/// Stores `access` (valid for `expires_in` seconds) and a real single-use refresh token.
async fn store_tokens(store: &dyn Store, access: &str, refresh: &str, expires_in: u64) {
    let grant: TokenGrant = serde_json::from_value(serde_json::json!({
        "access_token": access, "refresh_token": refresh, "expires_in": expires_in,
        "scope": ALL_SCOPES.join(" "), "userType": "Location", "locationId": LOC,
    }))
    .unwrap();
    save_grant(store, CONN, &grant, None).await.unwrap();
}

/// A fake with one contact, a connection row, and the contact's id.
async fn arrange(db: &TestDb) -> (FakeGhl, String) {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let pit = fake.issue_token(LOC, ALL_SCOPES);
    let seed = GhlClient::new(
        ClientSettings::from_config(&ghl_config(&fake)),
        Arc::new(Metrics::new()),
    )
    .unwrap()
    .location(LOC, Auth::private_token(pit));
    let id = seed
        .create_contact(&ContactInput::default())
        .await
        .unwrap()
        .id;
    let connection = NewConnection {
        id: CONN.into(),
        ghl_location_id: Some(LOC.into()),
        tovuti_base_url: None,
    };
    db.store.upsert_connection(&connection).await.unwrap();
    (fake, id)
}

async fn stored_refresh_token(store: &dyn Store) -> String {
    let stored = store
        .load_credentials(CONN, CREDENTIAL_KIND)
        .await
        .unwrap()
        .unwrap();
    let pair: serde_json::Value = serde_json::from_str(stored.secret.expose_secret()).unwrap();
    pair["refresh_token"].as_str().unwrap().to_owned()
}

pub async fn twenty_calls_on_two_replicas_with_an_expired_token_refresh_exactly_once(db: &TestDb) {
    let (fake, contact) = arrange(db).await;
    let original = fake.issue_refresh_token(LOC, ALL_SCOPES);
    store_tokens(db.store.as_ref(), "expired-access", &original, 0).await;
    let metrics = Arc::new(Metrics::new());
    let replicas = [
        replica(&fake, db.store.clone(), &metrics),
        replica(&fake, db.another_replica().await, &metrics),
    ];

    let calls: Vec<_> = (0..20)
        .map(|n| {
            let (ghl, contact) = (replicas[n % 2].clone(), contact.clone());
            tokio::spawn(async move { ghl.get_contact(&contact).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(fake.token_endpoint_calls(), 1);
    let stored = stored_refresh_token(db.store.as_ref()).await;
    assert_ne!(
        stored, original,
        "the new single-use refresh token is the one kept"
    );
    assert!(stored.starts_with("fake-refresh-"));
}

pub async fn a_401_refreshes_once_and_the_call_succeeds(db: &TestDb) {
    let (fake, contact) = arrange(db).await;
    let refresh = fake.issue_refresh_token(LOC, ALL_SCOPES);
    // Not expired by its own account, but GHL no longer accepts it.
    store_tokens(db.store.as_ref(), "revoked-access", &refresh, 86_399).await;
    let ghl = replica(&fake, db.store.clone(), &Arc::new(Metrics::new()));

    assert_eq!(ghl.get_contact(&contact).await.unwrap().id, contact);
    assert_eq!(fake.token_endpoint_calls(), 1);
    ghl.get_contact(&contact).await.unwrap();
    assert_eq!(fake.token_endpoint_calls(), 1, "the new token is reused");
}

pub async fn a_refused_refresh_marks_the_connection_and_new_credentials_resume_it(db: &TestDb) {
    let (fake, contact) = arrange(db).await;
    store_tokens(db.store.as_ref(), "expired-access", "already-spent", 0).await;
    let metrics = Arc::new(Metrics::new());
    let ghl = replica(&fake, db.store.clone(), &metrics);

    let error = ghl.get_contact(&contact).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::NeedsReauth);
    let connection = db.store.connection(CONN).await.unwrap().unwrap();
    assert_eq!(connection.status, ConnectionStatus::NeedsReauth);
    let labels = tovuti_ghl_bridge::telemetry::reconcile::ConnectionLabels {
        connection: CONN.to_owned(),
    };
    assert_eq!(metrics.ghl_needs_reauth.get_or_create(&labels).get(), 1);
    let again = ghl.get_contact(&contact).await.unwrap_err();
    assert_eq!(again.class(), ErrorClass::NeedsReauth);
    assert_eq!(
        fake.token_endpoint_calls(),
        1,
        "no retry against a refused token"
    );

    // The admin reconnects: new tokens arrive and the connection is active again.
    let fresh = fake.issue_refresh_token(LOC, ALL_SCOPES);
    store_tokens(db.store.as_ref(), "expired-access", &fresh, 0).await;
    db.store
        .set_connection_status(CONN, ConnectionStatus::Active, None)
        .await
        .unwrap();
    assert_eq!(ghl.get_contact(&contact).await.unwrap().id, contact);
}

pub async fn an_agency_install_mints_location_tokens_and_refreshes_itself(db: &TestDb) {
    let (fake, contact) = arrange(db).await;
    let scopes = [ALL_SCOPES, &["oauth.write"]].concat();
    let refresh = fake.issue_company_refresh_token("fake-company", &scopes);
    store_tokens(db.store.as_ref(), "expired-agency-access", &refresh, 0).await;
    let metrics = Arc::new(Metrics::new());
    let config = ghl_config(&fake);
    let client = GhlClient::new(ClientSettings::from_config(&config), metrics.clone()).unwrap();
    let app = client.oauth_app(&config).unwrap();
    let margin = Duration::from_secs(300);
    let agency = Arc::new(OAuthSession::new(
        db.store.clone(),
        CONN,
        app.clone(),
        margin,
        metrics,
    ));
    let session = LocationTokenSession::new(agency, app, "fake-company", LOC, margin);
    let ghl = client.location(LOC, Auth::AgencyLocation(Arc::new(session)));

    assert_eq!(ghl.get_contact(&contact).await.unwrap().id, contact);
    ghl.get_contact(&contact).await.unwrap();
    assert_eq!(
        fake.token_endpoint_calls(),
        1,
        "the agency token was refreshed once"
    );
    let mints = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/locationToken")
        .count();
    assert_eq!(
        mints, 0,
        "the token endpoints are not in the API request log"
    );
}

pub async fn a_token_inside_the_margin_is_refreshed_before_it_is_sent(db: &TestDb) {
    let (fake, contact) = arrange(db).await;
    let refresh = fake.issue_refresh_token(LOC, ALL_SCOPES);
    // Valid for another minute: inside the 5-minute margin.
    store_tokens(db.store.as_ref(), "soon-expiring-access", &refresh, 60).await;
    let ghl = replica(&fake, db.store.clone(), &Arc::new(Metrics::new()));

    ghl.get_contact(&contact).await.unwrap();

    assert_eq!(fake.token_endpoint_calls(), 1);
    assert!(
        fake.requests().iter().all(|r| r.status != 401),
        "no call went out with the old token"
    );
}
