//! Throughput of `record_event` with concurrent writers: how many webhooks per second the
//! inbox can durably take. Run through `bench/record_event.sh`; not a test.
//!
//! Usage: record_event_bench sqlite|postgres WRITERS EVENTS
//! (postgres reads BENCH_DATABASE_URL, a database it may fill and empty).

use std::sync::Arc;
use std::time::Instant;

use tovuti_ghl_bridge::config::{Config, DatabaseUrl};
use tovuti_ghl_bridge::store::{self, EventStatus, Millis, NewEvent, Source, Store};

/// A realistic GHL ContactUpdate body (~600 bytes).
const BODY: &str = r#"{"type":"ContactUpdate","locationId":"ve9EPM428h8vShlRW1KT","id":"nmFmQEsNgz6AVpgLVUJ0","address1":"3606 Paxton St","city":"Lake Charles","state":"LA","companyName":"Acme","country":"US","source":"xyz form","dateAdded":"2021-11-26T12:41:02.193Z","dateOfBirth":"2000-01-05T00:00:00.000Z","dnd":true,"email":"jane@example.com","name":"Jane Doe","firstName":"Jane","lastName":"Doe","phone":"+919509597501","postalCode":"70605","tags":["lms:enrolled"],"website":"https://example.com","attachments":[],"assignedTo":"nmFmQEsNgz6AVpgLVUJ0","customFields":[{"id":"BcdmQEsNgz6AVpgLVUJ0","value":"XYZ Corp"}]}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (backend, writers, events) = match args.as_slice() {
        [_, b, w, e] => (b.clone(), w.parse::<usize>()?, e.parse::<usize>()?),
        _ => anyhow::bail!("usage: record_event_bench sqlite|postgres WRITERS EVENTS"),
    };
    let dir = tempfile::tempdir()?;
    let mut config = Config::defaults().store;
    config.url = DatabaseUrl::new(match backend.as_str() {
        "sqlite" => format!("sqlite://{}/bench.db", dir.path().display()),
        _ => std::env::var("BENCH_DATABASE_URL")?,
    });
    config.max_connections = u32::try_from(writers.clamp(2, 32))?;
    let store = store::connect(&config, None).await?;
    store.migrate().await?;

    let started = Instant::now();
    let per_writer = events / writers;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store: Arc<dyn Store> = store.clone();
            tokio::spawn(async move {
                for n in 0..per_writer {
                    store.record_event(event(w, n)).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let total = per_writer * writers;
    let pending = store.count_events_by_status().await?;
    anyhow::ensure!(
        pending == vec![(EventStatus::Pending, total as u64)],
        "stored {pending:?}, expected {total}"
    );
    println!(
        "{backend}\twriters={writers}\tevents={total}\tseconds={:.2}\tinserts_per_sec={:.0}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    store.close().await;
    Ok(())
}

fn event(writer: usize, n: usize) -> NewEvent {
    NewEvent {
        source: Source::Ghl,
        connection_id: Some("default".into()),
        external_id: format!("bench-{writer}-{n}"),
        event_type: "ContactUpdate".into(),
        entity_key: Some(format!("ghl:contact:{}", n % 1000)),
        headers: serde_json::json!({ "content-type": "application/json" }),
        body: BODY.as_bytes().into(),
        status: EventStatus::Pending,
        note: None,
        received_at: Millis::now(),
    }
}
