//! An S3-compatible bucket (`s3://bucket/prefix`) through `object_store`'s
//! S3 client: whole-file uploads (one PUT, or a multipart upload of
//! parts of the configured size with explicit part numbers, so the first
//! part can be sent again after its header was patched), the completion of
//! a multipart upload another process began (from its id and the ETags of
//! its parts: a peer taking over a dead node), ranged streaming reads,
//! deletes, presigned GET URLs and a reachability check. Keys are storage
//! keys; the prefix is added here. Knows nothing of recordings or rows.

use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig,
};
use tokio::io::AsyncReadExt;

/// The probe object of [`Bucket::check`], under the prefix.
const HEALTH_KEY: &str = ".liverec-health";

/// Default size of each multipart part (S3's floor is 5 MiB for all but
/// the last); `s3_part_mib` sets it. Parts grow past the first
/// [`PARTS_PER_STEP`] ([`Bucket::part_size_at`]).
pub const DEFAULT_PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts of each size: parts 1–1,000 have the configured size, the next
/// 1,000 twice it, and so on, so S3's 10,000 parts hold 55,000 times the
/// configured size (5 MiB: 268 GiB) while the part a dead node had not sent
/// yet stays small for every file up to 1,000 parts (5 MiB: 4.9 GiB).
pub const PARTS_PER_STEP: usize = 1000;

/// How to reach the bucket (SPEC §1 `LIVEREC_STORAGE=s3://…`, `LIVEREC_S3_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketSettings {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket ("" for none), without slashes at its ends.
    pub prefix: String,
    /// Endpoint URL (None: AWS for the region).
    pub endpoint: Option<String>,
    /// Region (signing).
    pub region: String,
    /// Path-style requests (`endpoint/bucket/key`), as most self-hosted servers need.
    pub path_style: bool,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Lifetime of presigned VideoUrls, seconds (0: VideoUrl is the /files URL).
    pub presign_seconds: u64,
    /// Size of multipart parts, bytes (at least 5 MiB).
    pub part_size: usize,
    /// Seconds between uploads of the growing last part of a recording
    /// (0: only full parts go up while recording).
    pub part_seconds: u64,
}

/// A bucket and the prefix liverec's objects live under.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
    presign: Option<Duration>,
    name: String,
    part_size: usize,
    part_seconds: u64,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("bucket", &self.name)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// An object store error as an I/O error (NotFound kept).
