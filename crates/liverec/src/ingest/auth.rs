//! Publish admission beyond the hub's one-publisher rule: the owner of the
//! stream's domain (SPEC §2 "Ownership"), forbidden streams
//! (ForbidLiveStream) and push authentication (`tencent-api.md` §4.2).
//!
//! The owner is the account that claimed the domain, else the bootstrap
//! account; with `strict_domains` a publish to a domain nobody claimed is
//! refused. When the owner enabled push authentication for the domain, a
//! publish must carry `txSecret` and `txTime` in its query, with
//! `txSecret == md5(KEY + StreamName + txTime)` for the owner's master or
//! backup key and `now <= txTime + AuthDelta`; no other account's keys count.
//! `txTime` is hashed exactly as written; it is read as hex Unix seconds
//! (Tencent's format, `5C271099`), or as decimal when it is a run of more
//! than 8 decimal digits (a decimal Unix time after 1973; an 8-character hex
//! time covers dates up to 2106).
//!
//! Owns the decision and the wording of refusals; secrets never appear in
//! them. Must not touch the RTMP session: `session` sends the refusal.

use std::fmt;

use rtmp::StatusCode;

use crate::store::{BOOTSTRAP_ACCOUNT, PushAuth, Store, StoreError};
use crate::task::StreamKey;

/// Why a publish was not admitted.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The stream is forbidden; `until` is the ResumeTime (ms), if any.
    Forbidden {
        stream: StreamKey,
        until: Option<i64>,
    },
    /// Push authentication failed.
    Auth {
        stream: StreamKey,
        failure: AuthFailure,
    },
    /// Strict domains: nobody claimed the stream's domain.
    Unclaimed { stream: StreamKey },
    /// The settings could not be read; refusing is the safe side.
    Store(StoreError),
}

impl Refusal {
    /// The `onStatus` code sent to the publisher.
    pub(super) fn code(&self) -> StatusCode {
        match self {
            Refusal::Forbidden { .. } | Refusal::Unclaimed { .. } => StatusCode::PublishRejected,
            Refusal::Auth { .. } => StatusCode::PublishUnauthorized,
            Refusal::Store(_) => StatusCode::PublishFailed,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Forbidden {
                stream,
                until: None,
            } => write!(f, "stream {stream} is forbidden until ResumeLiveStream"),
            Refusal::Forbidden {
                stream,
                until: Some(ms),
            } => write!(f, "stream {stream} is forbidden until {}", utc(*ms)),
            Refusal::Auth { stream, failure } => {
                write!(f, "push authentication failed for {stream}: {failure}")
            }
            Refusal::Unclaimed { stream } => write!(
                f,
                "domain {} of stream {stream} is not a push domain of any account (strict_domains)",
                stream.domain
            ),
            Refusal::Store(e) => write!(f, "cannot check publish permission: {e}"),
        }
    }
}

/// `2018-12-29T06:13:45Z`, or the raw ms if out of range.
fn utc(ms: i64) -> String {
    crate::clock::utc_string(ms).unwrap_or_else(|| format!("Unix ms {ms}"))
}

/// Why push authentication failed (no secret is ever part of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AuthFailure {
    /// `txSecret` or `txTime` is absent.
    Missing,
    /// `txTime` is neither hex nor decimal Unix seconds.
    BadTxTime,
    /// No key of any account with push auth on the domain gives `txSecret`.
    WrongSecret,
    /// The secret is right but the URL expired at `expiry_s + delta_s`.
    Expired {
        /// txTime, Unix s.
        expiry_s: i64,
        /// AuthDelta, s.
        delta_s: i64,
        /// Now, Unix s.
        now_s: i64,
    },
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::Missing => f.write_str("txSecret or txTime is missing"),
            AuthFailure::BadTxTime => f.write_str("txTime is not a hex Unix time"),
            AuthFailure::WrongSecret => f.write_str("wrong txSecret"),
            AuthFailure::Expired {
                expiry_s,
                delta_s,
                now_s,
            } => write!(
                f,
                "expired: txTime {expiry_s} + AuthDelta {delta_s} s is before now ({now_s})"
            ),
        }
    }
}

