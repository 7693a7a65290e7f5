//! Faults the fakes produce on demand: queued for the next matching requests, or drawn
//! at random for a share of them from a seed. Some fail a request before it is handled,
//! others after, so a client can be shown an answer lost for a record that was made.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// A failure the fake produces for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally, but only after this delay.
    Latency(Duration),
    /// Answer this status with the platform's error body; nothing is handled.
    Status(u16),
    /// Answer 429 with this `Retry-After`; nothing is handled.
    RateLimited(Duration),
    /// Send a status line, then drop the connection mid-body; nothing is handled.
    Reset,
    /// Never answer (the client's timeout must fire); nothing is handled.
    Hang,
    /// Handle the request (a create makes its record), then never answer.
    AppliedThenHang,
    /// Handle the request, then drop the connection in the middle of the answer.
    AppliedThenReset,
    /// Answer 200 with a body that is not JSON; nothing is handled.
    Garbage,
}

impl Fault {
    /// Whether the fault strikes after the request was handled (its effect made).
    pub fn after_handling(&self) -> bool {
        matches!(self, Self::AppliedThenHang | Self::AppliedThenReset)
    }
}

/// Which requests a fault is meant for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Any,
    /// Creates, updates and deletes: every method but `GET` and `HEAD`.
    Writes,
    /// One route: a method and a path whose `*` segments match any one segment,
    /// written `"POST /contacts/*/notes"`; with `?key=value&...` only requests whose query
    /// has those pairs (`"GET /users?page=3"`, to fail one page of a scan).
    Route {
        method: String,
        segments: Vec<String>,
        query: Vec<(String, String)>,
    },
}

impl Target {
    /// The route `spec` (`"METHOD /path/*/more"`); a spec without a method matches any.
    pub fn route(spec: &str) -> Self {
        let (method, path) = match spec.trim().split_once(' ') {
            Some((method, path)) => (method.to_ascii_uppercase(), path),
            None => ("*".to_owned(), spec.trim()),
        };
        let (path, query) = path.trim().split_once('?').unwrap_or((path.trim(), ""));
        Self::Route {
            method,
            segments: path.split('/').map(str::to_owned).collect(),
            query: query_pairs(query),
        }
    }

    /// Whether a request with `method` to `path` (relative to the API root, optionally
    /// followed by `?` and its query) is meant.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Writes => !matches!(method, "GET" | "HEAD"),
            Self::Route {
                method: m,
                segments,
                query,
            } => {
                let (path, given_query) = path.split_once('?').unwrap_or((path, ""));
                let given: Vec<&str> = path.split('/').collect();
                let given_query = query_pairs(given_query);
                (m == "*" || m.eq_ignore_ascii_case(method))
                    && given.len() == segments.len()
                    && segments.iter().zip(&given).all(|(s, g)| s == "*" || s == g)
                    && query.iter().all(|pair| given_query.contains(pair))
            }
        }
    }
}

/// `a=1&b=2` as pairs, percent-decoded, so a target and a request compare as values.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Faults drawn at random: each request the target matches gets one of `faults`
/// with probability `share`, from a generator seeded with `seed`.
#[derive(Debug, Clone)]
pub struct RandomFaults {
    pub target: Target,
    pub share: f64,
    pub faults: Vec<Fault>,
    pub seed: u64,
}

impl std::str::FromStr for RandomFaults {
    type Err = String;

    /// `SHARE[:KIND,...]` for the writes of a fake, e.g. `0.2` or
    /// `0.2:applied-hang,applied-reset,500,502,429`; KIND is `applied-hang`,
    /// `applied-reset`, `hang`, `reset`, `garbage`, `429` or another status. Without kinds, lost
    /// answers and refusals in equal parts. The seed is random.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (share, kinds) = spec.trim().split_once(':').unwrap_or((spec.trim(), ""));
        let share: f64 = share
            .parse()
            .ok()
            .filter(|s| (0.0..=1.0).contains(s))
            .ok_or_else(|| format!("{share:?} is not a share between 0 and 1"))?;
        let faults = if kinds.trim().is_empty() {
            vec![
                Fault::AppliedThenHang,
                Fault::AppliedThenReset,
                Fault::Status(500),
                Fault::RateLimited(Duration::ZERO),
            ]
        } else {
            kinds.split(',').map(fault_kind).collect::<Result<_, _>>()?
        };
        Ok(Self {
            target: Target::Writes,
            share,
            faults,
            seed: rand::random(),
        })
    }
}

fn fault_kind(kind: &str) -> Result<Fault, String> {
    match kind.trim() {
        "applied-hang" => Ok(Fault::AppliedThenHang),
        "applied-reset" => Ok(Fault::AppliedThenReset),
        "hang" => Ok(Fault::Hang),
        "reset" => Ok(Fault::Reset),
        "garbage" => Ok(Fault::Garbage),
        "429" => Ok(Fault::RateLimited(Duration::from_secs(1))),
        other => match other.parse::<u16>() {
            Ok(status) if (400..=599).contains(&status) => Ok(Fault::Status(status)),
            _ => Err(format!("{other:?} is not a fault kind")),
        },
    }
}

