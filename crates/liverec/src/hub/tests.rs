//! Unit tests of `hub`.

use super::subscription::{MAX_QUEUED_BYTES, MAX_QUEUED_PACKETS};
use super::*;
use bytes::Bytes;
use media::{Frame, Track};

fn info() -> SessionInfo {
    SessionInfo {
        session_id: "s1".into(),
        started_ms: 0,
        client_addr: "127.0.0.1:5".into(),
        stream_param: String::new(),
        owner: "default".into(),
    }
}

/// A hub with an in-memory pre-roll and one with a disk pre-roll (with
/// the directory that holds it).
fn hubs(preroll_ms: i64) -> Vec<(Arc<Hub>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let disk = Hub::with_spill(preroll_ms, Some(dir.path().to_path_buf()));
    vec![(Hub::new(preroll_ms), None), (disk, Some(dir))]
}

/// Publishes d/live/s on `hub`.
fn publish(hub: &Arc<Hub>) -> Publisher {
    hub.publish(StreamKey::new("d", "live", "s"), info())
        .unwrap()
}

fn pkt(track: Track, key: bool, t: i64) -> Packet {
    Packet {
        frame: Frame {
            track,
            dts: t,
            cts: 0,
            keyframe: key,
            data: Bytes::from_static(b"x"),
        },
        tracks: Tracks::default(),
        wall_ms: t,
    }
}

/// 30 fps video with a keyframe every 2 s, plus audio every 23 ms.
fn feed(p: &mut Publisher, until_ms: i64) {
    let mut a = 0;
    for i in 0..=(until_ms / 33) {
        let t = i * 33;
        while a <= t {
            p.push(pkt(Track::Audio, true, a));
            a += 23;
        }
        p.push(pkt(Track::Video, i % 60 == 0, t));
    }
}

fn first_dts(v: &[Packet]) -> i64 {
    v.first().map(|p| p.frame.dts).unwrap()
}

#[tokio::test]
async fn preroll_is_keyframe_aligned_and_bounded() {
    for (hub, _dir) in hubs(5_000) {
        preroll_is_keyframe_aligned_and_bounded_on(hub);
    }
}

fn preroll_is_keyframe_aligned_and_bounded_on(hub: Arc<Hub>) {
    let mut p = publish(&hub);
    feed(&mut p, 20_000);
    let s = p.stream().clone();
    let ring = s.lock().ring.packets(Some(0));
    // Oldest buffered keyframe covers the 5 s pre-roll: the GOP starting
    // at 13.86 s (keyframe 420 * 33 ms) is the latest one at or before
    // 19.8 - 5 s.
    assert_eq!(first_dts(&ring), 420 * 33);
    assert!(ring[0].is_video_keyframe());
    // Keyframe at or before a wall time.
    let from = s.lock().ring.packets(Some(17_000));
    assert_eq!(first_dts(&from), 480 * 33);
    // Newest keyframe.
    let newest = s.lock().ring.packets(None);
    assert_eq!(first_dts(&newest), 600 * 33);
}

#[tokio::test]
async fn subscribers_get_backlog_then_live_without_gap() {
    for (hub, _dir) in hubs(10_000) {
        subscribers_get_backlog_then_live_without_gap_on(hub).await;
    }
}

