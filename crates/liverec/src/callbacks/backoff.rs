//! When a failed delivery is tried again ([`RetryPolicy`]): liverec's
//! exponential back-off with jitter until the event's retry time runs out,
//! or Tencent's schedule (reference §3.1: 3 attempts, 60 s apart). Pure:
//! the caller passes the time and the random draw.

/// Tencent's attempts per event.
const TENCENT_ATTEMPTS: i64 = 3;
/// Tencent's interval between attempts, ms.
const TENCENT_INTERVAL_MS: i64 = 60_000;

/// When to try a failed delivery again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Delays of `first_ms`, doubling up to `max_ms`, each drawn from its
    /// upper half (jitter spreads receivers' recoveries), until the
    /// event's expiry; the last attempt is made at the expiry.
    Backoff {
        /// Delay after the first failure (before jitter), ms.
        first_ms: i64,
        /// Longest delay, ms.
        max_ms: i64,
    },
    /// Tencent's: 3 attempts in all, 60 s apart, whatever the expiry.
    Tencent,
}

impl RetryPolicy {
    /// The nominal delay after `failures` failed attempts (≥ 1), before
    /// jitter, ms.
    pub fn delay_ms(self, failures: i64) -> i64 {
        match self {
            RetryPolicy::Tencent => TENCENT_INTERVAL_MS,
            RetryPolicy::Backoff { first_ms, max_ms } => {
                let doublings = u32::try_from((failures - 1).clamp(0, 40)).unwrap_or(40);
                first_ms
                    .max(1)
                    .saturating_mul(1_i64 << doublings)
                    .min(max_ms.max(1))
            }
        }
    }

    /// When to try again after the `failures`-th failed attempt, made at
    /// `now_ms`, of an event that expires at `expire_ms`; None when it has
    /// failed for good. `unit` in [0, 1) is the random draw for jitter.
    pub fn next_attempt(
        self,
        failures: i64,
        now_ms: i64,
        expire_ms: i64,
        unit: f64,
    ) -> Option<i64> {
        match self {
            RetryPolicy::Tencent => {
                (failures < TENCENT_ATTEMPTS).then(|| now_ms + TENCENT_INTERVAL_MS)
            }
            RetryPolicy::Backoff { .. } => {
                if now_ms >= expire_ms {
                    return None;
                }
                let d = self.delay_ms(failures);
                let half = d / 2;
                let jitter = (half as f64 * unit.clamp(0.0, 1.0)) as i64;
                Some((now_ms + d - half + jitter).min(expire_ms))
            }
        }
    }
}

/// A random draw in [0, 1) (jitter), from the system's random source via a
/// v4 UUID.
pub(super) fn unit_random() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() as u64) >> 11;
    bits as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: RetryPolicy = RetryPolicy::Backoff {
        first_ms: 1000,
        max_ms: 600_000,
    };

    #[test]
    fn backoff_doubles_to_the_cap() {
        let delays: Vec<i64> = (1..=12).map(|n| B.delay_ms(n)).collect();
        assert_eq!(
            delays,
            [
                1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 600_000,
                600_000
            ]
        );
        assert_eq!(B.delay_ms(10_000), 600_000, "no overflow");
        assert_eq!(B.delay_ms(0), 1000);
    }

    #[test]
    fn jitter_stays_in_the_upper_half_and_expiry_ends_it() {
        let exp = 86_400_000;
        assert_eq!(B.next_attempt(3, 0, exp, 0.0), Some(2000));
        assert_eq!(B.next_attempt(3, 0, exp, 0.999_999), Some(3999));
        for i in 0..100 {
            let u = unit_random();
            assert!((0.0..1.0).contains(&u), "{u}");
            let at = B.next_attempt(5, 10, exp, u).unwrap();
            assert!((10 + 8000..10 + 16_000).contains(&at), "{i}: {at}");
        }
        // The last attempt is made at the expiry, then it has failed.
        assert_eq!(B.next_attempt(20, exp - 5, exp, 0.5), Some(exp));
        assert_eq!(B.next_attempt(21, exp, exp, 0.5), None);
        // A day of retries is about 200 attempts, not thousands.
        let (mut now, mut n) = (0, 0);
        while let Some(next) = B.next_attempt(n + 1, now, exp, 0.5) {
            now = next;
            n += 1;
        }
        assert!((150..=250).contains(&n), "{n}");
    }

    #[test]
    fn tencent_schedule_is_three_attempts_a_minute_apart() {
        let t = RetryPolicy::Tencent;
        assert_eq!(t.next_attempt(1, 0, 1, 0.3), Some(60_000));
        assert_eq!(t.next_attempt(2, 60_000, 1, 0.3), Some(120_000));
        assert_eq!(t.next_attempt(3, 120_000, 1, 0.3), None);
    }
}
