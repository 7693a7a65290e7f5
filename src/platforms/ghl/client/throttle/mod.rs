//! Per-location outbound lanes: a governor limiter on tokio's clock sized to GHL's
//! burst quota, adapted to the `X-RateLimit-*` headers, paused on 429, and served
//! interactive-first. Waiting here is never a failed attempt.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::telemetry::LocationLabels;

mod ownership;
mod status;

use crate::telemetry::Metrics;
pub use ownership::LaneOwnership;
pub use status::{LaneHolder, LaneStatus};

/// When GHL reports the day's budget spent, ask again after this long.
const DAILY_EXHAUSTED_PAUSE: Duration = Duration::from_secs(60);

/// Who is waiting: the admin/contact API goes before background sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Interactive,
    Background,
}

/// The quota the lanes start from and how much of it to leave unused.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub max_requests: u32,
    pub interval: Duration,
    /// Share of each window left unused (0.02 = 2 %), absorbing clock skew and
    /// requests that arrive closer together than they were sent.
    pub safety_margin: f64,
    /// Log a warning once when the day's remaining budget falls to this.
    pub daily_warn_remaining: u64,
}

/// The `X-RateLimit-*` headers of the last answer GHL sent for a location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    pub max: Option<u64>,
    pub remaining: Option<u64>,
    pub interval_ms: Option<u64>,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
}

/// governor's clock on tokio's time, so paused-clock tests drive the limiter too.
#[derive(Debug, Clone)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.origin.elapsed())
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// One location's lane.
struct Lane {
    location: String,
    clock: TokioClock,
    /// The limiter and the `(max, interval)` it was built for.
    limiter: Mutex<(Arc<Limiter>, (u32, Duration))>,
    /// FIFO turn: one caller at a time waits on the limiter, in arrival order.
    turn: tokio::sync::Mutex<()>,
    paused_until: Mutex<Option<Instant>>,
    interactive_waiting: AtomicUsize,
    interactive_gone: Notify,
    daily_warned: AtomicBool,
    last_seen: Mutex<Option<RateLimitSnapshot>>,
    /// When the requests of the current window were let through (for the status).
    sent: Mutex<VecDeque<Instant>>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// All lanes of this process.
pub struct Throttle {
    settings: ThrottleSettings,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
    metrics: Arc<Metrics>,
    /// With several replicas: which of them may send for a location.
    ownership: Option<LaneOwnership>,
}

impl Throttle {
    pub fn new(settings: ThrottleSettings, metrics: Arc<Metrics>) -> Self {
        Self {
            settings,
            lanes: Mutex::new(HashMap::new()),
            metrics,
            ownership: None,
        }
    }

    /// Sends for a location only while this replica holds its lane lease.
    pub fn with_ownership(mut self, ownership: LaneOwnership) -> Self {
        self.ownership = Some(ownership);
        self
    }

    /// The lane leases, to release them at shutdown.
    pub fn ownership(&self) -> Option<&LaneOwnership> {
        self.ownership.as_ref()
    }

    /// A limiter allowing `max·(1−margin)` per `interval`, one at a time: with GHL's
    /// window possibly sliding, any burst above 1 would cost the same share of the
    /// steady rate, so evenly spaced requests use the most of the quota.
    fn limiter(&self, clock: &TokioClock, max: u32, interval: Duration) -> Arc<Limiter> {
        let usable = (f64::from(max) * (1.0 - self.settings.safety_margin)).floor();
        // At least one request per interval, whatever the margin says.
        let usable = if usable >= 1.0 { usable } else { 1.0 };
        let period = interval.div_f64(usable).max(Duration::from_nanos(1));
        let quota =
            Quota::with_period(period).unwrap_or_else(|| unreachable!("period is positive"));
        Arc::new(RateLimiter::direct_with_clock(quota, clock.clone()))
    }

    fn lane(&self, location: &str) -> Arc<Lane> {
        let mut lanes = lock(&self.lanes);
        let lane = lanes.entry(location.to_owned()).or_insert_with(|| {
            let clock = TokioClock {
                origin: Instant::now(),
            };
            let (max, interval) = (self.settings.max_requests, self.settings.interval);
            let limiter = self.limiter(&clock, max, interval);
            Arc::new(Lane {
                location: location.to_owned(),
                clock,
                limiter: Mutex::new((limiter, (max, interval))),
                turn: tokio::sync::Mutex::new(()),
                paused_until: Mutex::new(None),
                interactive_waiting: AtomicUsize::new(0),
                interactive_gone: Notify::new(),
                daily_warned: AtomicBool::new(false),
                last_seen: Mutex::new(None),
                sent: Mutex::new(VecDeque::new()),
            })
        });
        lane.clone()
    }