async fn subscribers_get_backlog_then_live_without_gap_on(hub: Arc<Hub>) {
    let mut p = publish(&hub);
    feed(&mut p, 3_000);
    let mut sub = p.stream().subscribe(Some(2_500));
    let backlog = sub.backlog_len();
    assert!(backlog > 0);
    p.push(pkt(Track::Video, false, 3_100));
    let mut got = Vec::new();
    for _ in 0..=backlog {
        match sub.next().await {
            Next::Packet(pk) => got.push(pk.frame.dts),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got[0], 1980, "keyframe at or before 2.5 s");
    assert_eq!(*got.last().unwrap(), 3_100);
    drop(p);
    assert!(matches!(sub.next().await, Next::End));
}

#[tokio::test]
async fn audio_only_starts_at_time_and_second_publisher_is_refused() {
    for (hub, _dir) in hubs(10_000) {
        audio_only_starts_at_time_and_second_publisher_is_refused_on(hub);
    }
}

fn audio_only_starts_at_time_and_second_publisher_is_refused_on(hub: Arc<Hub>) {
    let key = StreamKey::new("D:1935", "live", "s");
    let mut p = hub.publish(key.clone(), info()).unwrap();
    assert!(matches!(
        hub.publish(StreamKey::new("d", "live", "s"), info()),
        Err(HubError::Busy(_))
    ));
    for i in 0..100 {
        p.push(pkt(Track::Audio, true, i * 23));
    }
    let v = p.stream().lock().ring.packets(Some(1000));
    assert_eq!(first_dts(&v), 1012);
    assert_eq!(hub.find("", "live", "s").len(), 1);
    assert_eq!(hub.find("other", "live", "s").len(), 0);
    drop(p);
    assert!(hub.get(&key).is_none());
    assert!(
        hub.publish(key, info()).is_ok(),
        "free again after the publisher left"
    );
}

#[tokio::test]
async fn events_announce_live_and_end() {
    let hub = Hub::new(1_000);
    let mut ev = hub.events();
    let mut p = publish(&hub);
    p.push(pkt(Track::Video, true, 0));
    p.push(pkt(Track::Video, false, 33));
    assert!(matches!(ev.recv().await.unwrap(), HubEvent::Live(_)));
    drop(p);
    assert!(matches!(ev.recv().await.unwrap(), HubEvent::Ended(_)));
    assert!(ev.try_recv().is_err(), "Live is announced once");
}

#[tokio::test]
async fn slow_subscriber_is_told_it_lost_packets() {
    let hub = Hub::new(1_000);
    let mut p = publish(&hub);
    let mut sub = p.stream().subscribe(None);
    for i in 0..(MAX_QUEUED_PACKETS as i64 + 10) {
        p.push(pkt(Track::Audio, true, i));
    }
    assert!(matches!(sub.next().await, Next::Lost(10)));
    assert!(matches!(sub.next().await, Next::Packet(_)));
}

#[tokio::test]
async fn a_slow_subscriber_keeps_at_most_its_byte_cap() {
    let hub = Hub::new(1_000);
    let mut p = hub
        .publish(StreamKey::new("d", "live", "s"), info())
        .unwrap();
    let mut slow = p.stream().subscribe(None);
    let mut fast = p.stream().subscribe(None);
    let mib = Bytes::from(vec![0u8; 1 << 20]);
    let frames = MAX_QUEUED_BYTES / (1 << 20) + 36;
    for i in 0..frames {
        let mut packet = pkt(Track::Video, i % 10 == 0, i as i64);
        packet.frame.data = mib.clone();
        p.push(packet);
        // The fast subscriber keeps up and loses nothing.
        assert!(matches!(fast.next().await, Next::Packet(_)));
    }
    let queued = slow.queue().unwrap().bytes();
    assert!(queued <= MAX_QUEUED_BYTES, "{queued} bytes queued");
    assert_eq!(queued, MAX_QUEUED_BYTES);
    assert!(matches!(slow.next().await, Next::Lost(36)));
    // Then the newest packets, oldest first.
    match slow.next().await {
        Next::Packet(packet) => assert_eq!(packet.frame.dts, 36),
        other => panic!("{other:?}"),
    }
    assert!(fast.try_next().is_none(), "nothing more for the fast one");
    // A dropped subscription is pruned and costs the publisher nothing.
    drop(slow);
    p.push(pkt(Track::Audio, true, 999));
    assert_eq!(p.stream().lock().subscribers.len(), 1);
    // The end reaches subscribers after what is queued.
    drop(p);
    assert!(matches!(fast.next().await, Next::Packet(_)));
    assert!(matches!(fast.next().await, Next::End));
}

/// Every packet's dts queued for `sub` now, with `None` for a switch.
fn drain(sub: &mut Subscription) -> Vec<Option<i64>> {
    let mut v = Vec::new();
    while let Some(n) = sub.try_next() {
        match n {
            Next::Packet(p) => v.push(Some(p.frame.dts)),
            Next::Switch => v.push(None),
            Next::Lost(_) | Next::End => break,
        }
    }
    v
}

#[test]
fn an_overlay_replaces_the_stream_and_gives_it_back() {
    for (hub, _dir) in hubs(10_000) {
        let mut p = publish(&hub);
        let key = p.stream().key.clone();
        p.push(pkt(Track::Video, true, 0));
        p.push(pkt(Track::Video, false, 33));
        let mut sub = p.stream().subscribe(None);
        assert_eq!(drain(&mut sub), vec![Some(0), Some(33)]);

        let overlay = hub.overlay(&key).unwrap();
        assert!(matches!(hub.overlay(&key), Err(OverlayError::Busy(_))));
        // The mixer reads the publisher's media from the source, pre-roll
        // included; the stream's readers get the mix after a switch.
        let mut input = overlay.source().subscribe(None);
        p.push(pkt(Track::Video, true, 66));
        overlay.push(pkt(Track::Video, true, 1000));
        assert_eq!(drain(&mut input), vec![Some(0), Some(33), Some(66)]);
        assert_eq!(drain(&mut sub), vec![None, Some(1000)]);
        // The stream stays the same live stream, with the mix's pre-roll.
        let same = hub.get(&key).unwrap();
        assert!(Arc::ptr_eq(&same, p.stream()));
        assert_eq!(drain(&mut same.subscribe(None)), vec![Some(1000)]);
        assert!(!overlay.is_ended());

        // Given back: a switch, the publisher's newest GOP, then live.
        drop(overlay);
        assert!(matches!(input.try_next(), Some(Next::End)));
        p.push(pkt(Track::Video, false, 99));
        // (The disk pre-roll may keep short GOPs in one segment and start
        // at the one before.)
        let back = drain(&mut sub);
        assert_eq!(back[0], None);
        assert!(matches!(back[1], Some(0 | 66)), "{back:?}");
        assert!(back.ends_with(&[Some(66), Some(99)]), "{back:?}");
        let late = drain(&mut p.stream().subscribe(None));
        assert!(late.ends_with(&[Some(66), Some(99)]), "{late:?}");
    }
}

#[test]
fn the_publisher_leaving_ends_the_overlay() {
    let hub = Hub::new(10_000);
    let mut p = publish(&hub);
    let key = p.stream().key.clone();
    p.push(pkt(Track::Video, true, 0));
    let overlay = hub.overlay(&key).unwrap();
    let mut input = overlay.source().subscribe(None);
    let mut sub = p.stream().subscribe(None);
    drop(p);
    assert!(overlay.is_ended());
    assert_eq!(drain(&mut input), vec![Some(0)]);
    assert!(matches!(input.try_next(), Some(Next::End)));
    assert!(matches!(sub.try_next(), Some(Next::End)));
    overlay.push(pkt(Track::Video, true, 1000));
    drop(overlay);
    assert!(hub.get(&key).is_none());
    assert!(matches!(hub.overlay(&key), Err(OverlayError::NotLive(_))));
}

#[test]
fn a_switch_survives_a_full_queue() {
    let hub = Hub::new(0);
    let p = publish(&hub);
    let key = p.stream().key.clone();
    let mut sub = p.stream().subscribe(None);
    let overlay = hub.overlay(&key).unwrap();
    for i in 0..(MAX_QUEUED_PACKETS as i64 + 10) {
        overlay.push(pkt(Track::Video, i == 0, i));
    }
    assert!(matches!(sub.try_next(), Some(Next::Lost(_))));
    assert!(matches!(sub.try_next(), Some(Next::Switch)));
    assert!(matches!(sub.try_next(), Some(Next::Packet(_))));
    drop(overlay);
    drop(p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_subscriber_wakes_for_every_burst_of_packets() {
    // The publisher wakes a subscriber only when its queue was empty; a
    // subscriber that took some of a burst and then waits must still get
    // every packet, in bursts of any size, across threads.
    let hub = Hub::new(0);
    let mut p = publish(&hub);
    let mut sub = p.stream().subscribe(None);
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            match sub.next().await {
                Next::Packet(pk) => got.push(pk.frame.dts),
                Next::End => return got,
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let mut t = 0;
    for burst in 1..=40 {
        for _ in 0..burst % 7 + 1 {
            t += 10;
            p.push(pkt(Track::Audio, true, t));
        }
        if burst % 3 == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
    drop(p);
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), reader)
        .await
        .expect("the subscriber hung: a wake-up was lost")
        .unwrap();
    let want: Vec<i64> = (1..=t / 10).map(|i| i * 10).collect();
    assert_eq!(got, want);
}
