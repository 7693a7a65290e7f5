//! `spawn_app`: the real service on port 0 with a fresh SQLite store, and a client.

use std::net::SocketAddr;

use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, DatabaseUrl};

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: JoinHandle<anyhow::Result<()>>,
    _dir: TempDir,
}

/// A configuration on a temporary SQLite file, listening on any free port.
pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config::defaults();
    config.store.url = DatabaseUrl::new(format!("sqlite://{}/bridge.db", dir.path().display()));
    config.server.listen = "127.0.0.1:0".into();
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(tovuti_ghl_bridge::run(config, listener, shutdown.clone()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        shutdown,
        server,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Stops the service the way SIGTERM does and waits for `run` to return.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.server.await.unwrap()
    }
}

/// Asserts an error response is problem+json with the given status.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
    body
}
