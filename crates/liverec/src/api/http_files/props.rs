//! Property tests of the `Range` header parser: any header value and file
//! length give a range inside the file, "unsatisfiable" or the full body,
//! never a panic; a range it formats itself comes back unchanged.

use proptest::prelude::*;

use super::*;

proptest! {
    #[test]
    fn never_panics_and_stays_inside_the_file(value in any::<String>(), len in any::<u64>()) {
        if let Ok(Some((a, b))) = parse_range(Some(&value), len) {
            prop_assert!(a <= b && b < len, "{:?} of {} gave {}-{}", value, len, a, b);
        }
    }

    #[test]
    fn range_shaped_values(
        value in "[ ]?bytes=[ ]?[0-9]{0,21}[ ]?-[ ]?[0-9]{0,21}(,[0-9]-)?",
        len in prop_oneof![Just(0u64), 1u64..1000, Just(u64::MAX)],
    ) {
        match parse_range(Some(&value), len) {
            Ok(Some((a, b))) => prop_assert!(a <= b && b < len, "{:?} of {}", value, len),
            Ok(None) => {}
            Err(()) => {
                // Unsatisfiable only when nothing of the file can be served.
                let spec = value.trim().trim_start_matches("bytes=").trim();
                let (first, _) = spec.split_once('-').unwrap();
                let first = first.trim();
                if !first.is_empty() {
                    prop_assert!(first.parse::<u64>().unwrap() >= len, "{:?} of {}", value, len);
                }
            }
        }
    }

    #[test]
    fn ranges_round_trip(len in 1u64..=u64::MAX, a in any::<u64>(), b in any::<u64>()) {
        let (a, b) = (a % len, b % len);
        let (a, b) = (a.min(b), a.max(b));
        prop_assert_eq!(parse_range(Some(&format!("bytes={a}-{b}")), len), Ok(Some((a, b))));
        prop_assert_eq!(parse_range(Some(&format!("bytes={a}-")), len), Ok(Some((a, len - 1))));
        let n = b - a + 1;
        prop_assert_eq!(
            parse_range(Some(&format!("bytes=-{n}")), len),
            Ok(Some((len - n, len - 1)))
        );
    }
}
