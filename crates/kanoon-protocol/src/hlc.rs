use std::fmt;

use serde::{Deserialize, Serialize};

/// Hybrid logical clock: wall milliseconds since the Unix epoch plus a
/// counter that orders events within (or despite) the same millisecond.
/// Ties between devices are broken by the device id that travels with
/// every op, so the order is total and the same on every peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hlc {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub wall_ms: i64,
    /// Logical counter within `wall_ms`.
    pub counter: u32,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc { wall_ms: 0, counter: 0 };

    pub fn new(wall_ms: i64, counter: u32) -> Self {
        Self { wall_ms, counter }
    }

    /// A fixed-width text form whose byte order is the clock order
    /// (used as a sortable column in databases).
    pub fn to_sortable(&self) -> String {
        format!("{:015}-{:010}", self.wall_ms.max(0), self.counter)
    }

    pub fn parse_sortable(s: &str) -> Option<Hlc> {
        let (wall, counter) = s.split_once('-')?;
        Some(Hlc { wall_ms: wall.parse().ok()?, counter: counter.parse().ok()? })
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wall_ms, self.counter)
    }
}

/// The state a device keeps to issue clocks: the last clock it issued or saw.
///
/// `tick` is called for every local op, `observe` for every op received.
/// Invariant: every clock `tick` returns is strictly greater than every
/// clock issued or observed before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HlcClock {
    pub last: Hlc,
}

impl HlcClock {
    pub fn new(last: Hlc) -> Self {
        Self { last }
    }

    /// A new clock for a local event happening at physical time `now_ms`.
    pub fn tick(&mut self, now_ms: i64) -> Hlc {
        let next = if now_ms > self.last.wall_ms {
            Hlc::new(now_ms, 0)
        } else {
            Hlc::new(self.last.wall_ms, self.last.counter.saturating_add(1))
        };
        self.last = next;
        next
    }

    /// Take a received clock into account so later local clocks sort after it.
    /// A clock more than `max_ahead_ms` ahead of `now_ms` is not adopted (a
    /// peer with a wrong clock must not drag every clock forward); the
    /// caller flags such an op. Returns whether the clock was adopted.
    pub fn observe(&mut self, remote: Hlc, now_ms: i64, max_ahead_ms: i64) -> bool {
        if remote.wall_ms > now_ms.saturating_add(max_ahead_ms) {
            return false;
        }
        if remote > self.last {
            self.last = remote;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sortable_form_round_trips() {
        let h = Hlc::new(1_732_550_000_123, 7);
        assert_eq!(Hlc::parse_sortable(&h.to_sortable()), Some(h));
    }

    #[test]
    fn far_future_clock_is_not_adopted() {
        let mut c = HlcClock::new(Hlc::new(1000, 0));
        assert!(!c.observe(Hlc::new(10_000_000, 0), 2000, 60_000));
        assert_eq!(c.last, Hlc::new(1000, 0));
        assert!(c.observe(Hlc::new(3000, 4), 2000, 60_000));
        assert_eq!(c.tick(2500), Hlc::new(3000, 5));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::proptest_cases()))]
        #[test]
        fn ticks_are_strictly_increasing_even_when_the_wall_clock_goes_back(
            walls in proptest::collection::vec(0i64..10_000, 1..50)
        ) {
            let mut c = HlcClock::default();
            let mut prev = Hlc::ZERO;
            for w in walls {
                let h = c.tick(w);
                prop_assert!(h > prev);
                prop_assert_eq!(h.to_sortable().cmp(&prev.to_sortable()), std::cmp::Ordering::Greater);
                prev = h;
            }
        }
    }
}
