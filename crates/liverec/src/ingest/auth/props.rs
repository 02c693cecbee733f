//! Property tests of push authentication's parsers: `txTime` in hex and
//! decimal round-trips, any publish query is checked without a panic, a
//! URL signed with the owner's key is admitted until `txTime + AuthDelta`
//! and refused after, and no refusal ever quotes the secret.

use proptest::prelude::*;

use super::*;

fn setting(master: &str, delta: i64) -> PushAuth {
    PushAuth {
        account_id: "a".into(),
        domain: "d.example".into(),
        enabled: true,
        master_key: master.into(),
        backup_key: String::new(),
        auth_delta_s: delta,
    }
}

proptest! {
    #[test]
    fn tx_time_never_panics_and_is_never_negative(s in any::<String>()) {
        if let Some(t) = parse_tx_time(&s) {
            prop_assert!(t >= 0, "{:?} gave {}", s, t);
        }
    }

    #[test]
    fn tx_time_hex_round_trips(t in 0i64..=0xFFFF_FFFF, upper in any::<bool>()) {
        let hex = if upper { format!("{t:08X}") } else { format!("{t:08x}") };
        prop_assert_eq!(parse_tx_time(&hex), Some(t));
        prop_assert_eq!(parse_tx_time(&format!("{t:X}")), Some(t));
    }

    #[test]
    fn tx_time_long_decimal_round_trips(t in 100_000_000i64..=i64::MAX) {
        prop_assert_eq!(parse_tx_time(&t.to_string()), Some(t));
    }

    #[test]
    fn any_query_is_checked_without_panic(
        (query, name) in any::<(String, String)>(),
        (now, delta) in any::<(i64, i64)>(),
    ) {
        let s = [setting("k", delta)];
        if let Err(f) = check_push_auth(&s, &name, &query, now) {
            // The failure is shown to the log and the publisher: no secret.
            prop_assert!(!f.to_string().contains("txSecret="), "{}", f);
        }
    }

    #[test]
    fn signed_urls_hold_until_expiry_plus_delta(
        key in "[0-9a-f]{1,32}",
        name in "[A-Za-z0-9_.-]{1,40}",
        expiry in 0i64..=0xFFFF_FFFF,
        delta in 0i64..=86_400,
        now in 0i64..=0x1_FFFF_FFFF,
        junk in "[a-z]{0,8}=[a-z0-9]{0,8}",
    ) {
        let tx_time = format!("{expiry:X}");
        let secret = tcapi::push_tx_secret(&key, &name, &tx_time);
        let query = format!("{junk}&txSecret={secret}&txTime={tx_time}");
        let s = [setting(&key, delta)];
        let got = check_push_auth(&s, &name, &query, now);
        if now <= expiry + delta {
            prop_assert_eq!(got, Ok(()));
        } else {
            prop_assert_eq!(got, Err(AuthFailure::Expired { expiry_s: expiry, delta_s: delta, now_s: now }));
        }
        // Another stream name, or another account's key, never passes.
        let other_name = format!("{name}x");
        prop_assert_eq!(
            check_push_auth(&s, &other_name, &query, expiry),
            Err(AuthFailure::WrongSecret)
        );
        let other_key = [setting(&format!("{key}0"), delta)];
        prop_assert_eq!(
            check_push_auth(&other_key, &name, &query, expiry),
            Err(AuthFailure::WrongSecret)
        );
        let refusal = Refusal::Auth {
            stream: StreamKey::new("d.example", "live", &name),
            failure: AuthFailure::WrongSecret,
        };
        prop_assert!(!refusal.to_string().contains(&secret));
    }
}
