//! What a health window is asked to do, already checked: the endpoints,
//! the grid, the conditions and the verdict's thresholds.

use std::time::Duration;

use relay_http::DisplaySafeUrl;
use relay_runtime::{HttpStatusSet, Source};

use crate::condition::Condition;

/// One health window's settings.
#[derive(Clone)]
pub struct Config {
    /// The endpoints, each probed on the same grid.
    pub urls: Vec<DisplaySafeUrl>,
    /// Endpoints (as shown: redacted) found down before the deploy: probed
    /// and reported, never the cause of a failed window.
    pub known_down: Vec<String>,
    /// Probes are due at 0, `interval`, 2 × `interval`, … below `duration`.
    pub duration: Duration,
    /// Time between probes of one endpoint.
    pub interval: Duration,
    /// Longest time one probe may take.
    pub timeout: Duration,
    /// Wait before the window starts.
    pub initial_delay: Duration,
    /// Failed probes of one endpoint in a row that fail the window.
    pub consecutive_failures: u64,
    /// Lowest share of passed probes per endpoint, in percent.
    pub success_threshold: f64,
    /// End the window as soon as it cannot pass.
    pub fail_fast: bool,
    /// Gatus conditions every probe must meet.
    pub conditions: Vec<Condition>,
    /// Statuses a probe must answer with; `None` when a `[STATUS]`
    /// condition takes over.
    pub expected_status: Option<HttpStatusSet>,
    /// Request headers; values are marked sensitive.
    pub headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    /// Accept invalid TLS certificates.
    pub insecure: bool,
    /// Follow redirects (up to 10).
    pub follow_redirects: bool,
    /// The environment, for the report's header.
    pub environment: String,
    /// The commit checked, for the report's header.
    pub source: Source,
}
