//! DescribeCallbackDeliveries (liverec's own, SPEC §5 "Deliveries are
//! visible through a liverec action"): the callback outbox of the caller's
//! account, newest first, filtered by EventType, StreamName and Status,
//! paged by PageNum/PageSize. Reads only; the worker owns the rows.

use super::super::AppState;
use super::super::endpoint::{ActionResult, Call};
use super::super::error::Error;
use super::super::params::{check_name, invalid_value, trimmed};
use super::super::wire::{
    CallbackDelivery, DescribeCallbackDeliveriesRequest, DescribeCallbackDeliveriesResponse, reply,
};
use crate::store::{Delivery, DeliveryFilter, DeliveryStatus};

/// PageSize bounds (default 20).
const MAX_PAGE_SIZE: u64 = 100;
/// PageNum bound, so that offsets stay far from overflow.
const MAX_PAGE_NUM: u64 = 1_000_000;
/// The event types liverec sends.
const EVENT_TYPES: [i64; 5] = [0, 1, 100, 332, 341];

fn utc(ms: i64) -> String {
    crate::clock::utc_string(ms).unwrap_or_default()
}

fn info(d: &Delivery) -> CallbackDelivery {
    let pending = d.status == DeliveryStatus::Pending;
    CallbackDelivery {
        event_id: d.event_id.clone(),
        event_type: d.event_type,
        domain_name: d.domain.clone(),
        app_name: d.app.clone(),
        stream_name: d.stream.clone(),
        url: d.url.clone(),
        status: d.status.as_str(),
        attempts: d.attempts,
        last_http_status: d.last_http_status,
        last_error: d.last_error.clone(),
        next_attempt_time: if pending {
            utc(d.next_attempt_ms)
        } else {
            String::new()
        },
        create_time: utc(d.created_ms),
        done_time: d.done_ms.map(utc).unwrap_or_default(),
        next_attempt_time_ms: if pending { d.next_attempt_ms } else { 0 },
        create_time_ms: d.created_ms,
    }
}

/// The request's filters and paging, checked.
fn filter(r: DescribeCallbackDeliveriesRequest) -> Result<(DeliveryFilter, u64, u64), Error> {
    if let Some(t) = r.event_type
        && !EVENT_TYPES.contains(&t)
    {
        return Err(invalid_value(format!(
            "EventType must be one of 0, 1, 100, 332, 341, got {t}"
        )));
    }
    let stream = trimmed(r.stream_name);
    if let Some(s) = &stream {
        check_name("StreamName", s)?;
    }
    let status = match trimmed(r.status) {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(&s).ok_or_else(|| {
            invalid_value(format!(
                "Status must be pending, delivered or failed, got {s:?}"
            ))
        })?),
    };
    let num = r.page_num.unwrap_or(1);
    if !(1..=MAX_PAGE_NUM).contains(&num) {
        return Err(invalid_value(format!(
            "PageNum must be between 1 and {MAX_PAGE_NUM}, got {num}"
        )));
    }
    let size = r.page_size.unwrap_or(20);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(invalid_value(format!(
            "PageSize must be between 1 and {MAX_PAGE_SIZE}, got {size}"
        )));
    }
    let f = DeliveryFilter {
        event_type: r.event_type,
        stream,
        status,
        offset: i64::try_from((num - 1) * size).unwrap_or(i64::MAX),
        limit: i64::try_from(size).unwrap_or(20),
    };
    Ok((f, num, size))
}

/// DescribeCallbackDeliveries.
pub(in crate::api) async fn describe_deliveries(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeCallbackDeliveriesRequest::from_params(&call.req.params)?;
    let (f, num, size) = filter(r)?;
    let (total, rows) = state.store.list_deliveries(&call.account_id, &f).await?;
    let pages = u64::try_from(total).unwrap_or(0).div_ceil(size);
    reply(&DescribeCallbackDeliveriesResponse {
        total_num: total,
        total_page: i64::try_from(pages).unwrap_or(i64::MAX),
        page_num: num,
        page_size: size,
        delivery_list: rows.iter().map(info).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: serde_json::Value) -> DescribeCallbackDeliveriesRequest {
        let p = tcapi::Params::from_map(v.as_object().unwrap().clone());
        DescribeCallbackDeliveriesRequest::from_params(&p).unwrap()
    }

    #[test]
    fn filters_and_paging_are_checked() {
        let (f, num, size) = filter(req(serde_json::json!({
            "EventType": 100, "StreamName": " cam ", "Status": "failed", "PageNum": 3, "PageSize": 10
        })))
        .unwrap();
        assert_eq!((num, size, f.offset, f.limit), (3, 10, 20, 10));
        assert_eq!(
            (f.event_type, f.stream.as_deref(), f.status),
            (Some(100), Some("cam"), Some(DeliveryStatus::Failed))
        );
        let (f, num, size) = filter(req(serde_json::json!({}))).unwrap();
        assert_eq!(
            (num, size, f.offset, f.limit, f.status),
            (1, 20, 0, 20, None)
        );
        for (bad, field) in [
            (serde_json::json!({"EventType": 7}), "EventType"),
            (serde_json::json!({"Status": "lost"}), "Status"),
            (serde_json::json!({"PageNum": 0}), "PageNum"),
            (serde_json::json!({"PageSize": 101}), "PageSize"),
        ] {
            let e = filter(req(bad)).unwrap_err().to_api("");
            assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue, "{field}");
            assert!(e.message.starts_with(field), "{}", e.message);
        }
    }
}
