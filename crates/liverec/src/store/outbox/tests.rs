//! The outbox on every available dialect: where events go (rule, default,
//! not wanted), the transactions that write them, claiming with leases and
//! order per stream, acks, retries and expiry, listing and statistics.

use super::super::callback_rules::{CallbackFields, NewCallbackRule};
use super::super::test_support::{file_row, stores, two_accounts};
use super::*;
use crate::store::{FileStatus, NewSession};

fn event(id: &str, account: &str, stream: &str, route: Route, created: i64) -> NewEvent {
    NewEvent {
        event_id: id.into(),
        account_id: account.into(),
        event_type: 100,
        domain: "d.com".into(),
        app: "live".into(),
        stream: stream.into(),
        route,
        body: format!(r#"{{"id":"{id}"}}"#),
        fallback: Some(("http://default/cb".into(), "dkey".into())),
        created_ms: created,
        expire_ms: created + 60_000,
    }
}

async fn rule_for(s: &Store, account: &str, app: &str, levels: &[&str]) {
    let f = CallbackFields {
        stream_begin_url: "http://rule/begin".into(),
        record_url: "http://rule/record".into(),
        record_exception_url: "http://rule/exc".into(),
        record_exception_levels: levels.iter().map(|l| l.to_string()).collect(),
        callback_key: "rkey".into(),
        ..CallbackFields::default()
    };
    let t = s
        .create_callback_template(account, "t", &f, 50, 1)
        .await
        .unwrap()
        .unwrap();
    s.create_callback_rule(
        &NewCallbackRule {
            account_id: account,
            domain: "d.com",
            app,
            template_id: t.id,
        },
        100,
        1,
    )
    .await
    .unwrap()
    .unwrap();
}

fn all() -> DeliveryFilter {
    DeliveryFilter {
        limit: 100,
        ..DeliveryFilter::default()
    }
}

#[tokio::test]
async fn events_go_to_the_rule_else_the_default_else_nowhere() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        rule_for(&s, "a", "live", &["error"]).await;
        let wanted = s
            .enqueue_events(&[
                event("e1", "a", "s", Route::Record, 1),
                // The template leaves StreamEndNotifyUrl empty: not wanted.
                event("e2", "a", "s", Route::StreamEnd, 2),
                // A level the template does not list: not wanted.
                event("e3", "a", "s", Route::RecordException("warning"), 3),
                event("e4", "a", "s", Route::RecordException("error"), 4),
                // No rule for account b: the server-wide default.
                event("e5", "b", "s", Route::StreamEnd, 5),
            ])
            .await
            .unwrap();
        assert_eq!(wanted, 3);
        let mut none = event("e6", "b", "s", Route::Record, 6);
        none.fallback = None;
        assert_eq!(s.enqueue_events(&[none]).await.unwrap(), 0);
        let (n, a) = s.list_deliveries("a", &all()).await.unwrap();
        assert_eq!(n, 2);
        let urls: Vec<(&str, &str, &str)> = a
            .iter()
            .map(|d| (d.event_id.as_str(), d.url.as_str(), d.sign_key.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                ("e4", "http://rule/exc", "rkey"),
                ("e1", "http://rule/record", "rkey")
            ]
        );
        let (_, b) = s.list_deliveries("b", &all()).await.unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].url.as_str(), b[0].sign_key.as_str(), b[0].status),
            ("http://default/cb", "dkey", DeliveryStatus::Pending)
        );
    }
}

