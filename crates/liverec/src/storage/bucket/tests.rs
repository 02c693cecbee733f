//! Against a real S3 server (SeaweedFS, started by `scripts/test.sh`);
//! skipped with a message when `LIVEREC_TEST_S3_ENDPOINT` is unset.

use super::*;

/// The test bucket with a fresh prefix, or None (skip) without a server.
pub(crate) fn test_settings(presign_seconds: u64) -> Option<BucketSettings> {
    let Ok(endpoint) = std::env::var("LIVEREC_TEST_S3_ENDPOINT") else {
        eprintln!("skipped: LIVEREC_TEST_S3_ENDPOINT is not set (scripts/test.sh sets it)");
        return None;
    };
    Some(BucketSettings {
        bucket: "liverec-test".into(),
        prefix: format!("unit/{}", uuid::Uuid::new_v4().simple()),
        endpoint: Some(endpoint),
        region: "us-east-1".into(),
        path_style: true,
        access_key_id: Some("liverec-test".into()),
        secret_access_key: Some("liverec-test-secret".into()),
        presign_seconds,
        part_size: DEFAULT_PART_SIZE,
        part_seconds: 0,
    })
}

async fn collect(b: &Bucket, key: &str, range: Option<Range<u64>>) -> Vec<u8> {
    use futures_util::TryStreamExt;
    let chunks: Vec<Bytes> = b
        .read(key, range)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 4099) as u8).collect()
}

#[tokio::test]
async fn put_read_range_delete() {
    let Some(s) = test_settings(0) else { return };
    let b = Bucket::open(&s).unwrap();
    b.check().await.unwrap();
    assert_eq!(b.size("a/x.flv").await.unwrap(), None);
    b.put_bytes("a/x.flv", b"hello bucket".to_vec())
        .await
        .unwrap();
    assert_eq!(b.size("a/x.flv").await.unwrap(), Some(12));
    assert_eq!(collect(&b, "a/x.flv", None).await, b"hello bucket");
    assert_eq!(collect(&b, "a/x.flv", Some(6..12)).await, b"bucket");
    assert_eq!(
        b.read_all("a/x.flv").await.unwrap().as_deref(),
        Some(&b"hello bucket"[..])
    );
    assert!(b.presigned_url("a/x.flv").await.is_none(), "presign is off");
    b.delete("a/x.flv").await.unwrap();
    b.delete("a/x.flv").await.unwrap();
    assert_eq!(b.size("a/x.flv").await.unwrap(), None);
    assert!(b.read_all("a/x.flv").await.unwrap().is_none());
    let missing = b.read("a/x.flv", None).await.err().unwrap();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
}

