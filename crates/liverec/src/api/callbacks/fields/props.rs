//! Property tests of the callback field checks: any text is either a
//! stored value within the documented bounds or `InvalidParameterValue`
//! naming the field, never a panic; well-formed URLs are kept as given.

use proptest::prelude::*;

use super::*;

proptest! {
    #[test]
    fn any_url_text_is_kept_within_bounds_or_refused_naming_the_field(raw in any::<String>()) {
        match notify_url("RecordNotifyUrl", &raw) {
            Ok(v) if v.is_empty() => prop_assert!(raw.trim().is_empty()),
            Ok(v) => {
                prop_assert!(v.len() <= MAX_URL_BYTES);
                prop_assert!(!v.chars().any(|c| c.is_control() || c == ' '));
                let lower = v.to_ascii_lowercase();
                prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"), "{:?}", v);
            }
            Err(Error::InvalidValue(m)) => prop_assert!(m.starts_with("RecordNotifyUrl"), "{}", m),
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn url_shaped_text(
        raw in "(https?|HTTP|ftp)://[a-z0-9.\\-]{0,20}(:[0-9]{1,6})?(/[a-zA-Z0-9_%?&=.\\-]{0,30}){0,3}",
    ) {
        match notify_url("StreamBeginNotifyUrl", &raw) {
            Ok(v) => prop_assert_eq!(v, raw),
            Err(Error::InvalidValue(m)) => prop_assert!(m.starts_with("StreamBeginNotifyUrl"), "{}", m),
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn keys_and_levels(key in any::<String>(), levels_in in proptest::collection::vec(any::<String>(), 0..6)) {
        match callback_key(&key) {
            Ok(k) => prop_assert!(k == key && k.len() <= MAX_KEY_BYTES),
            Err(Error::InvalidValue(m)) => prop_assert!(m.contains("CallbackKey")),
            Err(other) => prop_assert!(false, "{:?}", other),
        }
        match levels(&levels_in) {
            Ok(v) => {
                prop_assert!(v.len() <= LEVELS.len());
                prop_assert!(v.iter().all(|l| LEVELS.contains(&l.as_str())));
            }
            Err(Error::InvalidValue(m)) => prop_assert!(m.contains("RecordExceptionLevels")),
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }
}