/// Decides whether the publish of `stream` with URL query `query` may go
/// on; the account that owns the stream when it does. `strict`: a domain
/// nobody claimed is refused instead of belonging to the bootstrap account.
pub(super) async fn admit(
    store: &Store,
    stream: &StreamKey,
    query: &str,
    now_ms: i64,
    strict: bool,
) -> Result<String, Refusal> {
    let owner = match store.domain(&stream.domain).await.map_err(Refusal::Store)? {
        Some(d) => d.account_id,
        None if strict => {
            return Err(Refusal::Unclaimed {
                stream: stream.clone(),
            });
        }
        None => BOOTSTRAP_ACCOUNT.to_string(),
    };
    let forbid = store
        .active_forbid(&stream.domain, &stream.app, &stream.stream, now_ms)
        .await
        .map_err(Refusal::Store)?;
    if let Some(f) = forbid {
        return Err(Refusal::Forbidden {
            stream: stream.clone(),
            until: f.resume_ms,
        });
    }
    let settings: Vec<PushAuth> = store
        .push_auth(&owner, &stream.domain)
        .await
        .map_err(Refusal::Store)?
        .into_iter()
        .filter(|a| a.enabled)
        .collect();
    check_push_auth(&settings, &stream.stream, query, now_ms.div_euclid(1000)).map_err(
        |failure| Refusal::Auth {
            stream: stream.clone(),
            failure,
        },
    )?;
    Ok(owner)
}

/// Checks again, once the publisher holds the stream in the hub, that no
/// forbid arrived since [`admit`]: ForbidLiveStream writes the forbid and
/// then drops the stream's publisher, and would miss one claiming the
/// stream in between. A database error here admits (`admit` just read it).
pub(super) async fn recheck_forbid(
    store: &Store,
    stream: &StreamKey,
    now_ms: i64,
) -> Result<(), Refusal> {
    match store
        .active_forbid(&stream.domain, &stream.app, &stream.stream, now_ms)
        .await
    {
        Ok(Some(f)) => Err(Refusal::Forbidden {
            stream: stream.clone(),
            until: f.resume_ms,
        }),
        Ok(None) => Ok(()),
        Err(e) => {
            tracing::warn!(stream = %stream, error = %e, "re-checking a forbid failed; publish admitted");
            Ok(())
        }
    }
}

/// Checks `txSecret`/`txTime` of `query` against enabled settings (the
/// owner's, for the domain); no settings means no authentication.
pub(super) fn check_push_auth(
    settings: &[PushAuth],
    stream_name: &str,
    query: &str,
    now_s: i64,
) -> Result<(), AuthFailure> {
    if settings.is_empty() {
        return Ok(());
    }
    let mut secret = None;
    let mut tx_time = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "txSecret" if secret.is_none() => secret = Some(v.into_owned()),
            "txTime" if tx_time.is_none() => tx_time = Some(v.into_owned()),
            _ => {}
        }
    }
    let (Some(secret), Some(tx_time)) = (secret, tx_time) else {
        return Err(AuthFailure::Missing);
    };
    if secret.is_empty() || tx_time.is_empty() {
        return Err(AuthFailure::Missing);
    }
    let expiry_s = parse_tx_time(&tx_time).ok_or(AuthFailure::BadTxTime)?;
    let given = secret.to_ascii_lowercase();
    let mut expired = None;
    for s in settings {
        let matches = [&s.master_key, &s.backup_key]
            .into_iter()
            .filter(|k| !k.is_empty())
            .any(|k| {
                constant_time_eq(
                    tcapi::push_tx_secret(k, stream_name, &tx_time).as_bytes(),
                    given.as_bytes(),
                )
            });
        if !matches {
            continue;
        }
        if now_s <= expiry_s.saturating_add(s.auth_delta_s) {
            return Ok(());
        }
        expired = Some(AuthFailure::Expired {
            expiry_s,
            delta_s: s.auth_delta_s,
            now_s,
        });
    }
    Err(expired.unwrap_or(AuthFailure::WrongSecret))
}

/// Hex Unix seconds (at most 16 hex digits), or decimal when it is more
/// than 8 decimal digits.
fn parse_tx_time(s: &str) -> Option<i64> {
    if s.len() > 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    if s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16)
        .ok()
        .and_then(|v| i64::try_from(v).ok())
}

