//! What `backfill` shows while it runs: a live bar on a terminal (indicatif), a plain line
//! every few seconds otherwise (logs, CI, `kubectl logs`), and one summary at the end.
//!
//! Tovuti and GHL document no totals for their lists, so the bar counts up rather than
//! filling; the time that matters is the GHL quota the queued events will spend, so the
//! estimate shown is that, not the scan's own speed.

use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain (non-terminal) progress line is printed.
pub const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// Counts of one page, or of the run so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Entities read from the source.
    pub scanned: u64,
    /// Events recorded for the worker (or, in a dry run, that would be).
    pub queued: u64,
    /// Entities whose current state an earlier run or the poller already queued.
    pub already: u64,
    /// Items the source returned that could not be read (skipped, counted).
    pub unreadable: u64,
}

impl Counts {
    fn add(&mut self, page: Counts) {
        self.scanned += page.scanned;
        self.queued += page.queued;
        self.already += page.already;
        self.unreadable += page.unreadable;
    }
}

/// The GHL quota the worker spends per queued event, which bounds how fast a backfill's
/// events are synced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaEstimate {
    /// Requests per second the location's quota allows after its safety margin.
    pub requests_per_sec: f64,
    /// GHL requests one event usually costs (contact upsert, tags, ...).
    pub requests_per_event: f64,
}

impl QuotaEstimate {
    /// From GHL's burst quota: `max` requests per `interval`, less the safety `margin`.
    pub fn from_quota(max: u32, interval: Duration, margin: f64, requests_per_event: f64) -> Self {
        let seconds = interval.as_secs_f64().max(0.001);
        Self {
            requests_per_sec: f64::from(max) * (1.0 - margin.clamp(0.0, 0.99)) / seconds,
            requests_per_event: requests_per_event.max(0.0),
        }
    }

    /// How long the worker needs for `events` at the quota.
    pub fn time_for(&self, events: u64) -> Duration {
        if self.requests_per_sec <= 0.0 {
            return Duration::ZERO;
        }
        #[allow(clippy::cast_precision_loss)] // event counts are far below 2^52
        let seconds = events as f64 * self.requests_per_event / self.requests_per_sec;
        Duration::from_secs_f64(seconds.min(1e9))
    }
}

/// Reports a backfill's progress to a terminal or as plain lines.
pub struct Progress {
    bar: Option<ProgressBar>,
    out: Box<dyn Write + Send>,
    quota: QuotaEstimate,
    started: Instant,
    last_line: Option<Instant>,
    totals: Counts,
}

impl Progress {
    /// A live bar when `terminal`, plain lines to `out` otherwise.
    pub fn new(terminal: bool, out: Box<dyn Write + Send>, quota: QuotaEstimate) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            out,
            quota,
            started: Instant::now(),
            last_line: None,
            totals: Counts::default(),
        }
    }

    /// Adds one page's counts and shows them (a plain line at most every [`PLAIN_EVERY`]).
    pub fn page(&mut self, page: Counts) {
        self.totals.add(page);
        let now = Instant::now();
        let line = self.line(now);
        if let Some(bar) = &self.bar {
            bar.set_message(line);
        } else if self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= PLAIN_EVERY)
        {
            self.last_line = Some(now);
            let _ = writeln!(self.out, "backfill: {line}");
        }
    }

    /// Clears the bar and prints the summary; returns it too (for tests and callers).
    pub fn finish(mut self, dry_run: bool, interrupted: bool) -> String {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let summary = summary(
            self.totals,
            self.started.elapsed(),
            self.quota,
            dry_run,
            interrupted,
        );
        let _ = writeln!(self.out, "{summary}");
        summary
    }

    fn line(&self, now: Instant) -> String {
        let t = self.totals;
        let elapsed = now.duration_since(self.started).as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
        let rate = t.scanned as f64 / elapsed;
        format!(
            "scanned {}, queued {}, already queued {}, unreadable {} ({rate:.0}/s); \
             GHL time for the queued events ≈ {}",
            t.scanned,
            t.queued,
            t.already,
            t.unreadable,
            human(self.quota.time_for(t.queued)),
        )
    }
}

/// The closing report of a run.
pub fn summary(
    t: Counts,
    took: Duration,
    quota: QuotaEstimate,
    dry_run: bool,
    interrupted: bool,
) -> String {
    let head = if interrupted {
        "backfill interrupted (run it again to resume where it stopped)"
    } else if dry_run {
        "backfill dry run (nothing was queued)"
    } else {
        "backfill done"
    };
    let verb = if dry_run { "would queue" } else { "queued" };
    format!(
        "{head}: scanned {}, {verb} {}, already queued {}, unreadable {} in {}. \
         At {:.1} GHL requests/s and about {:.0} requests per event, the worker needs ≈ {} \
         of GHL quota for them.",
        t.scanned,
        t.queued,
        t.already,
        t.unreadable,
        human(took),
        quota.requests_per_sec,
        quota.requests_per_event,
        human(quota.time_for(t.queued)),
    )
}

/// `1h 02m`, `3m 05s`, `12s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m {sec:02}s"),
        (h, min, _) => format!("{h}h {min:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer tests can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default())
                .into_owned()
        }
    }

    fn quota() -> QuotaEstimate {
        // 100 per 10 s with no margin and 2 requests per event: 5 events/s.
        QuotaEstimate::from_quota(100, Duration::from_secs(10), 0.0, 2.0)
    }

    #[test]
    fn quota_time_is_events_times_cost_over_rate() {
        assert_eq!(quota().time_for(3000), Duration::from_secs(600));
        let margin = QuotaEstimate::from_quota(100, Duration::from_secs(10), 0.5, 1.0);
        assert_eq!(margin.time_for(50), Duration::from_secs(10));
    }

    #[test]
    fn plain_output_prints_the_first_page_then_waits_and_sums_every_page() {
        let sink = Sink::default();
        let mut progress = Progress::new(false, Box::new(sink.clone()), quota());
        let page = Counts {
            scanned: 100,
            queued: 90,
            already: 8,
            unreadable: 2,
        };
        progress.page(page);
        progress.page(page);
        let lines = sink.text();
        assert_eq!(lines.lines().count(), 1, "{lines}");
        assert!(
            lines.starts_with("backfill: scanned 100, queued 90"),
            "{lines}"
        );
        let summary = progress.finish(false, false);
        assert!(
            summary.starts_with(
                "backfill done: scanned 200, queued 180, already queued 16, unreadable 4"
            ),
            "{summary}"
        );
        assert!(summary.contains("needs ≈ 36s"), "{summary}");
        assert!(sink.text().ends_with(&format!("{summary}\n")));
    }

    #[test]
    fn summaries_say_what_kind_of_run_it_was() {
        let t = Counts {
            scanned: 10,
            queued: 10,
            ..Counts::default()
        };
        let dry = summary(t, Duration::from_secs(1), quota(), true, false);
        assert!(dry.starts_with("backfill dry run"), "{dry}");
        assert!(dry.contains("would queue 10"), "{dry}");
        let cut = summary(t, Duration::from_secs(1), quota(), false, true);
        assert!(cut.contains("run it again to resume"), "{cut}");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(12)), "12s");
        assert_eq!(human(Duration::from_secs(185)), "3m 05s");
        assert_eq!(human(Duration::from_secs(3720)), "1h 02m");
    }
}