#[tokio::test]
async fn events_are_written_with_the_change_they_announce() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        let session = NewSession {
            id: "sess".into(),
            domain: "d.com".into(),
            app: "live".into(),
            stream: "s".into(),
            client_addr: "1.2.3.4:5".into(),
            stream_param: String::new(),
            start_ms: 10,
            account_id: "a".into(),
        };
        s.insert_session(
            &session,
            &[event("begin", "a", "s", Route::StreamBegin, 10)],
        )
        .await
        .unwrap();
        s.end_session(
            "sess",
            20,
            "unpublish",
            "",
            &[event("end", "a", "s", Route::StreamEnd, 20)],
        )
        .await
        .unwrap();
        // A session already ended announces nothing again.
        s.end_session(
            "sess",
            30,
            "unpublish",
            "",
            &[event("end2", "a", "s", Route::StreamEnd, 30)],
        )
        .await
        .unwrap();
        let mut f = file_row("f1", "a", "1", 10);
        s.insert_file(&f, 10).await.unwrap();
        f.status = FileStatus::Finished;
        s.complete_file(&f, &[event("file", "a", "s", Route::Record, 40)])
            .await
            .unwrap();
        // Sessions cut off by a crash: event 0 for each, once.
        let mut open = session.clone();
        open.id = "sess2".into();
        s.insert_session(&open, &[]).await.unwrap();
        let closed = s
            .end_open_sessions("", 50, "crash", |row| {
                assert_eq!(row.stop_reason, "crash");
                assert_eq!(row.end_ms, Some(50));
                vec![event(
                    &format!("crash-{}", row.session.id),
                    "a",
                    "s",
                    Route::StreamEnd,
                    50,
                )]
            })
            .await
            .unwrap();
        assert_eq!(closed, 1);
        assert_eq!(
            s.end_open_sessions("", 60, "crash", |_| panic!("none open"))
                .await
                .unwrap(),
            0
        );
        let (_, rows) = s.list_deliveries("a", &all()).await.unwrap();
        let ids: Vec<&str> = rows.iter().rev().map(|d| d.event_id.as_str()).collect();
        assert_eq!(ids, ["begin", "end", "file", "crash-sess2"]);
    }
}

#[tokio::test]
async fn claims_lease_one_event_per_stream_in_order() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        s.enqueue_events(&[
            event("s1-a", "a", "one", Route::Record, 1),
            event("s1-b", "a", "one", Route::Record, 2),
            event("s2-a", "a", "two", Route::Record, 3),
        ])
        .await
        .unwrap();
        let got = s.claim_deliveries(100, 10, "n1", 1000).await.unwrap();
        let ids: Vec<&str> = got.iter().map(|d| d.event_id.as_str()).collect();
        assert_eq!(ids, ["s1-a", "s2-a"], "one per stream, oldest first");
        // Leased: another node gets nothing until the lease runs out.
        assert!(
            s.claim_deliveries(500, 10, "n2", 1000)
                .await
                .unwrap()
                .is_empty()
        );
        // s1-a fails and is due later: s1-b still waits behind it.
        s.delivery_failed(got[0].seq, 600, 500, "HTTP 500", Some(5000))
            .await
            .unwrap();
        assert!(
            s.claim_deliveries(700, 10, "n2", 1000)
                .await
                .unwrap()
                .is_empty()
        );
        // n1 died with s2-a leased: after the lease, n2 takes it.
        let again = s.claim_deliveries(1100, 10, "n2", 1000).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].event_id, "s2-a");
        s.delivery_done(again[0].seq, 1200).await.unwrap();
        // s1-a is due again; delivered, then s1-b goes.
        let retry = s.claim_deliveries(5000, 10, "n2", 1000).await.unwrap();
        assert_eq!(retry.len(), 1);
        assert_eq!((retry[0].event_id.as_str(), retry[0].attempts), ("s1-a", 1));
        assert_eq!(
            (retry[0].last_http_status, retry[0].last_error.as_str()),
            (500, "HTTP 500")
        );
        s.delivery_done(retry[0].seq, 5100).await.unwrap();
        let next = s.claim_deliveries(5200, 10, "n2", 1000).await.unwrap();
        assert_eq!(next[0].event_id, "s1-b");
        // Handed back untried (busy host): due later, attempts unchanged.
        s.release_delivery(next[0].seq, "n2", 6000).await.unwrap();
        assert!(
            s.claim_deliveries(5300, 10, "n2", 1000)
                .await
                .unwrap()
                .is_empty()
        );
        let last = s.claim_deliveries(6000, 10, "n2", 1000).await.unwrap();
        assert_eq!((last[0].event_id.as_str(), last[0].attempts), ("s1-b", 0));
        // Given up: failed for good, kept, and no longer claimed.
        s.delivery_failed(last[0].seq, 6100, 0, "no answer within 20 s", None)
            .await
            .unwrap();
        assert!(
            s.claim_deliveries(99_999, 10, "n2", 1000)
                .await
                .unwrap()
                .is_empty()
        );
        let failed = DeliveryFilter {
            status: Some(DeliveryStatus::Failed),
            ..all()
        };
        let (n, rows) = s.list_deliveries("a", &failed).await.unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            (rows[0].event_id.as_str(), rows[0].done_ms),
            ("s1-b", Some(6100))
        );
        assert_eq!(s.outbox_stats().await.unwrap(), OutboxStats::default());
        let delivered = DeliveryFilter {
            status: Some(DeliveryStatus::Delivered),
            stream: Some("one".into()),
            event_type: Some(100),
            ..all()
        };
        let (n, rows) = s.list_deliveries("a", &delivered).await.unwrap();
        assert_eq!(n, 1);
        assert_eq!((rows[0].attempts, rows[0].last_http_status), (2, 200));
        assert_eq!(
            s.list_deliveries("b", &all()).await.unwrap().0,
            0,
            "per account"
        );
        // Old delivered rows go; failed ones stay.
        assert_eq!(
            s.purge_delivered(5100).await.unwrap(),
            1,
            "s2-a, done at 1200"
        );
        assert_eq!(s.purge_delivered(99_999).await.unwrap(), 1, "s1-a");
        assert_eq!(
            s.list_deliveries("a", &all()).await.unwrap().0,
            1,
            "the failed one"
        );
    }
}

