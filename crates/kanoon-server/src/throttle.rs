//! Wrong enrolment codes counted per client address: past
//! `MAX_WRONG_CODES` in a minute an address is answered 429 until its
//! minute is over, so the 10^10 codes cannot be tried at speed. (Behind a
//! reverse proxy the address is the proxy's: the proxy limits per client.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{AppError, ErrorCode};

/// Wrong codes one address may send in `WINDOW`.
pub const MAX_WRONG_CODES: u32 = 10;
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before the stale ones are forgotten.
const FORGET_PAST: usize = 10_000;

#[derive(Default)]
pub struct EnrolThrottle {
    wrong: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl EnrolThrottle {
    /// Refuses an address that sent too many wrong codes this minute.
    pub fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        let wrong = self.wrong.lock().unwrap_or_else(PoisonError::into_inner);
        match wrong.get(&ip) {
            Some((since, count)) if since.elapsed() < WINDOW && *count >= MAX_WRONG_CODES => Err(AppError::new(
                ErrorCode::RateLimited,
                format!(
                    "more than {MAX_WRONG_CODES} wrong enrolment codes in a minute from this address: wait a minute"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Counts a wrong code from `ip`.
    pub fn wrong_code(&self, ip: IpAddr) {
        let mut wrong = self.wrong.lock().unwrap_or_else(PoisonError::into_inner);
        if wrong.len() > FORGET_PAST {
            wrong.retain(|_, (since, _)| since.elapsed() < WINDOW);
        }
        let entry = wrong.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}
