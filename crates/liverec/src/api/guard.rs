//! Request guards after authentication: v1 replay protection (a Nonce with
//! its Timestamp is accepted once per SecretId within the signature window)
//! and per-SecretId, per-action-class rate limits. With several nodes each
//! takes its share of a limit: a request costs as many cells as there are
//! live nodes, so the cluster as a whole allows the configured rate when
//! the load balancer spreads requests evenly.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::action::RateClass;
use super::error::Error;

use crate::config::Rates;

/// How long a seen nonce is remembered: the signature window (±300 s).
pub(crate) const NONCE_TTL_MS: i64 = 600_000;
/// Above this many remembered nonces, expired ones are swept on insert.
const NONCE_SWEEP_AT: usize = 10_000;

/// Replay protection plus rate limits.
#[derive(Debug)]
pub struct Guard {
    nonces: Mutex<HashMap<(String, u64, i64), i64>>,
    create: DefaultKeyedRateLimiter<String>,
    stop_delete: DefaultKeyedRateLimiter<String>,
    other: DefaultKeyedRateLimiter<String>,
    /// Live nodes sharing the limits (1 with one node).
    nodes: Arc<AtomicU32>,
}

fn limiter(per_second: u32) -> DefaultKeyedRateLimiter<String> {
    let n = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(n))
}

impl Guard {
    /// Guards with the configured rates.
    pub fn new(rates: &Rates) -> Guard {
        Guard {
            nonces: Mutex::new(HashMap::new()),
            create: limiter(rates.create_live_record),
            stop_delete: limiter(rates.stop_delete_live_record),
            other: limiter(rates.other),
            nodes: Arc::new(AtomicU32::new(1)),
        }
    }

    /// The count of live nodes the limits are shared by (the cluster task
    /// keeps it current).
    pub fn nodes(&self) -> Arc<AtomicU32> {
        self.nodes.clone()
    }

    /// Refuses a v1 request whose (SecretId, Nonce, Timestamp) was seen.
    pub(crate) fn check_nonce(
        &self,
        secret_id: &str,
        nonce: u64,
        timestamp: i64,
        now_ms: i64,
    ) -> Result<(), Error> {
        let mut seen = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= NONCE_SWEEP_AT {
            seen.retain(|_, exp| *exp > now_ms);
        }
        let key = (secret_id.to_string(), nonce, timestamp);
        if seen.get(&key).is_some_and(|exp| *exp > now_ms) {
            return Err(Error::Replayed);
        }
        seen.insert(key, now_ms + NONCE_TTL_MS);
        Ok(())
    }

    /// Applies the rate limit of `class` for `secret_id`; `action` names
    /// the action in the refusal.
    pub(crate) fn check_rate(
        &self,
        secret_id: &str,
        class: RateClass,
        action: &str,
    ) -> Result<(), Error> {
        let lim = match class {
            RateClass::Create => &self.create,
            RateClass::StopDelete => &self.stop_delete,
            RateClass::Other => &self.other,
        };
        // A limit below the node count still lets each node through once
        // per second rather than never.
        let cells = self.nodes.load(Ordering::Relaxed).max(1);
        let ok = match NonZeroU32::new(cells) {
            Some(n) if n.get() > 1 => match lim.check_key_n(&secret_id.to_string(), n) {
                Ok(r) => r.is_ok(),
                Err(_) => lim.check_key(&secret_id.to_string()).is_ok(),
            },
            _ => lim.check_key(&secret_id.to_string()).is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::RateLimited(action.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_replay_is_refused() {
        let g = Guard::new(&Rates {
            create_live_record: 100,
            stop_delete_live_record: 200,
            other: 20,
        });
        g.check_nonce("AK", 1, 100, 0).unwrap();
        let e = g.check_nonce("AK", 1, 100, 1).unwrap_err();
        assert_eq!(
            e.to_api("").code.as_str(),
            "AuthFailure.InvalidAuthorization"
        );
        g.check_nonce("AK", 2, 100, 1).unwrap();
        g.check_nonce("AK2", 1, 100, 1).unwrap();
        g.check_nonce("AK", 1, 100, NONCE_TTL_MS + 1).unwrap();
    }

    #[test]
    fn rate_limit_per_key_and_class() {
        let g = Guard::new(&Rates {
            create_live_record: 2,
            stop_delete_live_record: 200,
            other: 20,
        });
        let mut ok = 0;
        for _ in 0..10 {
            if g.check_rate("AK", RateClass::Create, "CreateLiveRecord")
                .is_ok()
            {
                ok += 1;
            }
        }
        assert!((2..=3).contains(&ok), "{ok}");
        let e = g
            .check_rate("AK", RateClass::Create, "CreateLiveRecord")
            .unwrap_err();
        assert_eq!(e.to_api("").code.as_str(), "RequestLimitExceeded");
        assert!(
            g.check_rate("AK2", RateClass::Create, "CreateLiveRecord")
                .is_ok(),
            "other key"
        );
        assert!(
            g.check_rate("AK", RateClass::StopDelete, "StopLiveRecord")
                .is_ok(),
            "other class"
        );
    }

    #[test]
    fn nodes_share_the_limit() {
        let g = Guard::new(&Rates {
            create_live_record: 10,
            stop_delete_live_record: 200,
            other: 1,
        });
        g.nodes().store(5, Ordering::Relaxed);
        let ok = (0..20)
            .filter(|_| {
                g.check_rate("AK", RateClass::Create, "CreateLiveRecord")
                    .is_ok()
            })
            .count();
        assert!((2..=3).contains(&ok), "a fifth of 10: {ok}");
        // More nodes than the limit: each node still passes one.
        assert!(g.check_rate("AK", RateClass::Other, "X").is_ok());
        assert!(g.check_rate("AK", RateClass::Other, "X").is_err());
    }
}
