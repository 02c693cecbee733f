use super::*;
use crate::clock::SystemClock;
use crate::storage::test_bucket_settings;
use crate::store::FileUpload;

const MIB: usize = 1 << 20;

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn mark(bytes: usize) -> Mark {
    Mark {
        bytes: bytes as u64,
        media_ms: (bytes / 1000) as i64,
    }
}

/// Waits (at most 60 s) until the recorded upload satisfies `f`.
async fn recorded(store: &Store, id: &str, f: impl Fn(&FileUpload) -> bool) -> FileUpload {
    let wait = async {
        loop {
            if let Some(u) = store.file_upload(id).await.unwrap()
                && f(&u)
            {
                return u;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap()
}

#[tokio::test]
async fn parts_end_at_marks_and_the_recorded_ones_complete_without_the_spool() {
    let Some(mut s) = test_bucket_settings(0) else {
        return;
    };
    s.part_size = 5 * MIB;
    s.part_seconds = 1;
    let bucket = Bucket::open(&s).unwrap();
    let (store, _db) = crate::store::test_support::store().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.flv.part");
    let all = data(8 * MIB);
    let ledger = Ledger {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        file_id: "f1".into(),
    };
    std::fs::write(&path, &all[..3 * MIB]).unwrap();
    let slots = Arc::new(Semaphore::new(1));
    let mut live = LiveUpload::start(
        bucket.clone(),
        "l/live.flv".into(),
        path.clone(),
        slots,
        ledger,
    );
    live.flushed(mark(3 * MIB));
    // Below one part: the growing first part goes up after a second.
    let u = recorded(&store, "f1", |u| !u.parts.is_empty()).await;
    assert_eq!(
        (u.parts[0].size, u.parts[0].sealed),
        (3 * MIB as i64, false)
    );
    // The file grows past a part: it is cut at the first mark after 5 MiB.
    std::fs::write(&path, &all[..6 * MIB + 7]).unwrap();
    live.flushed(mark(6 * MIB + 7));
    std::fs::write(&path, &all).unwrap();
    live.flushed(mark(8 * MIB));
    let u = recorded(&store, "f1", |u| u.parts.len() == 2).await;
    assert_eq!(u.parts[0].size, 6 * MIB as i64 + 7);
    assert!(u.parts[0].sealed);
    assert_eq!(u.parts[0].media_ms, mark(6 * MIB + 7).media_ms);
    assert_eq!(
        (u.parts[1].size, u.parts[1].sealed),
        (2 * MIB as i64 - 7, false)
    );
    // The node dies here: a peer completes the upload from the rows alone.
    let parts = live.stop().await;
    assert_eq!(parts.cuts, [mark(6 * MIB + 7)]);
    let etags = u.contiguous().into_iter().map(|p| p.etag).collect();
    bucket
        .complete_parts("l/live.flv", &u.upload_id, etags)
        .await
        .unwrap();
    let got = bucket.read_all("l/live.flv").await.unwrap().unwrap();
    assert!(
        got[..] == all[..],
        "the object is the file up to the last mark"
    );
    bucket.delete("l/live.flv").await.unwrap();
}

#[tokio::test]
async fn at_close_the_tail_and_patched_parts_go_up_and_complete() {
    let Some(mut s) = test_bucket_settings(0) else {
        return;
    };
    s.part_size = 5 * MIB;
    let bucket = Bucket::open(&s).unwrap();
    let (store, _db) = crate::store::test_support::store().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.flv.part");
    let mut all = data(11 * MIB + 100);
    std::fs::write(&path, &all[..10 * MIB + 3]).unwrap();
    let ledger = || Ledger {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        file_id: "f2".into(),
    };
    let slots = Arc::new(Semaphore::new(1));
    let mut live = LiveUpload::start(
        bucket.clone(),
        "l/c.flv".into(),
        path.clone(),
        slots,
        ledger(),
    );
    live.flushed(mark(5 * MIB + 1));
    live.flushed(mark(10 * MIB + 3));
    recorded(&store, "f2", |u| u.parts.len() == 2).await;
    let mut parts = live.stop().await;
    assert_eq!(parts.sent.iter().copied().collect::<Vec<_>>(), [0, 1]);
    // At close the header (part 0) and a byte of part 1 are patched.
    all[13..21].copy_from_slice(&7.5f64.to_be_bytes());
    all[6 * MIB] ^= 0xff;
    std::fs::write(&path, &all).unwrap();
    let p = 6 * MIB as u64;
    parts.invalidate(&[13..21, p..p + 1]);
    assert!(parts.sent.is_empty());
    let len = finish(&bucket, "l/c.flv", &path, &mut parts, &ledger(), 99_000)
        .await
        .unwrap();
    assert_eq!(len, all.len() as u64);
    let got = bucket.read_all("l/c.flv").await.unwrap().unwrap();
    assert!(got[..] == all[..], "the object is the patched file");
    let u = store.file_upload("f2").await.unwrap().unwrap();
    assert_eq!(u.parts.len(), 3);
    assert_eq!(u.parts[2].media_ms, 99_000, "the tail ends the media");
    bucket.delete("l/c.flv").await.unwrap();
}

#[test]
fn patches_invalidate_the_parts_they_touch() {
    let mut parts = LiveParts {
        upload: None,
        cuts: vec![mark(100), mark(250), mark(400)],
        sent: [0, 1, 2].into_iter().collect(),
    };
    parts.invalidate(&[13..21, 249..250, 400..400]);
    assert_eq!(parts.sent.iter().copied().collect::<Vec<_>>(), [2]);
    assert_eq!(parts.range(1, 500), 100..250);
    assert_eq!(parts.range(3, 500), 400..500);
}

#[test]
fn a_full_mark_queue_keeps_every_other_mark() {
    let mut q = VecDeque::new();
    for i in 1..=MAX_MARKS + 1 {
        push_mark(&mut q, mark(i * 1000));
    }
    assert_eq!(q.len(), MAX_MARKS / 2 + 1);
    assert_eq!(q[0], mark(2000));
    assert_eq!(q[1], mark(4000));
    assert_eq!(q.back(), Some(&mark((MAX_MARKS + 1) * 1000)));
}
