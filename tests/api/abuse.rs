//! Hostile and slow clients against the real server: headers dripped a line at a time,
//! connections that never send anything, more connections than the cap, and requests
//! hyper refuses before the router sees them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::helpers::spawn_app_with;

/// Far longer than anything here should take: a bound, never a wait.
const BOUND: Duration = Duration::from_secs(15);

/// Opens a connection that sends a request line, then one more header line every
/// `every`, and never ends its headers. Resolves when the server closes it.
async fn dripping(address: SocketAddr, every: Duration) -> impl Future<Output = Instant> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"POST /webhooks/tovuti HTTP/1.1\r\nHost: bridge\r\n")
        .await
        .unwrap();
    async move {
        let mut ticks = tokio::time::interval(every);
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return Instant::now(),
                    Ok(_) => {}
                },
                _ = ticks.tick() => {
                    if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                        return Instant::now();
                    }
                }
            }
        }
    }
}

/// Opens a connection that sends nothing. Resolves when the server closes it.
async fn idle(address: SocketAddr) -> impl Future<Output = Instant> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    async move {
        let mut buf = [0u8; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(_) => {}
            }
        }
    }
}

/// 200 dripping and 200 idle connections, open at once.
async fn open_abusers(address: SocketAddr) -> JoinSet<Instant> {
    let mut abusers = JoinSet::new();
    for _ in 0..200 {
        abusers.spawn(dripping(address, Duration::from_millis(100)).await);
        abusers.spawn(idle(address).await);
    }
    abusers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_neither_block_requests_nor_outlive_the_header_timeout() {
    let app = spawn_app_with(|c| c.server.header_read_timeout_secs = 1).await;
    let started = Instant::now();
    let mut abusers = open_abusers(app.address).await;

    let answer = tokio::time::timeout(BOUND, app.get("/healthz")).await;
    assert_eq!(
        answer.unwrap().status(),
        200,
        "answered while 400 abusers are open"
    );

    let mut closed = Vec::new();
    while let Some(at) = tokio::time::timeout(BOUND, abusers.join_next())
        .await
        .unwrap()
    {
        closed.push(at.unwrap() - started);
    }
    assert_eq!(
        closed.len(),
        400,
        "every slow or idle connection was closed"
    );
    let first = closed.iter().min().unwrap();
    assert!(
        *first >= Duration::from_millis(950),
        "closed by the 1 s header timeout, not before: {first:?}"
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_cannot_hold_shutdown() {
    // Timeouts far longer than the bound below: only closing them at once passes.
    let app = spawn_app_with(|c| {
        c.server.header_read_timeout_secs = 60;
        c.server.shutdown_grace_secs = 60;
    })
    .await;
    let mut abusers = open_abusers(app.address).await;
    // A full exchange first, so connections are being served, not waiting in the backlog.
    assert_eq!(app.get("/healthz").await.status(), 200);

    app.shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.server).await;

    stopped
        .expect("shutdown finished well inside the grace period")
        .unwrap()
        .unwrap();
    while let Some(at) = tokio::time::timeout(BOUND, abusers.join_next())
        .await
        .unwrap()
    {
        at.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let app = spawn_app_with(|c| c.server.max_connections = 2).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(app.address).await.unwrap();
        let head = exchange(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(stream);
    }

    let mut third = TcpStream::connect(app.address).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    third.write_all(request).await.unwrap();
    let mut buf = [0u8; 256];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(early.is_err(), "not served while both slots are held");

    drop(held.pop());
    let answer = tokio::time::timeout(BOUND, read_to_end(&mut third))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_refuses_are_counted() {
    let app = spawn_app_with(|_| {}).await;
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: b\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\n{}\r\n",
        (0..120)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let cases = [
        (long_uri.into_bytes(), "414"),
        (many_headers.into_bytes(), "431"),
        (
            b"POST /webhooks/ghl HTTP/1.1\r\nHost: b\r\nContent-Length: x\r\n\r\n".to_vec(),
            "400",
        ),
    ];

    for (request, status) in &cases {
        let mut stream = TcpStream::connect(app.address).await.unwrap();
        stream.write_all(request).await.unwrap();
        let answer = tokio::time::timeout(BOUND, read_to_end(&mut stream))
            .await
            .unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
    }

    let metrics = app.get("/metrics").await.text().await.unwrap();
    for (_, status) in &cases {
        let sample = format!(
            r#"bridge_http_requests_total{{method="other",route="unmatched",status="{status}"}} 1"#
        );
        assert!(metrics.contains(&sample), "{sample} in\n{metrics}");
    }
    app.stop().await.unwrap();
}

/// Sends `request` and reads one response head (the bodies here are small).
async fn exchange(stream: &mut TcpStream, request: &[u8]) -> String {
    stream.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(BOUND, stream.read(&mut buf)).await;
    let n = read.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn read_to_end(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    // A reset after the answer is the server closing a connection it refused.
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}
