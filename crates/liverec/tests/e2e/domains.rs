//! Push domains and ownership (SPEC §2): AddLiveDomain / DescribeLiveDomains
//! / DescribeLiveDomain / DeleteLiveDomain through the official Python SDK,
//! `liverec domains add|list|remove`, and the stream, push-authentication
//! and recording actions scoped to the owner of a stream's domain.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::*;

/// Runs `liverec domains ...` on the server's data directory; (success,
/// stdout + stderr).
fn domains_cli(s: &Server, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_liverec"))
        .arg("domains")
        .args(args)
        .env_clear()
        .env("LIVEREC_DATA_DIR", s.data_dir())
        .output()
        .expect("liverec domains");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The account id `liverec keys list` shows for `secret_id`.
fn account_of(s: &Server, secret_id: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_liverec"))
        .args(["keys", "list"])
        .env_clear()
        .env("LIVEREC_DATA_DIR", s.data_dir())
        .output()
        .expect("liverec keys list");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find_map(|l| {
            let mut cols = l.split_whitespace();
            (cols.next() == Some(secret_id)).then(|| cols.next().unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("{secret_id} in {text}"))
}

fn domain_names(list: &Value) -> Vec<String> {
    list["DomainList"]
        .as_array()
        .expect("DomainList")
        .iter()
        .map(|d| d["Name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn domains_are_claimed_once_listed_and_released() {
    let s = Server::start();
    let b = s.new_account("tenant-b");
    let add = |o: &SdkOpts, name: &str| {
        s.sdk_with(
            o,
            "AddLiveDomain",
            json!({"DomainName": name, "DomainType": 0}),
        )
    };
    let a = SdkOpts::default();
    add(&a, "Push.Example.COM.").ok();
    add(&a, "second.example.com").ok();
    // The same name in another spelling is the same domain.
    add(&a, "push.example.com:1935").err("InvalidParameter.DomainAlreadyExist");
    add(&b, "PUSH.example.com").err_naming("FailedOperation.DomainAdded", "push.example.com");
    add(&b, "b.example.com").ok();
    s.sdk_with(
        &b,
        "AddLiveDomain",
        json!({"DomainName": "play.example.com", "DomainType": 1}),
    )
    .err_naming("InvalidParameter", "DomainType");
    s.sdk_with(&b, "AddLiveDomain", json!({"DomainName": "x.example.com"}))
        .err_naming("MissingParameter", "DomainType");
    add(&b, "bad name.com").err("InvalidParameter.DomainFormatError");
    add(&b, &format!("{}.com", "a".repeat(260))).err("InvalidParameter.DomainTooLong");

    let list = s.sdk("DescribeLiveDomains", json!({})).ok();
    assert_eq!(
        domain_names(&list),
        ["push.example.com", "second.example.com"]
    );
    assert_eq!(list["AllCount"], 2);
    assert_eq!(list["PlayTypeCount"], json!([0, 0, 0]));
    assert!(list["CreateLimitCount"].as_i64().unwrap() > 0);
    let d = &list["DomainList"][0];
    assert_eq!(
        (d["Type"].as_i64(), d["Status"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(d["CreateTime"].as_str().unwrap().len(), 19, "{d}");
    let prefixed = s
        .sdk("DescribeLiveDomains", json!({"DomainPrefix": "SEC"}))
        .ok();
    assert_eq!(domain_names(&prefixed), ["second.example.com"]);
    let play = s.sdk("DescribeLiveDomains", json!({"DomainType": 1})).ok();
    assert_eq!(
        (play["AllCount"].as_i64(), domain_names(&play).len()),
        (Some(0), 0)
    );
    s.sdk("DescribeLiveDomains", json!({"PageSize": 5}))
        .err_naming("InvalidParameterValue", "PageSize");
    let theirs = s.sdk_with(&b, "DescribeLiveDomains", json!({})).ok();
    assert_eq!(domain_names(&theirs), ["b.example.com"]);

    let one = s
        .sdk(
            "DescribeLiveDomain",
            json!({"DomainName": "push.example.com"}),
        )
        .ok();
    assert_eq!(one["DomainInfo"]["Name"], "push.example.com");
    // Another account's domain does not exist for B (nor does an unclaimed one).
    s.sdk_with(
        &b,
        "DescribeLiveDomain",
        json!({"DomainName": "push.example.com"}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk(
        "DescribeLiveDomain",
        json!({"DomainName": "nobody.example.com"}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk_with(
        &b,
        "DeleteLiveDomain",
        json!({"DomainName": "push.example.com", "DomainType": 0}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk(
        "DeleteLiveDomain",
        json!({"DomainName": "push.example.com", "DomainType": 1}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk(
        "DeleteLiveDomain",
        json!({"DomainName": "Push.Example.com", "DomainType": 0}),
    )
    .ok();
    s.sdk(
        "DeleteLiveDomain",
        json!({"DomainName": "push.example.com", "DomainType": 0}),
    )
    .err("ResourceNotFound.DomainNotExist");
    // Released, it can be claimed by B.
    add(&b, "push.example.com").ok();

    // The operator's view and commands.
    let b_account = account_of(&s, b.secret_id.as_deref().unwrap());
    let (ok, text) = domains_cli(&s, &["list"]);
    assert!(ok, "{text}");
    for (name, owner) in [
        ("push.example.com", b_account.as_str()),
        ("second.example.com", "default"),
        ("b.example.com", b_account.as_str()),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && l.contains(owner)),
            "{name} of {owner} in {text}"
        );
    }
    let (ok, text) = domains_cli(&s, &["add", "Cli.Example.com"]);
    assert!(ok && text.contains("cli.example.com"), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "push.example.com"]);
    assert!(!ok && text.contains(&b_account), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "z.example.com", "--account", "nope"]);
    assert!(!ok && text.contains("no account nope"), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "z.example.com", "--account", &b_account]);
    assert!(ok, "{text}");
    let theirs = s.sdk_with(&b, "DescribeLiveDomains", json!({})).ok();
    assert_eq!(
        domain_names(&theirs),
        ["b.example.com", "push.example.com", "z.example.com"]
    );
    let (ok, text) = domains_cli(&s, &["remove", "push.example.com"]);
    assert!(ok, "{text}");
    let (ok, text) = domains_cli(&s, &["remove", "push.example.com"]);
    assert!(!ok && text.contains("no claimed domain"), "{text}");
    let mine = s.sdk("DescribeLiveDomains", json!({})).ok();
    assert_eq!(
        domain_names(&mine),
        ["cli.example.com", "second.example.com"]
    );
}