/// Byte equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "e12c46f2612d5106e2034781ab261ca3";

    fn settings(master: &str, backup: &str, delta: i64) -> PushAuth {
        PushAuth {
            account_id: "a".into(),
            domain: "livepush.tcloud.com".into(),
            enabled: true,
            master_key: master.into(),
            backup_key: backup.into(),
            auth_delta_s: delta,
        }
    }

    #[test]
    fn vector_p1_is_accepted_until_expiry_plus_delta() {
        let s = [settings(KEY, "", 0)];
        // rtmp://livepush.tcloud.com/live/test?txSecret=…&txTime=5C271099
        let q = "txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099";
        let expiry = 1_546_064_025;
        assert_eq!(check_push_auth(&s, "test", q, expiry), Ok(()));
        assert_eq!(check_push_auth(&s, "test", q, expiry - 1000), Ok(()));
        assert_eq!(
            check_push_auth(&s, "test", q, expiry + 1),
            Err(AuthFailure::Expired {
                expiry_s: expiry,
                delta_s: 0,
                now_s: expiry + 1
            })
        );
        let grace = [settings(KEY, "", 60)];
        assert_eq!(check_push_auth(&grace, "test", q, expiry + 60), Ok(()));
        assert!(matches!(
            check_push_auth(&grace, "test", q, expiry + 61),
            Err(AuthFailure::Expired { .. })
        ));
        // Upper-case hex in txSecret is the same secret.
        let upper = "txSecret=F85A2AB363FE4DEAFFEF9754D79DA6FE&txTime=5C271099";
        assert_eq!(check_push_auth(&s, "test", upper, expiry), Ok(()));
    }

    #[test]
    fn tx_time_is_hashed_as_written() {
        let s = [settings(KEY, "", 0)];
        // The P1 secret with txTime written in lower case hashes differently.
        let q = "txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5c271099";
        assert_eq!(
            check_push_auth(&s, "test", q, 0),
            Err(AuthFailure::WrongSecret)
        );
        let q = "txSecret=9603387445825a481e6b7496aced5746&txTime=5c271099";
        assert_eq!(check_push_auth(&s, "test", q, 0), Ok(()));
    }

    #[test]
    fn wrong_missing_and_malformed() {
        let s = [settings(KEY, "", 0)];
        let good = "txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099";
        assert_eq!(
            check_push_auth(&s, "other", good, 0),
            Err(AuthFailure::WrongSecret),
            "the stream name is part of the hash"
        );
        assert_eq!(
            check_push_auth(&s, "test", "", 0),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            check_push_auth(&s, "test", "txTime=5C271099", 0),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            check_push_auth(&s, "test", "txSecret=&txTime=5C271099", 0),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            check_push_auth(&s, "test", "txSecret=x&txTime=soon", 0),
            Err(AuthFailure::BadTxTime)
        );
        // No settings: nothing is required.
        assert_eq!(check_push_auth(&[], "test", "", 0), Ok(()));
        // Failures never quote the secret.
        let e = check_push_auth(&s, "other", good, 0).unwrap_err();
        assert!(!e.to_string().contains("f85a2ab3"));
    }

    #[test]
    fn backup_key_and_other_accounts_count() {
        let other = "b0b0b0";
        let t = "5C271099";
        let q = format!(
            "a=1&txSecret={}&txTime={t}",
            tcapi::push_tx_secret(other, "test", t)
        );
        let backup = [settings("m", other, 0)];
        assert_eq!(check_push_auth(&backup, "test", &q, 0), Ok(()));
        // Either account's keys admit; each with its own AuthDelta.
        let two = [settings("m", "", 0), settings(other, "", 10)];
        assert_eq!(check_push_auth(&two, "test", &q, 1_546_064_035), Ok(()));
        assert!(matches!(
            check_push_auth(&two, "test", &q, 1_546_064_036),
            Err(AuthFailure::Expired { delta_s: 10, .. })
        ));
        // Empty keys never match an md5 of just the name and time.
        let empty = [settings("", "", 0)];
        let q = format!(
            "txSecret={}&txTime={t}",
            tcapi::push_tx_secret("", "test", t)
        );
        assert_eq!(
            check_push_auth(&empty, "test", &q, 0),
            Err(AuthFailure::WrongSecret)
        );
    }

    #[test]
    fn tx_time_formats() {
        assert_eq!(parse_tx_time("5C271099"), Some(1_546_064_025));
        assert_eq!(parse_tx_time("5c271099"), Some(1_546_064_025));
        assert_eq!(parse_tx_time("1546064025"), Some(1_546_064_025));
        assert_eq!(parse_tx_time("10"), Some(16), "short digit runs are hex");
        assert_eq!(parse_tx_time("FFFFFFFFFFFFFFFF"), None, "beyond i64");
        assert_eq!(parse_tx_time("12345678901234567890"), None);
        assert_eq!(parse_tx_time("0x10"), None);
        assert_eq!(parse_tx_time("-5"), None);
        assert_eq!(parse_tx_time(""), None);
    }

    #[test]
    fn refusals_read_well() {
        let k = StreamKey::new("D.com", "live", "s");
        let r = Refusal::Auth {
            stream: k.clone(),
            failure: AuthFailure::WrongSecret,
        };
        assert_eq!(r.code(), StatusCode::PublishUnauthorized);
        assert!(r.to_string().contains("wrong txSecret"), "{r}");
        let r = Refusal::Forbidden {
            stream: k,
            until: Some(1_546_064_025_000),
        };
        assert!(r.to_string().contains("2018-12-29T06:13:45Z"), "{r}");
    }
}

#[cfg(test)]
mod props;
