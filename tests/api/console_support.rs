//! What the console's tests share: form posts and page requests with the session
//! cookie, signing in, and reading a page's CSRF token.

use axum::body::Body;
use axum::http::{Request, header};

use crate::admin_support::{AdminApp, Answer};

pub(crate) fn form(path: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

pub(crate) fn page(path: &str, cookie: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// Signs in with `token`; returns the `name=value` of the session cookie.
pub(crate) async fn sign_in(app: &AdminApp, token: &str) -> String {
    let answer = app
        .send(form("/console/sign-in", None, &format!("token={token}")))
        .await;
    assert_eq!(answer.status, 303, "{}", answer.text);
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf(answer: &Answer) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = answer.text.find(marker).expect("a form with a CSRF token") + marker.len();
    answer.text[start..].split('"').next().unwrap().to_owned()
}
