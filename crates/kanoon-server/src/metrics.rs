//! The server's Prometheus metrics (`GET /metrics`, text format 0.0.4).
//!
//! The `prometheus` crate rather than `metrics` + its exporter: each router
//! gets a `Registry` of its own instead of one process-wide recorder, so
//! two servers in one process (every test, the benchmark) count apart, and
//! it needs no HTTP listener of its own (default features off: no protobuf).

use std::time::Duration;

use kanoon_protocol::wire::PushResponse;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::error::AppError;

/// Buckets of the request duration histogram, in seconds.
const DURATION_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// What the server counts. Cheap to clone (the collectors are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    ops: IntCounterVec,
    pushes: IntCounter,
    pulls: IntCounter,
    pulled_ops: IntCounter,
    enrolments: IntCounter,
    durations: HistogramVec,
    log_length: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, AppError> {
        let registry = Registry::new();
        let ops = IntCounterVec::new(
            Opts::new("kanoon_ops_total", "Pushed ops by outcome: accepted, duplicate or rejected."),
            &["outcome"],
        )
        .map_err(metric_error)?;
        let pushes = IntCounter::new("kanoon_pushes_total", "Pushes answered 200.").map_err(metric_error)?;
        let pulls = IntCounter::new("kanoon_pulls_total", "Pulls answered 200.").map_err(metric_error)?;
        let pulled_ops = IntCounter::new("kanoon_pulled_ops_total", "Ops served by pulls.").map_err(metric_error)?;
        let enrolments = IntCounter::new("kanoon_enrolments_total", "Devices enrolled.").map_err(metric_error)?;
        let durations = HistogramVec::new(
            HistogramOpts::new("kanoon_http_request_duration_seconds", "HTTP request durations.")
                .buckets(DURATION_BUCKETS.to_vec()),
            &["method", "route", "status"],
        )
        .map_err(metric_error)?;
        let log_length = IntGauge::new("kanoon_op_log_length", "Ops in the server's log (read at each scrape).")
            .map_err(metric_error)?;
        for outcome in ["accepted", "duplicate", "rejected"] {
            ops.with_label_values(&[outcome]);
        }
        registry.register(Box::new(ops.clone())).map_err(metric_error)?;
        registry.register(Box::new(pushes.clone())).map_err(metric_error)?;
        registry.register(Box::new(pulls.clone())).map_err(metric_error)?;
        registry.register(Box::new(pulled_ops.clone())).map_err(metric_error)?;
        registry.register(Box::new(enrolments.clone())).map_err(metric_error)?;
        registry.register(Box::new(durations.clone())).map_err(metric_error)?;
        registry.register(Box::new(log_length.clone())).map_err(metric_error)?;
        Ok(Self { registry, ops, pushes, pulls, pulled_ops, enrolments, durations, log_length })
    }

    pub fn pushed(&self, response: &PushResponse) {
        self.pushes.inc();
        self.ops.with_label_values(&["accepted"]).inc_by(len(response.accepted.len()));
        self.ops.with_label_values(&["duplicate"]).inc_by(len(response.duplicates.len()));
        self.ops.with_label_values(&["rejected"]).inc_by(len(response.rejected.len()));
    }

    pub fn pulled(&self, ops: usize) {
        self.pulls.inc();
        self.pulled_ops.inc_by(len(ops));
    }

    pub fn enrolled(&self) {
        self.enrolments.inc();
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.durations.with_label_values(&[method, route, &status.to_string()]).observe(took.as_secs_f64());
    }

    /// The text exposition, with the log length just read.
    pub fn render(&self, log_length: u64) -> Result<String, AppError> {
        self.log_length.set(i64::try_from(log_length).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).map_err(metric_error)?;
        String::from_utf8(out).map_err(|e| AppError::internal(format!("metrics text: {e}")))
    }
}

fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn metric_error(e: prometheus::Error) -> AppError {
    AppError::internal(format!("metrics: {e}"))
}
