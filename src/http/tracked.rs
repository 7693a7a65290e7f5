//! Counting a connection's requests in progress, so shutdown can tell a connection that
//! owes an answer from one that is idle or still receiving headers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tower::util::Oneshot;

/// Counts one request as in progress until dropped.
#[derive(Debug)]
pub struct InProgress(Arc<AtomicUsize>);

impl InProgress {
    pub fn start(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(counter))
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pin_project_lite::pin_project! {
    /// The router's answer to one request, counted in progress from the call on.
    pub struct TrackedCall {
        #[pin]
        call: Oneshot<Router, hyper::Request<Incoming>>,
        in_progress: Option<InProgress>,
    }
}

impl TrackedCall {
    pub fn new(call: Oneshot<Router, hyper::Request<Incoming>>, in_progress: InProgress) -> Self {
        Self {
            call,
            in_progress: Some(in_progress),
        }
    }
}

impl Future for TrackedCall {
    type Output = Result<Response<TrackedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.call.poll(cx))?;
        let in_progress = this.in_progress.take();
        Poll::Ready(Ok(response.map(|body| TrackedBody {
            body,
            _in_progress: in_progress,
        })))
    }
}

/// A response body that keeps its request counted until hyper has taken all of it (or
/// given up on it), because hyper drops the body only then.
#[derive(Debug)]
pub struct TrackedBody {
    body: Body,
    _in_progress: Option<InProgress>,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_counts_until_its_response_body_is_dropped() {
        let counter = Arc::new(AtomicUsize::new(0));
        let body = TrackedBody {
            body: Body::from("ok"),
            _in_progress: Some(InProgress::start(&counter)),
        };
        let other = InProgress::start(&counter);
        assert_eq!(counter.load(Ordering::Acquire), 2);

        drop(other);
        assert_eq!(counter.load(Ordering::Acquire), 1);
        drop(body);
        assert_eq!(counter.load(Ordering::Acquire), 0);
    }
}
