//! What the drain measures besides the store: each processor call's span, and CPU time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tovuti_ghl_bridge::store::{Completion, StoredEvent};
use tovuti_ghl_bridge::sync::{ProcessError, Processor};

/// Wraps a processor and notes when each call started and ended.
pub(crate) struct Timed {
    inner: Arc<dyn Processor>,
    spans: Mutex<Vec<(Instant, Instant)>>,
}

impl Timed {
    pub(crate) fn new(inner: Arc<dyn Processor>) -> Self {
        Self {
            inner,
            spans: Mutex::new(Vec::new()),
        }
    }

    /// How many calls have ended.
    pub(crate) fn processed(&self) -> usize {
        self.spans.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub(crate) fn take(&self) -> Vec<(Instant, Instant)> {
        std::mem::take(&mut *self.spans.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl Processor for Timed {
    async fn process(&self, event: &StoredEvent) -> Result<Completion, ProcessError> {
        let started = Instant::now();
        let outcome = self.inner.process(event).await;
        let span = (started, Instant::now());
        self.spans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(span);
        outcome
    }
}

/// Completes every event at once: the worker and the store alone.
pub(crate) struct Noop;

#[async_trait]
impl Processor for Noop {
    async fn process(&self, _event: &StoredEvent) -> Result<Completion, ProcessError> {
        Ok(Completion::Done)
    }
}

/// CPU time of this process (worker, engine, fakes, SQLite: all in-process) and of the
/// whole machine (PostgreSQL's server and anything else running), from `/proc`.
pub(crate) struct CpuClock {
    process_ticks: u64,
    machine_busy_ticks: u64,
}

/// `/proc` counts in USER_HZ, which Linux fixes at 100 for user space.
const TICKS_PER_SEC: f64 = 100.0;

impl CpuClock {
    pub(crate) fn now() -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat")?;
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| -> anyhow::Result<u64> {
            Ok(fields
                .get(i)
                .ok_or_else(|| anyhow::anyhow!("short /proc/self/stat"))?
                .parse()?)
        };
        let process_ticks = field(11)? + field(12)?;
        let machine = std::fs::read_to_string("/proc/stat")?;
        let cpu: Vec<u64> = machine
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|n| n.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        let busy = cpu
            .iter()
            .take(8)
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4)
            .map(|(_, n)| n)
            .sum();
        Ok(Self {
            process_ticks,
            machine_busy_ticks: busy,
        })
    }

    /// This process's CPU time since, and the cores the machine kept busy on average.
    pub(crate) fn since(&self, wall: Duration) -> anyhow::Result<(Duration, f64)> {
        let now = Self::now()?;
        let process = (now.process_ticks - self.process_ticks) as f64 / TICKS_PER_SEC;
        let machine = (now.machine_busy_ticks - self.machine_busy_ticks) as f64 / TICKS_PER_SEC;
        Ok((
            Duration::from_secs_f64(process),
            machine / wall.as_secs_f64(),
        ))
    }
}