fn io_err(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

impl Bucket {
    /// A client for `s`; no request is made yet.
    pub fn open(s: &BucketSettings) -> io::Result<Bucket> {
        // The HTTP client's rustls has no bundled provider: ring, as for
        // liverec's own TLS (`tls.rs` on ring's deprecation). Err only
        // means one is installed already.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_virtual_hosted_style_request(!s.path_style)
            // Uploads retry on their own (recorder::upload) for as long as
            // an outage lasts; one request gives up after a few tries.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(30),
            })
            .with_client_options(
                super::CONTENT_TYPES.iter().fold(
                    ClientOptions::new()
                        .with_connect_timeout(Duration::from_secs(5))
                        .with_timeout(Duration::from_secs(120)),
                    |o, (ext, mime)| o.with_content_type_for_suffix(*ext, *mime),
                ),
            );
        if let Some(e) = &s.endpoint {
            b = b
                .with_endpoint(e.trim_end_matches('/'))
                .with_allow_http(e.starts_with("http://"));
        }
        if let Some(k) = &s.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &s.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        let store = b.build().map_err(io::Error::other)?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix: s.prefix.trim_matches('/').to_string(),
            presign: (s.presign_seconds > 0).then(|| Duration::from_secs(s.presign_seconds)),
            name: s.bucket.clone(),
            part_size: s.part_size.max(5 << 20),
            part_seconds: s.part_seconds,
        })
    }

    /// Size of the multipart part at 0-based `index`, bytes: the
    /// configured size times 1 + index / [`PARTS_PER_STEP`].
    pub fn part_size_at(&self, index: usize) -> usize {
        self.part_size.saturating_mul(1 + index / PARTS_PER_STEP)
    }

    /// Seconds between uploads of a recording's growing last part (0: off).
    pub fn part_seconds(&self) -> u64 {
        self.part_seconds
    }

    /// The object path of a storage key.
    fn location(&self, key: &str) -> io::Result<ObjectPath> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjectPath::parse(full)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
    }

    /// Stores `data` under `key` in one PUT.
    pub async fn put_bytes(&self, key: &str, data: Vec<u8>) -> io::Result<()> {
        let loc = self.location(key)?;
        self.store
            .put(&loc, PutPayload::from(data))
            .await
            .map(|_| ())
            .map_err(io_err)
    }

    /// Uploads the local file `path` as `key` (one PUT up to a part,
    /// else a multipart upload); returns its size. A failed multipart
    /// upload is aborted, so the bucket keeps no orphan parts.
    pub async fn put_file(&self, key: &str, path: &Path) -> io::Result<u64> {
        let mut f = tokio::fs::File::open(path).await?;
        let len = f.metadata().await?.len();
        if len <= self.part_size as u64 {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            f.read_to_end(&mut buf).await?;
            self.put_bytes(key, buf).await?;
            return Ok(len);
        }
        let mut upload = self.multipart(key).await?;
        let r = async {
            let mut index = 0;
            loop {
                let part = read_part(&mut f, self.part_size_at(index)).await?;
                if part.is_empty() {
                    break;
                }
                upload.put(index, part).await?;
                index += 1;
            }
            Ok::<_, io::Error>(())
        }
        .await;
        match r {
            Ok(()) => upload.complete().await.map(|_| len),
            Err(e) => {
                upload.abort().await;
                Err(e)
            }
        }
    }

    /// Starts a multipart upload of `key`.
    pub async fn multipart(&self, key: &str) -> io::Result<Multipart> {
        let loc = self.location(key)?;
        let id = self.store.create_multipart(&loc).await.map_err(io_err)?;
        Ok(Multipart {
            bucket: self.clone(),
            loc,
            id,
            parts: Vec::new(),
        })
    }

    /// Completes the multipart upload `upload_id` of `key` that another
    /// process began, from the ETags of its parts (part 1 first). On an
    /// error nothing is aborted: the caller may try other parts.
    pub async fn complete_parts(
        &self,
        key: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> io::Result<()> {
        let loc = self.location(key)?;
        let parts = etags
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        self.store
            .complete_multipart(&loc, &upload_id.to_string(), parts)
            .await
            .map(|_| ())
            .map_err(io_err)
    }

    /// Aborts the multipart upload `upload_id` of `key` (best effort).
    pub async fn abort_upload(&self, key: &str, upload_id: &str) {
        let Ok(loc) = self.location(key) else { return };
        if let Err(e) = self
            .store
            .abort_multipart(&loc, &upload_id.to_string())
            .await
        {
            tracing::warn!(%key, error = %e, "aborting a multipart upload failed");
        }
    }

    /// Size of `key`, None when it does not exist.
    pub async fn size(&self, key: &str) -> io::Result<Option<u64>> {
        match self.store.head(&self.location(key)?).await {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    /// Streams `range` of `key` (the whole object for None).
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> io::Result<futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let r = self
            .store
            .get_opts(&self.location(key)?, opts)
            .await
            .map_err(io_err)?;
        Ok(r.into_stream())
    }

    /// Reads `range` of `key` into memory (small ranges only).
    pub async fn read_all_range(&self, key: &str, range: Range<u64>) -> io::Result<Bytes> {
        self.store
            .get_range(&self.location(key)?, range)
            .await
            .map_err(io_err)
    }

    /// Reads all of `key` (small objects: playlists).
    pub async fn read_all(&self, key: &str) -> io::Result<Option<Bytes>> {
        match self.store.get(&self.location(key)?).await {
            Ok(r) => r.bytes().await.map(Some).map_err(io_err),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    /// Deletes `key`; a missing key is not an error.
    pub async fn delete(&self, key: &str) -> io::Result<()> {
        match self.store.delete(&self.location(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    /// A presigned GET URL of `key`, when presigning is configured.
    pub async fn presigned_url(&self, key: &str) -> Option<String> {
        let ttl = self.presign?;
        let loc = self.location(key).ok()?;
        match self
            .store
            .signed_url(object_store::signer::Method::GET, &loc, ttl)
            .await
        {
            Ok(u) => Some(u.to_string()),
            Err(e) => {
                tracing::warn!(%key, error = %e, "presigning failed; using the /files URL");
                None
            }
        }
    }

    /// Checks that the bucket answers with our credentials (health check):
    /// a HEAD of a small probe object, written when missing. A HEAD alone
    /// cannot tell a missing bucket from a missing key (both 404, no body).
    pub async fn check(&self) -> io::Result<()> {
        match self.size(HEALTH_KEY).await? {
            Some(_) => Ok(()),
            None => self.put_bytes(HEALTH_KEY, b"ok".to_vec()).await,
        }
    }
}

/// Reads up to `size` bytes (less only at the end of the file).
async fn read_part(f: &mut tokio::fs::File, size: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(size);
    let mut limited = f.take(size as u64);
    limited.read_to_end(&mut buf).await?;
    Ok(buf)
}

/// A multipart upload in progress. Parts have explicit numbers (0-based
/// here) and may be sent in any order; every part but the last must be at
/// least 5 MiB.
pub struct Multipart {
    bucket: Bucket,
    loc: ObjectPath,
    id: String,
    parts: Vec<Option<PartId>>,
}

impl Multipart {
    /// The upload id (kept in the database so a peer can complete it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Uploads part `index` (replacing an earlier upload of it); returns
    /// its ETag.
    pub async fn put(&mut self, index: usize, data: Vec<u8>) -> io::Result<String> {
        let part = self
            .bucket
            .store
            .put_part(&self.loc, &self.id, index, PutPayload::from(data))
            .await
            .map_err(io_err)?;
        if self.parts.len() <= index {
            self.parts.resize(index + 1, None);
        }
        let etag = part.content_id.clone();
        self.parts[index] = Some(part);
        Ok(etag)
    }

    /// Completes the upload; every part from 0 on must have been sent.
    pub async fn complete(self) -> io::Result<()> {
        let Some(parts) = self.parts.iter().cloned().collect::<Option<Vec<_>>>() else {
            self.abort().await;
            return Err(io::Error::other("multipart upload has a missing part"));
        };
        let r = self
            .bucket
            .store
            .complete_multipart(&self.loc, &self.id, parts)
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => {
                self.abort().await;
                Err(io::Error::other(e))
            }
        }
    }

    /// Gives up, asking the server to drop the parts (best effort).
    pub async fn abort(self) {
        if let Err(e) = self.bucket.store.abort_multipart(&self.loc, &self.id).await {
            tracing::warn!(error = %e, "aborting a multipart upload failed");
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
