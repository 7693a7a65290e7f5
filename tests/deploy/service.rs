//! The real service on port 0 and a fresh SQLite file, configured as the SQLite layout
//! configures it (its ConfigMap, Secret template and container variables), to probe
//! and scrape.

use std::net::SocketAddr;

use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, DatabaseUrl};

pub struct Running {
    address: SocketAddr,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    client: reqwest::Client,
    _dir: TempDir,
}

impl Running {
    pub async fn start(mut config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // The volume's file, here in a temporary directory.
        config.store.url = DatabaseUrl::new(format!("sqlite://{}/bridge.db", dir.path().display()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(tovuti_ghl_bridge::run(config, listener, shutdown.clone()));
        Self {
            address,
            shutdown,
            server,
            client: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Status and body of a GET.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.address);
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.server.await.unwrap().unwrap();
    }
}
