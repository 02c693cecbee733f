//! Unit tests of the spool writer's flush cadence, with paused time.

use std::time::Duration;

use media::Patch;
use tokio::time::advance;

use super::*;

fn on_disk(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[tokio::test(start_paused = true)]
async fn written_data_reaches_the_os_at_once_then_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.flv.part");
    let mut w = SpoolWriter::create(&path).unwrap();
    assert_eq!(w.path(), path);
    // Nothing written: nothing to show yet.
    w.write(&mut Vec::new()).await.unwrap();
    assert!(on_disk(&path).is_empty());
    // The first data goes out at once (a new recording shows bytes).
    let mut data = b"ab".to_vec();
    w.write(&mut data).await.unwrap();
    assert!(data.is_empty(), "the caller's buffer is emptied");
    assert_eq!(on_disk(&path), b"ab", "the first data reaches the OS");
    w.write(&mut b"c".to_vec()).await.unwrap();
    assert_eq!(on_disk(&path), b"ab", "then buffered in the process");
    advance(Duration::from_millis(999)).await;
    w.write(&mut b"def".to_vec()).await.unwrap();
    assert_eq!(on_disk(&path), b"ab", "not a second yet");
    advance(Duration::from_millis(1)).await;
    // Even a write of nothing flushes once the second has passed.
    w.write(&mut Vec::new()).await.unwrap();
    assert_eq!(on_disk(&path), b"abcdef");
    advance(Duration::from_millis(500)).await;
    w.write(&mut b"g".to_vec()).await.unwrap();
    assert_eq!(
        on_disk(&path),
        b"abcdef",
        "the cadence restarts at the flush"
    );
    advance(Duration::from_millis(500)).await;
    w.write(&mut b"h".to_vec()).await.unwrap();
    assert_eq!(on_disk(&path), b"abcdefgh");
    w.write(&mut b"ij".to_vec()).await.unwrap();
    let patch = Patch {
        offset: 1,
        bytes: b"XY".to_vec(),
    };
    let closed = path.clone();
    let seen = w
        .finish_then(&[patch], move || std::fs::read(closed))
        .await
        .unwrap();
    assert_eq!(seen, b"aXYdefghij", "`then` runs after the patches");
    assert_eq!(
        on_disk(&path),
        b"aXYdefghij",
        "flushed and patched in place"
    );
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_spool_keeps_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.part");
    let mut w = SpoolWriter::create(&path).unwrap();
    w.write(&mut b"first".to_vec()).await.unwrap();
    w.write(&mut b"-partial".to_vec()).await.unwrap();
    assert_eq!(on_disk(&path), b"first");
    w.abandon().await;
    assert_eq!(on_disk(&path), b"first-partial");
}
