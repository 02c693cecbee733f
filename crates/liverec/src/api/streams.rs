//! Stream actions (SPEC §3.3, `tencent-api.md` §1.9, §4.2): online list,
//! state, drop, publish event list, forbid/resume; the push-authentication
//! keys are in [`super::push_auth`].
//!
//! Accounts and domains (SPEC §2 "Ownership"): a stream belongs to the
//! owner of its domain (the account that claimed it, else the bootstrap
//! account). Only the owner lists, queries, drops, forbids and resumes it
//! and reads its publish sessions; another account naming the domain gets
//! `InternalError.ConfigNotExist` (the "configuration does not exist" code
//! of these actions' lists), and lists without a DomainName show only the
//! caller's streams: those whose domain it owned when they were published.
//!
//! Times on the wire are UTC `2019-01-04T12:00:00Z` (any RFC 3339 offset is
//! accepted on input).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AppState;
use super::domains::require_owner;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, flag_value, invalid_value, missing, required, trimmed};
use super::wire::{
    DescribeLiveStreamEventListRequest, DescribeLiveStreamEventListResponse,
    DescribeLiveStreamOnlineListRequest, DescribeLiveStreamOnlineListResponse,
    DescribeLiveStreamStateRequest, DescribeLiveStreamStateResponse, DropLiveStreamRequest,
    DropLiveStreamResponse, ForbidLiveStreamRequest, ForbidLiveStreamResponse, PublishTime,
    ResumeLiveStreamRequest, ResumeLiveStreamResponse, StreamEventInfo, StreamOnlineInfo, reply,
};
use crate::hub::StopReason;
use crate::store::{Forbid, SessionQuery, SessionRow};
use crate::task::{StreamKey, normalize_domain};

const DAY_MS: i64 = 86_400_000;
/// DescribeLiveStreamEventList: StartTime at most this far back ("2 months").
const EVENT_HISTORY_MS: i64 = 62 * DAY_MS;
/// DescribeLiveStreamEventList: EndTime − StartTime at most ("1 month").
const EVENT_SPAN_MS: i64 = 31 * DAY_MS;
/// ForbidLiveStream: ResumeTime at most this far ahead (Tencent: 90 days).
const MAX_FORBID_MS: i64 = 90 * DAY_MS;
/// ForbidLiveStream: Reason length limit (Tencent: 2048 bytes).
const MAX_REASON: usize = 2048;
/// Online list PageSize bound (Tencent: 300000).
const MAX_ONLINE_PAGE: u64 = 300_000;
/// Event list PageSize bound (Tencent: 100).
const MAX_EVENT_PAGE: u64 = 100;
/// PageNum bound, so that offsets stay far from overflow.
const MAX_PAGE_NUM: u64 = 1_000_000_000;
/// Unix ms as UTC `2019-01-04T12:00:00Z` (whole seconds).
fn format_utc(ms: i64) -> String {
    crate::clock::utc_string(ms).unwrap_or_default()
}

/// Parses an RFC 3339 time (`2019-01-04T12:00:00Z`) into Unix ms.
fn parse_utc(name: &str, raw: &str) -> Result<i64, Error> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            invalid_value(format!(
                "{name} must be a UTC time like 2019-01-04T12:00:00Z, got {raw:?}"
            ))
        })
}

/// (offset, TotalPage) of 1-based page `num` of `size` over `total` items.
fn page(total: u64, num: u64, size: u64) -> (usize, u64) {
    let offset = usize::try_from(num.saturating_sub(1).saturating_mul(size)).unwrap_or(usize::MAX);
    (offset, total.div_ceil(size.max(1)))
}

/// PageNum (default 1) and PageSize (default 10, `min..=max`).
fn paging(num: Option<u64>, size: Option<u64>, min: u64, max: u64) -> Result<(u64, u64), Error> {
    let num = num.unwrap_or(1);
    if !(1..=MAX_PAGE_NUM).contains(&num) {
        return Err(invalid_value(format!(
            "PageNum must be between 1 and {MAX_PAGE_NUM}, got {num}"
        )));
    }
    let size = size.unwrap_or(10);
    if !(min..=max).contains(&size) {
        return Err(invalid_value(format!(
            "PageSize must be between {min} and {max}, got {size}"
        )));
    }
    Ok((num, size))
}

/// An optional name filter; empty counts as absent.
fn opt_name(name: &str, value: Option<String>) -> Result<Option<String>, Error> {
    let v = trimmed(value);
    if let Some(v) = &v {
        check_name(name, v)?;
    }
    Ok(v)
}