/// The faults one fake has in store.
#[derive(Debug, Default)]
pub struct FaultPlan {
    /// Taken in order, each by the first request its target matches.
    queued: VecDeque<(Target, Fault)>,
    random: Option<(RandomFaults, StdRng)>,
    /// Faults produced so far.
    pub injected: u64,
}

impl FaultPlan {
    pub fn queue(&mut self, target: &Target, faults: impl IntoIterator<Item = Fault>) {
        self.queued
            .extend(faults.into_iter().map(|f| (target.clone(), f)));
    }

    /// From now on, a share of matching requests fail at random (replacing any earlier
    /// random plan); `share` 0 turns it off.
    pub fn randomly(&mut self, random: RandomFaults) {
        let rng = StdRng::seed_from_u64(random.seed);
        self.random = (random.share > 0.0 && !random.faults.is_empty()).then_some((random, rng));
    }

    /// Drops every queued and random fault.
    pub fn clear(&mut self) {
        self.queued.clear();
        self.random = None;
    }

    /// The fault for this request, if any: a queued one first, else a random draw.
    pub fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let fault = self.take_queued(method, path).or_else(|| {
            let (plan, rng) = self.random.as_mut()?;
            if !plan.target.matches(method, path) || !rng.gen_bool(plan.share.clamp(0.0, 1.0)) {
                return None;
            }
            plan.faults
                .get(rng.gen_range(0..plan.faults.len()))
                .cloned()
        });
        if fault.is_some() {
            self.injected += 1;
        }
        fault
    }

    fn take_queued(&mut self, method: &str, path: &str) -> Option<Fault> {
        let index = self
            .queued
            .iter()
            .position(|(target, _)| target.matches(method, path))?;
        self.queued.remove(index).map(|(_, fault)| fault)
    }
}

/// `response` with its body replaced by one that breaks after the status line and
/// headers went out, as a connection reset mid-answer looks to the client.
pub fn cut_short(response: Response) -> Response {
    let (parts, _) = response.into_parts();
    let broken = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    });
    let mut response = Response::from_parts(parts, Body::from_stream(broken));
    // The real length would let the client wait for bytes that never come.
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}

/// A 200 whose body claims to be JSON and is not, as a proxy's error page or a truncated
/// answer looks to a client.
pub fn garbage() -> Response {
    let mut response = Response::new(Body::from("<html>upstream error</html>{\"data\": ["));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Waits longer than any client does; the fake's server task is aborted when it stops.
pub async fn hang() {
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_method_and_segments_with_wildcards() {
        let notes = Target::route("POST /contacts/*/notes");
        assert!(notes.matches("POST", "/contacts/abc/notes"));
        assert!(!notes.matches("GET", "/contacts/abc/notes"));
        assert!(!notes.matches("POST", "/contacts/abc/notes/n1"));
        assert!(Target::Writes.matches("PATCH", "/user/7"));
        assert!(!Target::Writes.matches("GET", "/user/7"));
    }

    #[test]
    fn a_route_with_a_query_matches_only_requests_carrying_those_pairs() {
        let third = Target::route("GET /users?page=3");
        assert!(third.matches("GET", "/users?pageSize=100&page=3"));
        assert!(!third.matches("GET", "/users?page=2&pageSize=100"));
        assert!(!third.matches("GET", "/users"));
        assert!(Target::route("GET /users").matches("GET", "/users?page=3"));
        let since = Target::route("GET /users?updatedSince=2026-01-01T00:00:00Z");
        assert!(since.matches("GET", "/users?updatedSince=2026-01-01T00%3A00%3A00Z"));
    }

    #[test]
    fn queued_faults_go_to_the_first_matching_request_in_order() {
        let mut plan = FaultPlan::default();
        plan.queue(&Target::route("POST /user"), [Fault::AppliedThenReset]);
        plan.queue(&Target::Any, [Fault::Status(500)]);
        assert_eq!(plan.take("GET", "/users"), Some(Fault::Status(500)));
        assert_eq!(plan.take("POST", "/user"), Some(Fault::AppliedThenReset));
        assert_eq!(plan.take("POST", "/user"), None);
        assert_eq!(plan.injected, 2);
    }

    #[test]
    fn a_spec_names_the_share_and_the_kinds() {
        let plan: RandomFaults = "0.25:applied-reset, 502,429".parse().unwrap();
        assert_eq!(plan.share, 0.25);
        assert_eq!(plan.target, Target::Writes);
        assert_eq!(
            plan.faults[..2],
            [Fault::AppliedThenReset, Fault::Status(502)]
        );
        assert_eq!("0.1".parse::<RandomFaults>().unwrap().faults.len(), 4);
        assert!("2".parse::<RandomFaults>().is_err());
        assert!("0.1:teapot".parse::<RandomFaults>().is_err());
    }

    #[test]
    fn random_faults_hit_about_their_share_of_matching_requests_only() {
        let mut plan = FaultPlan::default();
        plan.randomly(RandomFaults {
            target: Target::Writes,
            share: 0.2,
            faults: vec![Fault::Status(500), Fault::AppliedThenReset],
            seed: 7,
        });
        let hits = (0..1000)
            .filter(|_| plan.take("POST", "/x").is_some())
            .count();
        assert!((150..250).contains(&hits), "{hits}");
        assert!((0..100).all(|_| plan.take("GET", "/x").is_none()));
    }
}
