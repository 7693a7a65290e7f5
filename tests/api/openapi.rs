//! `openapi.yaml` and the router must describe the same routes.

use std::collections::BTreeSet;

use tovuti_ghl_bridge::http::routes;

use crate::helpers::spawn_app_with;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn documented() -> BTreeSet<(String, String)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    let spec: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    let paths = spec["paths"].as_mapping().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let path = path.as_str().unwrap().to_owned();
            item.as_mapping()
                .unwrap()
                .keys()
                .filter_map(|k| k.as_str())
                .filter(|k| METHODS.contains(k))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// The API's routes. The console's pages (`/console/…`, HTML for people, served by
/// `http::console::router`) are not in the route table and not part of the API, so
/// `openapi.yaml` does not describe them.
fn served() -> BTreeSet<(String, String)> {
    routes::table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let (documented, served) = (documented(), served());
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in openapi.yaml: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "in openapi.yaml but not served: {missing:?}"
    );
}

#[tokio::test]
async fn every_documented_route_answers_on_the_real_router() {
    // The admin API answers 404 until a token is configured.
    let token = "openapi-admin-token";
    let app = spawn_app_with(|c| {
        c.security.admin_token = tovuti_ghl_bridge::config::OptionalSecret::new(token);
    })
    .await;
    for (method, path) in documented() {
        let concrete = path.replace(['{', '}'], "");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        // A route the router lacks answers a bare 404 (or 405); a handler that looked for
        // the placeholder id and found nothing answers 404 as problem+json, which proves
        // the route is there.
        let status = response.status().as_u16();
        let from_a_handler = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/problem+json");
        assert!(
            status != 405 && (status != 404 || from_a_handler),
            "{method} {path} answered {}",
            response.status()
        );
    }
    app.stop().await.unwrap();
}
