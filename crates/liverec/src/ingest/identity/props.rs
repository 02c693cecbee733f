//! Property tests of what a publisher says about itself: any publish name
//! is checked without a panic, an accepted one fits a storage key part, a
//! refusal names the field and quotes a bounded prefix; any tcUrl gives a
//! normalised host or none, and a host written with case, port or a
//! trailing dot comes back normalised.

use proptest::prelude::*;

use super::*;

proptest! {
    #[test]
    fn names_are_checked_without_panic(name in any::<String>()) {
        match check_name("StreamName", &name) {
            Ok(()) => {
                prop_assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES);
                prop_assert!(!name.chars().any(char::is_control));
                prop_assert!(!name.contains(['/', '\\']) && !name.contains(".."));
            }
            Err(e) => {
                prop_assert!(e.starts_with("StreamName "), "{}", e);
                prop_assert!(e.len() <= "StreamName ".len() + 64 * 6 + 40, "{}", e);
            }
        }
    }

    #[test]
    fn long_names_are_refused(name in "[a-z]{257,400}") {
        prop_assert!(check_name("AppName", &name).unwrap_err().ends_with("is longer than 256 bytes"));
    }

    #[test]
    fn split_query_never_loses_text(s in any::<String>()) {
        let (name, query) = split_query(&s);
        prop_assert!(!name.contains('?'));
        if s.contains('?') {
            prop_assert_eq!(format!("{name}?{query}"), s);
        } else {
            prop_assert_eq!((name, query), (s.as_str(), ""));
        }
    }

    #[test]
    fn any_tc_url_gives_a_normalised_host_or_none(url in any::<String>()) {
        if let Some(h) = tc_url_host(&url) {
            prop_assert!(!h.is_empty());
            prop_assert!(!h.chars().any(|c| c.is_ascii_uppercase()), "{:?}", h);
            prop_assert!(!h.contains('/'), "{:?}", h);
        }
    }

    #[test]
    fn hosts_are_normalised(
        host in "[A-Za-z0-9-]{1,20}(\\.[A-Za-z0-9-]{1,20}){0,3}",
        port in proptest::option::of(any::<u16>()),
        dot in any::<bool>(),
        user in proptest::option::of("[a-z]{1,5}:[a-z]{1,5}"),
        path in "(/[a-z]{0,8}){0,3}(\\?[a-z=&]{0,10})?",
    ) {
        let written = format!(
            "rtmp://{}{host}{}{}{path}",
            user.map(|u| format!("{u}@")).unwrap_or_default(),
            if dot { "." } else { "" },
            port.map(|p| format!(":{p}")).unwrap_or_default(),
        );
        prop_assert_eq!(tc_url_host(&written), Some(host.to_ascii_lowercase()), "{}", written);
    }
}

proptest! {
    #[test]
    fn publish_domain_is_the_host_normalised_once(host in "[A-Za-z0-9.:\\[\\] -]{0,30}") {
        let url = format!("rtmp://{host}/live");
        let once = normalize_domain(&host);
        let got = publish_domain(Some(&url), None);
        if once.is_empty() {
            prop_assert_eq!(got, "");
        } else {
            prop_assert_eq!(got, once);
        }
    }

    #[test]
    fn publish_domain_of_a_local_address(ip in any::<std::net::IpAddr>()) {
        let got = publish_domain(None, Some(ip));
        prop_assert!(!got.is_empty());
        let shown = match ip {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            std::net::IpAddr::V4(v4) => v4.to_string(),
        };
        prop_assert_eq!(got, shown);
    }
}

/// Regression: the publish path normalised the tcUrl host twice (in
/// `tc_url_host` and again in `StreamKey::new`), so `example.com..` lost
/// both dots and `a:1:2` both ports, unlike a DomainName given to the API;
/// and a publish without tcUrl on an IPv6 listener had the domain `:`.
#[test]
fn publish_domain_regressions() {
    assert_eq!(
        publish_domain(Some("rtmp://Example.com..:1935/live"), None),
        "example.com."
    );
    assert_eq!(publish_domain(Some("rtmp://a:1:2/live"), None), "a:1");
    assert_eq!(
        publish_domain(Some("rtmp://Push.Example.com.:1935/live"), None),
        "push.example.com"
    );
    let v6: std::net::IpAddr = "::1".parse().unwrap();
    assert_eq!(publish_domain(None, Some(v6)), "[::1]");
    let v4: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(publish_domain(None, Some(v4)), "127.0.0.1");
    assert_eq!(publish_domain(Some("rtmp:///live"), Some(v4)), "127.0.0.1");
    assert_eq!(publish_domain(None, None), "");
}