#[tokio::test]
async fn multipart_file_upload_and_ranges_across_parts() {
    let Some(s) = test_settings(0) else { return };
    let b = Bucket::open(&s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.flv");
    let data = pattern(2 * DEFAULT_PART_SIZE + 12_345);
    std::fs::write(&path, &data).unwrap();
    assert_eq!(
        b.put_file("r/big.flv", &path).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(b.size("r/big.flv").await.unwrap(), Some(data.len() as u64));
    assert!(collect(&b, "r/big.flv", None).await == data, "whole object");
    let p = DEFAULT_PART_SIZE as u64;
    let r = (p - 100)..(p + 100);
    assert!(
        collect(&b, "r/big.flv", Some(r.clone())).await == data[r.start as usize..r.end as usize],
        "a range across the first part boundary"
    );
    // A small file is one PUT.
    std::fs::write(&path, b"tiny").unwrap();
    assert_eq!(b.put_file("r/tiny.aac", &path).await.unwrap(), 4);
    assert_eq!(collect(&b, "r/tiny.aac", None).await, b"tiny");
    b.delete("r/big.flv").await.unwrap();
    assert_eq!(b.size("r/big.flv").await.unwrap(), None);
}

#[tokio::test]
async fn first_part_sent_last_carries_the_patched_header() {
    // The FLV upload plan: parts 2..n go up as they fill, part 1 (with the
    // onMetaData that is patched at close) last, then complete.
    let Some(s) = test_settings(0) else { return };
    let b = Bucket::open(&s).unwrap();
    let mut first = pattern(DEFAULT_PART_SIZE);
    first[..3].copy_from_slice(b"FLV");
    let second = vec![2u8; DEFAULT_PART_SIZE];
    let tail = b"last part, short".to_vec();
    let mut up = b.multipart("f/rec.flv").await.unwrap();
    up.put(1, second.clone()).await.unwrap();
    up.put(2, tail.clone()).await.unwrap();
    // The header is patched (duration, filesize) only now.
    first[13..21].copy_from_slice(&42.5f64.to_be_bytes());
    up.put(0, first.clone()).await.unwrap();
    up.complete().await.unwrap();
    let got = collect(&b, "f/rec.flv", None).await;
    assert_eq!(got.len(), 2 * DEFAULT_PART_SIZE + tail.len());
    assert!(
        got[..DEFAULT_PART_SIZE] == first[..],
        "patched first part in place"
    );
    assert!(got[DEFAULT_PART_SIZE..2 * DEFAULT_PART_SIZE] == second[..]);
    assert_eq!(&got[2 * DEFAULT_PART_SIZE..], &tail[..]);
    assert_eq!(
        collect(&b, "f/rec.flv", Some(13..21)).await,
        42.5f64.to_be_bytes()
    );

    // An upload with a hole is refused (and aborted), never completed.
    let mut holed = b.multipart("f/holed.flv").await.unwrap();
    holed.put(1, tail).await.unwrap();
    assert!(holed.complete().await.is_err());
    assert_eq!(b.size("f/holed.flv").await.unwrap(), None);
    b.delete("f/rec.flv").await.unwrap();
}

#[tokio::test]
async fn presigned_urls_read_without_credentials() {
    let Some(s) = test_settings(300) else { return };
    let b = Bucket::open(&s).unwrap();
    b.put_bytes("p/x.mp3", b"signed".to_vec()).await.unwrap();
    let url = b.presigned_url("p/x.mp3").await.unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "audio/mpeg",
        "stored with the content type of its extension"
    );
    assert_eq!(&resp.bytes().await.unwrap()[..], b"signed");
    b.delete("p/x.mp3").await.unwrap();
}

#[tokio::test]
async fn unreachable_or_wrong_credentials_fail_the_check() {
    let Some(mut s) = test_settings(0) else {
        return;
    };
    s.secret_access_key = Some("wrong".into());
    assert!(Bucket::open(&s).unwrap().check().await.is_err());
    // A closed port: the check fails within the connect timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let t = std::time::Instant::now();
    assert!(Bucket::open(&s).unwrap().check().await.is_err());
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

#[test]
fn parts_grow_every_thousand_so_ten_thousand_hold_a_day_of_high_bit_rate() {
    let b = Bucket::open(&BucketSettings {
        bucket: "b".into(),
        prefix: String::new(),
        endpoint: Some("http://127.0.0.1:9".into()),
        region: "us-east-1".into(),
        path_style: true,
        access_key_id: Some("k".into()),
        secret_access_key: Some("s".into()),
        presign_seconds: 0,
        part_size: DEFAULT_PART_SIZE,
        part_seconds: 0,
    })
    .unwrap();
    let p = DEFAULT_PART_SIZE;
    assert_eq!(b.part_size_at(0), p);
    assert_eq!(b.part_size_at(PARTS_PER_STEP - 1), p);
    assert_eq!(b.part_size_at(PARTS_PER_STEP), 2 * p);
    assert_eq!(b.part_size_at(9_999), 10 * p);
    let total: u64 = (0..10_000).map(|i| b.part_size_at(i) as u64).sum();
    assert_eq!(total, 55_000 * p as u64);
    // 268 GiB: 24 h at 25 Mbit/s.
    assert!(total > 24 * 3600 * 25_000_000 / 8, "{total}");
}
