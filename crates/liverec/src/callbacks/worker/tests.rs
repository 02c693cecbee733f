//! The worker against receivers on 127.0.0.1 made of tokio sockets: what
//! one attempt sends and how it ends (200, a status, a redirect that is not
//! followed, silence until the timeout, nobody listening), and `run`
//! delivering outbox rows until it is stopped.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::clock::SystemClock;
use crate::store::test_support::{store, two_accounts};
use crate::store::{DeliveryFilter, DeliveryStatus, NewEvent, Route};

/// A receiver answering every request with `answer`; the requests it got
/// (head and body as text) and their count.
async fn receiver(answer: &'static str) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb?x=1", l.local_addr().unwrap());
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let hits = Arc::new(AtomicUsize::new(0));
    let (g, h) = (got.clone(), hits.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let (g, h) = (g.clone(), h.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut n = 0;
                // Headers and a small body arrive in a few reads.
                while let Ok(Ok(k)) =
                    tokio::time::timeout(Duration::from_millis(200), sock.read(&mut buf[n..])).await
                {
                    if k == 0 {
                        break;
                    }
                    n += k;
                }
                h.fetch_add(1, Ordering::SeqCst);
                g.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                if !answer.is_empty() {
                    let _ = sock.write_all(answer.as_bytes()).await;
                    let _ = sock.shutdown().await;
                } else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    (url, got, hits)
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn delivery(url: &str) -> Delivery {
    Delivery {
        seq: 1,
        event_id: "ev-1".into(),
        account_id: "a".into(),
        event_type: 100,
        domain: "d".into(),
        app: "live".into(),
        stream: "s".into(),
        url: url.into(),
        sign_key: "k".into(),
        body: "{}".into(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_ms: 0,
        last_http_status: 0,
        last_error: String::new(),
        created_ms: 0,
        expire_ms: 0,
        done_ms: None,
    }
}

/// A worker whose receivers may be on 127.0.0.1 (where the test ones are).
async fn shared(timeout: Duration) -> (Shared, tempfile::TempDir) {
    shared_with(timeout, true).await
}

async fn shared_with(timeout: Duration, allow_private: bool) -> (Shared, tempfile::TempDir) {
    let (store, dir) = store().await;
    let settings = DeliverySettings {
        timeout,
        allow_private,
        ..DeliverySettings::default()
    };
    let s = Shared::new(
        store,
        Arc::new(SystemClock),
        settings,
        Callbacks::without_default(),
    );
    (s, dir)
}

#[tokio::test]
async fn one_attempt_posts_json_and_takes_only_200() {
    let (s, _d) = shared(Duration::from_secs(1)).await;
    let (url, got, _) = receiver(OK).await;
    assert_eq!(
        post(&s, &delivery(&url), br#"{"a":1}"#.to_vec()).await,
        Ok(())
    );
    let req = got.lock().unwrap()[0].to_ascii_lowercase();
    assert!(req.starts_with("post /cb?x=1 http/1.1\r\n"), "{req}");
    assert!(req.contains("content-type: application/json\r\n"), "{req}");
    assert!(req.contains("x-liverec-event-id: ev-1\r\n"), "{req}");
    assert!(req.ends_with("\r\n\r\n{\"a\":1}"), "{req}");

    let (url, _, _) = receiver("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").await;
    let e = post(&s, &delivery(&url), b"{}".to_vec()).await.unwrap_err();
    assert_eq!((e.status, e.reason.as_str()), (204, "HTTP 204 No Content"));
}

#[tokio::test]
async fn a_tenant_receiver_on_loopback_is_not_connected_to_by_default() {
    let (s, _d) = shared_with(Duration::from_secs(1), false).await;
    let (url, _, hits) = receiver(OK).await;
    let e = post(&s, &delivery(&url), b"{}".to_vec()).await.unwrap_err();
    assert_eq!(e.status, 0);
    assert!(e.reason.contains("callback_allow_private"), "{}", e.reason);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "never connected");
    let https = delivery(&url.replacen("http://", "https://", 1));
    let e = post(&s, &https, b"{}".to_vec()).await.unwrap_err();
    assert!(e.reason.contains("callback_allow_private"), "{}", e.reason);
}

#[tokio::test]
async fn redirects_are_not_followed_and_silence_times_out() {
    let (s, _d) = shared(Duration::from_secs(1)).await;
    let (target, _, target_hits) = receiver(OK).await;
    let answer: &'static str = Box::leak(
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_boxed_str(),
    );
    let (redirecting, _, _) = receiver(answer).await;
    let e = post(&s, &delivery(&redirecting), b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!(e.status, 302);
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "not followed");

    let (silent, _, hits) = receiver("").await;
    let t0 = std::time::Instant::now();
    let e = post(&s, &delivery(&silent), b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!((e.status, e.reason.as_str()), (0, "no answer within 1 s"));
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // Nobody listening: a connection error, no status.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/cb", closed.local_addr().unwrap());
    drop(closed);
    let e = post(&s, &delivery(&dead), b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!(e.status, 0);
    assert!(!e.reason.is_empty());
    let e = post(&s, &delivery("ftp://h/x"), b"{}".to_vec())
        .await
        .unwrap_err();
    assert!(e.reason.contains("neither http"), "{}", e.reason);
}

#[tokio::test]
async fn run_delivers_the_outbox_and_stops() {
    let (store, _d) = store().await;
    two_accounts(&store).await;
    let (url, got, hits) = receiver(OK).await;
    let settings = DeliverySettings {
        default: Some((url.clone(), "key".into())),
        ..DeliverySettings::default()
    };
    let callbacks = Callbacks::new(&settings, "http://files", "node");
    let event = |id: &str| NewEvent {
        event_id: id.into(),
        account_id: "a".into(),
        event_type: 1,
        domain: "d".into(),
        app: "live".into(),
        stream: "s".into(),
        route: Route::StreamBegin,
        body: r#"{"event_type":1}"#.into(),
        fallback: settings.default.clone(),
        created_ms: 0,
        expire_ms: i64::MAX / 2,
    };
    store
        .enqueue_events(&[event("first"), event("second")])
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(run(
        store.clone(),
        Arc::new(SystemClock),
        settings,
        callbacks.clone(),
        stop.clone(),
    ));
    let delivered = DeliveryFilter {
        status: Some(DeliveryStatus::Delivered),
        limit: 10,
        ..DeliveryFilter::default()
    };
    for _ in 0..100 {
        if store.list_deliveries("a", &delivered).await.unwrap().0 == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.list_deliveries("a", &delivered).await.unwrap().0, 2);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let bodies = got.lock().unwrap().clone();
    assert!(
        bodies[0].contains(r#""event_id":"first""#),
        "in order: {bodies:?}"
    );
    assert!(bodies[1].contains(r#""event_id":"second""#), "{bodies:?}");
    assert!(bodies[0].contains(r#""sign":""#));
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
