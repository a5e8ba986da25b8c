//! The server's clock, against which ops and photos stamped ahead are
//! refused. Tests (feature `test-support`) move it forward to play a later
//! server time; the offset is process-wide and only ever moves forward, so
//! tests running alongside see ops refused less, never more.

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis() + offset_ms()
}

#[cfg(feature = "test-support")]
static OFFSET_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

#[cfg(feature = "test-support")]
fn offset_ms() -> i64 {
    OFFSET_MS.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(feature = "test-support"))]
fn offset_ms() -> i64 {
    0
}

/// Moves the server's clock forward by `ms` (tests only).
#[cfg(feature = "test-support")]
pub fn advance(ms: i64) {
    OFFSET_MS.fetch_add(ms.max(0), std::sync::atomic::Ordering::Relaxed);
}
