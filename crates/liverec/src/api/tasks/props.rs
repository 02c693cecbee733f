//! Property tests of CreateRecordTask's Unix-second times: any value is
//! either the same instant in ms or refused naming the field, never an
//! overflow.

use proptest::prelude::*;
use tcapi::ErrorCode;

use super::*;

proptest! {
    #[test]
    fn seconds_are_ms_or_refused(s in any::<u64>()) {
        match seconds("StartTime", Some(s)) {
            Ok(Some(ms)) => prop_assert_eq!(i128::from(ms), i128::from(s) * 1000),
            Ok(None) => prop_assert!(false, "a value gave none"),
            Err(e) => {
                prop_assert!(i128::from(s) * 1000 > i128::from(i64::MAX));
                let e = e.to_api("");
                prop_assert_eq!(e.code, ErrorCode::InvalidParameterValue);
                prop_assert!(e.message.starts_with("StartTime "), "{}", e.message);
            }
        }
    }
}
