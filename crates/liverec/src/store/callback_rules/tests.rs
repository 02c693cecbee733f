//! Callback templates and rules on every available dialect: CRUD, account
//! isolation, quotas, the in-use refusal and the rule lookup.

use super::super::test_support::{stores, two_accounts};
use super::*;

fn fields(tag: &str) -> CallbackFields {
    CallbackFields {
        description: format!("{tag} description"),
        stream_begin_url: format!("http://h/{tag}/begin"),
        stream_end_url: format!("http://h/{tag}/end"),
        record_url: format!("https://h/{tag}/record?x=1"),
        record_status_url: format!("http://h/{tag}/status"),
        snapshot_url: format!("http://h/{tag}/snap"),
        porn_censorship_url: format!("http://h/{tag}/porn"),
        stream_mix_url: format!("http://h/{tag}/mix"),
        push_exception_url: format!("http://h/{tag}/push-exc"),
        audio_audit_url: format!("http://h/{tag}/audio"),
        record_exception_url: format!("http://h/{tag}/rec-exc"),
        record_exception_levels: vec!["error".into(), "warning".into()],
        callback_key: format!("{tag}-key"),
    }
}

fn rule<'a>(account_id: &'a str, domain: &'a str, app: &'a str, id: i64) -> NewCallbackRule<'a> {
    NewCallbackRule {
        account_id,
        domain,
        app,
        template_id: id,
    }
}

#[tokio::test]
async fn templates_round_trip_per_account_with_a_quota() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        let t = s
            .create_callback_template("a", "one", &fields("t1"), 2, 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((t.name.as_str(), &t.fields), ("one", &fields("t1")));
        assert_eq!(t.account_id, "a");
        assert_eq!(
            s.callback_template("a", t.id).await.unwrap(),
            Some(t.clone())
        );
        assert_eq!(s.callback_template("b", t.id).await.unwrap(), None);
        let empty = s
            .create_callback_template("a", "two", &CallbackFields::default(), 2, 11)
            .await
            .unwrap()
            .unwrap();
        assert!(empty.id > t.id);
        assert_eq!(
            empty.fields,
            CallbackFields::default(),
            "empty levels stay empty"
        );
        assert_eq!(
            s.create_callback_template("a", "three", &fields("x"), 2, 12)
                .await
                .unwrap(),
            Err(Refused::TooMany)
        );
        s.create_callback_template("b", "b1", &fields("b"), 2, 12)
            .await
            .unwrap()
            .unwrap();
        let ids: Vec<i64> = s
            .callback_templates("a")
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, [t.id, empty.id]);

        let mut changed = fields("t2");
        changed.record_exception_levels = vec!["info".into()];
        changed.snapshot_url.clear();
        s.update_callback_template("a", t.id, "renamed", &changed, 20)
            .await
            .unwrap()
            .unwrap();
        let got = s.callback_template("a", t.id).await.unwrap().unwrap();
        assert_eq!(
            (got.name.as_str(), got.fields),
            ("renamed", changed.clone())
        );
        assert_eq!(
            s.update_callback_template("b", t.id, "x", &changed, 21)
                .await
                .unwrap(),
            Err(Refused::TemplateNotFound),
            "another account's template"
        );
        assert_eq!(
            s.delete_callback_template("b", t.id).await.unwrap(),
            Err(Refused::TemplateNotFound)
        );
        s.delete_callback_template("a", t.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.callback_template("a", t.id).await.unwrap(), None);
        assert_eq!(
            s.delete_callback_template("a", t.id).await.unwrap(),
            Err(Refused::TemplateNotFound)
        );
        // The freed slot is usable; ids are not reused.
        let again = s
            .create_callback_template("a", "three", &fields("x"), 2, 40)
            .await
            .unwrap()
            .unwrap();
        assert!(again.id > empty.id);
    }
}

