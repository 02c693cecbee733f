//! Property tests of the stream actions' own parameters: UTC times
//! round-trip through their formatter and any text is parsed or refused
//! naming the field; paging never overflows and stays in its bounds.

use proptest::prelude::*;

use super::*;

/// Unix ms from 0000-01-01 to 9999-12-31 (RFC 3339's four-digit years).
const CALENDAR_MS: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

proptest! {
    /// Any text, and text shaped like a UTC time: parsed, or refused
    /// naming the field.
    #[test]
    fn utc_is_parsed_or_refused_naming_the_field(raw in prop_oneof![
        any::<String>(),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})",
    ]) {
        if let Err(e) = parse_utc("EndTime", &raw) {
            crate::api::params::check_refusal(e, "EndTime")?;
        }
    }

    #[test]
    fn utc_round_trips(ms in CALENDAR_MS) {
        let text = format_utc(ms);
        prop_assert_eq!(parse_utc("StartTime", &text).unwrap(), ms.div_euclid(1000) * 1000, "{}", text);
    }

    #[test]
    fn paging_stays_in_bounds(
        total in any::<u64>(),
        num in proptest::option::of(any::<u64>()),
        size in proptest::option::of(any::<u64>()),
    ) {
        match paging(num, size, 1, MAX_EVENT_PAGE) {
            Ok((n, s)) => {
                prop_assert!((1..=MAX_PAGE_NUM).contains(&n));
                prop_assert!((1..=MAX_EVENT_PAGE).contains(&s));
                let (offset, pages) = page(total, n, s);
                prop_assert_eq!(offset as u64, (n - 1) * s);
                prop_assert_eq!(pages, total.div_ceil(s));
            }
            Err(e) => {
                let m = e.to_api("").message;
                prop_assert!(m.starts_with("PageNum ") || m.starts_with("PageSize "), "{}", m);
            }
        }
    }
}