    /// Waits until `location`'s lane lets one request go; returns how long it waited.
    pub async fn acquire(&self, location: &str, priority: Priority) -> Duration {
        let started = Instant::now();
        let lane = self.lane(location);
        let _interactive =
            (priority == Priority::Interactive).then(|| InteractiveGuard::new(&lane));
        loop {
            if priority == Priority::Background {
                lane.wait_for_no_interactive().await;
            }
            let turn = lane.turn.lock().await;
            if priority == Priority::Background
                && lane.interactive_waiting.load(Ordering::SeqCst) > 0
            {
                drop(turn);
                continue;
            }
            if let Some(ownership) = &self.ownership {
                ownership.hold(location).await;
            }
            lane.wait_for_quota().await;
            lane.wait_while_paused().await;
            lane.note_sent();
            break;
        }
        // The caller records the wait: it knows whose work waited.
        started.elapsed()
    }

    /// Stops `location`'s lane for `pause` (a 429's Retry-After, or the interval).
    pub fn pause(&self, location: &str, pause: Duration) {
        let lane = self.lane(location);
        let until = Instant::now() + pause;
        let mut paused = lock(&lane.paused_until);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Learns from an answer's rate-limit headers; on 429 pauses the lane.
    pub fn observe(&self, location: &str, status: u16, headers: &HeaderMap) {
        let lane = self.lane(location);
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let max = number("x-ratelimit-max")
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0);
        let interval = number("x-ratelimit-interval-milliseconds")
            .filter(|n| *n > 0)
            .map(Duration::from_millis);
        let snapshot = RateLimitSnapshot {
            max: number("x-ratelimit-max"),
            remaining: number("x-ratelimit-remaining"),
            interval_ms: number("x-ratelimit-interval-milliseconds"),
            daily_limit: number("x-ratelimit-limit-daily"),
            daily_remaining: number("x-ratelimit-daily-remaining"),
        };
        if snapshot != RateLimitSnapshot::default() {
            *lock(&lane.last_seen) = Some(snapshot);
        }
        if let (Some(max), Some(interval)) = (max, interval) {
            self.adopt_quota(&lane, max, interval);
        }
        let interval = interval.unwrap_or(lock(&lane.limiter).1.1);
        if status == 429 {
            let retry_after = number("retry-after").map(Duration::from_secs);
            self.pause(location, retry_after.unwrap_or(interval));
        } else if number("x-ratelimit-remaining") == Some(0) {
            // Someone else shares this quota: leave GHL one slot of the window.
            let (max, _) = lock(&lane.limiter).1;
            self.pause(location, interval / max.max(1));
        }
        if let Some(daily) = number("x-ratelimit-daily-remaining") {
            self.track_daily(&lane, daily);
        }
    }

    /// The rate-limit headers GHL last sent for `location`.
    pub fn last_seen(&self, location: &str) -> Option<RateLimitSnapshot> {
        let lane = lock(&self.lanes).get(location).cloned()?;
        lock(&lane.last_seen).clone()
    }

    fn adopt_quota(&self, lane: &Lane, max: u32, interval: Duration) {
        let mut current = lock(&lane.limiter);
        if current.1 != (max, interval) {
            tracing::info!(ghl.location_id = %lane.location, max, interval_ms = interval.as_millis() as u64, "GHL reports a different rate limit; adapting");
            *current = (self.limiter(&lane.clock, max, interval), (max, interval));
        }
    }

    fn track_daily(&self, lane: &Lane, remaining: u64) {
        let labels = LocationLabels {
            location: lane.location.clone(),
        };
        let gauge = i64::try_from(remaining).unwrap_or(i64::MAX);
        self.metrics
            .ghl_daily_remaining
            .get_or_create(&labels)
            .set(gauge);
        if remaining <= self.settings.daily_warn_remaining
            && !lane.daily_warned.swap(true, Ordering::SeqCst)
        {
            tracing::warn!(ghl.location_id = %lane.location, remaining, "GHL daily request budget is running low");
        }
        if remaining == 0 {
            self.pause(&lane.location, DAILY_EXHAUSTED_PAUSE);
        }
    }
}

impl Lane {
    async fn wait_for_quota(&self) {
        loop {
            let limiter = lock(&self.limiter).0.clone();
            match limiter.check() {
                Ok(()) => return,
                Err(not_until) => {
                    tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
                }
            }
        }
    }

    async fn wait_while_paused(&self) {
        loop {
            let until = *lock(&self.paused_until);
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    async fn wait_for_no_interactive(&self) {
        loop {
            let gone = self.interactive_gone.notified();
            tokio::pin!(gone);
            gone.as_mut().enable();
            if self.interactive_waiting.load(Ordering::SeqCst) == 0 {
                return;
            }
            gone.await;
        }
    }
}

/// Counts an interactive caller as waiting until it has its turn.
struct InteractiveGuard<'a>(&'a Lane);

impl<'a> InteractiveGuard<'a> {
    fn new(lane: &'a Lane) -> Self {
        lane.interactive_waiting.fetch_add(1, Ordering::SeqCst);
        Self(lane)
    }
}

impl Drop for InteractiveGuard<'_> {
    fn drop(&mut self) {
        if self.0.interactive_waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.interactive_gone.notify_waiters();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