#[tokio::test]
async fn rules_bind_own_templates_once_per_domain_and_app() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        let ta = s
            .create_callback_template("a", "t", &fields("a"), 50, 1)
            .await
            .unwrap()
            .unwrap();
        let tb = s
            .create_callback_template("b", "t", &fields("b"), 50, 1)
            .await
            .unwrap()
            .unwrap();
        let r = s
            .create_callback_rule(&rule("a", "d.com", "live", ta.id), 3, 100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                r.domain.as_str(),
                r.app.as_str(),
                r.template_id,
                r.created_ms
            ),
            ("d.com", "live", ta.id, 100)
        );
        assert_eq!(
            s.create_callback_rule(&rule("a", "d.com", "live", ta.id), 3, 101)
                .await
                .unwrap(),
            Err(Refused::RuleExists)
        );
        assert_eq!(
            s.create_callback_rule(&rule("a", "d.com", "other", tb.id), 3, 101)
                .await
                .unwrap(),
            Err(Refused::TemplateNotFound),
            "B's template"
        );
        // The same target in B is independent; "" is a target of its own.
        s.create_callback_rule(&rule("b", "d.com", "live", tb.id), 3, 102)
            .await
            .unwrap()
            .unwrap();
        s.create_callback_rule(&rule("a", "d.com", "", ta.id), 3, 103)
            .await
            .unwrap()
            .unwrap();
        s.create_callback_rule(&rule("a", "e.com", "live", ta.id), 3, 104)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            s.create_callback_rule(&rule("a", "f.com", "live", ta.id), 3, 105)
                .await
                .unwrap(),
            Err(Refused::TooMany)
        );
        let apps: Vec<(String, String)> = s
            .callback_rules("a")
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.domain, r.app))
            .collect();
        assert_eq!(
            apps,
            [
                ("d.com".to_string(), "live".to_string()),
                ("d.com".into(), "".into()),
                ("e.com".into(), "live".into())
            ]
        );
        assert_eq!(
            s.delete_callback_template("a", ta.id).await.unwrap(),
            Err(Refused::TemplateInUse)
        );
        assert!(!s.delete_callback_rule("b", "e.com", "live").await.unwrap());
        assert!(!s.delete_callback_rule("a", "d.com", "x").await.unwrap());
        for (d, app) in [("d.com", "live"), ("d.com", ""), ("e.com", "live")] {
            assert!(s.delete_callback_rule("a", d, app).await.unwrap());
        }
        assert!(s.callback_rules("a").await.unwrap().is_empty());
        assert_eq!(s.callback_rules("b").await.unwrap().len(), 1);
        s.delete_callback_template("a", ta.id)
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn the_target_is_the_exact_app_then_the_domain_wide_rule() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        let exact = s
            .create_callback_template("a", "exact", &fields("exact"), 50, 1)
            .await
            .unwrap()
            .unwrap();
        let wide = s
            .create_callback_template("a", "wide", &fields("wide"), 50, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.callback_target("a", "d.com", "live").await.unwrap(), None);
        s.create_callback_rule(&rule("a", "d.com", "live", exact.id), 10, 2)
            .await
            .unwrap()
            .unwrap();
        let t = s
            .callback_target("a", "d.com", "live")
            .await
            .unwrap()
            .unwrap();
        let want = |tpl: &CallbackTemplate, rule_app: &str| CallbackTarget {
            template_id: tpl.id,
            stream_begin_url: tpl.fields.stream_begin_url.clone(),
            stream_end_url: tpl.fields.stream_end_url.clone(),
            record_url: tpl.fields.record_url.clone(),
            record_status_url: tpl.fields.record_status_url.clone(),
            record_exception_url: tpl.fields.record_exception_url.clone(),
            record_exception_levels: tpl.fields.record_exception_levels.clone(),
            key: tpl.fields.callback_key.clone(),
            push_exception_url: tpl.fields.push_exception_url.clone(),
            rule_app: rule_app.to_string(),
        };
        assert_eq!(t, want(&exact, "live"));
        // Another app of the domain has no rule yet; another account's
        // stream on the same domain and app never sees A's rule.
        assert_eq!(
            s.callback_target("a", "d.com", "other").await.unwrap(),
            None
        );
        assert_eq!(s.callback_target("b", "d.com", "live").await.unwrap(), None);
        s.create_callback_rule(&rule("a", "d.com", "", wide.id), 10, 3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            s.callback_target("a", "d.com", "other").await.unwrap(),
            Some(want(&wide, "")),
            "the domain-wide rule covers every other app"
        );
        assert_eq!(
            s.callback_target("a", "d.com", "live").await.unwrap(),
            Some(want(&exact, "live")),
            "the exact app wins over the domain-wide rule"
        );
        // The domain is matched in its normalized spelling.
        assert_eq!(
            s.callback_target("a", "D.COM.", "live").await.unwrap(),
            Some(want(&exact, "live"))
        );
        assert_eq!(s.callback_target("a", "e.com", "live").await.unwrap(), None);
        // A changed template applies at once.
        let mut changed = fields("changed");
        changed.record_exception_levels.clear();
        s.update_callback_template("a", exact.id, "exact", &changed, 4)
            .await
            .unwrap()
            .unwrap();
        let t = s
            .callback_target("a", "d.com", "live")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.record_url, changed.record_url);
        assert!(t.record_exception_levels.is_empty());
        // Without the exact rule, the domain-wide one applies.
        assert!(s.delete_callback_rule("a", "d.com", "live").await.unwrap());
        assert_eq!(
            s.callback_target("a", "d.com", "live").await.unwrap(),
            Some(want(&wide, ""))
        );
    }
}

#[tokio::test]
async fn concurrent_creates_respect_the_quota() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.create_callback_template("a", &format!("t{i}"), &fields("c"), 5, i)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                created += 1;
            }
        }
        assert_eq!(created, 5);
        assert_eq!(s.callback_templates("a").await.unwrap().len(), 5);
    }
}
