//! Wall-clock time, injected so tests can control it. Everything that needs
//! "now" as a calendar time (task windows, file times, signatures) asks a
//! [`Clock`]; waiting uses tokio's timer. [`ManualClock`] moves only when
//! told to; [`TokioClock`] follows tokio's timer, so under
//! `tokio::time::pause()` wall time and sleeps advance together. Also the
//! China Standard Time arithmetic (UTC+8 all year, no DST) and the two
//! calendar renderings of Unix ms the API uses: CST and UTC.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock reading `ms`.
    pub fn new(ms: i64) -> ManualClock {
        ManualClock(AtomicI64::new(ms))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A clock reading `base_ms` when created and then moving with tokio's
/// timer: under `tokio::time::pause()` it only moves when the runtime's
/// time does (tests of code that both reads the clock and sleeps).
#[derive(Debug)]
pub struct TokioClock {
    base_ms: i64,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `base_ms` now.
    pub fn new(base_ms: i64) -> TokioClock {
        TokioClock {
            base_ms,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.base_ms.saturating_add(elapsed)
    }
}

/// China Standard Time's offset from UTC, ms (UTC+8 all year: no DST).
pub const CST_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The Unix ms of the China Standard Time midnight starting the day that
/// contains `ms` (daily quotas count from it).
pub fn cst_day_start(ms: i64) -> i64 {
    (ms + CST_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - CST_OFFSET_MS
}

/// Unix ms as China Standard Time (UTC+8) `YYYY-MM-DD HH:MM:SS`; None when
/// out of the calendar's range.
pub fn cst_string(ms: i64) -> Option<String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()?
        .to_offset(time::macros::offset!(+8))
        .format(fmt)
        .ok()
}

/// Unix ms as UTC `2019-01-04T12:00:00Z` (whole seconds); None when out of
/// the calendar's range.
pub fn utc_string(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// 2026-12-07 00:00:00 CST = 2026-12-06 16:00:00 UTC.
    const MIDNIGHT: i64 = 1_796_572_800_000;

    #[test]
    fn cst_midnight_is_sixteen_hundred_utc() {
        assert_eq!(utc_string(MIDNIGHT).unwrap(), "2026-12-06T16:00:00Z");
        assert_eq!(cst_string(MIDNIGHT).unwrap(), "2026-12-07 00:00:00");
        assert_eq!(cst_string(MIDNIGHT - 1).unwrap(), "2026-12-06 23:59:59");
    }

    #[test]
    fn cst_day_start_around_midnight() {
        assert_eq!(cst_day_start(MIDNIGHT), MIDNIGHT);
        assert_eq!(cst_day_start(MIDNIGHT + 1), MIDNIGHT);
        assert_eq!(cst_day_start(MIDNIGHT + DAY_MS - 1), MIDNIGHT);
        assert_eq!(cst_day_start(MIDNIGHT + DAY_MS), MIDNIGHT + DAY_MS);
        assert_eq!(cst_day_start(MIDNIGHT - 1), MIDNIGHT - DAY_MS);
        // UTC midnight is 08:00 in China: the same CST day.
        let utc_midnight = MIDNIGHT + 8 * 3_600_000;
        assert_eq!(utc_string(utc_midnight).unwrap(), "2026-12-07T00:00:00Z");
        assert_eq!(cst_day_start(utc_midnight), MIDNIGHT);
        assert_eq!(cst_day_start(utc_midnight - 1), MIDNIGHT);
    }

    #[test]
    fn cst_has_no_daylight_saving() {
        // Midsummer and midwinter midnights are both 16:00 UTC the day before.
        for (ms, utc) in [
            (1_783_353_600_000, "2026-07-06T16:00:00Z"),
            (MIDNIGHT, "2026-12-06T16:00:00Z"),
        ] {
            assert_eq!(utc_string(ms).unwrap(), utc);
            assert!(cst_string(ms).unwrap().ends_with(" 00:00:00"));
            assert_eq!(cst_day_start(ms + 12 * 3_600_000), ms);
        }
    }

    #[test]
    fn cst_day_start_before_the_epoch() {
        // 1970-01-01 00:00 UTC is 08:00 CST; that day began 8 h earlier.
        assert_eq!(cst_day_start(0), -CST_OFFSET_MS);
        assert_eq!(cst_day_start(-CST_OFFSET_MS - 1), -CST_OFFSET_MS - DAY_MS);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(500);
        assert_eq!(c.now_ms(), 1_500);
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let c = TokioClock::new(MIDNIGHT);
        assert_eq!(c.now_ms(), MIDNIGHT);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(c.now_ms(), MIDNIGHT + 3_600_000);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(c.now_ms(), MIDNIGHT + 3_600_001);
    }
}
