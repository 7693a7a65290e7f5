//! Turning rows of either backend into store types. Both backends hand ids out as text
//! (PostgreSQL casts its UUID column), so one mapper serves both.

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{
    ActionBegin, ActionRecord, AttemptRecord, Connection, ConnectionStatus, EventId, EventStatus,
    Millis, OpenEvents, Source, StoreError, StoreResult, StoredEvent, TovutiAuthMode,
};

pub fn parse_id(text: &str) -> StoreResult<EventId> {
    uuid::Uuid::parse_str(text)
        .map(EventId)
        .map_err(|e| StoreError::Corrupt(format!("event id {text}: {e}")))
}

pub fn json(text: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

/// Columns of `inbox_events` that `event_from_row` reads, the id cast to text as it expects
/// (a no-op on SQLite, which stores it as text).
pub const EVENT_COLUMNS: &str = "seq, CAST(id AS TEXT) AS id, source, connection_id, external_id, \
     event_type, entity_key, headers, body, status, attempts, received_at, next_attempt_at, \
     lease_owner, lease_expires_at, last_error";

/// The event and its receive-order sequence number.
pub fn event_from_row<'r, R>(row: &'r R) -> StoreResult<(i64, StoredEvent)>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let source: String = row.try_get("source")?;
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    let event = StoredEvent {
        id: parse_id(&row.try_get::<String, _>("id")?)?,
        source: Source::parse(&source).ok_or_else(|| corrupt("source", &source))?,
        connection_id: row.try_get("connection_id")?,
        external_id: row.try_get("external_id")?,
        event_type: row.try_get("event_type")?,
        entity_key: row.try_get("entity_key")?,
        headers: json(&row.try_get::<String, _>("headers")?)?,
        body: row.try_get("body")?,
        status: EventStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        received_at: Millis(row.try_get("received_at")?),
        next_attempt_at: Millis(row.try_get("next_attempt_at")?),
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row
            .try_get::<Option<i64>, _>("lease_expires_at")?
            .map(Millis),
        last_error: row.try_get("last_error")?,
        newer_waiting: false,
    };
    Ok((row.try_get("seq")?, event))
}

/// A claimed event, with whether a newer one of its entity and type waited.
pub fn claimed_event_from_row<'r, R>(row: &'r R) -> StoreResult<(i64, StoredEvent)>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let (seq, mut event) = event_from_row(row)?;
    event.newer_waiting = row.try_get("newer_waiting")?;
    Ok((seq, event))
}

/// Columns `connection_from_row` reads.
pub const CONNECTION_COLUMNS: &str = "id, ghl_location_id, tovuti_base_url, status, status_reason, \
     name, tovuti_auth_mode, paused_at, mapping_path, poller, created_at, updated_at";

pub fn connection_from_row<'r, R>(row: &'r R) -> StoreResult<Connection>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    let auth_mode: String = row.try_get("tovuti_auth_mode")?;
    let poller: String = row.try_get("poller")?;
    Ok(Connection {
        id: row.try_get("id")?,
        ghl_location_id: row.try_get("ghl_location_id")?,
        tovuti_base_url: row.try_get("tovuti_base_url")?,
        status: ConnectionStatus::parse(&status)
            .ok_or_else(|| corrupt("connection status", &status))?,
        status_reason: row.try_get("status_reason")?,
        name: row.try_get("name")?,
        tovuti_auth_mode: TovutiAuthMode::parse(&auth_mode)
            .ok_or_else(|| corrupt("Tovuti auth mode", &auth_mode))?,
        paused_at: row.try_get::<Option<i64>, _>("paused_at")?.map(Millis),
        mapping_path: row.try_get("mapping_path")?,
        poller: serde_json::from_str(&poller).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
    })
}

/// Sorts claimed rows into receive order (RETURNING does not promise one).
pub fn in_receive_order(mut events: Vec<(i64, StoredEvent)>) -> Vec<StoredEvent> {
    events.sort_by_key(|(seq, _)| *seq);
    events.into_iter().map(|(_, e)| e).collect()
}

/// SQL of `open_events_summary`, the same on both backends. Its `WHERE` is spelled as in
/// the partial index `inbox_events_open`, which alone answers it (see migration 0003).
pub const OPEN_EVENTS_SQL: &str = "SELECT status, COUNT(*), MIN(received_at) FROM inbox_events \
     WHERE status IN ('pending', 'processing', 'retrying', 'dead') GROUP BY status";

pub fn open_events_from_row<'r, R>(row: &'r R) -> StoreResult<OpenEvents>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: String = row.try_get(0)?;
    let count: i64 = row.try_get(1)?;
    Ok(OpenEvents {
        status: EventStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        count: u64::try_from(count).unwrap_or_default(),
        oldest_received_at: Millis(row.try_get(2)?),
    })
}

/// One row of `SELECT status, COUNT(*) … GROUP BY status`.
pub fn status_count_from_row<'r, R>(row: &'r R) -> StoreResult<(EventStatus, u64)>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: String = row.try_get(0)?;
    let count: i64 = row.try_get(1)?;
    let status = EventStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
    Ok((status, u64::try_from(count).unwrap_or_default()))
}

/// An action record and whether it is finished (`state = 'done'`), from the columns
/// `event_id` (as text), `action`, `outcome`, `recorded_at` and `state`.
pub fn action_from_row<'r, R>(key: &str, row: &'r R) -> StoreResult<ActionBegin>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let recorded_at = Millis(row.try_get("recorded_at")?);
    let state: String = row.try_get("state")?;
    match state.as_str() {
        "started" => Ok(ActionBegin::Unfinished {
            started_at: recorded_at,
        }),
        "done" => Ok(ActionBegin::Done(ActionRecord {
            idempotency_key: key.to_owned(),
            event_id: parse_id(&row.try_get::<String, _>("event_id")?)?,
            action: row.try_get("action")?,
            outcome: json(&row.try_get::<String, _>("outcome")?)?,
            recorded_at,
        })),
        other => Err(corrupt("action state", other)),
    }
}

/// One row of `event_attempts`; both backends hand `event_id` and `requests` out as text.
pub fn attempt_from_row<'r, R>(row: &'r R) -> StoreResult<AttemptRecord>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let attempt: i64 = row.try_get("attempt")?;
    Ok(AttemptRecord {
        event_id: parse_id(&row.try_get::<String, _>("event_id")?)?,
        attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        started_at: Millis(row.try_get("started_at")?),
        finished_at: Millis(row.try_get("finished_at")?),
        outcome: row.try_get("outcome")?,
        error: row.try_get("error")?,
        requests: json(&row.try_get::<String, _>("requests")?)?,
    })
}