/// The required DomainName (normalized), AppName and StreamName.
fn stream_key(
    domain: Option<String>,
    app: Option<String>,
    stream: Option<String>,
) -> Result<StreamKey, Error> {
    let mut names = Vec::with_capacity(3);
    for (name, value) in [
        ("DomainName", domain),
        ("AppName", app),
        ("StreamName", stream),
    ] {
        let v = required(name, value)?;
        check_name(name, &v)?;
        names.push(v);
    }
    Ok(StreamKey::new(&names[0], &names[1], &names[2]))
}

/// The required stream names, refused unless the caller owns the domain.
async fn owned_key(
    state: &AppState,
    call: &Call,
    domain: Option<String>,
    app: Option<String>,
    stream: Option<String>,
) -> Result<StreamKey, Error> {
    let key = stream_key(domain, app, stream)?;
    require_owner(
        state,
        &call.account_id,
        &key.domain,
        Error::StreamDomainNotOwned,
    )
    .await?;
    Ok(key)
}

/// An optional DomainName filter (normalized), refused unless the caller
/// owns the domain.
async fn owned_filter(
    state: &AppState,
    call: &Call,
    domain: Option<String>,
) -> Result<Option<String>, Error> {
    let domain = opt_name("DomainName", domain)?.map(|d| normalize_domain(&d));
    if let Some(d) = &domain {
        require_owner(state, &call.account_id, d, Error::StreamDomainNotOwned).await?;
    }
    Ok(domain)
}

/// DescribeLiveStreamOnlineList.
pub(super) async fn describe_online_list(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveStreamOnlineListRequest::from_params(&call.req.params)?;
    let domain = owned_filter(state, call, r.domain_name).await?;
    let app = opt_name("AppName", r.app_name)?;
    let stream = opt_name("StreamName", r.stream_name)?;
    // Tencent documents PageSize 10–300000; smaller pages are honoured too.
    let (num, size) = paging(r.page_num, r.page_size, 1, MAX_ONLINE_PAGE)?;
    let live: Vec<_> = state
        .cluster
        .live(&call.account_id)
        .await?
        .into_iter()
        .filter(|s| domain.as_ref().is_none_or(|d| *d == s.key.domain))
        .filter(|s| app.as_ref().is_none_or(|a| *a == s.key.app))
        .filter(|s| stream.as_ref().is_none_or(|n| *n == s.key.stream))
        .collect();
    let (offset, total_page) = page(live.len() as u64, num, size);
    let online_info = live
        .iter()
        .skip(offset)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|s| StreamOnlineInfo {
            stream_name: s.key.stream.clone(),
            app_name: s.key.app.clone(),
            domain_name: s.key.domain.clone(),
            publish_time_list: vec![PublishTime {
                publish_time: format_utc(s.started_ms),
            }],
            push_to_delay: 0,
        })
        .collect();
    reply(&DescribeLiveStreamOnlineListResponse {
        total_num: live.len(),
        total_page,
        page_num: num,
        page_size: size,
        online_info,
    })
}

/// DescribeLiveStreamState: `forbid` while a forbid is in force, else
/// `active` while published, else `inactive`.
pub(super) async fn describe_state(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveStreamStateRequest::from_params(&call.req.params)?;
    let key = owned_key(state, call, r.domain_name, r.app_name, r.stream_name).await?;
    let forbid = state
        .store
        .active_forbid(&key.domain, &key.app, &key.stream, state.clock.now_ms())
        .await?;
    let s = if forbid.is_some() {
        "forbid"
    } else if state.cluster.is_live(&key).await? {
        "active"
    } else {
        "inactive"
    };
    reply(&DescribeLiveStreamStateResponse { stream_state: s })
}

/// DropLiveStream: disconnects the publisher; its recordings finalize as on
/// any disconnect. Succeeds when the stream is not live.
pub(super) async fn drop_stream(state: &AppState, call: &Call) -> ActionResult {
    let r = DropLiveStreamRequest::from_params(&call.req.params)?;
    let key = owned_key(state, call, r.domain_name, r.app_name, r.stream_name).await?;
    if state.cluster.disconnect(&key, StopReason::Dropped).await {
        tracing::info!(stream = %key, account = %call.account_id, "stream dropped");
    } else {
        tracing::info!(stream = %key, "DropLiveStream: stream is not live");
    }
    reply(&DropLiveStreamResponse::default())
}