#[tokio::test]
async fn stats_leases_and_paging() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        for i in 0..5 {
            s.enqueue_events(&[event(
                &format!("e{i}"),
                "a",
                &format!("s{i}"),
                Route::Record,
                100 + i,
            )])
            .await
            .unwrap();
        }
        assert_eq!(
            s.outbox_stats().await.unwrap(),
            OutboxStats {
                pending: 5,
                oldest_pending_ms: Some(100)
            }
        );
        assert_eq!(
            s.claim_deliveries(200, 2, "n1", 10_000)
                .await
                .unwrap()
                .len(),
            2
        );
        s.release_leases_of("n1").await.unwrap();
        assert_eq!(
            s.claim_deliveries(200, 10, "n2", 10_000)
                .await
                .unwrap()
                .len(),
            5
        );
        let released = s.release_stale_leases().await.unwrap();
        if s.dialect() == Dialect::Sqlite {
            assert_eq!(released, 5);
        } else {
            assert_eq!(released, 0, "other nodes may hold leases");
        }
        let page = DeliveryFilter {
            offset: 1,
            limit: 2,
            ..DeliveryFilter::default()
        };
        let (n, rows) = s.list_deliveries("a", &page).await.unwrap();
        assert_eq!(n, 5);
        let ids: Vec<&str> = rows.iter().map(|d| d.event_id.as_str()).collect();
        assert_eq!(ids, ["e3", "e2"], "newest first");
    }
}

#[tokio::test]
async fn concurrent_claimers_never_take_the_same_row() {
    for (s, _d) in stores().await {
        two_accounts(&s).await;
        let events: Vec<NewEvent> = (0..40)
            .map(|i| event(&format!("e{i}"), "a", &format!("s{i}"), Route::Record, i))
            .collect();
        s.enqueue_events(&events).await.unwrap();
        let claim = |owner: &'static str| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..10 {
                    got.extend(s.claim_deliveries(1000, 5, owner, 60_000).await.unwrap());
                }
                got
            })
        };
        let (a, b, c) = (claim("n1"), claim("n2"), claim("n3"));
        let mut seqs: Vec<i64> = Vec::new();
        for h in [a, b, c] {
            seqs.extend(h.await.unwrap().iter().map(|d| d.seq));
        }
        let n = seqs.len();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), n, "a row was leased twice");
        assert_eq!(n, 40, "every row leased once");
    }
}