/// ForbidLiveStream: refuses publishes until ResumeLiveStream or
/// ResumeTime, and drops a current publisher.
pub(super) async fn forbid(state: &AppState, call: &Call) -> ActionResult {
    let r = ForbidLiveStreamRequest::from_params(&call.req.params)?;
    let key = owned_key(state, call, r.domain_name, r.app_name, r.stream_name).await?;
    let now = state.clock.now_ms();
    let resume_ms = match r.resume_time.filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(raw) => {
            let t = parse_utc("ResumeTime", &raw)?;
            if t <= now {
                return Err(invalid_value("ResumeTime must be in the future"));
            }
            if t > now + MAX_FORBID_MS {
                return Err(invalid_value("ResumeTime must be at most 90 days from now"));
            }
            Some(t)
        }
    };
    let reason = r.reason.unwrap_or_default();
    if reason.len() > MAX_REASON {
        return Err(invalid_value(format!(
            "Reason must be at most {MAX_REASON} bytes"
        )));
    }
    state
        .store
        .forbid_stream(&Forbid {
            domain: key.domain.clone(),
            app: key.app.clone(),
            stream: key.stream.clone(),
            account_id: call.account_id.clone(),
            resume_ms,
            reason: reason.clone(),
            created_ms: now,
        })
        .await?;
    let until = resume_ms.map_or_else(|| "ResumeLiveStream".to_string(), format_utc);
    tracing::info!(stream = %key, account = %call.account_id, %until, %reason, "stream forbidden");
    if state.cluster.disconnect(&key, StopReason::Forbidden).await {
        tracing::info!(stream = %key, "forbidden stream dropped");
    }
    reply(&ForbidLiveStreamResponse::default())
}

/// ResumeLiveStream: lifts a forbid (success when there is none).
pub(super) async fn resume(state: &AppState, call: &Call) -> ActionResult {
    let r = ResumeLiveStreamRequest::from_params(&call.req.params)?;
    let key = owned_key(state, call, r.domain_name, r.app_name, r.stream_name).await?;
    let lifted = state
        .store
        .resume_stream(&key.domain, &key.app, &key.stream)
        .await?;
    tracing::info!(stream = %key, account = %call.account_id, lifted, "stream resumed");
    reply(&ResumeLiveStreamResponse::default())
}

/// The host part of `ip:port` (`[v6]:port` too).
fn client_ip(addr: &str) -> String {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => a.ip().to_string(),
        Err(_) => addr.to_string(),
    }
}

fn event_info(r: &SessionRow, now: i64) -> StreamEventInfo {
    let s = &r.session;
    let end = r.end_ms.unwrap_or(now);
    StreamEventInfo {
        app_name: s.app.clone(),
        domain_name: s.domain.clone(),
        stream_name: s.stream.clone(),
        stream_start_time: format_utc(s.start_ms),
        stream_end_time: r.end_ms.map(format_utc).unwrap_or_default(),
        stop_reason: r.stop_reason.clone(),
        // Seconds so far while live.
        duration: (end - s.start_ms).max(0).saturating_add(500) / 1000,
        client_ip: client_ip(&s.client_addr),
        resolution: r.resolution.clone(),
    }
}

/// DescribeLiveStreamEventList: publish sessions overlapping the window.
pub(super) async fn describe_event_list(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveStreamEventListRequest::from_params(&call.req.params)?;
    let time = |name: &str, value: Option<String>| -> Result<i64, Error> {
        let raw = value.filter(|s| !s.trim().is_empty());
        parse_utc(name, &raw.ok_or_else(|| missing(name))?)
    };
    let (from, to) = (
        time("StartTime", r.start_time)?,
        time("EndTime", r.end_time)?,
    );
    let now = state.clock.now_ms();
    if to <= from {
        return Err(invalid_value("EndTime must be later than StartTime"));
    }
    if to - from > EVENT_SPAN_MS {
        return Err(invalid_value(
            "EndTime must be at most 31 days after StartTime",
        ));
    }
    if from < now - EVENT_HISTORY_MS {
        return Err(invalid_value("StartTime must be within the last 2 months"));
    }
    let (num, size) = paging(r.page_num, r.page_size, 1, MAX_EVENT_PAGE)?;
    let (offset, _) = page(0, num, size);
    let q = SessionQuery {
        from_ms: from,
        to_ms: to,
        account_id: Some(call.account_id.clone()),
        domain: owned_filter(state, call, r.domain_name).await?,
        app: opt_name("AppName", r.app_name)?,
        stream: opt_name("StreamName", r.stream_name)?,
        strict: flag_value("IsStrict", r.is_strict)?.unwrap_or(false),
        ended_only: flag_value("IsFilter", r.is_filter)?.unwrap_or(false),
        ascending: flag_value("IsAsc", r.is_asc)?.unwrap_or(false),
        offset: i64::try_from(offset).unwrap_or(i64::MAX),
        limit: i64::try_from(size).unwrap_or(100),
    };
    let (total, rows) = state.store.list_sessions(&q).await?;
    let total = u64::try_from(total).unwrap_or(0);
    reply(&DescribeLiveStreamEventListResponse {
        event_list: rows.iter().map(|r| event_info(r, now)).collect(),
        page_num: num,
        page_size: size,
        total_num: total,
        total_page: page(total, num, size).1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewSession;
    use serde_json::{Value, json};
    use tcapi::Params;

    #[test]
    fn utc_times() {
        let ms = parse_utc("StartTime", "2019-01-04T12:00:00Z").unwrap();
        assert_eq!(ms, 1_546_603_200_000);
        assert_eq!(format_utc(ms), "2019-01-04T12:00:00Z");
        assert_eq!(format_utc(ms + 999), "2019-01-04T12:00:00Z");
        assert_eq!(
            parse_utc("StartTime", "2019-01-04T20:00:00+08:00").unwrap(),
            ms,
            "any RFC 3339 offset"
        );
        assert_eq!(
            parse_utc("StartTime", "2019-01-04T12:00:00.250Z").unwrap(),
            ms + 250
        );
        for bad in [
            "2019-01-04 12:00:00",
            "2019-01-04",
            "",
            "2019-13-04T12:00:00Z",
        ] {
            let e = parse_utc("EndTime", bad).unwrap_err().to_api("");
            assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue);
            assert!(e.message.contains("EndTime"), "{}", e.message);
        }
        assert_eq!(format_utc(1_530_298_800_000), "2018-06-29T19:00:00Z");
    }

    #[test]
    fn paging_arithmetic() {
        assert_eq!(page(2, 1, 1), (0, 2));
        assert_eq!(page(2, 2, 1), (1, 2));
        assert_eq!(page(0, 1, 10), (0, 0));
        assert_eq!(page(10, 1, 10), (0, 1));
        assert_eq!(page(11, 2, 10), (10, 2));
        assert_eq!(page(5, 3, 100), (200, 1));
        assert_eq!(page(1, MAX_PAGE_NUM, MAX_ONLINE_PAGE).1, 1);
        let paged = |v: Value| {
            let p = Params::from_map(v.as_object().unwrap().clone());
            let r = DescribeLiveStreamEventListRequest::from_params(&p)?;
            paging(r.page_num, r.page_size, 1, 100)
        };
        assert_eq!(paged(json!({})).unwrap(), (1, 10));
        assert_eq!(
            paged(json!({"PageNum": "3", "PageSize": 100})).unwrap(),
            (3, 100)
        );
        let e = paged(json!({"PageSize": 101})).unwrap_err().to_api("");
        assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue);
        assert!(e.message.contains("PageSize"));
        let e = paged(json!({"PageNum": 0})).unwrap_err().to_api("");
        assert!(e.message.contains("PageNum"));
        let e = paged(json!({"PageNum": "x"})).unwrap_err().to_api("");
        assert_eq!(e.code, tcapi::ErrorCode::InvalidParameter);
    }

    #[test]
    fn events_render() {
        let row = SessionRow {
            session: NewSession {
                id: "s".into(),
                domain: "d.com".into(),
                app: "live".into(),
                stream: "x".into(),
                client_addr: "[::1]:5000".into(),
                stream_param: String::new(),
                start_ms: 1_546_603_200_000,
                account_id: "a".into(),
            },
            end_ms: Some(1_546_603_210_600),
            stop_reason: "dropped".into(),
            resolution: "640x360".into(),
        };
        let v = serde_json::to_value(event_info(&row, 0)).unwrap();
        assert_eq!(v["StreamEndTime"], "2019-01-04T12:00:10Z");
        assert_eq!(v["Duration"], 11);
        assert_eq!(v["ClientIp"], "::1");
        assert_eq!(v["StopReason"], "dropped");
        let live = SessionRow {
            end_ms: None,
            stop_reason: String::new(),
            ..row
        };
        let v = serde_json::to_value(event_info(&live, 1_546_603_203_000)).unwrap();
        assert_eq!(
            (v["StreamEndTime"].as_str(), v["Duration"].as_i64()),
            (Some(""), Some(3))
        );
        assert_eq!(client_ip("10.1.2.3:1935"), "10.1.2.3");
    }
}

#[cfg(test)]
mod props;
